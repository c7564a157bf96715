"""SqlStore.replay_all: several dead letters back in line in one transaction, all or none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest

from _stores import BACKENDS, bologna, open_store
from mentorflow.clock import FrozenClock
from mentorflow.events import Event
from mentorflow.exceptions import InvalidInput
from mentorflow.outbox import Relay
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus

LATER = pendulum.datetime(2017, 7, 1, tz="Europe/Brussels")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from open_store(request.param, tmp_path)


def _dead_letters(store: SqlStore) -> list[str]:
    """Two engagements whose first events went dead (the handler was down)."""
    for name in ("first", "second"):
        bologna(store, name)

    def down(event: Event) -> None:
        raise ConnectionError("mail server down")

    Relay(store, down, clock=FrozenClock(LATER), max_attempts=1).run_once()
    return [e.event_id for e in store.outbox(status=OutboxStatus.DEAD)]


def test_every_event_is_replayed_and_then_delivered(store: SqlStore) -> None:
    dead = _dead_letters(store)
    assert len(dead) == 2
    store.replay_all(dead)
    assert store.outbox(status=OutboxStatus.DEAD) == ()
    replayed = {e.event_id: e for e in store.outbox(status=OutboxStatus.PENDING)}
    assert all(replayed[i].attempts == 0 for i in dead)
    delivered: list[str] = []
    Relay(store, lambda e: delivered.append(e.id), clock=FrozenClock(LATER)).run_once()
    assert set(dead) <= set(delivered)


@pytest.mark.parametrize(
    ("make_ids", "paths"),
    [
        (lambda dead: [dead[0], "no-such-event", dead[1]], ["$.event_ids[1]"]),
        (lambda dead: ["nope", "neither"], ["$.event_ids[0]", "$.event_ids[1]"]),
        (lambda dead: [dead[0], 7], ["$.event_ids[1]"]),
        (lambda dead: dead[0], ["$.event_ids"]),
    ],
    ids=["one-missing", "all-missing", "not-a-text", "a-text-not-a-list"],
)
def test_a_missing_or_bad_id_replays_none(store: SqlStore, make_ids: Any, paths: list[str]) -> None:
    dead = _dead_letters(store)
    with pytest.raises(InvalidInput) as refused:
        store.replay_all(make_ids(dead))
    assert [p.path for p in refused.value.problems] == paths
    assert sorted(e.event_id for e in store.outbox(status=OutboxStatus.DEAD)) == sorted(dead)
