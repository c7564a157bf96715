"""Tests of match-making inputs: profiles, parameters and problems refuse bad data by field."""

from __future__ import annotations

import pendulum
import pytest

from mentorflow.matching import (
    AvailabilityWindow,
    InvalidMatchingInput,
    MatchingProblem,
    MenteeCity,
    MentorCity,
    Need,
    Practice,
    ProgrammeParameters,
    Weights,
    rock2017_problem,
)


def _paths(error: pytest.ExceptionInfo[InvalidMatchingInput]) -> set[str]:
    return {p.path for p in error.value.problems}


def test_mentee_city_names_every_bad_field() -> None:
    """A mentee city with several bad fields reports each of them, not only the first."""
    with pytest.raises(InvalidMatchingInput) as error:
        MenteeCity(" ", "X", "", needs=[], expertise_level=9, languages=[])
    assert _paths(error) == {"$.id", "$.country", "$.expertise_level", "$.languages", "$.needs"}


def test_need_priority_out_of_range_names_the_field() -> None:
    """A need priority outside 1..5 is refused naming $.priority."""
    with pytest.raises(InvalidMatchingInput, match=r"\$\.priority"):
        Need("heritage", 7)


def test_duplicate_need_topics_are_refused() -> None:
    """A mentee city cannot state the same topic twice."""
    with pytest.raises(InvalidMatchingInput, match="stated twice"):
        MenteeCity("m", "M", "IT", [Need("a"), Need("a")])


def test_mentor_city_needs_practices_and_non_negative_capacity() -> None:
    """A mentor city without practices or with negative capacity is refused by field."""
    with pytest.raises(InvalidMatchingInput) as error:
        MentorCity("r", "R", "FR", [], capacity=-1)
    assert _paths(error) == {"$.practices", "$.capacity"}


def test_practice_needs_a_topic() -> None:
    """A practice that covers no topic is refused."""
    with pytest.raises(InvalidMatchingInput, match=r"\$\.topics"):
        Practice("empty", set())


def test_availability_window_end_before_start_is_refused() -> None:
    """An availability window ending before it starts is refused naming $.end."""
    with pytest.raises(InvalidMatchingInput, match=r"\$\.end"):
        AvailabilityWindow(pendulum.date(2018, 1, 2), pendulum.date(2018, 1, 1))


@pytest.mark.parametrize("cap", [0, 4])
def test_mentor_cap_outside_one_to_three_is_refused(cap: int) -> None:
    """R-MATCH-2: the cap on mentor cities per mentee city is 1 to 3."""
    with pytest.raises(InvalidMatchingInput, match="R-MATCH-2"):
        ProgrammeParameters(max_mentors_per_mentee=cap)


def test_representatives_per_city_is_one_or_two() -> None:
    """R-MATCH-5: one or two representatives per city."""
    with pytest.raises(InvalidMatchingInput, match="R-MATCH-5"):
        ProgrammeParameters(representatives_per_city=3)


def test_a_pair_cannot_be_both_pinned_and_forbidden() -> None:
    """Pinning a forbidden pair is refused naming $.pinned."""
    pair = {("lisbon", "lyon")}
    with pytest.raises(InvalidMatchingInput, match=r"\$\.pinned"):
        ProgrammeParameters(pinned=pair, forbidden=pair)


def test_negative_weights_are_refused() -> None:
    """Weights must not be negative; the field is named."""
    with pytest.raises(InvalidMatchingInput, match=r"\$\.role"):
        Weights(role=-1)


def test_pins_naming_unknown_cities_are_refused() -> None:
    """A pin on a city outside the problem is refused naming $.parameters.pinned."""
    with pytest.raises(InvalidMatchingInput, match=r"\$\.parameters\.pinned"):
        rock2017_problem(ProgrammeParameters(pinned={("lisbon", "paris")}))


def test_duplicate_city_ids_are_refused() -> None:
    """Two mentee cities with one id are refused."""
    mentee = rock2017_problem().mentees[0]
    with pytest.raises(InvalidMatchingInput, match="used twice"):
        MatchingProblem([mentee, mentee], rock2017_problem().mentors)


def test_unknown_city_lookup_is_a_clear_error_not_a_key_error() -> None:
    """Looking up an unknown city raises InvalidMatchingInput naming the id."""
    with pytest.raises(InvalidMatchingInput, match="'paris'"):
        rock2017_problem().mentor("paris")
