"""The only module that imports ``transitions``: a method's phases as one shared state machine.

A method is compiled into one ``transitions.Machine`` that no engagement is bound to (so no
trigger methods are injected into domain objects, and no per-engagement machine exists). Firing
runs the machine's own trigger on a throw-away cursor that carries the phase, with the verdict
the engine computed as the machine's single condition.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from transitions import Machine

__all__ = ["TransitionTable"]


class _Cursor:
    """The smallest model ``transitions`` can move: just a phase attribute."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _verdict_allows(event_data: Any) -> bool:
    # transitions treats anything but exactly True as refusal; the engine passes a real bool.
    return event_data.kwargs.get("allowed") is True


class TransitionTable:
    """Phases and edges of one method, shared by every engagement that follows it."""

    __slots__ = ("_dest", "_events", "_machine", "_triggers_from")

    def __init__(self, states: Iterable[str], edges: Iterable[tuple[str, str, str]], initial: str) -> None:
        machine = Machine(
            model=None,
            states=list(states),
            initial=initial,
            auto_transitions=False,  # to_<state>() shortcuts would skip every guard
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for trigger, source, dest in edges:
            machine.add_transition(trigger, source, dest, conditions=[_verdict_allows])
        self._machine = machine
        self._events = dict(machine.events)
        self._dest: dict[tuple[str, str], str] = {
            (name, source): transition.dest
            for name, event in machine.events.items()
            for source, transitions in event.transitions.items()
            for transition in transitions
        }
        triggers_from: dict[str, list[str]] = {}
        for name, source in self._dest:
            triggers_from.setdefault(source, []).append(name)
        self._triggers_from = {s: tuple(t) for s, t in triggers_from.items()}

    @property
    def states(self) -> tuple[str, ...]:
        """Every state of the machine, generated ones included."""
        return tuple(self._machine.states)

    @property
    def edges(self) -> Mapping[tuple[str, str], str]:
        """Destination by (trigger, source)."""
        return self._dest

    def dest(self, trigger: str, source: str) -> str | None:
        """Where ``trigger`` leads from ``source``, or None if it does not apply there."""
        return self._dest.get((trigger, source))

    def triggers_from(self, source: str) -> tuple[str, ...]:
        """The triggers that apply in ``source``."""
        return self._triggers_from.get(source, ())

    def move(self, trigger: str, source: str) -> str:
        """Run the machine's trigger from ``source`` for an allowed action; return the new state."""
        cursor = _Cursor(source)
        if not self._events[trigger].trigger(cursor, allowed=True):
            raise RuntimeError(f"transitions refused {trigger!r} from {source!r}")  # pragma: no cover
        return cursor.state
