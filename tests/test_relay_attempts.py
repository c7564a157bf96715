"""A relay process that dies in its handler uses up an attempt, on SQLite and PostgreSQL alike.

On PostgreSQL the attempt is counted in ``outbox_attempts``, committed before the handler runs
(``_attempts_begun``); the tests below also check that an outcome, a replay and a dead-letter
leave no count behind there.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
import sqlalchemy as sa

from _stores import (
    BACKENDS,
    FACILITATOR,
    bologna,
    drop_schema,
    leave_begun,
    open_store,
    store_target,
)
from mentorflow.clock import FrozenClock
from mentorflow.events import Event
from mentorflow.outbox import Backoff, Relay
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus

SPAWN = multiprocessing.get_context("spawn")
LATER = pendulum.datetime(2017, 7, 1, tz="Europe/Brussels")
MAX_ATTEMPTS = 2
DIED = 3  # the exit status of a relay process its handler ended


def relay_dying_on(target: str, schema: str | None, doomed: str, calls: str) -> None:
    """Child process: one ``run_once`` of a relay whose handler notes every call in the file
    ``calls`` and then, for the event ``doomed`` only, ends the process as an OOM kill would."""
    store = SqlStore.open(target, schema=schema, create=False)

    def handler(event: Event) -> None:
        with open(calls, "a", encoding="utf-8") as journal:
            journal.write(f"{event.id}\n")
        if event.id == doomed:
            os._exit(DIED)

    relay = Relay(store, handler, clock=FrozenClock(LATER), max_attempts=MAX_ATTEMPTS)
    relay.run_once()
    store.close()


def _run_child(target: str, schema: str | None, doomed: str, calls: str) -> int | None:
    child = SPAWN.Process(target=relay_dying_on, args=(target, schema, doomed, calls))
    child.start()
    child.join(timeout=180)
    if child.is_alive():
        child.kill()
        child.join()
    return child.exitcode


def _calls(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").split() if path.exists() else []


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_a_handler_that_kills_its_relay_every_time_ends_dead_lettered(
    backend: str, tmp_path: Path
) -> None:
    """Relay processes that die in the handler use up the event's attempts: after max_attempts
    deaths the next relay marks it dead without calling the handler, says so in last_error and
    delivers the other engagement's events; the dead event holds back its own engagement's,
    and after a replay a working handler delivers them all in order."""
    target, schema = store_target(backend, tmp_path)
    store = SqlStore.open(target, schema=schema)
    calls = tmp_path / "calls.txt"
    try:
        doomed_engagement = bologna(store, "doomed")
        doomed_engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
        bologna(store, "other").fire("confirm_match", actor=FACILITATOR, at=LATER)
        doomed, *held_back = (e.event_id for e in store.outbox("doomed"))
        others = [e.event_id for e in store.outbox("other")]
        for _ in range(MAX_ATTEMPTS):
            assert _run_child(target, schema, doomed, str(calls)) == DIED
        assert _calls(calls) == [doomed] * MAX_ATTEMPTS  # it died before reaching "other"
        assert _run_child(target, schema, doomed, str(calls)) == 0
        # Not handed to the handler a third time, and the other engagement's events went out.
        assert _calls(calls) == [doomed] * MAX_ATTEMPTS + others
        dead, *waiting = store.outbox("doomed")
        assert (dead.event_id, dead.status, dead.attempts) == (doomed, "dead", MAX_ATTEMPTS)
        assert dead.last_error == (
            f"the relay stopped during attempt {MAX_ATTEMPTS}, before the handler returned"
        )
        assert [(e.event_id, e.status) for e in waiting] == [(i, "pending") for i in held_back]
        assert {e.status for e in store.outbox("other")} == {OutboxStatus.DELIVERED}
        store.replay(doomed)
        replayed = store.outbox("doomed")[0]
        assert (replayed.status, replayed.attempts, replayed.last_error) == ("pending", 0, None)
        seen: list[str] = []
        working = Relay(store, lambda e: seen.append(e.id), clock=FrozenClock(LATER))
        assert working.run_once().delivered == tuple(seen) == (doomed, *held_back)
    finally:
        store.close()
        drop_schema(schema)


# -- PostgreSQL: the count of attempts begun ---------------------------------------------------


@pytest.fixture
def pg_store(tmp_path: Path) -> Iterator[SqlStore]:
    """A store on a fresh PostgreSQL schema."""
    yield from open_store("postgresql", tmp_path)


def begun(store: SqlStore) -> dict[str, int]:
    """The attempts begun that no outcome has followed yet, by event id (read on a connection
    of its own, so only what was committed)."""
    a, o = store.tables.outbox_attempts, store.tables.outbox
    query = sa.select(o.c.event_id, a.c.begun).join(o, o.c.position == a.c.position)
    with store.engine.connect() as conn:
        return {row.event_id: row.begun for row in conn.execute(query)}


@pytest.mark.postgres
def test_each_attempt_is_counted_before_its_handler_and_its_outcome_clears_it(
    pg_store: SqlStore,
) -> None:
    """PostgreSQL: while a handler runs, its attempt's number is already committed; once the
    outcome is recorded (delivered, retried or dead) no count of the event is left."""
    store = pg_store
    for name in ("works", "flaky", "poison"):
        bologna(store, name)
    clock = FrozenClock(LATER)
    failing = {"flaky", "poison"}
    during: list[tuple[str, int | None]] = []

    def handler(event: Event) -> None:
        during.append((event.engagement_id, begun(store).get(event.id)))
        if event.engagement_id in failing:
            raise RuntimeError("downstream 503")

    relay = Relay(store, handler, clock=clock, backoff=Backoff(base=10), max_attempts=2)
    report = relay.run_once()
    assert (len(report.delivered), len(report.retried), len(report.dead)) == (1, 2, 0)
    assert begun(store) == {}
    failing.discard("flaky")
    clock.advance(seconds=10)
    report = relay.run_once()
    assert (len(report.delivered), len(report.retried), len(report.dead)) == (1, 0, 1)
    assert begun(store) == {}
    assert during == [("works", 1), ("flaky", 1), ("poison", 1), ("flaky", 2), ("poison", 2)]
    [dead] = store.outbox(status=OutboxStatus.DEAD)
    assert (dead.event.engagement_id, dead.attempts) == ("poison", 2)
    assert dead.last_error == "RuntimeError: downstream 503"


@pytest.mark.postgres
def test_a_replay_and_a_dead_letter_clear_the_attempts_begun(pg_store: SqlStore) -> None:
    """PostgreSQL: a replay resets the attempts that dead relays began, so the replayed event
    gets every attempt again; a dead-letter clears them too."""
    store = pg_store
    replayed, dead_lettered = (bologna(store, name).id for name in ("replayed", "dead-lettered"))
    first, second = (store.outbox(i)[0].event_id for i in (replayed, dead_lettered))
    seen: list[str] = []
    relay = Relay(store, seen.append, clock=FrozenClock(LATER), max_attempts=2)
    leave_begun(store, first, 2)  # two relays died on it: the next relay would give up
    store.replay(first)
    leave_begun(store, second, 1)
    relay.dead_letter(second, "kills the relay: incident 13")
    assert begun(store) == {}
    assert relay.run_once().delivered == (first,)  # handed over, not given up on
    assert [e.id for e in seen] == [first]
    delivered = store.outbox(replayed)[0]
    assert (delivered.status, delivered.attempts) == (OutboxStatus.DELIVERED, 1)
    assert store.outbox(dead_lettered)[0].last_error == "kills the relay: incident 13"


@pytest.fixture(params=BACKENDS)
def any_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A store on SQLite, then on PostgreSQL."""
    yield from open_store(request.param, tmp_path)


def test_the_outbox_listing_counts_an_attempt_from_its_start(any_store: SqlStore) -> None:
    """While a handler runs, and after a relay stopped in it, ``store.outbox()`` counts the
    attempt and says the relay stopped during it, alike on both databases."""
    store = any_store
    bologna(store, "watched")
    first = store.outbox()[0].event_id
    seen: list[tuple[int, str | None]] = []

    def handler(event: Event) -> None:
        if event.id == first:
            entry = store.outbox()[0]
            seen.append((entry.attempts, entry.last_error))

    Relay(store, handler, clock=FrozenClock(LATER)).run_once()
    assert seen == [(1, "the relay stopped during attempt 1, before the handler returned")]
    delivered = store.outbox()[0]
    assert (delivered.status, delivered.attempts, delivered.last_error) == (
        OutboxStatus.DELIVERED,
        1,
        None,
    )
