"""Action tracking: statuses over time, readings, evidence, and the follow-up review gate."""

from __future__ import annotations

import itertools

import pendulum
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from mentorflow import rock2017 as rock
from mentorflow.actions import ActionTracker, Evidence, IndicatorReading
from mentorflow.deliverables import ActionStatus
from mentorflow.engagement import Engagement
from mentorflow.exceptions import InvalidDeliverable, InvalidInput, TransitionRefused

T0 = pendulum.datetime(2018, 3, 1, tz="Europe/Rome")
CITY = "bologna-1"
FACILITATOR = rock.rep(rock.FACILITATOR_ID)


def _engagement_in_review() -> tuple[Engagement, pendulum.DateTime]:
    """The Bologna engagement walked to its follow-up review, as in the tutorial."""
    plan = rock.programme()[2]
    at = pendulum.datetime(2017, 9, 1, tz="Europe/Brussels")
    e = plan.start(at=at)
    e.fire("confirm_match", actor=FACILITATOR, at=at)
    e.submit(rock.needs_assessment(), actor=rock.rep("bologna"), at=at)
    e.submit(rock.mentors_paper(), actor=rock.rep("athens"), at=at)
    e.share("mentors_paper", actor=rock.rep("athens"), at=at)
    e.approve("mentors_paper", actor=rock.rep("bologna"), at=at)
    e.submit(rock.language_plan(), actor=rock.rep("bologna"), at=at)
    e.submit(rock.agenda_for(plan.visits[0]), actor=rock.rep("bologna"), at=at)
    e.approve("agenda", actor=rock.rep("athens"), at=at)
    e.fire(
        "start_visit", actor=FACILITATOR, at=pendulum.datetime(2017, 11, 24, 9, tz="Europe/Rome")
    )
    e.fire(
        "finish_visit", actor=FACILITATOR, at=pendulum.datetime(2017, 11, 26, 18, tz="Europe/Rome")
    )
    t = pendulum.datetime(2018, 12, 1, tz="UTC")
    e.submit(rock.visit_report(), actor=rock.rep("liverpool"), at=t)
    e.approve("visit_report", actor=FACILITATOR, at=t)
    e.submit(rock.roadmap(), actor=rock.rep("bologna"), at=t)
    e.submit(rock.article("Bologna"), actor=FACILITATOR, at=t)
    e.fire("start_review", actor=FACILITATOR, at=t)
    return e, t


def test_close_is_refused_until_every_action_has_a_status() -> None:
    """R-FOLLOW-8: the review made by the tracker gates close until each action has a status."""
    e, t = _engagement_in_review()
    tracker = ActionTracker(rock.roadmap()).record(
        "a1", at=t, by=FACILITATOR, status=ActionStatus.IMPLEMENTED
    )
    e.submit(tracker.review(), actor=FACILITATOR, at=t)
    with pytest.raises(TransitionRefused) as caught:
        e.fire("close", actor=FACILITATOR, at=t)
    assert caught.value.verdict.rules == ("R-FOLLOW-8",)
    assert "a2" in caught.value.verdict.unmet[0].message
    tracker = tracker.record(
        "a2", at=t, by=FACILITATOR, status=ActionStatus.DROPPED, reason="no budget"
    )
    e.submit(tracker.review(), actor=FACILITATOR, at=t)
    e.fire("close", actor=FACILITATOR, at=t)
    assert e.phase == "closed"


def test_dropping_an_action_needs_a_reason() -> None:
    """R-FOLLOW-8: an action dropped carries a reason; the refusal names the field."""
    with pytest.raises(InvalidInput) as caught:
        ActionTracker(rock.roadmap()).record("a1", at=T0, by=CITY, status=ActionStatus.DROPPED)
    assert [p.path for p in caught.value.problems] == ["$.reason"]


def test_review_needs_a_reason_for_every_action_not_implemented() -> None:
    """R-FOLLOW-8: at the review, an action in progress without a reason is named by id."""
    tracker = ActionTracker(rock.roadmap()).record(
        "a2", at=T0, by=CITY, status=ActionStatus.IN_PROGRESS
    )
    with pytest.raises(InvalidDeliverable) as caught:
        tracker.review()
    assert [p.path for p in caught.value.problems] == ["$.actions['a2'].reason"]


def test_every_bad_field_is_named_at_once() -> None:
    """Bad updates are refused listing every field at fault, and the tracker is unchanged."""
    tracker = ActionTracker(rock.roadmap()).record(
        "a1", at=T0, by=CITY, status=ActionStatus.IN_PROGRESS
    )
    with pytest.raises(InvalidInput) as caught:
        tracker.record(
            "zz",
            at=T0.subtract(days=1),
            by=" ",
            readings=(IndicatorReading("nope", 1),),
            evidence=(Evidence(""),),
        )
    assert {p.path for p in caught.value.problems} == {
        "$.action_id",
        "$.by",
        "$.at",
        "$.readings[0].indicator",
        "$.evidence[0].description",
    }
    assert len(tracker.updates) == 1


def test_a_naive_time_is_refused() -> None:
    """Time must carry a zone: the tracker never guesses it."""
    with pytest.raises(InvalidInput):
        ActionTracker(rock.roadmap()).record(
            "a1", at=pendulum.naive(2018, 1, 1), by=CITY, status="planned"
        )


