"""Agenda validation in the host city's time zone: timing, DST, required sessions, hygiene.

``session_findings`` checks the clock: each session starts before it ends, falls on a day of the
visit, exists in the host's zone (02:30 on a spring-forward night does not), and does not overlap
another session for the same people. A wall time that happens twice on a fall-back night is read
as its first occurrence, with a soft finding saying so. ``hygiene_findings`` adds the soft tips of
R-VISIT-6: reflection at the end of each day and "less is more". ``validate_agenda`` runs both,
plus the method's own agenda requirements (``AgendaIncludes``, ``VisitLength``: R-VISIT-1, -3,
-6, -7, -8, R-PROG-4) exactly as the engine would when the visit starts.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import attrs
import pendulum

from mentorflow.model import SessionKind
from mentorflow.requirements import AgendaIncludes, Context, VisitLength
from mentorflow.state import DeliverableRecord, DeliverableStatus, slot_key
from mentorflow.verdicts import Finding, Severity

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from mentorflow.compiled import CompiledMethod
    from mentorflow.model import Agenda, AgendaSession, Visit
    from mentorflow.state import EngagementState

__all__ = [
    "AGENDA_RULE",
    "AgendaLimits",
    "hygiene_findings",
    "problems",
    "session_findings",
    "session_instants",
    "validate_agenda",
]

#: Rule id for timing problems that come from the calendar rather than from the seeds.
AGENDA_RULE = "MF-AGENDA"
HYGIENE_RULE = "R-VISIT-6"
#: Tags whose sessions may run in parallel or into the evening without counting as work.
_NOT_WORK = frozenset({SessionKind.INFORMAL})
_CLOSING = frozenset({SessionKind.REFLECTION})
_FINAL_DAY_CLOSING = frozenset(
    {SessionKind.REFLECTION, SessionKind.JOINT_ACTION_PLAN, SessionKind.ACTION_PLAN_ENDORSEMENT}
)


@attrs.frozen
class AgendaLimits:
    """How full a day may get before "less is more" warns (R-VISIT-6); informal time is free."""

    max_sessions_per_day: int = 8
    max_hours_per_day: float = 9.0


def _local(day: pendulum.Date, time: pendulum.Time, zone: ZoneInfo, fold: int) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=zone).replace(fold=fold)


def _exists(moment: dt.datetime) -> bool:
    # A wall time in a spring-forward gap does not survive a round trip through UTC.
    back = moment.astimezone(dt.UTC).astimezone(moment.tzinfo)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def _ambiguous(moment: dt.datetime) -> bool:
    return moment.replace(fold=0).utcoffset() != moment.replace(fold=1).utcoffset()


def session_instants(
    session: AgendaSession, zone: str
) -> tuple[pendulum.DateTime, pendulum.DateTime] | None:
    """The session's start and end as instants in ``zone``; None if either wall time does not exist.

    An ambiguous wall time (the repeated hour of a fall-back night) is read as its first
    occurrence, so a 01:30-02:30 session in Lisbon on 29 Oct 2017 lasts two hours.
    """
    tz = ZoneInfo(zone)
    start = _local(session.day, session.start, tz, 0)
    end = _local(session.day, session.end, tz, 0)
    if not (_exists(start) and _exists(end)):
        return None
    return pendulum.instance(start).in_tz(zone), pendulum.instance(end).in_tz(zone)


def _where(index: int) -> str:
    return f"session {index + 1}"


def session_findings(agenda: Agenda, visit: Visit, zone: str) -> tuple[Finding, ...]:
    """Timing problems (hard) and DST notes (soft) of every session, in the host's ``zone``."""
    return tuple(_session_findings(agenda, visit, zone))


def _session_findings(agenda: Agenda, visit: Visit, zone: str) -> Iterator[Finding]:
    tz = ZoneInfo(zone)
    hard, soft = Severity.HARD, Severity.SOFT
    spans: list[tuple[int, AgendaSession, pendulum.DateTime, pendulum.DateTime]] = []
    for i, session in enumerate(agenda.sessions):
        label = f"{_where(i)} ({session.activity})"
        if session.end <= session.start:
            yield Finding(AGENDA_RULE, f"{label} ends before it starts", hard, visit_id=visit.id)
            continue
        window = visit.window
        if window is not None and not window.start <= session.day <= window.end:
            yield Finding(
                AGENDA_RULE,
                f"{label} is on {session.day}, outside the visit ({window.start} to {window.end})",
                hard,
                visit_id=visit.id,
            )
        for edge, time in (("start", session.start), ("end", session.end)):
            moment = _local(session.day, time, tz, 0)
            if not _exists(moment):
                yield Finding(
                    AGENDA_RULE,
                    f"{label} {edge}s at {time} on {session.day}, a time that does not exist in "
                    f"{zone} (the clocks go forward)",
                    hard,
                    visit_id=visit.id,
                )
            elif _ambiguous(moment):
                yield Finding(
                    AGENDA_RULE,
                    f"{label} {edge}s at {time} on {session.day}, which happens twice in {zone} "
                    f"(the clocks go back); read as the first occurrence",
                    soft,
                    visit_id=visit.id,
                )
        instants = session_instants(session, zone)
        if instants is not None:
            spans.append((i, session, *instants))
    spans.sort(key=lambda s: s[2])
    for n, (i, first, _, first_end) in enumerate(spans):
        for j, second, second_start, _ in spans[n + 1 :]:
            if second_start >= first_end:
                break
            if _same_people(first, second):
                yield Finding(
                    AGENDA_RULE,
                    f"{_where(i)} ({first.activity}) overlaps {_where(j)} ({second.activity})",
                    hard,
                    visit_id=visit.id,
                )


