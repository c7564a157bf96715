"""Practice-transfer lineage: which mentor practice inspired which action, and where it spread.

Every roadmap ``Action`` can name the practices that inspired it (``inspired_by``, a tuple of
``PracticeRef``). A ``Lineage`` gathers those links from roadmaps or from engagement snapshots and
answers the funder's questions: what did city X take from city Y, which practices were adopted by
the most cities, which mentor cities' practices travelled furthest.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import attrs

from mentorflow.deliverables import LocalRoadmap, PracticeRef

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from mentorflow.state import EngagementState

__all__ = [
    "Adoption",
    "Lineage",
    "PracticeReach",
    "PracticeRef",
    "adoptions_in",
]


@attrs.frozen
class Adoption:
    """One link of the lineage: ``city_id`` took ``source`` into its action ``action_id``."""

    city_id: str
    action_id: str
    action_title: str
    source: PracticeRef
    engagement_id: str = ""


@attrs.frozen
class PracticeReach:
    """A practice and the cities that adopted it, in first-seen order."""

    practice: PracticeRef
    cities: tuple[str, ...]

    @property
    def count(self) -> int:
        """How many distinct cities adopted the practice."""
        return len(self.cities)


def adoptions_in(
    city_id: str,
    roadmap: LocalRoadmap,
    *,
    engagement_id: str = "",
    include_internal: bool = True,
) -> tuple[Adoption, ...]:
    """One city's roadmap as lineage links; ``include_internal=False`` keeps the public ones."""
    found = []
    for action in roadmap.actions:
        hidden = action.internal or "inspired_by" in action.internal_fields
        if hidden and not include_internal:
            continue
        found += [
            Adoption(city_id, action.id, action.title, ref, engagement_id)
            for ref in action.inspired_by
        ]
    return tuple(found)


def _distinct(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


@attrs.frozen
class Lineage:
    """Every adoption of a programme, with the queries a funder asks."""

    adoptions: tuple[Adoption, ...] = ()

    @classmethod
    def from_roadmaps(
        cls, roadmaps: Mapping[str, LocalRoadmap], *, include_internal: bool = True
    ) -> Lineage:
        """The lineage of roadmaps given by the city that owns each."""
        return cls(
            tuple(
                a
                for city, road in roadmaps.items()
                for a in adoptions_in(city, road, include_internal=include_internal)
            )
        )

    @classmethod
    def from_states(
        cls, states: Iterable[EngagementState], *, include_internal: bool = True
    ) -> Lineage:
        """The lineage of every engagement's roadmap, owned by the city of whoever submitted it."""
        found: list[Adoption] = []
        for state in states:
            record = state.deliverable(LocalRoadmap.kind)
            if record is None or not isinstance(record.content, LocalRoadmap):
                continue
            submitter = state.participant(record.submitted_by)
            city = submitter.organisation_id if submitter is not None else record.submitted_by
            found += adoptions_in(
                city, record.content, engagement_id=state.id, include_internal=include_internal
            )
        return cls(tuple(found))

    def taken_from(self, city_id: str, source_city_id: str) -> tuple[Adoption, ...]:
        """What ``city_id`` took from ``source_city_id``: each adoption, in roadmap order."""
        return tuple(
            a for a in self.adoptions if a.city_id == city_id and a.source.city_id == source_city_id
        )

    def sources_of(self, city_id: str) -> tuple[str, ...]:
        """The mentor cities whose practices ``city_id`` adopted, in first-seen order."""
        return _distinct(a.source.city_id for a in self.adoptions if a.city_id == city_id)

    def adopters_of(self, source_city_id: str) -> tuple[str, ...]:
        """The cities that adopted some practice of ``source_city_id``, in first-seen order."""
        return _distinct(a.city_id for a in self.adoptions if a.source.city_id == source_city_id)

    def practices_by_reach(self) -> tuple[PracticeReach, ...]:
        """Every practice with its adopting cities: the most widely adopted first, ties by name."""
        cities: dict[PracticeRef, list[str]] = defaultdict(list)
        for adoption in self.adoptions:
            cities[adoption.source].append(adoption.city_id)
        reach = [PracticeReach(ref, _distinct(found)) for ref, found in cities.items()]
        return tuple(
            sorted(reach, key=lambda r: (-r.count, r.practice.city_id, r.practice.practice))
        )

    def most_adopted(self, n: int = 3) -> tuple[PracticeReach, ...]:
        """The ``n`` practices adopted by the most cities (more when several tie for last place)."""
        ranked = self.practices_by_reach()
        if len(ranked) <= n or n <= 0:
            return ranked if n > 0 else ()
        floor = ranked[n - 1].count
        return tuple(r for r in ranked if r.count >= floor)

    def mentors_by_reach(self) -> tuple[tuple[str, int], ...]:
        """Each mentor city with how many cities adopted any of its practices, the widest first."""
        counts = {
            source: len(self.adopters_of(source))
            for source in _distinct(a.source.city_id for a in self.adoptions)
        }
        return tuple(sorted(counts.items(), key=lambda item: (-item[1], item[0])))
