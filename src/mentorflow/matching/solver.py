"""Optimal capacity-constrained mentor teams, solved as one sparse MILP with scipy's HiGHS.

The objective of a team (one mentee city and the mentor cities chosen for it) is

    sum of each pair's fit (every score component except ``needs``)
  + for each need of the mentee: its full value when at least one mentor covers it,
    plus ``second_cover_percent`` of it when a second mentor covers it too, and nothing more

so a team that covers two different needs beats one that covers the same need twice. The
proposal maximises the sum over teams, subject to the R-MATCH-2 cap on mentors per mentee, each
mentor city's capacity, pinned pairs, and the optional "at least k countries per team".

The model has one binary per candidate pair (eligible, or pinned by the facilitator) and two
binary coverage variables per (mentee, need) that some candidate covers, ``once + twice <= number
of chosen mentors covering the need``. Every gain is an integer, and with every variable integral
HiGHS knows the objective is too, so a bound less than one point above the best team plan proves
it optimal.

For every three needs of a mentee that one candidate covers two of, one more row (valid for every
integral team, so the optimum is unchanged):

    once_a + once_b + once_c <= 1 + chosen mentors covering any of a, b, c
                                   + chosen mentors covering all three

Without it the LP relaxation covers all three needs with half of each of three mentors that each
cover two of them (1.5 mentors of capacity for what takes two), and HiGHS spent most of its time
closing that gap.

With one mentor per mentee (the pairwise case) there is no second cover and a chosen pair
covers exactly its own needs, so each pair's gain already holds the first value of every need
it covers, and the coverage variables and three-need rows are left out: the objective is the
same at every integral point. Without a countries minimum what remains is a capacitated
assignment, whose LP relaxation is integral, so HiGHS solves it at the root.

With teams of more than one mentor, the model is solved in two steps (``_reduction``): its LP
relaxation first, whose duals bound what every pair can add to a plan; then the MILP over the
pairs that could still be in an optimal plan. The bound is checked against the MILP's optimum,
so the answer is the optimum of the whole model.

Determinism: cities are sorted by id before the model is built and HiGHS is deterministic on
one model, so the same input, in any order, gives the same proposal.
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import TYPE_CHECKING

import attrs
import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_array, csc_array

from mentorflow.matching._reduction import solve_reduced
from mentorflow.matching.eligibility import check_pair
from mentorflow.matching.errors import InfeasibleMatching, InvalidMatchingInput, Problem
from mentorflow.matching.scoring import fit_points, need_values

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from mentorflow.matching.parameters import Pair
    from mentorflow.matching.problem import MatchingProblem

__all__ = ["Candidates", "Proposal", "Team", "candidates", "solve", "team_value"]


@attrs.frozen
class Candidates:
    """The pairs the solver may choose: every eligible pair plus every pin, with their points.

    ``fit`` is a pair's points outside the ``needs`` component; ``covered`` the mentee topics the
    mentor covers.
    """

    pairs: tuple[Pair, ...]
    fit: Mapping[Pair, int]
    covered: Mapping[Pair, frozenset[str]]


@attrs.frozen
class Team:
    """One mentee city's mentor cities (sorted), the needs they cover and the team's value."""

    mentee_id: str
    mentor_ids: tuple[str, ...]
    covered: tuple[str, ...]
    uncovered: tuple[str, ...]
    value: int


@attrs.frozen
class Proposal:
    """The solver's answer: a team for every mentee city (maybe empty) and the objective."""

    problem: MatchingProblem
    teams: tuple[Team, ...]
    objective: int

    @property
    def pairs(self) -> frozenset[Pair]:
        """Every chosen (mentee, mentor) pair."""
        return frozenset((t.mentee_id, m) for t in self.teams for m in t.mentor_ids)

    def team(self, mentee_id: str) -> Team:
        """The team of this mentee city."""
        self.problem.mentee(mentee_id)
        return next(t for t in self.teams if t.mentee_id == mentee_id)

    def mentees_of(self, mentor_id: str) -> tuple[str, ...]:
        """The mentee cities this mentor city was given, sorted."""
        self.problem.mentor(mentor_id)
        return tuple(t.mentee_id for t in self.teams if mentor_id in t.mentor_ids)

    @property
    def unmatched_mentees(self) -> tuple[str, ...]:
        """Mentee cities with no mentor city."""
        return tuple(t.mentee_id for t in self.teams if not t.mentor_ids)

    @property
    def unmatched_mentors(self) -> tuple[str, ...]:
        """Mentor cities given no mentee city."""
        used = {m for t in self.teams for m in t.mentor_ids}
        return tuple(m for m in self.problem.mentor_ids if m not in used)


