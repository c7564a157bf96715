"""Every built-in method walked end to end, and every gate refused with the right rule ids."""

from __future__ import annotations

import pytest

from mentorflow.catalog import METHODS, compiled
from mentorflow.events import EngagementClosed, EngagementCreated
from mentorflow.exceptions import TransitionRefused
from mentorflow.requirements import Approved
from mentorflow.testing import EventRecorder
from mentorflow.verdicts import Severity
from walker import F, Walk, hard_rules_on, kinds_needed


def _dependents(method_id: str, kind: str) -> set[str]:
    """``kind`` and every deliverable that cannot be written without it."""
    specs = compiled(method_id).method.deliverables
    found = {kind}
    while True:
        more = {s.kind for s in specs if found & set(s.requires)} - found
        if not more:
            return found
        found |= more


def _missing_cases() -> list[tuple[str, str, str]]:
    """(method, trigger, kind) for each deliverable a gated trigger needs, reachable without it."""
    cases = []
    for method_id in sorted(METHODS):
        walk_path = Walk(method_id).path()
        method = compiled(method_id)
        for position, trigger in enumerate(walk_path):
            if trigger in walk_path[:position]:
                continue
            spec = method.trigger(trigger)
            earlier = {
                k
                for t in walk_path[:position]
                for r in method.trigger(t).requirements
                if r.severity is Severity.HARD
                for k in kinds_needed(r)
            }
            for kind in sorted(
                {
                    k
                    for r in spec.requirements
                    if r.severity is Severity.HARD
                    for k in kinds_needed(r)
                }
            ):
                if not _dependents(method_id, kind) & earlier:
                    cases.append((method_id, trigger, kind))
    return cases


def _approval_cases() -> list[tuple[str, str, str]]:
    """(method, trigger, kind) for each hard approval a trigger needs."""
    return [
        (method_id, t.name, r.deliverable)
        for method_id in sorted(METHODS)
        for t in compiled(method_id).method.triggers
        for r in t.requirements
        if isinstance(r, Approved) and r.severity is Severity.HARD
    ]


@pytest.mark.parametrize("method_id", sorted(METHODS))
def test_every_builtin_method_walks_to_closed(method_id: str) -> None:
    """A built-in method runs from match-making to closed on the seeds' data without warnings."""
    walk = Walk(method_id)
    with EventRecorder(walk.engagement.bus) as recorder:
        walk.to_end()
    assert walk.engagement.phase == "closed"
    assert walk.engagement.version == len(walk.outcomes) + 1
    assert walk.warnings() == []
    assert recorder.of_type(EngagementClosed)
    assert [h.to_phase for h in walk.engagement.history if h.action == "fire"][-1] == "closed"
    assert walk.engagement.history[0].action == "create"
    assert (
        walk.state.event_count == len(recorder) + 1
    )  # the creation event came before the recorder
    assert not recorder.of_type(EngagementCreated)


def test_missing_cases_cover_every_method() -> None:
    """The derived refusal cases reach every built-in method and every gated trigger kind."""
    cases = _missing_cases()
    assert {m for m, _, _ in cases} == set(METHODS)
    assert {"start_visit", "close"} <= {t for _, t, _ in cases}


@pytest.mark.parametrize(("method_id", "trigger", "kind"), _missing_cases())
def test_gate_refuses_when_a_required_deliverable_is_missing(
    method_id: str, trigger: str, kind: str
) -> None:
    """With one deliverable (and whatever depends on it) missing, the gate refuses with exactly
    the rule ids of the trigger's hard requirements on those deliverables, naming who owes them."""
    skipped = _dependents(method_id, kind)
    walk = Walk(method_id, skip=skipped).until(trigger)
    spec = compiled(method_id).trigger(trigger)
    verdict = walk.check(trigger)
    expected = set().union(*(hard_rules_on(spec, k) for k in skipped))
    assert set(verdict.rules) == expected
    missing = [f for f in verdict.unmet if f.message.endswith("not submitted")]
    assert missing, "no finding says what is missing"
    assert all(f.owed_by and f.deliverable in skipped for f in missing)
    before = walk.state
    with pytest.raises(TransitionRefused) as refused:
        walk.engagement.fire(trigger, actor=F, at=walk.now, related=walk.related)
    assert refused.value.verdict == verdict
    assert walk.state == before


@pytest.mark.parametrize(("method_id", "trigger", "kind"), _approval_cases())
def test_gate_refuses_while_a_deliverable_awaits_approval(
    method_id: str, trigger: str, kind: str
) -> None:
    """A submitted but unapproved deliverable refuses the gate with its approval rule only."""
    walk = Walk(method_id, unapproved={kind}).until(trigger)
    spec = compiled(method_id).trigger(trigger)
    verdict = walk.check(trigger)
    assert set(verdict.rules) == {
        r.rule for r in spec.requirements if isinstance(r, Approved) and r.deliverable == kind
    }
    assert all(f.deliverable == kind for f in verdict.unmet)
