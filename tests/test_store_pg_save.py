"""The one-statement PostgreSQL save on a real server: stale saves, broken connections, and
connections handed back to the pool as they were taken."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from _stores import FACILITATOR, PG_URL, bologna, drop_schema, postgres_or_skip, store_target
from _tcp_proxy import CuttingProxy, Moment
from mentorflow._sqlwrite import OUTBOX_COLUMNS, GuardedWrite
from mentorflow.exceptions import ConcurrencyConflict
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement

pytestmark = pytest.mark.postgres

ID = "rock-mentoring-bologna"
OpenStore = Callable[..., SqlStore]


@pytest.fixture
def open_pg(tmp_path: Path) -> Iterator[OpenStore]:
    """Opens PostgreSQL stores on one fresh schema; closes them and drops it afterwards."""
    _, schema = store_target("postgresql", tmp_path)
    opened: list[SqlStore] = []

    def open_store(url: str = PG_URL, **options: float) -> SqlStore:
        opened.append(SqlStore.open(url, schema=schema, **options))
        return opened[-1]

    yield open_store
    for store in opened:
        store.close()
    drop_schema(schema)


def _counts(store: SqlStore) -> tuple[int, int]:
    t = store.tables
    with store.reading() as conn:
        return (
            conn.execute(sa.select(sa.func.count()).select_from(t.history)).scalar_one(),
            conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one(),
        )


def _backend_pid(store: SqlStore) -> int:
    with store.engine.connect() as conn:
        return int(conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def _terminate(pid: int) -> None:
    """Kill one server backend from another connection and wait until it is gone."""
    engine = sa.create_engine(PG_URL)
    with engine.connect() as conn:
        conn.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        for _ in range(200):
            gone = not conn.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
            ).scalar_one()
            conn.rollback()  # a fresh snapshot of pg_stat_activity next time
            if gone:
                break
            time.sleep(0.01)
    engine.dispose()


def _pause(engagement: StoredEngagement) -> None:
    engagement.fire("pause", actor=FACILITATOR, at=engagement.state.history[-1].at, reason="x")


def test_stale_save_whose_history_sequence_is_taken_conflicts(open_pg: OpenStore) -> None:
    """A stale save fails on the history row another worker wrote: ConcurrencyConflict, nothing written."""
    store = open_pg()
    bologna(store)
    first, second = StoredEngagement.load(store, ID), StoredEngagement.load(store, ID)
    _pause(first)
    before = _counts(store)
    with pytest.raises(ConcurrencyConflict) as caught:
        _pause(second)
    assert (caught.value.expected_version, caught.value.found_version) == (1, 2)
    assert _counts(store) == before
    assert store.load(ID) == first.state


def test_stale_save_whose_rows_are_free_writes_none_of_them(open_pg: OpenStore) -> None:
    """When the update matches no row, the history and outbox inserts take no rows either, even
    where their keys are free (only reachable when rows were removed by hand)."""
    store = open_pg()
    bologna(store)
    first, second = StoredEngagement.load(store, ID), StoredEngagement.load(store, ID)
    _pause(first)
    h, o = store.tables.history, store.tables.outbox
    with store.engine.begin() as conn:
        conn.execute(h.delete().where(h.c.engagement_id == ID, h.c.sequence == 2))
        conn.execute(o.delete().where(o.c.event_id.in_(first.history[-1].event_ids)))
    before = _counts(store)
    with pytest.raises(ConcurrencyConflict) as caught:
        _pause(second)
    assert (caught.value.expected_version, caught.value.found_version) == (1, 2)
    assert _counts(store) == before


def test_a_failed_insert_that_is_no_conflict_is_sqlalchemys_error(open_pg: OpenStore) -> None:
    """A history row already there at an up-to-date version fails with SQLAlchemy's
    IntegrityError (not a bare psycopg error) and the engagement row is left as it was."""
    store = open_pg()
    engagement = bologna(store)
    h = store.tables.history
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(h).where(h.c.engagement_id == ID)).one()._asdict()
        conn.execute(h.insert().values({**row, "sequence": 2}))
    before = _counts(store)
    with pytest.raises(sa.exc.IntegrityError):
        _pause(engagement)
    assert _counts(store) == before
    with store.reading() as conn:
        assert store.load_on(conn, ID).version == 1


@pytest.mark.parametrize("engine_kind", ["the caller's, without pre-ping", "SqlStore.open's"])
def test_a_save_replaces_a_connection_killed_between_saves_and_writes_once(
    open_pg: OpenStore, engine_kind: str
) -> None:
    """The pooled connection dies between two saves. A save does not ping first: its statement
    fails on the dead connection, the save reads that nothing was written and runs again on a
    fresh one, writing its rows exactly once."""
    opened = open_pg()
    bologna(opened)
    if engine_kind == "SqlStore.open's":
        store = open_pg()
    else:
        store = SqlStore(sa.create_engine(PG_URL), schema=opened.tables.engagements.schema)
    engagement = StoredEngagement.load(store, ID)
    killed = _backend_pid(store)
    history, outbox = _counts(store)
    _terminate(killed)
    _pause(engagement)
    events = len(engagement.history[-1].event_ids)
    assert _counts(store) == (history + 1, outbox + events)
    assert store.load(ID) == engagement.state
    assert _backend_pid(store) != killed
    store.close()


def test_a_read_on_a_connection_the_server_dropped_runs_again(open_pg: OpenStore) -> None:
    """A read right after the server dropped its pooled connection gets its answer, not an
    error: the store's reads run again on a fresh connection, and a block of the host's in
    ``store.reading()`` gets a connection pinged at checkout."""
    store = open_pg()
    bologna(store)
    for read in (
        lambda: store.load(ID).version,
        lambda: len(store.history(ID)),
        lambda: len(store.ids()),
        lambda: len(store.outbox(ID)),
        lambda: len(store.due_before(pendulum.datetime(2030, 1, 1, tz="UTC"))),
    ):
        expected = read()
        killed = _backend_pid(store)
        _terminate(killed)
        assert read() == expected
        assert _backend_pid(store) != killed
    killed = _backend_pid(store)
    _terminate(killed)
    with store.reading() as conn:
        assert store.load_on(conn, ID).version == 1


def test_the_stores_reads_do_not_ping_first(open_pg: OpenStore) -> None:
    """One round trip fewer per read: ``load``, ``history``, ``ids``, ``outbox`` and
    ``due_before`` take a pooled connection without pinging it (a broken one makes the read run
    again, above), while the host's own ``store.reading()`` blocks keep the checkout ping."""
    store = open_pg()
    bologna(store)
    pings: list[object] = []
    ping = store.engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return ping(dbapi_connection)

    store.engine.dialect.do_ping = counted  # type: ignore[method-assign]  # counts, then pings
    store.load(ID)
    store.history(ID)
    store.ids()
    store.outbox(ID)
    store.due_before(pendulum.datetime(2030, 1, 1, tz="UTC"))
    assert pings == []
    with store.reading() as conn:
        store.load_on(conn, ID)
    assert len(pings) == 1


