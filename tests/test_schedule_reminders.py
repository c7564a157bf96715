"""Reminder and overdue events: exactly once, in order, whatever the tick granularity."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from mentorflow import engine
from mentorflow import rock2017 as rock
from mentorflow.clock import FrozenClock
from mentorflow.exceptions import InvalidInput
from mentorflow.reminders import (
    DeadlineApproaching,
    DeadlineMissed,
    DeadlineReminder,
    ReminderLedger,
    ReminderPolicy,
    tick,
)
from mentorflow.schedule import deadlines
from timekit import CREATED, FACILITATOR, moved, started

if TYPE_CHECKING:
    from collections.abc import Callable

    from mentorflow.compiled import CompiledMethod
    from mentorflow.state import EngagementState

WS_TURIN = 0
HOST, VISITOR = "turin-1", "bologna-1"
#: Work-shadowing deliverables the host and visitors owe before the visit (R-PREP-3/4/5/7).
SUBMISSIONS: dict[str, Callable[[EngagementState], tuple[object, str]]] = {
    "learning_objectives": lambda s: (rock.learning_objectives(), VISITOR),
    "travel_guide": lambda s: (rock.travel_guide("turin"), HOST),
    "visitor_questions": lambda s: (rock.visitor_questions(), VISITOR),
    "language_plan": lambda s: (rock.language_plan(), HOST),
    "agenda": lambda s: (rock.agenda_for(s.visits[0], work_shadowing=True), HOST),
}


def _submit(
    method: CompiledMethod, state: EngagementState, kind: str, at: pendulum.DateTime
) -> EngagementState:
    content, actor = SUBMISSIONS[kind](state)
    return engine.submit(method, state, content, actor=actor, at=at).state  # type: ignore[arg-type]


def run_ticks(
    state: EngagementState, times: list[pendulum.DateTime], policy: ReminderPolicy | None = None
) -> list[DeadlineReminder]:
    """Tick at each time in turn, persisting the ledger as a dict between ticks (a restart)."""
    ledger = ReminderLedger()
    emitted: list[DeadlineReminder] = []
    for now in times:
        result = tick(state, now, ReminderLedger.from_dict(ledger.to_dict()), policy=policy)
        emitted.extend(result.events)
        ledger = result.ledger
    return emitted


def test_repeated_ticks_emit_nothing_new() -> None:
    """R-PREP-4: a second tick at the same instant, with the returned ledger, emits nothing."""
    _method, state = started(WS_TURIN)
    now = pendulum.datetime(2017, 11, 8, tz="UTC")
    first = tick(state, now, ReminderLedger())
    assert any(isinstance(e, DeadlineMissed) and e.what == "travel_guide" for e in first.events)
    assert tick(state, now, first.ledger).events == ()
    assert tick(state, now.add(hours=1), first.ledger).events == ()


def test_reminder_events_are_typed_and_deterministic() -> None:
    """R-PREP-3: reminders carry the deadline, a derived id, their moment and the system actor."""
    _method, state = started(WS_TURIN)
    now = pendulum.datetime(2017, 9, 4, tz="UTC")
    events = tick(state, now, ReminderLedger(), policy=ReminderPolicy((14, 3))).events
    objectives = [e for e in events if e.key == "learning_objectives"]
    assert [type(e) for e in objectives] == [DeadlineApproaching, DeadlineApproaching]
    assert [e.lead_days for e in objectives] == [14, 3]  # type: ignore[attr-defined]
    due = pendulum.datetime(2017, 9, 6, tz="Europe/Rome")
    assert [e.at for e in objectives] == [due.subtract(days=14), due.subtract(days=3)]
    assert (
        objectives[0].id == "rock-ws-turin/learning_objectives/2017-09-05T22:00:00Z/approaching-14d"
    )
    assert {e.actor for e in events} == {"mentorflow"}
    assert {e.rule for e in objectives} == {"R-PREP-3"}
    assert tick(state, now, ReminderLedger()).events == events


def test_met_deadlines_get_no_reminders() -> None:
    """R-PREP-4: a travel guide submitted in time silences its reminders and its miss."""
    method, state = started(WS_TURIN)
    state = _submit(method, state, "travel_guide", CREATED.add(days=1))
    events = tick(state, pendulum.datetime(2017, 12, 1, tz="UTC"), ReminderLedger()).events
    assert not [e for e in events if e.what == "travel_guide"]


def test_a_paused_engagement_is_not_reminded_until_it_resumes() -> None:
    """R-PREP-4: reminders wait while on hold, then the missed ones come out once, after resume."""
    method, turin = started(WS_TURIN)
    paused = engine.fire(
        method, turin, "pause", actor=FACILITATOR, at=CREATED.add(days=1), reason="elections"
    ).state
    late = pendulum.datetime(2017, 12, 1, tz="UTC")
    assert tick(paused, late, ReminderLedger()).events == ()
    resumed = engine.fire(method, paused, "resume", actor=FACILITATOR, at=late).state
    first = tick(resumed, late, ReminderLedger())
    assert [e for e in first.events if isinstance(e, DeadlineMissed) and e.what == "travel_guide"]
    assert tick(resumed, late, first.ledger).events == ()


def test_closed_and_tentative_engagements_stay_silent() -> None:
    """R-PROG-7: a TBC visit gives no reminders; a cancelled engagement gives none either."""
    method, skopje = started(4)
    assert tick(skopje, pendulum.datetime(2019, 1, 1, tz="UTC"), ReminderLedger()).events == ()
    method, turin = started(WS_TURIN)
    cancelled = engine.fire(
        method, turin, "cancel", actor=FACILITATOR, at=CREATED.add(days=1), reason="budget"
    ).state
    assert tick(cancelled, pendulum.datetime(2019, 1, 1, tz="UTC"), ReminderLedger()).events == ()


def test_policy_rejects_non_positive_leads() -> None:
    """A lead time of zero or less is refused with the path of the bad entry."""
    with pytest.raises(InvalidInput) as caught:
        ReminderPolicy((14, 0))
    assert caught.value.problems[0].path == "$.lead_days[1]"


@given(st.frozensets(st.text(min_size=1, max_size=20), max_size=20))
def test_ledger_round_trips_through_its_dict(ids: frozenset[str]) -> None:
    """A ledger read back from its dict form is equal to the original."""
    ledger = ReminderLedger(ids)
    assert ReminderLedger.from_dict(ledger.to_dict()) == ledger


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({"schema_version": 1, "settled": "x"}, "$.settled"),
        ({"schema_version": 9, "settled": []}, "$.schema_version"),
        ({"schema_version": 1, "settled": [1]}, "$.settled[0]"),
    ],
)
def test_ledger_refuses_bad_input_naming_the_field(data: dict[str, object], path: str) -> None:
    """A malformed ledger raises InvalidInput naming the field, never a bare KeyError."""
    with pytest.raises(InvalidInput) as caught:
        ReminderLedger.from_dict(data)
    assert path in [p.path for p in caught.value.problems]


def test_forget_drops_one_engagement() -> None:
    """Forgetting an engagement keeps the other engagements' entries."""
    ledger = ReminderLedger(frozenset({"a/x/1/missed", "ab/x/1/missed"}))
    assert ledger.forget("a").settled == frozenset({"ab/x/1/missed"})


