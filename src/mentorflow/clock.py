"""Clocks: the only way the library learns the time when the caller does not pass it."""

from __future__ import annotations

from typing import Protocol

import pendulum

__all__ = ["Clock", "FrozenClock"]


class Clock(Protocol):
    """Anything that says what time it is; inject one instead of letting the core read the wall."""

    def now(self) -> pendulum.DateTime:
        """The current instant, time-zone aware."""
        ...


class FrozenClock:
    """A clock that stands still until told to move: for tests and for replaying history."""

    __slots__ = ("_now",)

    def __init__(self, now: pendulum.DateTime) -> None:
        self._now = now

    def now(self) -> pendulum.DateTime:
        """The instant the clock is set to."""
        return self._now

    def set(self, now: pendulum.DateTime) -> None:
        """Jump to ``now``."""
        self._now = now

    def advance(self, **delta: int) -> pendulum.DateTime:
        """Move forward by a pendulum duration (``days=3``, ``months=2``) and return the new time."""
        self._now = self._now.add(**delta)
        return self._now
