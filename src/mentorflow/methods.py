"""Methods as data: phases, triggers, the requirements that gate them, deliverables, parameters."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from functools import cached_property

import attrs

from mentorflow.model import EngagementKind, Party, Role, RoleLabels
from mentorflow.requirements import Due, Requirement

__all__ = [
    "CANCELLED",
    "DeliverableSpec",
    "Effect",
    "Method",
    "MethodParameters",
    "Phase",
    "TriggerSpec",
]

#: The phase every cancellable method can end in; generated, never declared.
CANCELLED = "cancelled"


class Effect(enum.StrEnum):
    """What a trigger does besides changing phase; it decides the domain events emitted."""

    NONE = "none"
    MATCH = "match"
    START_VISIT = "start_visit"
    FINISH_VISIT = "finish_visit"
    CLOSE = "close"
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


@attrs.frozen
class Phase:
    """A step of the lifecycle; ``parent`` groups sub-phases (``follow_up.review`` in ``follow_up``)."""

    name: str
    title: str = ""
    parent: str | None = None
    terminal: bool = False


@attrs.frozen
class TriggerSpec:
    """A named move between phases: from where, to where, who may fire it, and what gates it."""

    name: str
    sources: tuple[str, ...]
    dest: str
    parties: tuple[Party, ...]
    requirements: tuple[Requirement, ...] = ()
    effect: Effect = Effect.NONE
    needs_reason: bool = False
    title: str = ""


@attrs.frozen
class DeliverableSpec:
    """Who owes a deliverable, who approves it, and whether it is shared as a draft first."""

    kind: str
    title: str
    owner: Party
    approvers: tuple[Party, ...] = ()
    shared_first: bool = False
    per_visit: bool = False
    requires: tuple[str, ...] = ()
    requires_rule: str = ""
    due: Due | None = None


@attrs.frozen
class MethodParameters:
    """The configurable defaults the seeds give ("param" rules in the catalogue)."""

    max_themes: int = 2
    max_mentor_cities: int = 3
    visit_days: tuple[int, int] = (2, 3)
    reps_per_mentor_city: tuple[int, int] = (1, 1)
    reps_per_mentee_city: tuple[int, int] = (1, 10)
    objectives_lead_months: int = 2
    objectives_pages: tuple[int, int] = (2, 4)
    follow_up_after_months: int = 12
    report_after_days: int = 30
    paper_comment_days: int = 14


@attrs.frozen
class Method:
    """A complete, declarative description of one kind of engagement's lifecycle."""

    id: str
    version: int
    title: str
    kind: EngagementKind
    phases: tuple[Phase, ...]
    initial: str
    triggers: tuple[TriggerSpec, ...]
    deliverables: tuple[DeliverableSpec, ...] = ()
    parameters: MethodParameters = attrs.field(factory=MethodParameters)
    labels: RoleLabels = attrs.field(factory=RoleLabels)
    roles: tuple[Role, ...] = (Role.MENTOR, Role.MENTEE, Role.FACILITATOR, Role.OBSERVER)
    pausable: bool = True
    cancellable: bool = True
    description: str = ""

    @cached_property
    def deliverable_specs(self) -> Mapping[str, DeliverableSpec]:
        """Deliverable declarations by kind."""
        return {d.kind: d for d in self.deliverables}

    @cached_property
    def phase_names(self) -> tuple[str, ...]:
        """Names of the declared phases, in order."""
        return tuple(p.name for p in self.phases)
