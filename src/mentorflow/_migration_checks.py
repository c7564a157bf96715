"""Why an engagement cannot move to another method version: its snapshot judged against it.

Each stored deliverable is checked again as ``engine.submit`` and ``engine.approve`` would check
it under the new declaration, and each gate the engagement has passed against the new gate.
Authorship is checked again only where the owner rule changes from the current version: the
current rule accepted the author when the document came in, and a visit re-planned since then
(its host or visitors changed) does not take that back, under either version.
"""

from __future__ import annotations

from collections.abc import Iterator

import attrs
import pendulum

from mentorflow.compiled import CompiledMethod
from mentorflow.deliverables import content_problems
from mentorflow.methods import DeliverableSpec
from mentorflow.model import Visit, belongs_to
from mentorflow.requirements import Approved, Context, Delivered, PageCount
from mentorflow.state import (
    PAUSED_PREFIX,
    DeliverableRecord,
    DeliverableStatus,
    EngagementState,
    slot_key,
)
from mentorflow.verdicts import Finding, Severity

__all__ = ["MIGRATE_RULE", "content_findings", "reasons", "resubmit_findings"]

#: Rule id of the findings that keep an engagement from moving to another method version.
MIGRATE_RULE = "MF-MIGRATE"
_EPOCH = pendulum.datetime(1970, 1, 1)


def _reason(message: str, deliverable: str | None = None, visit: str | None = None) -> Finding:
    return Finding(MIGRATE_RULE, message, deliverable=deliverable, visit_id=visit)


def reasons(
    state: EngagementState, new: CompiledMethod, current: CompiledMethod | None = None
) -> Iterator[Finding]:
    """Every reason ``state`` cannot move to ``new``, as ``MIGRATE_RULE`` findings.

    ``current`` is the version the engagement runs now; without it every author is checked
    again, as if every owner rule had changed.
    """
    if new.id != state.method_id:
        yield _reason(f"{new.id} is a different method from {state.method_id}")
    if new.version <= state.method_version:
        yield _reason(f"v{new.version} is not newer than v{state.method_version}")
    if new.method.kind is not state.kind:
        yield _reason(
            f"{new.id} v{new.version} runs {new.method.kind} engagements, not {state.kind}"
        )
    phase = state.phase.removeprefix(PAUSED_PREFIX)
    if state.phase not in new.table.states or phase not in new.table.states:
        yield _reason(f"phase {phase!r}, where the engagement is, does not exist in v{new.version}")
    roles = set(new.method.roles)
    for person in state.participants:
        if person.role not in roles:
            yield _reason(f"{person.name} is a {person.role}, a role v{new.version} does not have")
    for key, record in state.deliverables.items():
        for message in _record_reasons(state, new, current, key, record):
            yield _reason(message, record.kind, record.visit_id)
    yield from _gate_reasons(state, new)


def _record_reasons(
    state: EngagementState,
    new: CompiledMethod,
    current: CompiledMethod | None,
    key: str,
    record: DeliverableRecord,
) -> Iterator[str]:
    """Why ``new`` would not hold ``record`` as it stands: the checks ``engine.submit`` and
    ``engine.approve`` run, made again with the new declaration.

    Submitted and shared drafts are checked like approved ones: the record exists, so a version
    that could not have accepted it would carry a document nobody may approve or resubmit.
    """
    v = f"v{new.version}"
    spec = new.method.deliverable_specs.get(record.kind)
    if spec is None:
        yield f"{record.kind} ({key}) is no longer a deliverable in {v}"
        return
    expected = slot_key(record.kind, record.visit_id if spec.per_visit else None)
    if (record.visit_id is None) == spec.per_visit or expected != key:
        yield f"{record.kind} changes between per-visit and per-engagement in {v}"
    for problem in content_problems(record.content):
        yield f"{record.kind} as stored does not validate in {v}: {problem}"
    if _owner_rule_changes(current, spec):
        yield from _owner_reasons(state, spec, record, v)
    for needed in spec.requires:
        if not _has_required(state, new, needed, record.visit_id):
            # It was submitted without something v2 needs before it; it cannot be taken back.
            yield f"{record.kind} is submitted, but {v} needs the {needed} before it"
    if record.status is DeliverableStatus.APPROVED:
        missing = [p.value for p in spec.approvers if not record.approved_by(p.value)]
        if missing:
            yield (
                f"{record.kind} is approved, but {v} also needs approval by {', '.join(missing)}"
            )


