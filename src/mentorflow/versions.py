"""Method versions: a registry keyed by (id, version), diffs, and migrating an engagement.

An engagement stays on the method version it started with, even when a newer one is
registered; it moves only through ``migrate``, which checks ``can_migrate`` first and records
the move in the history (an entry with action ``"migrate"`` and a ``MethodMigrated`` event).
``can_migrate`` checks every stored deliverable (approved or still a draft) again against the
new declaration, and every gate the engagement has passed against the new requirements.

A ``MethodRegistry`` lives in one process: every process that opens a store must register the
versions its engagements use (``SqlStore.open(..., methods=registry)``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import attrs

from mentorflow._change import Change, Recorder, check_not_before_last
from mentorflow._inputs import as_instant, as_text
from mentorflow._migration_checks import (
    MIGRATE_RULE,
    content_findings,
    reasons,
    resubmit_findings,
)
from mentorflow.catalog import METHODS, compiled
from mentorflow.compiled import CompiledMethod
from mentorflow.events import MethodMigrated
from mentorflow.exceptions import ActionRefused, InvalidInput, InvalidMethod, Problem
from mentorflow.methods import Method
from mentorflow.state import EngagementState
from mentorflow.verdicts import Severity, Verdict

__all__ = [
    "MIGRATE_RULE",
    "MethodDiff",
    "MethodRegistry",
    "as_compiled",
    "can_migrate",
    "diff",
    "migrate",
]


def _definition(method: object, argument: str) -> Method:
    """``method``'s declaration, once its type, id and version are sound; else InvalidInput."""
    if isinstance(method, CompiledMethod):
        method = method.method
    if not isinstance(method, Method):
        raise InvalidInput(
            "method",
            [
                Problem(
                    f"$.{argument}",
                    f"must be a Method or CompiledMethod, not {type(method).__name__}",
                )
            ],
        )
    problems = []
    if not isinstance(method.id, str) or not method.id.strip():
        problems.append(Problem(f"$.{argument}.id", f"must be a non-empty text, got {method.id!r}"))
    # bool is an int to Python, but True is no version number.
    if type(method.version) is not int or method.version < 1:
        problems.append(
            Problem(
                f"$.{argument}.version",
                f"must be a whole number of at least 1, got {method.version!r}",
            )
        )
    if problems:
        raise InvalidMethod(f"method {method.id!r}", problems)
    return method


def as_compiled(method: object, argument: str = "method") -> CompiledMethod:
    """``method`` compiled (as given when already compiled); InvalidInput names ``argument``."""
    definition = _definition(method, argument)
    return method if isinstance(method, CompiledMethod) else CompiledMethod(definition)


class MethodRegistry:
    """Compiled methods by (id, version); a newer version never replaces an older one."""

    __slots__ = ("_guard", "_methods", "_provisional")

    def __init__(self, methods: Iterable[Method | CompiledMethod] = ()) -> None:
        self._methods: dict[tuple[str, int], CompiledMethod] = {}
        # Versions registered only for saves still running, with how many: one is taken back
        # when the last of them fails, never while another may still save with it.
        self._provisional: dict[tuple[str, int], int] = {}
        self._guard = threading.Lock()
        for method in methods:
            self.add(method)

    @classmethod
    def builtin(cls) -> MethodRegistry:
        """A registry holding the shared compiled built-in methods of the catalog."""
        return cls(compiled(method_id) for method_id in METHODS)

    def add(self, method: Method | CompiledMethod) -> CompiledMethod:
        """Register ``method``; the same (id, version) with a different definition is refused."""
        ready = self.resolve(method)
        key = (ready.id, ready.version)
        with self._guard:
            self._provisional.pop(key, None)  # registered for good
            return self._methods.setdefault(key, ready)

    @contextmanager
    def adding(self, method: Method | CompiledMethod) -> Iterator[CompiledMethod]:
        """``method`` registered for the block, and kept only if the block ends normally.

        For a change that needs the method registered while it is made (a store computes the
        new version's deadlines when it saves) and must leave no trace when it fails.
        """
        ready = self.resolve(method)
        key = (ready.id, ready.version)
        with self._guard:
            provisional = key not in self._methods or key in self._provisional
            if provisional:
                self._provisional[key] = self._provisional.get(key, 0) + 1
            registered = self._methods.setdefault(key, ready)
        try:
            yield registered
        except BaseException:
            if provisional:
                self._settle(key, kept=False)
            raise
        if provisional:
            self._settle(key, kept=True)

    def _settle(self, key: tuple[str, int], *, kept: bool) -> None:
        """One provisional use of ``key`` ended: kept for good, or taken back with the last."""
        with self._guard:
            if key not in self._provisional:
                return  # registered for good meanwhile (``add``, or a save that succeeded)
            if kept:
                del self._provisional[key]
                return
            self._provisional[key] -= 1
            if self._provisional[key] == 0:
                del self._provisional[key]
                del self._methods[key]

    def resolve(self, method: Method | CompiledMethod) -> CompiledMethod:
        """What ``add`` would register, without registering it (InvalidMethod as ``add`` raises).

        The registered instance when the same definition is known, else ``method`` compiled: a
        caller checks with it first and registers only once its own change is accepted.
        """
        ready = as_compiled(method)
        known = self._methods.get((ready.id, ready.version))
        if known is None:
            return ready
        if known.method != ready.method:
            raise InvalidMethod(
                f"method {ready.id!r}",
                [
                    Problem(
                        "$.version", f"version {ready.version} is already registered, differently"
                    )
                ],
            )
        return known

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


