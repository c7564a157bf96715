"""Accepted teams become engagements: the hand-over from match-making to the core engine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from mentorflow.compiled import CompiledMethod
from mentorflow.engagement import Engagement
from mentorflow.events import EventBus
from mentorflow.matching.problem import MatchingProblem
from mentorflow.matching.review import AcceptedTeam
from mentorflow.model import Organisation, Participant, Role, Theme, Visit

__all__ = ["start_engagements"]


def _representatives(city: str, name: str, role: Role, count: int) -> list[Participant]:
    return [
        Participant(f"{city}-{n}", f"{name} representative {n}", role, city)
        for n in range(1, count + 1)
    ]


def start_engagements(
    teams: Sequence[AcceptedTeam],
    problem: MatchingProblem,
    method: CompiledMethod,
    *,
    review_id: str,
    facilitator: Organisation,
    facilitator_participant: Participant,
    at: dt.datetime,
    timezones: Mapping[str, str] | None = None,
    visits: Mapping[str, Sequence[Visit]] | None = None,
    confirm: bool = True,
    bus: EventBus | None = None,
) -> tuple[Engagement, ...]:
    """One engagement per accepted team, created in match-making and, if ``confirm``, matched.

    Engagement ids derive from the review and the mentee city (``"<review>/<mentee>"``), so a
    re-run creates the same ids. Representatives are named ``"<city>-<n>"``; the themes are the
    covered needs of highest priority, as many as the method allows per visit. When the method refuses ``confirm_match`` (a team that breaks
    R-MATCH-2 after a facilitator's override, say), the engagement stays in match-making and the
    refusal is left for the facilitator to read with ``check``.
    """
    zones = timezones or {}
    mentees = {m.id: m for m in problem.mentees}
    mentors = {m.id: m for m in problem.mentors}
    started = []
    for team in teams:
        mentee = mentees[team.mentee_city_id]
        cities = [(mentee.id, mentee.name, mentee.country, Role.MENTEE)]
        cities += [
            (m, mentors[m].name, mentors[m].country, Role.MENTOR) for m in team.mentor_city_ids
        ]
        organisations = [Organisation(c, n, k, zones.get(c, "UTC")) for c, n, k, _ in cities]
        organisations.append(facilitator)
        participants = [
            p
            for city, name, _, role in cities
            for p in _representatives(city, name, role, team.representatives_per_city)
        ]
        participants.append(facilitator_participant)
        needs = {n.topic: n for n in mentee.needs}
        # A visit focuses on at most max_themes challenges (R-VISIT-2): the mentee's most
        # pressing covered needs become the themes, highest priority first, then by topic.
        ranked = sorted(team.needs_covered, key=lambda topic: (-needs[topic].priority, topic))
        cap = method.method.parameters.max_themes
        themes = [Theme(topic, needs[topic].description or topic) for topic in ranked[:cap]]
        engagement = Engagement.start(
            method,
            id=f"{review_id}/{mentee.id}",
            title=f"{method.method.title}: {mentee.name}",
            organisations=organisations,
            participants=participants,
            themes=themes,
            visits=tuple((visits or {}).get(mentee.id, ())),
            actor=facilitator_participant.id,
            at=at,
            bus=bus,
        )
        actor = facilitator_participant.id
        # A refused confirmation leaves the engagement in match-making, where check() says why.
        if confirm and engagement.check("confirm_match", actor=actor, at=at).allowed:
            engagement.fire("confirm_match", actor=actor, at=at)
        started.append(engagement)
    return tuple(started)
