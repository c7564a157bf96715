"""Tests of the review lifecycle: edits, re-runs, publishing, acceptances and re-matching."""

from __future__ import annotations

from collections import Counter

import pendulum
import pytest
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from mentorflow.matching import (
    AcceptedTeam,
    PairAdded,
    ProposalMade,
    Review,
    ReviewRefused,
    ReviewState,
    TeamDeclined,
    rock2017_problem,
)

AT = pendulum.datetime(2017, 9, 6, 10)
FACILITATOR = "eurocities"
PROBLEM = rock2017_problem()


def _start() -> Review:
    return Review.start("rock-2017", PROBLEM, at=AT, actor=FACILITATOR)


def test_start_records_a_proposal_event_with_a_deterministic_id() -> None:
    """Starting a review records ProposalMade with id '<review>/0001'."""
    review = _start()
    event = review.events[0]
    assert isinstance(event, ProposalMade)
    assert event.event_id == "rock-2017/0001"
    assert review.state is ReviewState.PROPOSED
    assert _start() == review


def test_facilitator_override_needs_a_reason() -> None:
    """R-MATCH-7: adding a pair by hand without a reason is refused with the rule id."""
    review = _start().remove_pair("lisbon", "athens", reason="budget", at=AT, actor=FACILITATOR)
    with pytest.raises(ReviewRefused) as error:
        review.add_pair("lisbon", "lyon", reason=" ", at=AT, actor=FACILITATOR)
    assert error.value.rule_id == "R-MATCH-7"


def test_override_beyond_three_mentors_is_refused() -> None:
    """R-MATCH-2: a hand edit cannot give a mentee city a fourth mentor city."""
    with pytest.raises(ReviewRefused) as error:
        _start().add_pair("skopje", "cluj-napoca", reason="asked", at=AT, actor=FACILITATOR)
    assert error.value.rule_id == "R-MATCH-2"


def test_override_is_recorded_with_its_reason() -> None:
    """R-MATCH-7: an accepted override is an event carrying the facilitator's reason."""
    review = _start().remove_pair("lisbon", "athens", reason="budget", at=AT, actor=FACILITATOR)
    review = review.add_pair("lisbon", "lyon", reason="wish", at=AT, actor=FACILITATOR)
    event = review.events[-1]
    assert isinstance(event, PairAdded)
    assert (event.pair, event.reason) == (("lisbon", "lyon"), "wish")


def test_rerun_keeps_removed_pairs_out_and_pins_in() -> None:
    """A re-run forbids removed pairs and keeps pinned ones."""
    review = _start().remove_pair("lisbon", "athens", reason="budget", at=AT, actor=FACILITATOR)
    review = review.rerun(pins=[("skopje", "vilnius")], at=AT, actor=FACILITATOR)
    assert ("lisbon", "athens") not in review.pairs
    assert ("skopje", "vilnius") in review.pairs


def test_steps_out_of_order_are_refused() -> None:
    """Accepting before publishing is refused with REVIEW-STATE."""
    with pytest.raises(ReviewRefused) as error:
        _start().accept("bologna", at=AT, actor="bologna")
    assert error.value.rule_id == "REVIEW-STATE"


def test_full_lifecycle_produces_accepted_teams() -> None:
    """Publish, accept, decline, re-match and accept again: accepted teams come out."""
    review = _start().publish(at=AT, actor=FACILITATOR)
    for city in (*PROBLEM.mentee_ids, *PROBLEM.mentor_ids):
        if city != "skopje" and any(city in pair for pair in review.pairs):
            review = review.accept(city, at=AT, actor=city)
    review = review.decline("skopje", "liverpool", by="skopje", reason="no time", at=AT, actor="x")
    assert isinstance(review.events[-1], TeamDeclined)
    review = review.rematch(at=AT, actor=FACILITATOR)
    assert ("skopje", "liverpool") not in review.pairs
    review = review.publish(at=AT, actor=FACILITATOR)
    for city in (*PROBLEM.mentee_ids, *PROBLEM.mentor_ids):
        if any(city in pair for pair in review.pairs):
            review = review.accept(city, at=AT, actor=city)
    teams = review.accepted_teams()
    assert [t.mentee_city_id for t in teams] == ["bologna", "lisbon", "skopje"]
    assert teams[0] == AcceptedTeam(
        "bologna", ("cluj-napoca", "eindhoven", "turin"), 1,
        ("art-markets", "creative-industries", "participation"),
    )  # fmt: skip


