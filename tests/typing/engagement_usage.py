"""Typed usage of the engagement facade: a host's code type-checks under mypy --strict."""

from __future__ import annotations

from typing import assert_type

import pendulum

from mentorflow import (
    Engagement,
    EventBus,
    Finding,
    FrozenClock,
    Organisation,
    Outcome,
    Participant,
    PhaseEntered,
    Role,
    TransitionRefused,
    Verdict,
    compiled,
)


def start_engagement(clock: FrozenClock) -> Engagement:
    """A study visit started with an injected clock and a typed event handler."""
    bus = EventBus()
    entered: list[str] = []

    def on_phase(event: PhaseEntered) -> None:
        entered.append(event.to_phase)

    bus.subscribe(PhaseEntered, on_phase)
    engagement = Engagement.start(
        compiled("eurocities.study_visit"),
        id="visit-1",
        title="Study visit",
        organisations=[Organisation("ghent", "Ghent", timezone="Europe/Brussels")],
        participants=[Participant("ghent-1", "Ghent delegation", Role.MENTEE, "ghent")],
        actor="ghent-1",
        bus=bus,
        clock=clock,
    )
    assert_type(engagement.phase, str)
    assert_type(engagement.version, int)
    return engagement


def why_not_yet(engagement: Engagement, actor: str) -> list[str]:
    """The rule ids standing in the way of every trigger that applies now."""
    steps = engagement.next_steps(actor=actor, at=pendulum.datetime(2024, 5, 1))
    assert_type(steps, dict[str, Verdict])
    return [finding.rule for verdict in steps.values() for finding in verdict.unmet]


def fire_or_explain(engagement: Engagement, trigger: str, actor: str) -> Outcome | Verdict:
    """Fire ``trigger``; a refusal comes back as its verdict, which is data."""
    try:
        return engagement.fire(trigger, actor=actor)
    except TransitionRefused as refusal:
        assert_type(refusal.verdict, Verdict)
        first: Finding | None = refusal.verdict.unmet[0] if refusal.verdict.unmet else None
        if first is not None:
            assert_type(first.due, pendulum.DateTime | None)
        return refusal.verdict
