"""What an organisation owes across its engagements: ``SqlStore.owed_by``, on SQLite and PostgreSQL.

The list must be what ``schedule.deadlines`` says each live engagement's open deadlines are,
restricted to those the organisation owes (alone, or as one of a party's cities), earliest
first; it follows every save, is cleared when an engagement ends or is deleted, is filled from
the snapshots when an older database is upgraded, and is read from its index.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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
    open_store,
    start_plan,
    store_target,
)
from mentorflow import rock2017 as rock
from mentorflow._sqlschema import OWED_STEP, PERSON_INDEX_STEP
from mentorflow.exceptions import InvalidInput
from mentorflow.schedule import deadlines, is_live
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement

LATER = pendulum.datetime(2017, 7, 1, tz="Europe/Brussels")
FAR = pendulum.datetime(2040, 1, 1, tz="UTC")
ATHENS, BOLOGNA = rock.rep("athens"), rock.rep("bologna")
_ids = itertools.count()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from open_store(request.param, tmp_path)


def listed(store: SqlStore, organisation_id: str, **options: Any) -> list[tuple[str, str]]:
    return [(d.engagement_id, d.key) for d in store.owed_by(organisation_id, **options)]


def expected(
    engagements: list[StoredEngagement], organisation_id: str, before: pendulum.DateTime = FAR
) -> list[tuple[str, str]]:
    """The rule, from the snapshots: open deadlines of live engagements the organisation owes."""
    found = sorted(
        (d.due, d.engagement_id, d.key)
        for e in engagements
        if is_live(e.method, e.state)
        for d in deadlines(e.method, e.state)
        if not d.met and organisation_id in d.owed_by_organisations and d.due < before
    )
    return [(engagement_id, key) for _, engagement_id, key in found]


def test_each_city_owes_its_own_deliverables(store: SqlStore) -> None:
    """R-PREP-2: the mentors' paper is owed by every role-model city, the language plan by the
    host; each city's list holds its own, and the due instant is in the host's zone."""
    engagement = bologna(store)
    athens = store.owed_by("athens")
    assert [d.key for d in athens] == ["mentors_paper.shared", "mentors_paper", "visit_report"]
    assert athens[0].due == pendulum.datetime(2017, 11, 10, tz="Europe/Rome")
    assert athens[0].owed_by == "role-model city"
    assert listed(store, "liverpool") == listed(store, "athens")  # one party, three cities
    assert [d.key for d in store.owed_by("bologna")] == [
        "agenda@mentoring-bologna",
        "language_plan",
        "roadmap",
    ]
    assert listed(store, "eurocities") == [(engagement.id, "start_review")]
    assert listed(store, "nobody") == []
    for city in ("athens", "bologna", "eurocities"):
        assert listed(store, city) == expected([engagement], city)


def test_the_list_follows_submissions_and_ends_with_the_engagement(store: SqlStore) -> None:
    """R-PREP-2: the shared mentors' paper leaves the role-model cities' lists when shared, the
    paper itself when the mentee city approves it (the deadline's condition), each in that
    save; a cancelled engagement leaves every list."""
    engagement = bologna(store)
    other = bologna(store, "second")
    engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
    engagement.submit(rock.needs_assessment(), actor=BOLOGNA, at=LATER)
    engagement.submit(rock.mentors_paper(), actor=ATHENS, at=LATER)
    assert (engagement.id, "mentors_paper.shared") in listed(store, "athens")
    engagement.share("mentors_paper", actor=ATHENS, at=LATER)
    assert (engagement.id, "mentors_paper.shared") not in listed(store, "athens")
    mentors_paper = [d for d in store.owed_by("athens") if d.key == "mentors_paper"]
    assert [(d.engagement_id, d.condition) for d in mentors_paper] == [
        (engagement.id, "approved"),  # waits for Bologna's approval
        ("second", "approved"),
    ]
    engagement.approve("mentors_paper", actor=BOLOGNA, at=LATER)
    assert (engagement.id, "mentors_paper") not in listed(store, "athens")
    assert listed(store, "athens") == expected([engagement, other], "athens")
    other.fire("cancel", actor=FACILITATOR, at=LATER, reason="no budget")
    assert {e for e, _ in listed(store, "athens")} == {engagement.id}
    assert listed(store, "athens") == expected([engagement, other], "athens")


def test_due_before_and_limit(store: SqlStore) -> None:
    engagement = bologna(store)
    cut = pendulum.datetime(2017, 11, 24, tz="Europe/Rome")  # the papers' day, not included
    assert listed(store, "athens", due_before=cut) == [(engagement.id, "mentors_paper.shared")]
    assert listed(store, "athens", due_before=cut.add(seconds=1)) == expected(
        [engagement], "athens", cut.add(seconds=1)
    )
    assert listed(store, "athens", limit=2) == expected([engagement], "athens")[:2]


#: Every organisation of the ROCK programme, the network's secretariat included.
organisations = sorted({o.id for plan in rock.programme() for o in plan.organisations})
engagement_specs = st.lists(
    st.tuples(
        st.sampled_from([0, 1, 2, 3, 4, 5]),  # any of the ROCK programme's plans
        st.integers(min_value=20, max_value=400),
        st.sampled_from(["none", "match", "submit", "cancel"]),
    ),
    min_size=1,
    max_size=4,
)


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(specs=engagement_specs, before_days=st.none() | st.integers(min_value=0, max_value=800))
def test_every_city_s_list_is_what_the_rule_says(
    store: SqlStore, specs: list[tuple[int, int, str]], before_days: int | None
) -> None:
    """R-PREP-3 / R-PREP-4: over random engagements of the programme, each organisation's list
    equals the open deadlines it owes by ``schedule.deadlines``, in due order."""
    prefix = f"h{next(_ids)}-"
    made = []
    for n, (plan_index, offset, step) in enumerate(specs):
        e = start_plan(store, plan_index, CREATED.date().add(days=offset), f"{prefix}{n}")
        if step == "cancel":
            e.fire("cancel", actor=FACILITATOR, at=CREATED, reason="no budget")
        elif (
            step in ("match", "submit")
            and e.check("confirm_match", actor=FACILITATOR, at=CREATED).allowed
        ):
            e.fire("confirm_match", actor=FACILITATOR, at=CREATED)
            if step == "submit" and plan_index in (2, 4, 5):
                e.submit(rock.needs_assessment(), actor=e.state.participants[1].id, at=CREATED)
        made.append(e)
    before = FAR if before_days is None else CREATED.add(days=before_days, minutes=7)
    options = {} if before_days is None else {"due_before": before}
    for city in organisations:
        found = [
            (e, k) for e, k in listed(store, city, limit=100_000, **options) if e.startswith(prefix)
        ]
        assert found == expected(made, city, before)


def test_the_query_searches_its_index_on_sqlite(tmp_path: Path) -> None:
    store = SqlStore.open(tmp_path / "plan.sqlite3")
    bologna(store)
    plans = [
        " ".join(store.owed_query_plan("athens")),
        " ".join(store.owed_query_plan("athens", due_before=FAR, limit=10)),
    ]
    store.close()
    for plan in plans:
        assert "INDEX mf_deadlines_owed_by_organisation" in plan, plan
        assert "SCAN" not in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # in due order from the index, no sort


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_upgraded_database_fills_the_list_from_its_snapshots(
    backend: str, tmp_path: Path
) -> None:
    target, schema = store_target(backend, tmp_path)
    store = SqlStore.open(target, schema=schema)
    try:
        engagement = bologna(store)
        ended = bologna(store, "ended")
        ended.fire("cancel", actor=FACILITATOR, at=LATER, reason="no budget")
        want = {city: listed(store, city) for city in organisations}
        assert want["athens"] == expected([engagement, ended], "athens")
        back_to_step(store, PERSON_INDEX_STEP)
        assert store.migrate() == (OWED_STEP,)
        assert {city: listed(store, city) for city in organisations} == want
    finally:
        store.close()
        drop_schema(schema)


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({"organisation_id": 3}, "$.organisation_id"),
        ({"organisation_id": "athens", "limit": 0}, "$.limit"),
        ({"organisation_id": "athens", "limit": True}, "$.limit"),
        ({"organisation_id": "athens", "due_before": pendulum.naive(2018, 1, 1)}, "$.due_before"),
        ({"organisation_id": "athens", "due_before": "2018-01-01"}, "$.due_before"),
    ],
)
def test_bad_arguments_name_their_path(
    store: SqlStore, arguments: dict[str, Any], path: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        store.owed_by(**arguments)
    assert [p.path for p in refused.value.problems] == [path]
