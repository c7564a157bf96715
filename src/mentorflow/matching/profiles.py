"""Input records for match-making: mentee cities with needs, mentor cities with practices.

A *topic* is a short identifier shared by both sides (``"adaptive-reuse"``). A mentee city states
needs and barriers on topics, each with a priority from the needs assessment (R-PREP-1); a mentor
city offers practices, each covering topics, with evidence. A mentor city covers a need when one
of its practices covers the need's topic (R-MATCH-1).
"""

from __future__ import annotations

import enum
import functools
from typing import TYPE_CHECKING

import attrs

from mentorflow.matching._checks import Checks, duplicates

if TYPE_CHECKING:
    from collections.abc import Iterable

    import pendulum

__all__ = [
    "AvailabilityWindow",
    "Institution",
    "MenteeCity",
    "MentorCity",
    "Need",
    "Practice",
    "SizeBand",
    "available_together",
]

_MAX_LEVEL = 5


def _strings(values: Iterable[str]) -> frozenset[str]:
    return frozenset(values)


def _needs(values: Iterable[Need]) -> tuple[Need, ...]:
    return tuple(values)


def _practices(values: Iterable[Practice]) -> tuple[Practice, ...]:
    return tuple(values)


def _windows(values: Iterable[AvailabilityWindow]) -> tuple[AvailabilityWindow, ...]:
    return tuple(values)


class SizeBand(enum.StrEnum):
    """Population band of a city, part of its institutional framework (R-MATCH-3)."""

    SMALL = "small"
    MEDIUM = "medium"
    LARGE = "large"


@attrs.frozen
class Need:
    """A need or barrier of a mentee city on one topic; priority 1 (low) to 5 (high)."""

    topic: str
    priority: int = 3
    barrier: bool = False
    description: str = ""

    def __attrs_post_init__(self) -> None:
        checks = Checks(f"need {self.topic!r}")
        checks.require(bool(self.topic.strip()), "$.topic", "must not be blank")
        checks.require(1 <= self.priority <= _MAX_LEVEL, "$.priority", "must be 1 to 5")
        checks.raise_if_any()


@attrs.frozen
class Practice:
    """An asset of a mentor city: a practice that covers topics, with its evidence."""

    title: str
    topics: frozenset[str] = attrs.field(converter=_strings)
    evidence: str = ""

    def __attrs_post_init__(self) -> None:
        checks = Checks(f"practice {self.title!r}")
        checks.require(bool(self.topics), "$.topics", "must name at least one topic")
        checks.raise_if_any()


@attrs.frozen
class Institution:
    """Institutional framework of a city: governance level, competences and size band."""

    governance_level: str = "municipal"
    competences: frozenset[str] = attrs.field(converter=_strings, factory=frozenset)
    size_band: SizeBand = SizeBand.MEDIUM


@attrs.frozen
class AvailabilityWindow:
    """Inclusive span of dates when a city can take part in visits."""

    start: pendulum.Date
    end: pendulum.Date

    def __attrs_post_init__(self) -> None:
        checks = Checks("availability window")
        checks.require(self.start <= self.end, "$.end", "must not be before start")
        checks.raise_if_any()

    def overlaps(self, other: AvailabilityWindow) -> bool:
        """Whether the two windows share at least one day."""
        return self.start <= other.end and other.start <= self.end


def _check_city(checks: Checks, city: MenteeCity | MentorCity) -> None:
    checks.require(bool(city.id.strip()), "$.id", "must not be blank")
    checks.require(bool(city.country.strip()), "$.country", "must not be blank")
    checks.require(1 <= city.expertise_level <= _MAX_LEVEL, "$.expertise_level", "must be 1 to 5")
    checks.require(bool(city.languages), "$.languages", "must name at least one language")


@attrs.frozen
class MenteeCity:
    """A mentee (replicator) city: its needs and barriers and how it works."""

    id: str
    name: str
    country: str
    needs: tuple[Need, ...] = attrs.field(converter=_needs)
    role_tags: frozenset[str] = attrs.field(converter=_strings, factory=frozenset)
    institution: Institution = attrs.field(factory=Institution)
    expertise_level: int = 2
    languages: frozenset[str] = attrs.field(converter=_strings, factory=lambda: frozenset({"en"}))
    availability: tuple[AvailabilityWindow, ...] = attrs.field(converter=_windows, default=())
    translation_budget: bool = False

    def __attrs_post_init__(self) -> None:
        checks = Checks(f"mentee city {self.id!r}")
        _check_city(checks, self)
        checks.require(bool(self.needs), "$.needs", "must state at least one need (R-PREP-1)")
        for topic in duplicates(need.topic for need in self.needs):
            checks.require(False, "$.needs", f"topic {topic!r} is stated twice")
        checks.raise_if_any()

    @functools.cached_property
    def topics(self) -> frozenset[str]:
        """The topics of every need and barrier."""
        return frozenset(need.topic for need in self.needs)


@attrs.frozen
class MentorCity:
    """A mentor (role-model) city: its practices, how it works and how many mentees it takes."""

    id: str
    name: str
    country: str
    practices: tuple[Practice, ...] = attrs.field(converter=_practices)
    role_tags: frozenset[str] = attrs.field(converter=_strings, factory=frozenset)
    institution: Institution = attrs.field(factory=Institution)
    expertise_level: int = 4
    languages: frozenset[str] = attrs.field(converter=_strings, factory=lambda: frozenset({"en"}))
    availability: tuple[AvailabilityWindow, ...] = attrs.field(converter=_windows, default=())
    capacity: int = 1

    def __attrs_post_init__(self) -> None:
        checks = Checks(f"mentor city {self.id!r}")
        _check_city(checks, self)
        checks.require(bool(self.practices), "$.practices", "must offer at least one practice")
        checks.require(self.capacity >= 0, "$.capacity", "must not be negative")
        checks.raise_if_any()

    @functools.cached_property
    def topics(self) -> frozenset[str]:
        """Every topic one of the city's practices covers."""
        return frozenset().union(*(practice.topics for practice in self.practices))

    def practices_for(self, topic: str) -> tuple[Practice, ...]:
        """The practices that cover ``topic``, in the order the city lists them."""
        return tuple(p for p in self.practices if topic in p.topics)


def available_together(mentee: MenteeCity, mentor: MentorCity) -> bool:
    """Whether some availability window of the mentee city overlaps one of the mentor city."""
    return any(a.overlaps(b) for a in mentee.availability for b in mentor.availability)
