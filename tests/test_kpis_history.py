"""KPIs recomputed from generated engagement histories equal an independent count kept by the test."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Callable

import attrs
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentorflow import engine
from mentorflow import rock2017 as rock
from mentorflow.actions import ActionTracker
from mentorflow.catalog import compiled
from mentorflow.deliverables import Action, ActionStatus, CostClass, Horizon, LocalRoadmap
from mentorflow.exceptions import TransitionRefused
from mentorflow.kpis import OnTime, programme_kpis
from mentorflow.model import Participant, Role, Theme, Visit, VisitMode, VisitWindow
from mentorflow.state import EngagementState

METHOD = compiled("rock.mentoring")
MENTORS = ("athens", "cluj", "eindhoven", "liverpool", "lyon", "turin", "vilnius")
MENTEES = ("bologna", "lisbon", "skopje")
FACILITATOR = rock.rep(rock.FACILITATOR_ID)
WINDOW = (pendulum.date(2017, 11, 24), pendulum.date(2017, 11, 26))
STEPS = 17  # the number of steps of the full walk below


def _start(i: int, mentee: str, mentors: tuple[str, ...], at: pendulum.DateTime) -> EngagementState:
    people = [Participant(rock.rep(mentee), "mentee", Role.MENTEE, mentee)]
    people += [Participant(rock.rep(m), m, Role.MENTOR, m) for m in mentors]
    people.append(Participant(FACILITATOR, "rapporteur", Role.FACILITATOR, rock.FACILITATOR_ID))
    visit = Visit(
        "v1",
        mentee,
        (*mentors, rock.FACILITATOR_ID),
        VisitMode.IN_PERSON,
        VisitWindow(*WINDOW),
        aim="test hypotheses",
        expected_outcome="endorsed action plan",
    )
    orgs = [rock.CITIES[c] for c in (mentee, *mentors, rock.FACILITATOR_ID)]
    return engine.start(
        METHOD,
        id=f"e{i}",
        title=f"engagement {i}",
        organisations=orgs,
        participants=people,
        actor=FACILITATOR,
        at=at,
        themes=(Theme("t", "heritage"),),
        visits=(visit,),
    ).state


@attrs.define
class Expected:
    """What the test itself saw happen, counted without the library's KPI code."""

    phase: str = "matchmaking"
    on_time: dict[str, list[bool]] = attrs.field(factory=dict)
    finished_at: pendulum.DateTime | None = None
    days_to_roadmap: float | None = None
    planned: int = 0
    statuses: dict[str, str] = attrs.field(factory=dict)

    def delivered(self, role: Role, at: pendulum.DateTime, due: pendulum.DateTime) -> None:
        self.on_time.setdefault(role.value, []).append(at <= due)


