"""Accepted match-making teams start engagements in the core engine."""

from __future__ import annotations

import pendulum

from mentorflow import EventBus, Organisation, Participant, Role, compiled
from mentorflow.events import EngagementMatched
from mentorflow.matching import Review
from mentorflow.matching.engagements import start_engagements
from mentorflow.matching.rock2017 import rock2017_problem

AT = pendulum.datetime(2017, 9, 1, tz="Europe/Brussels")
EUROCITIES = Organisation("eurocities", "EUROCITIES", "BE", "Europe/Brussels")
RAPPORTEUR = Participant("eurocities-1", "EUROCITIES rapporteur", Role.FACILITATOR, "eurocities")


def _accepted_review() -> Review:
    problem = rock2017_problem()
    review = Review.start("rock-2017", problem, at=AT, actor="eurocities").publish(
        at=AT, actor="eurocities"
    )
    for city in (*problem.mentee_ids, *problem.mentor_ids):
        if any(city in pair for pair in review.pairs):
            review = review.accept(city, at=AT, actor=city)
    return review


def test_each_accepted_team_becomes_a_matched_engagement() -> None:
    """R-MATCH-2, R-MATCH-4, R-VISIT-2: every accepted team starts an engagement that passes confirm_match."""
    review = _accepted_review()
    teams = review.accepted_teams()
    matched: list[EngagementMatched] = []
    bus = EventBus()
    bus.subscribe(EngagementMatched, matched.append)
    engagements = start_engagements(
        teams,
        review.problem,
        compiled("rock.mentoring"),
        review_id="rock-2017",
        facilitator=EUROCITIES,
        facilitator_participant=RAPPORTEUR,
        at=AT,
        bus=bus,
    )
    assert len(engagements) == len(teams) > 0
    for engagement, team in zip(engagements, teams, strict=True):
        assert engagement.id == f"rock-2017/{team.mentee_city_id}"
        assert engagement.phase == "preparation"
        assert set(engagement.state.organisations_with(Role.MENTOR)) == set(team.mentor_city_ids)
        themes = {t.id for t in engagement.state.themes}
        assert themes <= set(team.needs_covered)
        assert len(themes) == min(2, len(team.needs_covered))  # R-VISIT-2
    assert len(matched) == len(teams)


def test_starting_twice_gives_the_same_ids_and_snapshots() -> None:
    """Engagement ids and snapshots derive from the review: a re-run is identical."""
    review = _accepted_review()
    method = compiled("rock.mentoring")

    def run() -> list[object]:
        return [
            e.state
            for e in start_engagements(
                review.accepted_teams(),
                review.problem,
                method,
                review_id="rock-2017",
                facilitator=EUROCITIES,
                facilitator_participant=RAPPORTEUR,
                at=AT,
            )
        ]

    assert run() == run()


def test_an_overridden_team_that_breaks_the_cap_stays_in_matchmaking() -> None:
    """R-MATCH-2: a team over the method's cap is created but not matched; check says why."""
    review = _accepted_review()
    team = review.accepted_teams()[0]
    strict = compiled("rock.work_shadowing")  # one host city only
    (engagement,) = start_engagements(
        [team],
        review.problem,
        strict,
        review_id="r",
        facilitator=EUROCITIES,
        facilitator_participant=RAPPORTEUR,
        at=AT,
    )
    if len(team.mentor_city_ids) > 1:
        assert engagement.phase == "matchmaking"
        verdict = engagement.check("confirm_match", actor=RAPPORTEUR.id, at=AT)
        assert "R-MATCH-5" in verdict.rules
