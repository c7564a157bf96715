"""One match-making instance: mentee cities, mentor cities and parameters, checked together."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from mentorflow.matching._checks import Checks, duplicates
from mentorflow.matching.errors import InvalidMatchingInput, Problem
from mentorflow.matching.parameters import Pair, ProgrammeParameters

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mentorflow.matching.profiles import MenteeCity, MentorCity

__all__ = ["MatchingProblem"]


def _by_id_mentees(cities: Iterable[MenteeCity]) -> tuple[MenteeCity, ...]:
    return tuple(sorted(cities, key=lambda c: c.id))


def _by_id_mentors(cities: Iterable[MentorCity]) -> tuple[MentorCity, ...]:
    return tuple(sorted(cities, key=lambda c: c.id))


@attrs.frozen
class MatchingProblem:
    """Mentee and mentor cities plus parameters; cities are kept sorted by id, so input order
    never changes the result."""

    mentees: tuple[MenteeCity, ...] = attrs.field(converter=_by_id_mentees)
    mentors: tuple[MentorCity, ...] = attrs.field(converter=_by_id_mentors)
    parameters: ProgrammeParameters = attrs.field(factory=ProgrammeParameters)

    def __attrs_post_init__(self) -> None:
        checks = Checks("matching problem")
        for city_id in duplicates(c.id for c in self.mentees):
            checks.require(False, "$.mentees", f"id {city_id!r} is used twice")
        for city_id in duplicates(c.id for c in self.mentors):
            checks.require(False, "$.mentors", f"id {city_id!r} is used twice")
        for city_id in sorted({c.id for c in self.mentees} & {c.id for c in self.mentors}):
            checks.require(False, "$.mentors", f"id {city_id!r} is also a mentee city")
        params = self.parameters
        for name, pairs in (
            ("pinned", params.pinned),
            ("forbidden", params.forbidden),
            ("previous_partners", params.previous_partners),
        ):
            for pair in sorted(pairs):
                checks.require(
                    self._known(pair), f"$.parameters.{name}", f"{pair} names an unknown city"
                )
        checks.raise_if_any()

    def _known(self, pair: Pair) -> bool:
        return pair[0] in self.mentee_ids and pair[1] in self.mentor_ids

    @property
    def mentee_ids(self) -> tuple[str, ...]:
        """Mentee city ids, sorted."""
        return tuple(c.id for c in self.mentees)

    @property
    def mentor_ids(self) -> tuple[str, ...]:
        """Mentor city ids, sorted."""
        return tuple(c.id for c in self.mentors)

    def mentee(self, city_id: str) -> MenteeCity:
        """The mentee city with this id; a clear error naming the id when there is none."""
        for city in self.mentees:
            if city.id == city_id:
                return city
        raise InvalidMatchingInput("mentee city id", [Problem("$.mentee_id", f"no {city_id!r}")])

    def mentor(self, city_id: str) -> MentorCity:
        """The mentor city with this id; a clear error naming the id when there is none."""
        for city in self.mentors:
            if city.id == city_id:
                return city
        raise InvalidMatchingInput("mentor city id", [Problem("$.mentor_id", f"no {city_id!r}")])

    def with_parameters(self, parameters: ProgrammeParameters) -> MatchingProblem:
        """The same cities under other parameters."""
        return attrs.evolve(self, parameters=parameters)
