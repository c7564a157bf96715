"""Tests of explanations: why a pair, why not a pair, uncovered needs and unmatched cities."""

from __future__ import annotations

import pytest

from mentorflow.matching import (
    InvalidMatchingInput,
    ProgrammeParameters,
    WhyNotKind,
    report,
    rock2017_problem,
    solve,
    why_not,
    why_pair,
)

PROPOSAL = solve(rock2017_problem())


def test_why_pair_gives_breakdown_and_needs_covered() -> None:
    """A chosen pair is explained by its score components and the needs it covers."""
    explanation = why_pair(PROPOSAL, "bologna", "turin")
    assert explanation.needs_covered == ("art-markets", "creative-industries")
    assert explanation.overridden == ()
    assert "Artissima" in str(explanation)


def test_why_pair_on_a_pair_not_chosen_is_an_input_error() -> None:
    """Asking why for a pair that is not chosen names the pair."""
    with pytest.raises(InvalidMatchingInput, match="not in the team"):
        why_pair(PROPOSAL, "bologna", "lyon")


def test_why_pair_shows_rules_a_pin_overrode() -> None:
    """R-MATCH-7: a pinned ineligible pair is explained with the rules it overrides."""
    params = ProgrammeParameters(pinned={("bologna", "vilnius")})
    proposal = solve(rock2017_problem(params))
    assert [f.rule_id for f in why_pair(proposal, "bologna", "vilnius").overridden] == ["R-MATCH-1"]


def test_why_not_ineligible_lists_rule_ids() -> None:
    """An ineligible pair is explained by the ids of every rule it fails."""
    answer = why_not(PROPOSAL, "bologna", "athens")
    assert answer.kind is WhyNotKind.INELIGIBLE
    assert [f.rule_id for f in answer.failures] == ["AVAILABILITY"]


def test_why_not_capacity_bound_names_who_took_the_place() -> None:
    """A pair blocked by a full mentor city names the mentee holding the place, and the loss."""
    answer = why_not(PROPOSAL, "bologna", "liverpool")
    assert answer.kind is WhyNotKind.CAPACITY_BOUND
    assert answer.taken_by == ("skopje",)
    assert answer.loss is not None
    assert answer.loss > 0


def test_why_not_loss_is_the_objective_drop_when_forced() -> None:
    """The loss is the proposal's objective minus the optimum with the pair pinned."""
    answer = why_not(PROPOSAL, "bologna", "liverpool")
    params = ProgrammeParameters(pinned={("bologna", "liverpool")})
    assert answer.loss == PROPOSAL.objective - solve(rock2017_problem(params)).objective


def test_why_not_lower_value_when_capacity_is_free() -> None:
    """A pair left out while the mentor city has room is explained by its lower value."""
    answer = why_not(PROPOSAL, "skopje", "cluj-napoca")
    assert answer.kind in {WhyNotKind.LOWER_VALUE, WhyNotKind.CAPACITY_BOUND}
    assert answer.loss is not None
    assert answer.loss >= 0


def test_why_not_on_a_chosen_pair_says_so() -> None:
    """Asking why not for a chosen pair answers that it is chosen."""
    assert why_not(PROPOSAL, "bologna", "turin").kind is WhyNotKind.CHOSEN


def test_report_lists_uncovered_needs() -> None:
    """The report shows each team and the needs it leaves uncovered."""
    text = report(PROPOSAL)
    assert "Bologna: Cluj-Napoca, Eindhoven, Turin" in text
    assert "uncovered: sustainable-planning" in text
    assert PROPOSAL.team("bologna").uncovered == ("sustainable-planning",)


def test_unmatched_cities_are_reported() -> None:
    """Mentee and mentor cities left without a partner are listed."""
    params = ProgrammeParameters(max_mentors_per_mentee=1)
    proposal = solve(rock2017_problem(params))
    assert len(proposal.unmatched_mentors) == 4
    assert "mentor cities without a mentee" in report(proposal)