submission_plans = st.dictionaries(
    st.sampled_from(sorted(SUBMISSIONS)), st.integers(min_value=0, max_value=24 * 200), max_size=5
)


def test_hourly_ticks_over_the_rock_calendar_match_one_tick_after() -> None:
    """R-PREP-3/4/6: six weeks of hourly ticks over three ROCK visits equal one late tick."""
    states = [started(i)[1] for i in range(3)]
    now, end = pendulum.datetime(2017, 10, 20, tz="UTC"), pendulum.datetime(2017, 12, 1, tz="UTC")
    first = tick(states, now, ReminderLedger())
    ledger = first.ledger
    hourly: list[DeadlineReminder] = list(first.events)
    while now < end:
        now = now.add(hours=1)
        result = tick(states, now, ledger)
        hourly.extend(result.events)
        ledger = result.ledger
    assert hourly == list(tick(states, end, ReminderLedger()).events)
    assert len(hourly) > 20


@settings(max_examples=30)
@given(
    start_offset=st.integers(min_value=10, max_value=150),
    submitted_after=submission_plans,
    granularity=st.sampled_from([7, 24, 24 * 7]) | st.integers(min_value=2, max_value=96),
    outage=st.integers(min_value=24 * 30, max_value=24 * 300),
)
def test_same_events_whatever_the_tick_granularity(
    start_offset: int, submitted_after: dict[str, int], granularity: int, outage: int
) -> None:
    """R-PREP-3..7: ticking every few hours, daily, weekly or once after an outage: same events.

    Deliverables are submitted at random hours while ticks run; each tick sees the snapshot of
    its moment. Events come out once each and, concatenated over all ticks, in order of time.
    """
    method, state = started(WS_TURIN, CREATED.date().add(days=start_offset))
    actions = sorted((CREATED.add(hours=h, minutes=30), k) for k, h in submitted_after.items())
    end = CREATED.add(hours=outage)

    versions = [(CREATED, state)]
    for at, kind in actions:
        versions.append((at, _submit(method, versions[-1][1], kind, at)))

    def snapshot_at(now: pendulum.DateTime) -> EngagementState:
        return [s for at, s in versions if at <= now][-1]

    fine_times = [CREATED.add(hours=h) for h in range(0, outage, granularity)] + [end]
    ledger = ReminderLedger()
    fine: list[DeadlineReminder] = []
    for now in fine_times:
        result = tick(snapshot_at(now), now, ledger)
        fine.extend(result.events)
        ledger = result.ledger
    once = list(tick(snapshot_at(end), end, ReminderLedger()).events)
    assert fine == once
    assert len({e.id for e in fine}) == len(fine)
    assert [e.at for e in fine] == sorted(e.at for e in fine)


