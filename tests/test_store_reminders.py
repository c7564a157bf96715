"""Store-backed reminders on SQLite and PostgreSQL: exactly once through ticks, restarts, outages, races."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _stores import (
    BACKENDS,
    CREATED,
    FACILITATOR,
    bologna,
    drop_schema,
    open_store,
    start_plan,
    store_target,
)
from mentorflow import rock2017 as rock
from mentorflow.events import Event, EventBus
from mentorflow.outbox import Relay
from mentorflow.reminder_scheduler import ReminderScheduler
from mentorflow.reminders import (
    DeadlineApproaching,
    DeadlineMissed,
    DeadlineReminder,
    ReminderLedger,
    ReminderPolicy,
    tick,
)
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement

POLICY = ReminderPolicy(lead_days=(14, 3))
TURIN_HOST = rock.rep("turin")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from open_store(request.param, tmp_path)


def three(store: SqlStore, prefix: str = "") -> list[StoredEngagement]:
    """Bologna's mentoring, Turin's and Lyon's work-shadowing (R-PREP-3 two months ahead)."""
    return [
        bologna(store, f"{prefix}rock-mentoring-bologna"),
        start_plan(store, 0, pendulum.date(2017, 11, 6), f"{prefix}rock-ws-turin"),
        start_plan(store, 3, pendulum.date(2017, 12, 7), f"{prefix}rock-ws-lyon"),
    ]


def days(
    start: pendulum.DateTime, end: pendulum.DateTime, step: int = 1
) -> list[pendulum.DateTime]:
    """Tick times from ``start`` to ``end`` every ``step`` days (end included)."""
    times = []
    at = start
    while at < end:
        times.append(at)
        at = at.add(days=step)
    return [*times, end]


class Lockstep:
    """Ticks the store and ``reminders.tick`` over the same snapshots; they must agree."""

    def __init__(self, scheduler: ReminderScheduler, engagements: list[StoredEngagement]) -> None:
        self.scheduler = scheduler
        self.engagements = engagements
        self.ledger = ReminderLedger()
        self.emitted: list[DeadlineReminder] = []

    def tick(self, now: pendulum.DateTime) -> tuple[DeadlineReminder, ...]:
        got = self.scheduler.tick(now)
        states = [e.state for e in self.engagements]
        expected = tick(states, now, self.ledger, policy=self.scheduler.policy)
        assert got == expected.events
        self.ledger = expected.ledger
        self.emitted += got
        return got


def reminder_ids_in_outbox(store: SqlStore) -> list[str]:
    """Ids of the reminder events waiting or delivered in the outbox, in commit order."""
    return [e.event_id for e in store.outbox() if isinstance(e.event, DeadlineReminder)]


def test_repeated_ticks_emit_each_reminder_once(store: SqlStore) -> None:
    """R-PREP-3 / R-PREP-4: daily ticks emit what one late tick would, once, in order; again: none."""
    engagements = three(store)
    run = Lockstep(ReminderScheduler(store, policy=POLICY), engagements)
    end = pendulum.datetime(2019, 3, 1, tz="UTC")
    for now in days(pendulum.datetime(2017, 8, 1, tz="UTC"), end):
        run.tick(now)
        assert run.scheduler.tick(now) == ()  # the same instant again
    once = tick([e.state for e in engagements], end, ReminderLedger(), policy=POLICY).events
    assert run.emitted == list(once)
    assert len({e.id for e in run.emitted}) == len(run.emitted) > 10
    assert reminder_ids_in_outbox(store) == [e.id for e in run.emitted]
    assert any(isinstance(e, DeadlineMissed) and e.rule == "R-PROG-8" for e in run.emitted)
    assert run.scheduler.ledger().settled >= {e.id for e in run.emitted}


