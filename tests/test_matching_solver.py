"""Tests of the match-making solver: caps, capacities, pins, determinism and optimality."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

import attrs
import pytest
from hypothesis import given, reject
from hypothesis import strategies as st

from _matching_strategies import oracle, problems
from mentorflow.matching import (
    InfeasibleMatching,
    InvalidMatchingInput,
    MatchingProblem,
    MenteeCity,
    MentorCity,
    Need,
    Practice,
    ProgrammeParameters,
    Proposal,
    Weights,
    candidates,
    check_pair,
    rock2017_problem,
    solve,
    team_value,
)

if TYPE_CHECKING:
    import random


def _objective_or_none(problem: MatchingProblem) -> int | None:
    try:
        return solve(problem).objective
    except InfeasibleMatching:
        return None


def _feasible(problem: MatchingProblem) -> Proposal:
    """The proposal; examples whose pins cannot all hold are skipped (the oracle covers them)."""
    try:
        return solve(problem)
    except InfeasibleMatching:
        reject()


def test_rock_2017_proposal_respects_three_mentors_per_mentee() -> None:
    """R-MATCH-2: every ROCK 2017 mentee city gets at most three mentor cities."""
    proposal = solve(rock2017_problem())
    assert all(len(team.mentor_ids) <= 3 for team in proposal.teams)
    assert {t.mentee_id for t in proposal.teams} == {"bologna", "lisbon", "skopje"}


def test_rock_2017_proposal_is_the_documented_one() -> None:
    """The ROCK 2017 fixture gives the proposal shown in the how-to page."""
    proposal = solve(rock2017_problem())
    assert proposal.team("bologna").mentor_ids == ("cluj-napoca", "eindhoven", "turin")
    assert proposal.objective == 615


def test_covering_two_needs_beats_covering_one_twice() -> None:
    """R-MATCH-1: a second mentor on an already covered need is worth less than a new need."""
    mentee = MenteeCity("m", "M", "IT", [Need("a", 3), Need("b", 3)])
    twin_a1 = MentorCity("a1", "A1", "FR", [Practice("p", {"a"})])
    twin_a2 = MentorCity("a2", "A2", "FR", [Practice("p", {"a"})])
    other_b = MentorCity("b1", "B1", "FR", [Practice("p", {"b"})])
    params = ProgrammeParameters(max_mentors_per_mentee=2, weights=Weights(role=0))
    proposal = solve(MatchingProblem([mentee], [twin_a1, twin_a2, other_b], params))
    assert proposal.team("m").mentor_ids in {("a1", "b1"), ("a2", "b1")}
    assert proposal.team("m").uncovered == ()


def test_pins_beyond_the_cap_are_refused_naming_the_rule() -> None:
    """R-MATCH-2: pinning more mentor cities than the cap is infeasible, and says so."""
    problem = rock2017_problem()
    pins = {("lisbon", m) for m in ("athens", "turin", "vilnius")}
    params = ProgrammeParameters(max_mentors_per_mentee=2, pinned=pins)
    with pytest.raises(InfeasibleMatching, match="R-MATCH-2"):
        solve(problem.with_parameters(params))


@given(problems())
def test_caps_and_capacities_always_hold(problem: MatchingProblem) -> None:
    """R-MATCH-2: no mentee exceeds the cap and no mentor city exceeds its capacity."""
    proposal = _feasible(problem)
    per_mentor = Counter(m for _, m in proposal.pairs)
    assert all(
        len(t.mentor_ids) <= problem.parameters.max_mentors_per_mentee for t in proposal.teams
    )
    assert all(per_mentor[m.id] <= m.capacity for m in problem.mentors)


@given(problems())
def test_ineligible_pairs_are_never_chosen_unless_pinned(problem: MatchingProblem) -> None:
    """R-MATCH-1, R-PREP-7: a chosen pair passes every rule, or was pinned (R-MATCH-7)."""
    proposal = _feasible(problem)
    params = problem.parameters
    for mentee_id, mentor_id in proposal.pairs - params.pinned:
        verdict = check_pair(problem.mentee(mentee_id), problem.mentor(mentor_id), params)
        assert verdict.eligible, verdict.rule_ids


@given(problems())
def test_pinned_pairs_present_and_forbidden_pairs_absent(problem: MatchingProblem) -> None:
    """R-MATCH-7: every pinned pair is in the proposal and no forbidden pair is."""
    proposal = _feasible(problem)
    assert problem.parameters.pinned <= proposal.pairs
    assert not problem.parameters.forbidden & proposal.pairs


@given(problems(), st.randoms(use_true_random=False))
def test_same_input_in_any_order_gives_the_same_proposal(
    problem: MatchingProblem, rng: random.Random
) -> None:
    """The solver is deterministic: solving twice, or with shuffled city lists, gives one answer."""
    mentees, mentors = list(problem.mentees), list(problem.mentors)
    rng.shuffle(mentees)
    rng.shuffle(mentors)
    shuffled = MatchingProblem(mentees, mentors, problem.parameters)
    first = _feasible(problem)
    assert solve(problem).teams == first.teams
    assert solve(shuffled).teams == first.teams


@given(problems())
def test_objective_equals_brute_force_oracle(problem: MatchingProblem) -> None:
    """On instances up to 4 mentees x 5 mentors the MILP objective is the exhaustive optimum."""
    assert _objective_or_none(problem) == oracle(problem)


@given(problems(max_mentees=3, max_needs=5))
def test_objective_equals_brute_force_oracle_with_many_needs(problem: MatchingProblem) -> None:
    """With up to five needs per mentee, so mentors cover two or three of three needs (the rows
    that tighten the LP), the objective is still the exhaustive optimum, second covers included."""
    assert _objective_or_none(problem) == oracle(problem)


@given(problems(constraints=False))
def test_team_values_add_up_to_the_objective(problem: MatchingProblem) -> None:
    """The proposal's objective is the sum of its teams' values, each computed directly."""
    proposal = solve(problem)
    assert proposal.objective == sum(t.value for t in proposal.teams)


@given(problems())
def test_min_countries_per_team_holds(problem: MatchingProblem) -> None:
    """A non-empty team spans at least the minimum number of countries when one is set."""
    proposal = _feasible(problem)
    minimum = problem.parameters.min_countries_per_team
    for team in proposal.teams:
        if team.mentor_ids and minimum is not None:
            assert len({problem.mentor(m).country for m in team.mentor_ids}) >= minimum


def test_no_repeat_partner_keeps_previous_partners_apart() -> None:
    """With no_repeat_partner, cities that were partners before are not paired again."""
    problem = rock2017_problem()
    first = solve(problem)
    params = ProgrammeParameters(no_repeat_partner=True, previous_partners=first.pairs)
    second = solve(problem.with_parameters(params))
    assert not second.pairs & first.pairs


def test_zero_capacity_mentor_city_gets_no_mentee() -> None:
    """A mentor city with capacity 0 is never chosen."""
    problem = rock2017_problem()
    mentors = [attrs.evolve(m, capacity=0) if m.id == "lyon" else m for m in problem.mentors]
    proposal = solve(MatchingProblem(problem.mentees, mentors, problem.parameters))
    assert proposal.mentees_of("lyon") == ()
    assert "lyon" in proposal.unmatched_mentors


def test_team_value_of_a_non_candidate_pair_names_the_pair() -> None:
    """Valuing a team with an ineligible, unpinned pair is an input error, not a KeyError."""
    problem = rock2017_problem()
    with pytest.raises(InvalidMatchingInput, match="neither eligible nor pinned"):
        team_value(problem, candidates(problem), "bologna", ["vilnius"])
