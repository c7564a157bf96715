"""Engagements by phase: ``count_by_phase`` and ``ids(phase=...)`` agree with the snapshots,
deleted engagements left out, paused ones found as ``Engagement.phase`` names them."""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _stores import BACKENDS, CREATED, FACILITATOR, open_store, start_plan
from mentorflow.sqlstore import SqlStore

_ids = itertools.count()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from open_store(request.param, tmp_path)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    specs=st.lists(
        st.tuples(
            st.sampled_from([0, 1, 2, 3, 4, 5]),
            st.sampled_from(["none", "match", "pause", "cancel", "delete"]),
        ),
        max_size=6,
    )
)
def test_counts_agree_with_the_snapshots(store: SqlStore, specs: list[tuple[int, str]]) -> None:
    """Over random programmes (matched, paused, cancelled, deleted), each (method, phase) count
    is the number of stored engagements in that phase; a deleted one counts nowhere."""
    before = Counter(store.count_by_phase())
    made: Counter[tuple[str, str]] = Counter()
    live = []
    for plan_index, step in specs:
        e = start_plan(store, plan_index, pendulum.date(2017, 11, 6), f"c{next(_ids)}")
        if step == "delete":
            store.delete(e.id, expected_version=e.version, actor="admin", at=CREATED)
            continue
        if step == "match" and e.check("confirm_match", actor=FACILITATOR, at=CREATED).allowed:
            e.fire("confirm_match", actor=FACILITATOR, at=CREATED)
        elif step == "pause":
            e.fire("pause", actor=FACILITATOR, at=CREATED, reason="elections")
        elif step == "cancel":
            e.fire("cancel", actor=FACILITATOR, at=CREATED, reason="no budget")
        made[(e.method.id, e.state.phase)] += 1  # a paused one: "paused:<phase>"
        live.append(e)
    counts = store.count_by_phase()
    assert Counter(counts) == before + made
    assert sum(counts.values()) == len(store.ids())
    assert list(counts) == sorted(counts)  # by method, then phase
    assert all(count > 0 for count in counts.values())
    # "paused" lists every paused engagement; "paused:<phase>" those paused in that phase.
    for phase in {e.phase for e in live} | {e.state.phase for e in live} | {"paused"}:
        listed = [i for i in store.ids(phase=phase) if i in {e.id for e in live}]
        assert listed == sorted(e.id for e in live if phase in (e.phase, e.state.phase))


def test_an_empty_store_counts_nothing(store: SqlStore) -> None:
    assert store.count_by_phase() == {}
