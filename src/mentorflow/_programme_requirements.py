"""Requirements on the engagement as a whole: its team, themes, visit sequence and timing."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import attrs

from mentorflow._due import Anchor, Due
from mentorflow._requirement_context import Context, organisation_name
from mentorflow.model import Role, VisitMode
from mentorflow.verdicts import Finding, Severity

__all__ = [
    "InPersonVisit",
    "MaxThemes",
    "NextVisitPlanned",
    "NoVisitsLeft",
    "PrerequisitesClosed",
    "ProgrammeShape",
    "TeamComposition",
    "ThemesDefined",
    "TimeSinceFirstVisit",
    "VisitSlot",
]


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
                        f"{organisation_name(state, org)} sends {count} representatives; {low} to {high} expected",
                        self.severity,
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
