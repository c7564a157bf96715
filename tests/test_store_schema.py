"""The store's schema: concurrent first opens, a database newer than the library, create=False."""

from __future__ import annotations

import multiprocessing
import os
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
import sqlalchemy as sa

from _stores import (
    BACKENDS,
    PG_URL,
    back_to_step,
    bologna,
    drop_schema,
    postgres_or_skip,
    store_target,
)
from mentorflow import SchemaMismatch
from mentorflow._sqlite_path import sqlite_file
from mentorflow._sqlschema import (
    ATTEMPTS_STEP,
    DEADLINES_STEP,
    MIGRATIONS,
    OWED_STEP,
    PERSON_INDEX_STEP,
    Tables,
)
from mentorflow.clock import FrozenClock
from mentorflow.outbox import Relay
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus

SPAWN = multiprocessing.get_context("spawn")
LATER = pendulum.datetime(2017, 7, 1, tz="Europe/Brussels")
WORKERS = 6
TRIALS = 3
EVERY_STEP = {step.number: step.name for step in MIGRATIONS}
FUTURE_STEP = max(EVERY_STEP) + 1

#: Where a trial's workers open their stores, all at the same moment.
LAYOUTS = [
    "sqlite file",
    pytest.param("postgresql schema", marks=pytest.mark.postgres),
    pytest.param("postgresql prefix in the default schema", marks=pytest.mark.postgres),
    pytest.param("postgresql schema, a prefix per worker", marks=pytest.mark.postgres),
]


@attrs.frozen
class Fresh:
    """A database no worker has opened yet: a new SQLite file, or new PostgreSQL names."""

    target: str
    schema: str | None
    prefixes: tuple[str, ...]  # the prefix each worker opens

    @classmethod
    def make(cls, layout: str, tmp_path: Path) -> Fresh:
        """New, unique names for ``layout``."""
        unique = uuid.uuid4().hex[:8]
        if layout == "sqlite file":
            return cls(str(tmp_path / f"{unique}.sqlite3"), None, ("mf_",) * WORKERS)
        postgres_or_skip()
        if layout == "postgresql schema":
            return cls(PG_URL, f"mf_test_{unique}", ("mf_",) * WORKERS)
        if layout == "postgresql prefix in the default schema":
            return cls(PG_URL, None, (f"mf_{unique}_",) * WORKERS)
        return cls(PG_URL, f"mf_test_{unique}", tuple(f"mf{i}_" for i in range(WORKERS)))

    def drop(self) -> None:
        """Remove what the workers created on PostgreSQL."""
        if self.target != PG_URL:
            return
        drop_schema(self.schema)
        if self.schema is None:
            engine = sa.create_engine(PG_URL)
            with engine.begin() as conn:
                for prefix in set(self.prefixes):
                    for table in Tables.define(None, prefix).metadata.sorted_tables:
                        conn.execute(sa.text(f'DROP TABLE IF EXISTS "{table.name}" CASCADE'))
            engine.dispose()


def open_fresh(target: str, schema: str | None, prefix: str) -> tuple[tuple[int, ...], str]:
    """Open the store (migrating it), then migrate again; what that applied, or the error."""
    try:
        store = SqlStore.open(target, schema=schema, prefix=prefix)
        try:
            store.ids()  # every table is there to query
            return store.migrate(), ""
        finally:
            store.close()
    except Exception as error:
        return (), repr(error)


_barrier: Any = None


def _keep_barrier(barrier: Any) -> None:
    global _barrier  # the pool hands it to each process once, at start
    _barrier = barrier


def _open_at_the_barrier(target: str, schema: str | None, prefix: str) -> tuple[Any, str]:
    _barrier.wait(timeout=120)
    return open_fresh(target, schema, prefix)


@pytest.fixture(scope="module")
def pool() -> Iterator[Any]:
    """WORKERS spawned processes, started once for this module's tests."""
    barrier = SPAWN.Barrier(WORKERS)
    with SPAWN.Pool(WORKERS, initializer=_keep_barrier, initargs=(barrier,)) as processes:
        yield processes


def in_processes(pool: Any, fresh_databases: Iterator[Fresh]) -> Iterator[list[tuple[Any, str]]]:
    """Each database opened by the pool's WORKERS processes, released at once."""
    for fresh in fresh_databases:
        # A process waiting at the barrier takes no second task: one open per process.
        args = [(fresh.target, fresh.schema, prefix) for prefix in fresh.prefixes]
        yield pool.starmap(_open_at_the_barrier, args, chunksize=1)


