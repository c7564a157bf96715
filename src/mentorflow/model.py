"""Domain records: organisations, participants and their roles, themes, visits and agendas."""

from __future__ import annotations

import enum
from collections.abc import Iterator

import attrs
import pendulum

__all__ = [
    "Agenda",
    "AgendaSession",
    "EngagementKind",
    "Organisation",
    "Participant",
    "Party",
    "Role",
    "RoleLabels",
    "SessionKind",
    "Side",
    "Theme",
    "Visit",
    "VisitMode",
    "VisitWindow",
    "belongs_to",
]


class Role(enum.StrEnum):
    """What a participant is in an engagement (R-ROLE-1..4)."""

    MENTOR = "mentor"
    MENTEE = "mentee"
    FACILITATOR = "facilitator"
    OBSERVER = "observer"
    STAKEHOLDER = "stakeholder"


class Side(enum.StrEnum):
    """The two sides of a learning exchange; learning is recorded for both (R-ROLE-5)."""

    MENTOR = "mentor"
    MENTEE = "mentee"


class EngagementKind(enum.StrEnum):
    """The kinds of peer-learning engagement the seeds describe."""

    MENTORING = "mentoring"
    WORK_SHADOWING = "work_shadowing"
    STUDY_VISIT = "study_visit"


class VisitMode(enum.StrEnum):
    """How a visit or session takes place (R-PROG-1)."""

    ONLINE = "online"
    IN_PERSON = "in_person"


class SessionKind(enum.StrEnum):
    """Tags that mark an agenda session as one a method asks for (R-VISIT-3, -6, -7, -8, R-PROG-4)."""

    INTRODUCTIONS = "introductions"
    METHODOLOGY_BRIEFING = "methodology_briefing"
    MENTEE_BRIEFING = "mentee_briefing"
    CONTEXT = "context"
    ACTION_PLAN_DISCUSSION = "action_plan_discussion"
    BENCHMARK_REVIEW = "benchmark_review"
    ACTION_PLAN_ENDORSEMENT = "action_plan_endorsement"
    JOINT_ACTION_PLAN = "joint_action_plan"
    OPENING_INTRODUCTION = "opening_introduction"
    REFLECTION = "reflection"
    FIELD_VISIT = "field_visit"
    STAKEHOLDER_MEETING = "stakeholder_meeting"
    INFORMAL = "informal"
    WORKING_SESSION = "working_session"
    RECOMMENDATIONS = "recommendations"


@attrs.frozen
class RoleLabels:
    """The words a programme uses for each role (R-ROLE-1): ROCK says role-model and replicator."""

    mentor: str = "role-model city"
    mentee: str = "replicator city"
    facilitator: str = "facilitator"
    observer: str = "observer city"
    stakeholder: str = "local stakeholder"

    def label(self, role: Role) -> str:
        """The programme's word for ``role``."""
        return str(getattr(self, role.value))


@attrs.frozen
class Organisation:
    """A city, a network such as EUROCITIES, or another body taking part."""

    id: str
    name: str
    country: str = ""
    timezone: str = "UTC"


@attrs.frozen
class Participant:
    """A person or delegation in an engagement, with the role they hold there."""

    id: str
    name: str
    role: Role
    organisation_id: str


@attrs.frozen
class Theme:
    """A mentoring theme or work-shadowing topic (R-VISIT-2, R-MATCH-6)."""

    id: str
    title: str


@attrs.frozen
class VisitWindow:
    """The days of a visit; a tentative window ("January 2018, TBC") is not yet fixed (R-PROG-7)."""

    start: pendulum.Date
    end: pendulum.Date
    tentative: bool = False

    @property
    def days(self) -> int:
        """How many calendar days the window spans, both ends included."""
        return self.end.toordinal() - self.start.toordinal() + 1


@attrs.frozen
class AgendaSession:
    """One slot of a visit agenda (R-VISIT-5): day, time, activity, who, theme, and its tags."""

    day: pendulum.Date
    start: pendulum.Time
    end: pendulum.Time
    activity: str
    who: tuple[str, ...] = ()
    theme: str | None = None
    kinds: frozenset[SessionKind] = frozenset()
    mode: VisitMode = VisitMode.IN_PERSON


@attrs.frozen
class Agenda:
    """A visit's programme: its sessions, in any order (R-VISIT-5)."""

    sessions: tuple[AgendaSession, ...] = ()

    @property
    def days(self) -> tuple[pendulum.Date, ...]:
        """The distinct days the agenda covers, in order."""
        return tuple(sorted({s.day for s in self.sessions}))

    def sessions_on(self, day: pendulum.Date) -> Iterator[AgendaSession]:
        """The sessions of one day, by start time."""
        return iter(sorted((s for s in self.sessions if s.day == day), key=lambda s: s.start))

    def has_kind(self, kind: SessionKind) -> bool:
        """Whether some session carries the tag ``kind``."""
        return any(kind in s.kinds for s in self.sessions)


@attrs.frozen
class Visit:
    """A session or visit of a programme; host, visitors and mode are explicit (R-PROG-1)."""

    id: str
    host: str
    visitors: tuple[str, ...]
    mode: VisitMode
    window: VisitWindow | None = None
    aim: str = ""
    expected_outcome: str = ""
    related_event: str | None = None
    title: str = ""


class Party(enum.StrEnum):
    """Who owes a deliverable or may act: a role, or a side of the visit at hand."""

    MENTOR = "mentor"
    MENTEE = "mentee"
    FACILITATOR = "facilitator"
    HOST = "host"
    VISITORS = "visitors"


#: Roles that may act for the host or the visitors of a visit: observers and stakeholders owe
#: nothing and decide nothing (R-ROLE-3, R-ROLE-4).
ACTING_ROLES = frozenset({Role.MENTOR, Role.MENTEE, Role.FACILITATOR})


def belongs_to(participant: Participant, party: Party, visit: Visit | None) -> bool:
    """Whether ``participant`` acts for ``party``; host and visitors are read off the visit."""
    if party is Party.HOST:
        return (
            visit is not None
            and participant.organisation_id == visit.host
            and participant.role in ACTING_ROLES
        )
    if party is Party.VISITORS:
        return (
            visit is not None
            and participant.organisation_id in visit.visitors
            and participant.role in ACTING_ROLES
        )
    return participant.role.value == party.value
