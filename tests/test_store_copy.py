"""SqlStore.copy_to: everything a store holds, copied into an empty one (SQLite to PostgreSQL and
back), so the target goes on exactly where the source stands; all of it or none."""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _stores import (
    CREATED,
    bologna,
    leave_begun,
    open_store,
    start_plan,
    toggle,
)
from mentorflow.clock import FrozenClock
from mentorflow.events import Event
from mentorflow.exceptions import InvalidInput
from mentorflow.outbox import Backoff, Relay
from mentorflow.reminder_scheduler import ReminderScheduler
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement

FAR = pendulum.datetime(2030, 1, 1, tz="UTC")
PAIRS = [
    pytest.param(("sqlite", "sqlite"), id="sqlite-to-sqlite"),
    pytest.param(("sqlite", "postgresql"), id="sqlite-to-postgresql", marks=pytest.mark.postgres),
    pytest.param(("postgresql", "sqlite"), id="postgresql-to-sqlite", marks=pytest.mark.postgres),
    pytest.param(
        ("postgresql", "postgresql"), id="postgresql-to-postgresql", marks=pytest.mark.postgres
    ),
]


@pytest.fixture(params=PAIRS)
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[SqlStore, SqlStore]]:
    """An empty source and an empty target on the two backends of the pair."""
    source_backend, target_backend = request.param
    for folder in ("source", "target"):
        (tmp_path / folder).mkdir()
    sources = open_store(source_backend, tmp_path / "source")
    targets = open_store(target_backend, tmp_path / "target")
    try:
        yield next(sources), next(targets)
    finally:
        next(sources, None)
        next(targets, None)


def populate(store: SqlStore) -> None:
    """Engagements in several phases, events delivered, pending, retrying and dead, reminders
    settled, a deleted engagement, and (PostgreSQL) a relay's count of attempts begun."""
    clock = FrozenClock(CREATED)
    a, b, c = bologna(store, "a"), bologna(store, "b"), bologna(store, "c")
    start_plan(store, 0, pendulum.date(2017, 11, 6), "turin")
    toggle(a)
    toggle(b)
    Relay(store, lambda e: None, clock=clock).run_once()  # delivered
    toggle(b)

    def b_is_down(event: Event) -> None:
        if event.engagement_id == "b":
            raise ConnectionError("b's system is down")

    Relay(store, b_is_down, clock=clock, max_attempts=1).run_once()  # b's new events: dead
    toggle(a)
    Relay(store, lambda e: 1 / 0, clock=clock, backoff=Backoff(base=60)).run_once()  # retrying
    store.delete("c", expected_version=c.version, actor="admin", at=CREATED.add(days=1))
    ReminderScheduler(store).tick(pendulum.datetime(2017, 10, 1, tz="UTC"))
    if store.dialect == "postgresql":
        (waiting, *_) = [e.event_id for e in store.outbox("a") if e.status == "pending"]
        leave_begun(store, waiting, 1)


def contents(store: SqlStore) -> dict[str, Any]:
    """What a host can read from the store, through its own API, plus the scheduler's ticks."""
    ids = store.ids()
    ticks = store.tables.reminder_ticks
    with store.reading() as conn:
        ticked = conn.execute(sa.select(ticks).order_by(ticks.c.name)).all()
    return {
        "ids": ids,
        "snapshots": {i: store.load(i) for i in ids},
        "history": {i: store.history(i) for i in ids},
        "outbox": store.outbox(),
        "deletions": store.deletions(),
        "due": store.due_before(FAR),
        "owed": {org.id: store.owed_by(org.id) for i in ids for org in store.load(i).organisations},
        "ledger": ReminderScheduler(store).ledger(),
        "ticks": [tuple(row) for row in ticked],
    }


def test_the_target_holds_what_the_source_holds(stores: tuple[SqlStore, SqlStore]) -> None:
    source, target = stores
    populate(source)
    counts = source.copy_to(target, batch_size=3)  # several batches per table
    assert contents(target) == contents(source)
    assert counts["engagements"] == 4  # three live, one deleted
    assert counts["outbox"] == len(source.outbox())
    assert counts["outbox_attempts"] == (1 if source.dialect == "postgresql" else 0)
    assert counts["reminders"] > 0
    assert counts["deadlines"] > 0


def test_the_target_goes_on_where_the_source_stands(stores: tuple[SqlStore, SqlStore]) -> None:
    """The same save and the same relay on both: the same events, each engagement's in the same
    order (the relay's promise; across engagements the databases may differ), and the target's
    new events come after the copied ones."""
    source, target = stores
    populate(source)
    source.copy_to(target)
    clock = FrozenClock(CREATED.add(days=2))
    delivered = []
    for store in (source, target):
        engagement = StoredEngagement.load(store, "a")
        toggle(engagement, clock.now())
        assert store.outbox()[-1].event_id == engagement.history[-1].event_ids[-1]
        got: dict[str, list[str]] = {}
        Relay(
            store, lambda e, got=got: got.setdefault(e.engagement_id, []).append(e.id), clock=clock
        ).run_once()
        delivered.append(got)
    assert delivered[0] == delivered[1]
    assert len(delivered[0]["a"]) > 2  # the retrying event, then the new toggle's two
    assert contents(target)["outbox"] == contents(source)["outbox"]


