"""The relay under load and abuse: saves never wait for handlers, relays take turns, bad settings refused."""

from __future__ import annotations

import multiprocessing
import os
import shutil
import site
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

import mentorflow
from _stores import BACKENDS, FACILITATOR, OverlapWatch, bologna, drop_schema, store_target
from mentorflow._relay_turn import relay_turn
from mentorflow.clock import FrozenClock
from mentorflow.events import Event, EventBus
from mentorflow.exceptions import InvalidInput
from mentorflow.outbox import LONGEST_BACKOFF, Backoff, Relay
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus, StoredEngagement

SPAWN = multiprocessing.get_context("spawn")
LATER = pendulum.datetime(2017, 7, 1, tz="Europe/Brussels")


@pytest.fixture(params=BACKENDS)
def impatient_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """A store whose SQLite writers give up on the write lock after half a second."""
    target, schema = store_target(request.param, tmp_path)
    store = SqlStore.open(target, schema=schema, busy_timeout=0.5)
    try:
        yield store
    finally:
        store.close()
        drop_schema(schema)


def _pending(store: SqlStore) -> int:
    return len(store.outbox(status=OutboxStatus.PENDING))


# -- saves while a handler runs ------------------------------------------------------------------


def test_a_save_goes_through_while_a_handler_is_running(impatient_store: SqlStore) -> None:
    """A save made while the relay's handler runs commits at once, before the handler returns."""
    store = impatient_store
    for n in range(3):
        bologna(store, f"e{n}")
    other = bologna(store, "other")
    Relay(store, lambda e: None).run_once()  # only the events below are pending
    for n in range(3):
        StoredEngagement.load(store, f"e{n}").fire("confirm_match", actor=FACILITATOR, at=LATER)
    started, released = threading.Event(), threading.Event()
    waits: list[bool] = []

    def slow(event: Event) -> None:
        started.set()
        # Held until the save below is done; on SQLite that takes longer than the busy timeout.
        waits.append(released.wait(timeout=5))

    relay = Relay(store, slow, clock=FrozenClock(LATER), batch_size=1)
    worker = threading.Thread(target=relay.run_once)
    worker.start()
    assert started.wait(timeout=30)
    try:
        other.fire("pause", actor=FACILITATOR, at=LATER, reason="summer")
        bologna(store, "started-meanwhile")
    finally:
        released.set()
        worker.join()
    assert waits == [True]  # the handler was still running when both saves committed
    assert store.load("other").phase.startswith("paused")
    assert store.load("started-meanwhile").version == 1


def test_a_save_on_sqlite_waits_for_no_handler_of_a_batch(tmp_path: Path) -> None:
    """SQLite, busy timeout 0.5 s, handlers of 0.6 s: saves made during the batch all succeed."""
    store = SqlStore.open(tmp_path / "store.sqlite3", busy_timeout=0.5)
    for n in range(3):
        bologna(store, f"e{n}")
    started = threading.Event()

    def slow(event: Event) -> None:
        if event.engagement_id.startswith("meanwhile"):
            return  # the saves below add events too: only the first three are slow
        started.set()
        time.sleep(0.6)

    worker = threading.Thread(target=Relay(store, slow, clock=FrozenClock(LATER)).run_once)
    worker.start()
    assert started.wait(timeout=30)
    saved = []
    while worker.is_alive():  # a save every 0.1 s for the whole batch of three handlers
        saved.append(bologna(store, f"meanwhile-{len(saved)}").id)
        time.sleep(0.1)
    worker.join()
    assert len(saved) >= 5  # saves kept committing while the three handlers ran
    assert store.ids() == tuple(sorted([*saved, "e0", "e1", "e2"]))


# -- relays in parallel on SQLite -----------------------------------------------------------------


def _six_engagements_of_five_events(store: SqlStore) -> None:
    for n in range(6):
        engagement = bologna(store, f"e{n}")
        engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
        engagement.fire("pause", actor=FACILITATOR, at=LATER, reason="x")


