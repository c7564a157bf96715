"""Rolling a new method version out to the stored engagements: ``mentorflow.rollout.roll_out``.

Which engagements move, which stay and why, that a dry run writes nothing, that a roll-out
stopped or run twice moves each engagement once, and how it meets other workers' saves.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import pendulum
import pytest
import sqlalchemy as sa

from _stores import (
    BACKENDS,
    CREATED,
    FACILITATOR,
    bologna,
    drop_schema,
    start_plan,
    store_target,
    toggle,
)
from mentorflow.catalog import METHODS
from mentorflow.events import MethodMigrated
from mentorflow.exceptions import InvalidInput
from mentorflow.methods import Method
from mentorflow.requirements import Delivered
from mentorflow.rollout import Rollout, RolloutStatus, roll_out
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement
from mentorflow.versions import MethodRegistry

VISIT = pendulum.date(2017, 11, 24)
LATER = CREATED.add(months=3)


def plain(version: int) -> Method:
    """The built-in ROCK mentoring method under a new version number, otherwise the same."""
    return attrs.evolve(METHODS["rock.mentoring"](), version=version, description=f"v{version}")


def gated(version: int, method_id: str = "rock.mentoring") -> Method:
    """A version whose match needs the rapporteur's article: engagements past the match cannot
    take it (MF-MIGRATE), those still in match-making can."""
    current = METHODS[method_id]()
    return attrs.evolve(
        current,
        version=version,
        triggers=tuple(
            attrs.evolve(t, requirements=(*t.requirements, Delivered("article", "R-COMM-1")))
            if t.name == "confirm_match"
            else t
            for t in current.triggers
        ),
    )


@pytest.fixture(params=BACKENDS)
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """A fresh database for the test: (target, schema)."""
    target, schema = store_target(request.param, tmp_path)
    yield target, schema
    drop_schema(schema)


@pytest.fixture
def store(where: tuple[str, str | None]) -> Iterator[SqlStore]:
    store = SqlStore.open(where[0], schema=where[1])
    yield store
    store.close()


def another_process(where: tuple[str, str | None], methods: MethodRegistry) -> SqlStore:
    """The same database opened as another worker process would, with ``methods``."""
    return SqlStore.open(where[0], schema=where[1], methods=methods, create=False)


def programme(store: SqlStore) -> dict[str, StoredEngagement]:
    """Five mentorings of Bologna: two in match-making, one matched, one cancelled, one paused;
    and a work-shadowing (another method) that no roll-out of the mentoring method touches."""
    made = {name: start_plan(store, 2, VISIT, name) for name in ("a", "b", "matched", "x", "p")}
    made["matched"].fire("confirm_match", actor=FACILITATOR, at=CREATED)
    made["x"].fire("cancel", actor=FACILITATOR, at=CREATED, reason="no budget")
    made["p"].fire("pause", actor=FACILITATOR, at=CREATED, reason="elections")
    made["shadow"] = start_plan(store, 0, VISIT, "shadow")
    assert made["shadow"].method.id != "rock.mentoring"
    return made


def stored_rows(store: SqlStore) -> list[tuple[Any, ...]]:
    """Every engagement row and every outbox event: what a roll-out may change."""
    e, o = store.tables.engagements, store.tables.outbox
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(e.c.id, e.c.version, e.c.method_version).order_by(e.c.id))
        events = conn.execute(sa.select(o.c.event_id).order_by(o.c.event_id))
        return [*map(tuple, rows), *map(tuple, events)]


def statuses(rollout: Rollout) -> dict[str, str]:
    return {entry.engagement_id: entry.status.value for entry in rollout.entries}


def test_a_dry_run_says_what_would_move_and_writes_nothing(store: SqlStore) -> None:
    """Ended engagements stay as they ran; the one past the new gate is refused with the
    deliverable it lacks; the other method's engagement is not listed."""
    programme(store)
    before = stored_rows(store)
    rollout = roll_out(store, gated(2), actor=FACILITATOR, at=LATER, dry_run=True)
    assert statuses(rollout) == {
        "a": "ready",
        "b": "ready",
        "matched": "refused",
        "p": "ready",
        "x": "ended",
    }
    (refused,) = rollout.with_status(RolloutStatus.REFUSED)
    assert refused.verdict is not None
    assert [(f.rule, f.deliverable) for f in refused.verdict.unmet] == [("MF-MIGRATE", "article")]
    assert not rollout.complete
    assert rollout.counts() == {
        "migrated": 0, "ready": 3, "refused": 1, "ended": 1, "busy": 0, "skipped": 0,
    }  # fmt: skip
    assert "matched (v1) refused: [MF-MIGRATE]" in rollout.explain()
    assert stored_rows(store) == before
    assert (gated(2).id, 2) not in store.methods  # registered only with a saved migration


