"""SqlStore.delete: everything an engagement holds goes in one transaction, its id stays taken,
and handlers hear of the deletion after every event still undelivered."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from _stores import (
    BACKENDS,
    CREATED,
    FACILITATOR,
    bologna,
    open_store,
    start_plan,
    toggle,
    toggled_ids,
    wait_until_blocked,
)
from mentorflow.clock import FrozenClock
from mentorflow.events import EngagementDeleted, Event
from mentorflow.exceptions import (
    ConcurrencyConflict,
    DeletedEngagement,
    InvalidInput,
    UnknownEngagement,
)
from mentorflow.outbox import Backoff, Relay
from mentorflow.reminder_scheduler import ReminderScheduler
from mentorflow.reminders import ReminderPolicy
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus, StoredEngagement, retry_action

LATER = CREATED.add(days=3)
ADMIN = "platform-admin"


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from open_store(request.param, tmp_path)


def rows_of(store: SqlStore, engagement_id: str) -> dict[str, int]:
    """How many rows each table holds for the engagement (the engagements table: its row)."""
    t = store.tables
    counts = {}
    with store.engine.connect() as conn:
        for table in (t.history, t.participants, t.deadlines, t.owed, t.reminders, t.outbox):
            query = sa.select(sa.func.count()).where(table.c.engagement_id == engagement_id)
            counts[table.name] = conn.execute(query).scalar_one()
        e = t.engagements
        query = sa.select(sa.func.count()).where(e.c.id == engagement_id)
        counts[e.name] = conn.execute(query).scalar_one()
    return counts


def outbox_of(store: SqlStore, engagement_id: str) -> dict[str, str]:
    return {e.event_id: e.status for e in store.outbox(engagement_id)}


def test_a_delete_removes_what_the_engagement_holds_and_keeps_undelivered_events(
    store: SqlStore,
) -> None:
    gone = bologna(store, "gone")
    bologna(store, "kept")
    toggle(gone, CREATED)
    Relay(store, lambda e: None, clock=FrozenClock(CREATED)).run_once()
    undelivered = toggled_ids(gone, CREATED.add(hours=1))
    kept_before = (store.load("kept"), store.history("kept"), store.outbox("kept"))
    assert rows_of(store, "gone")["mf_deadlines"] > 0  # there was an index row to remove
    assert rows_of(store, "gone")["mf_deadlines_owed"] > 0  # and someone owing one

    deletion = store.delete(
        "gone", expected_version=gone.version, actor=ADMIN, at=LATER, reason="created by mistake"
    )

    assert deletion == EngagementDeleted(
        id=f"gone#{gone.state.event_count + 1}",
        engagement_id="gone",
        sequence=gone.state.event_count + 1,
        at=LATER,
        actor=ADMIN,
        version=gone.version,
        reason="created by mistake",
    )
    assert rows_of(store, "gone") == {
        "mf_history": 0,
        "mf_participants": 0,
        "mf_deadlines": 0,
        "mf_deadlines_owed": 0,
        "mf_reminders": 0,
        "mf_outbox": len(undelivered) + 1,  # delivered events went, undelivered ones stay
        "mf_engagements": 1,  # the tombstone that keeps the id taken
    }
    assert outbox_of(store, "gone") == {
        **dict.fromkeys(undelivered, OutboxStatus.PENDING),
        deletion.id: OutboxStatus.PENDING,
    }
    with pytest.raises(DeletedEngagement) as refused:
        store.load("gone")
    assert refused.value.deletion == deletion
    assert isinstance(refused.value, UnknownEngagement)
    assert "deleted at version 3" in str(refused.value)
    assert ADMIN in str(refused.value)
    assert store.ids() == ("kept",)
    assert store.history("gone") == ()
    assert (store.load("kept"), store.history("kept"), store.outbox("kept")) == kept_before


def test_handlers_get_the_undelivered_events_then_the_deletion(store: SqlStore) -> None:
    gone = bologna(store, "gone")
    saved = [e.event_id for e in store.outbox("gone")] + list(toggled_ids(gone))
    deletion = store.delete("gone", expected_version=gone.version, actor=ADMIN, at=LATER)
    received: list[Event] = []
    Relay(store, received.append, clock=FrozenClock(LATER)).run_once()
    assert [e.id for e in received] == [*saved, deletion.id]
    assert received[-1] == deletion
    assert deletion.reason is None
    assert set(outbox_of(store, "gone").values()) == {OutboxStatus.DELIVERED}


def test_a_dead_event_holds_the_deletion_back_until_it_is_replayed(store: SqlStore) -> None:
    gone = bologna(store, "gone")
    stuck, blocked = toggled_ids(gone)
    Relay(store, lambda e: None, clock=FrozenClock(CREATED)).dead_letter(stuck, "its city is down")
    deletion = store.delete("gone", expected_version=gone.version, actor=ADMIN, at=LATER)
    received: list[str] = []
    Relay(store, lambda e: received.append(e.id), clock=FrozenClock(LATER)).run_once()
    assert deletion.id not in received  # as any later event: in order, after the dead one
    store.replay(stuck)
    Relay(store, lambda e: received.append(e.id), clock=FrozenClock(LATER)).run_once()
    assert received[-3:] == [stuck, blocked, deletion.id]


def test_a_stale_delete_writes_nothing(store: SqlStore) -> None:
    loaded = bologna(store, "raced")
    other = StoredEngagement.load(store, "raced")
    toggle(other)
    before = (store.load("raced"), store.outbox(), rows_of(store, "raced"))
    with pytest.raises(ConcurrencyConflict) as conflict:
        store.delete("raced", expected_version=loaded.version, actor=ADMIN, at=LATER)
    assert (conflict.value.expected_version, conflict.value.found_version) == (1, 2)
    assert not conflict.value.deleted
    assert (store.load("raced"), store.outbox(), rows_of(store, "raced")) == before


def test_an_engagement_loaded_before_the_delete_cannot_save(store: SqlStore) -> None:
    loaded = bologna(store, "gone")
    state = loaded.state
    store.delete("gone", expected_version=loaded.version, actor=ADMIN, at=LATER)
    outbox = store.outbox()
    with pytest.raises(ConcurrencyConflict) as conflict:
        toggle(loaded)
    assert conflict.value.deleted
    assert "has been deleted since" in str(conflict.value)
    assert loaded.state == state
    assert store.outbox() == outbox
    # Retrying reloads, and the reload says why there is nothing to retry.
    with pytest.raises(DeletedEngagement):
        retry_action(store, "gone", toggle)


def test_the_id_of_a_deleted_engagement_cannot_be_used_again(store: SqlStore) -> None:
    gone = bologna(store, "gone")
    store.delete("gone", expected_version=gone.version, actor=ADMIN, at=LATER)
    outbox = store.outbox()
    with pytest.raises(ConcurrencyConflict) as conflict:
        bologna(store, "gone")  # its events would take the ids gone#1, gone#2, … again
    assert conflict.value.deleted
    assert "ids are never used again" in str(conflict.value)
    assert store.outbox() == outbox
    with pytest.raises(DeletedEngagement):
        store.load("gone")


def test_deleting_a_deleted_or_unknown_engagement_is_refused(store: SqlStore) -> None:
    gone = bologna(store, "gone")
    store.delete("gone", expected_version=gone.version, actor=ADMIN, at=LATER)
    outbox = store.outbox()
    with pytest.raises(DeletedEngagement):
        store.delete("gone", expected_version=gone.version + 1, actor=ADMIN, at=LATER)
    with pytest.raises(UnknownEngagement) as unknown:
        store.delete("never", expected_version=1, actor=ADMIN, at=LATER)
    assert not isinstance(unknown.value, DeletedEngagement)
    assert store.outbox() == outbox


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({"engagement_id": 7}, "$.engagement_id"),
        ({"expected_version": 0}, "$.expected_version"),
        ({"expected_version": True}, "$.expected_version"),
        ({"expected_version": "1"}, "$.expected_version"),
        ({"actor": ""}, "$.actor"),
        ({"actor": None}, "$.actor"),
        ({"reason": 5}, "$.reason"),
        ({"at": pendulum.naive(2017, 6, 5)}, "$.at"),
    ],
)
def test_bad_arguments_are_named_and_nothing_is_deleted(
    store: SqlStore, arguments: dict[str, Any], path: str
) -> None:
    bologna(store, "kept")
    before = rows_of(store, "kept")
    call = {"engagement_id": "kept", "expected_version": 1, "actor": ADMIN, "at": LATER}
    with pytest.raises(InvalidInput) as refused:
        store.delete(**{**call, **arguments})
    assert [p.path for p in refused.value.problems] == [path]
    assert rows_of(store, "kept") == before


def test_without_a_time_the_store_clock_dates_the_deletion(tmp_path: Path) -> None:
    clock = FrozenClock(LATER)
    store = SqlStore.open(tmp_path / "clocked.sqlite3", clock=clock)
    try:
        gone = bologna(store, "gone")
        assert store.delete("gone", expected_version=gone.version, actor=ADMIN).at == LATER
    finally:
        store.close()


def test_a_deleted_engagement_gets_no_reminders(store: SqlStore) -> None:
    policy = ReminderPolicy(lead_days=(14, 3))
    gone = start_plan(store, 0, pendulum.date(2017, 11, 6), "gone")
    kept = start_plan(store, 0, pendulum.date(2017, 11, 6), "kept")
    scheduler = ReminderScheduler(store, policy=policy)
    assert {e.engagement_id for e in scheduler.tick(pendulum.datetime(2017, 9, 1, tz="UTC"))} == {
        "gone",
        "kept",
    }
    store.delete("gone", expected_version=gone.version, actor=ADMIN, at=LATER)
    later = scheduler.tick(pendulum.datetime(2017, 12, 31, tz="UTC"))
    assert later
    assert {e.engagement_id for e in later} == {"kept"}
    assert not scheduler.ledger("gone").settled
    assert kept.version == 1


@pytest.mark.postgres
def test_a_delete_waits_for_a_reminder_tick_that_read_the_engagement(tmp_path: Path) -> None:
    """PostgreSQL: a tick holds its engagements' rows with a key-share lock until it commits,
    so a delete waits for it (and a tick that came second would see the row deleted), while
    saves go on."""
    stores = open_store("postgresql", tmp_path)
    store = next(stores)
    try:
        gone = bologna(store, "gone")
        saving = bologna(store, "saving")
        scheduler = ReminderScheduler(store)
        done: list[EngagementDeleted] = []
        with store.engine.begin() as tick:
            assert scheduler._live(tick, ["gone", "saving"]) == ["gone", "saving"]
            # A save is not held up by the tick (in a thread, so a wait fails the test, not hangs it).
            save = threading.Thread(target=toggle, args=(saving,))
            save.start()
            save.join(timeout=10)
            assert not save.is_alive(), "a save waited for the tick's lock"
            deleting = threading.Thread(
                target=lambda: done.append(
                    store.delete("gone", expected_version=gone.version, actor=ADMIN, at=LATER)
                )
            )
            deleting.start()
            wait_until_blocked(store, "the delete never waited for the tick")
            assert not done
        deleting.join(timeout=30)
        assert done
        assert done[0].engagement_id == "gone"
        with store.engine.begin() as tick:
            assert scheduler._live(tick, ["gone", "saving"]) == ["saving"]
    finally:
        next(stores, None)


class DeletionMachine(RuleBasedStateMachine):
    """Actions, deletes (some of them stale), re-creations, relays and prunes in any order.

    A deleted engagement cannot be read, listed, saved or created again and holds no rows but
    its tombstone and its undelivered events; a live one reads back as its last save left it;
    every saved event reaches the handler or is still in the outbox, each engagement's in the
    order saved, and an engagement's deletion is the last of its events.
    """

    NAMES = ("a", "b", "c")

    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.mkdtemp(prefix="mf-delete-")
        self.store = SqlStore.open(Path(self.folder) / "store.sqlite3")
        self.clock = FrozenClock(CREATED)
        self.engagements = {
            name: bologna(self.store, name, at=self.clock.now()) for name in self.NAMES
        }
        self.saved = {name: [e.event_id for e in self.store.outbox(name)] for name in self.NAMES}
        self.deleted: set[str] = set()
        self.received: list[Event] = []
        self.down = False

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _handle(self, event: Event) -> None:
        if self.down:
            raise RuntimeError("the platform is down")
        self.received.append(event)

    @rule(name=st.sampled_from(NAMES), hours=st.integers(0, 30))
    def act(self, name: str, hours: int) -> None:
        self.clock.advance(hours=hours)
        engagement = self.engagements[name]
        if name in self.deleted:
            state = engagement.state
            with pytest.raises(ConcurrencyConflict):
                toggle(engagement, self.clock.now())
            assert engagement.state == state
            return
        self.saved[name] += toggled_ids(engagement, self.clock.now())

    @rule(name=st.sampled_from(NAMES), stale=st.booleans())
    def delete(self, name: str, stale: bool) -> None:
        engagement = self.engagements[name]
        version = engagement.version
        if stale:  # an older version where there is one, else a newer one: either is refused
            version = version - 1 if version > 1 else version + 1
        before = self.store.outbox()
        if name in self.deleted:
            with pytest.raises((DeletedEngagement, ConcurrencyConflict)):
                self.store.delete(name, expected_version=version, actor=ADMIN, at=self.clock.now())
        elif stale:
            with pytest.raises(ConcurrencyConflict):
                self.store.delete(name, expected_version=version, actor=ADMIN, at=self.clock.now())
        else:
            deletion = self.store.delete(
                name, expected_version=version, actor=ADMIN, at=self.clock.now()
            )
            self.saved[name].append(deletion.id)
            self.deleted.add(name)
            event("deleted one")
            return
        assert self.store.outbox() == before

    @precondition(lambda self: bool(self.deleted))
    @rule(data=st.data())
    def create_again(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.deleted)))
        with pytest.raises(ConcurrencyConflict):
            bologna(self.store, name, at=self.clock.now())

    @rule()
    def switch_handler(self) -> None:
        self.down = not self.down

    @rule(hours=st.integers(0, 30))
    def relay(self, hours: int) -> None:
        self.clock.advance(hours=hours)
        Relay(
            self.store, self._handle, clock=self.clock, max_attempts=3, backoff=Backoff(base=0)
        ).run_once()

    @rule()
    def replay_the_dead(self) -> None:
        dead = [e.event_id for e in self.store.outbox(status=OutboxStatus.DEAD)]
        if dead:
            self.store.replay_all(dead)

    @rule()
    def prune(self) -> None:
        self.store.prune_outbox(self.clock.now().add(seconds=1))

    @invariant()
    def deleted_engagements_are_gone_but_their_ids_are_taken(self) -> None:
        assert set(self.store.ids()) == set(self.NAMES) - self.deleted
        assert [d.engagement_id for d in self.store.deletions()] == sorted(self.deleted)
        for name in self.deleted:
            with pytest.raises(DeletedEngagement):
                self.store.load(name)
            rows = rows_of(self.store, name)
            assert rows["mf_engagements"] == 1
            assert rows["mf_history"] == rows["mf_participants"] == rows["mf_deadlines"] == 0
            assert rows["mf_deadlines_owed"] == 0
            assert self.store.history(name) == ()

    @invariant()
    def live_engagements_read_back_as_saved(self) -> None:
        for name in set(self.NAMES) - self.deleted:
            assert self.store.load(name) == self.engagements[name].state

    @invariant()
    def no_event_is_lost_and_each_engagement_is_received_in_order(self) -> None:
        listed = {e.event_id: e.status for e in self.store.outbox()}
        got = {e.id for e in self.received}
        for name, ids in self.saved.items():
            for i in ids:
                assert i in got or listed.get(i) in (OutboxStatus.PENDING, OutboxStatus.DEAD)
            first_times = list(
                dict.fromkeys(e.id for e in self.received if e.engagement_id == name)
            )
            assert first_times == ids[: len(first_times)]


DeletionMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=20, deadline=None)
test_deletion_machine = DeletionMachine.TestCase


def test_the_deletion_event_does_not_name_the_participants(store: SqlStore) -> None:
    """What stays after a delete (the tombstone, the deletion event) holds no personal data."""
    gone = bologna(store, "gone")
    names = [p.name for p in gone.state.participants]
    store.delete("gone", expected_version=gone.version, actor=ADMIN, at=LATER)
    e = store.tables.engagements
    with store.engine.connect() as conn:
        tombstone = conn.execute(sa.select(e.c.snapshot).where(e.c.id == "gone")).scalar_one()
    payloads = [tombstone] + [store.codec.dumps(entry.event) for entry in store.outbox("gone")]
    assert names
    assert not [n for n in names for text in payloads if n in text]


def _toggled_version(engagement: StoredEngagement) -> int:
    toggle(engagement)
    return engagement.version


def test_saves_racing_a_delete_either_commit_before_it_or_write_nothing(store: SqlStore) -> None:
    """Four threads keep toggling one engagement (retrying conflicts) while it is deleted: every
    save that returned is in the outbox before the deletion, every other one wrote nothing, and
    the event sequences run on without a gap."""
    target = bologna(store, "raced")
    saved: list[int] = []  # the version each successful save made
    ended: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            while True:
                version = retry_action(store, "raced", _toggled_version, attempts=50)
                with lock:
                    saved.append(version)
        except DeletedEngagement as gone:
            ended.append(gone)
        except BaseException as error:  # anything else fails the test below
            ended.append(error)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    while len(saved) < 12 and not ended:
        threading.Event().wait(0.005)
    deletion = None
    while deletion is None:
        version = StoredEngagement.load(store, "raced").version
        try:
            deletion = store.delete("raced", expected_version=version, actor=ADMIN, at=LATER)
        except ConcurrencyConflict:
            continue  # a save came first: decide again on the version it made
    for thread in threads:
        thread.join(timeout=60)
    assert [type(e) for e in ended] == [DeletedEngagement] * 4
    assert sorted(saved) == list(range(2, deletion.version + 1))
    events = [e.event for e in store.outbox("raced")]
    assert [e.sequence for e in events] == list(range(1, deletion.sequence + 1))
    assert events[-1] == deletion
    assert len(events) == 1 + 2 * len(saved) + 1  # creation, two per toggle, the deletion
    assert target.version == 1


def test_the_deletions_are_listed_in_id_order_and_outlive_the_outbox(store: SqlStore) -> None:
    for name in ("d", "a", "e", "b", "c"):
        bologna(store, name)
    deleted = {
        name: store.delete(name, expected_version=1, actor=ADMIN, at=LATER.add(hours=n))
        for n, name in enumerate(("e", "a", "c"))
    }
    Relay(store, lambda e: None, clock=FrozenClock(LATER)).run_once()
    assert store.prune_outbox(LATER.add(days=1)) > 0
    assert store.outbox("a") == ()  # the deletion event was delivered and pruned
    assert store.deletions() == (deleted["a"], deleted["c"], deleted["e"])
    assert store.deletions(limit=2) == (deleted["a"], deleted["c"])
    assert store.deletions(after="c", limit=2) == (deleted["e"],)
    assert store.ids() == ("b", "d")


@pytest.mark.parametrize(
    ("arguments", "path"), [({"limit": 0}, "$.limit"), ({"after": 3}, "$.after")]
)
def test_bad_arguments_to_deletions_are_named(
    store: SqlStore, arguments: dict[str, Any], path: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        store.deletions(**arguments)
    assert [p.path for p in refused.value.problems] == [path]


def test_a_deleted_engagement_leaves_no_trace_in_the_sqlite_files(tmp_path: Path) -> None:
    """With the log checkpointed, neither the database file nor its log holds the deleted
    engagement's title, a reason given in its history, or an earlier snapshot of it, even where
    SQLite's build leaves secure delete off (as this test's first listener sets it)."""
    path = tmp_path / "erased.sqlite3"
    store = SqlStore.open(path)
    store.engine.dispose()

    def build_default_off(dbapi_connection: Any, _: object) -> None:
        dbapi_connection.execute("PRAGMA secure_delete=OFF")

    sa.event.listen(store.engine, "connect", build_default_off, insert=True)
    try:
        plan = bologna(store, "kept").state
        gone = StoredEngagement.start(
            bologna(store, "template").method,
            store=store,
            id="gone",
            title="Qzx secret title",
            organisations=plan.organisations,
            participants=plan.participants,
            actor=plan.history[0].actor,
            at=CREATED,
        )
        for hour in range(10):  # earlier snapshots, overwritten, and reasons in history and events
            at = CREATED.add(hours=hour)
            if gone.phase == "paused":
                gone.fire("resume", actor=plan.history[0].actor, at=at)
            else:
                gone.fire("pause", actor=plan.history[0].actor, at=at, reason="Qzx reason")
        Relay(store, lambda e: None, clock=FrozenClock(LATER)).run_once()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA secure_delete").scalar_one() == 1
        store.delete("gone", expected_version=gone.version, actor=ADMIN, at=LATER)
    finally:
        store.close()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw.close()
    files = [path, path.with_name(path.name + "-wal")]
    data = b"".join(f.read_bytes() for f in files if f.exists())
    assert b"Qzx" not in data
    assert plan.title.encode() in data  # the engagement kept is all there


def _files_of(path: Path) -> bytes:
    return b"".join(f.read_bytes() for f in (path, Path(f"{path}-wal")) if f.exists())


def test_checkpoint_empties_the_log_while_workers_keep_the_database_open(tmp_path: Path) -> None:
    """A platform's workers keep the file open, so the log is not emptied on close: the
    deleted engagement's text stays in it until ``checkpoint``, and is in neither file after."""
    path = tmp_path / "busy.sqlite3"
    store = SqlStore.open(path)
    worker = sqlite3.connect(path)  # another process's connection, idle between requests
    try:
        worker.execute("SELECT count(*) FROM mf_engagements").fetchall()
        kept = bologna(store, "kept")
        gone = StoredEngagement.start(
            kept.method,
            store=store,
            id="gone",
            title="Qzx secret title",
            organisations=kept.state.organisations,
            participants=kept.state.participants,
            actor=FACILITATOR,
            at=CREATED,
        )
        gone.fire("pause", actor=FACILITATOR, at=LATER, reason="Qzx reason")
        Relay(store, lambda e: None, clock=FrozenClock(LATER)).run_once()  # delivered: deletable
        store.delete("gone", expected_version=gone.version, actor=ADMIN, at=LATER)
        assert b"Qzx" in _files_of(path)  # still in the log's older pages
        assert store.checkpoint() is True
        assert Path(f"{path}-wal").stat().st_size == 0
        assert b"Qzx" not in _files_of(path)
        assert kept.state.title.encode() in _files_of(path)
        assert store.load("kept") == kept.state
    finally:
        worker.close()
        store.close()


def test_checkpoint_says_when_a_reader_holds_it_back(tmp_path: Path) -> None:
    """A reader in the middle of a transaction still needs the log's pages: the checkpoint
    waits the busy timeout, answers False, and succeeds once the reader is done."""
    path = tmp_path / "reader.sqlite3"
    store = SqlStore.open(path, busy_timeout=0.2)
    reader = sqlite3.connect(path, isolation_level=None)
    try:
        gone = bologna(store, "gone")
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM mf_engagements").fetchall()  # holds its snapshot
        store.delete("gone", expected_version=gone.version, actor=ADMIN, at=LATER)
        assert store.checkpoint() is False
        reader.execute("COMMIT")
        assert store.checkpoint() is True
    finally:
        reader.close()
        store.close()


@pytest.mark.postgres
def test_checkpoint_on_postgresql_answers_false_and_changes_nothing(tmp_path: Path) -> None:
    opened = open_store("postgresql", tmp_path)
    store = next(opened)
    try:
        engagement = bologna(store)
        assert store.checkpoint() is False
        assert store.load(engagement.id) == engagement.state
    finally:
        opened.close()  # closes the store and drops its schema
