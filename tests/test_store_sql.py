"""The SQL store on real SQLite and PostgreSQL: saves, conflicts, queries, outbox relay, versions."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import attrs
import pendulum
import pytest
import sqlalchemy as sa

from _stores import BACKENDS, CREATED, FACILITATOR, OverlapWatch, bologna, open_store
from mentorflow._sqlschema import MIGRATIONS
from mentorflow._sqlwrite import CompiledWrite
from mentorflow.catalog import METHODS, compiled
from mentorflow.clock import FrozenClock
from mentorflow.events import Event, EventBus, MethodMigrated, PhaseEntered
from mentorflow.exceptions import ActionRefused, ConcurrencyConflict, UnknownEngagement
from mentorflow.outbox import Backoff, Relay
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus, StoredEngagement, retry_action
from mentorflow.versions import can_migrate, diff

LATER = pendulum.datetime(2017, 7, 1, tz="Europe/Brussels")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from open_store(request.param, tmp_path)


def _counts(store: SqlStore) -> tuple[int, int, int]:
    t = store.tables
    with store.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (t.engagements, t.history, t.outbox)
        )


def test_saved_engagement_loads_back_equal(store: SqlStore) -> None:
    """A created and advanced engagement loads back equal, history rows matching the snapshot."""
    engagement = bologna(store)
    engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
    again = StoredEngagement.load(store, engagement.id)
    assert again.state == engagement.state
    assert store.history(engagement.id) == engagement.history
    assert [e.event.id for e in store.outbox(engagement.id)] == [
        i for h in engagement.history for i in h.event_ids
    ]


def test_stale_save_raises_conflict_and_writes_nothing(store: SqlStore) -> None:
    """Two workers load version 1; the second save raises ConcurrencyConflict and writes nothing."""
    bologna(store)
    first = StoredEngagement.load(store, "rock-mentoring-bologna")
    second = StoredEngagement.load(store, "rock-mentoring-bologna")
    first.fire("pause", actor=FACILITATOR, at=LATER, reason="summer")
    before = _counts(store)
    with pytest.raises(ConcurrencyConflict) as caught:
        second.fire("confirm_match", actor=FACILITATOR, at=LATER)
    assert (caught.value.expected_version, caught.value.found_version) == (1, 2)
    assert _counts(store) == before
    assert second.version == 1  # the facade kept its old snapshot
    assert store.load("rock-mentoring-bologna").phase.startswith("paused:")


def test_creating_an_existing_id_conflicts(store: SqlStore) -> None:
    """Starting an engagement under a taken id raises ConcurrencyConflict."""
    bologna(store)
    with pytest.raises(ConcurrencyConflict):
        bologna(store)
    assert _counts(store)[0] == 1


def test_retry_action_reloads_after_a_conflict(store: SqlStore) -> None:
    """retry_action re-runs the action on a fresh load when another worker saved in between."""
    bologna(store)
    calls = []

    def act(engagement: StoredEngagement) -> int:
        calls.append(engagement.version)
        if len(calls) == 1:  # another worker saves between our load and our save
            StoredEngagement.load(store, engagement.id).fire(
                "pause", actor=FACILITATOR, at=LATER, reason="x"
            )
        engagement.fire(
            "resume" if engagement.phase == "paused" else "confirm_match",
            actor=FACILITATOR,
            at=LATER,
        )
        return engagement.version

    assert retry_action(store, "rock-mentoring-bologna", act) == 3
    assert calls == [1, 2]


def test_unknown_engagement(store: SqlStore) -> None:
    """Loading an id the store does not hold raises UnknownEngagement."""
    with pytest.raises(UnknownEngagement):
        store.load("nope")


def test_queries_by_phase_city_and_deadline(store: SqlStore) -> None:
    """R-PREP-2: engagements are found by phase, by city and by their earliest unmet deadline."""
    engagement = bologna(store)
    other = bologna(store, "other")
    other.fire("pause", actor=FACILITATOR, at=LATER, reason="on hold: no deadlines run")
    engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
    assert store.ids(phase="preparation") == (engagement.id,)
    assert store.ids(organisation_id="bologna") == ("other", engagement.id)
    assert store.ids(organisation_id="lyon") == ()
    # The mentors' paper is due shared 14 days before the visit: 10 Nov 2017, Bologna time.
    # A paused engagement still owes it (only closing or cancelling clears deadlines).
    shared_by = pendulum.datetime(2017, 11, 10, tz="Europe/Rome")
    assert store.ids(due_before=shared_by.add(minutes=1)) == ("other", engagement.id)
    assert store.ids(due_before=shared_by) == ()


def test_schema_migrations_apply_once(store: SqlStore) -> None:
    """Opening the store again applies no migration step twice."""
    assert store.migrate() == ()
    with store.engine.connect() as conn:
        numbers = conn.execute(sa.select(store.tables.migrations.c.number)).scalars().all()
    assert numbers == [step.number for step in MIGRATIONS]


def test_relay_delivers_in_order_once(store: SqlStore) -> None:
    """The relay hands every event to the handler once, in order per engagement."""
    engagement = bologna(store)
    engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
    seen: list[Event] = []
    relay = Relay(store, seen.append, clock=FrozenClock(LATER))
    report = relay.run_once()
    assert [e.sequence for e in seen] == [1, 2, 3]
    assert report.delivered == tuple(e.id for e in seen)
    assert relay.run_once().handled == 0
    assert {e.status for e in store.outbox()} == {OutboxStatus.DELIVERED}


def test_relay_retries_with_backoff_then_dead_letters_and_replays(store: SqlStore) -> None:
    """A failing handler is retried after the backoff, dead-lettered, and delivered on replay."""
    bologna(store)
    clock = FrozenClock(LATER)
    failing = True
    seen: list[str] = []

    def handler(event: Event) -> None:
        if failing:
            raise RuntimeError("host down")
        seen.append(event.id)

    relay = Relay(store, handler, clock=clock, max_attempts=3, backoff=Backoff(base=10, factor=2))
    assert len(relay.run_once().retried) == 1
    assert relay.run_once().handled == 0  # still inside the 10 s backoff
    clock.advance(seconds=10)
    assert len(relay.run_once().retried) == 1
    clock.advance(seconds=19)
    assert relay.run_once().handled == 0  # the second backoff is 20 s
    clock.advance(seconds=1)
    report = relay.run_once()
    assert len(report.dead) == 1
    [dead] = store.outbox(status=OutboxStatus.DEAD)
    assert dead.attempts == 3
    assert "host down" in (dead.last_error or "")
    failing = False
    store.replay(dead.event_id)
    assert relay.run_once().delivered == (dead.event_id,)
    assert seen == [dead.event_id]


def test_dead_event_holds_back_later_events(store: SqlStore) -> None:
    """Order per engagement: while event 1 is dead, event 2 is not delivered."""
    engagement = bologna(store)
    engagement.fire("pause", actor=FACILITATOR, at=LATER, reason="x")
    seen: list[int] = []

    def handler(event: Event) -> None:
        if event.sequence == 1:
            raise RuntimeError("no")
        seen.append(event.sequence)

    relay = Relay(store, handler, clock=FrozenClock(LATER), max_attempts=1)
    relay.run_once()
    assert seen == []


def test_relay_publishes_to_an_event_bus(store: SqlStore) -> None:
    """An EventBus can be the relay's handler; its subscribers hear the stored events."""
    engagement = bologna(store)
    engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
    bus = EventBus()
    phases: list[str] = []
    bus.subscribe(PhaseEntered, lambda e: phases.append(e.to_phase))
    Relay(store, bus, clock=FrozenClock(LATER)).run_once()
    assert phases == ["preparation"]


