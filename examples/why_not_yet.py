"""Ask a ROCK work-shadowing engagement "why not yet?" at each step, and act on the answer.

Run: python examples/why_not_yet.py
"""

from __future__ import annotations

import pendulum

from mentorflow import Engagement, EventBus, PhaseEntered, TransitionRefused, compiled
from mentorflow import rock2017 as rock


def main() -> None:
    plan = rock.programme()[3]  # work-shadowing in Lyon, 7-10 December 2017 (Fête des Lumières)
    bus = EventBus()
    bus.subscribe(PhaseEntered, lambda e: print(f"   phase: {e.from_phase} -> {e.to_phase}"))
    facilitator, host, visitor = rock.rep("eurocities"), rock.rep("lyon"), rock.rep("bologna")
    october = pendulum.datetime(2017, 10, 20, tz="Europe/Paris")

    engagement = Engagement.start(
        compiled(plan.method_id),
        id=plan.id,
        title=plan.title,
        organisations=plan.organisations,
        participants=plan.participants,
        themes=plan.themes,
        visits=plan.visits,
        actor=facilitator,
        at=october,
        bus=bus,
    )
    engagement.fire("confirm_match", actor=facilitator, at=october)

    print("Why can't the visit start yet?")
    for finding in engagement.check("start_visit", actor=facilitator, at=october).unmet:
        print(f" - {finding}")

    engagement.submit(rock.learning_objectives(pages=6), actor=visitor, at=october)
    engagement.submit(rock.travel_guide("lyon"), actor=host, at=october)
    engagement.submit(rock.language_plan(), actor=host, at=october)
    engagement.submit(rock.agenda_for(plan.visits[0], work_shadowing=True), actor=host, at=october)

    try:
        engagement.fire("start_visit", actor=facilitator, at=october)
    except TransitionRefused as refusal:
        print("Still refused:", ", ".join(refusal.verdict.rules))
    engagement.approve("agenda", actor=visitor, at=october)

    verdict = engagement.check("start_visit", actor=facilitator, at=october)
    print("Allowed now:", verdict.allowed, "- warnings (they never block):")
    for warning in verdict.warnings:
        print(f" ! {warning}")

    start = pendulum.datetime(2017, 12, 7, 9, tz="Europe/Paris")
    engagement.fire(
        "start_visit",
        actor=facilitator,
        at=start,
        acknowledge={"R-VISIT-1": "the visit follows the four days of the Fête des Lumières"},
    )
    print("Recorded in the history:", engagement.history[-1].acknowledged)


if __name__ == "__main__":
    main()
