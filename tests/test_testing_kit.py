"""The public testing kit: strategies give what they promise, the recorder hears events in order."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import mentorflow.testing as kit
from mentorflow.catalog import METHODS, compiled
from mentorflow.deliverables import CONTENT_TYPES, content_problems
from mentorflow.events import DeliverableSubmitted, EventBus, PhaseEntered
from mentorflow.exceptions import InvalidDeliverable
from mentorflow.model import Agenda, Organisation, Participant, Theme, Visit, VisitWindow
from mentorflow.requirements import Context, TeamComposition
from mentorflow.testing import (
    EventRecorder,
    FrozenClock,
    Team,
    invalid_content,
    teams,
    valid_content,
)
from mentorflow.verdicts import Severity

KINDS = sorted(CONTENT_TYPES)


def test_all_is_sorted_and_complete() -> None:
    """mentorflow.testing's __all__ is sorted and names every public attribute it exports."""
    assert kit.__all__ == sorted(kit.__all__)
    public = {
        n
        for n in vars(kit)
        if not n.startswith("_") and n not in {"annotations", "recorder", "stateful", "strategies"}
    }
    assert public == set(kit.__all__)


#: The kit's own property tests are cheap to state but many; 100 examples each keep CI short.
FEW = settings(max_examples=100)


@pytest.mark.parametrize("kind", KINDS)
@FEW
@given(data=st.data())
def test_valid_content_passes_validation(kind: str, data: st.DataObject) -> None:
    """valid_content(kind) draws content of that kind with no content problems."""
    content = data.draw(valid_content(kind))
    assert content.kind == kind
    assert content_problems(content) == ()


@pytest.mark.parametrize("kind", KINDS)
@FEW
@given(data=st.data())
def test_invalid_content_is_reported_at_its_path(kind: str, data: st.DataObject) -> None:
    """invalid_content(kind) spoils one field, and validation names that field's $.path."""
    path, content = data.draw(invalid_content(kind))
    assert path in {p.path for p in content_problems(content)}


@FEW
@given(data=st.data())
def test_submitting_invalid_content_raises_invalid_deliverable_naming_the_field(
    data: st.DataObject,
) -> None:
    """The engine refuses spoiled content with InvalidDeliverable naming the field, unchanged."""
    team = data.draw(teams(compiled("rock.mentoring")))
    engagement = team.start(
        compiled("rock.mentoring"), at=kit.FrozenClock(data.draw(kit.instants())).now()
    )
    path, content = data.draw(
        invalid_content(
            data.draw(st.sampled_from(["needs_assessment", "mentors_paper", "roadmap", "agenda"]))
        )
    )
    before = engagement.state
    with pytest.raises(InvalidDeliverable) as error:
        engagement.submit(content, actor=team.facilitator, at=engagement.history[-1].at)
    assert path in {p.path for p in error.value.problems}
    assert engagement.state == before


@pytest.mark.parametrize("method_id", sorted(METHODS))
@FEW
@given(data=st.data())
def test_teams_satisfy_the_method_team_composition(method_id: str, data: st.DataObject) -> None:
    """teams(method) fits R-MATCH-2, R-MATCH-4, R-MATCH-5, R-ROLE-2: confirm_match is allowed."""
    method = compiled(method_id)
    team = data.draw(teams(method))
    engagement = team.start(method, at=kit.FrozenClock(data.draw(kit.instants())).now())
    ctx = Context(engagement.state, method.method, engagement.history[-1].at, {})
    assert [f for f in TeamComposition().evaluate(ctx) if f.severity is Severity.HARD] == []
    verdict = engagement.check(
        "confirm_match",
        actor=team.facilitator,
        related=dict.fromkeys(team.prerequisites, "closed"),
        at=engagement.history[-1].at,
    )
    assert verdict.allowed, verdict.explain()


@FEW
@given(
    org=kit.organisations(),
    person=kit.participants(),
    theme=kit.themes(),
    window=kit.visit_windows(),
    visit=kit.visits(),
    agenda=kit.agendas(),
    finding=kit.findings(),
    verdict=kit.verdicts(),
)
def test_record_strategies_build_records(
    org: Organisation,
    person: Participant,
    theme: Theme,
    window: VisitWindow,
    visit: Visit,
    agenda: Agenda,
    finding: object,
    verdict: object,
) -> None:
    """The record strategies build the public records, with sane windows and sessions."""
    assert org.id
    assert person.id
    assert theme.title.strip()
    assert window.end >= window.start
    assert window.days >= 1
    assert all(s.end > s.start for s in agenda.sessions)
    assert visit.visitors


@given(window=kit.visit_windows(tentative=True), fixed=kit.visit_windows(tentative=False))
def test_visit_windows_can_be_tentative_or_fixed(window: VisitWindow, fixed: VisitWindow) -> None:
    """visit_windows(tentative=...) gives TBC or fixed dates as asked (R-PROG-7)."""
    assert window.tentative
    assert not fixed.tentative


@given(agenda=kit.complete_agendas())
def test_complete_agendas_tag_every_session_kind_on_the_final_day(agenda: Agenda) -> None:
    """complete_agendas() meets any AgendaIncludes, final-day ones included (R-PROG-4)."""
    from mentorflow.model import SessionKind

    last = agenda.days[-1]
    assert {k for s in agenda.sessions_on(last) for k in s.kinds} == set(SessionKind)


def test_event_recorder_keeps_events_in_order_and_filters_by_type() -> None:
    """EventRecorder hears every event in order, filters by type, and stops when closed."""
    from walker import Walk

    bus = EventBus()
    recorder = EventRecorder(bus)
    walk = Walk("rock.mentoring", bus=bus)
    walk.fire("confirm_match")
    walk.supply("needs_assessment")
    assert recorder.types[:2] == ["EngagementCreated", "PhaseEntered"]
    assert recorder.sequences == list(range(1, len(recorder) + 1))
    assert [e.kind for e in recorder.of_type(DeliverableSubmitted)] == ["needs_assessment"]
    assert recorder.of_type(PhaseEntered)[0].to_phase == "preparation"
    assert recorder.last is not None
    assert recorder.last.id == f"{walk.engagement.id}#{len(recorder)}"
    recorder.close()
    walk.supply("language_plan")
    assert len(recorder) == walk.state.event_count - 1
    recorder.clear()
    assert list(recorder) == []


def test_frozen_clock_stands_still_and_moves_forward_on_demand() -> None:
    """The re-exported FrozenClock drives an engagement's time without the wall clock."""
    from walker import START, plan_for

    clock = FrozenClock(START)
    engagement = plan_for("rock.mentoring").start(clock=clock)
    assert engagement.history[-1].at == START
    later = clock.advance(days=3)
    engagement.fire("confirm_match", actor="eurocities-1")
    assert engagement.history[-1].at == later


def test_team_helpers_name_the_facilitator_and_roles() -> None:
    """Team.facilitator and Team.with_role read the team's participants."""
    from mentorflow.model import Role

    team = Team((Organisation("o", "O"),), (Participant("f", "F", Role.FACILITATOR, "o"),), (), ())
    assert team.facilitator == "f"
    assert team.with_role(Role.MENTOR) == ()
    assert team.organisations_with(Role.FACILITATOR) == ("o",)