def test_restart_and_catch_up_after_an_outage(store: SqlStore, tmp_path: Path) -> None:
    """R-PREP-4: after a restart and 60 days down, one tick emits the missed ones once, in order."""
    engagements = three(store)
    run = Lockstep(ReminderScheduler(store, policy=POLICY), engagements)
    for now in days(
        pendulum.datetime(2017, 8, 1, tz="UTC"), pendulum.datetime(2017, 10, 1, tz="UTC")
    ):
        run.tick(now)
    # Down from 1 Oct to 1 Dec; meanwhile Turin's host sends the travel guide late (due 6 Nov).
    turin = engagements[1]
    turin.submit(
        rock.travel_guide("turin"), actor=TURIN_HOST, at=pendulum.datetime(2017, 11, 20, tz="UTC")
    )
    restarted = SqlStore.open(
        store.engine.url.render_as_string(hide_password=False)
        if store.dialect == "postgresql"
        else str(store.engine.url.database),
        schema=store.tables.metadata.schema,
    )
    try:
        run.scheduler = ReminderScheduler(restarted, policy=POLICY)
        caught_up = run.tick(pendulum.datetime(2017, 12, 1, tz="UTC"))
        assert [e.at for e in caught_up] == sorted(e.at for e in caught_up)
        keys = {(e.key, type(e)) for e in caught_up}
        # Met late: the guide still counts as missed, and its 3-day reminder had come due unmet.
        assert ("travel_guide", DeadlineMissed) in keys
        assert ("travel_guide", DeadlineApproaching) in keys
        assert run.scheduler.tick(pendulum.datetime(2017, 12, 1, tz="UTC")) == ()
        assert (
            ReminderScheduler(store, policy=POLICY).tick(pendulum.datetime(2017, 12, 1, tz="UTC"))
            == ()
        )
    finally:
        restarted.close()
    ids = reminder_ids_in_outbox(store)
    assert len(ids) == len(set(ids)) == len(run.emitted)


def test_closed_engagements_get_no_reminders(store: SqlStore) -> None:
    """A cancelled engagement has no rows in the index, so ticks find nothing for it."""
    engagement = bologna(store)
    engagement.fire("cancel", actor=FACILITATOR, at=CREATED, reason="budget")
    assert ReminderScheduler(store).tick(pendulum.datetime(2020, 1, 1, tz="UTC")) == ()


def test_reminders_reach_a_relay_handler(store: SqlStore) -> None:
    """R-PREP-4: reminder events round-trip the codec and reach a handler subscribed to DeadlineMissed."""
    three(store)
    emitted = ReminderScheduler(store, policy=POLICY).tick(pendulum.datetime(2017, 12, 1, tz="UTC"))
    bus = EventBus()
    missed: list[DeadlineMissed] = []
    bus.subscribe(DeadlineMissed, missed.append)
    Relay(store, bus, batch_size=1000).run_once()
    expected = [e for e in emitted if isinstance(e, DeadlineMissed)]
    assert missed
    assert sorted(missed, key=lambda e: e.id) == sorted(expected, key=lambda e: e.id)
    assert store.outbox(status="pending") == ()