def candidates(problem: MatchingProblem) -> Candidates:
    """Every eligible pair and every pin, sorted, with fit points and covered topics."""
    params = problem.parameters
    by_topic: dict[str, list[int]] = defaultdict(list)
    for index, mentor in enumerate(problem.mentors):
        for topic in mentor.topics:
            by_topic[topic].append(index)
    pairs: list[Pair] = []
    fit: dict[Pair, int] = {}
    covered: dict[Pair, frozenset[str]] = {}
    index_of = {mentor.id: index for index, mentor in enumerate(problem.mentors)}
    pinned: dict[str, set[int]] = defaultdict(set)
    for mentee_id, mentor_id in params.pinned:
        pinned[mentee_id].add(index_of[mentor_id])
    for mentee in problem.mentees:
        # mentors sharing no topic fail R-MATCH-1, so only these need the full rule check
        near = {i for topic in mentee.topics for i in by_topic.get(topic, ())}
        for index in sorted(near | pinned[mentee.id]):
            mentor = problem.mentors[index]
            pair = (mentee.id, mentor.id)
            if pair in params.pinned or check_pair(mentee, mentor, params).eligible:
                pairs.append(pair)
                fit[pair] = fit_points(mentee, mentor, params)
                covered[pair] = mentee.topics & mentor.topics
    return Candidates(tuple(pairs), fit, covered)


def team_value(
    problem: MatchingProblem, cands: Candidates, mentee_id: str, mentor_ids: Iterable[str]
) -> int:
    """The objective's value of one team, computed directly from its definition."""
    values = need_values(problem.mentee(mentee_id), problem.parameters)
    counts: dict[str, int] = defaultdict(int)
    total = 0
    for mentor_id in mentor_ids:
        pair = (mentee_id, mentor_id)
        if pair not in cands.fit:
            problem_ = Problem("$.mentor_ids", f"{pair} is neither eligible nor pinned")
            raise InvalidMatchingInput("team", [problem_])
        total += cands.fit[pair]
        for topic in cands.covered[pair]:
            counts[topic] += 1
    for topic, count in counts.items():
        first, second = values[topic]
        total += first + (second if count >= 2 else 0)
    return total


def _check_pins(problem: MatchingProblem) -> None:
    params = problem.parameters
    per_mentee: dict[str, int] = defaultdict(int)
    per_mentor: dict[str, int] = defaultdict(int)
    for mentee_id, mentor_id in params.pinned:
        per_mentee[mentee_id] += 1
        per_mentor[mentor_id] += 1
    for mentee_id, count in sorted(per_mentee.items()):
        if count > params.max_mentors_per_mentee:
            raise InfeasibleMatching(
                f"{count} pins for {mentee_id!r} exceed the cap of "
                f"{params.max_mentors_per_mentee} mentors (R-MATCH-2)"
            )
    for mentor_id, count in sorted(per_mentor.items()):
        capacity = problem.mentor(mentor_id).capacity
        if count > capacity:
            raise InfeasibleMatching(
                f"{count} pins for {mentor_id!r} exceed its capacity of {capacity}"
            )