def test_parallel_relay_threads_on_sqlite_deliver_each_event_once_in_order(
    tmp_path: Path,
) -> None:
    """Four relays in threads on one SQLite file: no event twice or at once, order per engagement."""
    store = SqlStore.open(tmp_path / "store.sqlite3")
    _six_engagements_of_five_events(store)
    handler = OverlapWatch()
    seen, overlaps = handler.seen, handler.overlaps

    def relay_until_drained(relay: Relay) -> None:
        deadline = time.monotonic() + 60
        while _pending(store) and time.monotonic() < deadline:
            if not relay.run_once().handled:
                time.sleep(0.001)  # another relay has the turn

    relays = [Relay(store, handler, clock=FrozenClock(LATER), batch_size=3) for _ in range(4)]
    threads = [threading.Thread(target=relay_until_drained, args=(r,)) for r in relays]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlaps == []
    assert len(seen) == len(set(seen)) == 6 * 5
    for n in range(6):
        assert [s for e, s in seen if e == f"e{n}"] == [1, 2, 3, 4, 5]


def record_deliveries(target: str, journal: str) -> None:
    """Child process: relay until the outbox is drained, journaling each delivery with its pid."""
    store = SqlStore.open(target, create=False)
    engine = sa.create_engine(f"sqlite:///{journal}", connect_args={"timeout": 30})

    def handler(event: Event) -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO delivered (event_id, engagement_id, sequence, pid) VALUES (?, ?, ?, ?)",
                (event.id, event.engagement_id, event.sequence, os.getpid()),
            )

    deadline = time.monotonic() + 120
    Relay(store, handler, clock=FrozenClock(LATER), batch_size=2).run(
        stop=lambda: not _pending(store) or time.monotonic() > deadline, idle_seconds=0.005
    )
    store.close()


@pytest.mark.slow
def test_parallel_relay_processes_on_sqlite_deliver_each_event_once_in_order(
    tmp_path: Path,
) -> None:
    """Three relay processes on one SQLite file: each event delivered once, in order per engagement."""
    target = str(tmp_path / "store.sqlite3")
    journal = str(tmp_path / "journal.sqlite3")
    store = SqlStore.open(target)
    _six_engagements_of_five_events(store)
    engine = sa.create_engine(f"sqlite:///{journal}")
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE delivered (n INTEGER PRIMARY KEY AUTOINCREMENT, event_id TEXT,"
            " engagement_id TEXT, sequence INTEGER, pid INTEGER)"
        )
    processes = [SPAWN.Process(target=record_deliveries, args=(target, journal)) for _ in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=180)
    assert [p.exitcode for p in processes] == [0, 0, 0]
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT event_id, engagement_id, sequence FROM delivered ORDER BY n"
        ).all()
    engine.dispose()
    assert len(rows) == len({r.event_id for r in rows}) == 6 * 5
    for n in range(6):
        assert [r.sequence for r in rows if r.engagement_id == f"e{n}"] == [1, 2, 3, 4, 5]
    store.close()


def test_a_relay_waits_its_turn_on_sqlite(tmp_path: Path) -> None:
    """While another relay has the SQLite turn, run_once returns an empty report; then delivers."""
    store = SqlStore.open(tmp_path / "store.sqlite3")
    bologna(store)
    seen: list[Event] = []
    relay = Relay(store, seen.append, clock=FrozenClock(LATER))
    with relay_turn(store.engine) as mine:
        assert mine
        assert relay.run_once().handled == 0
    assert relay.run_once().handled == 1
    assert [e.sequence for e in seen] == [1]


def test_a_relay_on_an_in_memory_store_delivers() -> None:
    """A store in memory (no file to lock) still has its events delivered in order."""
    store = SqlStore.open(":memory:")
    engagement = bologna(store)
    engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
    seen: list[Event] = []
    assert len(Relay(store, seen.append, clock=FrozenClock(LATER)).run_once().delivered) == 3
    assert [e.sequence for e in seen] == [1, 2, 3]


# -- dead-lettering by hand ----------------------------------------------------------------------


def test_an_operator_dead_letters_a_pending_event_and_replays_it(tmp_path: Path) -> None:
    """dead_letter marks a pending event dead with the reason; replay puts it back in line."""
    store = SqlStore.open(tmp_path / "store.sqlite3")
    engagement = bologna(store)
    engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
    seen: list[int] = []
    relay = Relay(store, lambda e: seen.append(e.sequence), clock=FrozenClock(LATER))
    first = store.outbox(engagement.id)[0].event_id
    relay.dead_letter(first, "kills the relay: see incident 12")
    [dead] = store.outbox(status=OutboxStatus.DEAD)
    assert (dead.event_id, dead.last_error) == (first, "kills the relay: see incident 12")
    assert relay.run_once().handled == 0
    with pytest.raises(InvalidInput) as refused:
        relay.dead_letter(first, "again")
    assert [p.path for p in refused.value.problems] == ["$.event_id"]
    store.replay(first)
    relay.run_once()
    assert seen == [1, 2, 3]


