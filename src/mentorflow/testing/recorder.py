"""EventRecorder: a test double that hears every event an EventBus publishes, in order."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from mentorflow.events import Event, EventBus

if TYPE_CHECKING:
    from collections.abc import Iterator
    from types import TracebackType

__all__ = ["EventRecorder"]

E = TypeVar("E", bound=Event)


class EventRecorder:
    """Subscribes to ``bus`` for ``event_type`` (every event by default) and keeps what it hears.

    Use it as a context manager, or call ``close()``, to stop listening.
    """

    def __init__(self, bus: EventBus, event_type: type[Event] = Event) -> None:
        self.bus = bus
        self.events: list[Event] = []
        self._unsubscribe = bus.subscribe(event_type, self.events.append)

    def __len__(self) -> int:
        return len(self.events)

    def __iter__(self) -> Iterator[Event]:
        return iter(self.events)

    def __enter__(self) -> EventRecorder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def of_type(self, event_type: type[E]) -> list[E]:
        """The recorded events that are instances of ``event_type``, in order."""
        return [e for e in self.events if isinstance(e, event_type)]

    @property
    def types(self) -> list[str]:
        """The class names of the recorded events, in order: handy in assertions."""
        return [type(e).__name__ for e in self.events]

    @property
    def sequences(self) -> list[int]:
        """The sequence numbers of the recorded events, in order."""
        return [e.sequence for e in self.events]

    @property
    def last(self) -> Event | None:
        """The most recent event, if any."""
        return self.events[-1] if self.events else None

    def clear(self) -> None:
        """Forget what was recorded so far; keep listening."""
        self.events.clear()

    def close(self) -> None:
        """Stop listening to the bus."""
        self._unsubscribe()