class _Model:
    """Sparse MILP rows, built column by column."""

    def __init__(self) -> None:
        self.gain: list[float] = []
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integral: list[int] = []
        self.rows: list[int] = []
        self.cols: list[int] = []
        self.coefs: list[float] = []
        self.row_upper: list[float] = []

    def variable(self, gain: float, *, low: float = 0, up: float = 1, integral: bool) -> int:
        self.gain.append(gain)
        self.lower.append(low)
        self.upper.append(up)
        self.integral.append(int(integral))
        return len(self.gain) - 1

    def at_most(self, terms: Iterable[tuple[int, float]], bound: float) -> None:
        row = len(self.row_upper)
        for col, coef in terms:
            self.rows.append(row)
            self.cols.append(col)
            self.coefs.append(coef)
        self.row_upper.append(bound)

    def arrays(self) -> tuple[np.ndarray, csc_array, np.ndarray, np.ndarray, np.ndarray]:
        """(gains, constraint matrix, row upper bounds, column lower and upper bounds)."""
        matrix = coo_array(
            (self.coefs, (self.rows, self.cols)), shape=(len(self.row_upper), len(self.gain))
        ).tocsc()
        return (
            np.array(self.gain),
            matrix,
            np.array(self.row_upper),
            np.array(self.lower),
            np.array(self.upper),
        )

    def solve(self) -> np.ndarray | None:
        """The optimal point, or None when no point meets every row."""
        gain, matrix, row_upper, lower, upper = self.arrays()
        return _milp(gain, np.array(self.integral), lower, upper, matrix, row_upper)


def _milp(
    gain: np.ndarray,
    integral: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    matrix: csc_array,
    row_upper: np.ndarray,
) -> np.ndarray | None:
    """HiGHS's proven optimum, or None when there is no feasible point."""
    constraints = [LinearConstraint(matrix, -np.inf, row_upper)] if matrix.shape[0] else []
    result = milp(
        -gain,
        integrality=integral,
        bounds=Bounds(lower, upper),
        constraints=constraints,
        options={"mip_rel_gap": 0.0, "presolve": True},
    )
    if result.status == 2:  # infeasible
        return None
    if result.status != 0 or result.x is None:
        raise InfeasibleMatching(f"the solver stopped: {result.message}")
    return np.asarray(result.x)


def solve(problem: MatchingProblem, cands: Candidates | None = None) -> Proposal:
    """The optimal proposal for ``problem``; ``cands`` may be passed when already computed."""
    _check_pins(problem)
    cands = candidates(problem) if cands is None else cands
    model, pair_var = _build(problem, cands)
    # pairwise, the LP relaxation is the whole solve already: nothing to gain from a reduction
    chosen = _solve_reduced(problem, cands, model, pair_var) if not _pairwise(problem) else None
    if chosen is None:
        chosen = _chosen(model.solve() if pair_var else np.zeros(0), pair_var)
    return _proposal(problem, cands, chosen)


def _pairwise(problem: MatchingProblem) -> bool:
    return problem.parameters.max_mentors_per_mentee <= 1


def _chosen(point: np.ndarray | None, pair_var: Mapping[Pair, int]) -> set[Pair]:
    if point is None:
        raise InfeasibleMatching(
            "no plan meets every constraint (pins, caps, capacities, countries per team)"
        )
    return {pair for pair, var in pair_var.items() if point[var] > 0.5}


def _solve_reduced(
    problem: MatchingProblem, cands: Candidates, model: _Model, pair_var: Mapping[Pair, int]
) -> set[Pair] | None:
    """The optimal pairs found on the candidates the LP bound keeps (see ``_reduction``); None
    when the reduction does not apply and the whole model must be solved."""
    removable = np.zeros(len(model.gain), dtype=bool)
    for pair, var in pair_var.items():
        removable[var] = pair not in problem.parameters.pinned
    if not removable.any() or not model.row_upper:
        return None

    def solve_kept(keep: np.ndarray) -> tuple[float, set[Pair]] | None:
        # Built again from the kept pairs, not cut from the whole model: the smaller model has
        # fewer coverage columns and three-need rows, and HiGHS solves it faster.
        kept = [pair for pair, var in pair_var.items() if keep[var]]
        subset = Candidates(
            tuple(kept), {p: cands.fit[p] for p in kept}, {p: cands.covered[p] for p in kept}
        )
        sub_model, sub_vars = _build(problem, subset)
        point = sub_model.solve() if sub_vars else np.zeros(0)
        if point is None:
            return None
        value = float(np.array(sub_model.gain) @ point)
        return value, _chosen(point, sub_vars)

    gain, matrix, row_upper, lower, upper = model.arrays()
    return solve_reduced(gain, matrix, row_upper, lower, upper, removable, solve_kept)