def test_a_roll_out_moves_each_engagement_that_may_move_once(store: SqlStore) -> None:
    made = programme(store)
    rollout = roll_out(store, gated(2), actor=FACILITATOR, at=LATER, reason="2018 edition")
    assert statuses(rollout) == {
        "a": "migrated",
        "b": "migrated",
        "matched": "refused",
        "p": "migrated",
        "x": "ended",
    }
    for name, engagement in made.items():
        now = StoredEngagement.load(store, name)
        moved = name in ("a", "b", "p")
        assert now.method.version == (2 if moved else 1)
        assert now.version == engagement.version + moved
        if moved:
            entry = now.state.history[-1]
            assert (entry.action, entry.actor, entry.reason) == (
                "migrate",
                FACILITATOR,
                "2018 edition",
            )
            events = [e.event for e in store.outbox(name) if isinstance(e.event, MethodMigrated)]
            assert [(e.from_version, e.to_version) for e in events] == [(1, 2)]
    assert StoredEngagement.load(store, "p").phase == "paused"  # moved, and stays paused
    # Run again: the moved ones are no longer on an older version, nothing moves twice.
    before = stored_rows(store)
    again = roll_out(store, gated(2), actor=FACILITATOR, at=LATER)
    assert statuses(again) == {"matched": "refused", "x": "ended"}
    assert stored_rows(store) == before


def test_only_engagements_on_an_older_version_of_that_method_are_candidates(
    store: SqlStore,
) -> None:
    programme(store)
    roll_out(store, plain(3), actor=FACILITATOR, at=LATER)
    assert store.ids(method_id="rock.mentoring", method_version=3) == ("a", "b", "matched", "p")
    # v2 is older than v3: no engagement on v3 goes back; the cancelled one stays on v1.
    assert statuses(roll_out(store, gated(2), actor=FACILITATOR, at=LATER)) == {"x": "ended"}
    assert statuses(roll_out(store, plain(4), actor=FACILITATOR, at=LATER, dry_run=True)) == {
        "a": "ready", "b": "ready", "matched": "ready", "p": "ready", "x": "ended",
    }  # fmt: skip


def test_an_actor_who_takes_no_part_is_refused_in_each_engagement(store: SqlStore) -> None:
    programme(store)
    before = stored_rows(store)
    rollout = roll_out(store, plain(2), actor="someone-else", at=LATER)
    for entry in rollout.with_status(RolloutStatus.REFUSED):
        assert entry.verdict is not None
        assert ("MF-ROLE", "'someone-else' takes no part in " + repr(entry.engagement_id)) in [
            (f.rule, f.message) for f in entry.verdict.unmet
        ]
    assert set(statuses(rollout).values()) == {"refused", "ended"}
    assert stored_rows(store) == before


def test_what_would_stop_it_half_way_is_refused_before_anything_is_written(
    store: SqlStore, where: tuple[str, str | None]
) -> None:
    """An older version the store cannot load, and a time before an engagement's last action,
    are found before the first engagement moves, every one named."""
    programme(store)
    before = stored_rows(store)
    with pytest.raises(InvalidInput) as early:
        roll_out(store, plain(2), actor=FACILITATOR, at=CREATED.subtract(days=1))
    # Each engagement that would move is named; "x" (cancelled) would not, so it is not.
    assert [(p.path, p.message.split(" (")[0]) for p in early.value.problems] == [
        ("$.at", f"is before the last action of {name}") for name in ("a", "b", "matched", "p")
    ]
    assert stored_rows(store) == before
    roll_out(store, plain(2), actor=FACILITATOR, at=LATER)
    # Another process that knows only the built-ins cannot load the engagements on v2.
    bare = another_process(where, MethodRegistry.builtin())
    try:
        before = stored_rows(store)
        with pytest.raises(InvalidInput) as unknown:
            roll_out(bare, plain(3), actor=FACILITATOR, at=LATER)
        (problem,) = unknown.value.problems
        assert problem.path == "$.new"
        assert "4 engagement(s) run rock.mentoring v2" in problem.message
        assert stored_rows(store) == before
    finally:
        bare.close()


@pytest.mark.parametrize(
    ("argument", "value", "path"),
    [
        ("actor", 5, "$.actor"),
        ("actor", None, "$.actor"),
        ("reason", 7, "$.reason"),
        ("at", pendulum.naive(2017, 9, 1), "$.at"),
        ("new", "rock.mentoring", "$.new"),
    ],
)
def test_bad_arguments_name_their_path_and_write_nothing(
    store: SqlStore, argument: str, value: Any, path: str
) -> None:
    programme(store)
    before = stored_rows(store)
    arguments: dict[str, Any] = {"new": plain(2), "actor": FACILITATOR, "at": LATER}
    arguments[argument] = value
    with pytest.raises(InvalidInput) as refused:
        roll_out(store, **arguments)
    assert path in [p.path for p in refused.value.problems]
    assert stored_rows(store) == before


# -- other workers meanwhile -------------------------------------------------------------------


def rival_before_saves(
    monkeypatch: pytest.MonkeyPatch, store: SqlStore, rival: Any, times: int
) -> list[int]:
    """Let ``rival(engagement_id)`` act through a store of its own just before each of the
    roll-out's first ``times`` saves: a real conflict, as another worker's save would make."""
    original = store.save
    calls: list[int] = []

    def save(change: Any, **kwargs: Any) -> None:
        calls.append(kwargs["expected_version"])
        if len(calls) <= times:
            rival(change.state.id)
        original(change, **kwargs)

    monkeypatch.setattr(store, "save", save)
    return calls


