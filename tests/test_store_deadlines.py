"""The store's deadline index on SQLite and PostgreSQL: rows follow saves; due queries use the index."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import attrs
import pendulum
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _stores import (
    BACKENDS,
    CREATED,
    FACILITATOR,
    back_to_step,
    bologna,
    drop_schema,
    expected_rows,
    index_rows,
    open_store,
    start_plan,
    store_target,
)
from mentorflow import rock2017 as rock
from mentorflow.model import VisitWindow
from mentorflow.schedule import due
from mentorflow.sqlstore import SqlStore

LATER = pendulum.datetime(2017, 7, 1, tz="Europe/Brussels")
BOLOGNA, ATHENS = rock.rep("bologna"), rock.rep("athens")
_ids = itertools.count()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from open_store(request.param, tmp_path)


def test_rows_follow_submissions_and_visit_moves(store: SqlStore) -> None:
    """R-PREP-7 / R-PREP-6: a submission marks its row met; plan_visit moves the dues, in the save."""
    engagement = bologna(store)
    assert index_rows(store, engagement.id) == expected_rows(engagement)
    engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
    engagement.submit(rock.language_plan(), actor=BOLOGNA, at=LATER)
    rows = index_rows(store, engagement.id)
    assert rows["language_plan"][1] is True
    assert rows["mentors_paper"][1] is False
    assert rows == expected_rows(engagement)

    visit = engagement.state.visits[0]
    moved = attrs.evolve(
        visit, window=VisitWindow(pendulum.date(2018, 3, 5), pendulum.date(2018, 3, 7))
    )
    engagement.plan_visit(moved, actor=FACILITATOR, at=LATER)
    rows = index_rows(store, engagement.id)
    assert rows["agenda@mentoring-bologna"][0] == "2018-03-04T23:00:00+00:00"  # Rome midnight
    assert rows == expected_rows(engagement)


def test_rows_are_cleared_when_the_engagement_closes(store: SqlStore) -> None:
    """R-FOLLOW-8: closing (after the follow-up review) leaves no deadline rows; next_deadline is NULL."""
    e = bologna(store)
    at = pendulum.datetime(2017, 9, 1, tz="Europe/Brussels")
    e.fire("confirm_match", actor=FACILITATOR, at=at)
    e.submit(rock.needs_assessment(), actor=BOLOGNA, at=at)
    e.submit(rock.mentors_paper(), actor=ATHENS, at=at)
    e.share("mentors_paper", actor=ATHENS, at=at)
    e.approve("mentors_paper", actor=BOLOGNA, at=at)
    e.submit(rock.language_plan(), actor=BOLOGNA, at=at)
    e.submit(rock.agenda_for(e.state.visits[0]), actor=BOLOGNA, at=at)
    e.approve("agenda", actor=ATHENS, at=at)
    e.fire(
        "start_visit", actor=FACILITATOR, at=pendulum.datetime(2017, 11, 24, 9, tz="Europe/Rome")
    )
    e.fire(
        "finish_visit", actor=FACILITATOR, at=pendulum.datetime(2017, 11, 26, 18, tz="Europe/Rome")
    )
    t = pendulum.datetime(2018, 12, 1, tz="UTC")
    e.submit(rock.visit_report(), actor=rock.rep("liverpool"), at=t)
    e.approve("visit_report", actor=FACILITATOR, at=t)
    roadmap = rock.roadmap()
    e.submit(roadmap, actor=BOLOGNA, at=t)
    e.submit(rock.article("x"), actor=FACILITATOR, at=t)
    e.fire("start_review", actor=FACILITATOR, at=t)
    assert index_rows(store, e.id) == expected_rows(e) != {}
    e.submit(rock.follow_up_review(roadmap), actor=FACILITATOR, at=t)
    e.fire("close", actor=FACILITATOR, at=t)
    assert index_rows(store, e.id) == {}
    assert store.ids(due_before=pendulum.datetime(2030, 1, 1, tz="UTC")) == ()


def test_rows_are_cleared_when_the_engagement_is_cancelled(store: SqlStore) -> None:
    """A cancelled engagement owes nothing: its rows go in the same save."""
    engagement = bologna(store)
    engagement.fire("cancel", actor=FACILITATOR, at=LATER, reason="budget")
    assert index_rows(store, engagement.id) == {}


def test_next_deadline_agrees_with_the_index(store: SqlStore) -> None:
    """The next_deadline column is the earliest unmet row of the index (R-PREP-2 shared paper)."""
    engagement = bologna(store)
    engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
    first = store.due_before(pendulum.datetime(2030, 1, 1, tz="UTC"))[0].due
    assert first == pendulum.datetime(2017, 11, 10, tz="Europe/Rome")
    assert store.ids(due_before=first.add(seconds=1)) == (engagement.id,)
    assert store.ids(due_before=first) == ()
    engagement.submit(rock.needs_assessment(), actor=BOLOGNA, at=LATER)
    engagement.submit(rock.mentors_paper(), actor=ATHENS, at=LATER)
    engagement.share("mentors_paper", actor=ATHENS, at=LATER)
    second = store.due_before(pendulum.datetime(2030, 1, 1, tz="UTC"))[0].due
    assert second > first
    assert store.ids(due_before=first.add(seconds=1)) == ()
    assert store.ids(due_before=second.add(seconds=1)) == (engagement.id,)


engagement_specs = st.lists(
    st.tuples(
        st.sampled_from([0, 1, 2, 3]),
        st.integers(min_value=20, max_value=400),
        st.booleans(),
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(specs=engagement_specs, now_days=st.integers(min_value=0, max_value=800))
def test_due_query_matches_schedule_due(
    store: SqlStore, specs: list[tuple[int, int, bool]], now_days: int
) -> None:
    """R-PREP-3 / R-PREP-4: the index's due list equals schedule.due over the same engagements."""
    prefix = f"h{next(_ids)}-"
    engagements = []
    for n, (plan_index, offset, submit) in enumerate(specs):
        e = start_plan(store, plan_index, CREATED.date().add(days=offset), f"{prefix}{n}")
        if submit:
            if plan_index == 2:
                e.fire("confirm_match", actor=FACILITATOR, at=CREATED)
                e.submit(rock.language_plan(), actor=BOLOGNA, at=CREATED.add(days=1))
            else:
                e.submit(rock.learning_objectives(), actor=rock.rep("bologna"), at=CREATED)
        engagements.append(e)
    # Minutes off midnight, so no due instant sits exactly on the boundary.
    now = CREATED.add(days=now_days, minutes=7)
    expected = sorted(
        (d.due, d.engagement_id, d.key)
        for e in engagements
        for d in due(e.method, e.state, now)
        if d.due < now
    )
    found = [
        (d.due, d.engagement_id, d.key)
        for d in store.due_before(now, limit=100_000)
        if d.engagement_id.startswith(prefix)
    ]
    assert found == expected


