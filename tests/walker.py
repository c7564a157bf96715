"""Shared by the core tests: the seeds' engagements on each built-in method, and a walker.

``Walk`` drives an engagement along its method's happy path, supplying what every gated trigger
asks for from the method's own data, with ROCK 2017-18 sample documents. ``skip`` leaves
deliverables out (and ``unapproved`` leaves them unapproved) so a test can watch a gate refuse.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import pendulum

from mentorflow import rock2017 as rock
from mentorflow.catalog import compiled
from mentorflow.deliverables import DeliverableContent, LocalRoadmap
from mentorflow.model import Party, Visit, VisitMode, VisitWindow, belongs_to
from mentorflow.requirements import (
    ActionsReviewed,
    AgendaIncludes,
    Approved,
    Delivered,
    LeadTime,
    PageCount,
    Requirement,
)
from mentorflow.state import DeliverableStatus
from mentorflow.verdicts import Finding, Severity, Verdict

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from mentorflow.compiled import CompiledMethod
    from mentorflow.engagement import Engagement, Outcome
    from mentorflow.events import EventBus
    from mentorflow.methods import TriggerSpec

F = rock.rep(rock.FACILITATOR_ID)
PREREQUISITE = "rock-ws-turin"
START = pendulum.datetime(2017, 9, 1, 9, tz="Europe/Brussels")


def kinds_needed(requirement: Requirement) -> tuple[str, ...]:
    """The deliverable kinds a requirement looks at."""
    if isinstance(requirement, Delivered | Approved | LeadTime):
        return (requirement.deliverable,)
    if isinstance(requirement, AgendaIncludes):
        return ("agenda",)
    if isinstance(requirement, PageCount):
        return ("learning_objectives",)
    if isinstance(requirement, ActionsReviewed):
        return ("roadmap", "follow_up_review")
    return ()


def _window(start: pendulum.Date, days: int) -> VisitWindow:
    return VisitWindow(start, start.add(days=days - 1))


def _bologna(method_id: str) -> rock.EngagementPlan:
    return attrs.evolve(rock.programme()[2], method_id=method_id)


def plan_for(method_id: str) -> rock.EngagementPlan:
    """One engagement of the ROCK 2017-18 programme, fitted to the built-in method."""
    plans = rock.programme()
    if method_id == "rock.mentoring":
        return plans[2]
    if method_id == "create.mentoring":
        return attrs.evolve(_bologna(method_id), prerequisites=(PREREQUISITE,))
    if method_id == "values.mentoring":
        return _bologna(method_id)
    if method_id == "rock.work_shadowing":
        return plans[0]
    if method_id == "eurocities.study_visit":
        return attrs.evolve(plans[0], method_id=method_id, id="study-visit-turin")
    base = _bologna(method_id)
    visit = base.visits[0]
    day = pendulum.date(2017, 10, 2)
    if method_id == "eurocities.mentoring":
        online = attrs.evolve(
            visit,
            id="webinar-athens",
            host="athens",
            visitors=("bologna", rock.FACILITATOR_ID),
            mode=VisitMode.ONLINE,
            window=_window(day, 2),
        )
        return attrs.evolve(base, visits=(online, visit))
    if method_id == "rock.four_session":
        mentor, mentee = "athens", "bologna"
        shape = (
            (VisitMode.ONLINE, mentor),
            (VisitMode.ONLINE, mentee),
            (VisitMode.IN_PERSON, mentor),
        )
        visits = [
            attrs.evolve(
                visit,
                id=f"session-{n}",
                host=host,
                mode=mode,
                window=_window(day.add(days=14 * n), 1),
                visitors=(mentee if host == mentor else mentor, rock.FACILITATOR_ID),
            )
            for n, (mode, host) in enumerate(shape, start=1)
        ]
        return attrs.evolve(base, visits=(*visits, attrs.evolve(visit, id="session-4")))
    raise KeyError(method_id)


def sample(kind: str, engagement: Engagement) -> DeliverableContent:
    """A sample document of ``kind`` from the ROCK 2017-18 fixture, fitted to the visit at hand."""
    state = engagement.state
    visit = state.visit
    makers: dict[str, Callable[[], DeliverableContent]] = {
        "needs_assessment": rock.needs_assessment,
        "mentors_paper": rock.mentors_paper,
        "language_plan": rock.language_plan,
        "visit_report": rock.visit_report,
        "roadmap": rock.roadmap,
        "article": lambda: rock.article("Mentoring visit"),
        "learning_objectives": rock.learning_objectives,
        "visitor_questions": rock.visitor_questions,
        "visitor_summary": rock.visitor_summary,
        "host_reflection": rock.host_reflection,
        "visitors_report": rock.visitors_report,
    }
    if kind == "agenda":
        assert visit is not None
        return rock.agenda_for(visit, work_shadowing=state.method_id == "rock.work_shadowing")
    if kind == "travel_guide":
        assert visit is not None
        return rock.travel_guide(visit.host)
    if kind == "follow_up_review":
        roadmap = state.deliverable("roadmap")
        assert roadmap is not None
        assert isinstance(roadmap.content, LocalRoadmap)
        return rock.follow_up_review(roadmap.content)
    return makers[kind]()


def acting_for(engagement: Engagement, party: Party, visit: Visit | None = None) -> str:
    """The id of the first participant who acts for ``party`` in the visit at hand."""
    target = visit if visit is not None else engagement.state.visit
    return next(p.id for p in engagement.state.participants if belongs_to(p, party, target))


class Walk:
    """An engagement on a built-in method, driven along its happy path one trigger at a time."""

    def __init__(
        self,
        method_id: str,
        *,
        skip: Iterable[str] = (),
        unapproved: Iterable[str] = (),
        plan: rock.EngagementPlan | None = None,
        bus: EventBus | None = None,
    ) -> None:
        self.method: CompiledMethod = compiled(method_id)
        self.plan = plan if plan is not None else plan_for(method_id)
        self.now = START
        self.engagement = self.plan.start(at=self.now, bus=bus)
        self.skip = set(skip)
        self.unapproved = set(unapproved)
        self.outcomes: list[Outcome] = []
        self.related = dict.fromkeys(self.plan.prerequisites, "closed")

    @property
    def state(self):  # type: ignore[no-untyped-def]  # tests read the snapshot freely
        return self.engagement.state

    def at(self, when: pendulum.DateTime) -> pendulum.DateTime:
        """Move the walk's clock forward to ``when`` (never back)."""
        self.now = max(self.now, when)
        return self.now

    def supply(self, kind: str) -> None:
        """Submit, share and approve ``kind`` as the method asks, by the parties that owe it."""
        if kind in self.skip:
            return
        spec = self.method.method.deliverable_specs[kind]
        if any(kind_ in self.skip for kind_ in spec.requires):
            return
        record = self.state.deliverable(
            kind, self.state.visit.id if spec.per_visit and self.state.visit else None
        )
        if record is None or kind in ("agenda", "follow_up_review"):
            self.outcomes.append(
                self.engagement.submit(
                    sample(kind, self.engagement),
                    actor=acting_for(self.engagement, spec.owner),
                    at=self.now,
                )
            )
        if kind in self.unapproved:
            return
        record = self.state.deliverable(
            kind, self.state.visit.id if spec.per_visit and self.state.visit else None
        )
        assert record is not None
        owner = acting_for(self.engagement, spec.owner)
        if spec.shared_first and record.status is DeliverableStatus.SUBMITTED:
            self.outcomes.append(self.engagement.share(kind, actor=owner, at=self.now))
        for party in spec.approvers:
            if not record.approved_by(party.value):
                approver = acting_for(self.engagement, party)
                self.outcomes.append(self.engagement.approve(kind, actor=approver, at=self.now))

    def prepare(self, trigger: str) -> TriggerSpec:
        """Supply every deliverable the trigger's requirements look at (hard and soft)."""
        spec = self.method.trigger(trigger)
        kinds = dict.fromkeys(k for r in spec.requirements for k in kinds_needed(r))
        for kind in kinds:
            for needed in self.method.method.deliverable_specs[kind].requires:
                self.supply(needed)
            self.supply(kind)
        return spec

    def when(self, trigger: str) -> pendulum.DateTime:
        """The natural time of a trigger: a visit starts on its first day, ends on its last."""
        visit = self.state.visit
        if visit is not None and visit.window is not None:
            tz = self.state.organisation(visit.host).timezone
            first, last = visit.window.start, visit.window.end
            if trigger == "start_visit":
                return pendulum.datetime(first.year, first.month, first.day, 9, tz=tz)
            if trigger in ("finish_visit", "finish_programme"):
                return pendulum.datetime(last.year, last.month, last.day, 18, tz=tz)
            if trigger == "start_review":
                return pendulum.datetime(last.year, last.month, last.day, tz=tz).add(months=13)
        return self.now.add(days=1)

    def check(self, trigger: str, *, actor: str = F) -> Verdict:
        """The verdict for ``trigger`` now."""
        return self.engagement.check(trigger, actor=actor, at=self.now, related=self.related)

    def fire(self, trigger: str, *, actor: str = F) -> Outcome:
        """Prepare and fire ``trigger`` at its natural time."""
        self.prepare(trigger)
        outcome = self.engagement.fire(
            trigger, actor=actor, at=self.at(self.when(trigger)), related=self.related
        )
        self.outcomes.append(outcome)
        return outcome

    def path(self) -> list[str]:
        """The happy path's triggers from the current phase to ``closed``."""
        names = [t.name for t in self.method.method.triggers]
        steps = ["confirm_match"]
        for _ in range(len(self.state.visits) - 1):
            steps += ["start_visit", "finish_visit"]
        steps.append("start_visit")
        steps.append("finish_programme" if "finish_programme" in names else "finish_visit")
        steps += [n for n in ("start_review", "close") if n in names]
        return steps

    def until(self, trigger: str) -> Walk:
        """Fire the happy path up to, not including, the ``n``-th occurrence of ``trigger``."""
        for step in self.path():
            if step == trigger and self.engagement.phase in self.method.trigger(trigger).sources:
                self.prepare(trigger)
                self.at(self.when(trigger))
                return self
            self.fire(step)
        raise AssertionError(f"{trigger} is not on the happy path")

    def to_end(self) -> Walk:
        """Fire the whole happy path."""
        for step in self.path():
            self.fire(step)
        return self

    def warnings(self) -> list[Finding]:
        """Every warning the walk's accepted actions carried."""
        return [w for o in self.outcomes for w in o.warnings]


def hard_rules_on(spec: TriggerSpec, kind: str) -> set[str]:
    """The rule ids of the trigger's hard requirements that look at ``kind``."""
    return {
        r.rule for r in spec.requirements if r.severity is Severity.HARD and kind in kinds_needed(r)
    }
