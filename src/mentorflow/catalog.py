"""Built-in methods from the source documents: Eurocities mentoring, ROCK, VALUES, CREATE, study visits."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import attrs

from mentorflow.compiled import CompiledMethod, compile_method
from mentorflow.exceptions import InvalidInput, Problem
from mentorflow.methods import DeliverableSpec, Effect, Method, MethodParameters, Phase, TriggerSpec
from mentorflow.model import EngagementKind, Party, Role, RoleLabels, SessionKind, VisitMode
from mentorflow.requirements import (
    ActionsReviewed,
    AgendaIncludes,
    Anchor,
    Approved,
    Delivered,
    Due,
    InPersonVisit,
    LeadTime,
    MaxThemes,
    NextVisitPlanned,
    NoVisitsLeft,
    PageCount,
    PrerequisitesClosed,
    ProgrammeShape,
    Requirement,
    TeamComposition,
    ThemesDefined,
    TimeSinceFirstVisit,
    VisitDatesFixed,
    VisitLength,
    VisitPrepared,
    VisitSlot,
)
from mentorflow.verdicts import Severity

__all__ = [
    "METHODS",
    "compiled",
    "create_mentoring",
    "eurocities_mentoring",
    "rock_four_session",
    "rock_mentoring",
    "rock_work_shadowing",
    "study_visit",
    "values_mentoring",
]

ROCK_LABELS = RoleLabels(
    mentor="role-model city", mentee="replicator city", facilitator="EUROCITIES"
)
EUROCITIES_LABELS = RoleLabels(mentor="mentor city", mentee="mentee city")

FACILITATOR = (Party.FACILITATOR,)
FACILITATOR_OR_HOST = (Party.FACILITATOR, Party.HOST)
BEFORE_VISIT = Due(Anchor.VISIT_START)
SOFT = Severity.SOFT


def _phase(name: str, title: str, parent: str | None = None, *, terminal: bool = False) -> Phase:
    return Phase(name, title, parent, terminal)


FOUR_STEPS = (
    _phase("matchmaking", "Match-making"),
    _phase("preparation", "Preparation"),
    _phase("visit", "The visit"),
    _phase("follow_up", "Follow-up"),
    _phase("closed", "Closed", terminal=True),
)

#: Agenda hygiene the ROCK tips ask for: context, introductions, reflection time (R-VISIT-6).
HYGIENE = AgendaIncludes(
    (SessionKind.INTRODUCTIONS, SessionKind.CONTEXT, SessionKind.REFLECTION), "R-VISIT-6", SOFT
)
INFORMAL = AgendaIncludes((SessionKind.INFORMAL,), "R-VISIT-8", SOFT)
VISIT_BASICS: tuple[Requirement, ...] = (
    VisitPrepared(),
    VisitDatesFixed(),
    Approved("agenda", "R-PREP-6", due=BEFORE_VISIT),
    VisitLength(),
    InPersonVisit(),
    HYGIENE,
    INFORMAL,
)


def _confirm(requirements: tuple[Requirement, ...], title: str) -> TriggerSpec:
    """The facilitator confirms the team: match-making to preparation."""
    return TriggerSpec(
        "confirm_match",
        ("matchmaking",),
        "preparation",
        FACILITATOR,
        requirements,
        Effect.MATCH,
        title=title,
    )


def _start_visit(requirements: tuple[Requirement, ...], title: str) -> TriggerSpec:
    """The facilitator or the host opens the visit at hand."""
    return TriggerSpec(
        "start_visit",
        ("preparation",),
        "visit",
        FACILITATOR_OR_HOST,
        requirements,
        Effect.START_VISIT,
        title=title,
    )


def _finish_visit(
    name: str, dest: str, title: str, requirements: tuple[Requirement, ...] = ()
) -> TriggerSpec:
    """The facilitator or the host ends the visit at hand."""
    return TriggerSpec(
        name, ("visit",), dest, FACILITATOR_OR_HOST, requirements, Effect.FINISH_VISIT, title=title
    )


def _close(source: str, requirements: tuple[Requirement, ...]) -> TriggerSpec:
    """The facilitator closes the engagement once the follow-up is done."""
    return TriggerSpec(
        "close",
        (source,),
        "closed",
        FACILITATOR,
        requirements,
        Effect.CLOSE,
        title="Close the engagement",
    )


AGENDA = DeliverableSpec(
    "agenda",
    "draft agenda",
    Party.HOST,
    approvers=(Party.VISITORS,),
    per_visit=True,
    due=BEFORE_VISIT,
)
LANGUAGE_PLAN = DeliverableSpec("language_plan", "language plan", Party.HOST, due=BEFORE_VISIT)
ARTICLE = DeliverableSpec("article", "rapporteur's article", Party.FACILITATOR)
NEEDS_ASSESSMENT = DeliverableSpec("needs_assessment", "needs assessment survey", Party.MENTEE)
ROADMAP = DeliverableSpec(
    "roadmap", "local roadmap", Party.MENTEE, due=Due(Anchor.VISIT_END, days=60)
)


def _report(days: int) -> DeliverableSpec:
    return DeliverableSpec(
        "visit_report",
        "mentoring visit report",
        Party.MENTOR,
        approvers=(Party.FACILITATOR,),
        due=Due(Anchor.VISIT_END, days=days),
    )


def rock_mentoring() -> Method:
    """ROCK mentoring (D1.1): role-model cities visit a replicator city; a review a year later."""
    params = MethodParameters()
    phases = (
        *FOUR_STEPS[:3],
        _phase("follow_up", "Follow-up"),
        _phase("follow_up.reporting", "Report and roadmap", "follow_up"),
        _phase("follow_up.review", "Follow-up review of actions", "follow_up"),
        FOUR_STEPS[4],
    )
    return Method(
        id="rock.mentoring",
        version=1,
        title="ROCK mentoring visit",
        kind=EngagementKind.MENTORING,
        labels=ROCK_LABELS,
        parameters=params,
        phases=phases,
        initial="matchmaking",
        description="Mentors visit the replicator city for 2-3 days; report, roadmap, review after 12 months.",
        deliverables=(
            NEEDS_ASSESSMENT,
            DeliverableSpec(
                "mentors_paper",
                "mentors' short paper",
                Party.MENTOR,
                approvers=(Party.MENTEE,),
                shared_first=True,
                requires=("needs_assessment",),
                requires_rule="R-PREP-1",
                due=BEFORE_VISIT,
            ),
            AGENDA,
            LANGUAGE_PLAN,
            _report(params.report_after_days),
            ROADMAP,
            ARTICLE,
            DeliverableSpec("follow_up_review", "follow-up review of actions", Party.FACILITATOR),
        ),
        triggers=(
            _confirm(
                (TeamComposition(), ThemesDefined("R-MATCH-1"), MaxThemes()), "Confirm the match"
            ),
            _start_visit(
                (
                    Delivered("needs_assessment", "R-PREP-1"),
                    Approved("mentors_paper", "R-PREP-2", due=BEFORE_VISIT),
                    Delivered("language_plan", "R-PREP-7", due=BEFORE_VISIT),
                    AgendaIncludes(
                        (
                            SessionKind.MENTEE_BRIEFING,
                            SessionKind.ACTION_PLAN_DISCUSSION,
                            SessionKind.BENCHMARK_REVIEW,
                            SessionKind.ACTION_PLAN_ENDORSEMENT,
                        ),
                        "R-VISIT-3",
                    ),
                    MaxThemes(),
                    *VISIT_BASICS,
                ),
                "Start the mentoring visit",
            ),
            _finish_visit("finish_visit", "follow_up.reporting", "Finish the visit"),
            TriggerSpec(
                "start_review",
                ("follow_up.reporting",),
                "follow_up.review",
                FACILITATOR,
                (
                    Approved(
                        "visit_report",
                        "R-FOLLOW-1",
                        due=Due(Anchor.VISIT_END, days=params.report_after_days),
                    ),
                    Delivered("roadmap", "R-FOLLOW-3", due=ROADMAP.due),
                    Delivered("article", "R-COMM-1"),
                    TimeSinceFirstVisit(),
                ),
                title="Hold the follow-up review",
            ),
            _close(
                "follow_up.review", (Delivered("follow_up_review", "R-FOLLOW-8"), ActionsReviewed())
            ),
        ),
    )


def rock_work_shadowing() -> Method:
    """ROCK work-shadowing (D1.1): one or two people per replicator city shadow a host city."""
    params = MethodParameters(
        max_mentor_cities=1, reps_per_mentor_city=(1, 10), reps_per_mentee_city=(1, 2)
    )
    lead = Due(Anchor.VISIT_START, months=-params.objectives_lead_months)
    return Method(
        id="rock.work_shadowing",
        version=1,
        title="ROCK work-shadowing visit",
        kind=EngagementKind.WORK_SHADOWING,
        labels=ROCK_LABELS,
        parameters=params,
        phases=FOUR_STEPS,
        initial="matchmaking",
        description="Replicator-city staff spend 2-3 days with peers in a role-model city.",
        deliverables=(
            DeliverableSpec(
                "learning_objectives", "learning-objectives document", Party.VISITORS, due=lead
            ),
            DeliverableSpec(
                "visitor_questions",
                "visitors' questions and wishes",
                Party.VISITORS,
                due=BEFORE_VISIT,
            ),
            DeliverableSpec(
                "travel_guide", "travel and accommodation guide", Party.HOST, due=BEFORE_VISIT
            ),
            AGENDA,
            LANGUAGE_PLAN,
            DeliverableSpec("visitor_summary", "visitor's summary to the host", Party.VISITORS),
            DeliverableSpec("host_reflection", "host's reflection", Party.HOST),
            DeliverableSpec("visitors_report", "visitors' report", Party.VISITORS),
            ARTICLE,
        ),
        triggers=(
            _confirm(
                (ThemesDefined("R-MATCH-6"), TeamComposition("R-MATCH-5", "R-MATCH-5")),
                "Confirm the host and visitors",
            ),
            _start_visit(
                (
                    Delivered("learning_objectives", "R-PREP-3", due=lead),
                    LeadTime("learning_objectives", lead, "R-PREP-3"),
                    PageCount(),
                    Delivered("travel_guide", "R-PREP-4", due=BEFORE_VISIT),
                    Delivered("visitor_questions", "R-PREP-5", SOFT, due=BEFORE_VISIT),
                    Delivered("language_plan", "R-PREP-7", due=BEFORE_VISIT),
                    AgendaIncludes((SessionKind.OPENING_INTRODUCTION,), "R-VISIT-7"),
                    *VISIT_BASICS,
                ),
                "Start the work-shadowing visit",
            ),
            _finish_visit("finish_visit", "follow_up", "Finish the visit"),
            _close(
                "follow_up",
                (
                    Delivered("visitor_summary", "R-FOLLOW-6"),
                    Delivered("host_reflection", "R-FOLLOW-7", SOFT),
                    Delivered("visitors_report", "R-COMM-4", SOFT),
                    Delivered("article", "R-COMM-1"),
                ),
            ),
        ),
    )


def eurocities_mentoring() -> Method:
    """Eurocities mentoring: a flexible sequence of visits, each with an aim, then a roadmap."""
    params = MethodParameters(reps_per_mentor_city=(1, 10))
    return Method(
        id="eurocities.mentoring",
        version=1,
        title="Eurocities mentoring",
        kind=EngagementKind.MENTORING,
        labels=EUROCITIES_LABELS,
        parameters=params,
        phases=FOUR_STEPS,
        initial="matchmaking",
        description="Any number of visits, in either direction, online or in person; then follow-up.",
        deliverables=(
            NEEDS_ASSESSMENT,
            AGENDA,
            _report(params.report_after_days),
            ROADMAP,
            ARTICLE,
        ),
        triggers=(
            _confirm((TeamComposition(), ThemesDefined("R-MATCH-1")), "Confirm the match"),
            _start_visit(VISIT_BASICS, "Start the next visit"),
            _finish_visit(
                "finish_visit",
                "preparation",
                "Finish this visit and prepare the next",
                (NextVisitPlanned(),),
            ),
            _finish_visit(
                "finish_programme", "follow_up", "Finish the last visit", (NoVisitsLeft(),)
            ),
            _close(
                "follow_up",
                (Approved("visit_report", "R-FOLLOW-1"), Delivered("roadmap", "R-FOLLOW-3")),
            ),
        ),
    )


def _with_start_requirements(method: Method, *extra: Requirement, **changes: Any) -> Method:
    triggers = tuple(
        attrs.evolve(t, requirements=(*t.requirements, *extra)) if t.name == "start_visit" else t
        for t in method.triggers
    )
    return attrs.evolve(method, triggers=triggers, **changes)


def rock_four_session() -> Method:
    """ROCK's four-session mentoring (R-PROG-2): two online sessions, then two visits."""
    shape = ProgrammeShape(
        (
            VisitSlot(VisitMode.ONLINE, Role.MENTOR),
            VisitSlot(VisitMode.ONLINE, Role.MENTEE),
            VisitSlot(VisitMode.IN_PERSON, Role.MENTOR),
            VisitSlot(VisitMode.IN_PERSON, Role.MENTEE),
        )
    )
    base = eurocities_mentoring()
    return _with_start_requirements(
        base,
        shape,
        id="rock.four_session",
        title="ROCK four-session mentoring",
        labels=ROCK_LABELS,
        parameters=attrs.evolve(base.parameters, visit_days=(1, 3)),
    )


