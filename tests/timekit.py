"""Shared builders for the time tests: ROCK engagements with visits on chosen dates."""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import pendulum

from mentorflow import engine
from mentorflow import rock2017 as rock
from mentorflow.catalog import compiled
from mentorflow.model import Organisation, Visit, VisitWindow

if TYPE_CHECKING:
    from mentorflow.compiled import CompiledMethod
    from mentorflow.state import EngagementState

FACILITATOR = rock.rep(rock.FACILITATOR_ID)
CREATED = pendulum.datetime(2017, 6, 1, tz="Europe/Brussels")


def window(start: pendulum.Date, days: int, *, tentative: bool = False) -> VisitWindow:
    """A visit window of ``days`` days from ``start``."""
    return VisitWindow(start, start.add(days=days - 1), tentative)


def started(
    plan_index: int,
    start: pendulum.Date | None = None,
    *,
    days: int = 2,
    host_zone: str | None = None,
    method: CompiledMethod | None = None,
) -> tuple[CompiledMethod, EngagementState]:
    """A ROCK engagement (programme()[plan_index]) created on CREATED, visit moved to ``start``."""
    plan = rock.programme()[plan_index]
    visit = plan.visits[0]
    if start is not None:
        visit = attrs.evolve(visit, window=window(start, days))
    organisations = plan.organisations
    if host_zone is not None:
        organisations = tuple(
            attrs.evolve(o, timezone=host_zone) if o.id == visit.host else o for o in organisations
        )
    method = method or compiled(plan.method_id)
    change = engine.start(
        method,
        id=plan.id,
        title=plan.title,
        organisations=organisations,
        participants=plan.participants,
        actor=FACILITATOR,
        at=CREATED,
        themes=plan.themes,
        visits=(visit,),
    )
    return method, change.state


def host(state: EngagementState) -> Organisation:
    """The host organisation of the engagement's first visit."""
    org = state.organisation(state.visits[0].host)
    assert org is not None
    return org


def moved(
    method: CompiledMethod,
    state: EngagementState,
    start: pendulum.Date,
    at: pendulum.DateTime,
    *,
    days: int = 2,
    tentative: bool = False,
) -> EngagementState:
    """The snapshot after the facilitator moves the first visit to ``start``."""
    visit: Visit = attrs.evolve(state.visits[0], window=window(start, days, tentative=tentative))
    return engine.plan_visit(method, state, visit, actor=FACILITATOR, at=at).state