def test_a_read_whose_connection_is_cut_mid_statement_runs_again(
    open_pg: OpenStore, proxy: CuttingProxy
) -> None:
    """The network cuts a read's connection after the server answered: the read runs again on
    a new connection and returns the stored engagement."""
    direct = open_pg()
    bologna(direct, "cut-this-read")
    store = open_pg(_through(proxy))
    assert store.load("cut-this-read").version == 1  # the pool holds a connection now
    proxy.arm(b"cut-this-read", "before the answer comes back")
    assert store.load("cut-this-read") == direct.load("cut-this-read")
    assert proxy.cut.is_set()


@pytest.fixture
def proxy() -> Iterator[CuttingProxy]:
    """A cutting TCP proxy in front of the test server."""
    postgres_or_skip()
    url = sa.make_url(PG_URL)
    cutter = CuttingProxy((url.host or "127.0.0.1", url.port or 5432))
    yield cutter
    cutter.close()


def _through(proxy: CuttingProxy) -> str:
    url = sa.make_url(PG_URL).set(host="127.0.0.1", port=proxy.port)
    return url.render_as_string(hide_password=False)


MARKER = "cut-this-save"


@pytest.mark.parametrize("moment", ["before it reaches the server", "before the answer comes back"])
def test_a_save_whose_connection_is_cut_finishes_and_writes_once(
    open_pg: OpenStore, proxy: CuttingProxy, moment: Moment
) -> None:
    """The network cuts a save's connection before its statement reaches the server, or after
    the server committed it but before the answer came back. The save reads which it was,
    runs again only in the first case, and its rows are there exactly once."""
    direct = open_pg()
    bologna(direct)
    store = open_pg(_through(proxy))
    engagement = StoredEngagement.load(store, ID)
    proxy.arm(MARKER.encode(), moment)
    engagement.fire("pause", actor=FACILITATOR, at=engagement.history[-1].at, reason=MARKER)
    assert proxy.cut.is_set()
    assert engagement.version == 2
    assert direct.load(ID) == engagement.state
    assert direct.history(ID) == engagement.history
    stored = [entry.event_id for entry in direct.outbox(ID)]
    assert stored == [i for h in engagement.history for i in h.event_ids]


