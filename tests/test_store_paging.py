"""SqlStore.ids in pages: keyset paging by id never skips or repeats an engagement."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from _stores import BACKENDS, CREATED, FACILITATOR, bologna, open_store
from mentorflow.exceptions import InvalidInput
from mentorflow.sqlstore import SqlStore

IDS = [f"e-{n:02d}" for n in (3, 1, 4, 15, 9, 2, 6, 5, 35, 8)]


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    """Ten engagements; every other one matched (in preparation), the rest in match-making."""
    for opened in open_store(request.param, tmp_path):
        for n, engagement_id in enumerate(IDS):
            engagement = bologna(opened, engagement_id)
            if n % 2:
                engagement.fire("confirm_match", actor=FACILITATOR, at=CREATED)
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


@pytest.mark.parametrize("filters", [{}, {"phase": "preparation"}, {"phase": "matchmaking"}])
def test_pages_of_every_size_add_up_to_the_whole_listing(
    store: SqlStore, filters: dict[str, str]
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
    [({"limit": 0}, "$.limit"), ({"limit": True}, "$.limit"), ({"after": 3}, "$.after")],
)
def test_bad_paging_arguments_are_refused_by_name(
    store: SqlStore, arguments: dict[str, Any], path: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        store.ids(**arguments)
    assert [p.path for p in refused.value.problems] == [path]
