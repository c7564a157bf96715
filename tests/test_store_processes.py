"""Many processes on one store: no lost update under contention; nothing lost when killed."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from _stores import (
    BACKENDS,
    bologna,
    conflicting_worker,
    drop_schema,
    effects_handler,
    firing_forever,
    relaying_forever,
    store_target,
)
from mentorflow.outbox import Relay
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus

pytestmark = pytest.mark.slow
SPAWN = multiprocessing.get_context("spawn")
WORKERS = 8
ATTEMPTS = 250


@pytest.mark.parametrize("backend", BACKENDS)
def test_eight_processes_lose_no_update(backend: str, tmp_path: Path) -> None:
    """8 processes x 250 conflicting toggles: version == successful saves + 1, losers got conflicts."""
    target, schema = store_target(backend, tmp_path)
    store = SqlStore.open(target, schema=schema)
    try:
        bologna(store)
        with SPAWN.Pool(WORKERS) as pool:
            results = pool.starmap(conflicting_worker, [(target, schema, ATTEMPTS)] * WORKERS)
        saved = sum(r[0] for r in results)
        conflicts = sum(r[1] for r in results)
        assert [o for r in results for o in r[2]] == []
        assert saved + conflicts == WORKERS * ATTEMPTS
        state = store.load("rock-mentoring-bologna")
        assert state.version == saved + 1
        assert len(store.history(state.id)) == state.version
        assert len(store.outbox(state.id)) == state.event_count
    finally:
        store.close()
        drop_schema(schema)


def _kill_after(process: multiprocessing.process.BaseProcess, seconds: float) -> None:
    time.sleep(seconds)
    if process.pid is not None and process.is_alive():
        os.kill(process.pid, signal.SIGKILL)
    process.join()


def _kill_once_saving(
    writer: multiprocessing.process.BaseProcess, store: SqlStore, seconds: float
) -> None:
    # A spawned process needs a while to import on a loaded machine: wait until it has saved
    # at least once, then kill it mid-stream, so every round really interrupts a writer.
    before = store.load("rock-mentoring-bologna").version
    deadline = time.monotonic() + 120
    while store.load("rock-mentoring-bologna").version == before and writer.is_alive():
        if time.monotonic() > deadline:
            break
        time.sleep(0.05)
    _kill_after(writer, seconds)


@pytest.mark.parametrize("backend", BACKENDS)
def test_killed_writers_and_relays_lose_nothing(backend: str, tmp_path: Path) -> None:
    """SIGKILL during fire/commit and during delivery: every event applied once; all tables agree."""
    rng = random.Random(3)
    target, schema = store_target(backend, tmp_path)
    effects = str(tmp_path / "effects.sqlite3")
    store = SqlStore.open(target, schema=schema)
    try:
        bologna(store)
        for _ in range(4):
            writer = SPAWN.Process(target=firing_forever, args=(target, schema))
            relay = SPAWN.Process(target=relaying_forever, args=(target, schema, effects))
            writer.start()
            relay.start()
            _kill_once_saving(writer, store, rng.uniform(0.0, 1.0))
            _kill_after(relay, rng.uniform(0.0, 0.5))
        # A last, clean relay drains what the killed ones left.
        while Relay(store, effects_handler(effects)).run_once().handled:
            pass
        state = store.load("rock-mentoring-bologna")
        history = store.history(state.id)
        outbox = store.outbox(state.id)
        assert history == state.history
        assert [e.event.id for e in outbox] == [i for h in history for i in h.event_ids]
        assert len(outbox) == state.event_count
        assert {e.status for e in outbox} == {OutboxStatus.DELIVERED}
        engine = sa.create_engine(f"sqlite:///{effects}")
        with engine.connect() as conn:
            handled = dict(conn.exec_driver_sql("SELECT event_id, effects FROM handled").all())
        engine.dispose()
        assert set(handled) == {e.event.id for e in outbox}
        assert set(handled.values()) == {1}
        assert state.version > 1
    finally:
        store.close()
        drop_schema(schema)