def test_run_loop_sleeps_through_the_injected_sleep(store: SqlStore) -> None:
    """run() stops when told and sleeps through the injected function when idle."""
    bologna(store)
    naps: list[float] = []
    relay = Relay(store, lambda e: None, clock=FrozenClock(LATER), sleep=naps.append)
    assert relay.run(max_rounds=3, idle_seconds=0.5) == 1
    assert naps == [0.5, 0.5]


def test_engagement_stays_on_its_method_version(store: SqlStore) -> None:
    """A newer registered version does not move a stored engagement; migrate does, in the history."""
    engagement = bologna(store)
    v1 = METHODS["rock.mentoring"]()
    v2 = attrs.evolve(v1, version=2, description="v2")
    store.methods.add(v2)
    again = StoredEngagement.load(store, engagement.id)
    assert again.method.version == 1
    assert diff(v1, v2).is_empty
    assert diff(v1, v2).to_version == 2
    assert can_migrate(again.state, v2).allowed
    outcome = again.migrate(v2, actor=FACILITATOR, at=LATER, reason="new edition")
    assert isinstance(outcome.events[0], MethodMigrated)
    stored = StoredEngagement.load(store, engagement.id)
    assert stored.method.version == 2
    assert stored.history[-1].action == "migrate"
    stored.fire("confirm_match", actor=FACILITATOR, at=LATER)