def test_a_failing_reminder_does_not_hold_back_engagement_events(store: SqlStore) -> None:
    """Reminders are their own lane in the outbox: a dead one leaves the engagement's events flowing."""
    engagement = bologna(store)
    Relay(store, lambda e: None).run_once()
    ReminderScheduler(store, policy=POLICY).tick(pendulum.datetime(2017, 12, 1, tz="UTC"))
    before = engagement.state.event_count
    engagement.fire("pause", actor=FACILITATOR, at=CREATED, reason="summer")
    delivered: list[Event] = []

    def handler(event: Event) -> None:
        if isinstance(event, DeadlineReminder):
            raise RuntimeError("reminder service down")
        delivered.append(event)

    Relay(store, handler, max_attempts=1, batch_size=1000).run_once()
    assert [e.sequence for e in delivered] == [
        e.event.sequence for e in store.outbox(engagement.id) if e.event.sequence > before
    ]
    assert delivered
    assert all(isinstance(e.event, DeadlineReminder) for e in store.outbox(status="dead"))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "names", [("shared", "shared"), ("one", "other")], ids=["locked", "unique"]
)
def test_concurrent_ticks_emit_each_reminder_once(
    backend: str, names: tuple[str, str], tmp_path: Path
) -> None:
    """Two workers ticking at once, on one scheduler row (row lock) or two (unique key): no duplicate."""
    target, schema = store_target(backend, tmp_path)
    setup = SqlStore.open(target, schema=schema)
    try:
        engagements = three(setup)
        times = days(
            pendulum.datetime(2017, 8, 1, tz="UTC"), pendulum.datetime(2019, 3, 1, tz="UTC"), 7
        )
        barrier = threading.Barrier(2)
        results: dict[str, list[DeadlineReminder]] = {}
        errors: list[BaseException] = []

        def worker(label: str, name: str) -> None:
            store = SqlStore.open(target, schema=schema, create=False)
            scheduler = ReminderScheduler(store, policy=POLICY, name=name)
            got: list[DeadlineReminder] = []
            try:
                for now in times:
                    barrier.wait(timeout=60)
                    got += scheduler.tick(now)
            except BaseException as error:
                errors.append(error)
                barrier.abort()
            finally:
                store.close()
                results[label] = got

        threads = [
            threading.Thread(target=worker, args=(label, name))
            for label, name in zip("ab", names, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        both = results["a"] + results["b"]
        expected = tick(
            [e.state for e in engagements], times[-1], ReminderLedger(), policy=POLICY
        ).events
        assert sorted(e.id for e in both) == sorted(e.id for e in expected)
        ids = reminder_ids_in_outbox(setup)
        assert sorted(ids) == sorted(e.id for e in expected)
    finally:
        setup.close()
        drop_schema(schema)


actions = st.lists(
    st.one_of(
        st.tuples(st.just("tick"), st.integers(min_value=0, max_value=90)),
        st.tuples(st.just("submit"), st.sampled_from(["travel_guide", "learning_objectives"])),
        st.tuples(st.just("move"), st.integers(min_value=90, max_value=200)),
        st.tuples(st.just("restart"), st.just(0)),
    ),
    max_size=12,
)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=actions)
def test_store_ticks_agree_with_reminders_tick(
    tmp_path: Path, steps: list[tuple[str, object]]
) -> None:
    """R-PREP-3 / R-PREP-4: ticks, late submissions, visit moves and restarts agree with reminders.tick."""
    import attrs

    from mentorflow.model import VisitWindow

    path = tmp_path / f"walk-{len(list(tmp_path.iterdir()))}.sqlite3"
    store = SqlStore.open(path)
    try:
        turin = start_plan(store, 0, pendulum.date(2017, 11, 6), "rock-ws-turin")
        run = Lockstep(ReminderScheduler(store, policy=POLICY), [turin])
        now = pendulum.datetime(2017, 8, 1, tz="UTC")
        for step, value in steps:
            if step == "tick":
                now = now.add(days=value)  # type: ignore[arg-type]
                run.tick(now)
            elif step == "submit":
                content = (
                    rock.travel_guide("turin")
                    if value == "travel_guide"
                    else rock.learning_objectives()
                )
                actor = TURIN_HOST if value == "travel_guide" else rock.rep("bologna")
                if turin.state.deliverable(str(value), None) is None:
                    turin.submit(content, actor=actor, at=now)
            elif step == "move":
                start = now.date().add(days=value)  # type: ignore[arg-type]
                visit = attrs.evolve(
                    turin.state.visits[0], window=VisitWindow(start, start.add(days=1))
                )
                turin.plan_visit(visit, actor=FACILITATOR, at=now)
            else:
                store.close()
                store = SqlStore.open(path)
                run.scheduler = ReminderScheduler(store, policy=POLICY)
                turin = StoredEngagement.load(store, turin.id)
                run.engagements = [turin]
        ids = reminder_ids_in_outbox(store)
        assert ids == [e.id for e in run.emitted]
    finally:
        store.close()
