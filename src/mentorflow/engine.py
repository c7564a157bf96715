"""The pure engine: check, fire, submit, share, approve, plan — snapshot in, snapshot out, no I/O.

Every function takes the time of the action as an argument and never reads a clock. An action
either returns a ``Change`` (the new snapshot, its history entry inside, and its events) or
raises; the snapshot passed in is never modified, so a refusal leaves nothing half-applied.

This module holds the engagement's creation and its triggers, and is where every action is
reached from: the work on deliverables and visits (``_work_actions``), a participant's erasure
(``_erasure``), the checks on host input
(``_inputs``) and the ``Change`` with its recorder (``_change``) are imported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

import pendulum

from mentorflow._change import DELIVERABLE_RULE as DELIVERABLE_RULE
from mentorflow._change import (
    NO_RELATED,
    PHASE_RULE,
    REASON_RULE,
    ROLE_RULE,
    VISIT_RULE,
    Recorder,
    actor_in,
    check_not_before_last,
    parties_text,
)
from mentorflow._change import Change as Change
from mentorflow._erasure import erase_participant as erase_participant
from mentorflow._inputs import as_count as as_count
from mentorflow._inputs import as_instant as as_instant
from mentorflow._inputs import as_text as as_text
from mentorflow._inputs import items_of, team_problems
from mentorflow._inputs import resolve_time as resolve_time
from mentorflow._work_actions import approve as approve
from mentorflow._work_actions import check_submission as check_submission
from mentorflow._work_actions import plan_visit as plan_visit
from mentorflow._work_actions import share as share
from mentorflow._work_actions import submit as submit
from mentorflow.compiled import CompiledMethod
from mentorflow.events import (
    EngagementCancelled,
    EngagementClosed,
    EngagementCreated,
    EngagementMatched,
    EngagementPaused,
    EngagementResumed,
    PhaseEntered,
    VisitFinished,
    VisitStarted,
)
from mentorflow.exceptions import InvalidInput, Problem, TransitionRefused
from mentorflow.methods import Effect, TriggerSpec
from mentorflow.model import Organisation, Participant, Role, Theme, Visit, belongs_to
from mentorflow.requirements import Context
from mentorflow.schedule import overdue_findings
from mentorflow.serialization import default_codec
from mentorflow.state import PAUSED_PREFIX, Acknowledgement, EngagementState
from mentorflow.verdicts import Finding, Severity, Verdict

__all__ = [
    "Change",
    "approve",
    "check",
    "check_submission",
    "erase_participant",
    "fire",
    "plan_visit",
    "share",
    "start",
    "submit",
]


# -- creation ---------------------------------------------------------------------------------


def start(
    method: CompiledMethod,
    *,
    id: str,
    title: str,
    organisations: Iterable[Organisation],
    participants: Iterable[Participant],
    actor: str,
    at: dt.datetime,
    themes: Iterable[Theme] = (),
    visits: Iterable[Visit] = (),
    prerequisites: Iterable[str] = (),
) -> Change:
    """A new engagement in the method's initial phase; raises InvalidInput listing every problem.

    Values of the wrong type (a title that is not a string, a number for an organisation's
    name) are refused here, each at its ``$.path``, as the store's reader would refuse them:
    an engagement that could not be read back is never made.
    """
    instant = as_instant(at)
    problems: list[Problem] = []
    parts = {
        name: items_of(value, name, problems)
        for name, value in (
            ("organisations", organisations),
            ("participants", participants),
            ("themes", themes),
            ("visits", visits),
            ("prerequisites", prerequisites),
        )
    }
    state = EngagementState(
        id=id,
        method_id=method.id,
        method_version=method.version,
        kind=method.method.kind,
        title=title,
        phase=method.method.initial,
        **parts,  # type: ignore[arg-type]  # each one a tuple, checked by items_of
    )
    if not isinstance(actor, str):
        problems.append(Problem("$.actor", f"expected a string, got {type(actor).__name__}"))
    problems += default_codec().written_problems(state, EngagementState)
    if problems:  # the checks below read these values, so they need the right types first
        raise InvalidInput("engagement", problems)
    problems = list(team_problems(state.organisations, state.participants, state.visits))
    if not id.strip():
        problems.append(Problem("$.id", "must not be empty"))
    if actor not in {p.id for p in state.participants}:
        problems.append(Problem("$.actor", f"{actor!r} is not one of the participants"))
    for i, theme in enumerate(state.themes):
        if [t.id for t in state.themes].count(theme.id) > 1:
            problems.append(Problem(f"$.themes[{i}].id", f"duplicate theme {theme.id!r}"))
    if problems:
        raise InvalidInput("engagement", problems)
    recorder = Recorder(state, instant, actor)
    recorder.emit(
        EngagementCreated, method_id=method.id, method_version=method.version, phase=state.phase
    )
    return recorder.commit("create", method.id)


# -- triggers ---------------------------------------------------------------------------------


def check(
    method: CompiledMethod,
    state: EngagementState,
    trigger: str,
    *,
    actor: str,
    at: dt.datetime,
    reason: str | None = None,
    related: Mapping[str, str] | None = None,
) -> Verdict:
    """Every reason ``trigger`` may not fire now, and every warning; never raises for a refusal."""
    spec, instant = method.trigger(trigger), as_instant(at)
    dest, unmet, warnings = _findings(method, state, spec, actor, instant, reason, related)
    return _verdict(method, state, spec, instant, dest, unmet, warnings)


def _verdict(
    method: CompiledMethod,
    state: EngagementState,
    spec: TriggerSpec,
    at: pendulum.DateTime,
    dest: str | None,
    unmet: list[Finding],
    warnings: list[Finding],
) -> Verdict:
    overdue = overdue_findings(method, state, at)
    return Verdict(spec.name, state.id, state.phase, dest, tuple(unmet), tuple(warnings), overdue)


def _findings(
    method: CompiledMethod,
    state: EngagementState,
    spec: TriggerSpec,
    actor: str,
    at: pendulum.DateTime,
    reason: str | None,
    related: Mapping[str, str] | None,
) -> tuple[str | None, list[Finding], list[Finding]]:
    """Where the trigger leads, its unmet hard findings and its warnings (no Verdict built)."""
    if reason is not None:
        as_text(reason, "reason", what="trigger")  # it is stored with the history
    participant = actor_in(state, actor)
    ctx = Context(state, method.method, at, related or NO_RELATED)
    dest = method.table.dest(spec.name, state.phase)
    visit = ctx.visit
    unmet: list[Finding] = []
    warnings: list[Finding] = []
    if dest is None:
        unmet.append(
            Finding(
                PHASE_RULE,
                f"{spec.name} applies in {', '.join(spec.sources)}, not in {state.phase}",
            )
        )
    if not any(belongs_to(participant, party, visit) for party in spec.parties):
        unmet.append(
            Finding(
                ROLE_RULE,
                f"{participant.name} acts as {method.method.labels.label(participant.role)}; "
                f"only the {parties_text(ctx, spec.parties)} may {spec.name}",
            )
        )
    if spec.needs_reason and not (reason and reason.strip()):
        unmet.append(Finding(REASON_RULE, f"{spec.name} needs a reason"))
    if spec.effect is Effect.START_VISIT and visit is None:
        unmet.append(Finding(VISIT_RULE, "no visit is planned"))
    for requirement in spec.requirements:
        for finding in requirement.evaluate(ctx):
            (unmet if finding.severity is Severity.HARD else warnings).append(finding)
    return dest, unmet, warnings


def fire(
    method: CompiledMethod,
    state: EngagementState,
    trigger: str,
    *,
    actor: str,
    at: dt.datetime,
    reason: str | None = None,
    acknowledge: Mapping[str, str] | None = None,
    related: Mapping[str, str] | None = None,
) -> Change:
    """Apply ``trigger`` or raise TransitionRefused carrying the verdict; warnings never refuse.

    ``acknowledge`` maps the rule id of a warning to the reason it is accepted; the history
    records it. Hard rules cannot be acknowledged away.
    """
    spec = method.trigger(trigger)
    instant = as_instant(at)
    # An accepted fire needs no Verdict object (nor the overdue list): only a refusal shows one.
    dest, unmet, warnings = _findings(method, state, spec, actor, instant, reason, related)
    acknowledged = _acknowledgements(unmet, warnings, acknowledge) if acknowledge else ()
    if unmet:
        raise TransitionRefused(_verdict(method, state, spec, instant, dest, unmet, warnings))
    check_not_before_last(state, instant)
    new_phase = method.table.move(spec.name, state.phase)
    recorder = Recorder(state, instant, actor)
    recorder.emit(PhaseEntered, trigger=spec.name, from_phase=state.phase, to_phase=new_phase)
    changes = _effect(spec.effect, state, recorder, reason or "")
    return recorder.commit(
        "fire",
        spec.name,
        to_phase=new_phase,
        reason=reason,
        acknowledged=acknowledged,
        warnings=tuple(warnings),
        **changes,
    )


def _acknowledgements(
    unmet: list[Finding], warnings: list[Finding], acknowledge: Mapping[str, str]
) -> tuple[Acknowledgement, ...]:
    hard = {f.rule for f in unmet}
    if not all(isinstance(r, str) and isinstance(w, str) for r, w in acknowledge.items()):
        raise InvalidInput(
            "acknowledgement",
            [Problem("$.acknowledge", "expected rule ids mapped to reasons, all strings")],
        )
    problems = [
        Problem(f"$.acknowledge[{rule!r}]", "a hard requirement cannot be acknowledged away")
        for rule in acknowledge
        if rule in hard
    ]
    problems += [
        Problem(f"$.acknowledge[{rule!r}]", "needs a reason")
        for rule, why in acknowledge.items()
        if not why.strip()
    ]
    if problems:
        raise InvalidInput("acknowledgement", problems)
    warned = {w.rule for w in warnings}
    return tuple(Acknowledgement(rule, why) for rule, why in acknowledge.items() if rule in warned)


def _effect(
    effect: Effect, state: EngagementState, recorder: Recorder, reason: str
) -> dict[str, object]:
    visit = state.visit
    if effect is Effect.MATCH:
        recorder.emit(
            EngagementMatched,
            mentor_organisations=state.organisations_with(Role.MENTOR),
            mentee_organisations=state.organisations_with(Role.MENTEE),
        )
    elif effect is Effect.START_VISIT and visit is not None:
        recorder.emit(VisitStarted, visit_id=visit.id)
        return {"visit_in_progress": True}
    elif effect is Effect.FINISH_VISIT and visit is not None:
        recorder.emit(VisitFinished, visit_id=visit.id)
        more = state.current_visit + 1 < len(state.visits)
        return {"visit_in_progress": False, "current_visit": state.current_visit + int(more)}
    elif effect is Effect.CLOSE:
        recorder.emit(EngagementClosed)
    elif effect is Effect.PAUSE:
        recorder.emit(EngagementPaused, reason=reason)
    elif effect is Effect.RESUME:
        recorder.emit(EngagementResumed, phase=state.phase.removeprefix(PAUSED_PREFIX))
    elif effect is Effect.CANCEL:
        recorder.emit(EngagementCancelled, reason=reason, phase=state.phase)
    return {}
