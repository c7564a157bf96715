"""Agenda validation in the host city's zone: timing, DST, required sessions, hygiene."""

from __future__ import annotations

import attrs
import pendulum
from hypothesis import given
from hypothesis import strategies as st

from mentorflow.agenda_rules import (
    AgendaLimits,
    hygiene_findings,
    problems,
    session_findings,
    session_instants,
    validate_agenda,
)
from mentorflow.agenda_templates import adapt
from mentorflow.agendas import rock_mentoring_agenda, rock_work_shadowing_agenda
from mentorflow.model import Agenda, AgendaSession, SessionKind, Visit
from mentorflow.verdicts import Severity
from timekit import CREATED, started

WS_TURIN, MENTORING_BOLOGNA = 0, 2


def t(text: str) -> pendulum.Time:
    return pendulum.parse(text, exact=True)  # type: ignore[return-value]


def session(
    day: pendulum.Date, start: str, end: str, *who: str, kinds: tuple[SessionKind, ...] = ()
) -> AgendaSession:
    return AgendaSession(
        day, t(start), t(end), f"session {start}", who=who or ("all",), kinds=frozenset(kinds)
    )


def rules(findings: tuple[object, ...]) -> list[str]:
    return [f.rule for f in findings]  # type: ignore[attr-defined]


def test_rock_templates_validate_cleanly_on_their_visits() -> None:
    """R-VISIT-3, R-VISIT-5, R-VISIT-7: the indicative agendas pass their methods cleanly."""
    for index, template in (
        (WS_TURIN, rock_work_shadowing_agenda),
        (MENTORING_BOLOGNA, rock_mentoring_agenda),
    ):
        method, state = started(index)
        agenda = template(state.visits[0].window.start)  # type: ignore[union-attr]
        assert validate_agenda(method, state, agenda, at=CREATED) == ()


def test_missing_required_sessions_are_hard_findings() -> None:
    """R-VISIT-3: a mentoring agenda without the endorsement session is refused by its method."""
    method, state = started(MENTORING_BOLOGNA)
    agenda = adapt(
        rock_mentoring_agenda(state.visits[0].window.start),  # type: ignore[union-attr]
        drop=lambda s: SessionKind.ACTION_PLAN_ENDORSEMENT in s.kinds,
    )
    found = problems(validate_agenda(method, state, agenda, at=CREATED))
    assert rules(found) == ["R-VISIT-3"]
    assert "action plan endorsement" in found[0].message


def test_work_shadowing_needs_its_opening_session() -> None:
    """R-VISIT-7: a work-shadowing agenda without the opening introduction is refused."""
    method, state = started(WS_TURIN)
    agenda = adapt(
        rock_work_shadowing_agenda(state.visits[0].window.start),  # type: ignore[union-attr]
        drop=lambda s: SessionKind.OPENING_INTRODUCTION in s.kinds,
    )
    assert "R-VISIT-7" in rules(problems(validate_agenda(method, state, agenda, at=CREATED)))


def test_visit_length_is_a_soft_warning_reused_from_the_method() -> None:
    """R-VISIT-1: a four-day mentoring visit warns (soft) through the method's own VisitLength."""
    method, state = started(MENTORING_BOLOGNA, pendulum.date(2017, 11, 24), days=4)
    agenda = rock_mentoring_agenda(pendulum.date(2017, 11, 24))
    found = validate_agenda(method, state, agenda, at=CREATED)
    assert [(f.rule, f.severity) for f in found] == [("R-VISIT-1", Severity.SOFT)]


def test_sessions_outside_the_visit_or_overlapping_are_problems() -> None:
    """Sessions must fall inside the visit's days and not overlap for the same people."""
    method, state = started(WS_TURIN)
    day = state.visits[0].window.start  # type: ignore[union-attr]
    agenda = adapt(
        rock_work_shadowing_agenda(day),
        add=(
            session(day.add(days=5), "09:00", "10:00"),
            session(day, "10:00", "10:20", "visitors"),
        ),
    )
    found = problems(validate_agenda(method, state, agenda, at=CREATED))
    assert any("outside the visit" in f.message for f in found)
    assert any("overlaps" in f.message for f in found)


def test_parallel_sessions_for_different_people_do_not_overlap() -> None:
    """Two tracks at once are fine when they are for different people."""
    visit = Visit("v", "lisbon", ("lyon",), mode=started(0)[1].visits[0].mode)
    day = pendulum.date(2018, 2, 5)
    agenda = Agenda(
        (session(day, "10:00", "11:00", "mentors"), session(day, "10:30", "11:30", "host"))
    )
    assert session_findings(agenda, visit, "Europe/Lisbon") == ()


