"""Hypothesis strategies and a brute-force oracle for small match-making instances."""

from __future__ import annotations

import itertools
from functools import cache

import pendulum
from hypothesis import strategies as st

from mentorflow.matching import (
    AvailabilityWindow,
    ExpertiseMode,
    Institution,
    MatchingProblem,
    MenteeCity,
    MentorCity,
    Need,
    Practice,
    ProgrammeParameters,
    SizeBand,
    Weights,
    check_pair,
    need_values,
    score_pair,
)

TOPICS = ("culture", "finance", "heritage", "participation", "tourism")
WINDOWS = (
    AvailabilityWindow(pendulum.date(2017, 11, 1), pendulum.date(2017, 11, 30)),
    AvailabilityWindow(pendulum.date(2017, 11, 20), pendulum.date(2017, 12, 20)),
    AvailabilityWindow(pendulum.date(2018, 1, 1), pendulum.date(2018, 2, 28)),
)

_tags = st.frozensets(st.sampled_from(("planner", "curator", "policy")), max_size=3)
_languages = st.frozensets(st.sampled_from(("en", "fr")), min_size=1)
_windows = st.lists(st.sampled_from(WINDOWS), max_size=2, unique=True)
_institutions = st.builds(
    Institution,
    st.sampled_from(("municipal", "metropolitan")),
    st.frozensets(st.sampled_from(("culture", "planning")), max_size=2),
    st.sampled_from(list(SizeBand)),
)


@st.composite
def mentees(draw: st.DrawFn, city_id: str, max_needs: int = 3) -> MenteeCity:
    topics = draw(st.lists(st.sampled_from(TOPICS), min_size=1, max_size=max_needs, unique=True))
    needs = [Need(t, draw(st.integers(1, 5)), draw(st.booleans())) for t in topics]
    return MenteeCity(
        city_id, city_id.title(), draw(st.sampled_from("ABC")), needs,
        role_tags=draw(_tags), institution=draw(_institutions),
        expertise_level=draw(st.integers(1, 5)), languages=draw(_languages),
        availability=draw(_windows), translation_budget=draw(st.booleans()),
    )  # fmt: skip


@st.composite
def mentors(draw: st.DrawFn, city_id: str) -> MentorCity:
    practices = [
        Practice(
            f"{city_id}-{n}", draw(st.frozensets(st.sampled_from(TOPICS), min_size=1, max_size=2))
        )
        for n in range(draw(st.integers(1, 2)))
    ]
    return MentorCity(
        city_id, city_id.title(), draw(st.sampled_from("ABC")), practices,
        role_tags=draw(_tags), institution=draw(_institutions),
        expertise_level=draw(st.integers(1, 5)), languages=draw(_languages),
        availability=draw(_windows), capacity=draw(st.integers(0, 2)),
    )  # fmt: skip


@st.composite
def problems(
    draw: st.DrawFn,
    max_mentees: int = 4,
    max_mentors: int = 5,
    *,
    constraints: bool = True,
    max_needs: int = 3,
) -> MatchingProblem:
    """A small problem; with ``constraints``, random pins, forbidden pairs and country minimums."""
    e = [draw(mentees(f"e{i}", max_needs)) for i in range(draw(st.integers(1, max_mentees)))]
    r = [draw(mentors(f"r{j}")) for j in range(draw(st.integers(1, max_mentors)))]
    pairs = [(a.id, b.id) for a in e for b in r]
    cap = draw(st.integers(1, 3))
    weights = Weights(
        need=draw(st.integers(0, 10)), role=draw(st.integers(0, 3)),
        second_cover_percent=draw(st.integers(0, 100)),
    )  # fmt: skip
    pinned: set[tuple[str, str]] = set()
    forbidden: set[tuple[str, str]] = set()
    countries = None
    if constraints:
        forbidden = set(draw(st.lists(st.sampled_from(pairs), max_size=3)))
        pinned = set(draw(st.lists(st.sampled_from(pairs), max_size=2))) - forbidden
        countries = draw(st.none() | st.integers(1, cap))
    params = ProgrammeParameters(
        max_mentors_per_mentee=cap, forbidden=forbidden, pinned=pinned,
        min_countries_per_team=countries, weights=weights,
        expertise_mode=draw(st.sampled_from(list(ExpertiseMode))),
    )  # fmt: skip
    return MatchingProblem(e, r, params)


def oracle(problem: MatchingProblem) -> int | None:
    """Best objective by exhaustive search over every team (dynamic programming over the
    remaining mentor capacities); ``None`` when pins and capacities cannot all hold."""
    params = problem.parameters
    options: list[list[tuple[tuple[int, ...], int]]] = []
    for mentee in problem.mentees:
        values = need_values(mentee, params)
        allowed = [
            j for j, m in enumerate(problem.mentors)
            if (mentee.id, m.id) in params.pinned or check_pair(mentee, m, params).eligible
        ]  # fmt: skip
        pinned = {j for j in allowed if (mentee.id, problem.mentors[j].id) in params.pinned}
        teams = []
        for size in range(params.max_mentors_per_mentee + 1):
            for team in itertools.combinations(allowed, size):
                if not pinned <= set(team):
                    continue
                chosen = [problem.mentors[j] for j in team]
                k = params.min_countries_per_team
                if team and k is not None and len({m.country for m in chosen}) < k:
                    continue
                value = 0
                counts = dict.fromkeys(values, 0)
                for mentor in chosen:
                    score = score_pair(mentee, mentor, params)
                    value += score.total - score.component("needs").points
                    for topic in score.covered:
                        counts[topic] += 1
                for topic, count in counts.items():
                    value += values[topic][0] * (count >= 1) + values[topic][1] * (count >= 2)
                teams.append((team, value))
        options.append(teams)

    @cache
    def best(index: int, left: tuple[int, ...]) -> int | None:
        if index == len(options):
            return 0
        found = None
        for team, value in options[index]:
            if all(left[j] > 0 for j in team):
                rest = best(index + 1, tuple(c - (j in team) for j, c in enumerate(left)))
                if rest is not None and (found is None or value + rest > found):
                    found = value + rest
        return found

    return best(0, tuple(m.capacity for m in problem.mentors))
