"""Typed deliverables: what each document holds, and the checks its content must pass."""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable
from typing import ClassVar, TypeAlias

import attrs
import pendulum

from mentorflow.exceptions import InvalidDeliverable, Problem
from mentorflow.model import Agenda, Side

__all__ = [
    "CONTENT_TYPES",
    "Action",
    "ActionReview",
    "ActionStatus",
    "CostClass",
    "DeliverableContent",
    "DraftAgenda",
    "FollowUpReview",
    "Horizon",
    "HostReflection",
    "Indicator",
    "LanguagePlan",
    "LearningObjectives",
    "LearningPoint",
    "LocalRoadmap",
    "MentorsPaper",
    "Need",
    "NeedsAssessment",
    "Passage",
    "PracticeRef",
    "RapporteurArticle",
    "Recommendation",
    "TravelGuide",
    "VisitReport",
    "VisitorQuestions",
    "VisitorSummary",
    "VisitorsReport",
    "content_problems",
]


class CostClass(enum.StrEnum):
    """Whether an action or recommendation costs nothing or needs funding (R-FOLLOW-2)."""

    NO_COST = "no_cost"
    FUNDED = "funded"


class Horizon(enum.StrEnum):
    """When a roadmap goal is due (R-FOLLOW-4)."""

    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


class ActionStatus(enum.StrEnum):
    """Where a roadmap action stands at the follow-up review (R-FOLLOW-8)."""

    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    IMPLEMENTED = "implemented"
    DROPPED = "dropped"


def _text(path: str, value: str) -> Iterable[Problem]:
    if not value.strip():
        yield Problem(path, "must not be empty")


def _some(path: str, values: tuple[object, ...], what: str) -> Iterable[Problem]:
    if not values:
        yield Problem(path, f"needs at least one {what}")


def _texts(path: str, values: tuple[str, ...], what: str) -> Iterable[Problem]:
    yield from _some(path, values, what)
    for i, value in enumerate(values):
        yield from _text(f"{path}[{i}]", value)


@attrs.frozen
class Passage:
    """A passage of free text; ``topic`` files it under a heading; ``internal`` keeps it unpublished.

    Internal passages appear only in the internal version of a document (R-FOLLOW-5).
    """

    text: str
    internal: bool = False
    topic: str = ""


@attrs.frozen
class PracticeRef:
    """A mentor city's practice that inspired an action (Burgas took London's lamppost charging)."""

    city_id: str
    practice: str


@attrs.frozen
class Need:
    """A need or barrier of a mentee city, with its priority (1 = highest)."""

    id: str
    title: str
    priority: int = 3


@attrs.frozen
class NeedsAssessment:
    """The survey each mentee city fills before the mentors write their paper (R-PREP-1)."""

    kind: ClassVar[str] = "needs_assessment"
    needs: tuple[Need, ...]
    barriers: tuple[str, ...] = ()

    def problems(self) -> Iterable[Problem]:
        """Every way the content falls short."""
        yield from _some("$.needs", self.needs, "need")
        for i, need in enumerate(self.needs):
            yield from _text(f"$.needs[{i}].title", need.title)
            if not 1 <= need.priority <= 5:
                yield Problem(f"$.needs[{i}].priority", "must be between 1 and 5")


@attrs.frozen
class MentorsPaper:
    """The mentor team's short paper: key needs, priorities and hypotheses (R-PREP-2)."""

    kind: ClassVar[str] = "mentors_paper"
    key_needs: tuple[str, ...]
    hypotheses: tuple[str, ...]
    priorities: tuple[str, ...] = ()
    passages: tuple[Passage, ...] = ()
    internal_fields: frozenset[str] = frozenset()

    def problems(self) -> Iterable[Problem]:
        """Every way the content falls short."""
        yield from _texts("$.key_needs", self.key_needs, "key need")
        yield from _texts("$.hypotheses", self.hypotheses, "hypothesis")


@attrs.frozen
class LearningObjectives:
    """Work-shadowing visitors' document on local challenges and learning objectives (R-PREP-3)."""

    kind: ClassVar[str] = "learning_objectives"
    challenges: tuple[str, ...]
    objectives: tuple[str, ...]
    pages: int

    def problems(self) -> Iterable[Problem]:
        """Every way the content falls short; the 2-4 page bound is a soft rule, checked elsewhere."""
        yield from _texts("$.challenges", self.challenges, "challenge")
        yield from _texts("$.objectives", self.objectives, "objective")
        if self.pages < 1:
            yield Problem("$.pages", "must be at least 1")


