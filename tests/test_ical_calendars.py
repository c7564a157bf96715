"""iCalendar export and import: time zones, tentative visits, and the ROCK 2017-18 calendar."""

from __future__ import annotations

import datetime as dt

import icalendar
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mentorflow import engine
from mentorflow import rock2017 as rock
from mentorflow.agendas import rock_mentoring_agenda
from mentorflow.catalog import compiled
from mentorflow.exceptions import InvalidInput
from mentorflow.ical import agenda_calendar, calendar_visits, programme_calendar, read_programme
from mentorflow.model import Agenda, AgendaSession, Organisation, Visit, VisitMode, VisitWindow

STAMP = pendulum.datetime(2017, 9, 1, tz="UTC")


def rock_visits() -> tuple:  # type: ignore[type-arg]
    return calendar_visits(plan.start(at=STAMP).state for plan in rock.programme())


def test_rock_calendar_round_trips_to_the_same_visits() -> None:
    """R-PROG-7: the six ROCK visits, two TBC, with related events, read back unchanged."""
    visits = rock_visits()
    back = read_programme(programme_calendar(visits, stamp=STAMP, name="ROCK 2017-18"))
    assert back == visits
    assert len(back) == 6
    assert [v.visit.window.tentative for v in back] == [False] * 4 + [True] * 2  # type: ignore[union-attr]
    assert [v.visit.related_event for v in back][:4] == [
        "Artissima",
        "GLOW festival",
        "Bilbolbul festival",
        "Fête des Lumières",
    ]


def test_programme_events_are_all_day_and_tentative_when_tbc() -> None:
    """R-PROG-7: visits are all-day events; TBC ones carry STATUS:TENTATIVE."""
    cal = icalendar.Calendar.from_ical(programme_calendar(rock_visits(), stamp=STAMP))
    events = list(cal.walk("VEVENT"))
    lyon = next(e for e in events if "Lyon" in str(e["SUMMARY"]))
    assert lyon["DTSTART"].dt == dt.date(2017, 12, 7)
    assert lyon["DTEND"].dt == dt.date(2017, 12, 11)  # exclusive end: four days, 7-10 Dec
    assert str(lyon["STATUS"]) == "CONFIRMED"
    assert "Related event: Fête des Lumières" in str(lyon["DESCRIPTION"])
    skopje = next(e for e in events if "Skopje" in str(e["SUMMARY"]))
    assert str(skopje["STATUS"]) == "TENTATIVE"


def test_a_foreign_calendar_is_read_from_standard_properties() -> None:
    """R-PROG-7: a hand-written calendar without mentorflow properties still gives its visits."""
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//someone//EN\r\n"
        "BEGIN:VEVENT\r\nUID:lisbon-2018\r\nDTSTAMP:20170901T000000Z\r\n"
        "SUMMARY:Mentoring in Lisbon\r\n"
        "DTSTART;VALUE=DATE:20180201\r\nDTEND;VALUE=DATE:20180301\r\nSTATUS:TENTATIVE\r\n"
        "LOCATION:Lisbon\r\nDESCRIPTION:Related event: Carnival\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    (entry,) = read_programme(text)
    assert entry.visit.id == "lisbon-2018"
    assert entry.visit.window == VisitWindow(
        pendulum.date(2018, 2, 1), pendulum.date(2018, 2, 28), True
    )
    assert entry.visit.related_event == "Carnival"


