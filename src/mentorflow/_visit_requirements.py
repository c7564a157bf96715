"""Requirements on the visit at hand: its aim, dates, agenda and length."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import attrs

from mentorflow._requirement_context import Context
from mentorflow.model import SessionKind, Visit
from mentorflow.state import DeliverableRecord
from mentorflow.verdicts import Finding, Severity

__all__ = ["AgendaIncludes", "VisitDatesFixed", "VisitLength", "VisitPrepared"]


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
