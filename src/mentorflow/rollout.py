"""Rolling out a new version of a method: every stored engagement that can move, moved.

A network publishes a new edition of its method (a deliverable added to the preparation, a
template changed) and wants the running engagements on it. ``roll_out`` finds every engagement
of an older version of that method, asks ``can_migrate`` for each, and migrates those it allows,
each in its own save. The ones it refuses stay on their version with the verdict saying why;
closed and cancelled engagements stay on theirs, as the record of how they ran.

A roll-out can stop half-way (a database error, a process killed) and is run again: engagements
already moved are no longer on an older version, so only the rest are tried. ``dry_run=True``
answers the same question and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import TYPE_CHECKING

import attrs

from mentorflow._change import ROLE_RULE
from mentorflow._inputs import as_instant, as_text
from mentorflow.exceptions import ConcurrencyConflict, InvalidInput, Problem, UnknownEngagement
from mentorflow.schedule import is_live
from mentorflow.store import StoredEngagement, retry_action
from mentorflow.verdicts import Finding, Verdict
from mentorflow.versions import as_compiled, can_migrate

if TYPE_CHECKING:
    from mentorflow.compiled import CompiledMethod
    from mentorflow.methods import Method
    from mentorflow.sqlstore import SqlStore
    from mentorflow.state import EngagementState

__all__ = ["Rollout", "RolloutEntry", "RolloutStatus", "roll_out"]

#: Tries per engagement when other workers keep saving it meanwhile.
_ATTEMPTS = 3


class RolloutStatus(enum.StrEnum):
    """What a roll-out did with one engagement."""

    MIGRATED = "migrated"  #: moved to the new version, recorded in its history
    READY = "ready"  #: would move (a dry run writes nothing)
    REFUSED = "refused"  #: stays on its version; the verdict says why
    ENDED = "ended"  #: closed or cancelled: stays on the version it ran
    BUSY = "busy"  #: others saved it on every try; run the roll-out again
    SKIPPED = "skipped"  #: deleted, or moved by someone else, after it was found


@attrs.frozen
class RolloutEntry:
    """One engagement's part in a roll-out."""

    engagement_id: str
    #: The version it ran when the roll-out found it.
    from_version: int
    status: RolloutStatus
    #: ``can_migrate``'s verdict, warnings included (for a refusal: every reason); ``None`` for
    #: an ended engagement, which is not asked.
    verdict: Verdict | None = None
    #: For ``BUSY`` and ``SKIPPED``: what happened.
    detail: str | None = None


@attrs.frozen
class Rollout:
    """The outcome of ``roll_out``: one entry per engagement of an older version, in id order."""

    method_id: str
    to_version: int
    dry_run: bool
    entries: tuple[RolloutEntry, ...]

    def with_status(self, status: RolloutStatus) -> tuple[RolloutEntry, ...]:
        """The entries with ``status``."""
        return tuple(entry for entry in self.entries if entry.status is status)

    @property
    def complete(self) -> bool:
        """True when every live engagement of an older version moved (or, in a dry run, could)."""
        left = {RolloutStatus.REFUSED, RolloutStatus.BUSY}
        return not any(entry.status in left for entry in self.entries)

    def counts(self) -> dict[str, int]:
        """How many engagements ended in each status, every status named."""
        return {status.value: len(self.with_status(status)) for status in RolloutStatus}

    def explain(self) -> str:
        """A few lines for people: the counts, then each engagement left behind and why."""
        verb = "could move" if self.dry_run else "moved"
        done = RolloutStatus.READY if self.dry_run else RolloutStatus.MIGRATED
        lines = [
            f"{self.method_id} v{self.to_version}: {len(self.with_status(done))} of "
            f"{len(self.entries)} engagement(s) {verb}"
        ]
        for entry in self.entries:
            if entry.status is RolloutStatus.REFUSED and entry.verdict is not None:
                reasons = "; ".join(str(finding) for finding in entry.verdict.unmet)
                lines.append(f"  {entry.engagement_id} (v{entry.from_version}) refused: {reasons}")
            elif entry.status in (RolloutStatus.ENDED, RolloutStatus.BUSY, RolloutStatus.SKIPPED):
                why = entry.detail or "closed or cancelled: stays on its version"
                lines.append(
                    f"  {entry.engagement_id} (v{entry.from_version}) {entry.status}: {why}"
                )
        return "\n".join(lines)


