"""The only module that imports ``transitions``: a method's phases as one shared state machine.

A method is compiled into one ``transitions.Machine`` that no engagement is bound to, so no
trigger methods are injected into domain objects and no per-engagement machine exists. The
machine checks the graph when it is built (unknown states are refused) and its event table is
what resolves every move at run time.

Guards are not registered as ``transitions`` conditions: a condition can only answer False and
stops at the first failure, while the engine must evaluate every requirement and report each
one. The engine evaluates the verdict, then asks the machine's table where the trigger leads;
the machine's callback pipeline has nothing to run, so it is not entered (it would cost as much
as the whole verdict, for no effect).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from transitions import Machine

__all__ = ["TransitionTable"]


class TransitionTable:
    """Phases and edges of one method, shared by every engagement that follows it."""

    __slots__ = ("_dest", "_events", "_machine", "_triggers_from")

    def __init__(
        self, states: Iterable[str], edges: Iterable[tuple[str, str, str]], initial: str
    ) -> None:
        machine = Machine(
            model=None,
            states=list(states),
            initial=initial,
            auto_transitions=False,  # to_<state>() shortcuts would skip every guard
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for trigger, source, dest in edges:
            machine.add_transition(trigger, source, dest)
        self._machine = machine
        self._events = dict(machine.events)
        self._dest: dict[tuple[str, str], str] = {
            (name, source): str(transition.dest)
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
        """The state an allowed ``trigger`` leads to from ``source``, read off the machine's events."""
        event = self._events.get(trigger)
        transitions = event.transitions.get(source) if event is not None else None
        if not transitions:
            raise LookupError(f"no transition {trigger!r} from {source!r}")
        return str(transitions[0].dest)