def test_spring_forward_gap_is_a_problem_in_the_host_zone_only() -> None:
    """On 25 Mar 2018, 01:30 does not exist in Lisbon and 02:30 does not exist in Skopje."""
    visit = attrs.evolve(started(0)[1].visits[0], window=None)
    day = pendulum.date(2018, 3, 25)
    agenda = Agenda((session(day, "01:30", "03:30"),))
    lisbon = session_findings(agenda, visit, "Europe/Lisbon")
    assert [f.severity for f in lisbon] == [Severity.HARD]
    assert "does not exist in Europe/Lisbon" in lisbon[0].message
    assert session_instants(agenda.sessions[0], "Europe/Lisbon") is None
    assert session_findings(agenda, visit, "Europe/Skopje") == ()
    at_half_two = Agenda((session(day, "02:30", "04:00"),))  # Skopje's gap is 02:00-03:00
    skopje = session_findings(at_half_two, visit, "Europe/Skopje")
    assert [f.severity for f in skopje] == [Severity.HARD]
    assert session_findings(at_half_two, visit, "Europe/Lisbon") == ()


def test_fall_back_hour_is_read_as_first_occurrence_and_noted() -> None:
    """On 29 Oct 2017 Lisbon repeats 01:00-02:00: 01:30 is read once, first, with a soft note."""
    visit = attrs.evolve(started(0)[1].visits[0], window=None)
    day = pendulum.date(2017, 10, 29)
    agenda = Agenda((session(day, "01:30", "03:00"),))
    found = session_findings(agenda, visit, "Europe/Lisbon")
    assert [f.severity for f in found] == [Severity.SOFT]
    start, end = session_instants(agenda.sessions[0], "Europe/Lisbon")  # type: ignore[misc]
    assert start.in_tz("UTC") == pendulum.datetime(2017, 10, 29, 0, 30, tz="UTC")
    assert end.diff(start).in_minutes() == 150  # the repeated hour counts once more
    later = Agenda((session(day, "02:30", "03:30"),))  # Skopje repeats 02:00-03:00 instead
    lisbon_start, lisbon_end = session_instants(later.sessions[0], "Europe/Lisbon")  # type: ignore[misc]
    skopje_start, skopje_end = session_instants(later.sessions[0], "Europe/Skopje")  # type: ignore[misc]
    assert lisbon_end.diff(lisbon_start).in_minutes() == 60
    assert skopje_end.diff(skopje_start).in_minutes() == 120
    assert session_findings(later, visit, "Europe/Lisbon") == ()
    assert [f.severity for f in session_findings(later, visit, "Europe/Skopje")] == [Severity.SOFT]


def test_hygiene_asks_for_reflection_each_day_and_light_days() -> None:
    """R-VISIT-6: a day without reflection and a day with too many hours both warn (soft)."""
    day = pendulum.date(2018, 2, 5)
    agenda = Agenda(
        (
            session(day, "08:00", "18:00"),
            session(day.add(days=1), "09:00", "10:00", kinds=(SessionKind.REFLECTION,)),
        )
    )
    found = hygiene_findings(agenda, AgendaLimits(max_hours_per_day=9))
    assert rules(found) == ["R-VISIT-6", "R-VISIT-6"]
    assert "no time for reflection" in found[0].message
    assert "less is more" in found[1].message
    assert hygiene_findings(agenda, AgendaLimits(max_hours_per_day=12))[1:] == ()


def test_adapt_moves_renames_and_leaves_the_template_alone() -> None:
    """R-VISIT-5: adapting a template shifts its days, renames topics, and changes no original."""
    template = rock_work_shadowing_agenda(pendulum.date(2017, 1, 2))
    adapted = adapt(
        template, first_day=pendulum.date(2017, 11, 16), themes={"topic 1": "light festivals"}
    )
    assert adapted.days == (pendulum.date(2017, 11, 16), pendulum.date(2017, 11, 17))
    assert any(
        s.activity == "Working session on light festivals: political level meeting"
        for s in adapted.sessions
    )
    assert "light festivals" in {s.theme for s in adapted.sessions}
    assert template.days[0] == pendulum.date(2017, 1, 2)
    dropped = adapt(template, drop=("Dinner",))
    assert len(dropped.sessions) == len(template.sessions) - 1


@given(shift=st.integers(min_value=-400, max_value=400))
def test_adapting_to_any_date_keeps_sessions_and_times(shift: int) -> None:
    """R-VISIT-5: moving a template keeps every session's wall times and its day order."""
    template = rock_mentoring_agenda(pendulum.date(2018, 1, 1))
    moved = adapt(template, first_day=pendulum.date(2018, 1, 1).add(days=shift))
    assert [(s.start, s.end, s.activity) for s in moved.sessions] == [
        (s.start, s.end, s.activity) for s in template.sessions
    ]
    assert [(s.day - template.days[0]).in_days() for s in template.sessions] == [
        (s.day - moved.days[0]).in_days() for s in moved.sessions
    ]
