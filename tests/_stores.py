"""Shared helpers for the store tests: real SQLite and PostgreSQL stores, and a ROCK engagement."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
import sqlalchemy as sa

from mentorflow import rock2017 as rock
from mentorflow._sqlschema import (
    ATTEMPTS_STEP,
    DEADLINES_STEP,
    OWED_STEP,
    PERSON_INDEX_STEP,
    person_index,
)
from mentorflow.catalog import compiled
from mentorflow.clock import Clock
from mentorflow.engagement import Outcome
from mentorflow.events import Event
from mentorflow.model import VisitWindow
from mentorflow.schedule import deadlines
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement

PG_URL = os.environ.get("MENTORFLOW_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FACILITATOR = rock.rep(rock.FACILITATOR_ID)
CREATED = pendulum.datetime(2017, 6, 1, tz="Europe/Brussels")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def postgres_or_skip() -> None:
    """Skip when no PostgreSQL answers, unless CI is set: there it must run."""
    try:
        engine = sa.create_engine(PG_URL)
        with engine.connect():
            pass
        engine.dispose()
    except Exception as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(
            f"no PostgreSQL at {PG_URL} ({type(error).__name__}); set CI=true to require it"
        )


def store_target(backend: str, tmp_path: Path) -> tuple[str, str | None]:
    """Where a test's store lives: a fresh SQLite file, or a fresh PostgreSQL schema."""
    if backend == "sqlite":
        return str(tmp_path / "store.sqlite3"), None
    postgres_or_skip()
    return PG_URL, f"mf_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def drop_schema(schema: str | None) -> None:
    """Remove a test's PostgreSQL schema."""
    if schema is None:
        return
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


def back_to_step(store: SqlStore, step: int) -> None:
    """Take the store's database back to the schema of migration ``step``, as an older release
    left it: the tables and indexes of later steps dropped, their rows in the migrations table
    deleted."""
    t = store.tables
    added_by: dict[int, tuple[sa.Table | sa.Index, ...]] = {
        DEADLINES_STEP: (t.deadlines, t.reminders, t.reminder_ticks),
        ATTEMPTS_STEP: (t.outbox_attempts,),
        PERSON_INDEX_STEP: (person_index(t),),
        OWED_STEP: (t.owed,),
    }
    with store.engine.begin() as conn:
        for later, added in added_by.items():
            if later > step:
                for table_or_index in added:
                    table_or_index.drop(conn)
        conn.execute(t.migrations.delete().where(t.migrations.c.number > step))


def open_store(backend: str, tmp_path: Path) -> Iterator[SqlStore]:
    """A store on ``backend`` for one test, removed afterwards."""
    target, schema = store_target(backend, tmp_path)
    store = SqlStore.open(target, schema=schema)
    try:
        yield store
    finally:
        store.close()
        drop_schema(schema)


def index_rows(store: SqlStore, engagement_id: str) -> dict[str, tuple[str, bool]]:
    """The engagement's rows in the deadline index: key -> (due instant in UTC, met)."""
    d = store.tables.deadlines
    query = sa.select(d.c.key, d.c.due_utc, d.c.met).where(d.c.engagement_id == engagement_id)
    with store.engine.connect() as conn:
        return {
            r.key: (r.due_utc.in_tz("UTC").isoformat(), r.met) for r in conn.execute(query).all()
        }


def expected_rows(engagement: StoredEngagement) -> dict[str, tuple[str, bool]]:
    """What ``schedule.deadlines`` says the rows should be."""
    return {
        d.key: (d.due.in_tz("UTC").isoformat(), d.met)
        for d in deadlines(engagement.method, engagement.state)
    }


def bologna(
    store: SqlStore,
    engagement_id: str = "rock-mentoring-bologna",
    *,
    at: pendulum.DateTime | None = CREATED,
    clock: Clock | None = None,
) -> StoredEngagement:
    """The ROCK mentoring of Bologna, created in ``store`` at ``at`` (or the clock's time)."""
    plan = rock.programme()[2]
    return StoredEngagement.start(
        compiled(plan.method_id),
        store=store,
        id=engagement_id,
        title=plan.title,
        organisations=plan.organisations,
        participants=plan.participants,
        actor=FACILITATOR,
        at=at,
        clock=clock,
        themes=plan.themes,
        visits=plan.visits,
    )


