"""Requirements that gate triggers, and their evaluation into findings for a verdict."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, ClassVar, TypeAlias

import attrs
import pendulum

from mentorflow.deliverables import FollowUpReview, LearningObjectives, LocalRoadmap
from mentorflow.model import Agenda, Party, Role, SessionKind, Visit, VisitMode
from mentorflow.state import DeliverableRecord, DeliverableStatus, EngagementState
from mentorflow.verdicts import Finding, Severity

if TYPE_CHECKING:
    from mentorflow.methods import DeliverableSpec, Method

__all__ = [
    "ActionsReviewed",
    "AgendaIncludes",
    "Anchor",
    "Approved",
    "Context",
    "Delivered",
    "Due",
    "InPersonVisit",
    "LeadTime",
    "MaxThemes",
    "NextVisitPlanned",
    "NoVisitsLeft",
    "PageCount",
    "PrerequisitesClosed",
    "ProgrammeShape",
    "Requirement",
    "TeamComposition",
    "ThemesDefined",
    "TimeSinceFirstVisit",
    "VisitDatesFixed",
    "VisitLength",
    "VisitPrepared",
    "VisitSlot",
]


class Anchor(enum.StrEnum):
    """The domain date a deadline is measured from."""

    VISIT_START = "visit_start"
    VISIT_END = "visit_end"
    FIRST_VISIT_END = "first_visit_end"


@attrs.frozen
class Due:
    """A deadline relative to a visit: ``months``/``days`` after the anchor (negative: before)."""

    anchor: Anchor = Anchor.VISIT_START
    months: int = 0
    days: int = 0

    def resolve(
        self, state: EngagementState, visit: Visit | None = None
    ) -> pendulum.DateTime | None:
        """The absolute instant in the host city's time zone; None while dates are tentative.

        The anchor is the visit at hand, or ``visit`` when given (the schedule resolves the
        deadlines of every planned visit, not only the current one).
        """
        if self.anchor is Anchor.FIRST_VISIT_END:
            visit = state.visits[0] if state.visits else None
        elif visit is None:
            visit = state.visit
        if visit is None or visit.window is None or visit.window.tentative:
            return None
        host = state.organisation(visit.host)
        zone = host.timezone if host is not None else "UTC"
        if self.anchor is Anchor.VISIT_START:
            return local_deadline(visit.window.start, zone, self.months, self.days, 0)
        # The end of the visit's last day is the next local midnight.
        return local_deadline(visit.window.end, zone, self.months, self.days, 1)


@functools.lru_cache(maxsize=4096)
def local_deadline(
    day: pendulum.Date, zone: str, months: int, days: int, extra_days: int
) -> pendulum.DateTime:
    """Local midnight of ``day`` shifted by months and days, in ``zone`` (cached: it is pure)."""
    base = pendulum.datetime(day.year, day.month, day.day, tz=_zone(zone))
    return base.add(months=months, days=days + extra_days)


@functools.lru_cache(maxsize=512)
def _zone(name: str) -> pendulum.Timezone:
    return pendulum.timezone(name)


class Context:
    """What a requirement may look at: the snapshot, the method, the time and related engagements."""

    __slots__ = ("_kinds", "at", "method", "related", "specs", "state", "visit")

    def __init__(
        self,
        state: EngagementState,
        method: Method,
        at: pendulum.DateTime,
        related: Mapping[str, str],
    ) -> None:
        self.state = state
        self.method = method
        self.specs = method.deliverable_specs
        self.at = at
        self.related = related
        self.visit = state.visit
        self._kinds: dict[bool, frozenset[SessionKind]] = {}

    def spec(self, kind: str) -> DeliverableSpec:
        """The method's declaration of a deliverable kind."""
        return self.specs[kind]

    def record(self, kind: str) -> DeliverableRecord | None:
        """The latest record of ``kind`` for the visit at hand (or the engagement)."""
        if self.specs[kind].per_visit:
            visit = self.visit
            return self.state.deliverables.get(f"{kind}@{visit.id}") if visit is not None else None
        return self.state.deliverables.get(kind)

    def agenda_kinds(self, agenda: Agenda, final_day: bool) -> frozenset[SessionKind]:
        """The session tags present in ``agenda`` (on its last day only, if asked); computed once."""
        found = self._kinds.get(final_day)
        if found is None:
            sessions = agenda.sessions
            if final_day and sessions:
                last = max(s.day for s in sessions)
                sessions = tuple(s for s in sessions if s.day == last)
            found = self._kinds[final_day] = frozenset(k for s in sessions for k in s.kinds)
        return found

    def describe(self, party: Party) -> str:
        """A party as a person reads it: the programme's label and, for a visit side, the city."""
        labels = self.method.labels
        visit = self.state.visit
        if party is Party.HOST and visit is not None:
            return f"host ({_org_name(self.state, visit.host)})"
        if party is Party.VISITORS and visit is not None:
            names = ", ".join(_org_name(self.state, o) for o in visit.visitors)
            return f"visitors ({names})"
        if party.value in Role.__members__.values():
            return labels.label(Role(party.value))
        return party.value

    def missing(
        self, rule: str, severity: Severity, kind: str, message: str, due: Due | None
    ) -> Finding:
        """A finding about deliverable ``kind``, naming its owner and due date."""
        spec = self.spec(kind)
        visit = self.state.visit
        return Finding(
            rule=rule,
            message=message,
            severity=severity,
            deliverable=kind,
            owed_by=self.describe(spec.owner),
            due=due.resolve(self.state) if due is not None else None,
            visit_id=visit.id if visit is not None and spec.per_visit else None,
        )