def _same_people(a: AgendaSession, b: AgendaSession) -> bool:
    # Parallel tracks are fine when they are for different people ("mentors" vs "host").
    everyone = {"all", ""}
    who_a, who_b = set(a.who) or everyone, set(b.who) or everyone
    return bool(who_a & who_b) or bool(everyone & (who_a | who_b))


def hygiene_findings(agenda: Agenda, limits: AgendaLimits | None = None) -> tuple[Finding, ...]:
    """Soft R-VISIT-6 tips per day: end each day with reflection, and keep days light."""
    limits = limits or AgendaLimits()
    found: list[Finding] = []
    days = agenda.days
    for number, day in enumerate(days, start=1):
        sessions = list(agenda.sessions_on(day))
        closing = _FINAL_DAY_CLOSING if day == days[-1] else _CLOSING
        if not any(s.kinds & closing for s in sessions):
            found.append(
                Finding(
                    HYGIENE_RULE, f"day {number} ({day}) has no time for reflection", Severity.SOFT
                )
            )
        work = [s for s in sessions if not s.kinds & _NOT_WORK]
        hours = (
            sum(
                (
                    dt.datetime.combine(day, s.end) - dt.datetime.combine(day, s.start)
                ).total_seconds()
                for s in work
                if s.end > s.start
            )
            / 3600
        )
        if len(work) > limits.max_sessions_per_day or hours > limits.max_hours_per_day:
            found.append(
                Finding(
                    HYGIENE_RULE,
                    f"day {number} ({day}) has {len(work)} sessions over {hours:g} hours; less is "
                    f"more (at most {limits.max_sessions_per_day} sessions, "
                    f"{limits.max_hours_per_day:g} hours)",
                    Severity.SOFT,
                )
            )
    return tuple(found)


def _with_agenda(
    state: EngagementState, visit: Visit, agenda: Agenda, at: pendulum.DateTime
) -> EngagementState:
    # A what-if snapshot: the draft agenda filed for the visit, the visit made the one at hand,
    # so the method's requirements read it exactly as they will when the visit starts.
    from mentorflow.deliverables import DraftAgenda

    record = DeliverableRecord(
        kind=DraftAgenda.kind,
        visit_id=visit.id,
        content=DraftAgenda(agenda),
        version=0,
        status=DeliverableStatus.SUBMITTED,
        submitted_by="(draft)",
        submitted_at=at,
    )
    index = next((i for i, v in enumerate(state.visits) if v.id == visit.id), len(state.visits))
    visits = state.visits if index < len(state.visits) else (*state.visits, visit)
    visits = (*visits[:index], visit, *visits[index + 1 :])
    deliverables = {**state.deliverables, slot_key(DraftAgenda.kind, visit.id): record}
    return attrs.evolve(state, visits=visits, current_visit=index, deliverables=deliverables)


def _method_findings(
    method: CompiledMethod, state: EngagementState, at: pendulum.DateTime
) -> Iterator[Finding]:
    ctx = Context(state, method.method, at, {})
    seen: set[object] = set()
    for trigger in method.method.triggers:
        for requirement in trigger.requirements:
            if isinstance(requirement, AgendaIncludes | VisitLength) and requirement not in seen:
                seen.add(requirement)
                yield from requirement.evaluate(ctx)


def validate_agenda(
    method: CompiledMethod,
    state: EngagementState,
    agenda: Agenda,
    *,
    at: pendulum.DateTime,
    visit: Visit | None = None,
    limits: AgendaLimits | None = None,
) -> tuple[Finding, ...]:
    """Every finding about ``agenda`` for ``visit`` (default: the visit at hand), hard ones first.

    Checks the clock in the host city's zone, the hygiene tips, and the method's own agenda
    requirements (R-VISIT-1, -3, -6, -7, -8, R-PROG-4) against a what-if snapshot; the
    engagement itself is not changed.
    """
    target = visit or state.visit
    if target is None:
        return (Finding(AGENDA_RULE, "no visit is planned for this agenda"),)
    host = state.organisation(target.host)
    zone = host.timezone if host is not None else "UTC"
    found = [
        *session_findings(agenda, target, zone),
        *_method_findings(method, _with_agenda(state, target, agenda, at), at),
    ]
    reported = {f.message for f in found}
    found += [f for f in hygiene_findings(agenda, limits) if f.message not in reported]
    return tuple(sorted(found, key=lambda f: f.severity is not Severity.HARD))


def problems(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Only the hard findings: the ones the engine would refuse."""
    return tuple(f for f in findings if f.severity is Severity.HARD)
