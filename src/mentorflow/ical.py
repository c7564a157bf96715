"""iCalendar (RFC 5545) export of visit agendas and programme calendars, and import of programmes.

Needs the ``ical`` extra (the ``icalendar`` package). Sessions are timed events with a ``TZID``
of the host city's zone and a matching ``VTIMEZONE``; visits are all-day events, ``STATUS:
TENTATIVE`` while their dates are TBC (R-PROG-7), with the related local event in the
description. Every visit field also travels as an ``X-MENTORFLOW-*`` property, so reading a
calendar back gives the same visits; a calendar from another tool is read from its standard
properties. UIDs are derived from ids and ``DTSTAMP`` is passed in, so the output is deterministic.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import attrs
import icalendar
import pendulum

from mentorflow.agenda_rules import session_instants
from mentorflow.exceptions import InvalidInput, Problem
from mentorflow.model import EngagementKind, Organisation, Visit, VisitMode, VisitWindow

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mentorflow.model import Agenda
    from mentorflow.state import EngagementState

__all__ = [
    "CalendarVisit",
    "agenda_calendar",
    "calendar_visits",
    "programme_calendar",
    "read_programme",
]

PRODID = "-//mentorflow//peer-learning calendar//EN"
_X = "X-MENTORFLOW-"
_RELATED = "Related event: "


@attrs.frozen
class CalendarVisit:
    """A visit as a calendar shows it: the visit, its host and the kind of engagement."""

    visit: Visit
    host: Organisation
    kind: EngagementKind
    engagement_id: str


def calendar_visits(states: Iterable[EngagementState]) -> tuple[CalendarVisit, ...]:
    """Every visit of the engagements, with its host organisation, in the order given."""
    found = []
    for state in states:
        for visit in state.visits:
            host = state.organisation(visit.host) or Organisation(visit.host, visit.host)
            found.append(CalendarVisit(visit, host, state.kind, state.id))
    return tuple(found)


def _calendar(name: str) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    return cal


def _utc(stamp: dt.datetime) -> dt.datetime:
    if stamp.tzinfo is None:
        raise InvalidInput("calendar", [Problem("$.stamp", "must carry a time zone")])
    return stamp.astimezone(dt.UTC)


def agenda_calendar(
    agenda: Agenda, visit: Visit, host: Organisation, *, stamp: dt.datetime
) -> bytes:
    """The visit's sessions as timed events in the host's zone; nonexistent times are refused."""
    cal = _calendar(visit.title or visit.id)
    zone = ZoneInfo(host.timezone)
    problems = []
    for i, session in enumerate(agenda.sessions):
        instants = session_instants(session, host.timezone)
        if instants is None or session.end <= session.start:
            problems.append(
                Problem(f"$.sessions[{i}]", "does not exist in the host's zone or ends first")
            )
            continue
        start, end = instants
        event = icalendar.Event()
        event.add(
            "uid", f"{visit.id}-{session.day}-{session.start.strftime('%H%M')}-{i}@mentorflow"
        )
        event.add("dtstamp", _utc(stamp))
        event.add("summary", session.activity)
        event.add("dtstart", start.astimezone(zone))
        event.add("dtend", end.astimezone(zone))
        event.add("location", host.name)
        lines = [f"Who: {', '.join(session.who)}"] if session.who else []
        if session.theme:
            lines.append(f"Theme: {session.theme}")
        if session.kinds:
            event.add("categories", sorted(k.value for k in session.kinds))
        if lines:
            event.add("description", "\n".join(lines))
        cal.add_component(event)
    if problems:
        raise InvalidInput("agenda", problems)
    if agenda.days:  # the zone's rules for the visit's year are enough, and keep the file small
        first, last = agenda.days[0], agenda.days[-1]
        cal.add_missing_timezones(dt.date(first.year, 1, 1), dt.date(last.year + 1, 1, 1))
    return bytes(cal.to_ical())


def programme_calendar(
    visits: Iterable[CalendarVisit], *, stamp: dt.datetime, name: str = "Peer-learning programme"
) -> bytes:
    """Every dated visit as an all-day event; TBC visits are tentative (R-PROG-7)."""
    cal = _calendar(name)
    for entry in visits:
        visit = entry.visit
        if visit.window is None:
            continue
        event = icalendar.Event()
        event.add("uid", f"{visit.id}@mentorflow")
        event.add("dtstamp", _utc(stamp))
        event.add("summary", visit.title or visit.id)
        event.add(
            "dtstart",
            dt.date(visit.window.start.year, visit.window.start.month, visit.window.start.day),
        )
        end = visit.window.end.add(days=1)  # DTEND of an all-day event is exclusive
        event.add("dtend", dt.date(end.year, end.month, end.day))
        event.add("status", "TENTATIVE" if visit.window.tentative else "CONFIRMED")
        event.add("location", entry.host.name)
        event.add("categories", [entry.kind.value])
        lines = [f"Aim: {visit.aim}", f"Expected outcome: {visit.expected_outcome}"]
        if visit.window.tentative:
            lines.insert(0, "Dates to be confirmed (TBC)")
        if visit.related_event:
            lines.append(_RELATED + visit.related_event)
        event.add("description", "\n".join(lines))
        for key, value in (
            ("VISIT-ID", visit.id),
            ("ENGAGEMENT-ID", entry.engagement_id),
            ("KIND", entry.kind.value),
            ("HOST", entry.host.id),
            ("HOST-TZID", entry.host.timezone),
            ("HOST-COUNTRY", entry.host.country),
            ("VISITORS", ",".join(visit.visitors)),
            ("MODE", visit.mode.value),
            ("AIM", visit.aim),
            ("OUTCOME", visit.expected_outcome),
            ("RELATED-EVENT", visit.related_event or ""),
        ):
            event.add(_X + key, value)
        cal.add_component(event)
    return bytes(cal.to_ical())


def _text(event: icalendar.cal.Component, name: str, default: str = "") -> str:
    value = event.get(name)
    return str(value) if value is not None else default


def _date(
    event: icalendar.cal.Component, name: str, where: str, problems: list[Problem]
) -> pendulum.Date | None:
    prop = event.get(name)
    value = prop.dt if prop is not None else None
    if isinstance(value, dt.datetime):
        value = value.date()
    if not isinstance(value, dt.date):
        problems.append(Problem(f"{where}.{name.lower()}", "expected a date"))
        return None
    return pendulum.date(value.year, value.month, value.day)


def read_programme(data: bytes | str) -> tuple[CalendarVisit, ...]:
    """The visits of a programme calendar, in file order; raises InvalidInput naming bad events."""
    try:
        cal = icalendar.Calendar.from_ical(data)
    except ValueError as error:
        raise InvalidInput("calendar", [Problem("$", f"not an iCalendar file: {error}")]) from None
    found: list[CalendarVisit] = []
    problems: list[Problem] = []
    for i, event in enumerate(cal.walk("VEVENT")):
        where = f"$.events[{i}]"
        start = _date(event, "DTSTART", where, problems)
        end = _date(event, "DTEND", where, problems)
        if start is None or end is None:
            continue
        description = _text(event, "DESCRIPTION")
        related = _text(event, _X + "RELATED-EVENT") or next(
            (
                line.removeprefix(_RELATED)
                for line in description.splitlines()
                if line.startswith(_RELATED)
            ),
            "",
        )
        uid = _text(event, "UID").removesuffix("@mentorflow")
        host_id = _text(event, _X + "HOST") or _text(event, "LOCATION").lower()
        visit = Visit(
            id=_text(event, _X + "VISIT-ID", uid),
            host=host_id,
            visitors=tuple(v for v in _text(event, _X + "VISITORS").split(",") if v),
            mode=VisitMode(_text(event, _X + "MODE", VisitMode.IN_PERSON.value)),
            window=VisitWindow(
                start, end.subtract(days=1), _text(event, "STATUS").upper() == "TENTATIVE"
            ),
            aim=_text(event, _X + "AIM"),
            expected_outcome=_text(event, _X + "OUTCOME"),
            related_event=related or None,
            title=_text(event, "SUMMARY"),
        )
        host = Organisation(
            host_id,
            _text(event, "LOCATION", host_id),
            _text(event, _X + "HOST-COUNTRY"),
            _text(event, _X + "HOST-TZID", "UTC"),
        )
        kind = _text(event, _X + "KIND", EngagementKind.MENTORING.value)
        found.append(
            CalendarVisit(
                visit, host, EngagementKind(kind), _text(event, _X + "ENGAGEMENT-ID", uid)
            )
        )
    if problems:
        raise InvalidInput("calendar", problems)
    return tuple(found)