def _org_name(state: EngagementState, organisation_id: str) -> str:
    org = state.organisation(organisation_id)
    return org.name if org is not None else organisation_id


@attrs.frozen
class Delivered:
    """The deliverable has been submitted (any version, any approval state)."""

    type: ClassVar[str] = "delivered"
    deliverable: str
    rule: str
    severity: Severity = Severity.HARD
    due: Due | None = None

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        if ctx.record(self.deliverable) is None:
            label = ctx.spec(self.deliverable).title
            yield ctx.missing(
                self.rule, self.severity, self.deliverable, f"{label} not submitted", self.due
            )


@attrs.frozen
class Approved:
    """The deliverable's latest version is approved by every approving party (and shared first)."""

    type: ClassVar[str] = "approved"
    deliverable: str
    rule: str
    severity: Severity = Severity.HARD
    due: Due | None = None

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        record = ctx.record(self.deliverable)
        spec = ctx.spec(self.deliverable)
        if record is None:
            message = f"{spec.title} not submitted"
        elif record.status is DeliverableStatus.APPROVED:
            return
        elif spec.shared_first and record.status is DeliverableStatus.SUBMITTED:
            message = f"{spec.title} is a draft that has not been shared for comments"
        else:
            waiting = [ctx.describe(p) for p in spec.approvers if not record.approved_by(p)]
            message = f"{spec.title} awaits approval by {', '.join(waiting)}"
        yield ctx.missing(self.rule, self.severity, self.deliverable, message, self.due)


@attrs.frozen
class VisitPrepared:
    """The visit at hand has a precise aim and an anticipated outcome (R-PROG-5)."""

    type: ClassVar[str] = "visit_prepared"
    rule: str = "R-PROG-5"
    severity: Severity = Severity.HARD

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        visit = ctx.visit
        if visit is None:
            yield Finding(self.rule, "no visit is planned", self.severity)
            return
        if not visit.aim.strip():
            yield Finding(
                self.rule, f"visit {visit.id} has no aim", self.severity, visit_id=visit.id
            )
        if not visit.expected_outcome.strip():
            yield Finding(
                self.rule,
                f"visit {visit.id} has no expected outcome",
                self.severity,
                visit_id=visit.id,
            )


