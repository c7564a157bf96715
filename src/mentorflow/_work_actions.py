"""The engine's actions on an engagement's work: submit, share and approve deliverables, plan visits.

Each is pure like the triggers in ``engine`` (which re-exports them): the time of the action is
an argument, and a refusal raises before anything is built.
"""

from __future__ import annotations

import datetime as dt

import attrs
import pendulum

from mentorflow._change import (
    DELIVERABLE_RULE,
    NO_RELATED,
    PHASE_RULE,
    ROLE_RULE,
    VISIT_RULE,
    Change,
    Recorder,
    actor_in,
    check_not_before_last,
    parties_text,
)
from mentorflow._inputs import (
    as_instant,
    as_text,
    materialised,
    problems_when_written,
    visit_problems,
)
from mentorflow.compiled import CompiledMethod
from mentorflow.deliverables import DeliverableContent, content_problems
from mentorflow.events import (
    DeliverableApproved,
    DeliverableShared,
    DeliverableSubmitted,
    VisitPlanned,
)
from mentorflow.exceptions import ActionRefused, InvalidDeliverable, InvalidInput, Problem
from mentorflow.methods import Effect
from mentorflow.model import Party, Role, Visit, belongs_to
from mentorflow.requirements import Context
from mentorflow.state import (
    Approval,
    DeliverableRecord,
    DeliverableStatus,
    EngagementState,
    slot_key,
)
from mentorflow.verdicts import Finding, Severity, Verdict

__all__ = [
    "approve",
    "check_submission",
    "plan_visit",
    "share",
    "submit",
]


def _open_for_work(method: CompiledMethod, state: EngagementState) -> Finding | None:
    if state.phase not in method.active_phases:
        return Finding(PHASE_RULE, f"the engagement is {state.phase}; it takes no more work")
    return None


def _slot_visit(
    method: CompiledMethod, state: EngagementState, kind: str, visit_id: str | None
) -> str | None:
    spec = method.method.deliverable_specs[kind]
    if not spec.per_visit:
        if visit_id is not None:
            raise InvalidInput(
                "deliverable",
                [Problem("$.visit", f"{kind!r} belongs to the engagement, not a visit")],
            )
        return None
    if visit_id is None:
        return state.visit.id if state.visit is not None else None
    if visit_id not in {v.id for v in state.visits}:
        raise InvalidInput("deliverable", [Problem("$.visit", f"unknown visit {visit_id!r}")])
    return visit_id


def _known_kind(method: CompiledMethod, kind: str) -> None:
    if kind not in method.method.deliverable_specs:
        known = ", ".join(sorted(method.method.deliverable_specs))
        raise InvalidDeliverable(
            "deliverable",
            [Problem("$.kind", f"{kind!r} is not a deliverable of this method ({known})")],
        )


def check_submission(
    method: CompiledMethod,
    state: EngagementState,
    content: DeliverableContent,
    *,
    actor: str,
    at: dt.datetime,
    visit: str | None = None,
) -> Verdict:
    """Whether ``actor`` may submit ``content`` now; bad content raises InvalidDeliverable."""
    content = materialised(content)
    return _submission_verdict(method, state, content, actor=actor, at=at, visit=visit)[0]


def _submission_verdict(
    method: CompiledMethod,
    state: EngagementState,
    content: DeliverableContent,
    *,
    actor: str,
    at: dt.datetime,
    visit: str | None,
) -> tuple[Verdict, pendulum.DateTime, str | None]:
    """``check_submission`` for content already materialised (walked once per submit), with
    the instant and the visit slot it worked out, which ``submit`` records."""
    kind = getattr(content, "kind", type(content).__name__)
    _known_kind(method, kind)
    # Wrong types first: the content checks read the fields, and the store could not read
    # the content back. Only the submitted content is checked, not the whole snapshot.
    problems = problems_when_written(content, DeliverableContent, "$") or content_problems(content)
    if problems:
        raise InvalidDeliverable(kind, problems)
    participant = actor_in(state, actor)
    instant = as_instant(at)
    visit_id = _slot_visit(method, state, kind, visit)
    spec = method.method.deliverable_specs[kind]
    ctx = Context(state, method.method, instant, NO_RELATED)
    unmet: list[Finding] = []
    closed = _open_for_work(method, state)
    if closed is not None:
        unmet.append(closed)
    if spec.per_visit and visit_id is None:
        unmet.append(Finding(VISIT_RULE, f"{spec.title} belongs to a visit, and none is planned"))
    target_visit = next((v for v in state.visits if v.id == visit_id), state.visit)
    if not belongs_to(participant, spec.owner, target_visit):
        unmet.append(
            Finding(
                ROLE_RULE,
                f"{spec.title} is owed by the {ctx.describe(spec.owner)}, not {participant.name}",
            )
        )
    for needed in spec.requires:
        if (
            state.deliverable(
                needed, visit_id if method.method.deliverable_specs[needed].per_visit else None
            )
            is None
        ):
            unmet.append(
                ctx.missing(
                    spec.requires_rule or DELIVERABLE_RULE,
                    Severity.HARD,
                    needed,
                    f"{method.method.deliverable_specs[needed].title} must come before the {spec.title}",
                    None,
                )
            )
    return Verdict(f"submit {kind}", state.id, state.phase, None, tuple(unmet)), instant, visit_id


