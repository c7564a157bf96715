"""What a requirement may look at while it is evaluated: the context the engine builds."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import pendulum

from mentorflow._due import Due
from mentorflow.model import Agenda, Party, Role, SessionKind
from mentorflow.state import DeliverableRecord, EngagementState
from mentorflow.verdicts import Finding, Severity

if TYPE_CHECKING:
    from mentorflow.methods import DeliverableSpec, Method

__all__ = ["Context", "organisation_name"]


class Context:
    """What a requirement may look at: the snapshot, the method, the time and related engagements."""

    __slots__ = ("_kinds", "at", "method", "related", "specs", "state", "visit")

    def __init__(
        self,
        state: EngagementState,
        method: Method,
        at: pendulum.DateTime,
        related: Mapping[str, str],
    ) -> None:
        self.state = state
        self.method = method
        self.specs = method.deliverable_specs
        self.at = at
        self.related = related
        self.visit = state.visit
        self._kinds: dict[bool, frozenset[SessionKind]] = {}

    def spec(self, kind: str) -> DeliverableSpec:
        """The method's declaration of a deliverable kind."""
        return self.specs[kind]

    def record(self, kind: str) -> DeliverableRecord | None:
        """The latest record of ``kind`` for the visit at hand (or the engagement)."""
        if self.specs[kind].per_visit:
            visit = self.visit
            return self.state.deliverables.get(f"{kind}@{visit.id}") if visit is not None else None
        return self.state.deliverables.get(kind)

    def agenda_kinds(self, agenda: Agenda, final_day: bool) -> frozenset[SessionKind]:
        """The session tags present in ``agenda`` (on its last day only, if asked); computed once."""
        found = self._kinds.get(final_day)
        if found is None:
            sessions = agenda.sessions
            if final_day and sessions:
                last = max(s.day for s in sessions)
                sessions = tuple(s for s in sessions if s.day == last)
            found = self._kinds[final_day] = frozenset(k for s in sessions for k in s.kinds)
        return found

    def describe(self, party: Party) -> str:
        """A party as a person reads it: the programme's label and, for a visit side, the city."""
        labels = self.method.labels
        visit = self.state.visit
        if party is Party.HOST and visit is not None:
            return f"host ({organisation_name(self.state, visit.host)})"
        if party is Party.VISITORS and visit is not None:
            names = ", ".join(organisation_name(self.state, o) for o in visit.visitors)
            return f"visitors ({names})"
        if party.value in Role.__members__.values():
            return labels.label(Role(party.value))
        return party.value

    def missing(
        self, rule: str, severity: Severity, kind: str, message: str, due: Due | None
    ) -> Finding:
        """A finding about deliverable ``kind``, naming its owner and due date."""
        spec = self.spec(kind)
        visit = self.state.visit
        return Finding(
            rule=rule,
            message=message,
            severity=severity,
            deliverable=kind,
            owed_by=self.describe(spec.owner),
            due=due.resolve(self.state) if due is not None else None,
            visit_id=visit.id if visit is not None and spec.per_visit else None,
        )


def organisation_name(state: EngagementState, organisation_id: str) -> str:
    """The organisation's name in the snapshot, or its id when the snapshot lacks it."""
    org = state.organisation(organisation_id)
    return org.name if org is not None else organisation_id