def test_migration_refused_when_the_phase_is_removed(store: SqlStore) -> None:
    """can_migrate names the removed phase; migrate refuses with that verdict and writes nothing."""
    engagement = bologna(store)
    engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
    v1 = METHODS["rock.mentoring"]()
    phases = tuple(p for p in v1.phases if p.name != "preparation")
    triggers = tuple(
        attrs.evolve(
            t,
            sources=tuple("matchmaking" if s == "preparation" else s for s in t.sources),
            dest="visit" if t.dest == "preparation" else t.dest,
        )
        for t in v1.triggers
    )
    v2 = attrs.evolve(v1, version=2, phases=phases, triggers=triggers)
    verdict = can_migrate(engagement.state, v2)
    assert any("preparation" in f.message for f in verdict.unmet)
    assert "preparation" in diff(v1, v2).phases_removed
    before = _counts(store)
    with pytest.raises(ActionRefused):
        engagement.migrate(v2, actor=FACILITATOR, at=LATER)
    assert _counts(store) == before


@pytest.fixture
def pg_store(tmp_path: Path) -> Iterator[SqlStore]:
    """A store on a fresh PostgreSQL schema."""
    yield from open_store("postgresql", tmp_path)


@pytest.mark.postgres
def test_parallel_relays_never_deliver_an_event_twice(pg_store: SqlStore) -> None:
    """Four relays on PostgreSQL share the outbox: no event handed over twice or to two handlers
    at once, in order per engagement, and no attempt left counted."""
    store = pg_store
    for n in range(6):
        engagement = bologna(store, f"e{n}")
        engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
        engagement.fire("pause", actor=FACILITATOR, at=LATER, reason="x")
    handler = OverlapWatch()
    seen, overlaps = handler.seen, handler.overlaps

    relays = [Relay(store, handler, clock=FrozenClock(LATER), batch_size=3) for _ in range(4)]
    deadline = time.monotonic() + 60

    def deliver(relay: Relay) -> None:
        # Until nothing waits: a relay whose turn finds every ready event claimed by the others
        # (or held back behind one in flight) ends it with nothing, so a fixed number of turns
        # could end before the outbox is empty on a busy machine.
        while store.outbox(status="pending") and time.monotonic() < deadline:
            relay.run_once()

    threads = [threading.Thread(target=deliver, args=(r,)) for r in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []  # never handed to two handlers at the same time
    assert len(seen) == len(set(seen)) == 6 * 5
    for n in range(6):
        assert [s for e, s in seen if e == f"e{n}"] == [1, 2, 3, 4, 5]
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(store.tables.outbox_attempts)).all() == []


def test_start_needs_a_time() -> None:
    """StoredEngagement.start without a time or clock is refused before touching the store."""
    from mentorflow.exceptions import InvalidInput

    with pytest.raises(InvalidInput):
        StoredEngagement.start(
            compiled("rock.mentoring"),
            store=None,
            id="x",
            title="x",  # type: ignore[arg-type]
            organisations=(),
            participants=(),
            actor="x",
        )
    assert CREATED.year == 2017


