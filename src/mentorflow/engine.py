"""The pure engine: check, fire, submit, share, approve, plan — snapshot in, snapshot out, no I/O.

Every function takes the time of the action as an argument and never reads a clock. An action
either returns a ``Change`` (the new snapshot, its history entry inside, and its events) or
raises; the snapshot passed in is never modified, so a refusal leaves nothing half-applied.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs
import pendulum
from pendulum.tz.exceptions import InvalidTimezone

from mentorflow._attrs_reader import optional_inner
from mentorflow.clock import Clock
from mentorflow.compiled import CompiledMethod
from mentorflow.deliverables import DeliverableContent, content_problems
from mentorflow.events import (
    DeliverableApproved,
    DeliverableShared,
    DeliverableSubmitted,
    EngagementCancelled,
    EngagementClosed,
    EngagementCreated,
    EngagementMatched,
    EngagementPaused,
    EngagementResumed,
    Event,
    PhaseEntered,
    VisitFinished,
    VisitPlanned,
    VisitStarted,
    event_id,
)
from mentorflow.exceptions import (
    ActionRefused,
    InvalidDeliverable,
    InvalidInput,
    Problem,
    TransitionRefused,
    UnknownParticipant,
)
from mentorflow.methods import Effect, TriggerSpec
from mentorflow.model import Organisation, Participant, Party, Role, Theme, Visit, belongs_to
from mentorflow.requirements import Context
from mentorflow.schedule import overdue_findings
from mentorflow.serialization import default_codec
from mentorflow.state import (
    PAUSED_PREFIX,
    Acknowledgement,
    Approval,
    DeliverableRecord,
    DeliverableStatus,
    EngagementState,
    HistoryEntry,
    evolve_state,
    slot_key,
)
from mentorflow.verdicts import Finding, Severity, Verdict

__all__ = [
    "Change",
    "approve",
    "check",
    "check_submission",
    "fire",
    "plan_visit",
    "share",
    "start",
    "submit",
]

#: Rule ids for refusals that come from the engine itself rather than from the seeds.
PHASE_RULE = "MF-PHASE"
ROLE_RULE = "MF-ROLE"
REASON_RULE = "MF-REASON"
VISIT_RULE = "MF-VISIT"
DELIVERABLE_RULE = "MF-DELIVERABLE"

_NO_RELATED: Mapping[str, str] = {}


@attrs.frozen
class Change:
    """The result of an accepted action: the new snapshot, the events it emits, its warnings."""

    state: EngagementState
    events: tuple[Event, ...]
    warnings: tuple[Finding, ...] = ()


def as_instant(at: dt.datetime, field: str = "at") -> pendulum.DateTime:
    """``at`` as a pendulum instant; a naive datetime is refused, since its zone would be a guess.

    An instant in a zone without a name the reader can load again (``pendulum.now()`` where
    ``TZ=:/etc/localtime``, a ``ZoneInfo.from_file``) is kept at its UTC offset of that moment:
    written with that zone's name it could never be read back.
    """
    if type(at) is pendulum.DateTime and at.tzinfo is not None and _storable(at.tzinfo):
        return at  # the common case, first: pendulum instants always carry a zone
    if not isinstance(at, dt.datetime):
        raise InvalidInput(
            "time", [Problem(f"$.{field}", f"expected a datetime, got {type(at).__name__}")]
        )
    offset = at.utcoffset() if at.tzinfo is not None else None
    if offset is None:
        raise InvalidInput("time", [Problem(f"$.{field}", "must carry a time zone")])
    try:
        instant = at if isinstance(at, pendulum.DateTime) else pendulum.instance(at)
    except (AttributeError, ValueError, InvalidTimezone):
        instant = None  # pendulum could not name the zone
    if instant is not None and _storable(instant.tzinfo):
        return instant
    wall = (at.year, at.month, at.day, at.hour, at.minute, at.second, at.microsecond)
    return pendulum.instance(dt.datetime(*wall, tzinfo=dt.timezone(offset)))


#: Zone names pendulum has loaded here, so the check on every action's time is a set lookup.
_LOADABLE_ZONES: set[str] = set()


def _storable(zone: dt.tzinfo | None) -> bool:
    """Whether an instant in ``zone`` is written in a form the reader takes back."""
    if isinstance(zone, pendulum.FixedTimezone):
        return True  # written as its offset
    if not isinstance(zone, pendulum.Timezone):
        return False
    name = zone.name
    if name in _LOADABLE_ZONES:
        return True
    if not isinstance(name, str):
        return False  # pendulum.now() under TZ=:/etc/localtime names its zone None
    try:
        pendulum.timezone(name)
    except (ValueError, InvalidTimezone):
        return False
    _LOADABLE_ZONES.add(name)
    return True


def as_count(value: object, field: str, *, what: str, minimum: int = 1) -> int:
    """``value`` if it is an integer of at least ``minimum``; else InvalidInput at ``$.field``.

    ``True`` is refused although Python counts it as 1: it is never meant as a number here.
    """
    if type(value) is not int:
        raise InvalidInput(
            what, [Problem(f"$.{field}", f"expected an integer, got {type(value).__name__}")]
        )
    if value < minimum:
        raise InvalidInput(what, [Problem(f"$.{field}", f"must be at least {minimum}")])
    return value


def as_text(value: object, field: str, *, what: str) -> str:
    """``value`` if it is a string; else InvalidInput at ``$.field`` (ids, reasons, comments)."""
    if not isinstance(value, str):
        raise InvalidInput(
            what, [Problem(f"$.{field}", f"expected a string, got {type(value).__name__}")]
        )
    return value


def resolve_time(at: dt.datetime | None, clock: Clock | None) -> pendulum.DateTime:
    """The time of an action: ``at`` if given, else the injected clock's; never the wall clock."""
    if at is not None:
        return as_instant(at)
    if clock is not None:
        return as_instant(clock.now())
    raise InvalidInput(
        "time", [Problem("$.at", "pass the time of the action, or give the engagement a clock")]
    )