@attrs.frozen
class VisitorQuestions:
    """Questions the visitors prepared, and the stakeholders and sites they ask to see (R-PREP-5)."""

    kind: ClassVar[str] = "visitor_questions"
    questions: tuple[str, ...]
    stakeholders: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()

    def problems(self) -> Iterable[Problem]:
        """Every way the content falls short."""
        yield from _texts("$.questions", self.questions, "question")


@attrs.frozen
class TravelGuide:
    """The host's travel and accommodation guide (R-PREP-4)."""

    kind: ClassVar[str] = "travel_guide"
    travel: str
    accommodation: str

    def problems(self) -> Iterable[Problem]:
        """Every way the content falls short."""
        yield from _text("$.travel", self.travel)
        yield from _text("$.accommodation", self.accommodation)


@attrs.frozen
class DraftAgenda:
    """The visit agenda the host drafts and both sides approve (R-PREP-4, R-PREP-6)."""

    kind: ClassVar[str] = "agenda"
    agenda: Agenda

    def problems(self) -> Iterable[Problem]:
        """Every way the content falls short."""
        yield from _some("$.agenda.sessions", self.agenda.sessions, "session")
        for i, session in enumerate(self.agenda.sessions):
            yield from _text(f"$.agenda.sessions[{i}].activity", session.activity)
            if session.end <= session.start:
                yield Problem(f"$.agenda.sessions[{i}].end", "must be after the session's start")


@attrs.frozen
class LanguagePlan:
    """How participants will understand each other: English, or budgeted translation (R-PREP-7)."""

    kind: ClassVar[str] = "language_plan"
    working_language: str = "en"
    all_fluent: bool = False
    translation_budgeted: bool = False

    def problems(self) -> Iterable[Problem]:
        """Every way the content falls short."""
        yield from _text("$.working_language", self.working_language)
        if not (self.all_fluent or self.translation_budgeted):
            yield Problem(
                "$.translation_budgeted",
                "participants are not all fluent, so translation must be budgeted",
            )


@attrs.frozen
class Recommendation:
    """A recommendation of a visit report, classed no-cost or funded (R-FOLLOW-2)."""

    text: str
    cost_class: CostClass
    internal: bool = False


@attrs.frozen
class VisitReport:
    """Mentoring visit report by mentors and facilitator, in three sections (R-FOLLOW-1)."""

    kind: ClassVar[str] = "visit_report"
    needs_identified: str
    transferability: str
    recommendations: tuple[Recommendation, ...]
    passages: tuple[Passage, ...] = ()
    internal_fields: frozenset[str] = frozenset()

    def problems(self) -> Iterable[Problem]:
        """Every way the content falls short."""
        yield from _text("$.needs_identified", self.needs_identified)
        yield from _text("$.transferability", self.transferability)
        yield from _some("$.recommendations", self.recommendations, "recommendation")
        for i, rec in enumerate(self.recommendations):
            yield from _text(f"$.recommendations[{i}].text", rec.text)


@attrs.frozen
class LearningPoint:
    """A key learning point, and the side that learned it (R-ROLE-5)."""

    side: Side
    text: str
    internal: bool = False


def _finite(_: object, attribute: attrs.Attribute[float | None], value: float | None) -> None:
    # NaN and infinity have no JSON form; refusing them here keeps every record writable.
    if value is not None and not math.isfinite(value):
        raise InvalidDeliverable(
            "Indicator", [Problem(f"$.{attribute.name}", f"must be a finite number, got {value}")]
        )


@attrs.frozen
class Indicator:
    """A monitoring indicator with its baseline and target (R-FOLLOW-3)."""

    name: str
    unit: str = ""
    baseline: float | None = attrs.field(default=None, validator=_finite)
    target: float | None = attrs.field(default=None, validator=_finite)
    internal: bool = False
    internal_fields: frozenset[str] = frozenset()


@attrs.frozen
class Action:
    """One action of a local roadmap's action plan (R-FOLLOW-4; URBACT/Interreg shape)."""

    id: str
    title: str
    horizon: Horizon
    cost_class: CostClass
    owner: str
    funding: str = ""
    objective: str = ""
    expected_result: str = ""
    milestones: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    indicators: tuple[str, ...] = ()
    stakeholders: tuple[str, ...] = ()
    due: pendulum.Date | None = None
    risk: str = ""
    internal: bool = False
    internal_fields: frozenset[str] = frozenset()
    inspired_by: tuple[PracticeRef, ...] = ()


