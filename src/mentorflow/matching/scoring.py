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

if TYPE_CHECKING:
    from mentorflow.matching.profiles import MenteeCity, MentorCity

__all__ = ["Component", "PairScore", "need_values", "score_pair"]

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


def _role(mentee: MenteeCity, mentor: MentorCity, p: ProgrammeParameters) -> Component:
    shared = sorted(mentee.role_tags & mentor.role_tags)
    count = min(len(shared), _MAX_SHARED)
    reason = "shared roles: " + ", ".join(shared) if shared else "no shared professional role"
    return Component("role", count * p.weights.role, reason)


def _institution(mentee: MenteeCity, mentor: MentorCity, p: ProgrammeParameters) -> Component:
    a, b = mentee.institution, mentor.institution
    parts, count = [], 0
    if a.governance_level == b.governance_level:
        count += 1
        parts.append(f"both {a.governance_level}")
    if a.size_band == b.size_band:
        count += 1
        parts.append(f"both {a.size_band.value} cities")
    shared = sorted(a.competences & b.competences)
    if shared:
        count += min(len(shared), _MAX_COMPETENCES)
        parts.append("shared competences: " + ", ".join(shared))
    reason = "; ".join(parts) if parts else "different institutional frameworks"
    return Component("institution", count * p.weights.institution, reason)


def _expertise(mentee: MenteeCity, mentor: MentorCity, p: ProgrammeParameters) -> Component:
    gap = mentor.expertise_level - mentee.expertise_level
    levels = f"mentor level {mentor.expertise_level}, mentee level {mentee.expertise_level}"
    if p.expertise_mode is ExpertiseMode.CLOSE:
        count = _LEVEL_SPAN - min(abs(gap), _LEVEL_SPAN)
        reason = f"close mode: {levels}"
    else:
        count = max(0, min(gap, _LEVEL_SPAN))
        reason = f"gap mode: {levels}"
    return Component("expertise", count * p.weights.expertise, reason)


def _practicalities(mentee: MenteeCity, mentor: MentorCity, p: ProgrammeParameters) -> Component:
    parts, count = [], 0
    languages = sorted(mentee.languages & mentor.languages)
    if languages:
        count += 1
        parts.append("shared language: " + ", ".join(languages))
    if not mentee.availability or not mentor.availability:
        count += 1
        parts.append("no availability constraint")
    elif any(a.overlaps(b) for a in mentee.availability for b in mentor.availability):
        count += 1
        parts.append("availability overlaps")
    reason = "; ".join(parts) if parts else "needs translation; no common availability"
    return Component("practicalities", count * p.weights.practicalities, reason)


def score_pair(
    mentee: MenteeCity, mentor: MentorCity, parameters: ProgrammeParameters
) -> PairScore:
    """Score one pair, component by component; eligibility is checked separately."""
    components = tuple(
        rule(mentee, mentor, parameters)
        for rule in (_needs, _role, _institution, _expertise, _practicalities)
    )
    return PairScore(mentee.id, mentor.id, components, mentee.topics & mentor.topics)