@attrs.frozen
class VisitDatesFixed:
    """The visit at hand has dates, and they are no longer tentative (R-PROG-7)."""

    type: ClassVar[str] = "visit_dates_fixed"
    rule: str = "R-PROG-7"
    severity: Severity = Severity.HARD

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        visit = ctx.visit
        if visit is None:
            yield Finding(self.rule, "no visit is planned", self.severity)
        elif visit.window is None:
            yield Finding(
                self.rule, f"visit {visit.id} has no dates", self.severity, visit_id=visit.id
            )
        elif visit.window.tentative:
            yield Finding(
                self.rule,
                f"visit {visit.id} dates are still tentative (TBC)",
                self.severity,
                visit_id=visit.id,
            )


def _agenda_of(ctx: Context) -> tuple[Visit | None, DeliverableRecord | None]:
    return ctx.visit, ctx.record("agenda") if "agenda" in ctx.specs else None


@attrs.frozen
class AgendaIncludes:
    """The visit's agenda has sessions tagged with each kind (R-VISIT-3, -6, -7, -8, R-PROG-4)."""

    type: ClassVar[str] = "agenda_includes"
    kinds: tuple[SessionKind, ...]
    rule: str
    severity: Severity = Severity.HARD
    final_day: bool = False

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        visit, record = _agenda_of(ctx)
        if record is None:
            yield Finding(
                self.rule,
                "the visit has no agenda yet",
                self.severity,
                deliverable="agenda",
                visit_id=visit.id if visit else None,
            )
            return
        agenda = record.content.agenda  # type: ignore[union-attr]  # the "agenda" kind is a DraftAgenda
        present = ctx.agenda_kinds(agenda, self.final_day)
        where = "on the final day" if self.final_day else "in the agenda"
        for kind in self.kinds:
            if kind not in present:
                yield Finding(
                    self.rule,
                    f"no {kind.value.replace('_', ' ')} session {where}",
                    self.severity,
                    deliverable="agenda",
                    visit_id=visit.id if visit else None,
                )


@attrs.frozen
class VisitLength:
    """The visit lasts between the method's minimum and maximum days (R-VISIT-1, soft)."""

    type: ClassVar[str] = "visit_length"
    rule: str = "R-VISIT-1"
    severity: Severity = Severity.SOFT

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        visit = ctx.visit
        if visit is None or visit.window is None:
            return
        low, high = ctx.method.parameters.visit_days
        if not low <= visit.window.days <= high:
            yield Finding(
                self.rule,
                f"visit {visit.id} lasts {visit.window.days} days; the method expects {low} to {high}",
                self.severity,
                visit_id=visit.id,
            )


@attrs.frozen
class ThemesDefined:
    """At least one theme or topic is set (R-MATCH-6)."""

    type: ClassVar[str] = "themes_defined"
    rule: str = "R-MATCH-6"
    severity: Severity = Severity.HARD

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        if not ctx.state.themes:
            yield Finding(self.rule, "no theme or topic has been defined", self.severity)


@attrs.frozen
class MaxThemes:
    """No more themes than the method allows per visit (R-VISIT-2: two)."""

    type: ClassVar[str] = "max_themes"
    rule: str = "R-VISIT-2"
    severity: Severity = Severity.HARD

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        cap = ctx.method.parameters.max_themes
        if len(ctx.state.themes) > cap:
            yield Finding(
                self.rule, f"{len(ctx.state.themes)} themes; at most {cap} per visit", self.severity
            )


@attrs.frozen
class InPersonVisit:
    """Some visit of the programme is in person; all-online weakens trust (R-PROG-6, soft)."""

    type: ClassVar[str] = "in_person_visit"
    rule: str = "R-PROG-6"
    severity: Severity = Severity.SOFT

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        if ctx.state.visits and all(v.mode is VisitMode.ONLINE for v in ctx.state.visits):
            yield Finding(
                self.rule, "every visit is online; trust is harder to build", self.severity
            )