def test_a_save_cut_before_it_arrives_while_another_worker_saves_conflicts(
    open_pg: OpenStore, proxy: CuttingProxy
) -> None:
    """Another worker saves while this save's connection is being cut: the save reads that the
    version is taken by rows that are not its own and raises ConcurrencyConflict."""
    direct = open_pg()
    bologna(direct)
    other = StoredEngagement.load(direct, ID)
    store = open_pg(_through(proxy))
    engagement = StoredEngagement.load(store, ID)
    proxy.arm(MARKER.encode(), "before it reaches the server", on_cut=lambda: _pause(other))
    with pytest.raises(ConcurrencyConflict) as caught:
        engagement.fire("pause", actor=FACILITATOR, at=engagement.history[-1].at, reason=MARKER)
    assert (caught.value.expected_version, caught.value.found_version) == (1, 2)
    assert engagement.version == 1
    assert direct.load(ID) == other.state


def test_a_save_cut_before_it_arrives_while_the_engagement_is_deleted_says_so(
    open_pg: OpenStore, proxy: CuttingProxy
) -> None:
    """The engagement is deleted while this save's connection is being cut: the save reads that
    its version is gone and raises ConcurrencyConflict saying the engagement was deleted."""
    direct = open_pg()
    bologna(direct)
    store = open_pg(_through(proxy))
    engagement = StoredEngagement.load(store, ID)

    def deleting() -> None:
        direct.delete(ID, expected_version=1, actor="admin")

    proxy.arm(MARKER.encode(), "before it reaches the server", on_cut=deleting)
    with pytest.raises(ConcurrencyConflict) as caught:
        engagement.fire("pause", actor=FACILITATOR, at=engagement.history[-1].at, reason=MARKER)
    assert caught.value.deleted
    assert (caught.value.expected_version, caught.value.found_version) == (1, 2)
    assert direct.history(ID) == ()
    assert engagement.version == 1


def _autocommit_in_pool(store: SqlStore) -> list[bool]:
    """The autocommit setting of every connection the pool holds, checked out all at once."""
    taken = [store.engine.raw_connection() for _ in range(store.engine.pool.checkedin())]  # type: ignore[attr-defined]
    try:
        return [bool(c.driver_connection.autocommit) for c in taken]
    finally:
        for connection in taken:
            connection.close()


def test_connections_go_back_to_the_pool_in_transaction_mode(open_pg: OpenStore) -> None:
    """The one-statement save runs in autocommit; after a save, a conflict and a failed insert
    every pooled connection is back in transaction mode, so other writes stay atomic."""
    store = open_pg()
    engagement = bologna(store)
    stale = StoredEngagement.load(store, ID)
    _pause(engagement)
    assert not any(_autocommit_in_pool(store))
    with pytest.raises(ConcurrencyConflict):
        _pause(stale)
    h = store.tables.history
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(h).where(h.c.engagement_id == ID)).first()
        assert row is not None
        conn.execute(h.insert().values({**row._asdict(), "sequence": 3}))
    with pytest.raises(sa.exc.IntegrityError):
        engagement.fire("resume", actor=FACILITATOR, at=engagement.history[-1].at)
    flags = _autocommit_in_pool(store)
    assert flags
    assert not any(flags)


