"""SqlStore.ids in pages: keyset paging by id never skips or repeats an engagement."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pendulum
import pytest

from _stores import BACKENDS, CREATED, FACILITATOR, bologna, open_store
from mentorflow import rock2017 as rock
from mentorflow.catalog import compiled
from mentorflow.exceptions import InvalidInput
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement

IDS = [f"e-{n:02d}" for n in (3, 1, 4, 15, 9, 2, 6, 5, 35, 8)]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """Ten engagements; every other one matched (in preparation), the rest in match-making."""
    for opened in open_store(request.param, tmp_path):
        for n, engagement_id in enumerate(IDS):
            engagement = bologna(opened, engagement_id)
            if n % 2:  # matched on day n, so the last actions fall on different days
                engagement.fire("confirm_match", actor=FACILITATOR, at=CREATED.add(days=n))
        yield opened


def _pages(
    store: SqlStore, size: int, after: str | None = None, **filters: Any
) -> list[tuple[str, ...]]:
    """Every page of ``size`` ids after ``after``, each asked for with the last id before it."""
    pages: list[tuple[str, ...]] = []
    for _ in range(2 * len(IDS) + 5):  # more pages than ids: paging went round in a circle
        page = store.ids(limit=size, after=after, **filters)
        if not page:
            return pages
        assert len(page) <= size
        pages.append(page)
        after = page[-1]
    raise AssertionError(f"paging by {size} never ended: {pages[-3:]}")


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"phase": "preparation"},
        {"phase": "matchmaking"},
        {"last_action_before": CREATED.add(days=6)},
        {"phase": "preparation", "last_action_before": CREATED.add(days=6)},
        {"participant_id": "athens-1"},
    ],
)
def test_pages_of_every_size_add_up_to_the_whole_listing(
    store: SqlStore, filters: dict[str, Any]
) -> None:
    whole = store.ids(**filters)
    assert whole
    assert list(whole) == sorted(whole)  # in id order (these ASCII ids sort alike everywhere)
    for size in range(1, len(whole) + 2):
        pages = _pages(store, size, **filters)
        assert [i for page in pages for i in page] == list(whole)
        assert all(len(page) == size for page in pages[:-1])


def test_engagements_added_between_pages_are_never_skipped_or_repeated(store: SqlStore) -> None:
    first = store.ids(limit=4)
    bologna(store, "a-first")  # before the cursor: belongs to pages already read
    bologna(store, "z-last")  # after it: the next pages show it
    rest = [i for page in _pages(store, 3, after=first[-1]) for i in page]
    seen = [*first, *rest]
    assert len(seen) == len(set(seen))
    assert set(seen) == set(IDS) | {"z-last"}


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({"limit": 0}, "$.limit"),
        ({"limit": True}, "$.limit"),
        ({"after": 3}, "$.after"),
        ({"last_action_before": pendulum.naive(2017, 6, 5)}, "$.last_action_before"),
        ({"last_action_before": "2017-06-05"}, "$.last_action_before"),
        ({"participant_id": 1}, "$.participant_id"),
    ],
)
def test_bad_paging_arguments_are_refused_by_name(
    store: SqlStore, arguments: dict[str, Any], path: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        store.ids(**arguments)
    assert [p.path for p in refused.value.problems] == [path]


@pytest.mark.parametrize("zone", ["UTC", "Europe/Brussels", "America/New_York"])
def test_last_action_before_lists_the_engagements_nobody_acted_on_since(
    store: SqlStore, zone: str
) -> None:
    """Whatever the zone of the time asked about, the engagements listed are exactly those whose
    last history entry is earlier (a retention job's question)."""
    last_actions = {i: store.load(i).history[-1].at for i in IDS}
    for hours in range(-1, 12 * 24, 7):
        cut = CREATED.add(hours=hours).in_tz(zone)
        expected = sorted(i for i, at in last_actions.items() if at < cut)
        assert store.ids(last_action_before=cut) == tuple(expected)
        matched = sorted(i for i in expected if store.load(i).phase == "preparation")
        assert store.ids(phase="preparation", last_action_before=cut) == tuple(matched)
    assert store.ids(last_action_before=CREATED) == ()  # the creations are not before it


def test_participant_id_lists_a_persons_engagements_and_no_others(store: SqlStore) -> None:
    """A person's engagements (for an erasure request): those they take part in, deleted ones
    left out, combined with any other filter."""
    plan = rock.programme()[0]  # Turin's work-shadowing: Athens takes no part in it
    turin = StoredEngagement.start(
        compiled(plan.method_id),
        store=store,
        id="t-turin",
        title=plan.title,
        organisations=plan.organisations,
        participants=plan.participants,
        actor=FACILITATOR,
        at=CREATED,
    )
    assert "athens-1" not in {p.id for p in turin.state.participants}
    assert store.ids(participant_id="athens-1") == tuple(sorted(IDS))
    assert store.ids(participant_id="turin-1") == ("t-turin",)
    assert store.ids(participant_id="bologna-1") == tuple(sorted([*IDS, "t-turin"]))
    assert store.ids(participant_id="athens-1", phase="preparation") == store.ids(
        phase="preparation"
    )
    assert store.ids(participant_id="nobody-1") == ()
    store.delete("t-turin", expected_version=1, actor=FACILITATOR, at=CREATED.add(days=1))
    assert store.ids(participant_id="turin-1") == ()
