"""Hand-checked rules of the seeds on the built-in methods, each citing its R- id."""

from __future__ import annotations

import attrs
import pendulum
import pytest

from mentorflow import rock2017 as rock
from mentorflow.exceptions import ActionRefused
from mentorflow.model import Participant, Role, SessionKind, Theme, VisitMode, VisitWindow
from mentorflow.state import DeliverableStatus
from walker import F, Walk, plan_for

BOLOGNA, ATHENS = rock.rep("bologna"), rock.rep("athens")


def test_needs_assessment_comes_before_the_mentors_paper() -> None:
    """R-PREP-1: the mentors' paper is refused until the mentee city's needs assessment is in."""
    walk = Walk("rock.mentoring")
    walk.fire("confirm_match")
    before = walk.state
    with pytest.raises(ActionRefused) as refused:
        walk.engagement.submit(rock.mentors_paper(), actor=ATHENS, at=walk.now)
    assert refused.value.verdict.rules == ("R-PREP-1",)
    assert walk.state == before
    walk.supply("needs_assessment")
    walk.engagement.submit(rock.mentors_paper(), actor=ATHENS, at=walk.now)


def test_mentors_paper_goes_draft_shared_agreed_and_a_new_version_resets_approvals() -> None:
    """R-PREP-2: mentors draft, share, the mentee agrees; a new version needs it all again."""
    walk = Walk("rock.mentoring")
    walk.fire("confirm_match")
    walk.supply("needs_assessment")
    e = walk.engagement
    e.submit(rock.mentors_paper(), actor=ATHENS, at=walk.now)
    with pytest.raises(ActionRefused) as early:
        e.approve("mentors_paper", actor=BOLOGNA, at=walk.now)
    assert "must be shared" in early.value.verdict.unmet[0].message
    with pytest.raises(ActionRefused):
        e.share("mentors_paper", actor=BOLOGNA, at=walk.now)  # only the mentors share their draft
    e.share("mentors_paper", actor=ATHENS, at=walk.now)
    assert e.state.deliverable("mentors_paper").status is DeliverableStatus.SHARED
    e.approve("mentors_paper", actor=BOLOGNA, at=walk.now)
    assert e.state.deliverable("mentors_paper").status is DeliverableStatus.APPROVED
    e.submit(
        attrs.evolve(rock.mentors_paper(), hypotheses=("A new hypothesis",)),
        actor=ATHENS,
        at=walk.now,
    )
    record = e.state.deliverable("mentors_paper")
    assert (record.version, record.status, record.approvals) == (2, DeliverableStatus.SUBMITTED, ())
    walk.skip.add("mentors_paper")
    walk.prepare("start_visit")
    assert walk.check("start_visit").rules == ("R-PREP-2",)


def test_agenda_needs_both_sides() -> None:
    """R-PREP-6: the host drafts the agenda, the visitors approve it; the host alone cannot."""
    walk = Walk("rock.mentoring", unapproved={"agenda"}).until("start_visit")
    with pytest.raises(ActionRefused):
        walk.engagement.approve("agenda", actor=BOLOGNA, at=walk.now)
    assert "R-PREP-6" in walk.check("start_visit").rules
    walk.engagement.approve("agenda", actor=ATHENS, at=walk.now)
    assert walk.check("start_visit").allowed


def test_mentoring_agenda_must_hold_the_four_sessions() -> None:
    """R-VISIT-3: briefing, action-plan discussion, benchmark review, endorsement are required."""
    walk = Walk("rock.mentoring").until("start_visit")
    agenda = rock.agenda_for(walk.state.visit)
    trimmed = attrs.evolve(
        agenda.agenda, sessions=agenda.agenda.sessions[:-1]
    )  # drop the endorsement
    walk.engagement.submit(attrs.evolve(agenda, agenda=trimmed), actor=BOLOGNA, at=walk.now)
    walk.engagement.approve("agenda", actor=ATHENS, at=walk.now)
    verdict = walk.check("start_visit")
    assert verdict.rules == ("R-VISIT-3",)
    assert "action plan endorsement" in verdict.unmet[0].message


def test_work_shadowing_needs_the_opening_introduction_and_travel_guide() -> None:
    """R-VISIT-7 and R-PREP-4: an opening introduction session, and the host's travel guide."""
    walk = Walk("rock.work_shadowing", skip={"travel_guide"}).until("start_visit")
    agenda = rock.agenda_for(walk.state.visit, work_shadowing=True)
    without = attrs.evolve(agenda.agenda, sessions=agenda.agenda.sessions[1:])
    walk.engagement.submit(
        attrs.evolve(agenda, agenda=without), actor=rock.rep("turin"), at=walk.now
    )
    walk.engagement.approve("agenda", actor=BOLOGNA, at=walk.now)
    assert set(walk.check("start_visit").rules) == {"R-VISIT-7", "R-PREP-4"}


