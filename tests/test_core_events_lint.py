"""Events and the EventBus, and method lint: one test per kind of problem."""

from __future__ import annotations

import attrs
import pytest

from mentorflow.catalog import METHODS, rock_mentoring
from mentorflow.compiled import compile_method
from mentorflow.events import (
    DeliverableApproved,
    DeliverableShared,
    DeliverableSubmitted,
    EngagementCancelled,
    EngagementClosed,
    EngagementMatched,
    EngagementPaused,
    EngagementResumed,
    Event,
    EventBus,
    HandlerFailure,
    PhaseEntered,
    VisitFinished,
    VisitStarted,
    event_id,
)
from mentorflow.exceptions import InvalidMethod
from mentorflow.lint import lint_method
from mentorflow.methods import DeliverableSpec, Method, Phase, TriggerSpec
from mentorflow.model import Party, Role
from mentorflow.requirements import Delivered
from mentorflow.testing import EventRecorder
from walker import F, Walk


def test_a_walk_emits_typed_events_with_deterministic_ids() -> None:
    """Accepted actions emit typed frozen events numbered 1, 2, ... with ids engagement#n."""
    bus = EventBus()
    recorder = EventRecorder(bus)
    walk = Walk("rock.mentoring", bus=bus).to_end()
    kinds = {type(e) for e in recorder}
    assert {
        PhaseEntered,
        EngagementMatched,
        DeliverableSubmitted,
        DeliverableShared,
        DeliverableApproved,
        VisitStarted,
        VisitFinished,
        EngagementClosed,
    } <= kinds
    assert recorder.sequences == list(range(1, len(recorder) + 1))
    assert [e.id for e in recorder] == [event_id(walk.engagement.id, n) for n in recorder.sequences]
    assert {e.schema_version for e in recorder} == {1}
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        recorder.events[0].actor = "someone else"  # type: ignore[misc]
    again = EventRecorder(EventBus())
    Walk("rock.mentoring", bus=again.bus).to_end()
    assert again.events == recorder.events


def test_pause_resume_cancel_events_carry_the_reason() -> None:
    """Pause, resume and cancel publish their events with the reason and the phase."""
    walk = Walk("rock.mentoring")
    recorder = EventRecorder(walk.engagement.bus)
    walk.engagement.fire("pause", actor=F, at=walk.now, reason="elections")
    walk.engagement.fire("resume", actor=F, at=walk.now)
    walk.engagement.fire("cancel", actor=F, at=walk.now, reason="no mentors")
    assert recorder.of_type(EngagementPaused)[0].reason == "elections"
    assert recorder.of_type(EngagementResumed)[0].phase == "matchmaking"
    cancelled = recorder.of_type(EngagementCancelled)[0]
    assert (cancelled.reason, cancelled.phase) == ("no mentors", "matchmaking")


def test_a_raising_handler_is_reported_and_harms_nothing() -> None:
    """A raising handler doesn't stop others, doesn't corrupt the engagement, and is reported."""
    reported: list[HandlerFailure] = []
    bus = EventBus(on_failure=reported.append)
    heard: list[Event] = []

    def broken(event: Event) -> None:
        raise RuntimeError("host database is down")

    bus.subscribe(PhaseEntered, broken)
    bus.subscribe(Event, heard.append)
    walk = Walk("rock.mentoring", bus=bus)
    outcome = walk.fire("confirm_match")
    assert walk.engagement.phase == "preparation"
    assert [type(e) for e in heard[-2:]] == [PhaseEntered, EngagementMatched]
    assert len(outcome.failures) == 1
    failure = outcome.failures[0]
    assert isinstance(failure.error, RuntimeError)
    assert isinstance(failure.event, PhaseEntered)
    assert "broken" in failure.handler
    assert reported == list(outcome.failures)
    assert walk.state.event_count == heard[-1].sequence


def test_unsubscribe_stops_delivery() -> None:
    """The function subscribe returns removes the handler."""
    bus = EventBus()
    heard: list[Event] = []
    stop = bus.subscribe(Event, heard.append)
    walk = Walk("rock.mentoring", bus=bus)
    stop()
    walk.fire("confirm_match")
    assert len(heard) == 1


