"""Shared helpers for the store tests: real SQLite and PostgreSQL stores, and a ROCK engagement."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
import sqlalchemy as sa

from mentorflow import rock2017 as rock
from mentorflow.catalog import compiled
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
        pytest.skip(f"no PostgreSQL at {PG_URL} ({type(error).__name__}); set CI=true to require it")


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


def open_store(backend: str, tmp_path: Path) -> Iterator[SqlStore]:
    """A store on ``backend`` for one test, removed afterwards."""
    target, schema = store_target(backend, tmp_path)
    store = SqlStore.open(target, schema=schema)
    try:
        yield store
    finally:
        store.close()
        drop_schema(schema)


def bologna(store: SqlStore, engagement_id: str = "rock-mentoring-bologna") -> StoredEngagement:
    """The ROCK mentoring of Bologna, created in ``store``."""
    plan = rock.programme()[2]
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
        visits=plan.visits,
    )