@attrs.frozen
class TeamComposition:
    """Cities and representatives per side fit the method (R-MATCH-2, -4, -5; R-ROLE-2)."""

    type: ClassVar[str] = "team_composition"
    rule: str = "R-MATCH-2"
    reps_rule: str = "R-MATCH-4"
    severity: Severity = Severity.HARD

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        params = ctx.method.parameters
        state = ctx.state
        counts: dict[Role, dict[str, int]] = {
            Role.MENTOR: {},
            Role.MENTEE: {},
            Role.FACILITATOR: {},
        }
        for p in state.participants:
            per_org = counts.get(p.role)
            if per_org is not None:
                per_org[p.organisation_id] = per_org.get(p.organisation_id, 0) + 1
        mentors, mentees = counts[Role.MENTOR], counts[Role.MENTEE]
        labels = ctx.method.labels
        if not 1 <= len(mentors) <= params.max_mentor_cities:
            yield Finding(
                self.rule,
                f"{len(mentors)} {labels.mentor} organisations; 1 to {params.max_mentor_cities} allowed",
                self.severity,
            )
        if not mentees:
            yield Finding(self.rule, f"no {labels.mentee} takes part", self.severity)
        if not counts[Role.FACILITATOR]:
            yield Finding("R-ROLE-2", "no facilitator takes part", self.severity)
        for role, (low, high) in (
            (Role.MENTOR, params.reps_per_mentor_city),
            (Role.MENTEE, params.reps_per_mentee_city),
        ):
            for org, count in counts[role].items():
                if not low <= count <= high:
                    yield Finding(
                        self.reps_rule,
                        f"{_org_name(state, org)} sends {count} representatives; {low} to {high} expected",
                        self.severity,
                    )


@attrs.frozen
class LeadTime:
    """A deliverable arrived at least ``due`` before its anchor (R-PREP-3: ideally two months)."""

    type: ClassVar[str] = "lead_time"
    deliverable: str
    due: Due
    rule: str
    severity: Severity = Severity.SOFT

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        deadline = self.due.resolve(ctx.state)
        if deadline is None:
            return
        record = ctx.record(self.deliverable)
        submitted = record.submitted_at if record is not None else ctx.at
        if submitted > deadline:
            spec = ctx.spec(self.deliverable)
            yield ctx.missing(
                self.rule,
                self.severity,
                self.deliverable,
                f"{spec.title} {'arrived' if record else 'is'} later than its lead time",
                self.due,
            )


@attrs.frozen
class PageCount:
    """The visitors' learning-objectives document is within the page bounds (R-PREP-3, soft)."""

    type: ClassVar[str] = "page_count"
    rule: str = "R-PREP-3"
    severity: Severity = Severity.SOFT

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        record = ctx.record(LearningObjectives.kind)
        if record is None:
            return
        low, high = ctx.method.parameters.objectives_pages
        pages = record.content.pages  # type: ignore[union-attr]  # kind fixes the content type
        if not low <= pages <= high:
            yield Finding(
                self.rule,
                f"learning objectives run to {pages} pages; {low} to {high} suggested",
                self.severity,
                deliverable=LearningObjectives.kind,
            )


@attrs.frozen
class NextVisitPlanned:
    """Another visit follows the one at hand (R-PROG-1: the sequence is flexible)."""

    type: ClassVar[str] = "next_visit_planned"
    rule: str = "R-PROG-1"
    severity: Severity = Severity.HARD

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        if ctx.state.current_visit + 1 >= len(ctx.state.visits):
            yield Finding(self.rule, "no further visit is planned", self.severity)


@attrs.frozen
class NoVisitsLeft:
    """The visit at hand is the last one planned (R-PROG-1)."""

    type: ClassVar[str] = "no_visits_left"
    rule: str = "R-PROG-1"
    severity: Severity = Severity.HARD

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        left = len(ctx.state.visits) - ctx.state.current_visit - 1
        if left > 0:
            yield Finding(self.rule, f"{left} more planned visit(s) come first", self.severity)


@attrs.frozen
class VisitSlot:
    """One position of a fixed programme: its mode and which side hosts."""

    mode: VisitMode
    host: Role