def _owner_rule_changes(current: CompiledMethod | None, spec: DeliverableSpec) -> bool:
    """Whether ``spec`` names its owner otherwise than the current version (or that is unknown)."""
    before = None if current is None else current.method.deliverable_specs.get(spec.kind)
    return before is None or (before.owner, before.per_visit) != (spec.owner, spec.per_visit)


def _owner_reasons(
    state: EngagementState, spec: DeliverableSpec, record: DeliverableRecord, v: str
) -> Iterator[str]:
    author = state.participant(record.submitted_by)
    if author is None:
        yield f"{record.kind} was submitted by {record.submitted_by!r}, no longer a participant"
        return
    # Host and visitors are read off a visit: the record's own, or (per-engagement) any visit.
    own = [visit for visit in state.visits if visit.id == record.visit_id]
    visits: list[Visit | None] = [*own] if own else [*state.visits, None]
    if not any(belongs_to(author, spec.owner, visit) for visit in visits):
        yield (
            f"{record.kind} was submitted by {author.name}, but {v} has it owed by the "
            f"{spec.owner.value}"
        )


def _has_required(
    state: EngagementState, new: CompiledMethod, needed: str, visit_id: str | None
) -> bool:
    # A per-visit prerequisite in the record's own visit, as ``submit`` looks for it; else any
    # record of the kind counts, whatever slot an earlier version kept it in.
    needed_spec = new.method.deliverable_specs.get(needed)
    if needed_spec is not None and needed_spec.per_visit and visit_id is not None:
        return state.deliverable(needed, visit_id) is not None
    return _has_kind(state, needed)


def _has_kind(state: EngagementState, kind: str) -> bool:
    return any(r.kind == kind for r in state.deliverables.values())


def _gate_reasons(state: EngagementState, new: CompiledMethod) -> Iterator[Finding]:
    """Deliverables ``new`` asks for at a gate the engagement has already passed.

    An engagement past a gate cannot go back through it, so such a gate's hard requirement on a
    deliverable never submitted refuses the move. A requirement of a gate still ahead does not:
    it is work to do. Approval is not asked again here: a later version of a document resets its
    approvals, which a past gate never re-checks.
    """
    passed = dict.fromkeys(h.subject for h in state.history if h.action == "fire")
    for name in passed:
        trigger = new.triggers.get(name)
        if trigger is None:
            continue
        for requirement in trigger.requirements:
            if not isinstance(requirement, Delivered | Approved):
                continue
            kind = requirement.deliverable
            if requirement.severity is Severity.HARD and not _has_kind(state, kind):
                yield _reason(
                    f"the engagement is past {name}, where v{new.version} needs the {kind}", kind
                )


def resubmit_findings(state: EngagementState, new: CompiledMethod) -> Iterator[Finding]:
    """Drafts awaiting an approval ``new`` no longer asks for: warnings, not refusals.

    Nobody can approve such a draft under ``new``, but its owner can submit it again, and ``new``
    approves a document on submission when it names no approver.
    """
    for record in state.deliverables.values():
        spec = new.method.deliverable_specs.get(record.kind)
        if spec is None or spec.approvers or record.status is DeliverableStatus.APPROVED:
            continue
        yield Finding(
            MIGRATE_RULE,
            f"{record.kind} awaits approval, but v{new.version} has nobody to approve it: "
            f"its owner must submit it again under v{new.version}, where it is approved on "
            "submission",
            Severity.SOFT,
            deliverable=record.kind,
            visit_id=record.visit_id,
        )


def content_findings(state: EngagementState, new: CompiledMethod) -> Iterator[Finding]:
    """Stored documents judged against ``new``'s parameters (the page bounds, R-PREP-3).

    A hard finding refuses the move; a soft one is a warning, as it is at the gate itself.
    """
    checks = {r for t in new.method.triggers for r in t.requirements if isinstance(r, PageCount)}
    if not checks:
        return
    # Page bounds do not look at the time; a snapshot made by hand may have no history.
    at = state.history[-1].at if state.history else _EPOCH
    ctx = Context(state, new.method, at, {})
    for check in checks:
        for finding in check.evaluate(ctx):
            yield attrs.evolve(finding, message=f"v{new.version}: {finding.message}")
