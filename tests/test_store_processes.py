"""Many processes on one store: no lost update under contention; nothing lost when killed."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from _relay_effects import (
    applied,
    crashed_on,
    deliveries_by,
    delivery_counts,
    effects_handler,
    relaying_forever,
)
from _stores import BACKENDS, bologna, conflicting_worker, drop_schema, firing_forever, store_target
from mentorflow.outbox import Relay
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus

pytestmark = pytest.mark.slow
SPAWN = multiprocessing.get_context("spawn")
WORKERS = 8
ATTEMPTS = 250
KILLED = -signal.SIGKILL  # a process's exit code when SIGKILL ended it


@pytest.mark.parametrize("backend", BACKENDS)
def test_eight_processes_lose_no_update(backend: str, tmp_path: Path) -> None:
    """8 processes x 250 toggles started together: they conflict, version == successful saves + 1,
    and every toggle that did not save got ConcurrencyConflict."""
    target, schema = store_target(backend, tmp_path)
    store = SqlStore.open(target, schema=schema)
    try:
        bologna(store)
        start, results = SPAWN.Barrier(WORKERS), SPAWN.Queue()
        workers = [
            SPAWN.Process(
                target=conflicting_worker, args=(target, schema, ATTEMPTS, start, results)
            )
            for _ in range(WORKERS)
        ]
        for worker in workers:
            worker.start()
        outcomes = [results.get(timeout=900) for _ in workers]
        for worker in workers:
            worker.join()
        saved = sum(r[0] for r in outcomes)
        conflicts = sum(r[1] for r in outcomes)
        assert [o for r in outcomes for o in r[2]] == []
        assert saved + conflicts == WORKERS * ATTEMPTS
        assert conflicts > 0, "no contention: the test did not race the workers"
        state = store.load("rock-mentoring-bologna")
        assert state.version == saved + 1
        assert len(store.history(state.id)) == state.version
        assert len(store.outbox(state.id)) == state.event_count
    finally:
        store.close()
        drop_schema(schema)


def _wait_until(
    ready: Callable[[], bool], process: multiprocessing.process.BaseProcess, what: str
) -> None:
    # A spawned process needs a while to import on a loaded machine: wait until it has done its
    # first piece of work, so a kill really interrupts it mid-stream.
    deadline = time.monotonic() + 120
    while not ready():
        assert process.is_alive(), f"{what} died before it started working"
        assert time.monotonic() < deadline, f"{what} did nothing for 120 s"
        time.sleep(0.05)


def _wait_for_a_save(store: SqlStore, writer: multiprocessing.process.BaseProcess) -> None:
    before = store.load("rock-mentoring-bologna").version
    _wait_until(lambda: store.load("rock-mentoring-bologna").version > before, writer, "writer")


def _wait_for_a_delivery(effects: str, relay: multiprocessing.process.BaseProcess) -> None:
    _wait_until(lambda: deliveries_by(effects, relay.pid or 0) > 0, relay, "relay")


def _kill_after(process: multiprocessing.process.BaseProcess, seconds: float) -> None:
    time.sleep(seconds)
    if process.pid is not None and process.is_alive():
        os.kill(process.pid, signal.SIGKILL)
    process.join()


@pytest.mark.parametrize("backend", BACKENDS)
def test_killed_writers_and_relays_lose_nothing(backend: str, tmp_path: Path) -> None:
    """SIGKILL during fire/commit and mid-delivery: no event lost, an event whose handler ran
    before the relay's commit is delivered again, and every effect is applied once."""
    rng = random.Random(3)
    target, schema = store_target(backend, tmp_path)
    effects = str(tmp_path / "effects.sqlite3")
    store = SqlStore.open(target, schema=schema)
    try:
        bologna(store)
        for round_ in range(4):
            # Odd rounds: the relay kills itself right after its handler applied an event, before
            # the relay commits. Even rounds: we kill it at a random moment after it delivered.
            crash_at = rng.randint(1, 3) if round_ % 2 else None
            writer = SPAWN.Process(target=firing_forever, args=(target, schema))
            relay = SPAWN.Process(target=relaying_forever, args=(target, schema, effects, crash_at))
            writer.start()
            relay.start()
            try:
                _wait_for_a_save(store, writer)
                if crash_at is None:
                    _wait_for_a_delivery(effects, relay)
                    _kill_after(relay, rng.uniform(0.0, 0.5))
                else:
                    relay.join(timeout=180)
                assert relay.exitcode == KILLED  # killed mid-stream, not ended by an error
                _kill_after(writer, rng.uniform(0.0, 1.0))
                assert writer.exitcode == KILLED
            finally:
                for process in (writer, relay):  # never leave a child running after a failure
                    _kill_after(process, 0.0)
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
        assert state.version > 1
        counts = delivery_counts(effects)
        stored = {e.event.id for e in outbox}
        assert set(counts) == stored  # every event handed over at least once, nothing invented
        crashes = crashed_on(effects)
        assert len(crashes) == 2
        assert all(counts[event_id] >= 2 for event_id in crashes), (crashes, counts)
        effected, tally = applied(effects)
        assert effected == stored
        assert tally == len(stored)  # redeliveries were not applied again
    finally:
        store.close()
        drop_schema(schema)