def _build(problem: MatchingProblem, cands: Candidates) -> tuple[_Model, dict[Pair, int]]:
    """The MILP for ``cands`` and the column of each pair."""
    params = problem.parameters
    values = {mentee.id: need_values(mentee, params) for mentee in problem.mentees}
    # one mentor per mentee: a chosen pair earns exactly the first value of each need it
    # covers, so that goes into its gain and no coverage variable is needed (see the docstring)
    pairwise = _pairwise(problem)
    model = _Model()
    pair_var = {
        pair: model.variable(
            cands.fit[pair]
            + (sum(values[pair[0]][t][0] for t in cands.covered[pair]) if pairwise else 0),
            low=float(pair in params.pinned),
            integral=True,
        )
        for pair in cands.pairs
    }
    by_mentee: dict[str, list[Pair]] = defaultdict(list)
    by_mentor: dict[str, list[Pair]] = defaultdict(list)
    for pair in cands.pairs:
        by_mentee[pair[0]].append(pair)
        by_mentor[pair[1]].append(pair)
    for mentor in problem.mentors:
        model.at_most(((pair_var[p], 1) for p in by_mentor[mentor.id]), mentor.capacity)
    for mentee in problem.mentees:
        team = by_mentee[mentee.id]
        model.at_most(((pair_var[p], 1) for p in team), params.max_mentors_per_mentee)
        if not pairwise:
            _cover_needs(model, values[mentee.id], [(pair_var[p], cands.covered[p]) for p in team])
        if params.min_countries_per_team is not None and team:
            _require_countries(problem, model, team, pair_var, params.min_countries_per_team)
    return model, pair_var


def _cover_needs(
    model: _Model,
    values: Mapping[str, tuple[int, int]],
    team: list[tuple[int, frozenset[str]]],
) -> None:
    """Coverage variables of one mentee's needs, and the three-need rows that tighten them."""
    once_of: dict[str, int] = {}
    for topic, (first, second) in sorted(values.items()):
        covering = [var for var, covered in team if topic in covered]
        if covering:
            once_of[topic] = once = model.variable(first, integral=True)
            twice = model.variable(second, integral=True)
            model.at_most([(once, 1), (twice, 1), *((v, -1) for v in covering)], 0)
    _bound_three_needs(model, once_of, team)


def _bound_three_needs(
    model: _Model, once_of: Mapping[str, int], team: list[tuple[int, frozenset[str]]]
) -> None:
    """Rows that only bind when one mentor covers two of three needs (see the module docstring).

    A team with no mentor on the three needs covers none of them (0 <= 1); one mentor covering
    k of them covers k <= 2, or 3 when k = 3; two or more mentors leave the right side >= 3.
    """
    for needs in combinations(sorted(once_of), 3):
        touching = [(var, len(covered.intersection(needs))) for var, covered in team]
        if all(count < 2 for _, count in touching):
            continue  # the coverage rows already imply this one
        model.at_most(
            [
                *((once_of[need], 1) for need in needs),
                *((var, -1 - (count == 3)) for var, count in touching if count),
            ],
            1,
        )


def _require_countries(
    problem: MatchingProblem,
    model: _Model,
    team: list[Pair],
    pair_var: Mapping[Pair, int],
    minimum: int,
) -> None:
    matched = model.variable(0, integral=True)
    by_country: dict[str, list[int]] = defaultdict(list)
    for pair in team:
        by_country[problem.mentor(pair[1]).country].append(pair_var[pair])
        model.at_most([(pair_var[pair], 1), (matched, -1)], 0)
    present = []
    for _, variables in sorted(by_country.items()):
        var = model.variable(0, integral=False)
        model.at_most([(var, 1), *((v, -1) for v in variables)], 0)
        present.append(var)
    model.at_most([(matched, minimum), *((v, -1) for v in present)], 0)


def _proposal(problem: MatchingProblem, cands: Candidates, chosen: set[Pair]) -> Proposal:
    teams = []
    for mentee in problem.mentees:
        mentor_ids = tuple(sorted(m for (e, m) in chosen if e == mentee.id))
        covered = frozenset().union(*(cands.covered[(mentee.id, m)] for m in mentor_ids))
        teams.append(
            Team(
                mentee.id,
                mentor_ids,
                tuple(sorted(covered)),
                tuple(sorted(mentee.topics - covered)),
                team_value(problem, cands, mentee.id, mentor_ids),
            )
        )
    return Proposal(problem, tuple(teams), sum(t.value for t in teams))
