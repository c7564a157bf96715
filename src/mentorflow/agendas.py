"""The ROCK guidelines' indicative agendas as templates a host adapts (R-VISIT-5)."""

from __future__ import annotations

import pendulum

from mentorflow.model import Agenda, AgendaSession, SessionKind

__all__ = ["rock_mentoring_agenda", "rock_work_shadowing_agenda"]

K = SessionKind


def _session(
    day: pendulum.Date,
    start: str,
    end: str,
    activity: str,
    who: tuple[str, ...],
    *kinds: SessionKind,
    theme: str | None = None,
) -> AgendaSession:
    return AgendaSession(
        day=day,
        start=pendulum.parse(start, exact=True),  # type: ignore[arg-type]  # "HH:MM" parses to a Time
        end=pendulum.parse(end, exact=True),  # type: ignore[arg-type]
        activity=activity,
        who=who,
        theme=theme,
        kinds=frozenset(kinds),
    )


def rock_mentoring_agenda(
    first_day: pendulum.Date, themes: tuple[str, str] = ("theme 1", "theme 2")
) -> Agenda:
    """The three-day indicative mentoring programme of ROCK D1.1, from ``first_day``."""
    d1, d2, d3 = first_day, first_day.add(days=1), first_day.add(days=2)
    return Agenda(
        (
            _session(
                d1,
                "09:00",
                "09:30",
                "Coffee, roundtable and introduction of everyone",
                ("all",),
                K.INTRODUCTIONS,
            ),
            _session(
                d1,
                "09:30",
                "10:00",
                "Briefing on mentoring visits methodology",
                ("facilitator",),
                K.METHODOLOGY_BRIEFING,
            ),
            _session(
                d1,
                "10:00",
                "10:45",
                "Briefing on local context, needs, expectations and objectives",
                ("replicator city",),
                K.MENTEE_BRIEFING,
                K.CONTEXT,
            ),
            _session(
                d1, "10:45", "11:30", "Reflective understanding and analysis of needs", ("mentors",)
            ),
            _session(d1, "11:30", "12:30", "Exchanges and synthesis", ("all",)),
            _session(
                d1,
                "13:30",
                "17:00",
                "Study visits: meetings with stakeholders, testing hypotheses",
                ("all",),
                K.FIELD_VISIT,
                K.STAKEHOLDER_MEETING,
                theme=themes[0],
            ),
            _session(
                d1,
                "17:00",
                "18:00",
                "Conclusions of the day: debriefing and synthesis",
                ("all",),
                K.REFLECTION,
            ),
            _session(
                d1,
                "18:00",
                "19:00",
                "Mentors reflect and prepare recommendations",
                ("mentors",),
                K.REFLECTION,
            ),
            _session(
                d2,
                "09:00",
                "12:30",
                "Presentations of initiatives; discussion of the action plan with key actors",
                ("all",),
                K.ACTION_PLAN_DISCUSSION,
            ),
            _session(
                d2,
                "13:30",
                "17:00",
                "Site visits and stakeholder discussions",
                ("all",),
                K.FIELD_VISIT,
                theme=themes[1],
            ),
            _session(
                d2,
                "17:00",
                "18:00",
                "Mentors reflect and prepare the conclusion session",
                ("mentors",),
                K.REFLECTION,
            ),
            _session(
                d2,
                "19:00",
                "21:00",
                "Informal dinner with local stakeholders",
                ("all",),
                K.INFORMAL,
            ),
            _session(
                d3,
                "09:00",
                "10:00",
                "Review of findings, benchmark and draft action plan",
                ("mentoring team",),
                K.BENCHMARK_REVIEW,
            ),
            _session(
                d3,
                "10:00",
                "11:30",
                "Recommendations discussed with key local officers",
                ("mentoring team", "replicator city"),
                K.RECOMMENDATIONS,
            ),
            _session(
                d3,
                "11:30",
                "12:30",
                "Finalisation and first endorsement of the action plan / roadmap",
                ("mentoring team", "replicator city"),
                K.ACTION_PLAN_ENDORSEMENT,
                K.JOINT_ACTION_PLAN,
            ),
        )
    )


def rock_work_shadowing_agenda(
    first_day: pendulum.Date, topics: tuple[str, str] = ("topic 1", "topic 2")
) -> Agenda:
    """The two-day indicative work-shadowing programme of ROCK D1.1, from ``first_day``."""
    d1, d2 = first_day, first_day.add(days=1)
    return Agenda(
        (
            _session(
                d1,
                "09:00",
                "09:30",
                "Coffee, roundtable: everyone's skills, tasks, responsibilities, interests",
                ("facilitator",),
                K.OPENING_INTRODUCTION,
                K.INTRODUCTIONS,
            ),
            _session(
                d1,
                "09:30",
                "09:45",
                "Briefing on work-shadowing methodology",
                ("facilitator",),
                K.METHODOLOGY_BRIEFING,
            ),
            _session(
                d1,
                "09:45",
                "10:15",
                "Local context of the host city; visitors' interests and needs",
                ("host", "visitors", "facilitator"),
                K.CONTEXT,
            ),
            _session(
                d1,
                "10:30",
                "12:00",
                f"Working session on {topics[0]}: political level meeting",
                ("host", "visitors"),
                K.WORKING_SESSION,
                theme=topics[0],
            ),
            _session(
                d1,
                "13:30",
                "17:00",
                "Site visits and discussions with local stakeholders",
                ("host", "local stakeholders", "visitors"),
                K.FIELD_VISIT,
                K.STAKEHOLDER_MEETING,
                theme=topics[0],
            ),
            _session(
                d1,
                "17:00",
                "18:00",
                "Debriefing and synthesis: questions from visitors",
                ("host", "visitors"),
                K.REFLECTION,
            ),
            _session(d1, "19:00", "21:00", "Dinner", ("all",), K.INFORMAL),
            _session(
                d2,
                "09:00",
                "09:30",
                "Review of objectives of the day, remaining questions",
                ("host", "visitors"),
            ),
            _session(
                d2,
                "09:30",
                "11:00",
                f"Working session on {topics[1]}",
                ("host", "visitors"),
                K.WORKING_SESSION,
                theme=topics[1],
            ),
            _session(d2, "11:15", "12:15", "Policy-transfer session", ("host", "visitors")),
            _session(
                d2,
                "13:30",
                "16:00",
                "A day in the life of a local practitioner",
                ("host", "visitors", "local actors"),
                K.FIELD_VISIT,
            ),
            _session(
                d2,
                "16:00",
                "17:30",
                "Action planning: take-aways and next steps for visitors",
                ("host", "visitors"),
                K.JOINT_ACTION_PLAN,
                K.REFLECTION,
            ),
        )
    )
