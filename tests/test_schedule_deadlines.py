"""Deadlines read off methods and resolved in the host city's time zone."""

from __future__ import annotations

import attrs
import pendulum
from hypothesis import given
from hypothesis import strategies as st

from mentorflow import engine
from mentorflow import rock2017 as rock
from mentorflow.catalog import rock_mentoring
from mentorflow.compiled import compile_method
from mentorflow.schedule import Condition, deadline_rules, deadlines, due
from mentorflow.verdicts import Severity
from timekit import CREATED, FACILITATOR, moved, started

WS_TURIN, MENTORING_BOLOGNA, MENTORING_SKOPJE = 0, 2, 4


def by_key(method, state):  # type: ignore[no-untyped-def]
    return {d.key: d for d in deadlines(method, state)}


def test_learning_objectives_are_softly_due_two_months_ahead() -> None:
    """R-PREP-3: the visitors' objectives are softly due two months before the visit."""
    method, state = started(WS_TURIN)
    d = by_key(method, state)["learning_objectives"]
    assert d.due == pendulum.datetime(2017, 9, 6, tz="Europe/Rome")
    assert d.severity is Severity.SOFT
    assert d.rule == "R-PREP-3"
    assert d.owed_by_organisations == state.visits[0].visitors


def test_travel_guide_and_agenda_are_hard_deadlines_at_the_visit() -> None:
    """R-PREP-4, R-PREP-6: guide submitted and agenda approved by the visit's first midnight."""
    method, state = started(WS_TURIN)
    found = by_key(method, state)
    start = pendulum.datetime(2017, 11, 6, tz="Europe/Rome")
    guide = found["travel_guide"]
    agenda = found["agenda@ws-turin-2017"]
    assert (guide.due, guide.severity, guide.rule, guide.condition) == (
        start,
        Severity.HARD,
        "R-PREP-4",
        Condition.SUBMITTED,
    )
    assert (agenda.due, agenda.condition, agenda.visit_id) == (
        start,
        Condition.APPROVED,
        "ws-turin-2017",
    )
    assert guide.owed_by_organisations == ("turin",)


def test_mentors_paper_is_shared_a_comment_window_before_it_is_agreed() -> None:
    """R-PREP-2: the paper is shared ``paper_comment_days`` before it is due agreed."""
    base = rock_mentoring()
    for window_days in (7, 21):
        method = compile_method(
            attrs.evolve(
                base, parameters=attrs.evolve(base.parameters, paper_comment_days=window_days)
            )
        )
        _, state = started(MENTORING_BOLOGNA, method=method)
        found = by_key(method, state)
        agreed, shared = found["mentors_paper"], found["mentors_paper.shared"]
        assert agreed.condition is Condition.APPROVED
        assert agreed.severity is Severity.HARD
        assert shared.condition is Condition.SHARED
        assert shared.severity is Severity.SOFT
        assert agreed.due.diff(shared.due).in_days() == window_days


def test_report_and_roadmap_fall_due_after_the_visit() -> None:
    """R-FOLLOW-1, R-FOLLOW-3: report approved 30 days and roadmap 60 days after the visit ends."""
    method, state = started(MENTORING_BOLOGNA)
    found = by_key(method, state)
    after = pendulum.datetime(2017, 11, 27, tz="Europe/Rome")  # the midnight ending the last day
    assert found["visit_report"].due == after.add(days=30)
    assert found["visit_report"].rule == "R-FOLLOW-1"
    assert found["roadmap"].due == after.add(days=60)
    assert found["roadmap"].rule == "R-FOLLOW-3"


def test_follow_up_review_is_due_twelve_months_after_the_first_visit() -> None:
    """R-PROG-8: the follow-up review trigger is due a year after the first mentoring visit."""
    method, state = started(MENTORING_BOLOGNA)
    review = by_key(method, state)["start_review"]
    assert review.condition is Condition.FIRED
    assert review.due == pendulum.datetime(2018, 11, 27, tz="Europe/Rome")
    assert (review.rule, review.severity) == ("R-PROG-8", Severity.SOFT)


def test_every_rule_of_the_builtin_methods_names_a_seed_rule() -> None:
    """Every deadline of the ROCK methods cites a catalogue rule id (R-...)."""
    for plan in rock.programme():
        method, _ = started(rock.programme().index(plan))
        assert all(r.rule.startswith("R-") for r in deadline_rules(method.method))