def _actor(state: EngagementState, actor: str) -> Participant:
    participant = state.participant(actor)
    if participant is None:
        raise UnknownParticipant(actor, state.id)
    return participant


def _not_before_last(state: EngagementState, at: pendulum.DateTime) -> None:
    if state.history and at < state.history[-1].at:
        last = state.history[-1].at.to_iso8601_string()
        raise InvalidInput(
            "time", [Problem("$.at", f"is before the engagement's last action ({last})")]
        )


def _parties_text(ctx: Context, parties: Iterable[Party]) -> str:
    return " or ".join(ctx.describe(p) for p in parties)


class _Recorder:
    """Builds the events and the history entry of one action, numbered after the snapshot's."""

    __slots__ = ("actor", "at", "events", "state")

    def __init__(self, state: EngagementState, at: pendulum.DateTime, actor: str) -> None:
        self.state = state
        self.at = at
        self.actor = actor
        self.events: list[Event] = []

    def emit(self, cls: type[Event], **fields: Any) -> None:
        sequence = self.state.event_count + len(self.events) + 1
        self.events.append(
            cls(
                id=event_id(self.state.id, sequence),
                engagement_id=self.state.id,
                sequence=sequence,
                at=self.at,
                actor=self.actor,
                **fields,
            )
        )

    def commit(
        self,
        action: str,
        subject: str,
        *,
        to_phase: str | None = None,
        reason: str | None = None,
        acknowledged: tuple[Acknowledgement, ...] = (),
        warnings: tuple[Finding, ...] = (),
        **changes: object,
    ) -> Change:
        # Positional arguments and list displays: one of these runs per accepted action.
        state = self.state
        events = self.events
        phase = to_phase or state.phase
        entry = HistoryEntry(
            state.version + 1,
            self.at,
            self.actor,
            action,
            subject,
            state.phase,
            phase,
            reason,
            acknowledged,
            tuple([e.id for e in events]),
        )
        new_state = evolve_state(
            state,
            phase=phase,
            history=(*state.history, entry),
            event_count=state.event_count + len(events),
            **changes,
        )
        return Change(new_state, tuple(events), warnings)


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
        name: _items(value, name, problems)
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
        **parts,  # type: ignore[arg-type]  # each one a tuple, checked by _items
    )
    if not isinstance(actor, str):
        problems.append(Problem("$.actor", f"expected a string, got {type(actor).__name__}"))
    problems += default_codec().written_problems(state, EngagementState)
    if problems:  # the checks below read these values, so they need the right types first
        raise InvalidInput("engagement", problems)
    problems = list(_team_problems(state.organisations, state.participants, state.visits))
    if not id.strip():
        problems.append(Problem("$.id", "must not be empty"))
    if actor not in {p.id for p in state.participants}:
        problems.append(Problem("$.actor", f"{actor!r} is not one of the participants"))
    for i, theme in enumerate(state.themes):
        if [t.id for t in state.themes].count(theme.id) > 1:
            problems.append(Problem(f"$.themes[{i}].id", f"duplicate theme {theme.id!r}"))
    if problems:
        raise InvalidInput("engagement", problems)
    recorder = _Recorder(state, instant, actor)
    recorder.emit(
        EngagementCreated, method_id=method.id, method_version=method.version, phase=state.phase
    )
    return recorder.commit("create", method.id)


