"""The pipelined PostgreSQL save on a real server: stale saves and dead connections."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from _stores import FACILITATOR, PG_URL, bologna, drop_schema, store_target
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

    def open_store(**options: float) -> SqlStore:
        opened.append(SqlStore.open(PG_URL, schema=schema, **options))
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


def test_stale_save_whose_inserts_succeed_is_rolled_back(open_pg: OpenStore) -> None:
    """When the update matched no row but every insert went in, nothing is committed.

    Only reachable when rows were removed by hand: normally a stale save collides on its
    history sequence and its event ids, as in the test above.
    """
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


def test_a_save_on_the_callers_engine_replaces_a_dead_connection_and_writes_once(
    open_pg: OpenStore,
) -> None:
    """On an engine without pre-ping, the pooled connection dies between two saves; the next
    save runs again on a fresh one (COMMIT was never sent on the dead one), writing its rows
    exactly once."""
    opened = open_pg()
    bologna(opened)
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


def test_a_store_opened_by_url_pings_before_use(open_pg: OpenStore) -> None:
    """SqlStore.open pings a pooled connection at checkout: a read right after the server
    dropped it gets a live one instead of an error."""
    store = open_pg()
    bologna(store)
    killed = _backend_pid(store)
    _terminate(killed)
    assert store.load(ID).version == 1
    assert _backend_pid(store) != killed