def values_mentoring() -> Method:
    """VALUES mentoring: every visit ends with a jointly drafted initial action plan (R-PROG-4)."""
    joint = AgendaIncludes((SessionKind.JOINT_ACTION_PLAN,), "R-PROG-4", final_day=True)
    return _with_start_requirements(
        eurocities_mentoring(), joint, id="values.mentoring", title="VALUES mentoring"
    )


def create_mentoring() -> Method:
    """CREATE mentoring: work-shadowing engagements close before mentoring starts (R-PROG-3)."""
    base = rock_mentoring()
    triggers = tuple(
        attrs.evolve(t, requirements=(PrerequisitesClosed(), *t.requirements))
        if t.name == "confirm_match"
        else t
        for t in base.triggers
    )
    return attrs.evolve(base, id="create.mentoring", title="CREATE mentoring", triggers=triggers)


def study_visit() -> Method:
    """A single study visit: an aim, an agreed agenda, and the visitors' report afterwards."""
    return Method(
        id="eurocities.study_visit",
        version=1,
        title="Study visit",
        kind=EngagementKind.STUDY_VISIT,
        labels=RoleLabels(mentor="host city", mentee="visiting city"),
        parameters=MethodParameters(max_mentor_cities=1, reps_per_mentor_city=(1, 10)),
        phases=FOUR_STEPS,
        initial="matchmaking",
        deliverables=(
            AGENDA,
            DeliverableSpec("visitors_report", "visitors' report", Party.VISITORS),
            ARTICLE,
        ),
        triggers=(
            _confirm((TeamComposition(), ThemesDefined("R-MATCH-1")), "Confirm the visit"),
            _start_visit(VISIT_BASICS, "Start the study visit"),
            _finish_visit("finish_visit", "follow_up", "Finish the visit"),
            _close(
                "follow_up",
                (Delivered("visitors_report", "R-COMM-4"), Delivered("article", "R-COMM-1", SOFT)),
            ),
        ),
    )


#: Every built-in method by id.
METHODS: dict[str, Callable[[], Method]] = {
    "create.mentoring": create_mentoring,
    "eurocities.mentoring": eurocities_mentoring,
    "eurocities.study_visit": study_visit,
    "rock.four_session": rock_four_session,
    "rock.mentoring": rock_mentoring,
    "rock.work_shadowing": rock_work_shadowing,
    "values.mentoring": values_mentoring,
}


@cache
def compiled(method_id: str) -> CompiledMethod:
    """The shared compiled form of a built-in method: compiled once per process."""
    try:
        factory = METHODS[method_id]
    except KeyError:
        raise InvalidInput(
            "method",
            [
                Problem(
                    "$.method_id",
                    f"no built-in method {method_id!r}; known: {', '.join(sorted(METHODS))}",
                )
            ],
        ) from None
    return compile_method(factory())
