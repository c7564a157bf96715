"""Deadlines relative to a visit's dates, resolved in the host city's time zone."""

from __future__ import annotations

import enum
import functools

import attrs
import pendulum

from mentorflow.model import Visit
from mentorflow.state import EngagementState

__all__ = ["Anchor", "Due", "local_deadline"]


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