def test_language_plan_is_required() -> None:
    """R-PREP-7: no visit without a language plan (English, or budgeted translation)."""
    walk = Walk("rock.mentoring", skip={"language_plan"}).until("start_visit")
    assert walk.check("start_visit").rules == ("R-PREP-7",)


def test_visit_report_roadmap_and_article_gate_the_review() -> None:
    """R-FOLLOW-1, R-FOLLOW-3, R-COMM-1: approved report, roadmap and article come first."""
    walk = Walk("rock.mentoring", skip={"visit_report", "roadmap", "article"}).until("start_review")
    assert set(walk.check("start_review").rules) == {"R-FOLLOW-1", "R-FOLLOW-3", "R-COMM-1"}


def test_every_action_needs_a_status_at_the_follow_up_review() -> None:
    """R-FOLLOW-8: an action left out of the follow-up review blocks closing."""
    walk = Walk("rock.mentoring").until("close")
    roadmap = walk.state.deliverable("roadmap").content
    partial = rock.follow_up_review(attrs.evolve(roadmap, actions=roadmap.actions[:1]))
    walk.engagement.submit(partial, actor=F, at=walk.now)
    verdict = walk.check("close")
    assert verdict.rules == ("R-FOLLOW-8",)
    assert "a2" in verdict.unmet[0].message


def test_visitor_summary_gates_closing_work_shadowing() -> None:
    """R-FOLLOW-6: the visitors' summary to the host is required to close work-shadowing."""
    walk = Walk("rock.work_shadowing", skip={"visitor_summary"}).until("close")
    assert walk.check("close").rules == ("R-FOLLOW-6",)


def test_at_most_three_mentor_cities_and_a_facilitator() -> None:
    """R-MATCH-2 and R-ROLE-2: a fourth role-model city, or no facilitator, refuses the match."""
    plan = plan_for("rock.mentoring")
    extra = Participant("lyon-1", "Lyon", Role.MENTOR, "lyon")
    crowded = attrs.evolve(
        plan,
        organisations=(*plan.organisations, rock.CITIES["lyon"]),
        participants=(*plan.participants, extra),
    )
    e = crowded.start(at=Walk("rock.mentoring").now)
    assert "R-MATCH-2" in e.check("confirm_match", actor=F, at=e.history[-1].at).rules
    no_facilitator = attrs.evolve(
        plan,
        participants=(
            *(p for p in plan.participants if p.role is not Role.FACILITATOR),
            Participant(F, "EUROCITIES as observer", Role.OBSERVER, rock.FACILITATOR_ID),
        ),
    )
    e = no_facilitator.start(at=Walk("rock.mentoring").now)
    assert "R-ROLE-2" in e.check("confirm_match", actor=F, at=e.history[-1].at).rules


def test_one_representative_per_mentor_city() -> None:
    """R-MATCH-4: ROCK mentoring teams take one representative per mentor city."""
    plan = plan_for("rock.mentoring")
    second = Participant("athens-2", "Athens 2", Role.MENTOR, "athens")
    e = attrs.evolve(plan, participants=(*plan.participants, second)).start(
        at=Walk("rock.mentoring").now
    )
    assert e.check("confirm_match", actor=F, at=e.history[-1].at).rules == ("R-MATCH-4",)


def test_work_shadowing_one_or_two_per_visiting_city_and_a_topic() -> None:
    """R-MATCH-5 and R-MATCH-6: three visitors from one city, or no topic, refuse the match."""
    plan = plan_for("rock.work_shadowing")
    third = Participant("bologna-3", "Bologna 3", Role.MENTEE, "bologna")
    e = attrs.evolve(plan, participants=(*plan.participants, third), themes=()).start(
        at=Walk("rock.mentoring").now
    )
    assert set(e.check("confirm_match", actor=F, at=e.history[-1].at).rules) == {
        "R-MATCH-5",
        "R-MATCH-6",
    }


def test_at_most_two_themes() -> None:
    """R-VISIT-2 and R-MATCH-1: three themes refuse the ROCK match, and so does none."""
    plan = plan_for("rock.mentoring")
    e = attrs.evolve(plan, themes=(*plan.themes, Theme("t3", "Third"))).start(
        at=Walk("rock.mentoring").now
    )
    assert e.check("confirm_match", actor=F, at=e.history[-1].at).rules == ("R-VISIT-2",)
    e = attrs.evolve(plan, themes=()).start(at=Walk("rock.mentoring").now)
    assert e.check("confirm_match", actor=F, at=e.history[-1].at).rules == ("R-MATCH-1",)


