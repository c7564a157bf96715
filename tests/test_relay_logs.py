"""What a relay logs (``mentorflow.outbox``): failures with the handler's traceback, dead events
as errors an operator can act on, deliveries at debug level."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest

from _stores import BACKENDS, bologna, leave_begun, open_store
from mentorflow._attempts_begun import stopped_error
from mentorflow.clock import FrozenClock
from mentorflow.events import Event
from mentorflow.outbox import Backoff, Relay
from mentorflow.sqlstore import SqlStore

LATER = pendulum.datetime(2017, 7, 1, tz="Europe/Brussels")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from open_store(request.param, tmp_path)


def _records(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "mentorflow.outbox" and r.levelno == level]


def test_a_failing_handler_is_logged_with_its_traceback_then_as_dead(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    bologna(store, "logged")
    first = store.outbox()[0].event_id

    def refuse_first(event: Event) -> None:
        if event.id == first:
            raise ValueError("the mayor's office rejected the invitation")

    relay = Relay(
        store, refuse_first, clock=FrozenClock(LATER), max_attempts=2, backoff=Backoff(base=0)
    )
    with caplog.at_level(logging.DEBUG, logger="mentorflow.outbox"):
        relay.run_once()
        relay.run_once()
    (retried,) = _records(caplog, logging.WARNING)
    assert first in retried.getMessage()
    assert "attempt 1 of 2" in retried.getMessage()
    assert retried.exc_info is not None
    assert retried.exc_info[0] is ValueError
    assert "refuse_first" in caplog.text  # the handler's own frame, from the traceback
    (dead,) = _records(caplog, logging.ERROR)
    assert first in dead.getMessage()
    assert "after 2 attempt(s): ValueError: the mayor's office" in dead.getMessage()
    assert dead.exc_info is not None
    assert dead.exc_info[0] is ValueError
    assert not [r for r in _records(caplog, logging.DEBUG) if first in r.getMessage()]


def test_deliveries_are_logged_at_debug_level_only(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    bologna(store, "quiet")
    events = [e.event_id for e in store.outbox()]
    with caplog.at_level(logging.DEBUG, logger="mentorflow.outbox"):
        Relay(store, lambda event: None, clock=FrozenClock(LATER)).run_once()
    delivered = _records(caplog, logging.DEBUG)
    assert [r.getMessage() for r in delivered] == [f"delivered event {e}" for e in events]
    assert not _records(caplog, logging.WARNING) + _records(caplog, logging.ERROR)


def test_an_event_whose_relays_died_is_logged_dead_without_a_traceback(
    store: SqlStore, caplog: pytest.LogCaptureFixture
) -> None:
    bologna(store, "killer")
    first = store.outbox()[0].event_id
    _as_if_relays_died(store, first, attempts=2)
    with caplog.at_level(logging.DEBUG, logger="mentorflow.outbox"):
        Relay(store, lambda event: None, clock=FrozenClock(LATER), max_attempts=2).run_once()
    (dead,) = _records(caplog, logging.ERROR)
    assert first in dead.getMessage()
    assert stopped_error(2) in dead.getMessage()
    assert dead.exc_info is None


def _as_if_relays_died(store: SqlStore, event_id: str, *, attempts: int) -> None:
    """What relay processes that died in the handler ``attempts`` times leave behind."""
    if store.dialect != "sqlite":
        leave_begun(store, event_id, attempts)  # counted in the attempts begun
        return
    o = store.tables.outbox
    with store.engine.begin() as conn:  # counted at the claim, in the outbox row
        conn.execute(
            o.update()
            .where(o.c.event_id == event_id)
            .values(attempts=attempts, last_error=stopped_error(attempts))
        )
