"""The ROCK 2017-18 programme from the seeds: cities, teams, the six visits and sample documents.

The calendar (places, dates, related events, TBC dates) is the D1.1 "Calendar of events". Which
role-model cities mentor which replicator city is not in the seeds; the teams here are
illustrative, within the rule of up to three mentors per replicator (R-MATCH-2).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import attrs
import pendulum

from mentorflow.agendas import rock_mentoring_agenda, rock_work_shadowing_agenda
from mentorflow.catalog import compiled
from mentorflow.clock import Clock
from mentorflow.deliverables import (
    Action,
    ActionReview,
    ActionStatus,
    CostClass,
    DraftAgenda,
    FollowUpReview,
    Horizon,
    HostReflection,
    Indicator,
    LanguagePlan,
    LearningObjectives,
    LearningPoint,
    LocalRoadmap,
    MentorsPaper,
    Need,
    NeedsAssessment,
    RapporteurArticle,
    Recommendation,
    TravelGuide,
    VisitorQuestions,
    VisitorsReport,
    VisitorSummary,
    VisitReport,
)
from mentorflow.engagement import Engagement
from mentorflow.events import EventBus
from mentorflow.model import (
    Organisation,
    Participant,
    Role,
    Side,
    Theme,
    Visit,
    VisitMode,
    VisitWindow,
)

__all__ = [
    "CITIES",
    "FACILITATOR_ID",
    "EngagementPlan",
    "agenda_for",
    "article",
    "follow_up_review",
    "host_reflection",
    "language_plan",
    "learning_objectives",
    "mentors_paper",
    "needs_assessment",
    "programme",
    "roadmap",
    "travel_guide",
    "visit_report",
    "visitor_questions",
    "visitor_summary",
    "visitors_report",
]

FACILITATOR_ID = "eurocities"

CITIES: dict[str, Organisation] = {
    o.id: o
    for o in (
        Organisation("bologna", "Bologna", "IT", "Europe/Rome"),
        Organisation("lisbon", "Lisbon", "PT", "Europe/Lisbon"),
        Organisation("skopje", "Skopje", "MK", "Europe/Skopje"),
        Organisation("athens", "Athens", "GR", "Europe/Athens"),
        Organisation("cluj", "Cluj-Napoca", "RO", "Europe/Bucharest"),
        Organisation("eindhoven", "Eindhoven", "NL", "Europe/Amsterdam"),
        Organisation("liverpool", "Liverpool", "GB", "Europe/London"),
        Organisation("lyon", "Lyon", "FR", "Europe/Paris"),
        Organisation("turin", "Turin", "IT", "Europe/Rome"),
        Organisation("vilnius", "Vilnius", "LT", "Europe/Vilnius"),
        Organisation(FACILITATOR_ID, "EUROCITIES", "BE", "Europe/Brussels"),
    )
}
REPLICATORS = ("bologna", "lisbon", "skopje")


@attrs.frozen
class EngagementPlan:
    """Everything needed to start one engagement of the programme."""

    id: str
    method_id: str
    title: str
    organisations: tuple[Organisation, ...]
    participants: tuple[Participant, ...]
    themes: tuple[Theme, ...]
    visits: tuple[Visit, ...]
    prerequisites: tuple[str, ...] = ()

    def start(
        self,
        *,
        at: dt.datetime | None = None,
        bus: EventBus | None = None,
        clock: Clock | None = None,
    ) -> Engagement:
        """Start the engagement on the built-in method, created by the facilitator."""
        return Engagement.start(
            compiled(self.method_id),
            id=self.id,
            title=self.title,
            organisations=self.organisations,
            participants=self.participants,
            actor=rep(FACILITATOR_ID),
            at=at,
            themes=self.themes,
            visits=self.visits,
            prerequisites=self.prerequisites,
            bus=bus,
            clock=clock,
        )


def rep(city: str, n: int = 1) -> str:
    """The participant id of a city's ``n``-th representative."""
    return f"{city}-{n}"


def _people(cities: Sequence[str], role: Role, per_city: int = 1) -> tuple[Participant, ...]:
    return tuple(
        Participant(rep(c, n), f"{CITIES[c].name} representative {n}", role, c)
        for c in cities
        for n in range(1, per_city + 1)
    )


def _facilitator() -> tuple[Participant, ...]:
    return (
        Participant(rep(FACILITATOR_ID), "EUROCITIES rapporteur", Role.FACILITATOR, FACILITATOR_ID),
    )


