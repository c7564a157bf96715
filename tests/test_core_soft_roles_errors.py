"""Soft rules warn and never refuse; roles are enforced; refusals and errors change nothing."""

from __future__ import annotations

import datetime as dt

import attrs
import pendulum
import pytest

from mentorflow import rock2017 as rock
from mentorflow.deliverables import MentorsPaper
from mentorflow.exceptions import (
    ActionRefused,
    InvalidDeliverable,
    InvalidInput,
    MentorflowError,
    TransitionRefused,
    UnknownParticipant,
    UnknownTrigger,
)
from mentorflow.model import Participant, Role, VisitMode
from walker import F, Walk, plan_for

BOLOGNA, ATHENS = rock.rep("bologna"), rock.rep("athens")


def test_lyons_four_day_visit_warns_and_starts() -> None:
    """R-VISIT-1: Lyon's four-day work-shadowing visit is a warning, never a refusal."""
    lyon = rock.programme()[3]
    assert lyon.visits[0].window.days == 4
    walk = Walk("rock.work_shadowing", plan=lyon).until("start_visit")
    verdict = walk.check("start_visit")
    assert verdict.allowed
    assert [w.rule for w in verdict.warnings] == ["R-VISIT-1"]
    outcome = walk.fire("start_visit")
    assert [w.rule for w in outcome.warnings] == ["R-VISIT-1"]


def test_late_or_long_learning_objectives_warn() -> None:
    """R-PREP-3: objectives sent less than two months ahead, or six pages long, only warn."""
    walk = Walk("rock.work_shadowing", skip={"learning_objectives"}).until("start_visit")
    walk.engagement.submit(rock.learning_objectives(pages=6), actor=BOLOGNA, at=walk.now)
    verdict = walk.check("start_visit")
    assert verdict.allowed
    assert sorted(w.rule for w in verdict.warnings) == ["R-PREP-3", "R-PREP-3"]
    assert {w.deliverable for w in verdict.warnings} == {"learning_objectives"}


def test_all_online_programme_warns() -> None:
    """R-PROG-6: a programme with no in-person visit warns, and still starts."""
    plan = plan_for("eurocities.mentoring")
    online = tuple(attrs.evolve(v, mode=VisitMode.ONLINE) for v in plan.visits)
    walk = Walk("eurocities.mentoring", plan=attrs.evolve(plan, visits=online)).until("start_visit")
    verdict = walk.check("start_visit")
    assert verdict.allowed
    assert [w.rule for w in verdict.warnings] == ["R-PROG-6"]


def test_early_follow_up_review_warns_and_acknowledgement_is_recorded() -> None:
    """R-PROG-8: a review before twelve months warns; the acknowledged reason goes into history."""
    walk = Walk("rock.mentoring").until("start_review")
    walk.now = walk.now.subtract(months=6)
    verdict = walk.check("start_review")
    assert verdict.allowed
    assert [w.rule for w in verdict.warnings] == ["R-PROG-8"]
    assert verdict.warnings[0].due is not None
    walk.engagement.fire(
        "start_review",
        actor=F,
        at=walk.now,
        acknowledge={"R-PROG-8": "elections moved the review forward"},
    )
    entry = walk.engagement.history[-1]
    assert [(a.rule, a.reason) for a in entry.acknowledged] == [
        ("R-PROG-8", "elections moved the review forward")
    ]


def test_hard_rules_cannot_be_acknowledged_away() -> None:
    """A hard rule (R-PREP-7) cannot be acknowledged; the engagement is unchanged."""
    walk = Walk("rock.mentoring", skip={"language_plan"}).until("start_visit")
    before = walk.state
    with pytest.raises(InvalidInput) as error:
        walk.engagement.fire(
            "start_visit", actor=F, at=walk.now, acknowledge={"R-PREP-7": "we'll manage"}
        )
    assert error.value.problems[0].path == "$.acknowledge['R-PREP-7']"
    assert walk.state == before