def in_threads(
    fresh_databases: Iterator[Fresh], opener: Callable[[str, str | None, str], Any] = open_fresh
) -> Iterator[list[tuple[Any, str]]]:
    """Each database opened by WORKERS threads, released at once."""
    for fresh in fresh_databases:
        yield _threads_at_once(fresh, opener)


def _threads_at_once(
    fresh: Fresh, opener: Callable[[str, str | None, str], Any]
) -> list[tuple[Any, str]]:
    barrier = threading.Barrier(WORKERS)
    results: list[tuple[Any, str]] = [((), "did not run")] * WORKERS

    def run(i: int) -> None:
        barrier.wait(timeout=120)
        results[i] = opener(fresh.target, fresh.schema, fresh.prefixes[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def recorded_steps(fresh: Fresh, prefix: str) -> list[int]:
    """The step numbers in the migrations table of ``prefix``."""
    tables = Tables.define(fresh.schema, prefix)
    target = fresh.target if "://" in fresh.target else f"sqlite:///{fresh.target}"
    engine = sa.create_engine(target)
    try:
        with engine.connect() as conn:
            query = sa.select(tables.migrations.c.number).order_by(tables.migrations.c.number)
            return list(conn.execute(query).scalars())
    finally:
        engine.dispose()


def assert_every_open_migrated_once(
    fresh_databases: list[Fresh], rounds: Iterator[list[tuple[Any, str]]]
) -> None:
    """Every worker opened without error, found nothing left to apply, and each step is there once."""
    for fresh, results in zip(fresh_databases, rounds, strict=True):
        assert [error for _, error in results] == [""] * WORKERS
        assert [tuple(applied) for applied, _ in results] == [()] * WORKERS
        for prefix in set(fresh.prefixes):
            assert recorded_steps(fresh, prefix) == sorted(EVERY_STEP)


@pytest.mark.slow
@pytest.mark.parametrize("layout", LAYOUTS)
def test_processes_opening_a_fresh_database_at_once_all_succeed(
    layout: str, tmp_path: Path, pool: Any
) -> None:
    """6 processes opening a new database at one moment (3 times): no error, each step once."""
    databases = [Fresh.make(layout, tmp_path) for _ in range(TRIALS)]
    try:
        assert_every_open_migrated_once(databases, in_processes(pool, iter(databases)))
    finally:
        for fresh in databases:
            fresh.drop()


@pytest.mark.parametrize("layout", LAYOUTS)
def test_threads_opening_a_fresh_database_at_once_all_succeed(layout: str, tmp_path: Path) -> None:
    """6 threads opening a new database at one moment (3 times): no error, each step once."""
    databases = [Fresh.make(layout, tmp_path) for _ in range(TRIALS)]
    try:
        assert_every_open_migrated_once(databases, in_threads(iter(databases)))
    finally:
        for fresh in databases:
            fresh.drop()


def open_on_own_engine(target: str, schema: str | None, prefix: str) -> tuple[Any, str]:
    """``open_fresh`` on a plain engine of the caller's (REPEATABLE READ on PostgreSQL)."""
    if "://" in target:
        engine = sa.create_engine(target, isolation_level="REPEATABLE READ")
    else:
        engine = sa.create_engine(f"sqlite:///{target}")
    try:
        store = SqlStore(engine, schema=schema, prefix=prefix)
        return store.migrate(), ""
    except Exception as error:
        return (), repr(error)
    finally:
        engine.dispose()


@pytest.mark.parametrize("layout", ["sqlite file", LAYOUTS[1]])
def test_stores_on_own_engines_migrate_a_fresh_database_at_once(
    layout: str, tmp_path: Path
) -> None:
    """SqlStore(engine) on plain engines, 6 threads at once (3 times): no error, each step once."""
    databases = [Fresh.make(layout, tmp_path) for _ in range(TRIALS)]
    try:
        rounds = in_threads(iter(databases), open_on_own_engine)
        assert_every_open_migrated_once(databases, rounds)
    finally:
        for fresh in databases:
            fresh.drop()


# -- a database a newer release migrated ----------------------------------------------------------


def schema_dump(store: SqlStore) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The store's table names and its migrations rows, to see that nothing changed."""
    schema = store.tables.metadata.schema
    with store.engine.connect() as conn:
        names = sorted(sa.inspect(conn).get_table_names(schema=schema))
        rows = [tuple(row) for row in conn.execute(sa.select(store.tables.migrations)).all()]
    return [n for n in names if n.startswith("mf_")], sorted(rows)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_a_newer_release_migrated_is_refused(backend: str, tmp_path: Path) -> None:
    """A step this release does not know: open and migrate raise SchemaMismatch naming it; nothing written."""
    target, schema = store_target(backend, tmp_path)
    store = SqlStore.open(target, schema=schema)
    try:
        bologna(store)
        t = store.tables
        with store.engine.begin() as conn:
            # Step 2 missing as well, so a migrate that went on despite the unknown step shows.
            for table in (t.deadlines, t.reminders, t.reminder_ticks):
                table.drop(conn)
            conn.execute(t.migrations.delete().where(t.migrations.c.number == 2))
            conn.execute(
                t.migrations.insert().values(
                    number=FUTURE_STEP, name="from a newer release", applied_at="2030-01-01"
                )
            )
        before = schema_dump(store)
        for create in (True, False):
            with pytest.raises(SchemaMismatch) as refused:
                SqlStore.open(target, schema=schema, create=create)
            assert refused.value.unknown_steps == {FUTURE_STEP: "from a newer release"}
            message = str(refused.value)
            assert f"{FUTURE_STEP} ('from a newer release')" in message
            assert "older than the database" in message
        with pytest.raises(SchemaMismatch):
            store.migrate()
        assert schema_dump(store) == before
    finally:
        store.close()
        drop_schema(schema)


# -- create=False ---------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", BACKENDS)
def test_create_false_refuses_a_database_without_the_schema(backend: str, tmp_path: Path) -> None:
    """create=False on a new database: SchemaMismatch naming every step; no file or schema made."""
    target, schema = store_target(backend, tmp_path)
    try:
        with pytest.raises(SchemaMismatch) as refused:
            SqlStore.open(target, schema=schema, create=False)
        assert refused.value.missing_steps == EVERY_STEP
        assert refused.value.unknown_steps == {}
        assert "create=True" in str(refused.value)
        if backend == "sqlite":
            assert not Path(target).exists()
        else:
            engine = sa.create_engine(PG_URL)
            with engine.connect() as conn:
                assert not sa.inspect(conn).has_schema(str(schema))
            engine.dispose()
    finally:
        drop_schema(schema)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("step", [1, DEADLINES_STEP, ATTEMPTS_STEP, PERSON_INDEX_STEP])
def test_create_false_refuses_a_database_behind_this_release(
    backend: str, step: int, tmp_path: Path
) -> None:
    """create=False on a database an older release left at ``step`` names every later step; it
    opens once create=True upgraded it."""
    target, schema = store_target(backend, tmp_path)
    store = SqlStore.open(target, schema=schema)
    try:
        back_to_step(store, step)
        later = {number: name for number, name in EVERY_STEP.items() if number > step}
        with pytest.raises(SchemaMismatch) as refused:
            SqlStore.open(target, schema=schema, create=False)
        assert refused.value.missing_steps == later
        for number, name in later.items():
            assert f"{number} ({name!r})" in str(refused.value)
        SqlStore.open(target, schema=schema).close()
        SqlStore.open(target, schema=schema, create=False).close()
    finally:
        store.close()
        drop_schema(schema)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_at_the_deadlines_step_upgrades_to_count_relay_attempts(
    backend: str, tmp_path: Path
) -> None:
    """A database with events at step 2 (before the relays' count of attempts begun): the
    upgrade applies the later steps alone (3; 4 indexes participants, 5 who owes what) and keeps every
    row, and a relay then delivers what was pending, leaving no attempt behind."""
    target, schema = store_target(backend, tmp_path)
    store = SqlStore.open(target, schema=schema)
    try:
        bologna(store, "delivered-before")
        Relay(store, lambda event: None, clock=FrozenClock(LATER)).run_once()
        bologna(store, "pending-before")
        back_to_step(store, DEADLINES_STEP)
        before = outbox_rows(store)  # read raw: the store's own listing needs step 3
        with pytest.raises(SchemaMismatch) as refused:
            SqlStore.open(target, schema=schema, create=False)
        later = (ATTEMPTS_STEP, PERSON_INDEX_STEP, OWED_STEP)
        assert refused.value.missing_steps == {step: EVERY_STEP[step] for step in later}
        assert store.migrate() == later
        assert recorded_numbers(store) == sorted(EVERY_STEP)
        assert outbox_rows(store) == before
        pending = [row.event_id for row in before if row.status == OutboxStatus.PENDING]
        assert len(pending) == 1
        upgraded = SqlStore.open(target, schema=schema, create=False)
        seen: list[str] = []
        relay = Relay(upgraded, lambda event: seen.append(event.id), clock=FrozenClock(LATER))
        assert relay.run_once().delivered == tuple(seen) == tuple(pending)
        upgraded.close()
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(store.tables.outbox_attempts)).all() == []
    finally:
        store.close()
        drop_schema(schema)


def schema_description(store: SqlStore) -> dict[str, Any]:
    """Everything the store's tables are made of (columns, keys, indexes, constraints) and the
    steps recorded, with the names every database of this prefix shares."""
    schema = store.tables.metadata.schema
    with store.engine.connect() as conn:
        inspector = sa.inspect(conn)
        tables = {
            name: (
                [
                    (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                    for c in inspector.get_columns(name, schema=schema)
                ],
                inspector.get_pk_constraint(name, schema=schema)["constrained_columns"],
                sorted(
                    (i["name"], tuple(i["column_names"]), i["unique"])
                    for i in inspector.get_indexes(name, schema=schema)
                ),
                sorted(
                    (u["name"] or "", tuple(u["column_names"]))
                    for u in inspector.get_unique_constraints(name, schema=schema)
                ),
                inspector.get_foreign_keys(name, schema=schema),
            )
            for name in inspector.get_table_names(schema=schema)
            if name.startswith("mf_")
        }
    m = store.tables.migrations
    with store.engine.connect() as conn:
        steps = conn.execute(sa.select(m.c.number, m.c.name).order_by(m.c.number)).all()
    return {"tables": tables, "steps": [tuple(step) for step in steps]}


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("step", [1, DEADLINES_STEP, ATTEMPTS_STEP, PERSON_INDEX_STEP])
def test_an_upgraded_database_has_the_schema_of_a_new_one(
    backend: str, step: int, tmp_path: Path
) -> None:
    """A database an older release left at ``step``, once upgraded, has exactly the tables,
    columns, keys and indexes (step 4's mf_participants_by_person included) of one this
    release created."""
    target, schema = store_target(backend, tmp_path)
    store = SqlStore.open(target, schema=schema)
    try:
        new = schema_description(store)
        indexes = new["tables"]["mf_participants"][2]
        by_person = ("mf_participants_by_person", ("participant_id", "engagement_id"))
        assert by_person in [(name, columns) for name, columns, _ in indexes]
        back_to_step(store, step)
        assert schema_description(store) != new
        store.migrate()
        assert schema_description(store) == new
    finally:
        store.close()
        drop_schema(schema)


def outbox_rows(store: SqlStore) -> list[Any]:
    """Every outbox row as stored, in commit order."""
    o = store.tables.outbox
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(o).order_by(o.c.position)).all())


