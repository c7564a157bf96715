"""Action tracking: each roadmap action's status over time, indicator readings and evidence.

An ``ActionTracker`` is immutable: ``record`` returns a new tracker with one more update at the
end, so the history is append-only and a refused update leaves nothing behind. The follow-up
review is produced from the tracker (``review()``), and the ROCK method's ``close`` trigger
stays refused while any roadmap action has no recorded status (R-FOLLOW-8, ``ActionsReviewed``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from mentorflow._inputs import as_instant
from mentorflow.deliverables import (
    ActionReview,
    ActionStatus,
    FollowUpReview,
    Indicator,
    LocalRoadmap,
    content_problems,
)
from mentorflow.exceptions import InvalidDeliverable, InvalidInput, Problem

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Sequence

    import pendulum

__all__ = [
    "ActionTracker",
    "ActionUpdate",
    "Evidence",
    "IndicatorProgress",
    "IndicatorReading",
]

#: Statuses that need a reason as soon as they are recorded; at the review every status but
#: ``implemented`` needs one (R-FOLLOW-8).
REASON_ON_RECORD = frozenset({ActionStatus.DROPPED})


@attrs.frozen
class IndicatorReading:
    """A measured value of one of the roadmap's indicators (named as in the roadmap)."""

    indicator: str
    value: float


@attrs.frozen
class Evidence:
    """What shows an action's progress: a description and, where there is one, a link."""

    description: str
    link: str = ""


@attrs.frozen
class ActionUpdate:
    """One entry of the tracking history: a status, readings or evidence for one action."""

    sequence: int
    action_id: str
    at: pendulum.DateTime
    by: str
    status: ActionStatus | None = None
    reason: str = ""
    readings: tuple[IndicatorReading, ...] = ()
    evidence: tuple[Evidence, ...] = ()


@attrs.frozen
class IndicatorProgress:
    """Where an indicator stands: baseline, target, the latest reading, and the share of the way."""

    indicator: Indicator
    latest: float | None
    at: pendulum.DateTime | None

    @property
    def share_of_target(self) -> float | None:
        """How far the latest reading went from baseline to target (0 = baseline, 1 = target)."""
        base, target = self.indicator.baseline, self.indicator.target
        if self.latest is None or base is None or target is None or target == base:
            return None
        return (self.latest - base) / (target - base)


