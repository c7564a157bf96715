"""Tests of eligibility rules and score components."""

from __future__ import annotations

import attrs
from hypothesis import given
from hypothesis import strategies as st

from _matching_strategies import problems
from mentorflow.matching import (
    ExpertiseMode,
    MatchingProblem,
    ProgrammeParameters,
    Weights,
    candidates,
    check_pair,
    fit_points,
    rock2017_problem,
    score_pair,
)

PROBLEM = rock2017_problem()


def test_pair_covering_no_need_fails_r_match_1() -> None:
    """R-MATCH-1: a mentor city with no practice on the mentee's needs is ineligible."""
    verdict = check_pair(
        PROBLEM.mentee("bologna"), PROBLEM.mentor("vilnius"), ProgrammeParameters()
    )
    assert verdict.rule_ids == ("R-MATCH-1",)
    assert "Vilnius" in verdict.failures[0].reason


def test_ineligible_pair_lists_every_rule_it_fails() -> None:
    """A pair failing several rules lists each rule id, in rule order."""
    mentee = attrs.evolve(PROBLEM.mentee("bologna"), languages={"it"})
    mentor = attrs.evolve(PROBLEM.mentor("vilnius"), languages={"lt"})
    params = ProgrammeParameters(
        forbidden={("bologna", "vilnius")},
        no_repeat_partner=True,
        previous_partners={("bologna", "vilnius")},
    )
    verdict = check_pair(mentee, mentor, params)
    assert verdict.rule_ids == ("R-MATCH-1", "R-PREP-7", "FORBIDDEN", "NO-REPEAT")


def test_translation_budget_satisfies_r_prep_7() -> None:
    """R-PREP-7: without a common language, a translation budget keeps the pair eligible."""
    mentee = attrs.evolve(PROBLEM.mentee("skopje"), languages={"mk"}, translation_budget=True)
    verdict = check_pair(mentee, PROBLEM.mentor("lyon"), ProgrammeParameters())
    assert verdict.eligible


def test_disjoint_availability_fails() -> None:
    """Cities whose availability windows never overlap are ineligible (AVAILABILITY)."""
    verdict = check_pair(PROBLEM.mentee("bologna"), PROBLEM.mentor("athens"), ProgrammeParameters())
    assert verdict.rule_ids == ("AVAILABILITY",)


def test_score_components_are_integers_with_reasons() -> None:
    """R-MATCH-3: every component has integer points and a reason, summing to the total."""
    score = score_pair(PROBLEM.mentee("bologna"), PROBLEM.mentor("turin"), ProgrammeParameters())
    names = [c.name for c in score.components]
    assert names == ["needs", "role", "institution", "expertise", "practicalities"]
    assert all(isinstance(c.points, int) and c.reason for c in score.components)
    assert score.total == sum(c.points for c in score.components)
    assert score.covered == {"creative-industries", "art-markets"}


def test_needs_points_follow_priorities() -> None:
    """R-MATCH-1: need points are the covered needs' priorities times the need weight."""
    score = score_pair(PROBLEM.mentee("bologna"), PROBLEM.mentor("turin"), ProgrammeParameters())
    assert score.component("needs").points == (5 + 3) * 10


def test_expertise_close_mode_prefers_equal_levels() -> None:
    """R-MATCH-3: in close mode an equal expertise level scores highest."""
    params = ProgrammeParameters(expertise_mode=ExpertiseMode.CLOSE)
    equal = score_pair(PROBLEM.mentee("lisbon"), PROBLEM.mentor("vilnius"), params)
    far = score_pair(PROBLEM.mentee("lisbon"), PROBLEM.mentor("lyon"), params)
    assert equal.component("expertise").points > far.component("expertise").points


def test_expertise_gap_mode_prefers_more_experienced_hosts() -> None:
    """R-MATCH-3: in gap mode (work-shadowing) a more experienced mentor scores higher."""
    params = ProgrammeParameters(expertise_mode=ExpertiseMode.GAP)
    equal = score_pair(PROBLEM.mentee("lisbon"), PROBLEM.mentor("vilnius"), params)
    far = score_pair(PROBLEM.mentee("lisbon"), PROBLEM.mentor("lyon"), params)
    assert far.component("expertise").points > equal.component("expertise").points
    assert equal.component("expertise").points == 0


@given(
    problems(constraints=False),
    st.builds(
        Weights,
        role=st.integers(0, 5),
        institution=st.integers(0, 5),
        expertise=st.integers(0, 5),
        practicalities=st.integers(0, 5),
    ),
    st.sampled_from(list(ExpertiseMode)),
)
def test_solver_fit_points_equal_the_explained_score(
    problem: MatchingProblem, weights: Weights, mode: ExpertiseMode
) -> None:
    """R-MATCH-3: the points the solver counts for a pair, computed without reasons, are the fit
    of the explained score breakdown, and its covered needs are the breakdown's."""
    params = attrs.evolve(problem.parameters, weights=weights, expertise_mode=mode)
    for mentee in problem.mentees:
        for mentor in problem.mentors:
            score = score_pair(mentee, mentor, params)
            assert fit_points(mentee, mentor, params) == score.fit
            # pinned, so the pair is a candidate whatever the eligibility rules say
            pair = (mentee.id, mentor.id)
            alone = MatchingProblem([mentee], [mentor], attrs.evolve(params, pinned={pair}))
            listed = candidates(alone)
            assert (listed.fit[pair], listed.covered[pair]) == (score.fit, score.covered)