def test_due_query_uses_the_index_on_sqlite(tmp_path: Path) -> None:
    """SQLite's EXPLAIN QUERY PLAN for due_before is a search of the (met, due_utc) index, no sort."""
    store = SqlStore.open(tmp_path / "plan.sqlite3")
    bologna(store)
    plan = " ".join(store.due_query_plan(pendulum.datetime(2017, 11, 1, tz="UTC"), 100))
    store.close()
    assert "INDEX ix_mf_deadlines_met_due" in plan, plan
    assert "SCAN mf_deadlines" not in plan
    assert "TEMP B-TREE" not in plan


@pytest.mark.parametrize("backend", BACKENDS)
def test_upgrading_a_version_1_database_fills_the_index(backend: str, tmp_path: Path) -> None:
    """A database from before the deadline index gets it at the next open, filled from snapshots."""
    target, schema = store_target(backend, tmp_path)
    store = SqlStore.open(target, schema=schema)
    try:
        engagement = bologna(store)
        expected = expected_rows(engagement)
        t = store.tables
        back_to_step(store, 1)
        with store.engine.begin() as conn:  # as version 1 wrote the engagement row
            conn.execute(t.engagements.update().values(next_deadline=None))
        store.close()
        store = SqlStore.open(target, schema=schema)
        assert index_rows(store, engagement.id) == expected
        shared_by = pendulum.datetime(2017, 11, 10, tz="Europe/Rome")
        assert store.ids(due_before=shared_by.add(seconds=1)) == (engagement.id,)
        assert store.migrate() == ()
    finally:
        store.close()
        drop_schema(schema)
