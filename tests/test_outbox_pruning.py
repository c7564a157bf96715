"""SqlStore.prune_outbox: delivered events leave the outbox; nothing pending or dead, no order lost."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from _stores import BACKENDS, bologna, open_store, toggled_ids, wait_until_blocked
from mentorflow._sqlreads import replay_statement
from mentorflow.clock import FrozenClock
from mentorflow.events import Event
from mentorflow.exceptions import InvalidInput
from mentorflow.outbox import Backoff, Relay
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus

START = pendulum.datetime(2017, 6, 2, 9, tz="Europe/Brussels")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from open_store(request.param, tmp_path)


def _listed(store: SqlStore) -> dict[str, tuple[str, str | None]]:
    return {e.event_id: (e.status, e.delivered_at) for e in store.outbox()}


def test_only_events_delivered_before_the_boundary_are_removed(store: SqlStore) -> None:
    clock = FrozenClock(START)
    early, late = bologna(store, "early"), bologna(store, "late")
    Relay(store, lambda e: None, clock=clock).run_once()
    first_batch = set(_listed(store))
    clock.advance(days=1)
    boundary = clock.now()
    clock.advance(days=1)
    stuck = toggled_ids(late, clock.now())
    delivered_later = toggled_ids(early, clock.now())

    def refuse_late(event: Event) -> None:
        if event.engagement_id == "late":
            raise RuntimeError("the late city's system is down")

    Relay(store, refuse_late, clock=clock, max_attempts=1).run_once()
    before = _listed(store)
    assert {before[i][0] for i in stuck} == {OutboxStatus.DEAD, OutboxStatus.PENDING}
    assert {before[i][0] for i in delivered_later} == {OutboxStatus.DELIVERED}

    removed = store.prune_outbox(boundary)

    after = _listed(store)
    assert removed == len(first_batch)
    assert set(after) == set(before) - first_batch
    assert {after[i] for i in stuck} == {before[i] for i in stuck}
    # Pruning again removes nothing: what is left was delivered after the boundary, or not at all.
    assert store.prune_outbox(boundary) == 0


def test_a_limit_prunes_in_batches(store: SqlStore) -> None:
    clock = FrozenClock(START)
    engagement = bologna(store, "batches")
    for _ in range(3):
        toggled_ids(engagement, clock.now())
    Relay(store, lambda e: None, clock=clock).run_once()
    total = len(store.outbox(status=OutboxStatus.DELIVERED))
    later = clock.advance(hours=1)
    counts = []
    while (n := store.prune_outbox(later, limit=2)) > 0:
        counts.append(n)
    assert sum(counts) == total
    assert all(n <= 2 for n in counts)
    assert store.outbox() == ()


def test_the_relay_keeps_its_order_after_a_prune(store: SqlStore) -> None:
    """A dead event still holds back its engagement's later events when the delivered ones
    before it are gone, and once replayed they go out in order."""
    clock = FrozenClock(START)
    engagement = bologna(store, "ordered")
    Relay(store, lambda e: None, clock=clock).run_once()
    failing = toggled_ids(engagement, clock.advance(hours=1))
    held = toggled_ids(engagement, clock.advance(hours=1))

    def down(event: Event) -> None:
        raise RuntimeError("down")

    Relay(store, down, clock=clock, max_attempts=1).run_once()
    assert store.prune_outbox(clock.advance(hours=1)) > 0
    delivered: list[str] = []
    relay = Relay(store, lambda e: delivered.append(e.id), clock=clock)
    relay.run_once()
    assert delivered == []  # the dead event still holds its engagement back
    (dead,) = [e.event_id for e in store.outbox(status=OutboxStatus.DEAD)]
    assert dead == failing[0]
    store.replay(dead)
    relay.run_once()
    assert delivered == [*failing, *held]


def test_a_pruned_event_can_no_longer_be_replayed(store: SqlStore) -> None:
    clock = FrozenClock(START)
    bologna(store, "gone")
    Relay(store, lambda e: None, clock=clock).run_once()
    (first, *_) = _listed(store)
    store.prune_outbox(clock.advance(seconds=1))
    with pytest.raises(InvalidInput) as refused:
        store.replay(first)
    assert [p.path for p in refused.value.problems] == ["$.event_id"]


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({"delivered_before": pendulum.naive(2017, 7, 1)}, "$.delivered_before"),
        ({"delivered_before": "2017-07-01"}, "$.delivered_before"),
        ({"delivered_before": START, "limit": 0}, "$.limit"),
        ({"delivered_before": START, "limit": True}, "$.limit"),
        ({"delivered_before": START, "limit": "10"}, "$.limit"),
    ],
)
def test_bad_arguments_are_refused_by_name_and_remove_nothing(
    store: SqlStore, arguments: dict[str, Any], path: str
) -> None:
    clock = FrozenClock(START)
    bologna(store, "kept")
    Relay(store, lambda e: None, clock=clock).run_once()
    listed = _listed(store)
    with pytest.raises(InvalidInput) as refused:
        store.prune_outbox(**arguments)
    assert [p.path for p in refused.value.problems] == [path]
    assert _listed(store) == listed


def test_sqlite_finds_what_to_prune_through_the_ready_index(tmp_path: Path) -> None:
    # Without the range on next_attempt_at, a prune would read every delivered row ever kept.
    store = SqlStore.open(tmp_path / "store.sqlite3")
    try:
        compiled = store._prune.compile(dialect=store.engine.dialect)
        values = compiled.construct_params({"before": "2020", "limit": 5})
        with store.engine.connect() as conn:
            plan = conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}",
                tuple(values[name] for name in compiled.positiontup or ()),
            ).all()
        details = " ".join(row[-1] for row in plan)
        assert "USING INDEX mf_outbox_ready (status=? AND next_attempt_at<?)" in details
    finally:
        store.close()


class PruningMachine(RuleBasedStateMachine):
    """Actions, relays (a city's handler up or down), replays and prunes in any order.

    Every event an action saved is either listed in the outbox or was pruned; only events the
    handler had received, delivered before a prune's boundary, are ever pruned; and the handler
    receives each engagement's events in the order they were saved.
    """

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.mkdtemp(prefix="mf-prune-")
        self.store = SqlStore.open(Path(self.folder) / "store.sqlite3")
        self.clock = FrozenClock(START)
        self.engagements = {
            name: bologna(self.store, name, at=self.clock.now()) for name in ("a", "b")
        }
        self.saved: dict[str, list[str]] = {
            name: [e.event_id for e in self.store.outbox(name)] for name in self.engagements
        }
        self.down: set[str] = set()
        self.received: list[Event] = []
        self.pruned: set[str] = set()

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _handle(self, event: Event) -> None:
        if event.engagement_id in self.down:
            raise RuntimeError(f"{event.engagement_id} is down")
        self.received.append(event)

    @rule(name=st.sampled_from(["a", "b"]), hours=st.integers(0, 30))
    def act(self, name: str, hours: int) -> None:
        self.clock.advance(hours=hours)
        self.saved[name] += toggled_ids(self.engagements[name], self.clock.now())

    @rule(name=st.sampled_from(["a", "b"]))
    def switch_handler(self, name: str) -> None:
        self.down ^= {name}

    @rule(hours=st.integers(0, 30))
    def relay(self, hours: int) -> None:
        self.clock.advance(hours=hours)
        Relay(
            self.store, self._handle, clock=self.clock, max_attempts=2, backoff=Backoff(base=0)
        ).run_once()

    @precondition(lambda self: bool(self.store.outbox(status=OutboxStatus.DEAD)))
    @rule(data=st.data())
    def replay_a_dead_event(self, data: st.DataObject) -> None:
        dead = [e.event_id for e in self.store.outbox(status=OutboxStatus.DEAD)]
        event("replayed a dead event")
        self.store.replay(data.draw(st.sampled_from(dead)))

    @rule(hours_back=st.integers(0, 60), limit=st.integers(1, 5))
    def prune(self, hours_back: int, limit: int) -> None:
        boundary = self.clock.now().subtract(hours=hours_back)
        before = {e.event_id: e for e in self.store.outbox()}
        removed = self.store.prune_outbox(boundary, limit=limit)
        after = {e.event_id: e for e in self.store.outbox()}
        gone = set(before) - set(after)
        assert removed == len(gone) <= limit
        assert set(after) <= set(before)
        cut = pendulum.parse(boundary.in_tz("UTC").isoformat())
        for event_id in gone:
            entry = before[event_id]
            assert entry.status == OutboxStatus.DELIVERED
            assert entry.delivered_at is not None
            assert pendulum.parse(entry.delivered_at) < cut
        eligible = {
            i
            for i, e in before.items()
            if e.status == OutboxStatus.DELIVERED
            and e.delivered_at is not None
            and pendulum.parse(e.delivered_at) < cut
        }
        # Fewer than the limit removed means every eligible event went.
        assert removed == limit or gone == eligible
        event("pruned some" if gone else "pruned none")
        self.pruned |= gone

    @invariant()
    def every_saved_event_is_listed_or_was_pruned(self) -> None:
        listed = {e.event_id for e in self.store.outbox()}
        saved = {i for ids in self.saved.values() for i in ids}
        assert listed | self.pruned == saved
        assert not listed & self.pruned
        assert self.pruned <= {e.id for e in self.received}

    @invariant()
    def each_engagement_is_received_in_saved_order(self) -> None:
        for name, ids in self.saved.items():
            got = [e.id for e in self.received if e.engagement_id == name]
            first_times = list(dict.fromkeys(got))  # a redelivery repeats an id, never reorders
            assert first_times == ids[: len(first_times)]


PruningMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=20, deadline=None)
test_pruning_machine = PruningMachine.TestCase


@pytest.mark.postgres
def test_a_replay_committed_while_a_prune_waits_keeps_its_event(tmp_path: Path) -> None:
    """PostgreSQL: the prune picks a delivered event, waits for the row a replay holds, and
    then finds it pending again: the replayed event is kept, not deleted."""
    stores = open_store("postgresql", tmp_path)
    store = next(stores)
    try:
        clock = FrozenClock(START)
        bologna(store, "raced")
        Relay(store, lambda e: None, clock=clock).run_once()
        (first, *_) = _listed(store)
        with store.engine.connect() as replaying:
            replaying.execute(replay_statement(store.tables, first))  # not committed yet
            result: list[int] = []
            pruning = threading.Thread(
                target=lambda: result.append(store.prune_outbox(clock.advance(days=1)))
            )
            pruning.start()
            wait_until_blocked(store, "the prune never waited for the replayed row")
            replaying.commit()
        pruning.join(timeout=30)
        assert result  # the prune finished
        assert _listed(store)[first][0] == OutboxStatus.PENDING
    finally:
        next(stores, None)