def test_status_over_time_and_indicator_progress() -> None:
    """Statuses are read as of a time; readings show progress from baseline to target."""
    name = rock.roadmap().indicators[0].name
    tracker = (
        ActionTracker(rock.roadmap())
        .record("a1", at=T0, by=CITY, status=ActionStatus.PLANNED)
        .record("a1", at=T0.add(months=3), by=CITY, status=ActionStatus.IN_PROGRESS)
        .record("a1", at=T0.add(months=6), by=CITY, readings=(IndicatorReading(name, 50),))
        .record(
            "a1",
            at=T0.add(months=9),
            by=CITY,
            status=ActionStatus.IMPLEMENTED,
            evidence=(Evidence("Lab opened", "https://example.org/lab"),),
        )
    )
    assert tracker.status("a1", at=T0.add(months=1)) is ActionStatus.PLANNED
    assert tracker.status("a1", at=T0.add(months=7)) is ActionStatus.IN_PROGRESS
    assert tracker.status("a1") is ActionStatus.IMPLEMENTED
    assert tracker.status("a2") is None
    assert tracker.unreviewed() == ("a2",)
    progress = tracker.progress(name)
    assert progress.latest == 50
    assert progress.share_of_target == pytest.approx(0.25)
    assert tracker.evidence("a1") == (Evidence("Lab opened", "https://example.org/lab"),)


NOT_DONE = [ActionStatus.PLANNED, ActionStatus.IN_PROGRESS, ActionStatus.DROPPED]


class TrackingMachine(RuleBasedStateMachine):
    """A model of action tracking: a dict of statuses and reasons beside the real tracker."""

    @initialize()
    def start(self) -> None:
        self.roadmap = rock.roadmap()
        self.tracker = ActionTracker(self.roadmap)
        self.now = T0
        self.model: dict[str, tuple[ActionStatus, str]] = {}
        self.seen: tuple[object, ...] = ()

    @rule(
        action=st.sampled_from(["a1", "a2"]),
        status=st.sampled_from(ActionStatus),
        reason=st.sampled_from(["", "no budget", "delayed by elections"]),
        hours=st.integers(0, 2000),
    )
    def record_status(self, action: str, status: ActionStatus, reason: str, hours: int) -> None:
        """R-FOLLOW-8: a status is recorded, or refused when dropped without a reason."""
        at = self.now.add(hours=hours)
        if status is ActionStatus.DROPPED and not reason:
            with pytest.raises(InvalidInput):
                self.tracker.record(action, at=at, by=CITY, status=status, reason=reason)
            return
        self.tracker = self.tracker.record(action, at=at, by=CITY, status=status, reason=reason)
        self.now = at
        self.model[action] = (status, reason)

    @rule(value=st.integers(0, 500), hours=st.integers(0, 2000))
    def record_reading(self, value: int, hours: int) -> None:
        """A reading changes no status."""
        at = self.now.add(hours=hours)
        name = self.roadmap.indicators[0].name
        self.tracker = self.tracker.record(
            "a1", at=at, by=CITY, readings=(IndicatorReading(name, value),)
        )
        self.now = at
        assert self.tracker.progress(name).latest == value

    @precondition(lambda self: self.tracker.updates)
    @rule(hours=st.integers(1, 100))
    def update_in_the_past_is_refused(self, hours: int) -> None:
        """History is append-only: an update dated before the last one is refused."""
        before = self.tracker
        with pytest.raises(InvalidInput):
            self.tracker.record("a1", at=self.now.subtract(hours=hours), by=CITY, status="planned")
        assert self.tracker is before

    @rule()
    def review(self) -> None:
        """R-FOLLOW-8: the review lists reviewed actions; it is refused while one lacks a reason."""
        lacking = [
            a for a, (s, r) in self.model.items() if s is not ActionStatus.IMPLEMENTED and not r
        ]
        if not self.model or lacking:
            with pytest.raises(InvalidDeliverable):
                self.tracker.review()
            return
        review = self.tracker.review()
        assert {r.action_id: (r.status, r.reason) for r in review.reviews} == self.model

    @invariant()
    def history_only_grows(self) -> None:
        """Earlier updates are never changed or removed, and are numbered in order."""
        updates = self.tracker.updates
        assert updates[: len(self.seen)] == self.seen
        assert [u.sequence for u in updates] == list(range(1, len(updates) + 1))
        assert all(a.at <= b.at for a, b in itertools.pairwise(updates))
        self.seen = updates

    @invariant()
    def statuses_match_the_model(self) -> None:
        """Each action's status is the last one recorded; dropped ones carry their reason."""
        for action in ("a1", "a2"):
            expected = self.model.get(action)
            assert self.tracker.status(action) == (expected[0] if expected else None)
            latest = self.tracker.latest_status(action)
            if latest is not None and latest.status is ActionStatus.DROPPED:
                assert latest.reason
        assert set(self.tracker.unreviewed()) == {"a1", "a2"} - set(self.model)


TestTrackingMachine = TrackingMachine.TestCase
TestTrackingMachine.settings = settings(max_examples=60, stateful_step_count=20)