_CITIES = st.sampled_from((*PROBLEM.mentee_ids, *PROBLEM.mentor_ids))
_MENTEES = st.sampled_from(PROBLEM.mentee_ids)
_MENTORS = st.sampled_from(PROBLEM.mentor_ids)
_REASONS = st.sampled_from(("", "facilitator's judgement"))


class ReviewMachine(RuleBasedStateMachine):
    """Random edits, publishes, accepts, declines and re-matches keep the review consistent."""

    def __init__(self) -> None:
        super().__init__()
        self.review = _start()
        self.ever_accepted: set[tuple[str, str]] = set()
        self.refusals: list[ReviewRefused] = []

    def _try(self, step: str, *args: object, **kwargs: object) -> None:
        try:
            self.review = getattr(self.review, step)(*args, at=AT, actor=FACILITATOR, **kwargs)
        except ReviewRefused as refusal:
            self.refusals.append(refusal)
        self.ever_accepted |= {p for p in self.review.pairs if self.review.is_accepted(p)}

    @rule(mentee=_MENTEES, mentor=_MENTORS, reason=_REASONS)
    def add(self, mentee: str, mentor: str, reason: str) -> None:
        self._try("add_pair", mentee, mentor, reason=reason)

    @rule(data=st.data(), reason=_REASONS)
    def remove(self, data: st.DataObject, reason: str) -> None:
        if self.review.pairs:
            pair = data.draw(st.sampled_from(sorted(self.review.pairs)))
            self._try("remove_pair", *pair, reason=reason)

    @rule(mentee=_MENTEES, mentor=_MENTORS)
    def rerun(self, mentee: str, mentor: str) -> None:
        self._try("rerun", pins=[(mentee, mentor)])

    @rule()
    def publish(self) -> None:
        self._try("publish")

    @rule(city=_CITIES)
    def accept(self, city: str) -> None:
        self._try("accept", city)

    @rule(data=st.data(), side=st.integers(0, 1))
    def decline(self, data: st.DataObject, side: int) -> None:
        if self.review.pairs:
            pair = data.draw(st.sampled_from(sorted(self.review.pairs)))
            self._try("decline", *pair, by=pair[side], reason="no time")

    @rule()
    def rematch(self) -> None:
        self._try("rematch")

    @invariant()
    def refusals_are_data(self) -> None:
        """Every refused step carries a rule id and a reason."""
        assert all(r.rule_id for r in self.refusals)
        assert all(r.reason for r in self.refusals)

    @invariant()
    def caps_and_capacities_hold(self) -> None:
        """R-MATCH-2 and mentor capacities hold after every step."""
        per_mentee = Counter(e for e, _ in self.review.pairs)
        per_mentor = Counter(m for _, m in self.review.pairs)
        assert all(n <= 3 for n in per_mentee.values())
        assert all(n <= PROBLEM.mentor(m).capacity for m, n in per_mentor.items())

    @invariant()
    def declined_and_removed_pairs_stay_out(self) -> None:
        """A declined or removed pair is never in the current proposal."""
        assert not self.review.pairs & (self.review.declined | self.review.removed)

    @invariant()
    def accepted_pairs_stay(self) -> None:
        """A pair both cities accepted never leaves the proposal."""
        assert self.ever_accepted <= self.review.pairs

    @invariant()
    def events_are_numbered_in_order(self) -> None:
        """Event ids are '<review>/<n>' for n = 1, 2, ... with no gap."""
        ids = [e.event_id for e in self.review.events]
        assert ids == [f"rock-2017/{n:04d}" for n in range(1, len(ids) + 1)]

    @invariant()
    def accepted_teams_hold_only_accepted_pairs(self) -> None:
        """Accepted teams list only pairs both cities accepted."""
        for team in self.review.accepted_teams():
            for mentor in team.mentor_city_ids:
                assert self.review.is_accepted((team.mentee_city_id, mentor))


TestReviewMachine = ReviewMachine.TestCase