@attrs.frozen
class ProgrammeShape:
    """The visits follow the method's fixed sequence (R-PROG-2: ROCK's four sessions)."""

    type: ClassVar[str] = "programme_shape"
    slots: tuple[VisitSlot, ...]
    rule: str = "R-PROG-2"
    severity: Severity = Severity.HARD

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        visits = ctx.state.visits
        if len(visits) != len(self.slots):
            yield Finding(
                self.rule,
                f"{len(visits)} visits planned; the programme has {len(self.slots)}",
                self.severity,
            )
        hosts = {o: r for r in (Role.MENTOR, Role.MENTEE) for o in ctx.state.organisations_with(r)}
        for number, (visit, slot) in enumerate(zip(visits, self.slots, strict=False), start=1):
            if visit.mode is not slot.mode:
                yield Finding(
                    self.rule,
                    f"visit {number} ({visit.id}) must be {slot.mode.value}",
                    self.severity,
                    visit_id=visit.id,
                )
            if hosts.get(visit.host) is not slot.host:
                yield Finding(
                    self.rule,
                    f"visit {number} ({visit.id}) must be hosted by the {ctx.method.labels.label(slot.host)}",
                    self.severity,
                    visit_id=visit.id,
                )


@attrs.frozen
class PrerequisitesClosed:
    """Every prerequisite engagement has closed (R-PROG-3: CREATE's work-shadowing comes first)."""

    type: ClassVar[str] = "prerequisites_closed"
    rule: str = "R-PROG-3"
    severity: Severity = Severity.HARD

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        for other in ctx.state.prerequisites:
            phase = ctx.related.get(other)
            if phase is None:
                yield Finding(
                    self.rule,
                    f"the phase of prerequisite engagement {other!r} was not given",
                    self.severity,
                )
            elif phase != "closed":
                yield Finding(
                    self.rule,
                    f"prerequisite engagement {other!r} is in {phase}, not closed",
                    self.severity,
                )


@attrs.frozen
class TimeSinceFirstVisit:
    """Enough time passed since the first visit (R-PROG-8: about a year, soft)."""

    type: ClassVar[str] = "time_since_first_visit"
    rule: str = "R-PROG-8"
    severity: Severity = Severity.SOFT

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        months = ctx.method.parameters.follow_up_after_months
        earliest = Due(Anchor.FIRST_VISIT_END, months=months).resolve(ctx.state)
        if earliest is not None and ctx.at < earliest:
            yield Finding(
                self.rule,
                f"the follow-up comes {months} months after the first visit, "
                f"not before {earliest.to_date_string()}",
                self.severity,
                due=earliest,
            )


@attrs.frozen
class ActionsReviewed:
    """Every roadmap action has a status at the follow-up review (R-FOLLOW-8)."""

    type: ClassVar[str] = "actions_reviewed"
    rule: str = "R-FOLLOW-8"
    severity: Severity = Severity.HARD

    def evaluate(self, ctx: Context) -> Iterator[Finding]:
        """Findings for this requirement in ``ctx``."""
        roadmap = ctx.state.deliverable(LocalRoadmap.kind)
        review = ctx.state.deliverable(FollowUpReview.kind)
        if roadmap is None:
            yield Finding(
                self.rule, "there is no roadmap whose actions could be reviewed", self.severity
            )
            return
        reviewed = (
            {r.action_id for r in review.content.reviews}  # type: ignore[union-attr]
            if review is not None
            else set()
        )
        for action in roadmap.content.actions:  # type: ignore[union-attr]
            if action.id not in reviewed:
                yield Finding(
                    self.rule,
                    f"action {action.id} ({action.title}) has no recorded status",
                    self.severity,
                    deliverable=FollowUpReview.kind,
                )


Requirement: TypeAlias = (
    Delivered
    | Approved
    | VisitPrepared
    | VisitDatesFixed
    | AgendaIncludes
    | VisitLength
    | ThemesDefined
    | MaxThemes
    | InPersonVisit
    | TeamComposition
    | LeadTime
    | PageCount
    | NextVisitPlanned
    | NoVisitsLeft
    | ProgrammeShape
    | PrerequisitesClosed
    | TimeSinceFirstVisit
    | ActionsReviewed
)

REQUIREMENT_TYPES: dict[str, type[Requirement]] = {cls.type: cls for cls in Requirement.__args__}
