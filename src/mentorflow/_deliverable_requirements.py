"""Requirements on deliverables: submitted, approved, on time, within bounds, reviewed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar

import attrs

from mentorflow._due import Due
from mentorflow._requirement_context import Context
from mentorflow.deliverables import FollowUpReview, LearningObjectives, LocalRoadmap
from mentorflow.state import DeliverableStatus
from mentorflow.verdicts import Finding, Severity

__all__ = ["ActionsReviewed", "Approved", "Delivered", "LeadTime", "PageCount"]


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
