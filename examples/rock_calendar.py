"""Write the ROCK 2017-18 programme as an .ics file, read it back, and list what is due.

Run it from any folder: it writes ``rock-2017-18.ics`` and ``bologna-agenda.ics`` there.
"""

from __future__ import annotations

from pathlib import Path

import pendulum

from mentorflow import rock2017
from mentorflow.agendas import rock_mentoring_agenda
from mentorflow.ical import agenda_calendar, calendar_visits, programme_calendar, read_programme
from mentorflow.reminders import ReminderLedger, tick
from mentorflow.schedule import deadlines

STAMP = pendulum.datetime(2017, 9, 1, tz="Europe/Brussels")


def main() -> None:
    engagements = [plan.start(at=STAMP) for plan in rock2017.programme()]
    visits = calendar_visits(e.state for e in engagements)

    programme = Path("rock-2017-18.ics")
    programme.write_bytes(programme_calendar(visits, stamp=STAMP, name="ROCK 2017-18"))
    back = read_programme(programme.read_bytes())
    assert back == visits, "the calendar reads back as the same visits"
    print(f"wrote {programme} with {len(back)} visits:")
    for entry in back:
        window = entry.visit.window
        assert window is not None
        when = f"{window.start} to {window.end}" + (" (TBC)" if window.tentative else "")
        related = f", during {entry.visit.related_event}" if entry.visit.related_event else ""
        print(f"  {entry.kind.value:<15} {entry.host.name:<10} {when}{related}")

    bologna = engagements[2]
    visit = bologna.state.visits[0]
    assert visit.window is not None
    agenda = rock_mentoring_agenda(visit.window.start)
    host = rock2017.CITIES[visit.host]
    Path("bologna-agenda.ics").write_bytes(agenda_calendar(agenda, visit, host, stamp=STAMP))
    print(f"wrote bologna-agenda.ics with {len(agenda.sessions)} sessions in {host.timezone}")

    print("deadlines of the Bologna mentoring:")
    for d in deadlines(bologna.method, bologna.state):
        print(f"  {d.due.to_date_string()} {d.due.timezone_name:<12} {d.rule:<10} {d.title}")

    result = tick(
        [e.state for e in engagements], pendulum.datetime(2017, 11, 1, tz="UTC"), ReminderLedger()
    )
    print(f"a tick on 1 Nov 2017 emits {len(result.events)} reminders; the first three:")
    for event in result.events[:3]:
        print(f"  {type(event).__name__:<20} {event.engagement_id:<22} {event.title}")


if __name__ == "__main__":
    main()