def test_a_target_that_holds_anything_is_refused_and_left_as_it_was(
    stores: tuple[SqlStore, SqlStore],
) -> None:
    source, target = stores
    populate(source)
    bologna(target, "already-here")
    before = contents(target)
    with pytest.raises(InvalidInput) as refused:
        source.copy_to(target)
    assert [p.path for p in refused.value.problems] == ["$.target", "$.target"]
    assert "holds 1 engagement(s)" in str(refused.value)
    assert contents(target) == before


def test_a_copy_that_fails_half_way_writes_nothing(stores: tuple[SqlStore, SqlStore]) -> None:
    """A row the target cannot take (a participant already there, under the same key) fails the
    copy after the engagements and history went in: the target keeps none of them."""
    source, target = stores
    populate(source)
    p = target.tables.participants
    with target.engine.begin() as conn:
        row = {"engagement_id": "a", "participant_id": "eurocities-1"}
        conn.execute(p.insert().values(**row, organisation_id="x", role="facilitator"))
    with pytest.raises(sa.exc.IntegrityError):
        source.copy_to(target)
    assert target.ids() == ()
    assert target.outbox() == ()
    assert target.history("a") == ()


@pytest.mark.parametrize(
    ("arguments", "path"),
    [({"target": "postgresql://elsewhere"}, "$.target"), ({"batch_size": 0}, "$.batch_size")],
)
def test_bad_arguments_are_named(tmp_path: Path, arguments: dict[str, Any], path: str) -> None:
    source = SqlStore.open(tmp_path / "source.sqlite3")
    target = SqlStore.open(tmp_path / "target.sqlite3")
    try:
        with pytest.raises(InvalidInput) as refused:
            source.copy_to(**{"target": target, **arguments})
        assert [p.path for p in refused.value.problems] == [path]
        assert target.ids() == ()
    finally:
        source.close()
        target.close()


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["toggle", "relay", "relay-failing", "delete", "create", "tick"]),
        st.sampled_from(["x", "y", "z"]),
    ),
    max_size=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=ACTIONS)
def test_any_history_of_actions_copies_exactly(actions: list[tuple[str, str]]) -> None:
    """Whatever was done to the source (saves, deliveries that failed or not, deletions,
    reminder ticks), the copy reads back the same through every query of the store."""
    folder = Path(tempfile.mkdtemp(prefix="mf-copy-"))
    source = SqlStore.open(folder / "source.sqlite3")
    target = SqlStore.open(folder / "target.sqlite3")
    clock = FrozenClock(CREATED)
    try:
        for action, name in actions:
            clock.advance(hours=5)
            live = name in source.ids()
            if action == "create" and name not in {*source.ids(), *_deleted(source)}:
                bologna(source, name, at=clock.now())
            elif action == "toggle" and live:
                toggle(StoredEngagement.load(source, name), clock.now())
            elif action == "delete" and live:
                version = source.load(name).version
                source.delete(name, expected_version=version, actor="admin", at=clock.now())
            elif action == "relay":
                Relay(source, lambda e: None, clock=clock).run_once()
            elif action == "relay-failing":
                Relay(source, lambda e: 1 / 0, clock=clock, max_attempts=2).run_once()
            elif action == "tick":
                ReminderScheduler(source).tick(clock.now())
        source.copy_to(target, batch_size=2)
        assert contents(target) == contents(source)
    finally:
        source.close()
        target.close()
        shutil.rmtree(folder, ignore_errors=True)


def _deleted(store: SqlStore) -> set[str]:
    return {d.engagement_id for d in store.deletions()}


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_a_copy_taken_while_a_worker_saves_is_one_moment_of_the_source(
    backend: str, tmp_path: Path
) -> None:
    """A worker keeps saving while the source is copied a row at a time: every engagement in the
    copy has exactly the history its version says, and exactly the events that history names."""
    sources = open_store(backend, tmp_path)
    source = next(sources)
    target = SqlStore.open(tmp_path / "target.sqlite3")
    stop = threading.Event()
    saves: list[int] = []

    def worker() -> None:
        engagements = [StoredEngagement.load(source, name) for name in ("p", "q", "r")]
        while not stop.is_set():
            for engagement in engagements:
                toggle(engagement)
                saves.append(engagement.version)

    try:
        for name in ("p", "q", "r"):
            bologna(source, name)
        for _ in range(5):  # enough rows that a copy a row at a time takes a while
            for name in ("p", "q", "r"):
                toggle(StoredEngagement.load(source, name))
        saving = threading.Thread(target=worker)
        saving.start()
        while len(saves) < 6:
            threading.Event().wait(0.001)
        before = len(saves)
        source.copy_to(target, batch_size=1)
        after = len(saves)
        stop.set()
        saving.join(timeout=30)
        assert after > before  # the worker did save while the copy ran
        for name in ("p", "q", "r"):
            history = target.history(name)
            assert len(history) == target.load(name).version
            named = [i for entry in history for i in entry.event_ids]
            assert [e.event_id for e in target.outbox(name)] == named
    finally:
        stop.set()
        target.close()
        next(sources, None)