@st.composite
def walks(draw: st.DrawFn, i: int) -> tuple[EngagementState, Expected, tuple[str, ...]]:
    """One engagement walked a random number of steps, with random gaps, content and ending."""
    mentee = draw(st.sampled_from(MENTEES))
    mentors = tuple(draw(st.lists(st.sampled_from(MENTORS), min_size=1, max_size=3, unique=True)))
    zone = rock.CITIES[mentee].timezone
    before_visit = pendulum.datetime(*WINDOW[0].timetuple()[:3], tz=zone)
    after_visit = pendulum.datetime(2017, 11, 27, tz=zone)
    at = pendulum.datetime(2017, 8, 1, tz="UTC").add(hours=draw(st.integers(0, 24 * 100)))
    state = _start(i, mentee, mentors, at)
    seen = Expected()
    n_actions = draw(st.integers(1, 4))
    road = LocalRoadmap(
        rock.roadmap().learning_points,
        rock.roadmap().indicators,
        tuple(
            Action(f"a{k}", f"action {k}", Horizon.SHORT, CostClass.NO_COST, "office")
            for k in range(1, n_actions + 1)
        ),
    )
    statuses = {a.id: draw(st.none() | st.sampled_from(ActionStatus)) for a in road.actions}
    mentee_rep, mentor_rep = rock.rep(mentee), rock.rep(mentors[0])

    def submit(content: object, who: str) -> None:
        nonlocal state
        state = engine.submit(METHOD, state, content, actor=who, at=at).state  # type: ignore[arg-type]

    def fire(trigger: str, phase: str) -> None:
        nonlocal state
        state = engine.fire(METHOD, state, trigger, actor=FACILITATOR, at=at).state
        seen.phase = phase

    def close() -> None:
        if any(s is None for s in statuses.values()):
            with pytest.raises(TransitionRefused):
                fire("close", "closed")
        else:
            fire("close", "closed")

    def review() -> None:
        tracker = ActionTracker(road)
        for action_id, status in statuses.items():
            if status is not None:
                tracker = tracker.record(
                    action_id, at=at, by=FACILITATOR, status=status, reason="why"
                )
        if tracker.unreviewed() != tracker.action_ids:
            submit(tracker.review(), FACILITATOR)
            seen.statuses = {a: s.value for a, s in statuses.items() if s is not None}

    def roadmap() -> None:
        submit(road, mentee_rep)
        seen.delivered(Role.MENTEE, at, after_visit.add(days=60))
        assert seen.finished_at is not None
        seen.days_to_roadmap = (at - seen.finished_at).total_seconds() / 86400
        seen.planned = n_actions

    def finish() -> None:
        fire("finish_visit", "follow_up.reporting")
        seen.finished_at = at

    steps: list[Callable[[], None]] = [
        lambda: fire("confirm_match", "preparation"),
        lambda: submit(rock.needs_assessment(), mentee_rep),
        lambda: (
            submit(rock.mentors_paper(), mentor_rep),
            seen.delivered(Role.MENTOR, at, before_visit),
        ),
        lambda: state_set(
            engine.share(METHOD, state, "mentors_paper", actor=mentor_rep, at=at).state
        ),
        lambda: state_set(
            engine.approve(METHOD, state, "mentors_paper", actor=mentee_rep, at=at).state
        ),
        lambda: (
            submit(rock.language_plan(), mentee_rep),
            seen.delivered(Role.MENTEE, at, before_visit),
        ),
        lambda: (
            submit(rock.agenda_for(state.visits[0]), mentee_rep),
            seen.delivered(Role.MENTEE, at, before_visit),
        ),
        lambda: state_set(engine.approve(METHOD, state, "agenda", actor=mentor_rep, at=at).state),
        lambda: fire("start_visit", "visit"),
        finish,
        lambda: (
            submit(rock.visit_report(), mentor_rep),
            seen.delivered(Role.MENTOR, at, after_visit.add(days=30)),
        ),
        lambda: state_set(
            engine.approve(METHOD, state, "visit_report", actor=FACILITATOR, at=at).state
        ),
        roadmap,
        lambda: submit(road, mentee_rep),  # a second version: the first one counts for timing
        lambda: submit(rock.article("visit"), FACILITATOR),
        lambda: fire("start_review", "follow_up.review"),
        review,
        close,
    ]
    assert len(steps) == STEPS + 1

    def state_set(new: EngagementState) -> None:
        nonlocal state
        state = new

    for step in steps[: draw(st.just(len(steps)) | st.integers(0, len(steps)))]:
        at = at.add(hours=draw(st.integers(0, 24 * 40)))
        step()
    ending = draw(st.sampled_from(["none", "none", "none", "pause", "cancel"]))
    if ending != "none" and seen.phase != "closed":
        at = at.add(hours=1)
        state = engine.fire(
            METHOD, state, ending, actor=FACILITATOR, at=at, reason="elections"
        ).state
        seen.phase = "paused" if ending == "pause" else "cancelled"
    return state, seen, () if seen.phase == "cancelled" else mentors


@st.composite
def programmes(draw: st.DrawFn) -> list[tuple[EngagementState, Expected, tuple[str, ...]]]:
    """One to four engagements of a programme."""
    return [draw(walks(i)) for i in range(draw(st.integers(1, 4)))]


@settings(max_examples=40)
@given(programmes())
def test_kpis_equal_an_independent_count(
    programme: list[tuple[EngagementState, Expected, tuple[str, ...]]],
) -> None:
    """R-FOLLOW-8, R-PROG-8: phases, on-time rates, days to roadmap, actions and mentor use match."""
    states = [s for s, _, _ in programme]
    capacity = dict.fromkeys(MENTORS, 2)
    kpis = programme_kpis(states, mentor_capacity=capacity)

    assert kpis.engagements == len(programme)
    assert kpis.by_phase == dict(Counter(seen.phase for _, seen, _ in programme))

    on_time: dict[str, list[bool]] = {}
    for _, seen, _ in programme:
        for role, marks in seen.on_time.items():
            on_time.setdefault(role, []).extend(marks)
    assert kpis.on_time == {role: OnTime(sum(m), len(m) - sum(m)) for role, m in on_time.items()}

    days = [seen.days_to_roadmap for _, seen, _ in programme if seen.days_to_roadmap is not None]
    assert kpis.days_to_roadmap == pytest.approx(tuple(days))
    assert kpis.median_days_to_roadmap == (pytest.approx(statistics.median(days)) if days else None)

    planned = sum(seen.planned for _, seen, _ in programme)
    implemented = sum(
        1
        for _, seen, _ in programme
        for s in seen.statuses.values()
        if s == ActionStatus.IMPLEMENTED
    )
    assert (kpis.actions_planned, kpis.actions_implemented) == (planned, implemented)

    used = Counter(city for _, _, mentors in programme for city in mentors)
    assert kpis.mentor_engagements == dict(used)
    assert kpis.mentor_utilisation == {city: used[city] / 2 for city in MENTORS}

    dashboard = kpis.to_json()
    assert dashboard["actions"]["planned"] == planned
    assert sum(dashboard["by_phase"].values()) == len(programme)


def test_kpis_of_no_engagements_are_empty() -> None:
    """An empty programme has no rates rather than a division by zero."""
    kpis = programme_kpis([])
    assert kpis.on_time_overall.rate is None
    assert kpis.median_days_to_roadmap is None
    assert kpis.implementation_rate is None
    assert kpis.to_json()["engagements"] == 0