def _window(
    start: tuple[int, int, int], end: tuple[int, int, int], *, tentative: bool = False
) -> VisitWindow:
    return VisitWindow(pendulum.date(*start), pendulum.date(*end), tentative)


def _work_shadowing(
    host: str, window: VisitWindow, event: str, topics: tuple[str, str]
) -> EngagementPlan:
    cities = (host, *REPLICATORS, FACILITATOR_ID)
    visit = Visit(
        id=f"ws-{host}-2017",
        host=host,
        visitors=REPLICATORS,
        mode=VisitMode.IN_PERSON,
        window=window,
        aim=f"Observe how {CITIES[host].name} runs {topics[0]} and {topics[1]}",
        expected_outcome="Each visitor takes home two practices to test locally",
        related_event=event,
        title=f"Work-shadowing in {CITIES[host].name}",
    )
    return EngagementPlan(
        id=f"rock-ws-{host}",
        method_id="rock.work_shadowing",
        title=f"ROCK work-shadowing visit to {CITIES[host].name}",
        organisations=tuple(CITIES[c] for c in cities),
        participants=(
            *_people((host,), Role.MENTOR),
            *_people(REPLICATORS, Role.MENTEE, 2),
            *_facilitator(),
        ),
        themes=tuple(Theme(f"t{i}", t) for i, t in enumerate(topics, start=1)),
        visits=(visit,),
    )


def _mentoring(
    mentee: str, mentors: tuple[str, ...], window: VisitWindow, event: str | None
) -> EngagementPlan:
    cities = (mentee, *mentors, FACILITATOR_ID)
    visit = Visit(
        id=f"mentoring-{mentee}",
        host=mentee,
        visitors=mentors,
        mode=VisitMode.IN_PERSON,
        window=window,
        aim=f"Test the mentors' hypotheses on heritage-led regeneration with {CITIES[mentee].name}'s actors",
        expected_outcome="A first endorsement of the draft action plan",
        related_event=event,
        title=f"Mentoring visit to {CITIES[mentee].name}",
    )
    return EngagementPlan(
        id=f"rock-mentoring-{mentee}",
        method_id="rock.mentoring",
        title=f"ROCK mentoring of {CITIES[mentee].name}",
        organisations=tuple(CITIES[c] for c in cities),
        participants=(
            *_people((mentee,), Role.MENTEE, 2),
            *_people(mentors, Role.MENTOR),
            *_facilitator(),
        ),
        themes=(
            Theme("governance", "Participatory governance of heritage"),
            Theme("creative", "Creative industries"),
        ),
        visits=(visit,),
    )


def programme() -> tuple[EngagementPlan, ...]:
    """The six engagements of the ROCK 2017-18 calendar, in calendar order."""
    return (
        _work_shadowing(
            "turin",
            _window((2017, 11, 6), (2017, 11, 7)),
            "Artissima",
            ("art fairs", "creative hubs"),
        ),
        _work_shadowing(
            "eindhoven",
            _window((2017, 11, 16), (2017, 11, 17)),
            "GLOW festival",
            ("light festivals", "living labs"),
        ),
        _mentoring(
            "bologna",
            ("athens", "liverpool", "vilnius"),
            _window((2017, 11, 24), (2017, 11, 26)),
            "Bilbolbul festival",
        ),
        _work_shadowing(
            "lyon",
            _window((2017, 12, 7), (2017, 12, 10)),
            "Fête des Lumières",
            ("light festivals", "heritage sites"),
        ),
        _mentoring(
            "skopje",
            ("cluj", "eindhoven", "turin"),
            _window((2018, 1, 1), (2018, 1, 31), tentative=True),
            None,
        ),
        _mentoring(
            "lisbon",
            ("lyon", "liverpool", "vilnius"),
            _window((2018, 2, 1), (2018, 2, 28), tentative=True),
            None,
        ),
    )


# -- sample documents, written from the seeds ------------------------------------------------


def needs_assessment() -> NeedsAssessment:
    """A replicator city's answers to the needs assessment survey (R-PREP-1)."""
    return NeedsAssessment(
        needs=(
            Need("n1", "Involve residents in regenerating the historic centre", 1),
            Need("n2", "Attract creative industries without displacing residents", 2),
        ),
        barriers=("fragmented ownership of heritage buildings",),
    )


def mentors_paper() -> MentorsPaper:
    """The mentors' short paper with key needs and hypotheses (R-PREP-2)."""
    return MentorsPaper(
        key_needs=("resident participation", "creative-industry clustering"),
        hypotheses=("A heritage lab run with residents builds trust faster than consultations",),
        priorities=("governance first",),
    )


