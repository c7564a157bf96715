"""Hypothesis strategies for mentorflow's records, deliverables, teams, visits and agendas.

Valid deliverable content passes ``content_problems``; ``invalid_content`` breaks exactly one
field so a test can check that the error names it. ``teams`` builds organisations, participants,
themes and visits that satisfy a method's ``TeamComposition`` and programme shape.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import pendulum
from hypothesis import strategies as st

from mentorflow.compiled import CompiledMethod
from mentorflow.deliverables import (
    CONTENT_TYPES,
    Action,
    ActionReview,
    ActionStatus,
    CostClass,
    DeliverableContent,
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
from mentorflow.model import (
    Agenda,
    AgendaSession,
    EngagementKind,
    Organisation,
    Participant,
    Role,
    RoleLabels,
    SessionKind,
    Side,
    Theme,
    Visit,
    VisitMode,
    VisitWindow,
)
from mentorflow.requirements import PrerequisitesClosed, ProgrammeShape
from mentorflow.verdicts import Finding, Severity, Verdict

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from mentorflow.events import EventBus
    from mentorflow.methods import Method

__all__ = [
    "Team",
    "actions",
    "agenda_sessions",
    "agendas",
    "complete_agendas",
    "dates",
    "deliverable_contents",
    "findings",
    "follow_up_reviews",
    "identifiers",
    "indicators",
    "instants",
    "invalid_content",
    "learning_points",
    "needs",
    "organisations",
    "participants",
    "recommendations",
    "role_labels",
    "teams",
    "texts",
    "themes",
    "valid_content",
    "verdicts",
    "visit_windows",
    "visits",
]

T = TypeVar("T")

#: Time zones the strategies draw from: the seeds' cities, and UTC.
ZONES = ("UTC", "Europe/Brussels", "Europe/Rome", "Europe/Lisbon", "Europe/Skopje", "Europe/London")
_EPOCH = pendulum.date(2017, 1, 1)
_FIRST_VISIT_DAY = pendulum.date(2018, 1, 1)


def identifiers() -> st.SearchStrategy[str]:
    """Short ids made of lower-case letters, digits and dashes."""
    return st.text("abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12).filter(
        lambda s: s.strip("-") != ""
    )


def texts(max_size: int = 40) -> st.SearchStrategy[str]:
    """Non-blank human text (what ``content_problems`` accepts for a required text field)."""
    alphabet = st.characters(codec="utf-8", exclude_categories=("Cs", "Cc"))
    return st.text(alphabet, min_size=1, max_size=max_size).filter(lambda s: s.strip() != "")


def _blank() -> st.SearchStrategy[str]:
    return st.sampled_from(("", " ", "\t", "  \n"))


def dates(
    min_value: dt.date = _EPOCH, max_value: dt.date | None = None
) -> st.SearchStrategy[pendulum.Date]:
    """Calendar days as ``pendulum.Date``, from 2017 on by default."""
    top = max_value or pendulum.date(2030, 12, 31)
    return st.dates(min_value, top).map(lambda d: pendulum.date(d.year, d.month, d.day))


def instants(
    min_value: dt.datetime | None = None, max_value: dt.datetime | None = None
) -> st.SearchStrategy[pendulum.DateTime]:
    """Time-zone aware instants as ``pendulum.DateTime``, in one of the seeds' zones."""
    low = (min_value or dt.datetime(2017, 1, 1)).replace(tzinfo=None)
    high = (max_value or dt.datetime(2030, 12, 31)).replace(tzinfo=None)
    naive = st.datetimes(low, high).map(lambda d: d.replace(microsecond=0))
    return st.builds(
        lambda d, zone: pendulum.instance(d, tz="UTC").in_timezone(zone),
        naive,
        st.sampled_from(ZONES),
    )