def test_broken_calendars_raise_invalid_input() -> None:
    """A file that is not iCalendar, or an event without dates, raises InvalidInput with a path."""
    with pytest.raises(InvalidInput):
        read_programme(b"not a calendar")
    text = (
        "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:-\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    with pytest.raises(InvalidInput) as caught:
        read_programme(text)
    assert caught.value.problems[0].path == "$.events[0].dtstart"


def test_agenda_export_carries_the_host_zone_and_local_times() -> None:
    """R-VISIT-5: sessions carry TZID=Europe/Rome, a VTIMEZONE, and parse back to local 09:00."""
    visit = rock.programme()[2].visits[0]
    agenda = rock_mentoring_agenda(visit.window.start)  # type: ignore[union-attr]
    data = agenda_calendar(agenda, visit, rock.CITIES["bologna"], stamp=STAMP)
    assert b"DTSTART;TZID=Europe/Rome:20171124T090000" in data
    cal = icalendar.Calendar.from_ical(data)
    assert [str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")] == ["Europe/Rome"]
    events = list(cal.walk("VEVENT"))
    assert len(events) == len(agenda.sessions)
    first = events[0]["DTSTART"].dt
    assert (first.hour, first.minute, first.utcoffset()) == (9, 0, dt.timedelta(hours=1))
    assert first.astimezone(dt.UTC).hour == 8


def test_agenda_across_dst_end_keeps_wall_times_in_lisbon_and_skopje() -> None:
    """R-VISIT-1: a visit over 29 Oct 2017 exports 09:00 local each day, before and after."""
    for zone, offsets in (("Europe/Lisbon", (1, 0)), ("Europe/Skopje", (2, 1))):
        host = Organisation("host", "Host", timezone=zone)
        visit = Visit(
            "v",
            "host",
            ("guest",),
            VisitMode.IN_PERSON,
            VisitWindow(pendulum.date(2017, 10, 28), pendulum.date(2017, 10, 30)),
        )
        agenda = rock_mentoring_agenda(pendulum.date(2017, 10, 28))
        cal = icalendar.Calendar.from_ical(agenda_calendar(agenda, visit, host, stamp=STAMP))
        starts = [e["DTSTART"].dt for e in cal.walk("VEVENT") if e["DTSTART"].dt.hour == 9]
        assert [s.day for s in starts[:1]] == [28]
        assert {s.utcoffset() for s in starts if s.day == 28} == {dt.timedelta(hours=offsets[0])}
        assert {s.utcoffset() for s in starts if s.day == 30} == {dt.timedelta(hours=offsets[1])}


def test_agenda_with_a_nonexistent_time_is_refused() -> None:
    """A session in the spring-forward gap cannot be exported; the error names the session."""
    host = Organisation("lisbon", "Lisbon", timezone="Europe/Lisbon")
    visit = Visit("v", "lisbon", ("lyon",), VisitMode.IN_PERSON)
    day = pendulum.date(2018, 3, 25)
    start, end = pendulum.time(1, 30), pendulum.time(2, 30)
    with pytest.raises(InvalidInput) as caught:
        agenda_calendar(
            Agenda((AgendaSession(day, start, end, "night walk"),)), visit, host, stamp=STAMP
        )
    assert caught.value.problems[0].path == "$.sessions[0]"


@given(
    start=st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2036, 12, 31)),
    days=st.integers(min_value=1, max_value=40),
    tentative=st.booleans(),
    related=st.none()
    | st.text(
        st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), min_size=1, max_size=30
    )
    .map(str.strip)
    .filter(bool),
)
def test_any_visit_round_trips(
    start: dt.date, days: int, tentative: bool, related: str | None
) -> None:
    """R-PROG-7: any dated visit, tentative or not, with any related event, reads back equal."""
    first = pendulum.date(start.year, start.month, start.day)
    plan = rock.programme()[2]
    visit = Visit(
        "v1",
        "bologna",
        ("athens",),
        VisitMode.IN_PERSON,
        VisitWindow(first, first.add(days=days - 1), tentative),
        aim="An aim; with, punctuation",
        expected_outcome="An outcome",
        related_event=related,
        title="A visit",
    )
    state = engine.start(
        compiled(plan.method_id),
        id="e1",
        title="t",
        organisations=plan.organisations,
        participants=plan.participants,
        actor=rock.rep("eurocities"),
        at=STAMP,
        visits=(visit,),
    ).state
    entries = calendar_visits([state])
    assert read_programme(programme_calendar(entries, stamp=STAMP)) == entries