@attrs.frozen
class ActionTracker:
    """The roadmap and every update recorded against its actions, oldest first."""

    roadmap: LocalRoadmap
    updates: tuple[ActionUpdate, ...] = ()

    # -- recording -------------------------------------------------------------------------

    def record(
        self,
        action_id: str,
        *,
        at: dt.datetime,
        by: str,
        status: ActionStatus | None = None,
        reason: str = "",
        readings: Sequence[IndicatorReading] = (),
        evidence: Sequence[Evidence] = (),
    ) -> ActionTracker:
        """A tracker with one more update; raises InvalidInput naming every field at fault."""
        instant = as_instant(at)
        problems = list(self._problems(action_id, instant, by, status, reason, readings, evidence))
        if problems:
            raise InvalidInput("action update", problems)
        update = ActionUpdate(
            sequence=len(self.updates) + 1,
            action_id=action_id,
            at=instant,
            by=by,
            status=ActionStatus(status) if status is not None else None,
            reason=reason.strip(),
            readings=tuple(readings),
            evidence=tuple(evidence),
        )
        return attrs.evolve(self, updates=(*self.updates, update))

    def _problems(
        self,
        action_id: str,
        at: pendulum.DateTime,
        by: str,
        status: ActionStatus | None,
        reason: str,
        readings: Sequence[IndicatorReading],
        evidence: Sequence[Evidence],
    ) -> Iterable[Problem]:
        if action_id not in self.action_ids:
            yield Problem("$.action_id", f"the roadmap has no action {action_id!r}")
        if not by.strip():
            yield Problem("$.by", "must name who records the update")
        if self.updates and at < self.updates[-1].at:
            last = self.updates[-1].at.to_iso8601_string()
            yield Problem("$.at", f"is before the last recorded update ({last})")
        if status is not None and status not in tuple(ActionStatus):
            yield Problem("$.status", f"unknown status {status!r}")
        elif status in REASON_ON_RECORD and not reason.strip():
            yield Problem("$.reason", f"an action {status} needs a reason (R-FOLLOW-8)")
        if status is None and not readings and not evidence:
            yield Problem("$", "the update records no status, reading or evidence")
        known = {i.name for i in self.roadmap.indicators}
        for i, reading in enumerate(readings):
            if reading.indicator not in known:
                yield Problem(
                    f"$.readings[{i}].indicator",
                    f"the roadmap has no indicator {reading.indicator!r}",
                )
        for i, item in enumerate(evidence):
            if not item.description.strip():
                yield Problem(f"$.evidence[{i}].description", "must not be empty")

    # -- reading ---------------------------------------------------------------------------

    @property
    def action_ids(self) -> tuple[str, ...]:
        """The roadmap's action ids, in plan order."""
        return tuple(a.id for a in self.roadmap.actions)

    def history(self, action_id: str) -> tuple[ActionUpdate, ...]:
        """Every update of one action, oldest first."""
        return tuple(u for u in self.updates if u.action_id == action_id)

    def latest_status(
        self, action_id: str, *, at: dt.datetime | None = None
    ) -> ActionUpdate | None:
        """The update that set the action's status last (as of ``at``, when given)."""
        limit = as_instant(at) if at is not None else None
        found = None
        for update in self.history(action_id):
            if limit is not None and update.at > limit:
                break
            if update.status is not None:
                found = update
        return found

    def status(self, action_id: str, *, at: dt.datetime | None = None) -> ActionStatus | None:
        """The action's status (as of ``at``, when given); None while none is recorded."""
        update = self.latest_status(action_id, at=at)
        return update.status if update is not None else None

    def unreviewed(self) -> tuple[str, ...]:
        """Ids of the actions that have no recorded status yet."""
        return tuple(a for a in self.action_ids if self.status(a) is None)

    def evidence(self, action_id: str) -> tuple[Evidence, ...]:
        """Every piece of evidence recorded for the action, oldest first."""
        return tuple(e for u in self.history(action_id) for e in u.evidence)

    def progress(self, indicator: str) -> IndicatorProgress:
        """The indicator's baseline, target and latest reading."""
        spec = next((i for i in self.roadmap.indicators if i.name == indicator), None)
        if spec is None:
            raise InvalidInput(
                "indicator", [Problem("$.indicator", f"the roadmap has no indicator {indicator!r}")]
            )
        latest: tuple[float, pendulum.DateTime] | None = None
        for update in self.updates:
            for reading in update.readings:
                if reading.indicator == indicator:
                    latest = (reading.value, update.at)
        return IndicatorProgress(spec, *(latest or (None, None)))

    def review(self) -> FollowUpReview:
        """The follow-up review deliverable: every action with a recorded status (R-FOLLOW-8).

        Actions without a status are left out, so ``close`` stays refused until they have one.
        Raises InvalidDeliverable when the review would not validate (no status at all, or an
        action not implemented whose latest status carries no reason).
        """
        reviews = []
        for action_id in self.action_ids:
            update = self.latest_status(action_id)
            if update is not None and update.status is not None:
                reviews.append(ActionReview(action_id, update.status, update.reason))
        review = FollowUpReview(tuple(reviews))
        problems = [
            Problem(
                f"$.actions[{r.action_id!r}].reason",
                f"the action is {r.status}, so it needs a reason",
            )
            for r in reviews
            if r.status is not ActionStatus.IMPLEMENTED and not r.reason
        ] or list(content_problems(review))
        if problems:
            raise InvalidDeliverable(FollowUpReview.kind, problems)
        return review
