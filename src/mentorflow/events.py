"""Typed events that accepted actions emit, and in-process dispatch to the host's handlers."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

import attrs
import pendulum

from mentorflow.verdicts import Finding

__all__ = [
    "DeliverableApproved",
    "DeliverableShared",
    "DeliverableSubmitted",
    "EngagementCancelled",
    "EngagementClosed",
    "EngagementCreated",
    "EngagementDeleted",
    "EngagementMatched",
    "EngagementPaused",
    "EngagementResumed",
    "Event",
    "EventBus",
    "HandlerFailure",
    "MethodMigrated",
    "ParticipantErased",
    "PhaseEntered",
    "TriggerRefused",
    "VisitFinished",
    "VisitPlanned",
    "VisitStarted",
    "event_id",
]

EVENT_SCHEMA_VERSION = 1
_log = logging.getLogger("mentorflow.events")


def event_id(engagement_id: str, sequence: int) -> str:
    """The deterministic id of an engagement's ``sequence``-th event; unique across engagements."""
    return f"{engagement_id}#{sequence}"


@attrs.frozen(kw_only=True, slots=False)  # dict instances initialise faster than slotted ones
class Event:
    """What every event carries: identity, order within its engagement, time, actor, schema."""

    id: str
    engagement_id: str
    sequence: int
    at: pendulum.DateTime
    actor: str
    schema_version: int = EVENT_SCHEMA_VERSION


@attrs.frozen(kw_only=True, slots=False)
class EngagementCreated(Event):
    """An engagement began on a method, in the method's initial phase."""

    method_id: str
    method_version: int
    phase: str


@attrs.frozen(kw_only=True, slots=False)
class PhaseEntered(Event):
    """A trigger moved the engagement from one phase to another."""

    trigger: str
    from_phase: str
    to_phase: str


@attrs.frozen(kw_only=True, slots=False)
class EngagementMatched(Event):
    """The match was confirmed: the team is set and preparation can begin."""

    mentor_organisations: tuple[str, ...]
    mentee_organisations: tuple[str, ...]


@attrs.frozen(kw_only=True, slots=False)
class VisitPlanned(Event):
    """A visit was added to the programme or its plan changed."""

    visit_id: str
    tentative: bool


@attrs.frozen(kw_only=True, slots=False)
class VisitStarted(Event):
    """A visit began."""

    visit_id: str


@attrs.frozen(kw_only=True, slots=False)
class VisitFinished(Event):
    """A visit ended."""

    visit_id: str


@attrs.frozen(kw_only=True, slots=False)
class DeliverableSubmitted(Event):
    """A new version of a deliverable was submitted."""

    kind: str
    visit_id: str | None
    version: int


@attrs.frozen(kw_only=True, slots=False)
class DeliverableShared(Event):
    """A draft was shared for comments (R-PREP-2)."""

    kind: str
    visit_id: str | None
    version: int


@attrs.frozen(kw_only=True, slots=False)
class DeliverableApproved(Event):
    """A party approved a deliverable; ``fully_approved`` once every approving party has."""

    kind: str
    visit_id: str | None
    version: int
    party: str
    fully_approved: bool


@attrs.frozen(kw_only=True, slots=False)
class EngagementPaused(Event):
    """The engagement was put on hold."""

    reason: str


@attrs.frozen(kw_only=True, slots=False)
class EngagementResumed(Event):
    """The engagement left its hold and returned to its phase."""

    phase: str


@attrs.frozen(kw_only=True, slots=False)
class EngagementClosed(Event):
    """The engagement completed its lifecycle."""


@attrs.frozen(kw_only=True, slots=False)
class EngagementCancelled(Event):
    """The engagement ended early; ``reason`` says why."""

    reason: str
    phase: str


@attrs.frozen(kw_only=True, slots=False)
class EngagementDeleted(Event):
    """The engagement was deleted from its store (``SqlStore.delete``): its snapshot, history
    and index rows are gone, and its id can never be used again. Handlers that keep copies of
    the engagement (read models, search indexes, files) should delete theirs.

    ``version`` is the last version the engagement had; ``reason`` is the operator's, if given.
    Always the engagement's last event: any still undelivered reach handlers before it.
    """

    version: int
    reason: str | None = None


@attrs.frozen(kw_only=True, slots=False)
class ParticipantErased(Event):
    """A participant's name was erased (``Engagement.erase_participant``); their id, role and
    organisation stay. Handlers that keep the name elsewhere (a directory, a mailing list, a
    rendered report) should erase theirs."""

    participant_id: str


@attrs.frozen(kw_only=True)
class MethodMigrated(Event):
    """The engagement moved to another version of its method."""

    method_id: str
    from_version: int
    to_version: int


@attrs.frozen(kw_only=True, slots=False)
class TriggerRefused(Event):
    """A trigger was refused; published only to hosts that ask for refusals, never stored."""

    trigger: str
    reasons: tuple[Finding, ...]


E = TypeVar("E", bound=Event)
Handler = Callable[[E], object]


@attrs.frozen
class HandlerFailure:
    """A handler raised while handling an event; the engagement itself is unaffected."""

    event: Event
    handler: str
    error: BaseException


def _report_failure(failure: HandlerFailure) -> None:
    _log.error(
        "handler %s failed on %s %s: %r",
        failure.handler,
        type(failure.event).__name__,
        failure.event.id,
        failure.error,
    )


class EventBus:
    """Delivers events to plain callables subscribed per event type (subclasses included).

    A handler that raises does not stop the others: its failure is returned by ``publish`` and
    passed to ``on_failure`` (by default, logged at ERROR on ``mentorflow.events``).
    """

    def __init__(self, on_failure: Callable[[HandlerFailure], object] | None = None) -> None:
        self._handlers: dict[type[Event], list[Callable[[Event], object]]] = {}
        self._routes: dict[type[Event], tuple[Callable[[Event], object], ...]] = {}
        self._on_failure = on_failure or _report_failure

    def subscribe(self, event_type: type[E], handler: Callable[[E], object]) -> Callable[[], None]:
        """Call ``handler`` for every event of ``event_type``; returns a function that unsubscribes."""
        handlers = self._handlers.setdefault(event_type, [])
        handlers.append(handler)  # type: ignore[arg-type]  # narrowed by the type it is filed under
        self._routes.clear()

        def unsubscribe() -> None:
            if handler in handlers:
                handlers.remove(handler)
                self._routes.clear()

        return unsubscribe

    def handlers_for(self, event: Event) -> tuple[Callable[[Event], object], ...]:
        """The handlers an event reaches, most general type last (worked out once per type)."""
        route = self._routes.get(type(event))
        if route is None:
            found: list[Callable[[Event], object]] = []
            for cls in type(event).__mro__:
                found.extend(self._handlers.get(cls, ()))
            route = self._routes[type(event)] = tuple(found)
        return route

    def publish(self, events: Iterable[Event]) -> tuple[HandlerFailure, ...]:
        """Deliver events in order; every handler runs even when another raises."""
        if not self._handlers:
            return ()  # nobody listens: the common case for a store-backed engagement
        failures: list[HandlerFailure] = []
        for event in events:
            for handler in self.handlers_for(event):
                try:
                    handler(event)
                except Exception as error:
                    failure = HandlerFailure(event, _name(handler), error)
                    failures.append(failure)
                    self._on_failure(failure)
        return tuple(failures)


def _name(handler: Callable[..., object]) -> str:
    return getattr(handler, "__qualname__", None) or repr(handler)
