"""Programme KPIs read from the engagements' own history and records, never from separate counters.

``programme_kpis(states)`` gives a funder's figures for a collection of ``EngagementState``s:
engagements by phase, on-time rate of deliverables per role, days from visit to roadmap, actions
implemented against actions planned, and how much each mentor city is used. ``to_json()`` turns
them into a small JSON-ready dict for a dashboard.

How each figure is read:

* **On time**: a deliverable whose method gives it a due date (``DeliverableSpec.due``) is on time
  when its first version was submitted by the date ``due.resolve`` gives for its visit. The first
  version's time and submitter come from the history; for a per-visit deliverable of an
  engagement with several visits, where the history cannot tell the visits apart, the record's
  latest version counts. It is filed under the role of whoever submitted it. Deliverables not
  submitted yet, or whose visit dates are still tentative, are not counted.
* **Visit to roadmap**: from the history entry that finished the visit before the roadmap's first
  submission, to that submission, in days.
* **Actions**: planned = actions in the submitted roadmaps; implemented = those the follow-up
  review records as implemented.
* **Mentor cities**: the engagements each organisation mentors in, cancelled ones left out,
  against an optional capacity.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from mentorflow.catalog import compiled
from mentorflow.compiled import PAUSED
from mentorflow.deliverables import ActionStatus, FollowUpReview, LocalRoadmap
from mentorflow.methods import CANCELLED, Effect
from mentorflow.model import Role
from mentorflow.state import evolve_state

if TYPE_CHECKING:
    import pendulum

    from mentorflow.compiled import CompiledMethod
    from mentorflow.state import DeliverableRecord, EngagementState

__all__ = [
    "OnTime",
    "ProgrammeKpis",
    "actions_by_status",
    "days_from_visit_to_roadmap",
    "engagements_by_phase",
    "mentor_engagements",
    "on_time_by_role",
    "programme_kpis",
]

KPI_SCHEMA_VERSION = 1
UNREVIEWED = "unreviewed"

MethodLookup = Callable[[str], "CompiledMethod"]


@attrs.frozen
class OnTime:
    """How many deliverables arrived by their due date, and how many after it."""

    on_time: int = 0
    late: int = 0

    @property
    def total(self) -> int:
        """Deliverables counted."""
        return self.on_time + self.late

    @property
    def rate(self) -> float | None:
        """The share on time; None when nothing was due."""
        return self.on_time / self.total if self.total else None

    def add(self, on_time: bool) -> OnTime:
        """This count with one more deliverable."""
        return OnTime(self.on_time + int(on_time), self.late + int(not on_time))


# -- the figures, one function each -----------------------------------------------------------


def engagements_by_phase(states: Iterable[EngagementState]) -> dict[str, int]:
    """How many engagements are in each phase; engagements on hold count as ``"paused"``."""
    counts = Counter(PAUSED if s.is_paused else s.phase for s in states)
    return dict(sorted(counts.items()))


def _first_submission(
    state: EngagementState, record: DeliverableRecord, ambiguous: bool
) -> tuple[pendulum.DateTime, str]:
    if not ambiguous:
        for entry in state.history:
            if entry.action == "submit" and entry.subject == record.kind:
                return entry.at, entry.actor
    return record.submitted_at, record.submitted_by


def on_time_by_role(
    states: Iterable[EngagementState], *, methods: MethodLookup = compiled
) -> dict[str, OnTime]:
    """On-time counts of the deliverables that have a due date, per role of the submitter."""
    counts: dict[str, OnTime] = {}
    for state in states:
        specs = methods(state.method_id).method.deliverable_specs
        visit_index = {v.id: i for i, v in enumerate(state.visits)}
        for record in state.deliverables.values():
            spec = specs.get(record.kind)
            if spec is None or spec.due is None:
                continue
            at_visit = state
            if record.visit_id is not None and record.visit_id in visit_index:
                at_visit = evolve_state(state, current_visit=visit_index[record.visit_id])
            due = spec.due.resolve(at_visit)
            if due is None:
                continue
            ambiguous = spec.per_visit and len(state.visits) > 1
            at, actor = _first_submission(state, record, ambiguous)
            person = state.participant(actor)
            role = person.role.value if person is not None else "unknown"
            counts[role] = counts.get(role, OnTime()).add(at <= due)
    return dict(sorted(counts.items()))


def days_from_visit_to_roadmap(
    states: Iterable[EngagementState], *, methods: MethodLookup = compiled
) -> tuple[float, ...]:
    """For each engagement with a roadmap: days from the end of its visit to the first roadmap."""
    found = []
    for state in states:
        method = methods(state.method_id)
        finished_at = None
        for entry in state.history:
            if entry.action == "fire" and entry.subject in method.triggers:
                if method.trigger(entry.subject).effect is Effect.FINISH_VISIT:
                    finished_at = entry.at
            elif entry.action == "submit" and entry.subject == LocalRoadmap.kind:
                if finished_at is not None:
                    found.append((entry.at - finished_at).total_seconds() / 86400)
                break
    return tuple(found)


def actions_by_status(states: Iterable[EngagementState]) -> dict[str, int]:
    """Roadmap actions by their status at the follow-up review; ``"unreviewed"`` when none."""
    counts: Counter[str] = Counter()
    for state in states:
        roadmap = state.deliverable(LocalRoadmap.kind)
        if roadmap is None or not isinstance(roadmap.content, LocalRoadmap):
            continue
        review = state.deliverable(FollowUpReview.kind)
        statuses: dict[str, str] = {}
        if review is not None and isinstance(review.content, FollowUpReview):
            statuses = {r.action_id: r.status.value for r in review.content.reviews}
        for action in roadmap.content.actions:
            counts[statuses.get(action.id, UNREVIEWED)] += 1
    return dict(sorted(counts.items()))


def mentor_engagements(states: Iterable[EngagementState]) -> dict[str, int]:
    """How many engagements each organisation mentors in, cancelled engagements left out."""
    counts: Counter[str] = Counter()
    for state in states:
        if state.phase != CANCELLED:
            counts.update(state.organisations_with(Role.MENTOR))
    return dict(sorted(counts.items()))


# -- all together -----------------------------------------------------------------------------


@attrs.frozen
class ProgrammeKpis:
    """A programme's figures, every one recomputed from the engagements' records."""

    engagements: int
    by_phase: dict[str, int]
    on_time: dict[str, OnTime]
    days_to_roadmap: tuple[float, ...]
    actions: dict[str, int]
    mentor_engagements: dict[str, int]
    mentor_capacity: dict[str, int] = attrs.field(factory=dict)

    @property
    def median_days_to_roadmap(self) -> float | None:
        """Median days from the end of the visit to the roadmap; None without any roadmap."""
        return statistics.median(self.days_to_roadmap) if self.days_to_roadmap else None

    @property
    def actions_planned(self) -> int:
        """Actions in the submitted roadmaps."""
        return sum(self.actions.values())

    @property
    def actions_implemented(self) -> int:
        """Actions the follow-up reviews record as implemented."""
        return self.actions.get(ActionStatus.IMPLEMENTED.value, 0)

    @property
    def implementation_rate(self) -> float | None:
        """Actions implemented / planned; None when no action is planned."""
        return self.actions_implemented / self.actions_planned if self.actions_planned else None

    @property
    def on_time_overall(self) -> OnTime:
        """On-time counts over every role."""
        return OnTime(
            sum(c.on_time for c in self.on_time.values()),
            sum(c.late for c in self.on_time.values()),
        )

    @property
    def mentor_utilisation(self) -> dict[str, float]:
        """Engagements mentored / capacity, for each organisation with a capacity."""
        return {
            city: self.mentor_engagements.get(city, 0) / capacity
            for city, capacity in sorted(self.mentor_capacity.items())
            if capacity > 0
        }

    def to_json(self) -> dict[str, Any]:
        """The figures as a small JSON-ready dict for a dashboard."""
        return {
            "schema_version": KPI_SCHEMA_VERSION,
            "engagements": self.engagements,
            "by_phase": dict(self.by_phase),
            "on_time": {
                role: {"on_time": c.on_time, "late": c.late, "rate": c.rate}
                for role, c in self.on_time.items()
            },
            "on_time_rate": self.on_time_overall.rate,
            "median_days_visit_to_roadmap": self.median_days_to_roadmap,
            "actions": {
                "planned": self.actions_planned,
                "implemented": self.actions_implemented,
                "rate": self.implementation_rate,
                "by_status": dict(self.actions),
            },
            "mentor_cities": {
                city: {
                    "engagements": self.mentor_engagements.get(city, 0),
                    "capacity": self.mentor_capacity.get(city),
                    "utilisation": self.mentor_utilisation.get(city),
                }
                for city in sorted({*self.mentor_engagements, *self.mentor_capacity})
            },
        }


def programme_kpis(
    states: Iterable[EngagementState],
    *,
    mentor_capacity: Mapping[str, int] | None = None,
    methods: MethodLookup = compiled,
) -> ProgrammeKpis:
    """Every KPI of a programme; ``methods`` finds an engagement's method by id (built-ins by default).

    ``mentor_capacity`` gives how many engagements each mentor city can take on; cities in it
    that mentor nothing show a utilisation of 0.
    """
    states = tuple(states)
    return ProgrammeKpis(
        engagements=len(states),
        by_phase=engagements_by_phase(states),
        on_time=on_time_by_role(states, methods=methods),
        days_to_roadmap=days_from_visit_to_roadmap(states, methods=methods),
        actions=actions_by_status(states),
        mentor_engagements=mentor_engagements(states),
        mentor_capacity=dict(mentor_capacity or {}),
    )