def test_refusals_are_announced_only_on_request() -> None:
    """With announce_refusals, a refused trigger publishes TriggerRefused with its reasons."""
    from mentorflow.events import TriggerRefused

    walk = Walk("rock.mentoring")
    recorder = EventRecorder(walk.engagement.bus)
    walk.engagement.announce_refusals = True
    with pytest.raises(Exception, match="refused"):
        walk.engagement.fire("close", actor=F, at=walk.now)
    refused = recorder.of_type(TriggerRefused)
    assert len(refused) == 1
    assert refused[0].reasons[0].rule == "MF-PHASE"
    assert walk.state.event_count == 1


# -- lint -------------------------------------------------------------------------------------


def _problems(method: Method) -> list[str]:
    return [str(p) for p in lint_method(method)]


@pytest.mark.parametrize("method_id", sorted(METHODS))
def test_builtin_methods_lint_clean(method_id: str) -> None:
    """Every built-in method passes lint."""
    assert lint_method(METHODS[method_id]()) == ()


def _edit_trigger(method: Method, name: str, **changes: object) -> Method:
    triggers = tuple(attrs.evolve(t, **changes) if t.name == name else t for t in method.triggers)
    return attrs.evolve(method, triggers=triggers)


def test_lint_unknown_phase() -> None:
    """A trigger to an undeclared phase is reported at its path."""
    problems = _problems(_edit_trigger(rock_mentoring(), "close", dest="archived"))
    assert any(p.startswith("$.triggers[4].dest: unknown phase 'archived'") for p in problems)


def test_lint_unreachable_phase() -> None:
    """A phase no trigger leads to is reported."""
    m = rock_mentoring()
    m = attrs.evolve(m, phases=(*m.phases, Phase("limbo", "Limbo", terminal=True)))
    assert any("'limbo' cannot be reached" in p for p in _problems(m))


def test_lint_dead_end() -> None:
    """A non-terminal phase that no trigger leaves is a dead end."""
    m = _edit_trigger(rock_mentoring(), "close", sources=("follow_up.reporting",))
    assert any("'follow_up.review' is a dead end" in p for p in _problems(m))


def test_lint_requirement_on_a_deliverable_nothing_produces() -> None:
    """A requirement on an undeclared deliverable is reported."""
    m = rock_mentoring()
    m = _edit_trigger(m, "close", requirements=(Delivered("visitor_summary", "R-FOLLOW-6"),))
    assert any("requires deliverable 'visitor_summary'" in p for p in _problems(m))


def test_lint_role_nobody_holds() -> None:
    """A party whose role no participant of the method holds is reported."""
    m = attrs.evolve(rock_mentoring(), roles=(Role.MENTOR, Role.MENTEE, Role.OBSERVER))
    problems = _problems(m)
    assert any("role 'facilitator': nobody in this method holds it" in p for p in problems)


def test_lint_duplicates() -> None:
    """Duplicate phases, triggers and deliverables are each reported."""
    m = rock_mentoring()
    m = attrs.evolve(
        m,
        phases=(*m.phases, m.phases[0]),
        triggers=(*m.triggers, m.triggers[0]),
        deliverables=(*m.deliverables, m.deliverables[0]),
    )
    problems = _problems(m)
    assert any("duplicate phase 'matchmaking'" in p for p in problems)
    assert any("duplicate trigger 'confirm_match'" in p for p in problems)
    assert any("duplicate deliverable 'needs_assessment'" in p for p in problems)


def test_lint_reserved_names() -> None:
    """Phase 'cancelled' and triggers pause/resume/cancel are reserved for the engine."""
    m = rock_mentoring()
    m = attrs.evolve(
        m,
        phases=(*m.phases, Phase("cancelled", terminal=True)),
        triggers=(
            *m.triggers,
            TriggerSpec("pause", ("matchmaking",), "cancelled", (Party.FACILITATOR,)),
        ),
    )
    problems = _problems(m)
    assert any("phase name 'cancelled' is reserved" in p for p in problems)
    assert any("trigger name 'pause' is generated" in p for p in problems)


def test_compiling_a_bad_method_lists_every_problem() -> None:
    """compile_method raises InvalidMethod carrying every problem, not just the first."""
    m = _edit_trigger(rock_mentoring(), "close", dest="archived")
    m = attrs.evolve(
        m, deliverables=(*m.deliverables, DeliverableSpec("poem", "a poem", Party.MENTOR))
    )
    with pytest.raises(InvalidMethod) as error:
        compile_method(m)
    paths = {p.path for p in error.value.problems}
    assert "$.triggers[4].dest" in paths
    assert "$.deliverables[8].kind" in paths
    assert len(error.value.problems) >= 3