def test_visit_needs_aim_and_outcome_and_fixed_dates() -> None:
    """R-PROG-5 and R-PROG-7: a TBC visit without aim cannot start, and cannot even be planned."""
    plan = plan_for("rock.mentoring")
    visit = attrs.evolve(
        plan.visits[0], aim=" ", window=attrs.evolve(plan.visits[0].window, tentative=True)
    )
    walk = Walk("rock.mentoring", plan=attrs.evolve(plan, visits=(visit,))).until("start_visit")
    assert set(walk.check("start_visit").rules) == {"R-PROG-5", "R-PROG-7"}
    with pytest.raises(ActionRefused) as refused:
        walk.engagement.plan_visit(visit, actor=F, at=walk.now)
    assert refused.value.verdict.rules == ("R-PROG-5",)
    fixed = attrs.evolve(visit, aim="Test the hypotheses", window=plan.visits[0].window)
    walk.engagement.plan_visit(fixed, actor=F, at=walk.now)
    assert walk.check("start_visit").allowed


def test_four_session_programme_shape() -> None:
    """R-PROG-2: two online sessions (mentor, then mentee), then two in-person visits, in order."""
    plan = plan_for("rock.four_session")
    swapped = (plan.visits[1], plan.visits[0], *plan.visits[2:])
    walk = Walk("rock.four_session", plan=attrs.evolve(plan, visits=swapped)).until("start_visit")
    rules = walk.check("start_visit").rules
    assert set(rules) == {"R-PROG-2"}
    assert len(rules) == 2  # both of the first two sessions have the wrong host
    walk = Walk("rock.four_session", plan=attrs.evolve(plan, visits=plan.visits[:3])).until(
        "start_visit"
    )
    assert walk.check("start_visit").rules == ("R-PROG-2",)


def test_values_joint_action_plan_on_the_final_day() -> None:
    """R-PROG-4: VALUES visits end with a jointly drafted action plan on their final day."""
    walk = Walk("values.mentoring").until("start_visit")
    agenda = rock.agenda_for(walk.state.visit)
    joint = SessionKind.JOINT_ACTION_PLAN
    moved = tuple(attrs.evolve(s, kinds=s.kinds - {joint}) for s in agenda.agenda.sessions)
    walk.engagement.submit(
        attrs.evolve(agenda, agenda=attrs.evolve(agenda.agenda, sessions=moved)),
        actor=BOLOGNA,
        at=walk.now,
    )
    walk.engagement.approve("agenda", actor=ATHENS, at=walk.now)
    verdict = walk.check("start_visit")
    assert verdict.rules == ("R-PROG-4",)
    assert "final day" in verdict.unmet[0].message


def test_create_work_shadowing_precedes_mentoring() -> None:
    """R-PROG-3: CREATE mentoring waits until its work-shadowing engagement has closed."""
    walk = Walk("create.mentoring")
    e = walk.engagement
    assert e.check("confirm_match", actor=F, at=walk.now).rules == ("R-PROG-3",)
    assert e.check(
        "confirm_match", actor=F, at=walk.now, related={"rock-ws-turin": "visit"}
    ).rules == ("R-PROG-3",)
    assert e.check(
        "confirm_match", actor=F, at=walk.now, related={"rock-ws-turin": "closed"}
    ).allowed


def test_eurocities_flexible_sequence_of_visits() -> None:
    """R-PROG-1: visits go either way, online or in person; the last leads to follow-up."""
    walk = Walk("eurocities.mentoring").until("start_visit")
    walk.fire("start_visit")
    assert walk.check("finish_programme").rules == ("R-PROG-1",)
    walk.fire("finish_visit")
    assert walk.state.current_visit == 1
    assert walk.state.visits[0].mode is VisitMode.ONLINE
    walk.fire("start_visit")
    assert walk.check("finish_visit").rules == ("R-PROG-1",)
    walk.fire("finish_programme")
    assert walk.engagement.phase == "follow_up"


def test_a_held_visit_cannot_be_planned_again() -> None:
    """R-PROG-1: once the last visit has finished, it cannot be re-planned after the fact."""
    walk = Walk("rock.mentoring").until("start_visit")
    walk.fire("start_visit")
    walk.fire("finish_visit")
    visit = walk.state.visits[0]
    moved = attrs.evolve(
        visit, window=VisitWindow(pendulum.date(2019, 1, 1), pendulum.date(2019, 1, 3))
    )
    before = walk.state
    with pytest.raises(ActionRefused) as refused:
        walk.engagement.plan_visit(moved, actor=F, at=walk.now)
    assert refused.value.verdict.rules == ("MF-VISIT",)
    assert walk.state == before
