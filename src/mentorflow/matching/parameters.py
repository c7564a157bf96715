"""Programme parameters for match-making: caps, pins, forbidden pairs, weights, expertise mode."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import attrs

from mentorflow.matching._checks import Checks

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["ExpertiseMode", "Pair", "ProgrammeParameters", "Weights"]

#: A (mentee city id, mentor city id) pair.
Pair = tuple[str, str]

_MAX_MENTORS = 3  # R-MATCH-2: up to three role-model cities per replicator city


class ExpertiseMode(enum.StrEnum):
    """How expertise levels should relate (R-MATCH-3).

    ``CLOSE``: the closer the two levels, the better (mentoring). ``GAP``: a more experienced
    mentor is better (work-shadowing, where a host "with greater experience" is wanted).
    """

    CLOSE = "close"
    GAP = "gap"


@attrs.frozen
class Weights:
    """Integer weights of the score components; every point in a breakdown is one of these."""

    need: int = 10
    role: int = 3
    institution: int = 2
    expertise: int = 2
    practicalities: int = 1
    #: percentage of a need's value earned again when a second mentor covers it (then nothing)
    second_cover_percent: int = 25

    def __attrs_post_init__(self) -> None:
        checks = Checks("weights")
        for field in attrs.fields(Weights):
            value = getattr(self, field.name)
            checks.require(value >= 0, f"$.{field.name}", "must not be negative")
        checks.require(self.second_cover_percent <= 100, "$.second_cover_percent", "must be <= 100")
        checks.raise_if_any()


def _pairs(values: Iterable[Pair]) -> frozenset[Pair]:
    return frozenset((mentee_id, mentor_id) for mentee_id, mentor_id in values)


@attrs.frozen
class ProgrammeParameters:
    """What a facilitator sets before running the solver.

    ``max_mentors_per_mentee`` is the hard cap of R-MATCH-2 (1 to 3). ``representatives_per_city``
    is carried into accepted teams (R-MATCH-4: one per mentor city for mentoring; R-MATCH-5: one or
    two for work-shadowing). ``min_countries_per_team`` counts the distinct countries of a team's
    mentor cities. With ``no_repeat_partner`` the pairs in ``previous_partners`` are ineligible.
    """

    max_mentors_per_mentee: int = _MAX_MENTORS
    representatives_per_city: int = 1
    forbidden: frozenset[Pair] = attrs.field(converter=_pairs, factory=frozenset)
    pinned: frozenset[Pair] = attrs.field(converter=_pairs, factory=frozenset)
    min_countries_per_team: int | None = None
    no_repeat_partner: bool = False
    previous_partners: frozenset[Pair] = attrs.field(converter=_pairs, factory=frozenset)
    weights: Weights = attrs.field(factory=Weights)
    expertise_mode: ExpertiseMode = ExpertiseMode.CLOSE

    def __attrs_post_init__(self) -> None:
        checks = Checks("programme parameters")
        checks.require(
            1 <= self.max_mentors_per_mentee <= _MAX_MENTORS,
            "$.max_mentors_per_mentee",
            "must be 1 to 3 (R-MATCH-2)",
        )
        checks.require(
            1 <= self.representatives_per_city <= 2,
            "$.representatives_per_city",
            "must be 1 or 2 (R-MATCH-4, R-MATCH-5)",
        )
        for pair in sorted(self.pinned & self.forbidden):
            checks.require(False, "$.pinned", f"{pair} is also forbidden")
        if self.min_countries_per_team is not None:
            checks.require(
                1 <= self.min_countries_per_team <= self.max_mentors_per_mentee,
                "$.min_countries_per_team",
                "must be 1 to max_mentors_per_mentee",
            )
        checks.raise_if_any()