def language_plan() -> LanguagePlan:
    """English throughout, with translation budgeted for local stakeholders (R-PREP-7)."""
    return LanguagePlan("en", all_fluent=False, translation_budgeted=True)


def agenda_for(visit: Visit, *, work_shadowing: bool = False) -> DraftAgenda:
    """The ROCK indicative agenda laid on the visit's first day, fitted to its length."""
    assert visit.window is not None, "plan the visit's dates first"
    agenda = (rock_work_shadowing_agenda if work_shadowing else rock_mentoring_agenda)(
        visit.window.start
    )
    return DraftAgenda(agenda)


def visit_report() -> VisitReport:
    """A mentoring visit report in its three sections (R-FOLLOW-1, R-FOLLOW-2)."""
    return VisitReport(
        needs_identified="Residents feel left out of decisions on the historic centre.",
        transferability="Liverpool's community land trust and Athens' open calls transfer with adaptation.",
        recommendations=(
            Recommendation("Open a heritage lab in a vacant building", CostClass.FUNDED),
            Recommendation("Hold monthly open office hours with residents", CostClass.NO_COST),
        ),
    )


def roadmap() -> LocalRoadmap:
    """A local roadmap with learning points from both sides and an action plan (R-FOLLOW-3/4)."""
    return LocalRoadmap(
        learning_points=(
            LearningPoint(Side.MENTEE, "Participation works when residents co-own a space"),
            LearningPoint(
                Side.MENTOR, "Our open calls could reach residents, not only professionals"
            ),
        ),
        indicators=(
            Indicator("residents taking part in the lab", "people", baseline=0, target=200),
        ),
        actions=(
            Action(
                "a1",
                "Open the heritage lab",
                Horizon.MEDIUM,
                CostClass.FUNDED,
                "Culture department",
                funding="ROCK budget",
                milestones=("building chosen", "lab opens"),
                indicators=("residents",),
            ),
            Action(
                "a2",
                "Monthly open office hours",
                Horizon.SHORT,
                CostClass.NO_COST,
                "Mayor's office",
            ),
        ),
    )


def follow_up_review(road: LocalRoadmap) -> FollowUpReview:
    """The review a year later: the first action done, the others with a reason (R-FOLLOW-8)."""
    reviews = [ActionReview(road.actions[0].id, ActionStatus.IMPLEMENTED)]
    reviews += [
        ActionReview(a.id, ActionStatus.IN_PROGRESS, "delayed by elections")
        for a in road.actions[1:]
    ]
    return FollowUpReview(tuple(reviews))


def article(title: str) -> RapporteurArticle:
    """The rapporteur's article for the project website (R-COMM-1)."""
    return RapporteurArticle(
        title, "What was discussed, and what comes next.", ("website", "social media")
    )


def learning_objectives(pages: int = 3) -> LearningObjectives:
    """Visitors' challenges and learning objectives (R-PREP-3)."""
    return LearningObjectives(
        challenges=("empty ground floors in the historic centre",),
        objectives=("learn how the host animates public space during festivals",),
        pages=pages,
    )


def visitor_questions() -> VisitorQuestions:
    """Visitors' questions and the stakeholders and sites they want to see (R-PREP-5)."""
    return VisitorQuestions(
        questions=("How is the festival funded?",),
        stakeholders=("festival office",),
        sites=("old town",),
    )


def travel_guide(city: str) -> TravelGuide:
    """The host's travel and accommodation guide (R-PREP-4)."""
    return TravelGuide(f"Airport shuttle to {CITIES[city].name} centre", "Hotel near the town hall")


def visitor_summary() -> VisitorSummary:
    """A visitor's summary to the host (R-FOLLOW-6)."""
    return VisitorSummary(
        seen="Festival operations and a creative hub",
        learned="Temporary uses can test permanent ones",
        transfer="Pilot a temporary use of an empty palazzo",
        presented_to=("culture department",),
    )


def host_reflection() -> HostReflection:
    """Ideas the visitors gave the host (R-FOLLOW-7)."""
    return HostReflection(("Ask residents to curate one festival site",))


def visitors_report() -> VisitorsReport:
    """The visitors' short report (R-COMM-4)."""
    return VisitorsReport(
        "Strong public-private partnership", "Worth a pilot at home", ("pictures/hub.jpg",)
    )