def test_one_relay_dead_letters_several_events_each_with_its_reason(tmp_path: Path) -> None:
    """Successive dead_letter calls on one relay mark each named event with its own reason and
    leave the others pending."""
    store = SqlStore.open(tmp_path / "store.sqlite3")
    ids = [store.outbox(bologna(store, name).id)[0].event_id for name in ("a", "b", "c")]
    relay = Relay(store, lambda e: None, clock=FrozenClock(LATER))
    relay.dead_letter(ids[0], "poison: incident 1")
    relay.dead_letter(ids[2], "poison: incident 3")
    assert {e.event_id: (e.status, e.last_error) for e in store.outbox()} == {
        ids[0]: (OutboxStatus.DEAD, "poison: incident 1"),
        ids[1]: (OutboxStatus.PENDING, None),
        ids[2]: (OutboxStatus.DEAD, "poison: incident 3"),
    }


# -- settings ----------------------------------------------------------------------------------


def test_backoff_saturates_instead_of_overflowing() -> None:
    """A thousand and more attempts wait ``maximum`` seconds instead of raising OverflowError."""
    assert Backoff().delay(1100) == 300.0
    assert Backoff(base=2, factor=1.5, maximum=60).delay(10**30) == 60.0
    assert Backoff(base=0, factor=10).delay(10**6) == 0.0


@pytest.mark.parametrize(
    ("fields", "paths"),
    [
        ({"base": -5}, ["$.base"]),
        ({"factor": 0.5}, ["$.factor"]),
        ({"base": 10, "maximum": 5}, ["$.maximum"]),
        ({"maximum": LONGEST_BACKOFF + 1}, ["$.maximum"]),
        (
            {"base": float("nan"), "factor": float("inf"), "maximum": "300"},
            ["$.base", "$.factor", "$.maximum"],
        ),
        ({"base": True}, ["$.base"]),
    ],
)
def test_backoff_refuses_bad_fields_by_name(fields: dict[str, Any], paths: list[str]) -> None:
    """A negative base, a shrinking factor, a maximum below base, or a non-finite number is refused."""
    with pytest.raises(InvalidInput) as refused:
        Backoff(**fields)
    assert [p.path for p in refused.value.problems] == paths


finite = st.floats(min_value=0, max_value=1e6, allow_nan=False)


@given(
    base=finite,
    factor=st.floats(min_value=1, max_value=1e3),
    headroom=st.floats(min_value=0, max_value=LONGEST_BACKOFF),
    attempts=st.integers(min_value=1, max_value=10**40),
    more=st.integers(min_value=0, max_value=10**6),
)
def test_backoff_delay_is_bounded_and_never_shrinks(
    base: float, factor: float, headroom: float, attempts: int, more: int
) -> None:
    """For any valid backoff, 0 <= delay <= maximum, and a later attempt never waits less."""
    backoff = Backoff(base=base, factor=factor, maximum=min(LONGEST_BACKOFF, base + headroom))
    delay = backoff.delay(attempts)
    assert 0 <= delay <= backoff.maximum
    assert delay <= backoff.delay(attempts + more)


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({"store": None}, "$.store"),
        ({"handler": None}, "$.handler"),
        ({"handler": "print"}, "$.handler"),
        ({"batch_size": "a"}, "$.batch_size"),
        ({"batch_size": 0}, "$.batch_size"),
        ({"batch_size": True}, "$.batch_size"),
        ({"max_attempts": 0}, "$.max_attempts"),
        ({"max_attempts": 2.5}, "$.max_attempts"),
        ({"backoff": 5}, "$.backoff"),
        ({"sleep": None}, "$.sleep"),
    ],
)
def test_relay_refuses_bad_arguments_by_name(
    arguments: dict[str, Any], path: str, tmp_path: Path
) -> None:
    """A missing store or handler, a batch size or attempt limit below 1, or a non-Backoff is refused."""
    store = SqlStore.open(tmp_path / "store.sqlite3")
    bologna(store)
    given_arguments: dict[str, Any] = {"store": store, "handler": lambda e: None, **arguments}
    with pytest.raises(InvalidInput) as refused:
        Relay(given_arguments.pop("store"), given_arguments.pop("handler"), **given_arguments)
    assert [p.path for p in refused.value.problems] == [path]
    assert _pending(store) == 1  # nothing was delivered or marked