def _times() -> st.SearchStrategy[pendulum.Time]:
    return st.integers(7 * 4, 20 * 4).map(lambda q: pendulum.time(q // 4, (q % 4) * 15))


def organisations(id: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Organisation]:
    """A city or network with a real time zone."""
    return st.builds(
        Organisation,
        id=id if id is not None else identifiers(),
        name=texts(),
        country=st.sampled_from(("", "IT", "NL", "BE")),
        timezone=st.sampled_from(ZONES),
    )


def participants(
    organisation_id: st.SearchStrategy[str] | None = None,
    role: st.SearchStrategy[Role] | None = None,
) -> st.SearchStrategy[Participant]:
    """A participant in some role of some organisation."""
    return st.builds(
        Participant,
        id=identifiers(),
        name=texts(),
        role=role if role is not None else st.sampled_from(Role),
        organisation_id=organisation_id if organisation_id is not None else identifiers(),
    )


def themes() -> st.SearchStrategy[Theme]:
    """A mentoring theme or work-shadowing topic."""
    return st.builds(Theme, id=identifiers(), title=texts())


def role_labels() -> st.SearchStrategy[RoleLabels]:
    """A programme's words for its roles (R-ROLE-1)."""
    return st.builds(
        RoleLabels,
        mentor=texts(),
        mentee=texts(),
        facilitator=texts(),
        observer=texts(),
        stakeholder=texts(),
    )


def visit_windows(
    *, days: tuple[int, int] = (1, 5), tentative: bool | None = None, after: dt.date = _EPOCH
) -> st.SearchStrategy[VisitWindow]:
    """Visit dates lasting ``days`` (both ends included); tentative (TBC) or fixed as asked."""
    flags = st.booleans() if tentative is None else st.just(tentative)
    return st.builds(
        lambda start, length, flag: VisitWindow(start, start.add(days=length - 1), flag),
        dates(after, pendulum.date(after.year + 3, 12, 31)),
        st.integers(*days),
        flags,
    )


def visits(
    host: st.SearchStrategy[str] | None = None,
    visitors: st.SearchStrategy[tuple[str, ...]] | None = None,
    *,
    window: st.SearchStrategy[VisitWindow | None] | None = None,
    mode: st.SearchStrategy[VisitMode] | None = None,
    prepared: bool = True,
) -> st.SearchStrategy[Visit]:
    """A visit; ``prepared`` gives it the aim and outcome R-PROG-5 asks for."""
    text = texts() if prepared else st.one_of(texts(), _blank())
    return st.builds(
        Visit,
        id=identifiers(),
        host=host if host is not None else identifiers(),
        visitors=visitors
        if visitors is not None
        else st.lists(identifiers(), min_size=1, max_size=3, unique=True).map(tuple),
        mode=mode if mode is not None else st.sampled_from(VisitMode),
        window=window if window is not None else st.one_of(st.none(), visit_windows()),
        aim=text,
        expected_outcome=text,
        related_event=st.one_of(st.none(), texts()),
        title=st.one_of(st.just(""), texts()),
    )


def agenda_sessions(
    day: st.SearchStrategy[pendulum.Date] | None = None,
    kinds: st.SearchStrategy[frozenset[SessionKind]] | None = None,
) -> st.SearchStrategy[AgendaSession]:
    """One valid slot of an agenda: it ends after it starts and names an activity."""

    def build(d: pendulum.Date, start: pendulum.Time, minutes: int, **rest: Any) -> AgendaSession:
        end = start.add(minutes=minutes)
        return AgendaSession(day=d, start=start, end=end, **rest)

    return st.builds(
        build,
        day if day is not None else dates(),
        st.integers(7 * 4, 18 * 4).map(lambda q: pendulum.time(q // 4, (q % 4) * 15)),
        st.sampled_from((15, 30, 45, 60, 90, 120)),
        activity=texts(),
        who=st.lists(
            st.sampled_from(("all", "mentors", "host", "facilitator")), max_size=2, unique=True
        ).map(tuple),
        theme=st.one_of(st.none(), texts(20)),
        kinds=kinds
        if kinds is not None
        else st.frozensets(st.sampled_from(SessionKind), max_size=3),
        mode=st.sampled_from(VisitMode),
    )


def agendas(first_day: pendulum.Date | None = None, max_days: int = 4) -> st.SearchStrategy[Agenda]:
    """A valid agenda of one to ``max_days`` days with randomly tagged sessions."""
    start = st.just(first_day) if first_day is not None else dates()

    def days(d: pendulum.Date) -> st.SearchStrategy[Agenda]:
        day = st.integers(0, max_days - 1).map(lambda n: d.add(days=n))
        return st.lists(agenda_sessions(day), min_size=1, max_size=8).map(
            lambda s: Agenda(tuple(s))
        )

    return start.flatmap(days)


def complete_agendas(first_day: pendulum.Date | None = None) -> st.SearchStrategy[Agenda]:
    """An agenda whose final day has a session tagged with every ``SessionKind``: it meets any
    ``AgendaIncludes`` requirement of the built-in methods."""
    every = frozenset(SessionKind)

    def finish(agenda: Agenda) -> Agenda:
        last = agenda.days[-1]
        closing = AgendaSession(
            last,
            pendulum.time(19, 0),
            pendulum.time(20, 0),
            "Closing session",
            ("all",),
            None,
            every,
        )
        return Agenda((*agenda.sessions, closing))

    return agendas(first_day).map(finish)


def needs() -> st.SearchStrategy[Need]:
    """A need of a mentee city with a priority from 1 to 5."""
    return st.builds(Need, id=identifiers(), title=texts(), priority=st.integers(1, 5))


def recommendations() -> st.SearchStrategy[Recommendation]:
    """A no-cost or funded recommendation (R-FOLLOW-2)."""
    return st.builds(Recommendation, text=texts(), cost_class=st.sampled_from(CostClass))


def learning_points(side: Side | None = None) -> st.SearchStrategy[LearningPoint]:
    """A learning point of one side (R-ROLE-5)."""
    return st.builds(
        LearningPoint, side=st.just(side) if side else st.sampled_from(Side), text=texts()
    )


def indicators() -> st.SearchStrategy[Indicator]:
    """A monitoring indicator (R-FOLLOW-3)."""
    numbers = st.one_of(st.none(), st.floats(0, 1e6, allow_nan=False))
    return st.builds(
        Indicator,
        name=texts(),
        unit=st.sampled_from(("", "people", "%")),
        baseline=numbers,
        target=numbers,
    )


def actions(id: st.SearchStrategy[str] | None = None) -> st.SearchStrategy[Action]:
    """A roadmap action; a funded one names its funding (R-FOLLOW-4)."""

    def build(cost: CostClass, funding: str, **rest: Any) -> Action:
        return Action(cost_class=cost, funding=funding if cost is CostClass.FUNDED else "", **rest)

    few = st.lists(texts(20), max_size=2).map(tuple)
    return st.builds(
        build,
        st.sampled_from(CostClass),
        texts(),
        id=id if id is not None else identifiers(),
        title=texts(),
        horizon=st.sampled_from(Horizon),
        owner=texts(),
        milestones=few,
        indicators=few,
        due=st.one_of(st.none(), dates()),
    )


def _tuple(
    strategy: st.SearchStrategy[T], min_size: int = 1, max_size: int = 3
) -> st.SearchStrategy[tuple[T, ...]]:
    return st.lists(strategy, min_size=min_size, max_size=max_size).map(tuple)


def _roadmaps() -> st.SearchStrategy[LocalRoadmap]:
    both = st.tuples(learning_points(Side.MENTOR), learning_points(Side.MENTEE))
    unique_actions = st.lists(actions(), min_size=1, max_size=4, unique_by=lambda a: a.id).map(
        tuple
    )
    return st.builds(
        lambda pair, more, ind, acts: LocalRoadmap((*pair, *more), ind, acts),
        both,
        _tuple(learning_points(), 0, 2),
        _tuple(indicators()),
        unique_actions,
    )


def follow_up_reviews(roadmap: LocalRoadmap | None = None) -> st.SearchStrategy[FollowUpReview]:
    """A follow-up review; given a roadmap, it reviews every one of its actions (R-FOLLOW-8)."""

    def review(action_id: str) -> st.SearchStrategy[ActionReview]:
        return st.sampled_from(ActionStatus).flatmap(
            lambda status: st.builds(
                ActionReview,
                st.just(action_id),
                st.just(status),
                st.just("") if status is ActionStatus.IMPLEMENTED else texts(),
            )
        )

    if roadmap is not None and roadmap.actions:
        return st.tuples(*(review(a.id) for a in roadmap.actions)).map(FollowUpReview)
    return _tuple(identifiers().flatmap(review)).map(FollowUpReview)


_VALID: dict[str, Callable[[], st.SearchStrategy[Any]]] = {
    NeedsAssessment.kind: lambda: st.builds(
        NeedsAssessment, _tuple(needs()), _tuple(texts(), 0, 2)
    ),
    MentorsPaper.kind: lambda: st.builds(
        MentorsPaper, _tuple(texts()), _tuple(texts()), _tuple(texts(), 0, 2)
    ),
    LearningObjectives.kind: lambda: st.builds(
        LearningObjectives, _tuple(texts()), _tuple(texts()), st.integers(1, 8)
    ),
    VisitorQuestions.kind: lambda: st.builds(
        VisitorQuestions, _tuple(texts()), _tuple(texts(), 0, 2), _tuple(texts(), 0, 2)
    ),
    TravelGuide.kind: lambda: st.builds(TravelGuide, texts(), texts()),
    DraftAgenda.kind: lambda: st.builds(DraftAgenda, st.one_of(agendas(), complete_agendas())),
    LanguagePlan.kind: lambda: st.one_of(
        st.builds(LanguagePlan, st.sampled_from(("en", "fr")), st.just(True), st.booleans()),
        st.builds(LanguagePlan, st.sampled_from(("en", "fr")), st.booleans(), st.just(True)),
    ),
    VisitReport.kind: lambda: st.builds(VisitReport, texts(), texts(), _tuple(recommendations())),
    LocalRoadmap.kind: _roadmaps,
    VisitorSummary.kind: lambda: st.builds(
        VisitorSummary, texts(), texts(), texts(), _tuple(texts(), 0, 2)
    ),
    HostReflection.kind: lambda: st.builds(HostReflection, _tuple(texts())),
    VisitorsReport.kind: lambda: st.builds(VisitorsReport, texts(), texts(), _tuple(texts(), 0, 2)),
    RapporteurArticle.kind: lambda: st.builds(
        RapporteurArticle, texts(), texts(), _tuple(texts(), 0, 2)
    ),
    FollowUpReview.kind: follow_up_reviews,
}


def valid_content(kind: str) -> st.SearchStrategy[DeliverableContent]:
    """Content of deliverable ``kind`` that passes ``content_problems``."""
    try:
        return _VALID[kind]()
    except KeyError:
        raise ValueError(
            f"unknown deliverable kind {kind!r}; known: {', '.join(sorted(_VALID))}"
        ) from None


def deliverable_contents(
    kinds: Sequence[str] | None = None,
) -> st.SearchStrategy[DeliverableContent]:
    """Valid content of any of ``kinds`` (every kind by default)."""
    return st.one_of(*(valid_content(k) for k in (kinds or sorted(CONTENT_TYPES))))


def _agenda_breakers(content: DraftAgenda) -> list[tuple[str, DeliverableContent]]:
    first = content.agenda.sessions[0]
    backwards = attrs.evolve(first, end=first.start)
    blank = attrs.evolve(first, activity=" ")
    rest = content.agenda.sessions[1:]
    return [
        ("$.agenda.sessions", DraftAgenda(Agenda())),
        ("$.agenda.sessions[0].end", DraftAgenda(Agenda((backwards, *rest)))),
        ("$.agenda.sessions[0].activity", DraftAgenda(Agenda((blank, *rest)))),
    ]


def _breakers(content: Any) -> list[tuple[str, DeliverableContent]]:
    """Every one-field way to spoil valid ``content``, with the ``$.path`` that must name it."""
    evolve = attrs.evolve
    kind = content.kind
    if kind == DraftAgenda.kind:
        return _agenda_breakers(content)
    if kind == NeedsAssessment.kind:
        need = content.needs[0]
        return [
            ("$.needs", evolve(content, needs=())),
            (
                "$.needs[0].title",
                evolve(content, needs=(evolve(need, title=" "), *content.needs[1:])),
            ),
            (
                "$.needs[0].priority",
                evolve(content, needs=(evolve(need, priority=9), *content.needs[1:])),
            ),
        ]
    if kind == LanguagePlan.kind:
        return [
            ("$.working_language", evolve(content, working_language="")),
            (
                "$.translation_budgeted",
                evolve(content, all_fluent=False, translation_budgeted=False),
            ),
        ]
    if kind == LearningObjectives.kind:
        return [
            ("$.pages", evolve(content, pages=0)),
            ("$.challenges", evolve(content, challenges=())),
            ("$.objectives[0]", evolve(content, objectives=(" ",))),
        ]
    if kind == LocalRoadmap.kind:
        action = content.actions[0]
        mentee_only = tuple(p for p in content.learning_points if p.side is Side.MENTEE)
        return [
            ("$.learning_points", evolve(content, learning_points=mentee_only)),
            ("$.indicators", evolve(content, indicators=())),
            ("$.actions", evolve(content, actions=())),
            ("$.actions[1].id", evolve(content, actions=(action, action))),
            (
                "$.actions[0].funding",
                evolve(
                    content,
                    actions=(
                        evolve(action, cost_class=CostClass.FUNDED, funding=""),
                        *content.actions[1:],
                    ),
                ),
            ),
            (
                "$.actions[0].owner",
                evolve(content, actions=(evolve(action, owner=""), *content.actions[1:])),
            ),
        ]
    if kind == FollowUpReview.kind:
        first = content.reviews[0]
        dropped = evolve(first, status=ActionStatus.DROPPED, reason=" ")
        return [
            ("$.reviews", evolve(content, reviews=())),
            ("$.reviews[0].reason", evolve(content, reviews=(dropped, *content.reviews[1:]))),
        ]
    if kind == VisitReport.kind:
        return [
            ("$.needs_identified", evolve(content, needs_identified="")),
            ("$.transferability", evolve(content, transferability=" ")),
            ("$.recommendations", evolve(content, recommendations=())),
            (
                "$.recommendations[0].text",
                evolve(
                    content,
                    recommendations=(
                        evolve(content.recommendations[0], text=""),
                        *content.recommendations[1:],
                    ),
                ),
            ),
        ]
    # The remaining kinds hold required texts and required lists of texts only.
    spoiled: list[tuple[str, DeliverableContent]] = []
    for field in attrs.fields(type(content)):
        value = getattr(content, field.name)
        if isinstance(value, str) and value.strip() and field.default is attrs.NOTHING:
            spoiled.append((f"$.{field.name}", evolve(content, **{field.name: " "})))
        elif isinstance(value, tuple) and field.default is attrs.NOTHING:
            spoiled.append((f"$.{field.name}", evolve(content, **{field.name: ()})))
    return spoiled


def invalid_content(kind: str) -> st.SearchStrategy[tuple[str, DeliverableContent]]:
    """``($.path, content)``: content of ``kind`` spoiled in one field, and the path naming it."""
    return valid_content(kind).flatmap(lambda content: st.sampled_from(_breakers(content)))


def findings(severity: Severity | None = None) -> st.SearchStrategy[Finding]:
    """One finding of a verdict, hard or soft."""
    return st.builds(
        Finding,
        rule=st.sampled_from(("R-PREP-1", "R-PREP-2", "R-VISIT-1", "MF-ROLE")),
        message=texts(),
        severity=st.just(severity) if severity else st.sampled_from(Severity),
        deliverable=st.one_of(st.none(), st.sampled_from(sorted(CONTENT_TYPES))),
        owed_by=st.one_of(st.none(), texts(20)),
        due=st.one_of(st.none(), instants()),
        visit_id=st.one_of(st.none(), identifiers()),
    )


def verdicts() -> st.SearchStrategy[Verdict]:
    """A verdict on some trigger, allowed or refused."""
    return st.builds(
        Verdict,
        action=identifiers(),
        engagement_id=identifiers(),
        phase=identifiers(),
        target=st.one_of(st.none(), identifiers()),
        unmet=_tuple(findings(Severity.HARD), 0, 3),
        warnings=_tuple(findings(Severity.SOFT), 0, 3),
    )


# -- teams ------------------------------------------------------------------------------------


@attrs.frozen
class Team:
    """Everything needed to start an engagement on a method: who takes part, themes, visits."""

    organisations: tuple[Organisation, ...]
    participants: tuple[Participant, ...]
    themes: tuple[Theme, ...]
    visits: tuple[Visit, ...]
    prerequisites: tuple[str, ...] = ()

    @property
    def facilitator(self) -> str:
        """The id of the first facilitator."""
        return next(p.id for p in self.participants if p.role is Role.FACILITATOR)

    def with_role(self, role: Role) -> tuple[Participant, ...]:
        """The participants holding ``role``."""
        return tuple(p for p in self.participants if p.role is role)

    def organisations_with(self, role: Role) -> tuple[str, ...]:
        """Ids of organisations with a participant in ``role``, in first-seen order."""
        return tuple(dict.fromkeys(p.organisation_id for p in self.with_role(role)))

    def start(
        self,
        method: CompiledMethod,
        *,
        at: dt.datetime,
        id: str = "engagement-1",
        title: str = "Generated engagement",
        bus: EventBus | None = None,
    ) -> Engagement:
        """Start an engagement on ``method`` with this team, created by the facilitator."""
        return Engagement.start(
            method,
            id=id,
            title=title,
            organisations=self.organisations,
            participants=self.participants,
            actor=self.facilitator,
            at=at,
            themes=self.themes,
            visits=self.visits,
            prerequisites=self.prerequisites,
            bus=bus,
        )


def _the_method(method: Method | CompiledMethod) -> Method:
    return method.method if isinstance(method, CompiledMethod) else method


def _shape(method: Method) -> ProgrammeShape | None:
    return next(
        (r for t in method.triggers for r in t.requirements if isinstance(r, ProgrammeShape)), None
    )


def _has_prerequisites(method: Method) -> bool:
    return any(isinstance(r, PrerequisitesClosed) for t in method.triggers for r in t.requirements)


@st.composite
def teams(
    draw: st.DrawFn,
    method: Method | CompiledMethod,
    *,
    first_day: dt.date = _FIRST_VISIT_DAY,
    observers: bool = True,
    tentative: bool | None = False,
) -> Team:
    """A team that satisfies ``method``'s ``TeamComposition``, themes cap and programme shape.

    Visits start on or after ``first_day``; ``tentative=None`` lets some dates be TBC.
    """
    m = _the_method(method)
    params = m.parameters
    n_mentors = draw(st.integers(1, params.max_mentor_cities))
    n_mentees = draw(st.integers(1, 3 if m.kind is EngagementKind.WORK_SHADOWING else 1))
    orgs: list[Organisation] = []
    people: list[Participant] = []

    def city(prefix: str, number: int, role: Role, reps: tuple[int, int]) -> str:
        org_id = f"{prefix}{number}"
        orgs.append(draw(organisations(st.just(org_id))))
        count = draw(st.integers(max(reps[0], 1), min(reps[1], max(reps[0], 1) + 2)))
        for n in range(1, count + 1):
            people.append(
                Participant(f"{org_id}-{n}", f"{org_id} representative {n}", role, org_id)
            )
        return org_id

    mentor_orgs = [
        city("mentor", i, Role.MENTOR, params.reps_per_mentor_city) for i in range(1, n_mentors + 1)
    ]
    mentee_orgs = [
        city("mentee", i, Role.MENTEE, params.reps_per_mentee_city) for i in range(1, n_mentees + 1)
    ]
    city("facilitator", 1, Role.FACILITATOR, (1, 1))
    if observers and Role.OBSERVER in m.roles and draw(st.booleans()):
        city("observer", 1, Role.OBSERVER, (1, 1))
    chosen = draw(
        st.lists(themes(), min_size=1, max_size=params.max_themes, unique_by=lambda t: t.id)
    )
    low, high = params.visit_days
    side = {Role.MENTOR: mentor_orgs, Role.MENTEE: mentee_orgs}
    shape = _shape(m)
    if shape is not None:
        slots = [(slot.host, slot.mode) for slot in shape.slots]
    else:
        # Mentoring visits go to the mentee city; work-shadowing and study visits to the host.
        usual = Role.MENTEE if m.kind is EngagementKind.MENTORING else Role.MENTOR
        several = any(t.name == "finish_programme" for t in m.triggers)
        count = draw(st.integers(1, 3)) if several else 1
        hosts = (
            st.sampled_from((usual, usual, Role.MENTOR, Role.MENTEE)) if several else st.just(usual)
        )
        modes = st.sampled_from((VisitMode.IN_PERSON, VisitMode.IN_PERSON, VisitMode.ONLINE))
        slots = [(draw(hosts), draw(modes)) for _ in range(count)]
    day = pendulum.date(first_day.year, first_day.month, first_day.day)
    flags = st.booleans() if tentative is None else st.just(tentative)
    planned: list[Visit] = []
    for number, (host_role, mode) in enumerate(slots, start=1):
        host = draw(st.sampled_from(side[host_role]))
        other = side[Role.MENTEE if host_role is Role.MENTOR else Role.MENTOR]
        start = day.add(days=(number - 1) * 60 + draw(st.integers(0, 30)))
        length = draw(st.integers(max(low, 1), max(high, 1)))
        planned.append(
            Visit(
                id=f"visit-{number}",
                host=host,
                visitors=(*other, "facilitator1"),
                mode=mode,
                window=VisitWindow(start, start.add(days=length - 1), draw(flags)),
                aim=draw(texts()),
                expected_outcome=draw(texts()),
                title=f"Visit {number}",
            )
        )
    prerequisites = ("prerequisite-1",) if _has_prerequisites(m) else ()
    return Team(tuple(orgs), tuple(people), tuple(chosen), tuple(planned), prerequisites)