def recorded_numbers(store: SqlStore) -> list[int]:
    """The step numbers the store's migrations table holds, in order."""
    m = store.tables.migrations
    with store.engine.connect() as conn:
        return list(conn.execute(sa.select(m.c.number).order_by(m.c.number)).scalars())


def test_create_false_refuses_a_missing_file_named_by_a_file_uri(tmp_path: Path) -> None:
    """create=False with a percent-encoded ``file:`` URI (uri=true) to a missing file: refused as
    a plain path is, and the file is not created (before, a URI skipped the check)."""
    path = tmp_path / "new store.sqlite3"
    url = f"sqlite:///file:{path.as_posix().replace(' ', '%20')}?uri=true"
    with pytest.raises(SchemaMismatch) as refused:
        SqlStore.open(url, create=False)
    assert refused.value.missing_steps == EVERY_STEP
    assert not path.exists()
    SqlStore.open(url).close()  # the same URL, allowed to create, makes that very file
    assert path.exists()
    SqlStore.open(url, create=False).close()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///file:shared?mode=memory&cache=shared&uri=true", None),
        ("sqlite:///file:mem1?mode=memory&uri=true", None),
        ("sqlite:///store.sqlite3", "store.sqlite3"),
        ("sqlite:///a%20b/store.sqlite3", "a b/store.sqlite3"),  # SQLAlchemy decodes the URL
        ("sqlite:///file:a%2520b/store.sqlite3?uri=true", "a b/store.sqlite3"),  # then SQLite
        ("sqlite:///file:store.sqlite3?mode=ro&uri=true", "store.sqlite3"),
        ("sqlite:///file:memory-notes.sqlite3?uri=true", "memory-notes.sqlite3"),
    ],
)
def test_one_answer_to_where_a_sqlite_database_lives(url: str, expected: str | None) -> None:
    """WAL switch, create=False and the relay lock share one reading of a SQLite URL: in memory
    (None) or the resolved path of its file, a file: URI percent-decoded."""
    found = sqlite_file(sa.make_url(url))
    assert found == (None if expected is None else os.path.realpath(expected))