def test_tentative_visit_has_no_deadline_until_fixed() -> None:
    """R-PROG-7: a TBC visit gives no deadline; fixing its dates creates them."""
    method, state = started(MENTORING_SKOPJE)
    assert state.visits[0].window is not None
    assert state.visits[0].window.tentative
    assert deadlines(method, state) == ()
    fixed = moved(method, state, pendulum.date(2018, 1, 22), CREATED.add(days=1), days=3)
    found = by_key(method, fixed)
    assert found["mentors_paper"].due == pendulum.datetime(2018, 1, 22, tz="Europe/Skopje")
    back = moved(method, fixed, pendulum.date(2018, 1, 22), CREATED.add(days=2), tentative=True)
    assert deadlines(method, back) == ()


@given(shift=st.integers(min_value=-60, max_value=200))
def test_moving_a_visit_moves_its_deadlines(shift: int) -> None:
    """Moving a visit by n days moves each day-based deadline n local days, at local midnight."""
    method, state = started(MENTORING_BOLOGNA, days=3)
    old = by_key(method, state)
    new_start = state.visits[0].window.start.add(days=shift)  # type: ignore[union-attr]
    new = by_key(method, moved(method, state, new_start, CREATED.add(days=1), days=3))
    assert old.keys() == new.keys()
    for key, before in old.items():
        after = new[key]
        if key == "start_review":  # month-based (R-PROG-8): only its order is guaranteed
            assert (after.due >= before.due) == (shift >= 0) or after.due == before.due
            continue
        assert after.due.date() == before.due.date().add(days=shift)
        assert (after.due.hour, after.due.minute) == (0, 0)


@given(hours=st.integers(min_value=0, max_value=24 * 500))
def test_nothing_is_due_before_its_instant(hours: int) -> None:
    """due(now) lists exactly the unmet deadlines whose instant is not after now."""
    method, state = started(MENTORING_BOLOGNA)
    now = CREATED.add(hours=hours)
    listed = due(method, state, now)
    assert all(d.due <= now for d in listed)
    assert {d.key for d in listed} == {d.key for d in deadlines(method, state) if d.due <= now}


def test_a_deadline_is_met_only_by_its_condition_in_time() -> None:
    """R-PREP-4: the travel guide meets its deadline when submitted before it; late is a miss."""
    method, state = started(WS_TURIN)
    guide = by_key(method, state)["travel_guide"]
    on_time = engine.submit(
        method, state, rock.travel_guide("turin"), actor="turin-1", at=guide.due.subtract(hours=1)
    )
    met = by_key(method, on_time.state)["travel_guide"]
    assert met.met
    assert not met.missed_at(guide.due.add(days=5))
    late = engine.submit(
        method, state, rock.travel_guide("turin"), actor="turin-1", at=guide.due.add(hours=1)
    )
    missed = by_key(method, late.state)["travel_guide"]
    assert missed.met
    assert missed.missed_at(guide.due)


def test_agenda_deadline_waits_for_approval_not_submission() -> None:
    """R-PREP-6: a submitted but unapproved agenda leaves its deadline unmet."""
    method, state = started(WS_TURIN)
    at = CREATED.add(days=10)
    submitted = engine.submit(
        method, state, rock.agenda_for(state.visits[0], work_shadowing=True), actor="turin-1", at=at
    ).state
    assert not by_key(method, submitted)["agenda@ws-turin-2017"].met
    approved = engine.approve(
        method, submitted, "agenda", actor="bologna-1", at=at.add(days=1)
    ).state
    assert by_key(method, approved)["agenda@ws-turin-2017"].met_at == at.add(days=1)


def test_overdue_deliverables_appear_in_check_verdicts() -> None:
    """R-PREP-4: check() lists a passed, unmet deadline as a soft 'overdue since' finding."""
    method, state = started(WS_TURIN)
    after = pendulum.datetime(2017, 11, 7, 9, tz="Europe/Rome")
    verdict = engine.check(method, state, "confirm_match", actor=FACILITATOR, at=after)
    guide = [f for f in verdict.overdue if f.deliverable == "travel_guide"]
    assert verdict.allowed
    assert len(guide) == 1
    assert guide[0].rule == "R-PREP-4"
    assert guide[0].severity is Severity.SOFT
    assert "overdue since 2017-11-06" in guide[0].message
    assert "overdue:" in verdict.explain()
    before = engine.check(method, state, "confirm_match", actor=FACILITATOR, at=CREATED.add(days=1))
    assert before.overdue == ()
    submitted = engine.submit(
        method, state, rock.travel_guide("turin"), actor="turin-1", at=after
    ).state
    later = engine.check(
        method, submitted, "confirm_match", actor=FACILITATOR, at=after.add(hours=1)
    )
    assert not [f for f in later.overdue if f.deliverable == "travel_guide"]