@attrs.frozen
class LocalRoadmap:
    """The mentee city's roadmap: learning points, monitoring, action plan (R-FOLLOW-3/4)."""

    kind: ClassVar[str] = "roadmap"
    learning_points: tuple[LearningPoint, ...]
    indicators: tuple[Indicator, ...]
    actions: tuple[Action, ...]
    passages: tuple[Passage, ...] = ()
    internal_fields: frozenset[str] = frozenset()

    def problems(self) -> Iterable[Problem]:
        """Every way the content falls short."""
        sides = {p.side for p in self.learning_points}
        for side in Side:
            if side not in sides:
                yield Problem("$.learning_points", f"needs a learning point of the {side} side")
        yield from _some("$.indicators", self.indicators, "indicator")
        yield from _some("$.actions", self.actions, "action")
        seen: set[str] = set()
        for i, action in enumerate(self.actions):
            where = f"$.actions[{i}]"
            yield from _text(f"{where}.title", action.title)
            yield from _text(f"{where}.owner", action.owner)
            if action.id in seen:
                yield Problem(f"{where}.id", f"duplicate action id {action.id!r}")
            seen.add(action.id)
            if action.cost_class is CostClass.FUNDED and not action.funding.strip():
                yield Problem(f"{where}.funding", "a funded action must name its funding")


@attrs.frozen
class VisitorSummary:
    """A work-shadowing visitor's summary to the host: seen, learned, transferable (R-FOLLOW-6)."""

    kind: ClassVar[str] = "visitor_summary"
    seen: str
    learned: str
    transfer: str
    presented_to: tuple[str, ...] = ()
    passages: tuple[Passage, ...] = ()
    internal_fields: frozenset[str] = frozenset()

    def problems(self) -> Iterable[Problem]:
        """Every way the content falls short."""
        yield from _text("$.seen", self.seen)
        yield from _text("$.learned", self.learned)
        yield from _text("$.transfer", self.transfer)


@attrs.frozen
class HostReflection:
    """Ideas the visitors provoked on the host's side (R-FOLLOW-7)."""

    kind: ClassVar[str] = "host_reflection"
    ideas: tuple[str, ...]

    def problems(self) -> Iterable[Problem]:
        """Every way the content falls short."""
        yield from _texts("$.ideas", self.ideas, "idea")


@attrs.frozen
class VisitorsReport:
    """The visitors' short report: observations, conclusions, notes and pictures (R-COMM-4)."""

    kind: ClassVar[str] = "visitors_report"
    observations: str
    conclusions: str
    pictures: tuple[str, ...] = ()

    def problems(self) -> Iterable[Problem]:
        """Every way the content falls short."""
        yield from _text("$.observations", self.observations)
        yield from _text("$.conclusions", self.conclusions)


@attrs.frozen
class RapporteurArticle:
    """The facilitator's short article on a visit, for the web and social media (R-COMM-1)."""

    kind: ClassVar[str] = "article"
    title: str
    body: str
    channels: tuple[str, ...] = ()

    def problems(self) -> Iterable[Problem]:
        """Every way the content falls short."""
        yield from _text("$.title", self.title)
        yield from _text("$.body", self.body)


@attrs.frozen
class ActionReview:
    """The status of one roadmap action at the follow-up review; a reason if not implemented."""

    action_id: str
    status: ActionStatus
    reason: str = ""


@attrs.frozen
class FollowUpReview:
    """The follow-up visit's review of every roadmap action (R-FOLLOW-8, R-PROG-8)."""

    kind: ClassVar[str] = "follow_up_review"
    reviews: tuple[ActionReview, ...]

    def problems(self) -> Iterable[Problem]:
        """Every way the content falls short."""
        yield from _some("$.reviews", self.reviews, "action review")
        for i, review in enumerate(self.reviews):
            if review.status is not ActionStatus.IMPLEMENTED and not review.reason.strip():
                yield Problem(f"$.reviews[{i}].reason", "an action not implemented needs a reason")


DeliverableContent: TypeAlias = (
    NeedsAssessment
    | MentorsPaper
    | LearningObjectives
    | VisitorQuestions
    | TravelGuide
    | DraftAgenda
    | LanguagePlan
    | VisitReport
    | LocalRoadmap
    | VisitorSummary
    | HostReflection
    | VisitorsReport
    | RapporteurArticle
    | FollowUpReview
)

#: Content class by deliverable kind, for methods and documents that name kinds as text.
CONTENT_TYPES: dict[str, type[DeliverableContent]] = {
    cls.kind: cls
    for cls in (
        NeedsAssessment,
        MentorsPaper,
        LearningObjectives,
        VisitorQuestions,
        TravelGuide,
        DraftAgenda,
        LanguagePlan,
        VisitReport,
        LocalRoadmap,
        VisitorSummary,
        HostReflection,
        VisitorsReport,
        RapporteurArticle,
        FollowUpReview,
    )
}


def content_problems(content: DeliverableContent) -> tuple[Problem, ...]:
    """Every hard problem with a deliverable's content, each with its ``$.path``."""
    return tuple(content.problems())