def start_plan(
    store: SqlStore, plan_index: int, start: pendulum.Date, engagement_id: str
) -> StoredEngagement:
    """ROCK programme()[plan_index] created in ``store``, its visit moved to two days from ``start``."""
    plan = rock.programme()[plan_index]
    window = VisitWindow(start, start.add(days=1), tentative=False)
    return StoredEngagement.start(
        compiled(plan.method_id),
        store=store,
        id=engagement_id,
        title=plan.title,
        organisations=plan.organisations,
        participants=plan.participants,
        actor=FACILITATOR,
        at=CREATED,
        themes=plan.themes,
        visits=(attrs.evolve(plan.visits[0], window=window),),
    )


def leave_begun(store: SqlStore, event_id: str, attempt: int) -> None:
    """PostgreSQL: what a relay process that died in the handler during ``attempt`` leaves
    behind (the count of attempts begun)."""
    a, o = store.tables.outbox_attempts, store.tables.outbox
    position = sa.select(o.c.position).where(o.c.event_id == event_id).scalar_subquery()
    with store.engine.begin() as conn:
        conn.execute(a.insert().values(position=position, begun=attempt, begun_at="then"))


class OverlapWatch:
    """A relay handler for threaded relays: records each event it got, as (engagement, sequence),
    and every event it was handed while another thread was still handling it."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []
        self.overlaps: list[str] = []
        self._in_flight: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, event: Event) -> None:
        with self._lock:
            if event.id in self._in_flight:
                self.overlaps.append(event.id)
            self._in_flight.add(event.id)
        time.sleep(0.002)  # widen the window in which a second relay could grab the event
        with self._lock:
            self._in_flight.discard(event.id)
            self.seen.append((event.engagement_id, event.sequence))


def wait_until_blocked(store: SqlStore, failure: str) -> None:
    """PostgreSQL: until some session of this database waits for a lock; ``failure`` says what
    never waited when none does."""
    waiting = sa.text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE wait_event_type = 'Lock' AND datname = current_database()"
    )
    for _ in range(300):
        with store.engine.connect() as conn:
            if conn.execute(waiting).scalar_one():
                return
        time.sleep(0.01)
    raise AssertionError(failure)


# -- child processes (spawned: they import this module, never share a connection) ---------------


def toggle(engagement: StoredEngagement, at: pendulum.DateTime = CREATED) -> Outcome:
    """Pause a running engagement or resume a paused one: every toggle conflicts with any other."""
    if engagement.phase == "paused":
        return engagement.fire("resume", actor=FACILITATOR, at=at)
    return engagement.fire("pause", actor=FACILITATOR, at=at, reason="toggle")


def toggled_ids(engagement: StoredEngagement, at: pendulum.DateTime = CREATED) -> tuple[str, ...]:
    """``toggle``, returning the ids of the events the action saved."""
    return tuple(event.id for event in toggle(engagement, at).events)


def conflicting_worker(
    target: str, schema: str | None, attempts: int, start: Any, results: Any
) -> None:
    """Wait at the ``start`` barrier, fire ``attempts`` toggles on one engagement; put the count
    of saves, conflicts and anything else on ``results``."""
    from mentorflow.exceptions import ConcurrencyConflict

    store = SqlStore.open(target, schema=schema, create=False)
    StoredEngagement.load(store, "rock-mentoring-bologna")  # imports and connects before the race
    start.wait(timeout=300)  # all workers fire together, so their toggles really conflict
    saved = conflicts = 0
    others: list[str] = []
    for _ in range(attempts):
        try:
            toggle(StoredEngagement.load(store, "rock-mentoring-bologna"))
            saved += 1
        except ConcurrencyConflict:
            conflicts += 1
        except Exception as error:
            others.append(repr(error))
    store.close()
    results.put((saved, conflicts, others))


def firing_forever(target: str, schema: str | None) -> None:
    """Toggle the engagement until killed."""
    from mentorflow.store import retry_action

    store = SqlStore.open(target, schema=schema, create=False)
    while True:
        retry_action(store, "rock-mentoring-bologna", toggle, attempts=50)