def _items(value: object, name: str, problems: list[Problem]) -> tuple[object, ...]:
    """``value`` as a tuple of materialised items if it is a collection (not a text or mapping);
    else a problem at ``$.name`` and ()."""
    if _is_collection(value):
        # Iterated once: a generator or a Django QuerySet gives its items here, not twice.
        return tuple(_materialised(item) for item in value)
    problems.append(Problem(f"$.{name}", f"expected a list, got {type(value).__name__}"))
    return ()


def _is_collection(value: object) -> typing.TypeGuard[Iterable[object]]:
    """Whether host data may stand for a list: any iterable but a text or a mapping (whose
    letters or keys would be taken silently)."""
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping)


_T = TypeVar("_T")


def _may_hold_record(kind: Any) -> bool:
    """Whether a value declared ``kind`` may be or contain a record (in a union or a list)."""
    return (
        kind is Any
        or (isinstance(kind, type) and attrs.has(kind))
        or any(_may_hold_record(arg) for arg in typing.get_args(kind))
    )


@functools.cache
def _fields_to_walk(cls: type) -> tuple[tuple[str, type | None, bool], ...]:
    """The fields of ``cls`` that ``_materialised`` looks at (none if it is not a record):
    each with ``tuple`` or ``frozenset`` if declared a list of either kind (else None), and
    whether it may hold records. Text, number and date fields are left out: that keeps the
    walk of a large valid record cheap."""
    if not attrs.has(cls):
        return ()
    walked = []
    for field in attrs.fields(attrs.resolve_types(cls)):
        kind = optional_inner(field.type) or field.type
        origin = typing.get_origin(kind)
        collection = origin if origin in (tuple, frozenset) else None
        if collection is not None or _may_hold_record(kind):
            walked.append((field.name, collection, _may_hold_record(kind)))
    return tuple(walked)


def _materialised(value: _T) -> _T:
    """``value`` with every list field of its records (a set, a dict's keys or values, a
    generator) made the declared tuple or frozenset, each iterated once; ``value`` itself when
    nothing changes. As the writer takes any iterable, earlier releases stored these; they are
    materialised here so that what is checked is what is stored and loads back equal."""
    changes: dict[str, object] = {}
    record: type = type(value)
    for name, collection, holds_records in _fields_to_walk(record):
        part = getattr(value, name)
        if collection is not None and _is_collection(part):
            if type(part) is collection and not holds_records:
                continue  # already as declared, items that are not records: nothing to do
            items = tuple(_materialised(item) for item in part)
            if type(part) is collection and all(a is b for a, b in zip(part, items, strict=True)):
                continue  # already as declared: keep it, without building a copy
            made: object = items
            if collection is frozenset:
                with contextlib.suppress(TypeError):  # unhashable: the writer check names it
                    made = frozenset(items)
            changes[name] = made
        elif holds_records:
            inner = _materialised(part)
            if inner is not part:
                changes[name] = inner
    return attrs.evolve(value, **changes) if changes else value  # type: ignore[misc]


def _written_problems(value: object, kind: Any, where: str) -> list[Problem]:
    """What the store's reader would refuse in ``value`` once written, at paths under ``where``."""
    problems = default_codec().written_problems(value, kind)
    return [Problem(where + p.path[1:], p.message) for p in problems]


def _team_problems(
    organisations: Sequence[Organisation],
    participants: Sequence[Participant],
    visits: Sequence[Visit],
) -> Iterable[Problem]:
    org_ids = [o.id for o in organisations]
    for i, org in enumerate(organisations):
        if org_ids.count(org.id) > 1:
            yield Problem(f"$.organisations[{i}].id", f"duplicate organisation {org.id!r}")
        try:
            pendulum.timezone(org.timezone)
        except Exception:
            yield Problem(f"$.organisations[{i}].timezone", f"unknown time zone {org.timezone!r}")
    person_ids = [p.id for p in participants]
    for i, person in enumerate(participants):
        if person_ids.count(person.id) > 1:
            yield Problem(f"$.participants[{i}].id", f"duplicate participant {person.id!r}")
        if person.organisation_id not in org_ids:
            yield Problem(
                f"$.participants[{i}].organisation_id",
                f"unknown organisation {person.organisation_id!r}",
            )
        if not isinstance(person.role, Role):
            yield Problem(f"$.participants[{i}].role", f"unknown role {person.role!r}")
    visit_ids = [v.id for v in visits]
    for i, visit in enumerate(visits):
        yield from _visit_problems(f"$.visits[{i}]", visit, org_ids)
        if visit_ids.count(visit.id) > 1:
            yield Problem(f"$.visits[{i}].id", f"duplicate visit {visit.id!r}")


