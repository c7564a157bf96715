"""An effects database for the relay tests: every delivery logged, each event's effect applied once.

The handler is what the outbox docs ask of a host: idempotent, keyed on ``event.id``. Its effect
is a counter (``tally.applied``) that would over-count if a redelivered event were applied again,
so the tests can tell "applied once" from "delivered once". ``deliveries`` has no unique key: it
keeps every hand-over, so redeliveries after a crash are visible.
"""

from __future__ import annotations

import os
import signal
from typing import Any

import sqlalchemy as sa

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS deliveries"
    " (seq INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT NOT NULL, pid INTEGER NOT NULL)",
    "CREATE TABLE IF NOT EXISTS effects (event_id TEXT PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS tally (one INTEGER PRIMARY KEY CHECK (one = 1), applied INTEGER)",
    "INSERT INTO tally VALUES (1, 0) ON CONFLICT (one) DO NOTHING",
    "CREATE TABLE IF NOT EXISTS crashes (event_id TEXT NOT NULL, pid INTEGER NOT NULL)",
)


def _engine(path: str) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": 30})


def effects_handler(path: str, *, crash_at: int | None = None) -> Any:
    """The idempotent handler. With ``crash_at`` = n, the process SIGKILLs itself right after its
    n-th delivery is logged and applied: after the handler ran, before the relay's commit."""
    engine = _engine(path)
    with engine.begin() as conn:
        for statement in _SCHEMA:
            conn.exec_driver_sql(statement)
    pid = os.getpid()
    handed = 0

    def handle(event: Any) -> None:
        nonlocal handed
        handed += 1
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO deliveries (event_id, pid) VALUES (?, ?)", (event.id, pid)
            )
            fresh = conn.exec_driver_sql(
                "INSERT INTO effects VALUES (?) ON CONFLICT (event_id) DO NOTHING", (event.id,)
            ).rowcount
            if fresh:
                conn.exec_driver_sql("UPDATE tally SET applied = applied + 1")
            if handed == crash_at:
                conn.exec_driver_sql("INSERT INTO crashes VALUES (?, ?)", (event.id, pid))
        if handed == crash_at:
            os.kill(pid, signal.SIGKILL)

    return handle


def relaying_forever(
    target: str, schema: str | None, effects_path: str, crash_at: int | None = None
) -> None:
    """Run a relay with the idempotent handler until killed (or until it kills itself)."""
    from mentorflow.outbox import Relay
    from mentorflow.sqlstore import SqlStore

    store = SqlStore.open(target, schema=schema, create=False)
    handler = effects_handler(effects_path, crash_at=crash_at)
    Relay(store, handler, batch_size=5).run(idle_seconds=0.01)


def _rows(path: str, query: str, *params: object) -> list[Any]:
    engine = _engine(path)
    try:
        with engine.connect() as conn:
            return list(conn.exec_driver_sql(query, params).all())
    except sa.exc.OperationalError:
        return []  # no handler has created the tables yet
    finally:
        engine.dispose()


def deliveries_by(path: str, pid: int) -> int:
    """How many deliveries the relay process ``pid`` logged."""
    rows = _rows(path, "SELECT count(*) FROM deliveries WHERE pid = ?", pid)
    return int(rows[0][0]) if rows else 0


def delivery_counts(path: str) -> dict[str, int]:
    """How many times each event was handed to a handler."""
    query = "SELECT event_id, count(*) FROM deliveries GROUP BY event_id"
    return dict(_rows(path, query))


def applied(path: str) -> tuple[set[str], int]:
    """The events whose effect was applied, and how many times an effect was applied in all."""
    ids = {row[0] for row in _rows(path, "SELECT event_id FROM effects")}
    return ids, int(_rows(path, "SELECT applied FROM tally")[0][0])


def crashed_on(path: str) -> list[str]:
    """The events during whose delivery a relay killed itself."""
    return [row[0] for row in _rows(path, "SELECT event_id FROM crashes")]