def test_soft_deliverables_only_warn() -> None:
    """R-PREP-5, R-FOLLOW-7, R-COMM-4 and agenda hygiene (R-VISIT-6, R-VISIT-8) only warn."""
    walk = Walk("rock.work_shadowing", skip={"visitor_questions"}).until("start_visit")
    agenda = rock.agenda_for(walk.state.visit, work_shadowing=True)
    bare = attrs.evolve(agenda.agenda, sessions=agenda.agenda.sessions[:2])
    walk.engagement.submit(attrs.evolve(agenda, agenda=bare), actor=rock.rep("turin"), at=walk.now)
    walk.engagement.approve("agenda", actor=BOLOGNA, at=walk.now)
    verdict = walk.check("start_visit")
    assert verdict.allowed
    assert {w.rule for w in verdict.warnings} == {"R-PREP-5", "R-VISIT-6", "R-VISIT-8"}
    walk = Walk("rock.work_shadowing", skip={"host_reflection", "visitors_report"}).until("close")
    verdict = walk.check("close")
    assert verdict.allowed
    assert {w.rule for w in verdict.warnings} == {"R-FOLLOW-7", "R-COMM-4"}


def test_observer_can_do_nothing() -> None:
    """R-ROLE-3: an observer owes nothing and may fire, submit, share, approve or plan nothing."""
    plan = plan_for("rock.mentoring")
    observer = Participant("vilnius-obs", "Vilnius observer", Role.OBSERVER, "vilnius")
    walk = Walk(
        "rock.mentoring", plan=attrs.evolve(plan, participants=(*plan.participants, observer))
    )
    e = walk.engagement
    before = walk.state
    for trigger in ("confirm_match", "pause", "cancel"):
        assert "MF-ROLE" in e.check(trigger, actor="vilnius-obs", at=walk.now, reason="why").rules
    walk.fire("confirm_match")
    walk.supply("needs_assessment")
    before = walk.state
    attempts = [
        lambda: e.submit(rock.language_plan(), actor="vilnius-obs", at=walk.now),
        lambda: e.submit(rock.mentors_paper(), actor="vilnius-obs", at=walk.now),
        lambda: e.plan_visit(walk.state.visits[0], actor="vilnius-obs", at=walk.now),
    ]
    for attempt in attempts:
        with pytest.raises(ActionRefused) as refused:
            attempt()
        assert "MF-ROLE" in refused.value.verdict.rules
    e.submit(rock.mentors_paper(), actor=ATHENS, at=walk.now)
    before = walk.state
    for action in (e.share, e.approve):
        with pytest.raises(ActionRefused) as refused:
            action("mentors_paper", actor="vilnius-obs", at=walk.now)
        assert "MF-ROLE" in refused.value.verdict.rules
    assert walk.state == before


def test_wrong_party_cannot_submit_approve_or_fire() -> None:
    """Mentees cannot write the mentors' paper, mentors cannot agree it, mentors cannot confirm."""
    walk = Walk("rock.mentoring")
    e = walk.engagement
    assert e.check("confirm_match", actor=ATHENS, at=walk.now).rules == ("MF-ROLE",)
    walk.fire("confirm_match")
    walk.supply("needs_assessment")
    before = walk.state
    with pytest.raises(ActionRefused) as refused:
        e.submit(rock.mentors_paper(), actor=BOLOGNA, at=walk.now)
    assert refused.value.verdict.rules == ("MF-ROLE",)
    assert walk.state == before
    e.submit(rock.mentors_paper(), actor=ATHENS, at=walk.now)
    e.share("mentors_paper", actor=ATHENS, at=walk.now)
    before = walk.state
    with pytest.raises(ActionRefused) as refused:
        e.approve("mentors_paper", actor=rock.rep("liverpool"), at=walk.now)
    assert refused.value.verdict.rules == ("MF-ROLE",)
    assert walk.state == before


