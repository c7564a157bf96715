"""The store protocol, and an engagement that commits every action to a store before it counts.

A ``Store`` keeps each engagement's current snapshot with its version, the append-only history
and an outbox of events still to deliver. ``save`` is optimistic: it names the version the
engagement was loaded at and raises ``ConcurrencyConflict``, writing nothing, when someone else
saved first. ``StoredEngagement`` is the ``Engagement`` facade bound to a store; ``retry_action``
reloads and retries an action a bounded number of times.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

import attrs
import pendulum

from mentorflow import engine
from mentorflow._inputs import as_count
from mentorflow.clock import Clock
from mentorflow.compiled import CompiledMethod
from mentorflow.engagement import Engagement, Outcome
from mentorflow.events import Event, EventBus
from mentorflow.exceptions import ConcurrencyConflict, InvalidDocument, Problem
from mentorflow.methods import Method
from mentorflow.model import Organisation, Participant, Theme, Visit
from mentorflow.schedule import Deadline, deadlines, is_live
from mentorflow.state import EngagementState, HistoryEntry
from mentorflow.versions import MethodRegistry, as_compiled, migrate

__all__ = [
    "OutboxEntry",
    "OutboxStatus",
    "Store",
    "StoredEngagement",
    "method_problems",
    "next_deadline",
    "retry_action",
]

T = TypeVar("T")


class OutboxStatus:
    """Where an outbox event stands: waiting (or retrying), delivered, or given up on."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


@attrs.frozen
class OutboxEntry:
    """One event in the outbox with its delivery state.

    A store lists an entry whose stored payload it cannot read, too, so that one corrupt row
    does not hide the others: ``unreadable`` holds the reader's problems, and ``event`` raises
    InvalidDocument naming the event id.
    """

    _event: Event | None
    status: str
    attempts: int
    next_attempt_at: str
    last_error: str | None = None
    _event_id: str | None = None
    unreadable: tuple[Problem, ...] = ()
    #: When it was delivered (UTC ISO 8601 text, as ``next_attempt_at``); None until then.
    delivered_at: str | None = None

    @property
    def event(self) -> Event:
        """The event; raises InvalidDocument when its stored payload cannot be read."""
        if self._event is None:
            raise InvalidDocument(f"event {self.event_id!r}", self.unreadable)
        return self._event

    @property
    def event_id(self) -> str:
        """The event's id: the idempotency key handlers should record."""
        return self._event.id if self._event is not None else str(self._event_id)


class Store(Protocol):
    """Where engagements live between actions; every method is one transaction."""

    @property
    def methods(self) -> MethodRegistry:
        """The methods engagements in this store may follow, by (id, version)."""
        ...

    def load(self, engagement_id: str) -> EngagementState:
        """The current snapshot; raises UnknownEngagement or InvalidDocument."""
        ...

    def save(
        self,
        change: engine.Change,
        *,
        expected_version: int,
        previous: EngagementState | None = None,
    ) -> None:
        """Write the new snapshot, its history entries and its events together, or nothing.

        ``expected_version`` is the version the change was computed from (0 to create); raises
        ConcurrencyConflict when the stored engagement is not at that version. ``previous``, the
        snapshot the change was computed from, is a hint a store may use to write less.
        """
        ...

    def history(self, engagement_id: str) -> tuple[HistoryEntry, ...]:
        """The append-only history, oldest first."""
        ...

    def outbox(
        self, engagement_id: str | None = None, *, status: str | None = None
    ) -> tuple[OutboxEntry, ...]:
        """Outbox events, in order, optionally of one engagement and one status."""
        ...

    def replay(self, event_id: str) -> None:
        """Put a dead (or delivered) event back in line for delivery."""
        ...


def method_problems(state: EngagementState, method: CompiledMethod) -> list[Problem]:
    """Ways a snapshot contradicts the method version it names (unknown phase, unknown kinds)."""
    problems = []
    if state.phase not in method.table.states:
        problems.append(
            Problem("$.phase", f"unknown phase {state.phase!r} in {method.id} v{method.version}")
        )
    for key, record in state.deliverables.items():
        if record.kind not in method.method.deliverable_specs:
            problems.append(
                Problem(
                    f"$.deliverables.{key}.kind",
                    f"{record.kind!r} is not a deliverable of {method.id}",
                )
            )
    return problems


