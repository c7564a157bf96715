"""What every engine action shares: the Change it returns, the recorder that builds it, and
the checks of its actor and time.

The engine's own rule ids live here too, as both the triggers (``engine``) and the work on
deliverables and visits (``_work_actions``) refuse with them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs
import pendulum

from mentorflow.events import Event, event_id
from mentorflow.exceptions import InvalidInput, Problem, UnknownParticipant
from mentorflow.model import Participant, Party
from mentorflow.requirements import Context
from mentorflow.state import Acknowledgement, EngagementState, HistoryEntry, evolve_state
from mentorflow.verdicts import Finding

__all__ = [
    "Change",
    "DELIVERABLE_RULE",
    "NO_RELATED",
    "PHASE_RULE",
    "REASON_RULE",
    "ROLE_RULE",
    "Recorder",
    "VISIT_RULE",
    "actor_in",
    "check_not_before_last",
    "parties_text",
]

#: Rule ids for refusals that come from the engine itself rather than from the seeds.
PHASE_RULE = "MF-PHASE"
ROLE_RULE = "MF-ROLE"
REASON_RULE = "MF-REASON"
VISIT_RULE = "MF-VISIT"
DELIVERABLE_RULE = "MF-DELIVERABLE"

NO_RELATED: Mapping[str, str] = {}


@attrs.frozen
class Change:
    """The result of an accepted action: the new snapshot, the events it emits, its warnings."""

    state: EngagementState
    events: tuple[Event, ...]
    warnings: tuple[Finding, ...] = ()


def actor_in(state: EngagementState, actor: str) -> Participant:
    participant = state.participant(actor)
    if participant is None:
        raise UnknownParticipant(actor, state.id)
    return participant


def check_not_before_last(state: EngagementState, at: pendulum.DateTime) -> None:
    if state.history and at < state.history[-1].at:
        last = state.history[-1].at.to_iso8601_string()
        raise InvalidInput(
            "time", [Problem("$.at", f"is before the engagement's last action ({last})")]
        )


def parties_text(ctx: Context, parties: Iterable[Party]) -> str:
    return " or ".join(ctx.describe(p) for p in parties)


class Recorder:
    """Builds the events and the history entry of one action, numbered after the snapshot's."""

    __slots__ = ("actor", "at", "events", "state")

    def __init__(self, state: EngagementState, at: pendulum.DateTime, actor: str) -> None:
        self.state = state
        self.at = at
        self.actor = actor
        self.events: list[Event] = []

    def emit(self, cls: type[Event], **fields: Any) -> None:
        sequence = self.state.event_count + len(self.events) + 1
        self.events.append(
            cls(
                id=event_id(self.state.id, sequence),
                engagement_id=self.state.id,
                sequence=sequence,
                at=self.at,
                actor=self.actor,
                **fields,
            )
        )

    def commit(
        self,
        action: str,
        subject: str,
        *,
        to_phase: str | None = None,
        reason: str | None = None,
        acknowledged: tuple[Acknowledgement, ...] = (),
        warnings: tuple[Finding, ...] = (),
        **changes: object,
    ) -> Change:
        # Positional arguments and list displays: one of these runs per accepted action.
        state = self.state
        events = self.events
        phase = to_phase or state.phase
        entry = HistoryEntry(
            state.version + 1,
            self.at,
            self.actor,
            action,
            subject,
            state.phase,
            phase,
            reason,
            acknowledged,
            tuple([e.id for e in events]),
        )
        new_state = evolve_state(
            state,
            phase=phase,
            history=(*state.history, entry),
            event_count=state.event_count + len(events),
            **changes,
        )
        return Change(new_state, tuple(events), warnings)