def test_a_save_keeps_the_autocommit_setting_of_the_callers_engine(open_pg: OpenStore) -> None:
    """The save puts back the connection's own setting, not a fixed one: on a caller's engine
    in AUTOCOMMIT mode the pooled connections stay in autocommit after a save."""
    opened = open_pg()
    bologna(opened)
    engine = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    store = SqlStore(engine, schema=opened.tables.engagements.schema)
    _pause(StoredEngagement.load(store, ID))
    flags = _autocommit_in_pool(store)
    store.close()
    assert flags
    assert all(flags)


# No NUL (PostgreSQL text refuses it) and no lone surrogates (not encodable as UTF-8).
_TEXT = st.text(
    st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40
)


def test_the_one_statement_save_writes_any_number_of_rows_as_given(open_pg: OpenStore) -> None:
    """For any number of history and outbox rows and any text in them, the one statement writes
    exactly the rows given with the engagement row, or, when stale, nothing at all."""
    store = open_pg()
    bologna(store)

    @settings(max_examples=25, deadline=None)
    @given(
        history=st.lists(_TEXT, min_size=1, max_size=3),
        events=st.lists(_TEXT, max_size=4),
        stale=st.booleans(),
    )
    def check(history: list[str], events: list[str], stale: bool) -> None:
        before = _rows(store)
        version = before[0][ID][0]
        row = {
            "version": version + len(history),
            "phase": "paused",
            "method_version": 1,
            "snapshot": f"snapshot {version}",
            "next_deadline": None,
            "updated_at": "t",
        }
        history_rows = [
            {
                "engagement_id": ID,
                "sequence": version + 1 + i,
                "at": "t",
                "actor": text,
                "action": "a",
                "subject": text,
                "to_phase": "p",
                "entry": f"{version} {i} {text}",
            }
            for i, text in enumerate(history)
        ]
        outbox_rows = [
            {
                "event_id": f"{ID}#{version}/{i}",
                "engagement_id": ID,
                "sequence": version + 1,
                "event_type": "E",
                "payload": text,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": "",
            }
            for i, text in enumerate(events)
        ]
        expected = version - 1 if stale else version
        write = GuardedWrite(store._writes, ID, expected, row, history_rows, outbox_rows)
        if stale:
            with pytest.raises(ConcurrencyConflict):
                write.commit(store.engine)
            assert _rows(store) == before
            return
        write.commit(store.engine)
        versions, written_history, written_outbox = _rows(store)
        assert versions[ID] == (row["version"], row["snapshot"])
        assert written_history[len(before[1]) :] == [tuple(r.values()) for r in history_rows]
        assert written_outbox[len(before[2]) :] == [tuple(r.values()) for r in outbox_rows]

    check()


def _rows(
    store: SqlStore,
) -> tuple[dict[str, tuple[int, str]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Engagement versions and snapshots by id, every history row, every outbox row written."""
    t = store.tables
    h, o = t.history, t.outbox
    written = [o.c[name] for name in OUTBOX_COLUMNS]
    with store.reading() as conn:
        versions = {r.id: (r.version, r.snapshot) for r in conn.execute(sa.select(t.engagements))}
        history = [tuple(r) for r in conn.execute(sa.select(h).order_by(h.c.sequence))]
        outbox = [tuple(r) for r in conn.execute(sa.select(*written).order_by(o.c.position))]
    return versions, history, outbox


@pytest.mark.postgres
def test_reads_leave_no_transaction_open(tmp_path: Path) -> None:
    """PostgreSQL: a read runs its statements in autocommit, so between them its session is
    idle, not "idle in transaction" holding a snapshot (and there is no BEGIN and ROLLBACK
    round trip around each read)."""
    target, schema = store_target("postgresql", tmp_path)
    store = SqlStore.open(target, schema=schema)
    try:
        bologna(store, "read")
        with store.reading() as conn:
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
            assert store.load_on(conn, "read").id == "read"
            with store.engine.connect() as watcher:
                state = watcher.execute(
                    sa.text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}
                ).scalar_one()
        assert state == "idle"
    finally:
        store.close()
        drop_schema(schema)
