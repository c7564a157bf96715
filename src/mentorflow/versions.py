"""Method versions: a registry keyed by (id, version), diffs, and migrating an engagement.

An engagement stays on the method version it started with, even when a newer one is
registered; it moves only through ``migrate``, which checks ``can_migrate`` first and records
the move in the history (an entry with action ``"migrate"`` and a ``MethodMigrated`` event).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import attrs

from mentorflow import engine
from mentorflow.catalog import METHODS, compiled
from mentorflow.compiled import CompiledMethod
from mentorflow.engine import Change
from mentorflow.events import MethodMigrated
from mentorflow.exceptions import ActionRefused, InvalidInput, InvalidMethod, Problem
from mentorflow.methods import Method
from mentorflow.state import PAUSED_PREFIX, DeliverableStatus, EngagementState, slot_key
from mentorflow.verdicts import Finding, Verdict

__all__ = ["MIGRATE_RULE", "MethodDiff", "MethodRegistry", "can_migrate", "diff", "migrate"]

#: Rule id of the findings that keep an engagement from moving to another method version.
MIGRATE_RULE = "MF-MIGRATE"


class MethodRegistry:
    """Compiled methods by (id, version); a newer version never replaces an older one."""

    __slots__ = ("_methods",)

    def __init__(self, methods: Iterable[Method | CompiledMethod] = ()) -> None:
        self._methods: dict[tuple[str, int], CompiledMethod] = {}
        for method in methods:
            self.add(method)

    @classmethod
    def builtin(cls) -> MethodRegistry:
        """A registry holding the shared compiled built-in methods of the catalog."""
        return cls(compiled(method_id) for method_id in METHODS)

    def add(self, method: Method | CompiledMethod) -> CompiledMethod:
        """Register ``method``; the same (id, version) with a different definition is refused."""
        ready = method if isinstance(method, CompiledMethod) else CompiledMethod(method)
        key = (ready.id, ready.version)
        known = self._methods.get(key)
        if known is not None and known.method != ready.method:
            raise InvalidMethod(
                f"method {ready.id!r}",
                [
                    Problem(
                        "$.version", f"version {ready.version} is already registered, differently"
                    )
                ],
            )
        return self._methods.setdefault(key, ready)

    def get(self, method_id: str, version: int) -> CompiledMethod:
        """The method at exactly this version; raises InvalidInput naming the versions known."""
        try:
            return self._methods[(method_id, version)]
        except KeyError:
            known = self.versions(method_id)
            raise InvalidInput(
                "method",
                [
                    Problem(
                        "$.method_version",
                        f"{method_id} v{version} is not registered (known: {list(known)})",
                    )
                ],
            ) from None

    def latest(self, method_id: str) -> CompiledMethod:
        """The newest registered version of ``method_id``."""
        known = self.versions(method_id)
        if not known:
            raise InvalidInput(
                "method", [Problem("$.method_id", f"no method {method_id!r} is registered")]
            )
        return self._methods[(method_id, known[-1])]

    def versions(self, method_id: str) -> tuple[int, ...]:
        """The registered versions of ``method_id``, oldest first."""
        return tuple(sorted(v for (i, v) in self._methods if i == method_id))

    def __contains__(self, key: object) -> bool:
        return key in self._methods


_CHANGE_SUFFIXES = ("_added", "_removed", "_changed")


@attrs.frozen
class MethodDiff:
    """What changed between two versions of a method, by name."""

    method_id: str
    from_version: int
    to_version: int
    phases_added: tuple[str, ...] = ()
    phases_removed: tuple[str, ...] = ()
    triggers_added: tuple[str, ...] = ()
    triggers_removed: tuple[str, ...] = ()
    triggers_changed: tuple[str, ...] = ()
    deliverables_added: tuple[str, ...] = ()
    deliverables_removed: tuple[str, ...] = ()
    deliverables_changed: tuple[str, ...] = ()
    parameters_changed: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Whether the two versions define the same lifecycle."""
        return not any(
            getattr(self, f.name)
            for f in attrs.fields(MethodDiff)
            if f.name.endswith(_CHANGE_SUFFIXES)
        )


