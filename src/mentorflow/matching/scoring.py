"""Explainable integer points for a (mentee, mentor) pair, one component at a time, with reasons.

Components (weights in :class:`~mentorflow.matching.parameters.Weights`):

- ``needs``          priority of every need the mentor covers, times ``need`` (R-MATCH-1)
- ``role``           shared professional role tags, up to 3, times ``role`` (R-MATCH-3)
- ``institution``    same governance level, same size band, shared competences (up to 2),
                     times ``institution`` (R-MATCH-3)
- ``expertise``      "close": 4 minus the level gap; "gap": how far the mentor is ahead, up to 4;
                     times ``expertise`` (R-MATCH-3)
- ``practicalities`` a shared language, overlapping availability; times ``practicalities``

The solver does not add pair scores blindly: it counts need points per *need covered* in a team
(see :mod:`mentorflow.matching.solver`), and every other component per pair.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from mentorflow.matching.parameters import ExpertiseMode, ProgrammeParameters
from mentorflow.matching.profiles import available_together

if TYPE_CHECKING:
    from mentorflow.matching.profiles import MenteeCity, MentorCity

__all__ = ["Component", "PairScore", "fit_points", "need_values", "score_pair"]

_MAX_SHARED = 3
_MAX_COMPETENCES = 2
_LEVEL_SPAN = 4


@attrs.frozen
class Component:
    """Points one criterion gives a pair, and the sentence that justifies them."""

    name: str
    points: int
    reason: str

    def __str__(self) -> str:
        return f"{self.name:<14} {self.points:>4}  {self.reason}"


@attrs.frozen
class PairScore:
    """Every component for one pair; ``covered`` is the set of mentee topics the mentor covers."""

    mentee_id: str
    mentor_id: str
    components: tuple[Component, ...]
    covered: frozenset[str]

    @property
    def total(self) -> int:
        """Sum of every component."""
        return sum(c.points for c in self.components)

    @property
    def fit(self) -> int:
        """Points of every component except ``needs``: what the pair adds on its own to a team."""
        return sum(c.points for c in self.components if c.name != "needs")

    def component(self, name: str) -> Component:
        """The component with this name."""
        return next(c for c in self.components if c.name == name)


def need_values(mentee: MenteeCity, parameters: ProgrammeParameters) -> dict[str, tuple[int, int]]:
    """For each topic: points for covering it once, and extra points for a second cover."""
    weights = parameters.weights
    values = {}
    for need in mentee.needs:
        first = need.priority * weights.need
        values[need.topic] = (first, first * weights.second_cover_percent // 100)
    return values


def _needs(mentee: MenteeCity, mentor: MentorCity, p: ProgrammeParameters) -> Component:
    parts, points = [], 0
    for need in sorted(mentee.needs, key=lambda n: (-n.priority, n.topic)):
        practices = mentor.practices_for(need.topic)
        if practices:
            points += need.priority * p.weights.need
            titles = ", ".join(repr(x.title) for x in practices)
            parts.append(f"{need.topic} (priority {need.priority}) via {titles}")
    reason = "covers " + "; ".join(parts) if parts else "covers no need"
    return Component("needs", points, reason)


def _role_count(mentee: MenteeCity, mentor: MentorCity) -> int:
    return min(len(mentee.role_tags & mentor.role_tags), _MAX_SHARED)


def _role(mentee: MenteeCity, mentor: MentorCity, p: ProgrammeParameters) -> Component:
    shared = sorted(mentee.role_tags & mentor.role_tags)
    reason = "shared roles: " + ", ".join(shared) if shared else "no shared professional role"
    return Component("role", _role_count(mentee, mentor) * p.weights.role, reason)


def _institution_count(mentee: MenteeCity, mentor: MentorCity) -> int:
    a, b = mentee.institution, mentor.institution
    return (
        (a.governance_level == b.governance_level)
        + (a.size_band == b.size_band)
        + min(len(a.competences & b.competences), _MAX_COMPETENCES)
    )


def _institution(mentee: MenteeCity, mentor: MentorCity, p: ProgrammeParameters) -> Component:
    a, b = mentee.institution, mentor.institution
    parts = []
    if a.governance_level == b.governance_level:
        parts.append(f"both {a.governance_level}")
    if a.size_band == b.size_band:
        parts.append(f"both {a.size_band.value} cities")
    shared = sorted(a.competences & b.competences)
    if shared:
        parts.append("shared competences: " + ", ".join(shared))
    reason = "; ".join(parts) if parts else "different institutional frameworks"
    points = _institution_count(mentee, mentor) * p.weights.institution
    return Component("institution", points, reason)


def _expertise_count(mentee: MenteeCity, mentor: MentorCity, mode: ExpertiseMode) -> int:
    gap = mentor.expertise_level - mentee.expertise_level
    if mode is ExpertiseMode.CLOSE:
        return _LEVEL_SPAN - min(abs(gap), _LEVEL_SPAN)
    return max(0, min(gap, _LEVEL_SPAN))


def _expertise(mentee: MenteeCity, mentor: MentorCity, p: ProgrammeParameters) -> Component:
    levels = f"mentor level {mentor.expertise_level}, mentee level {mentee.expertise_level}"
    mode = "close" if p.expertise_mode is ExpertiseMode.CLOSE else "gap"
    points = _expertise_count(mentee, mentor, p.expertise_mode) * p.weights.expertise
    return Component("expertise", points, f"{mode} mode: {levels}")


def _unconstrained_or_overlapping(mentee: MenteeCity, mentor: MentorCity) -> bool:
    return not mentee.availability or not mentor.availability or available_together(mentee, mentor)


def _practicalities_count(mentee: MenteeCity, mentor: MentorCity) -> int:
    return bool(mentee.languages & mentor.languages) + _unconstrained_or_overlapping(mentee, mentor)


def _practicalities(mentee: MenteeCity, mentor: MentorCity, p: ProgrammeParameters) -> Component:
    parts = []
    languages = sorted(mentee.languages & mentor.languages)
    if languages:
        parts.append("shared language: " + ", ".join(languages))
    if not mentee.availability or not mentor.availability:
        parts.append("no availability constraint")
    elif available_together(mentee, mentor):
        parts.append("availability overlaps")
    reason = "; ".join(parts) if parts else "needs translation; no common availability"
    points = _practicalities_count(mentee, mentor) * p.weights.practicalities
    return Component("practicalities", points, reason)


def fit_points(mentee: MenteeCity, mentor: MentorCity, parameters: ProgrammeParameters) -> int:
    """``score_pair(...).fit`` without the reasons: what the solver needs for every pair."""
    w = parameters.weights
    return (
        _role_count(mentee, mentor) * w.role
        + _institution_count(mentee, mentor) * w.institution
        + _expertise_count(mentee, mentor, parameters.expertise_mode) * w.expertise
        + _practicalities_count(mentee, mentor) * w.practicalities
    )


def score_pair(
    mentee: MenteeCity, mentor: MentorCity, parameters: ProgrammeParameters
) -> PairScore:
    """Score one pair, component by component; eligibility is checked separately."""
    components = tuple(
        rule(mentee, mentor, parameters)
        for rule in (_needs, _role, _institution, _expertise, _practicalities)
    )
    return PairScore(mentee.id, mentor.id, components, mentee.topics & mentor.topics)