def submit(
    method: CompiledMethod,
    state: EngagementState,
    content: DeliverableContent,
    *,
    actor: str,
    at: dt.datetime,
    visit: str | None = None,
) -> Change:
    """Record a new version of a deliverable; earlier approvals lapse with the new version."""
    content = materialised(content)  # checked and stored as the same tuples
    verdict, instant, visit_id = _submission_verdict(
        method, state, content, actor=actor, at=at, visit=visit
    )
    if not verdict.allowed:
        raise ActionRefused(verdict)
    check_not_before_last(state, instant)
    kind = content.kind
    previous = state.deliverable(kind, visit_id)
    spec = method.method.deliverable_specs[kind]
    record = DeliverableRecord(
        kind=kind,
        visit_id=visit_id,
        content=content,
        version=(previous.version + 1) if previous else 1,
        status=DeliverableStatus.SUBMITTED if spec.approvers else DeliverableStatus.APPROVED,
        submitted_by=actor,
        submitted_at=instant,
    )
    recorder = Recorder(state, instant, actor)
    recorder.emit(DeliverableSubmitted, kind=kind, visit_id=visit_id, version=record.version)
    deliverables = {**state.deliverables, slot_key(kind, visit_id): record}
    return recorder.commit("submit", kind, deliverables=deliverables)


def _existing(
    method: CompiledMethod, state: EngagementState, kind: str, visit: str | None
) -> tuple[DeliverableRecord | None, str | None]:
    _known_kind(method, kind)
    visit_id = _slot_visit(method, state, kind, visit)
    return state.deliverable(kind, visit_id), visit_id


def share(
    method: CompiledMethod,
    state: EngagementState,
    kind: str,
    *,
    actor: str,
    at: dt.datetime,
    visit: str | None = None,
) -> Change:
    """Share a submitted draft for comments (R-PREP-2: draft -> shared -> agreed)."""
    instant = as_instant(at)
    participant = actor_in(state, actor)
    record, visit_id = _existing(method, state, kind, visit)
    spec = method.method.deliverable_specs[kind]
    ctx = Context(state, method.method, instant, NO_RELATED)
    unmet = [f for f in (_open_for_work(method, state),) if f is not None]
    if not spec.shared_first:
        unmet.append(
            Finding(
                DELIVERABLE_RULE, f"{spec.title} is not shared as a draft; it is approved directly"
            )
        )
    if record is None:
        unmet.append(
            ctx.missing(DELIVERABLE_RULE, Severity.HARD, kind, f"{spec.title} not submitted", None)
        )
    elif record.status is not DeliverableStatus.SUBMITTED:
        unmet.append(
            Finding(
                DELIVERABLE_RULE, f"{spec.title} is already {record.status.value}", deliverable=kind
            )
        )
    if not belongs_to(participant, spec.owner, state.visit):
        unmet.append(
            Finding(ROLE_RULE, f"only the {ctx.describe(spec.owner)} may share the {spec.title}")
        )
    if unmet or record is None:
        raise ActionRefused(Verdict(f"share {kind}", state.id, state.phase, None, tuple(unmet)))
    check_not_before_last(state, instant)
    recorder = Recorder(state, instant, actor)
    recorder.emit(DeliverableShared, kind=kind, visit_id=visit_id, version=record.version)
    shared = attrs.evolve(record, status=DeliverableStatus.SHARED)
    return recorder.commit(
        "share", kind, deliverables={**state.deliverables, slot_key(kind, visit_id): shared}
    )


