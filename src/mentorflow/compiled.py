"""A method that passed lint, bound to its one shared transition table."""

from __future__ import annotations

from collections.abc import Mapping

from mentorflow._machine import TransitionTable
from mentorflow.exceptions import InvalidMethod, UnknownTrigger
from mentorflow.lint import lint_method
from mentorflow.methods import CANCELLED, Effect, Method, Phase, TriggerSpec
from mentorflow.model import Party
from mentorflow.state import PAUSED_PREFIX

__all__ = ["CompiledMethod", "compile_method"]

PAUSED = "paused"


class CompiledMethod:
    """A checked method ready to run engagements: compile once, share across all engagements."""

    __slots__ = ("_ancestors", "active_phases", "derived", "method", "table", "triggers")

    def __init__(self, method: Method) -> None:
        problems = lint_method(method)
        if problems:
            raise InvalidMethod(f"method {method.id!r}", problems)
        self.method = method
        #: Data other modules derive from the method once and keep with it (e.g. deadline rules).
        self.derived: dict[str, object] = {}
        parents = {p.parent for p in method.phases if p.parent}
        leaves = [p for p in method.phases if p.name not in parents]
        self.active_phases = tuple(p.name for p in leaves if not p.terminal)
        triggers = {t.name: t for t in method.triggers}
        states = [p.name for p in leaves]
        edges = [(t.name, s, t.dest) for t in method.triggers for s in t.sources]
        if method.pausable:
            states += [PAUSED_PREFIX + p for p in self.active_phases]
            edges += [("pause", p, PAUSED_PREFIX + p) for p in self.active_phases]
            edges += [("resume", PAUSED_PREFIX + p, p) for p in self.active_phases]
            facilitator = (Party.FACILITATOR,)
            triggers["pause"] = TriggerSpec(
                "pause",
                self.active_phases,
                PAUSED,
                facilitator,
                effect=Effect.PAUSE,
                needs_reason=True,
                title="Put the engagement on hold",
            )
            triggers["resume"] = TriggerSpec(
                "resume",
                tuple(PAUSED_PREFIX + p for p in self.active_phases),
                "(phase before the hold)",
                facilitator,
                effect=Effect.RESUME,
                title="Resume the engagement",
            )
        if method.cancellable:
            states.append(CANCELLED)
            cancellable = [s for s in states if s != CANCELLED and s not in _terminal(method)]
            edges += [("cancel", s, CANCELLED) for s in cancellable]
            triggers["cancel"] = TriggerSpec(
                "cancel",
                tuple(cancellable),
                CANCELLED,
                (Party.FACILITATOR,),
                effect=Effect.CANCEL,
                needs_reason=True,
                title="Cancel the engagement",
            )
        self.triggers: Mapping[str, TriggerSpec] = triggers
        self.table = TransitionTable(states, edges, method.initial)
        by_name = {p.name: p for p in method.phases}
        self._ancestors = {p.name: _lineage(p, by_name) for p in method.phases}

    @property
    def id(self) -> str:
        """The method's id."""
        return self.method.id

    @property
    def version(self) -> int:
        """The method's version."""
        return self.method.version

    def trigger(self, name: str) -> TriggerSpec:
        """The trigger called ``name``; raises UnknownTrigger naming the ones that exist."""
        try:
            return self.triggers[name]
        except KeyError:
            raise UnknownTrigger(name, sorted(self.triggers)) from None

    def in_phase(self, state_phase: str, phase: str) -> bool:
        """Whether ``state_phase`` is ``phase`` or one of its sub-phases."""
        if state_phase.startswith(PAUSED_PREFIX):
            return phase == PAUSED
        return phase in self._ancestors.get(state_phase, (state_phase,))


def _terminal(method: Method) -> set[str]:
    return {p.name for p in method.phases if p.terminal}


def _lineage(phase: Phase, by_name: Mapping[str, Phase]) -> tuple[str, ...]:
    names = [phase.name]
    while phase.parent is not None and phase.parent in by_name and phase.parent not in names:
        phase = by_name[phase.parent]
        names.append(phase.name)
    return tuple(names)


def compile_method(method: Method) -> CompiledMethod:
    """Lint ``method`` and build its shared transition table; raises InvalidMethod with every problem."""
    return CompiledMethod(method)