def test_relay_names_every_bad_count_at_once(tmp_path: Path) -> None:
    """A bad attempt limit and a bad batch size are refused together, each at its path, in the
    words the store's other counts use (``as_count``)."""
    store = SqlStore.open(tmp_path / "store.sqlite3")
    with pytest.raises(InvalidInput) as refused:
        Relay(store, lambda e: None, max_attempts=0, batch_size=True)
    assert [str(problem) for problem in refused.value.problems] == [
        "$.max_attempts: must be at least 1",
        "$.batch_size: expected an integer, got bool",
    ]


def test_an_event_bus_is_accepted_as_handler(tmp_path: Path) -> None:
    """An EventBus passes the handler check and hears the events."""
    store = SqlStore.open(tmp_path / "store.sqlite3")
    bologna(store)
    heard: list[Event] = []
    bus = EventBus()
    bus.subscribe(Event, heard.append)
    assert len(Relay(store, bus, clock=FrozenClock(LATER)).run_once().delivered) == 1
    assert len(heard) == 1


# -- an operator's change while a handler runs, the turn's lock file --------------------------


def _blocked_handler(result: str) -> tuple[Any, list[str], threading.Event, threading.Event]:
    """A handler whose first call waits until released, then succeeds or raises; later calls
    do the same without waiting. Returns it, the ids it was called with, and its two signals."""
    calls: list[str] = []
    inside, release = threading.Event(), threading.Event()

    def handler(event: Event) -> None:
        calls.append(event.id)
        inside.set()
        assert release.wait(30)
        if result == "fails":
            raise RuntimeError("downstream 503")

    return handler, calls, inside, release


@pytest.mark.parametrize("result", ["succeeds", "fails"])
def test_a_replay_made_while_the_handler_runs_is_not_undone(tmp_path: Path, result: str) -> None:
    """SQLite: the operator's replay wins over the outcome of the attempt it interrupted. That
    outcome is dropped, and the replayed event is handed to the handler again."""
    store = SqlStore.open(tmp_path / "store.sqlite3")
    first = store.outbox(bologna(store).id)[0].event_id
    handler, calls, inside, release = _blocked_handler(result)
    relay = Relay(store, handler, clock=FrozenClock(LATER), max_attempts=1, batch_size=1)
    reports: list[Any] = []
    worker = threading.Thread(target=lambda: reports.append(relay.run_once()))
    worker.start()
    assert inside.wait(30)
    store.replay(first)
    release.set()
    worker.join()
    assert calls == [first, first]  # the interrupted attempt, then the replayed one
    entry = next(e for e in store.outbox() if e.event_id == first)
    expected = OutboxStatus.DELIVERED if result == "succeeds" else OutboxStatus.DEAD
    assert (entry.status, entry.attempts) == (expected, 1)
    assert reports[0].handled == 1


def test_a_dead_letter_made_while_the_handler_runs_is_not_undone(tmp_path: Path) -> None:
    """SQLite: an event the operator dead-lettered while its handler ran stays dead with the
    operator's reason, though the handler then succeeded."""
    store = SqlStore.open(tmp_path / "store.sqlite3")
    first = store.outbox(bologna(store).id)[0].event_id
    handler, calls, inside, release = _blocked_handler("succeeds")
    relay = Relay(store, handler, clock=FrozenClock(LATER), batch_size=1)
    worker = threading.Thread(target=relay.run_once)
    worker.start()
    assert inside.wait(30)
    relay.dead_letter(first, "poison: incident 12")
    release.set()
    worker.join()
    entry = next(e for e in store.outbox() if e.event_id == first)
    assert (entry.status, entry.last_error) == (OutboxStatus.DEAD, "poison: incident 12")
    assert calls == [first]