def roll_out(
    store: SqlStore,
    new: Method | CompiledMethod,
    *,
    actor: str,
    at: dt.datetime | None = None,
    reason: str | None = None,
    dry_run: bool = False,
) -> Rollout:
    """Move every live engagement of an older version of ``new``'s method to ``new``.

    Each engagement is checked with ``can_migrate`` and, when it may move, migrated in a save of
    its own (``StoredEngagement.migrate``: a ``migrate`` history entry and a ``MethodMigrated``
    event in the outbox), judged again and retried on its fresh snapshot when another worker
    saved it meanwhile. An engagement ``actor`` takes no part in is refused (rule ``MF-ROLE``),
    as ``migrate`` would refuse it. ``at`` defaults to the store's clock.

    Before anything is written, ``InvalidInput`` names every problem that would stop the
    roll-out half-way: an older version the store's registry does not hold (its engagements
    cannot be loaded; register every version still in use, see ``MethodRegistry``), or an
    ``at`` before the last action of an engagement that would move. ``new`` joins the store's
    registry with the first engagement moved.
    """
    ready = as_compiled(new, "new")
    as_text(actor, "actor", what="roll-out")
    if reason is not None:
        as_text(reason, "reason", what="roll-out")
    when = as_instant(at if at is not None else store.clock.now())
    planned, late = [], []
    for engagement_id, version in _found(store, ready):
        try:
            state = store.load(engagement_id)
        except UnknownEngagement:  # deleted since it was listed
            planned.append(_skipped(engagement_id, version, "deleted meanwhile"))
            continue
        entry = _planned(store, ready, state, actor)
        planned.append(entry)
        if entry.status is RolloutStatus.READY and state.history and when < state.history[-1].at:
            last = state.history[-1].at.to_iso8601_string()
            late.append(Problem("$.at", f"is before the last action of {state.id} ({last})"))
    if late:
        raise InvalidInput("roll-out", late)
    if dry_run:
        return Rollout(ready.id, ready.version, True, tuple(planned))
    moved = tuple(
        _moved(store, ready, entry, actor=actor, at=when, reason=reason)
        if entry.status is RolloutStatus.READY
        else entry
        for entry in planned
    )
    return Rollout(ready.id, ready.version, False, moved)


def _found(store: SqlStore, new: CompiledMethod) -> list[tuple[str, int]]:
    """(id, version) of every live engagement on an older version of ``new``'s method, in id
    order; InvalidInput naming each such version the store's registry lacks."""
    found: list[tuple[str, int]] = []
    unregistered = []
    for version in range(1, new.version):
        ids = store.ids(method_id=new.id, method_version=version)
        if ids and (new.id, version) not in store.methods:
            unregistered.append(
                Problem(
                    "$.new",
                    f"{len(ids)} engagement(s) run {new.id} v{version}, which this store's "
                    "registry does not hold: register it to load them",
                )
            )
        found += ((engagement_id, version) for engagement_id in ids)
    if unregistered:
        raise InvalidInput("roll-out", unregistered)
    return sorted(found)


def _planned(
    store: SqlStore, new: CompiledMethod, state: EngagementState, actor: str
) -> RolloutEntry:
    """What the roll-out would do with ``state`` as it stands."""
    current = store.methods.get(state.method_id, state.method_version)
    if not is_live(current, state):
        return RolloutEntry(state.id, state.method_version, RolloutStatus.ENDED)
    verdict = _verdict(state, new, current, actor)
    status = RolloutStatus.READY if verdict.allowed else RolloutStatus.REFUSED
    return RolloutEntry(state.id, state.method_version, status, verdict)


def _verdict(
    state: EngagementState, new: CompiledMethod, current: CompiledMethod, actor: str
) -> Verdict:
    """``can_migrate``'s verdict, refusing too when ``actor`` takes no part in the engagement."""
    verdict = can_migrate(state, new, current=current)
    if state.participant(actor) is not None:
        return verdict
    outsider = Finding(ROLE_RULE, f"{actor!r} takes no part in {state.id!r}")
    return attrs.evolve(verdict, unmet=(*verdict.unmet, outsider))


def _skipped(engagement_id: str, version: int, detail: str) -> RolloutEntry:
    return RolloutEntry(engagement_id, version, RolloutStatus.SKIPPED, detail=detail)


def _moved(
    store: SqlStore,
    new: CompiledMethod,
    planned: RolloutEntry,
    *,
    actor: str,
    at: dt.datetime,
    reason: str | None,
) -> RolloutEntry:
    """Migrate one engagement found ready, judged again on its snapshot as saved now."""
    engagement_id, version = planned.engagement_id, planned.from_version

    def migrate(engagement: StoredEngagement) -> RolloutEntry:
        if engagement.method.version >= new.version:
            return _skipped(engagement_id, version, f"on v{engagement.method.version} already")
        verdict = _verdict(engagement.state, new, engagement.method, actor)
        if not verdict.allowed:  # a worker changed it since it was found ready
            return attrs.evolve(planned, status=RolloutStatus.REFUSED, verdict=verdict)
        engagement.migrate(new, actor=actor, at=at, reason=reason)
        return attrs.evolve(planned, status=RolloutStatus.MIGRATED, verdict=verdict)

    try:
        return retry_action(store, engagement_id, migrate, _ATTEMPTS, clock=store.clock)
    except ConcurrencyConflict:
        detail = f"saved by others on each of {_ATTEMPTS} tries: run the roll-out again"
        return attrs.evolve(planned, status=RolloutStatus.BUSY, detail=detail)
    except UnknownEngagement:
        return _skipped(engagement_id, version, "deleted meanwhile")