def diff(old: Method | CompiledMethod, new: Method | CompiledMethod) -> MethodDiff:
    """The phases, triggers, deliverables and parameters that differ from ``old`` to ``new``.

    Both must be versions of one method: two different method ids raise InvalidInput.
    """
    before, after = _definition(old, "old"), _definition(new, "new")
    if before.id != after.id:
        raise InvalidInput(
            "diff",
            [Problem("$.new.id", f"{after.id} is a different method from {before.id}")],
        )
    phases = _compare({p.name: p for p in before.phases}, {p.name: p for p in after.phases})
    triggers = _compare({t.name: t for t in before.triggers}, {t.name: t for t in after.triggers})
    deliverables = _compare(dict(before.deliverable_specs), dict(after.deliverable_specs))
    params = _compare(attrs.asdict(before.parameters), attrs.asdict(after.parameters))
    return MethodDiff(
        before.id,
        before.version,
        after.version,
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


def can_migrate(
    state: EngagementState,
    new: Method | CompiledMethod,
    *,
    current: Method | CompiledMethod | None = None,
) -> Verdict:
    """Whether ``state`` may move to ``new``; the verdict lists every reason it may not.

    Every stored deliverable is checked again against the new declaration (content, owner,
    per-visit, ``requires``, approvers), and so is every gate already passed; documents that
    break a soft rule of the new parameters, and drafts waiting for an approval the new version
    drops (to be submitted again), come back as warnings.

    ``current`` is the version the engagement runs now (its ``method_id`` and ``method_version``):
    an author is checked again only where the owner rule changes from it. Without it, the
    built-in method of that id and version stands in; for a method of your own every author is
    checked again, which may refuse an author the visit no longer names (pass ``current``).
    """
    if not isinstance(state, EngagementState):
        raise InvalidInput(
            "migration",
            [Problem("$.state", f"must be an EngagementState, not {type(state).__name__}")],
        )
    ready = as_compiled(new, "new")
    before = _current(state, current)
    unmet = list(reasons(state, ready, before))
    warnings = list(resubmit_findings(state, ready))
    for finding in content_findings(state, ready):
        (unmet if finding.severity is Severity.HARD else warnings).append(finding)
    action = f"migrate to {ready.id} v{ready.version}"
    return Verdict(action, state.id, state.phase, state.phase, tuple(unmet), tuple(warnings))


def _current(
    state: EngagementState, current: Method | CompiledMethod | None
) -> CompiledMethod | None:
    """The version ``state`` runs now: ``current`` once it names it, else the built-in one."""
    if current is None:
        builtin = compiled(state.method_id) if state.method_id in METHODS else None
        return builtin if builtin and builtin.version == state.method_version else None
    ready = as_compiled(current, "current")
    if (ready.id, ready.version) != (state.method_id, state.method_version):
        raise InvalidInput(
            "migration",
            [
                Problem(
                    "$.current",
                    f"is {ready.id} v{ready.version}, but the engagement runs "
                    f"{state.method_id} v{state.method_version}",
                )
            ],
        )
    return ready


def migrate(
    state: EngagementState,
    new: Method | CompiledMethod,
    *,
    actor: str,
    at: dt.datetime,
    reason: str | None = None,
    current: Method | CompiledMethod | None = None,
) -> Change:
    """Move ``state`` to ``new``, recorded in the history; raises ActionRefused with the verdict.

    ``current`` is the version ``state`` runs now, as ``can_migrate`` takes it.
    """
    ready = as_compiled(new, "new")
    verdict = can_migrate(state, ready, current=current)
    if not verdict.allowed:
        raise ActionRefused(verdict)
    instant = as_instant(at)
    if reason is not None:
        as_text(reason, "reason", what="migration")  # it is stored with the history
    if state.participant(actor) is None:
        raise InvalidInput("migration", [Problem("$.actor", f"{actor!r} is not a participant")])
    check_not_before_last(state, instant)
    recorder = Recorder(state, instant, actor)
    recorder.emit(
        MethodMigrated,
        method_id=ready.id,
        from_version=state.method_version,
        to_version=ready.version,
    )
    subject = f"{ready.id} v{state.method_version} -> v{ready.version}"
    return recorder.commit(
        "migrate",
        subject,
        reason=reason,
        warnings=verdict.warnings,
        method_version=ready.version,
    )
