"""The engagement snapshot: an immutable record of everything an engagement holds at one version."""

from __future__ import annotations

import enum

import attrs
import pendulum

from mentorflow.deliverables import DeliverableContent
from mentorflow.model import EngagementKind, Organisation, Participant, Role, Theme, Visit

__all__ = [
    "Acknowledgement",
    "Approval",
    "DeliverableRecord",
    "DeliverableStatus",
    "EngagementState",
    "HistoryEntry",
    "slot_key",
]

PAUSED_PREFIX = "paused:"


class DeliverableStatus(enum.StrEnum):
    """A deliverable's approval lifecycle: submitted (a draft), shared for comments, approved."""

    SUBMITTED = "submitted"
    SHARED = "shared"
    APPROVED = "approved"


@attrs.frozen
class Approval:
    """One approval of a deliverable by a participant holding an approving role."""

    participant_id: str
    party: str
    at: pendulum.DateTime
    comment: str = ""


@attrs.frozen
class DeliverableRecord:
    """The latest version of one deliverable, where it stands and who approved it."""

    kind: str
    visit_id: str | None
    content: DeliverableContent
    version: int
    status: DeliverableStatus
    submitted_by: str
    submitted_at: pendulum.DateTime
    approvals: tuple[Approval, ...] = ()

    def approved_by(self, party: str) -> bool:
        """Whether some participant approved this version for ``party``."""
        return any(a.party == party for a in self.approvals)


@attrs.frozen
class Acknowledgement:
    """A warning that a participant accepted on purpose, with the reason given."""

    rule: str
    reason: str


@attrs.frozen(slots=False)  # dict instances initialise faster; one is made per action
class HistoryEntry:
    """One accepted action: the append-only history has one entry per action, creation included."""

    sequence: int
    at: pendulum.DateTime
    actor: str
    action: str
    subject: str
    from_phase: str
    to_phase: str
    reason: str | None = None
    acknowledged: tuple[Acknowledgement, ...] = ()
    event_ids: tuple[str, ...] = ()


def slot_key(kind: str, visit_id: str | None) -> str:
    """Where a deliverable lives in the snapshot: per kind, and per visit for per-visit kinds."""
    return kind if visit_id is None else f"{kind}@{visit_id}"


@attrs.frozen(hash=False, slots=False)  # a dict instance: see evolve_state
class EngagementState:
    """Everything one engagement holds at one version; actions make new snapshots, never edits."""

    id: str
    method_id: str
    method_version: int
    kind: EngagementKind
    title: str
    phase: str
    organisations: tuple[Organisation, ...]
    participants: tuple[Participant, ...]
    themes: tuple[Theme, ...] = ()
    visits: tuple[Visit, ...] = ()
    current_visit: int = 0
    visit_in_progress: bool = False
    deliverables: dict[str, DeliverableRecord] = attrs.field(factory=dict)
    prerequisites: tuple[str, ...] = ()
    history: tuple[HistoryEntry, ...] = ()
    event_count: int = 0
    schema_version: int = 1

    @property
    def version(self) -> int:
        """How many actions the engagement has accepted, creation included."""
        return len(self.history)

    @property
    def is_paused(self) -> bool:
        """Whether the engagement is on hold."""
        return self.phase.startswith(PAUSED_PREFIX)

    @property
    def visit(self) -> Visit | None:
        """The visit being prepared or held now, if any is planned."""
        if self.current_visit < len(self.visits):
            return self.visits[self.current_visit]
        return None

    def participant(self, participant_id: str) -> Participant | None:
        """The participant with this id, if they take part."""
        for p in self.participants:
            if p.id == participant_id:
                return p
        return None

    def organisation(self, organisation_id: str) -> Organisation | None:
        """The organisation with this id, if it takes part."""
        for o in self.organisations:
            if o.id == organisation_id:
                return o
        return None

    def organisations_with(self, role: Role) -> tuple[str, ...]:
        """Ids of organisations that have a participant in ``role``, in first-seen order."""
        return tuple(dict.fromkeys(p.organisation_id for p in self.participants if p.role is role))

    def deliverable(self, kind: str, visit_id: str | None = None) -> DeliverableRecord | None:
        """The latest record of a deliverable, if submitted."""
        return self.deliverables.get(slot_key(kind, visit_id))


def evolve_state(state: EngagementState, **changes: object) -> EngagementState:
    """A copy of ``state`` with ``changes`` (engine-internal: names are not checked).

    The engine makes one snapshot per action, so this is on the hot path: copying the instance
    dictionary is several times faster than ``attrs.evolve``, which introspects on every call.
    """
    new = object.__new__(EngagementState)
    fields = new.__dict__
    fields.update(state.__dict__)
    fields.update(changes)
    return new