def next_deadline(
    state: EngagementState, method: CompiledMethod, found: Iterable[Deadline] | None = None
) -> pendulum.DateTime | None:
    """The earliest unmet deadline of a live engagement (``schedule.deadlines``), if any.

    Pass ``found`` when the deadlines are already at hand, so they are not read twice.
    """
    if not is_live(method, state):
        return None
    ordered = deadlines(method, state) if found is None else found
    return min((d.due for d in ordered if not d.met), default=None)


class StoredEngagement(Engagement):
    """An ``Engagement`` whose every action is saved to a store before it is applied.

    The save holds the new snapshot, its history entry and its events in one transaction; if it
    raises (``ConcurrencyConflict``, a database error) the engagement keeps its old snapshot.
    Events reach the bus given here right after the commit (in-process, best effort); durable,
    at-least-once delivery goes through the outbox and a ``Relay``.
    """

    __slots__ = ("_store",)

    def __init__(
        self,
        method: CompiledMethod,
        state: EngagementState,
        *,
        store: Store,
        bus: EventBus | None = None,
        clock: Clock | None = None,
        announce_refusals: bool = False,
    ) -> None:
        super().__init__(method, state, bus=bus, clock=clock, announce_refusals=announce_refusals)
        self._store = store

    @classmethod
    def load(
        cls,
        store: Store,
        engagement_id: str,
        *,
        bus: EventBus | None = None,
        clock: Clock | None = None,
    ) -> StoredEngagement:
        """The engagement as stored, on the method version it records (never a newer one)."""
        state = store.load(engagement_id)
        method = store.methods.get(state.method_id, state.method_version)
        return cls(method, state, store=store, bus=bus, clock=clock)

    @classmethod
    def start(  # type: ignore[override]  # the store is required here
        cls,
        method: CompiledMethod,
        *,
        store: Store,
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
    ) -> StoredEngagement:
        """Create an engagement and save it; raises ConcurrencyConflict if the id is taken."""
        when = engine.resolve_time(at, clock)
        # Registered while saving (the store computes deadlines with it), kept only if saved.
        with store.methods.adding(method) as ready:
            change = engine.start(
                ready,
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
            store.save(change, expected_version=0)
        engagement = cls(ready, change.state, store=store, bus=bus, clock=clock)
        engagement.bus.publish(change.events)
        return engagement

    @property
    def store(self) -> Store:
        """Where this engagement is saved."""
        return self._store

    def reload(self) -> None:
        """Replace the snapshot with the stored one (after a ConcurrencyConflict, say)."""
        state = self._store.load(self._state.id)
        self._method = self._store.methods.get(state.method_id, state.method_version)
        self._state = state

    def migrate(
        self,
        new: Method | CompiledMethod,
        *,
        actor: str,
        at: dt.datetime | None = None,
        reason: str | None = None,
    ) -> Outcome:
        """Move to another version of the method (see ``versions.can_migrate``), saved like any action.

        The store's registry gains ``new`` only once the move is saved: a refused, invalid or
        failed migration leaves the registry, the store and this engagement as they were.
        """
        ready = self._store.methods.resolve(as_compiled(new, "new"))
        change = migrate(
            self._state, ready, actor=actor, at=self._time(at), reason=reason, current=self._method
        )
        # Registered while saving, so the store computes the new version's deadlines.
        with self._store.methods.adding(ready) as registered:
            outcome = self._accept(change)
        self._method = registered
        return outcome

    def _accept(self, change: engine.Change) -> Outcome:
        self._store.save(change, expected_version=self._state.version, previous=self._state)
        return super()._accept(change)


def retry_action(
    store: Store,
    engagement_id: str,
    action: Callable[[StoredEngagement], T],
    attempts: int = 3,
    *,
    bus: EventBus | None = None,
    clock: Clock | None = None,
) -> T:
    """Load the engagement and run ``action`` on it; on ConcurrencyConflict reload and try again.

    Gives up after ``attempts`` tries by re-raising the last conflict. Refusals and other errors
    are not retried: the fresh snapshot is what the action was judged on.
    """
    as_count(attempts, "attempts", what="retry")
    for attempt in range(1, attempts + 1):
        engagement = StoredEngagement.load(store, engagement_id, bus=bus, clock=clock)
        try:
            return action(engagement)
        except ConcurrencyConflict:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")  # pragma: no cover
