"""Explanations of a proposal: why this pair, why not that one, and what is left uncovered."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import attrs

from mentorflow.matching.eligibility import RuleFailure, check_pair
from mentorflow.matching.errors import InfeasibleMatching, InvalidMatchingInput, Problem
from mentorflow.matching.scoring import PairScore, score_pair
from mentorflow.matching.solver import solve

if TYPE_CHECKING:
    from mentorflow.matching.solver import Proposal

__all__ = ["PairExplanation", "WhyNot", "WhyNotKind", "report", "why_not", "why_pair"]


@attrs.frozen
class PairExplanation:
    """Why a chosen pair is in the proposal: its score breakdown, the needs it covers in the
    team, and any rule a facilitator's pin overrode (R-MATCH-7)."""

    mentee_id: str
    mentor_id: str
    score: PairScore
    needs_covered: tuple[str, ...]
    overridden: tuple[RuleFailure, ...]

    def __str__(self) -> str:
        lines = [f"{self.mentee_id} <- {self.mentor_id}: {self.score.total} points"]
        lines += [f"  {c}" for c in self.score.components]
        lines.append("  needs covered: " + (", ".join(self.needs_covered) or "none"))
        lines += [f"  pinned despite {f}" for f in self.overridden]
        return "\n".join(lines)


class WhyNotKind(enum.StrEnum):
    """The reason a pair is not in the proposal."""

    CHOSEN = "chosen"
    INELIGIBLE = "ineligible"
    CAPACITY_BOUND = "capacity-bound"
    LOWER_VALUE = "lower-value"
    INFEASIBLE = "infeasible"


@attrs.frozen
class WhyNot:
    """Why a pair is not chosen.

    ``failures`` lists the failed rules (ineligible); ``taken_by`` the mentee cities holding the
    mentor city's places (capacity-bound); ``loss`` how much the objective drops when the pair is
    forced in, found by solving again with the pair pinned.
    """

    mentee_id: str
    mentor_id: str
    kind: WhyNotKind
    reason: str
    failures: tuple[RuleFailure, ...] = ()
    taken_by: tuple[str, ...] = ()
    loss: int | None = None

    def __str__(self) -> str:
        return f"{self.mentee_id} <- {self.mentor_id}: {self.kind.value}: {self.reason}"


def why_pair(proposal: Proposal, mentee_id: str, mentor_id: str) -> PairExplanation:
    """Explain a chosen pair; a pair that is not chosen is an input error naming the pair."""
    if (mentee_id, mentor_id) not in proposal.pairs:
        problem = Problem("$.mentor_id", f"{mentor_id!r} is not in the team of {mentee_id!r}")
        raise InvalidMatchingInput("pair", [problem])
    problem_ = proposal.problem
    mentee, mentor = problem_.mentee(mentee_id), problem_.mentor(mentor_id)
    score = score_pair(mentee, mentor, problem_.parameters)
    failures = check_pair(mentee, mentor, problem_.parameters).failures
    return PairExplanation(mentee_id, mentor_id, score, tuple(sorted(score.covered)), failures)


def why_not(proposal: Proposal, mentee_id: str, mentor_id: str) -> WhyNot:
    """Explain why a pair is not in the proposal, re-solving with it pinned when it is eligible."""
    problem = proposal.problem
    mentee, mentor = problem.mentee(mentee_id), problem.mentor(mentor_id)
    if (mentee_id, mentor_id) in proposal.pairs:
        return WhyNot(mentee_id, mentor_id, WhyNotKind.CHOSEN, "the pair is in the proposal")
    verdict = check_pair(mentee, mentor, problem.parameters)
    if not verdict.eligible:
        reason = "fails " + ", ".join(verdict.rule_ids)
        return WhyNot(mentee_id, mentor_id, WhyNotKind.INELIGIBLE, reason, verdict.failures)
    params = problem.parameters
    forced_params = attrs.evolve(params, pinned=params.pinned | {(mentee_id, mentor_id)})
    try:
        forced = solve(problem.with_parameters(forced_params))
    except InfeasibleMatching as error:
        return WhyNot(mentee_id, mentor_id, WhyNotKind.INFEASIBLE, error.reason)
    loss = proposal.objective - forced.objective
    taken_by = proposal.mentees_of(mentor_id)
    if len(taken_by) >= mentor.capacity:
        reason = (
            f"{mentor.name} is at capacity {mentor.capacity}, taken by {', '.join(taken_by)}; "
            f"forcing the pair loses {loss} points"
        )
        return WhyNot(
            mentee_id, mentor_id, WhyNotKind.CAPACITY_BOUND, reason, taken_by=taken_by, loss=loss
        )
    reason = f"forcing the pair loses {loss} points" if loss else "an equally good team was chosen"
    return WhyNot(mentee_id, mentor_id, WhyNotKind.LOWER_VALUE, reason, loss=loss)


def report(proposal: Proposal) -> str:
    """A plain-text summary: each team with its value and needs, then what is left uncovered."""
    problem = proposal.problem
    lines = [f"objective {proposal.objective}"]
    for team in proposal.teams:
        name = problem.mentee(team.mentee_id).name
        mentors = ", ".join(problem.mentor(m).name for m in team.mentor_ids) or "no mentor city"
        lines.append(f"{name}: {mentors} (value {team.value})")
        lines.append("  covered: " + (", ".join(team.covered) or "none"))
        if team.uncovered:
            lines.append("  uncovered: " + ", ".join(team.uncovered))
    if proposal.unmatched_mentees:
        lines.append("mentee cities without a mentor: " + ", ".join(proposal.unmatched_mentees))
    if proposal.unmatched_mentors:
        lines.append("mentor cities without a mentee: " + ", ".join(proposal.unmatched_mentors))
    return "\n".join(lines)