def test_starting_without_a_time_or_clock_names_the_field_and_writes_nothing(
    store: SqlStore,
) -> None:
    """No time and no clock: InvalidInput naming $.at, and no engagement row appears."""
    from mentorflow.exceptions import InvalidInput

    with pytest.raises(InvalidInput) as raised:
        bologna(store, "no-time", at=None)
    assert [p.path for p in raised.value.problems] == ["$.at"]
    with pytest.raises(UnknownEngagement):
        store.load("no-time")


def test_a_clock_gives_the_time_of_creation(store: SqlStore) -> None:
    """With no ``at``, the injected clock dates the creation; the wall clock is never read."""
    clock = FrozenClock(CREATED.add(days=3))
    engagement = bologna(store, "clocked", at=None, clock=clock)
    assert store.load("clocked").history[0].at == clock.now() == engagement.history[0].at


def test_a_locked_database_fails_the_save_and_changes_nothing(tmp_path: Path) -> None:
    """While another process holds SQLite's write lock, a save fails with SQLAlchemy's
    OperationalError (not a bare driver error), the engagement keeps its snapshot and nothing is
    written; once the lock is gone the same action saves."""
    path = tmp_path / "locked.sqlite3"
    store = SqlStore.open(path, busy_timeout=0.1)
    engagement = bologna(store)
    before_state, before_rows = engagement.state, _counts(store)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sa.exc.OperationalError, match="locked"):
            engagement.fire("pause", actor=FACILITATOR, at=LATER, reason="summer")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert engagement.state is before_state
    assert _counts(store) == before_rows
    engagement.fire("pause", actor=FACILITATOR, at=LATER, reason="summer")
    assert store.load(engagement.id) == engagement.state
    store.close()


def test_write_statements_refuse_columns_that_need_conversion(store: SqlStore) -> None:
    """The precompiled writes skip SQLAlchemy's value conversion, so compiling one for a column
    whose type converts values (the deadline index's UTC timestamps) is refused."""
    deadlines = store.tables.deadlines
    insert = deadlines.insert().values({c.name: sa.bindparam(c.name) for c in deadlines.columns})
    with pytest.raises(TypeError, match="bind processing"):
        CompiledWrite.compile(insert, store.engine.dialect)


def test_a_load_reads_the_history_only_up_to_the_rows_version(store: SqlStore) -> None:
    """A history row past the row's version (a later save that has appended its entry but whose
    row this read does not see yet) belongs to a later snapshot: load leaves it out."""
    engagement = bologna(store)
    engagement.fire("pause", actor=FACILITATOR, at=LATER, reason="x")
    stored = store.load(engagement.id)
    later = engagement.history[-1]
    h = store.tables.history
    with store.engine.begin() as conn:
        row = (
            conn.execute(
                sa.select(h).where(
                    h.c.engagement_id == engagement.id, h.c.sequence == later.sequence
                )
            )
            .one()
            ._asdict()
        )
        conn.execute(h.insert().values({**row, "sequence": later.sequence + 1}))
    assert store.load(engagement.id) == stored
    assert len(store.history(engagement.id)) == stored.version + 1  # the row is there


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_load_is_one_statement_on_postgresql_and_two_on_sqlite(
    backend: str, tmp_path: Path
) -> None:
    """On PostgreSQL the history comes with the row, in one statement and one round trip."""
    stores = open_store(backend, tmp_path)
    opened = next(stores)
    statements: list[str] = []

    def count(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    try:
        engagement = bologna(opened)
        engagement.fire("pause", actor=FACILITATOR, at=LATER, reason="x")
        sa.event.listen(opened.engine, "before_cursor_execute", count)
        assert opened.load(engagement.id) == engagement.state
        sa.event.remove(opened.engine, "before_cursor_execute", count)
        reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
        assert len(reads) == (1 if opened.dialect == "postgresql" else 2)
    finally:
        next(stores, None)