@pytest.mark.parametrize("reason", [None, "", "   ", 12])
def test_a_dead_letter_needs_a_reason(tmp_path: Path, reason: Any) -> None:
    """dead_letter refuses a reason that is not a non-empty text, and the event stays pending."""
    store = SqlStore.open(tmp_path / "store.sqlite3")
    first = store.outbox(bologna(store).id)[0].event_id
    relay = Relay(store, lambda event: None, clock=FrozenClock(LATER))
    with pytest.raises(InvalidInput) as refused:
        relay.dead_letter(first, reason)
    assert [p.path for p in refused.value.problems] == ["$.reason"]
    assert store.outbox()[0].status == OutboxStatus.PENDING


def test_in_memory_stores_do_not_share_a_turn() -> None:
    """Two separate in-memory stores each have a turn of their own (their URLs read the same)."""
    one = SqlStore.open("sqlite://")
    other = SqlStore.open("sqlite://")
    with relay_turn(one.engine) as first, relay_turn(other.engine) as second:
        assert (first, second) == (True, True)
    with relay_turn(one.engine) as first, relay_turn(one.engine) as again:
        assert (first, again) == (True, False)


def test_a_file_uri_and_its_path_share_a_turn(tmp_path: Path) -> None:
    """A store opened by a percent-encoded file: URI and one opened by the plain path find the
    same lock: while one has the turn, the other does not get it."""
    path = tmp_path / "with space.sqlite3"
    plain = SqlStore.open(path)
    encoded = path.as_posix().replace(" ", "%20")
    by_uri = SqlStore.open(f"sqlite:///file:{encoded}?uri=true")
    with relay_turn(plain.engine) as first, relay_turn(by_uri.engine) as second:
        assert (first, second) == (True, False)


_NOT_WRITABLE_CHILD = """
import sys
from mentorflow.exceptions import InvalidInput
from mentorflow.outbox import Relay
from mentorflow.sqlstore import SqlStore
store = SqlStore.open(sys.argv[1])
try:
    Relay(store, lambda event: None).run_once()
except InvalidInput as error:
    print(error.problems[0].path, error.problems[0].message)
else:
    print("delivered")
"""


@pytest.fixture
def shared_dir() -> Iterator[Path]:
    """A directory every user may enter and write (pytest's own are private to their owner)."""
    path = Path(tempfile.mkdtemp(prefix="mentorflow-relay-lock-"))
    path.chmod(0o777)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_a_relay_refuses_a_lock_file_it_cannot_write(shared_dir: Path) -> None:
    """A lock file this process may only read gives no turn (SQLite would open it read-only,
    and a read-only lock excludes no one): the relay refuses, naming the file."""
    store = SqlStore.open(shared_dir / "store.sqlite3")
    bologna(store)
    store.close()
    lock = shared_dir / "store.sqlite3-relay-lock"
    lock.touch()
    lock.chmod(0o444)
    for name in ("store.sqlite3", "store.sqlite3-wal", "store.sqlite3-shm"):
        if (shared_dir / name).exists():
            (shared_dir / name).chmod(0o666)
    shared_dir.chmod(0o777)
    command = [sys.executable, "-c", _NOT_WRITABLE_CHILD, str(shared_dir / "store.sqlite3")]
    env = dict(os.environ)
    as_user = None
    if os.geteuid() == 0:
        # Root may write any file: run the relay as an ordinary user. Root's own interpreter
        # may sit where others cannot reach; the system's, on this venv's packages, can.
        system = Path("/usr/bin/python3")
        same = f"{sys.version_info[0]}.{sys.version_info[1]}"
        if (
            not system.exists()
            or same
            not in subprocess.run(
                [str(system), "--version"], capture_output=True, text=True, check=False
            ).stdout
        ):
            pytest.skip(f"running as root and no system Python {same} to run as another user")
        command[0] = str(system)
        env["PYTHONPATH"] = os.pathsep.join(
            [str(Path(mentorflow.__file__).parents[1]), *site.getsitepackages()]
        )

        def as_user() -> None:
            os.setgid(65534)
            os.setuid(65534)

    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        preexec_fn=as_user,  # the child only imports and runs one relay
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("$.store the relays' lock file"), result.stdout
    assert str(lock) in result.stdout
