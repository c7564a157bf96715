"""Engine cost: fire() and check() on ROCK mentoring vs a bare transitions trigger; memory per engagement."""

from __future__ import annotations

import gc
import tracemalloc

import pendulum
from transitions import Machine

from benchmarks._harness import paired_seconds, report_ratio, report_value
from mentorflow import engine
from mentorflow import rock2017 as rock
from mentorflow.catalog import compiled
from mentorflow.engagement import Engagement
from mentorflow.events import EventBus
from mentorflow.state import EngagementState

FACILITATOR = rock.rep(rock.FACILITATOR_ID)
AT = pendulum.datetime(2019, 1, 1, tz="UTC")
TRIGGERS = ("confirm_match", "start_visit", "finish_visit", "start_review", "close")


def walk_states() -> list[tuple[EngagementState, str]]:
    """The snapshot before each trigger of a complete ROCK mentoring walk, with every gate met."""
    plan = rock.programme()[2]
    e = plan.start(at=AT)
    mentee, mentor = rock.rep("bologna"), rock.rep("athens")
    steps: list[tuple[EngagementState, str]] = []

    def fire(trigger: str) -> None:
        steps.append((e.state, trigger))
        e.fire(trigger, actor=FACILITATOR, at=AT)

    fire("confirm_match")
    e.submit(rock.needs_assessment(), actor=mentee, at=AT)
    e.submit(rock.mentors_paper(), actor=mentor, at=AT)
    e.share("mentors_paper", actor=mentor, at=AT)
    e.approve("mentors_paper", actor=mentee, at=AT)
    e.submit(rock.language_plan(), actor=mentee, at=AT)
    e.submit(rock.agenda_for(plan.visits[0]), actor=mentee, at=AT)
    e.approve("agenda", actor=mentor, at=AT)
    fire("start_visit")
    fire("finish_visit")
    e.submit(rock.visit_report(), actor=mentor, at=AT)
    e.approve("visit_report", actor=FACILITATOR, at=AT)
    e.submit(rock.roadmap(), actor=mentee, at=AT)
    e.submit(rock.article("x"), actor=FACILITATOR, at=AT)
    fire("start_review")
    e.submit(rock.follow_up_review(rock.roadmap()), actor=FACILITATOR, at=AT)
    fire("close")
    assert e.phase == "closed"
    return steps


def bare_machine_walk() -> object:
    """A bare transitions Machine on the same phases, one boolean condition per trigger."""

    class Model:
        ready = True

        def is_ready(self) -> bool:
            return self.ready

    phases = [
        "matchmaking",
        "preparation",
        "visit",
        "follow_up.reporting",
        "follow_up.review",
        "closed",
    ]
    model = Model()
    Machine(
        model=model,
        states=phases,
        transitions=[
            {"trigger": t, "source": phases[i], "dest": phases[i + 1], "conditions": "is_ready"}
            for i, t in enumerate(TRIGGERS)
        ],
        initial="matchmaking",
        auto_transitions=False,
    )
    return model


def main() -> bool:
    method = compiled("rock.mentoring")
    steps = walk_states()
    model = bare_machine_walk()
    triggers = [getattr(model, t) for t in TRIGGERS]

    def bare() -> None:
        model.state = "matchmaking"  # type: ignore[attr-defined]
        for trigger in triggers:
            trigger()

    bus = EventBus()

    def fire_walk() -> None:
        for state, trigger in steps:
            Engagement(method, state, bus=bus).fire(trigger, actor=FACILITATOR, at=AT)

    def check_walk() -> None:
        for state, trigger in steps:
            engine.check(method, state, trigger, actor=FACILITATOR, at=AT)

    def pure_fire_walk() -> None:
        for state, trigger in steps:
            engine.fire(method, state, trigger, actor=FACILITATOR, at=AT)

    number = 200
    per = len(TRIGGERS)
    ok = True
    for name, work in (
        ("Engagement.fire() per trigger, ROCK mentoring walk", fire_walk),
        ("engine.fire() (pure core) per trigger", pure_fire_walk),
        ("check() per trigger", check_walk),
    ):
        measured, baseline = paired_seconds(work, bare, number=number)
        ok &= report_ratio(name, measured / per, baseline / per, target=2.0)
    ok &= _memory(method, steps[-1][0])
    return ok


def _memory(method: object, state: EngagementState) -> bool:
    machines_before = sum(isinstance(o, Machine) for o in gc.get_objects())
    count = 10_000
    states = [state] * count
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    live = [Engagement(method, s) for s in states]  # type: ignore[arg-type]
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    overhead = sum(stat.size_diff for stat in after.compare_to(before, "filename")) / count
    machines_after = sum(isinstance(o, Machine) for o in gc.get_objects())
    report_value(
        "engine overhead per live engagement (beyond its snapshot)", overhead, "bytes", target=1024
    )
    report_value(
        "transitions Machines created for 10,000 engagements",
        machines_after - machines_before,
        "",
        target=0,
    )
    del live
    return overhead <= 1024 and machines_after == machines_before
