"""A live engagement: the snapshot, its compiled method and the handlers that hear its events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import attrs
import pendulum

from mentorflow import engine
from mentorflow.clock import Clock
from mentorflow.compiled import PAUSED, CompiledMethod
from mentorflow.deliverables import DeliverableContent
from mentorflow.events import Event, EventBus, HandlerFailure, TriggerRefused, event_id
from mentorflow.exceptions import ActionRefused, InvalidInput, Problem
from mentorflow.model import Organisation, Participant, Theme, Visit
from mentorflow.state import EngagementState, HistoryEntry
from mentorflow.verdicts import Finding, Verdict

__all__ = ["Engagement", "Outcome"]


@attrs.frozen(slots=False)  # dict instances initialise faster; one is made per action
class Outcome:
    """What an accepted action produced: events, warnings, and any handler that failed on them."""

    events: tuple[Event, ...]
    warnings: tuple[Finding, ...] = ()
    failures: tuple[HandlerFailure, ...] = ()


class Engagement:
    """One engagement, driven through its method: ``check`` says why not yet, ``fire`` acts.

    The engagement holds an immutable snapshot; an action computes the next snapshot and swaps it
    in one assignment, then publishes the events. A refusal or an error leaves it as it was.
    """

    __slots__ = ("_bus", "_clock", "_method", "_state", "announce_refusals")

    def __init__(
        self,
        method: CompiledMethod,
        state: EngagementState,
        *,
        bus: EventBus | None = None,
        clock: Clock | None = None,
        announce_refusals: bool = False,
    ) -> None:
        if (state.method_id, state.method_version) != (method.id, method.version):
            raise InvalidInput(
                "engagement",
                [
                    Problem(
                        "$.method_id",
                        f"snapshot follows {state.method_id} v{state.method_version}, "
                        f"not {method.id} v{method.version}",
                    )
                ],
            )
        self._method = method
        self._state = state
        self._bus = bus if bus is not None else EventBus()
        self._clock = clock
        self.announce_refusals = announce_refusals

    @classmethod
    def start(
        cls,
        method: CompiledMethod,
        *,
        id: str,
        title: str,
        organisations: Iterable[Organisation],
        participants: Iterable[Participant],
        actor: str,
        at: dt.datetime | None = None,
        themes: Iterable[Theme] = (),
        visits: Iterable[Visit] = (),
        prerequisites: Iterable[str] = (),
        bus: EventBus | None = None,
        clock: Clock | None = None,
    ) -> Engagement:
        """Create an engagement in the method's initial phase and publish its creation event."""
        when = engine.resolve_time(at, clock)
        change = engine.start(
            method,
            id=id,
            title=title,
            organisations=organisations,
            participants=participants,
            actor=actor,
            at=when,
            themes=themes,
            visits=visits,
            prerequisites=prerequisites,
        )
        engagement = cls(method, change.state, bus=bus, clock=clock)
        engagement._bus.publish(change.events)
        return engagement

    # -- reading --------------------------------------------------------------------------

    @property
    def state(self) -> EngagementState:
        """The current immutable snapshot."""
        return self._state

    @property
    def method(self) -> CompiledMethod:
        """The compiled method the engagement follows."""
        return self._method

    @property
    def bus(self) -> EventBus:
        """Where the engagement publishes its events."""
        return self._bus

    @property
    def id(self) -> str:
        """The engagement's id."""
        return self._state.id

    @property
    def phase(self) -> str:
        """The current phase; ``"paused"`` while on hold (see ``resume_phase``)."""
        return PAUSED if self._state.is_paused else self._state.phase

    @property
    def resume_phase(self) -> str | None:
        """The phase a paused engagement returns to, or None when it is not paused."""
        return self._state.phase.split(":", 1)[1] if self._state.is_paused else None

    @property
    def version(self) -> int:
        """How many actions were accepted, creation included."""
        return self._state.version

    @property
    def history(self) -> tuple[HistoryEntry, ...]:
        """The append-only record of every accepted action."""
        return self._state.history

    def in_phase(self, phase: str) -> bool:
        """Whether the engagement is in ``phase`` or one of its sub-phases."""
        return self._method.in_phase(self._state.phase, phase)

    def available_triggers(self) -> tuple[str, ...]:
        """The triggers that apply in the current phase (whether or not their gates are met)."""
        return self._method.table.triggers_from(self._state.phase)

    def next_steps(self, *, actor: str, at: dt.datetime | None = None) -> dict[str, Verdict]:
        """The verdict of every trigger that applies now, for ``actor``."""
        when = self._time(at)
        return {t: self.check(t, actor=actor, at=when) for t in self.available_triggers()}

    # -- acting ---------------------------------------------------------------------------

    def check(
        self,
        trigger: str,
        *,
        actor: str,
        at: dt.datetime | None = None,
        reason: str | None = None,
        related: Mapping[str, str] | None = None,
    ) -> Verdict:
        """Every unmet requirement and warning for ``trigger``; never raises for a refusal."""
        return engine.check(
            self._method,
            self._state,
            trigger,
            actor=actor,
            at=self._time(at),
            reason=reason,
            related=related,
        )

    def fire(
        self,
        trigger: str,
        *,
        actor: str,
        at: dt.datetime | None = None,
        reason: str | None = None,
        acknowledge: Mapping[str, str] | None = None,
        related: Mapping[str, str] | None = None,
    ) -> Outcome:
        """Apply ``trigger``, or raise TransitionRefused carrying the verdict."""
        when = self._time(at)
        try:
            change = engine.fire(
                self._method,
                self._state,
                trigger,
                actor=actor,
                at=when,
                reason=reason,
                acknowledge=acknowledge,
                related=related,
            )
        except ActionRefused as refusal:
            self._announce(refusal, trigger, actor, when)
            raise
        return self._accept(change)

    def submit(
        self,
        content: DeliverableContent,
        *,
        actor: str,
        at: dt.datetime | None = None,
        visit: str | None = None,
    ) -> Outcome:
        """Submit a new version of a deliverable; raises InvalidDeliverable or ActionRefused."""
        return self._accept(
            engine.submit(
                self._method, self._state, content, actor=actor, at=self._time(at), visit=visit
            )
        )

    def check_submission(
        self,
        content: DeliverableContent,
        *,
        actor: str,
        at: dt.datetime | None = None,
        visit: str | None = None,
    ) -> Verdict:
        """Whether ``actor`` may submit ``content`` now, with every reason if not."""
        return engine.check_submission(
            self._method, self._state, content, actor=actor, at=self._time(at), visit=visit
        )

    def share(
        self, kind: str, *, actor: str, at: dt.datetime | None = None, visit: str | None = None
    ) -> Outcome:
        """Share a draft for comments (R-PREP-2)."""
        return self._accept(
            engine.share(
                self._method, self._state, kind, actor=actor, at=self._time(at), visit=visit
            )
        )

    def approve(
        self,
        kind: str,
        *,
        actor: str,
        at: dt.datetime | None = None,
        visit: str | None = None,
        comment: str = "",
    ) -> Outcome:
        """Approve a deliverable for the actor's party."""
        return self._accept(
            engine.approve(
                self._method,
                self._state,
                kind,
                actor=actor,
                at=self._time(at),
                visit=visit,
                comment=comment,
            )
        )

    def plan_visit(self, visit: Visit, *, actor: str, at: dt.datetime | None = None) -> Outcome:
        """Add a visit to the programme or change one not yet held."""
        return self._accept(
            engine.plan_visit(self._method, self._state, visit, actor=actor, at=self._time(at))
        )

    def erase_participant(
        self, participant_id: str, *, actor: str, at: dt.datetime | None = None
    ) -> Outcome:
        """Erase a participant's name (their right to erasure); their id, role and organisation
        stay, so the engagement goes on. The facilitator may erase anyone's, a participant their
        own; refused (``MF-ERASED``) when it is erased already. Emits ``ParticipantErased``."""
        return self._accept(
            engine.erase_participant(self._state, participant_id, actor=actor, at=self._time(at))
        )

    # -- internals ------------------------------------------------------------------------

    def _time(self, at: dt.datetime | None) -> pendulum.DateTime:
        return engine.resolve_time(at, self._clock)

    def _accept(self, change: engine.Change) -> Outcome:
        self._state = change.state  # one assignment: the action is applied whole or not at all
        failures = self._bus.publish(change.events)
        return Outcome(change.events, change.warnings, failures)

    def _announce(
        self, refusal: ActionRefused, trigger: str, actor: str, at: pendulum.DateTime
    ) -> None:
        if not self.announce_refusals:
            return
        # Refusals are not stored, so their ids count past the stored events without taking a slot.
        sequence = self._state.event_count + 1
        event = TriggerRefused(
            id=event_id(self._state.id, sequence) + f"/refused/{self._state.version}",
            engagement_id=self._state.id,
            sequence=sequence,
            at=at,
            actor=actor,
            trigger=trigger,
            reasons=refusal.verdict.unmet,
        )
        self._bus.publish((event,))