@pytest.mark.parametrize(
    ("call", "error", "field"),
    [
        (lambda e, t: e.fire("teleport", actor=F, at=t), UnknownTrigger, "teleport"),
        (lambda e, t: e.check("teleport", actor=F, at=t), UnknownTrigger, "teleport"),
        (lambda e, t: e.fire("confirm_match", actor="nobody", at=t), UnknownParticipant, "nobody"),
        (
            lambda e, t: e.submit(rock.needs_assessment(), actor="nobody", at=t),
            UnknownParticipant,
            "nobody",
        ),
        (
            lambda e, t: e.fire("confirm_match", actor=F, at=dt.datetime(2017, 9, 2)),
            InvalidInput,
            "$.at",
        ),
        (
            lambda e, t: e.fire("confirm_match", actor=F, at=t.subtract(days=1)),
            InvalidInput,
            "$.at",
        ),
        (
            lambda e, t: e.submit(MentorsPaper((), ("h",)), actor=ATHENS, at=t),
            InvalidDeliverable,
            "$.key_needs",
        ),
        (lambda e, t: e.fire("confirm_match", actor=F), InvalidInput, "$.at"),
    ],
    ids=[
        "unknown-trigger",
        "check-unknown-trigger",
        "unknown-actor",
        "unknown-submitter",
        "naive-time",
        "time-backwards",
        "bad-content",
        "no-time-no-clock",
    ],
)
def test_errors_name_the_culprit_and_change_nothing(
    call, error: type[MentorflowError], field: str
) -> None:  # type: ignore[no-untyped-def]
    """Bad input raises the right MentorflowError subclass naming the field; nothing changes."""
    walk = Walk("rock.mentoring")
    before = walk.state
    with pytest.raises(error) as raised:
        call(walk.engagement, walk.now)
    assert field in str(raised.value)
    if isinstance(raised.value, InvalidInput):
        assert field in {p.path for p in raised.value.problems}
    assert walk.state == before


def test_refused_triggers_leave_the_engagement_equal() -> None:
    """A TransitionRefused leaves the snapshot == to the one before, in every phase of a walk."""
    walk = Walk("rock.mentoring")
    for trigger in walk.path():
        for other in ("close", "start_review", "resume"):
            if other != trigger:
                before = walk.state
                with pytest.raises(TransitionRefused) as refused:
                    walk.engagement.fire(other, actor=F, at=walk.now)
                assert refused.value.verdict.unmet
                assert walk.state == before
        walk.fire(trigger)


def test_pause_resume_cancel_need_a_reason_and_the_facilitator() -> None:
    """Pause and cancel need a reason; only the facilitator pauses, resumes or cancels."""
    walk = Walk("rock.mentoring")
    walk.fire("confirm_match")
    e = walk.engagement
    assert e.check("pause", actor=F, at=walk.now).rules == ("MF-REASON",)
    assert e.check("pause", actor=BOLOGNA, at=walk.now, reason="summer").rules == ("MF-ROLE",)
    e.fire("pause", actor=F, at=walk.now, reason="summer break")
    assert (e.phase, e.resume_phase) == ("paused", "preparation")
    assert e.history[-1].reason == "summer break"
    assert e.check("start_visit", actor=F, at=walk.now).rules[0] == "MF-PHASE"
    e.fire("resume", actor=F, at=walk.now)
    assert e.phase == "preparation"
    assert e.check("cancel", actor=F, at=walk.now).rules == ("MF-REASON",)
    e.fire("cancel", actor=F, at=walk.now, reason="the mentee city withdrew")
    assert e.phase == "cancelled"
    assert e.history[-1].reason == "the mentee city withdrew"
    with pytest.raises(ActionRefused):
        e.submit(rock.language_plan(), actor=BOLOGNA, at=walk.now)
    assert e.available_triggers() == ()


def test_time_moves_with_an_injected_clock() -> None:
    """With no ``at``, the engagement reads its injected clock, never the wall clock."""
    from mentorflow.testing import FrozenClock

    clock = FrozenClock(pendulum.datetime(2017, 9, 1, tz="UTC"))
    e = plan_for("rock.mentoring").start(clock=clock)
    clock.advance(days=2)
    e.fire("confirm_match", actor=F)
    assert e.history[-1].at == pendulum.datetime(2017, 9, 3, tz="UTC")
