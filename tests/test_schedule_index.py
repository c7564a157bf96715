"""The SQL deadline index: sync replaces an engagement's rows; due_before reads the index."""

from __future__ import annotations

import os

import pendulum
import pytest
import sqlalchemy as sa

from mentorflow import deadline_index, engine
from mentorflow import rock2017 as rock
from mentorflow.schedule import deadlines
from timekit import CREATED, moved, started

METADATA = sa.MetaData()
TABLE = deadline_index.define_table(METADATA)


@pytest.fixture
def sqlite() -> sa.Engine:
    db = sa.create_engine("sqlite://")
    METADATA.create_all(db)
    return db


def _sync_all(connection: sa.Connection) -> None:
    for i in range(6):
        method, state = started(i)
        deadline_index.sync(connection, TABLE, state, deadlines(method, state))


def test_due_before_lists_open_deadlines_in_order(sqlite: sa.Engine) -> None:
    """R-PREP-3: open deadlines before an instant come back earliest first, in the host's zone."""
    with sqlite.begin() as connection:
        _sync_all(connection)
    with sqlite.connect() as connection:
        found = deadline_index.due_before(
            connection, TABLE, pendulum.datetime(2017, 11, 1, tz="UTC"), 10
        )
    assert [d.key for d in found[:3]] == ["learning_objectives"] * 3
    assert found[0].due == pendulum.datetime(2017, 9, 6, tz="Europe/Rome")
    assert found[0].due.timezone_name == "Europe/Rome"
    assert [d.due for d in found] == sorted(d.due for d in found)
    assert all(d.due < pendulum.datetime(2017, 11, 1, tz="UTC") for d in found)


def test_sync_replaces_rows_when_deadlines_move_or_are_met(sqlite: sa.Engine) -> None:
    """R-PREP-4: moving the visit moves the rows; a met deadline leaves the due list."""
    method, state = started(0)
    cutoff = pendulum.datetime(2017, 11, 10, tz="UTC")
    with sqlite.begin() as connection:
        deadline_index.sync(connection, TABLE, state, deadlines(method, state))
        assert "travel_guide" in {
            d.key for d in deadline_index.due_before(connection, TABLE, cutoff)
        }
        later = moved(method, state, pendulum.date(2017, 12, 4), CREATED.add(days=1))
        deadline_index.sync(connection, TABLE, later, deadlines(method, later))
        assert "travel_guide" not in {
            d.key for d in deadline_index.due_before(connection, TABLE, cutoff)
        }
        submitted = engine.submit(
            method, later, rock.travel_guide("turin"), actor="turin-1", at=CREATED.add(days=2)
        )
        deadline_index.sync(connection, TABLE, submitted.state, deadlines(method, submitted.state))
        far = pendulum.datetime(2018, 1, 1, tz="UTC")
        assert "travel_guide" not in {
            d.key for d in deadline_index.due_before(connection, TABLE, far)
        }
        count = connection.execute(sa.select(sa.func.count()).select_from(TABLE)).scalar()
        assert count == len(deadlines(method, submitted.state))


def test_sync_rolls_back_with_the_transaction(sqlite: sa.Engine) -> None:
    """A failed save transaction leaves the previous rows in place (nothing half-applied)."""
    method, state = started(0)
    with sqlite.begin() as connection:
        deadline_index.sync(connection, TABLE, state, deadlines(method, state))

    def failing_save() -> None:
        with sqlite.begin() as connection:
            deadline_index.sync(connection, TABLE, state, ())
            raise RuntimeError("the snapshot save failed")

    with pytest.raises(RuntimeError):
        failing_save()
    with sqlite.connect() as connection:
        assert len(
            deadline_index.due_before(connection, TABLE, pendulum.datetime(2019, 1, 1, tz="UTC"))
        ) == len(deadlines(method, state))


def test_due_before_uses_the_index_not_a_scan(sqlite: sa.Engine) -> None:
    """The due query is an index range search with no table scan and no sort step (SQLite plan)."""
    with sqlite.connect() as connection:
        plan = deadline_index.query_plan(
            connection, TABLE, pendulum.datetime(2017, 11, 1, tz="UTC"), 100
        )
    text = " ".join(plan)
    assert (
        "USING INDEX ix_deadlines_met_due" in text
        or "USING COVERING INDEX ix_deadlines_met_due" in text
    )
    assert "SCAN deadlines" not in text
    assert "TEMP B-TREE" not in text


def test_naive_instants_are_refused(sqlite: sa.Engine) -> None:
    """A naive datetime has no zone to trust; the index refuses it instead of guessing."""
    import datetime as dt

    with sqlite.connect() as connection, pytest.raises(sa.exc.StatementError):
        deadline_index.due_before(connection, TABLE, dt.datetime(2017, 11, 1), 10)


@pytest.mark.postgres
def test_index_works_on_postgresql() -> None:
    """The same rows and query run on PostgreSQL (timestamps stored as naive UTC)."""
    psycopg = pytest.importorskip("psycopg")
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    db = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        db.connect().close()
    except (sa.exc.OperationalError, psycopg.OperationalError):
        if os.environ.get("CI") == "true":
            raise
        pytest.skip("PostgreSQL is not running")
    meta = sa.MetaData()
    table = deadline_index.define_table(meta, "deadlines_time_test")
    meta.drop_all(db)
    meta.create_all(db)
    try:
        method, state = started(0)
        with db.begin() as connection:
            connection.execute(
                sa.insert(table), deadline_index.rows(state, deadlines(method, state))
            )
            got = connection.execute(
                sa.select(table.c.key, table.c.due_utc)
                .where(table.c.met.is_(False))
                .order_by(table.c.due_utc)
            ).all()
        assert got[0].key == "learning_objectives"
        assert got[0].due_utc == pendulum.datetime(2017, 9, 6, tz="Europe/Rome")
    finally:
        meta.drop_all(db)
        db.dispose()