@pytest.fixture
def other_worker(store: SqlStore, where: tuple[str, str | None]) -> Iterator[SqlStore]:
    """A second store on the same database, as another worker process has."""
    other = another_process(where, store.methods)
    yield other
    other.close()


def test_a_save_that_loses_a_race_is_judged_again_and_retried(
    store: SqlStore, other_worker: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    bologna(store, "only")
    calls = rival_before_saves(
        monkeypatch, store, lambda i: toggle(StoredEngagement.load(other_worker, i)), times=2
    )
    rollout = roll_out(store, plain(2), actor=FACILITATOR, at=LATER)
    assert statuses(rollout) == {"only": "migrated"}
    assert calls == [1, 2, 3]  # lost twice to the rival's pause and resume, then saved
    engagement = StoredEngagement.load(store, "only")
    assert [e.subject for e in engagement.state.history[-3:]] == [
        "pause",
        "resume",
        "rock.mentoring v1 -> v2",
    ]


def test_an_engagement_saved_by_others_on_every_try_is_busy(
    store: SqlStore, other_worker: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    bologna(store, "hot")
    bologna(store, "calm")

    def rival(engagement_id: str) -> None:
        if engagement_id == "hot":
            toggle(StoredEngagement.load(other_worker, engagement_id))

    rival_before_saves(monkeypatch, store, rival, times=4)  # calm's save, then hot's three
    rollout = roll_out(store, plain(2), actor=FACILITATOR, at=LATER)
    assert statuses(rollout) == {"calm": "migrated", "hot": "busy"}
    (busy,) = rollout.with_status(RolloutStatus.BUSY)
    assert "run the roll-out again" in str(busy.detail)
    assert not rollout.complete
    assert StoredEngagement.load(store, "hot").method.version == 1
    assert statuses(roll_out(store, plain(2), actor=FACILITATOR, at=LATER)) == {"hot": "migrated"}


def test_a_change_that_closes_the_gate_meanwhile_refuses_on_the_fresh_snapshot(
    store: SqlStore, other_worker: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found ready in match-making; matched by another worker before the save: the new gate
    now refuses it, and the verdict says so."""
    bologna(store, "late")

    def match(engagement_id: str) -> None:
        StoredEngagement.load(other_worker, engagement_id).fire(
            "confirm_match", actor=FACILITATOR, at=CREATED
        )

    rival_before_saves(monkeypatch, store, match, times=1)
    rollout = roll_out(store, gated(2), actor=FACILITATOR, at=LATER)
    (entry,) = rollout.entries
    assert entry.status is RolloutStatus.REFUSED
    assert entry.verdict is not None
    assert [f.deliverable for f in entry.verdict.unmet] == ["article"]
    assert StoredEngagement.load(store, "late").method.version == 1


def test_deleted_or_moved_meanwhile_is_skipped(
    store: SqlStore, other_worker: SqlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    bologna(store, "deleted")
    bologna(store, "moved")

    def meddle(engagement_id: str) -> None:
        engagement = StoredEngagement.load(other_worker, engagement_id)
        if engagement_id == "deleted":
            other_worker.delete(engagement_id, expected_version=engagement.version, actor="admin")
        else:
            roll_out(other_worker, plain(2), actor=FACILITATOR, at=LATER)

    rival_before_saves(monkeypatch, store, meddle, times=2)
    rollout = roll_out(store, plain(2), actor=FACILITATOR, at=LATER)
    assert {e.engagement_id: e.detail for e in rollout.entries} == {
        "deleted": "deleted meanwhile",
        "moved": "on v2 already",
    }
    assert statuses(rollout) == {"deleted": "skipped", "moved": "skipped"}
    moved = StoredEngagement.load(store, "moved")
    assert [e.action for e in moved.state.history].count("migrate") == 1


# -- the store's query by method ---------------------------------------------------------------


def test_ids_by_method_and_version(store: SqlStore) -> None:
    programme(store)
    roll_out(store, plain(2), actor=FACILITATOR, at=LATER)
    assert store.ids(method_id="rock.mentoring") == ("a", "b", "matched", "p", "x")
    assert store.ids(method_id="rock.mentoring", method_version=1) == ("x",)
    assert store.ids(method_id="rock.mentoring", method_version=2, limit=2, after="a") == (
        "b",
        "matched",
    )
    assert store.ids(method_id="rock.work_shadowing") == ("shadow",)
    assert store.ids(method_id="nothing") == ()


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({"method_version": 1}, "$.method_version"),
        ({"method_id": "rock.mentoring", "method_version": 0}, "$.method_version"),
        ({"method_id": "rock.mentoring", "method_version": "1"}, "$.method_version"),
        ({"method_id": 3}, "$.method_id"),
    ],
)
def test_ids_by_method_refuses_what_it_cannot_take(
    store: SqlStore, arguments: dict[str, Any], path: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        store.ids(**arguments)
    assert [p.path for p in refused.value.problems] == [path]