def _visit_problems(where: str, visit: Visit, org_ids: Sequence[str]) -> Iterable[Problem]:
    if visit.host not in org_ids:
        yield Problem(f"{where}.host", f"unknown organisation {visit.host!r}")
    for j, visitor in enumerate(visit.visitors):
        if visitor not in org_ids:
            yield Problem(f"{where}.visitors[{j}]", f"unknown organisation {visitor!r}")
    if visit.window is not None and visit.window.end < visit.window.start:
        yield Problem(f"{where}.window.end", "is before the visit's start")


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
    participant = _actor(state, actor)
    ctx = Context(state, method.method, at, related or _NO_RELATED)
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
                f"only the {_parties_text(ctx, spec.parties)} may {spec.name}",
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
    _not_before_last(state, instant)
    new_phase = method.table.move(spec.name, state.phase)
    recorder = _Recorder(state, instant, actor)
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
    effect: Effect, state: EngagementState, recorder: _Recorder, reason: str
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


# -- deliverables -----------------------------------------------------------------------------


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
    content = _materialised(content)
    return _submission_verdict(method, state, content, actor=actor, at=at, visit=visit)


def _submission_verdict(
    method: CompiledMethod,
    state: EngagementState,
    content: DeliverableContent,
    *,
    actor: str,
    at: dt.datetime,
    visit: str | None,
) -> Verdict:
    """``check_submission`` for content already materialised (walked once per submit)."""
    kind = getattr(content, "kind", type(content).__name__)
    _known_kind(method, kind)
    # Wrong types first: the content checks read the fields, and the store could not read
    # the content back. Only the submitted content is checked, not the whole snapshot.
    problems = _written_problems(content, DeliverableContent, "$") or content_problems(content)
    if problems:
        raise InvalidDeliverable(kind, problems)
    participant = _actor(state, actor)
    instant = as_instant(at)
    visit_id = _slot_visit(method, state, kind, visit)
    spec = method.method.deliverable_specs[kind]
    ctx = Context(state, method.method, instant, _NO_RELATED)
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
    return Verdict(f"submit {kind}", state.id, state.phase, None, tuple(unmet))


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
    content = _materialised(content)  # checked and stored as the same tuples
    verdict = _submission_verdict(method, state, content, actor=actor, at=at, visit=visit)
    if not verdict.allowed:
        raise ActionRefused(verdict)
    instant = as_instant(at)
    _not_before_last(state, instant)
    kind = content.kind
    visit_id = _slot_visit(method, state, kind, visit)
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
    recorder = _Recorder(state, instant, actor)
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
    participant = _actor(state, actor)
    record, visit_id = _existing(method, state, kind, visit)
    spec = method.method.deliverable_specs[kind]
    ctx = Context(state, method.method, instant, _NO_RELATED)
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
    _not_before_last(state, instant)
    recorder = _Recorder(state, instant, actor)
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
    participant = _actor(state, actor)
    record, visit_id = _existing(method, state, kind, visit)
    spec = method.method.deliverable_specs[kind]
    ctx = Context(state, method.method, instant, _NO_RELATED)
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
                f"(approvers: {_parties_text(ctx, spec.approvers) or 'none'})",
            )
        )
    if unmet or record is None:
        raise ActionRefused(Verdict(f"approve {kind}", state.id, state.phase, None, tuple(unmet)))
    _not_before_last(state, instant)
    party = parties[0]
    approvals = (*record.approvals, Approval(actor, party.value, instant, comment))
    complete = all(any(a.party == p.value for a in approvals) for p in spec.approvers)
    updated = attrs.evolve(
        record,
        approvals=approvals,
        status=DeliverableStatus.APPROVED if complete else record.status,
    )
    recorder = _Recorder(state, instant, actor)
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
    participant = _actor(state, actor)
    visit = _materialised(visit)  # a set or dict view of visitors is stored as a tuple
    problems = _written_problems(visit, Visit, "$.visit") or list(
        _visit_problems("$.visit", visit, [o.id for o in state.organisations])
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
    _not_before_last(state, instant)
    visits = list(state.visits)
    if index is None:
        visits.append(visit)
    else:
        visits[index] = visit
    recorder = _Recorder(state, instant, actor)
    tentative = visit.window is None or visit.window.tentative
    recorder.emit(VisitPlanned, visit_id=visit.id, tentative=tentative)
    return recorder.commit("plan_visit", visit.id, visits=tuple(visits))