def approve(
    method: CompiledMethod,
    state: EngagementState,
    kind: str,
    *,
    actor: str,
    at: dt.datetime,
    visit: str | None = None,
    comment: str = "",
) -> Change:
    """Approve the latest version for the actor's party; approved once every approver party has."""
    instant = as_instant(at)
    as_text(comment, "comment", what="approval")  # it is stored with the approval
    participant = actor_in(state, actor)
    record, visit_id = _existing(method, state, kind, visit)
    spec = method.method.deliverable_specs[kind]
    ctx = Context(state, method.method, instant, NO_RELATED)
    unmet = [f for f in (_open_for_work(method, state),) if f is not None]
    parties = [
        p
        for p in spec.approvers
        if belongs_to(participant, p, state.visit) and (record is None or not record.approved_by(p))
    ]
    if record is None:
        unmet.append(
            ctx.missing(DELIVERABLE_RULE, Severity.HARD, kind, f"{spec.title} not submitted", None)
        )
    elif record.status is DeliverableStatus.APPROVED:
        unmet.append(
            Finding(DELIVERABLE_RULE, f"{spec.title} is already approved", deliverable=kind)
        )
    elif spec.shared_first and record.status is DeliverableStatus.SUBMITTED:
        unmet.append(
            Finding(
                DELIVERABLE_RULE,
                f"{spec.title} must be shared before it can be agreed",
                deliverable=kind,
            )
        )
    if not parties:
        unmet.append(
            Finding(
                ROLE_RULE,
                f"{participant.name} is not an approver of the {spec.title} still to approve "
                f"(approvers: {parties_text(ctx, spec.approvers) or 'none'})",
            )
        )
    if unmet or record is None:
        raise ActionRefused(Verdict(f"approve {kind}", state.id, state.phase, None, tuple(unmet)))
    check_not_before_last(state, instant)
    party = parties[0]
    approvals = (*record.approvals, Approval(actor, party.value, instant, comment))
    complete = all(any(a.party == p.value for a in approvals) for p in spec.approvers)
    updated = attrs.evolve(
        record,
        approvals=approvals,
        status=DeliverableStatus.APPROVED if complete else record.status,
    )
    recorder = Recorder(state, instant, actor)
    recorder.emit(
        DeliverableApproved,
        kind=kind,
        visit_id=visit_id,
        version=record.version,
        party=party.value,
        fully_approved=complete,
    )
    return recorder.commit(
        "approve", kind, deliverables={**state.deliverables, slot_key(kind, visit_id): updated}
    )


# -- the programme ----------------------------------------------------------------------------


def plan_visit(
    method: CompiledMethod,
    state: EngagementState,
    visit: Visit,
    *,
    actor: str,
    at: dt.datetime,
) -> Change:
    """Add a visit to the programme, or change one not yet held (R-PROG-1, -5, -7)."""
    instant = as_instant(at)
    participant = actor_in(state, actor)
    visit = materialised(visit)  # a set or dict view of visitors is stored as a tuple
    problems = problems_when_written(visit, Visit, "$.visit") or list(
        visit_problems("$.visit", visit, [o.id for o in state.organisations])
    )
    if problems:
        raise InvalidInput("visit", problems)
    unmet = [f for f in (_open_for_work(method, state),) if f is not None]
    if not visit.aim.strip():
        unmet.append(
            Finding("R-PROG-5", f"visit {visit.id} needs a precise aim", visit_id=visit.id)
        )
    if not visit.expected_outcome.strip():
        unmet.append(
            Finding("R-PROG-5", f"visit {visit.id} needs an anticipated outcome", visit_id=visit.id)
        )
    index = next((i for i, v in enumerate(state.visits) if v.id == visit.id), None)
    # The last visit keeps its index after it finishes, so count finished visits from history.
    finished = sum(
        1
        for h in state.history
        if h.action == "fire"
        and h.subject in method.triggers
        and method.triggers[h.subject].effect is Effect.FINISH_VISIT
    )
    if index is not None and (
        index < max(state.current_visit, finished)
        or (index == state.current_visit and state.visit_in_progress)
    ):
        unmet.append(
            Finding(
                VISIT_RULE,
                f"visit {visit.id} has already taken place or is under way",
                visit_id=visit.id,
            )
        )
    may_plan = participant.role is Role.FACILITATOR or belongs_to(participant, Party.HOST, visit)
    if not may_plan:
        unmet.append(
            Finding(ROLE_RULE, f"only the facilitator or the host may plan visit {visit.id}")
        )
    if unmet:
        raise ActionRefused(
            Verdict(f"plan visit {visit.id}", state.id, state.phase, None, tuple(unmet))
        )
    check_not_before_last(state, instant)
    visits = list(state.visits)
    if index is None:
        visits.append(visit)
    else:
        visits[index] = visit
    recorder = Recorder(state, instant, actor)
    tentative = visit.window is None or visit.window.tentative
    recorder.emit(VisitPlanned, visit_id=visit.id, tentative=tentative)
    return recorder.commit("plan_visit", visit.id, visits=tuple(visits))