class ReminderMachine(RuleBasedStateMachine):
    """Time travel over a work-shadowing engagement: plan, submit, advance the clock, tick."""

    @initialize(offset=st.integers(min_value=5, max_value=120))
    def begin(self, offset: int) -> None:
        self.method, self.state = started(WS_TURIN, CREATED.date().add(days=offset))
        self.clock = FrozenClock(CREATED)
        self.ledger = ReminderLedger()
        self.seen: set[str] = set()
        self.last_tick = CREATED.subtract(days=1)

    @rule(hours=st.integers(min_value=1, max_value=24 * 20))
    def advance(self, hours: int) -> None:
        self.clock.advance(hours=hours)

    @rule(offset=st.integers(min_value=-10, max_value=120), tentative=st.booleans())
    def plan_visit(self, offset: int, tentative: bool) -> None:
        start = self.clock.now().date().add(days=offset)
        self.state = moved(self.method, self.state, start, self.clock.now(), tentative=tentative)

    @rule(kind=st.sampled_from(sorted(SUBMISSIONS)))
    def submit(self, kind: str) -> None:
        if self.state.visits[0].window is None or self.state.visits[0].window.tentative:
            return
        self.state = _submit(self.method, self.state, kind, self.clock.now())

    @rule(restart=st.booleans())
    def tick(self, restart: bool) -> None:
        now = self.clock.now()
        ledger = ReminderLedger.from_dict(self.ledger.to_dict()) if restart else self.ledger
        result = tick(self.state, now, ledger)
        current = {d.key: d for d in deadlines(self.method, self.state)}
        for event in result.events:
            assert event.id not in self.seen, "emitted twice"
            assert event.at <= now, "emitted before its moment"
            deadline = current[event.key]
            assert deadline.due == event.due
            if isinstance(event, DeadlineMissed):
                assert event.at == deadline.due
                assert not deadline.met_by(deadline.due)
            else:
                assert isinstance(event, DeadlineApproaching)
                assert event.at == deadline.due.subtract(days=event.lead_days)
                assert not deadline.met_by(event.at)
        assert [e.at for e in result.events] == sorted(e.at for e in result.events)
        self.seen |= {e.id for e in result.events}
        self.ledger = result.ledger
        self.last_tick = now
        assert tick(self.state, now, self.ledger).events == ()

    @invariant()
    def every_emitted_reminder_is_settled(self) -> None:
        assert self.seen <= self.ledger.settled


TestReminderMachine = ReminderMachine.TestCase
TestReminderMachine.settings = settings(max_examples=40, stateful_step_count=25)