def _compare(old: dict[str, object], new: dict[str, object]) -> tuple[tuple[str, ...], ...]:
    added = tuple(n for n in new if n not in old)
    removed = tuple(n for n in old if n not in new)
    changed = tuple(n for n in old if n in new and old[n] != new[n])
    return added, removed, changed


def diff(old: Method, new: Method) -> MethodDiff:
    """The phases, triggers, deliverables and parameters that differ from ``old`` to ``new``."""
    phases = _compare({p.name: p for p in old.phases}, {p.name: p for p in new.phases})
    triggers = _compare({t.name: t for t in old.triggers}, {t.name: t for t in new.triggers})
    deliverables = _compare(dict(old.deliverable_specs), dict(new.deliverable_specs))
    params = _compare(attrs.asdict(old.parameters), attrs.asdict(new.parameters))
    return MethodDiff(
        old.id,
        old.version,
        new.version,
        phases_added=phases[0],
        phases_removed=phases[1],
        triggers_added=triggers[0],
        triggers_removed=triggers[1],
        triggers_changed=triggers[2],
        deliverables_added=deliverables[0],
        deliverables_removed=deliverables[1],
        deliverables_changed=deliverables[2],
        parameters_changed=params[2],
    )


def _reasons(state: EngagementState, new: CompiledMethod) -> Iterable[str]:
    if new.id != state.method_id:
        yield f"{new.id} is a different method from {state.method_id}"
    if new.version <= state.method_version:
        yield f"v{new.version} is not newer than v{state.method_version}"
    if new.method.kind is not state.kind:
        yield f"{new.id} v{new.version} runs {new.method.kind} engagements, not {state.kind}"
    phase = state.phase.removeprefix(PAUSED_PREFIX)
    if state.phase not in new.table.states or phase not in new.table.states:
        yield f"phase {phase!r}, where the engagement is, does not exist in v{new.version}"
    roles = set(new.method.roles)
    for person in state.participants:
        if person.role not in roles:
            yield f"{person.name} is a {person.role}, a role v{new.version} does not have"
    specs = new.method.deliverable_specs
    for key, record in state.deliverables.items():
        spec = specs.get(record.kind)
        if spec is None:
            yield f"{record.kind} ({key}) is no longer a deliverable in v{new.version}"
            continue
        expected = slot_key(record.kind, record.visit_id if spec.per_visit else None)
        if (record.visit_id is None) == spec.per_visit or expected != key:
            yield f"{record.kind} changes between per-visit and per-engagement in v{new.version}"
        if record.status is DeliverableStatus.APPROVED:
            missing = [p.value for p in spec.approvers if not record.approved_by(p.value)]
            if missing:
                yield (
                    f"{record.kind} is approved, but v{new.version} also needs approval by "
                    f"{', '.join(missing)}"
                )


def can_migrate(state: EngagementState, new: Method | CompiledMethod) -> Verdict:
    """Whether ``state`` may move to ``new``; the verdict lists every reason it may not."""
    ready = new if isinstance(new, CompiledMethod) else CompiledMethod(new)
    unmet = tuple(Finding(MIGRATE_RULE, reason) for reason in _reasons(state, ready))
    action = f"migrate to {ready.id} v{ready.version}"
    return Verdict(action, state.id, state.phase, state.phase, unmet)


def migrate(
    state: EngagementState,
    new: Method | CompiledMethod,
    *,
    actor: str,
    at: dt.datetime,
    reason: str | None = None,
) -> Change:
    """Move ``state`` to ``new``, recorded in the history; raises ActionRefused with the verdict."""
    ready = new if isinstance(new, CompiledMethod) else CompiledMethod(new)
    verdict = can_migrate(state, ready)
    if not verdict.allowed:
        raise ActionRefused(verdict)
    instant = engine.as_instant(at)
    if state.participant(actor) is None:
        raise InvalidInput("migration", [Problem("$.actor", f"{actor!r} is not a participant")])
    if state.history and instant < state.history[-1].at:
        raise InvalidInput("time", [Problem("$.at", "is before the engagement's last action")])
    recorder = engine._Recorder(state, instant, actor)
    recorder.emit(
        MethodMigrated,
        method_id=ready.id,
        from_version=state.method_version,
        to_version=ready.version,
    )
    subject = f"{ready.id} v{state.method_version} -> v{ready.version}"
    return recorder.commit("migrate", subject, reason=reason, method_version=ready.version)
