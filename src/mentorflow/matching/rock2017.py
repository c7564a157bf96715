"""Fixture: the ROCK 2017 cities (3 mentee, 7 mentor cities) as a match-making problem.

Source: ROCK deliverable D1.1 "Guidelines for mentoring activities" (EUROCITIES, 2017). The seed
names the cities, the district qualities ROCK aims for ("clustered economies, lively creative
industries, adequate financial wealth, presence of markets sensitive to new artistic expressions,
and cultural institutions active in the promotion of cultural events"), the three domains of
innovation (organisational, technological, social), the aims of mentoring ("identify opportunities
for funding", "foster a participative approach") and the calendar with its related events. It does
not publish the needs survey, so *which* city states *which* need with *what* priority, and the
availability windows outside the calendar, are illustrative choices, not data from ROCK.
"""

from __future__ import annotations

import pendulum

from mentorflow.matching.parameters import ProgrammeParameters
from mentorflow.matching.problem import MatchingProblem
from mentorflow.matching.profiles import (
    AvailabilityWindow,
    Institution,
    MenteeCity,
    MentorCity,
    Need,
    Practice,
    SizeBand,
)

__all__ = ["rock2017_problem"]

_VISITS = AvailabilityWindow(pendulum.date(2017, 11, 1), pendulum.date(2018, 2, 28))
_HERITAGE = "renowned experience of heritage-led urban regeneration (D1.1, What is ROCK)"
_MUNICIPAL = Institution("municipal", {"culture", "urban-planning"}, SizeBand.MEDIUM)


def _window(start: tuple[int, int, int], end: tuple[int, int, int]) -> AvailabilityWindow:
    return AvailabilityWindow(pendulum.date(*start), pendulum.date(*end))


_MENTEES: tuple[MenteeCity, ...] = (
    MenteeCity(
        "bologna", "Bologna", "IT",
        needs=[
            Need("creative-industries", 5, description="lively creative industries"),
            Need("participation", 4, description="foster a participative approach"),
            Need("art-markets", 3, description="markets sensitive to new artistic expressions"),
            Need("sustainable-planning", 2, barrier=True),
        ],
        role_tags={"culture", "urban-planning", "economic-development"},
        institution=Institution("municipal", {"culture", "urban-planning"}, SizeBand.MEDIUM),
        expertise_level=3, languages={"en", "it"},
        availability=[_window((2017, 11, 24), (2017, 11, 26))],  # Bilbolbul festival visit
    ),
    MenteeCity(
        "lisbon", "Lisbon", "PT",
        needs=[
            Need("heritage-regeneration", 5, description="historic centre as creative district"),
            Need("funding", 4, barrier=True, description="identify opportunities for funding"),
            Need("social-innovation", 3),
        ],
        role_tags={"culture", "heritage"},
        institution=Institution("municipal", {"culture", "heritage"}, SizeBand.LARGE),
        expertise_level=3, languages={"en", "pt"},
        availability=[_window((2018, 2, 1), (2018, 2, 28))],  # February 2018 (TBC)
    ),
    MenteeCity(
        "skopje", "Skopje", "MK",
        needs=[
            Need("organisational-innovation", 5),
            Need("heritage-regeneration", 4),
            Need("funding", 4, barrier=True),
            Need("cultural-events", 3, description="cultural institutions promoting events"),
        ],
        role_tags={"culture", "urban-planning"},
        institution=Institution("municipal", {"culture", "urban-planning"}, SizeBand.MEDIUM),
        expertise_level=2, languages={"en", "mk"},
        availability=[_window((2018, 1, 1), (2018, 1, 31))],  # January 2018 (TBC)
    ),
)  # fmt: skip

_MENTORS: tuple[MentorCity, ...] = (
    MentorCity(
        "athens", "Athens", "GR",
        practices=[
            Practice("Heritage-led regeneration", {"heritage-regeneration"}, _HERITAGE),
            Practice("Civic participation", {"participation", "social-innovation"}, _HERITAGE),
        ],
        role_tags={"culture", "heritage"}, institution=_MUNICIPAL, expertise_level=3,
        languages={"en", "el"}, availability=[_window((2018, 1, 1), (2018, 2, 28))],
    ),
    MentorCity(
        "cluj-napoca", "Cluj-Napoca", "RO",
        practices=[
            Practice("Heritage-led regeneration", {"heritage-regeneration"}, _HERITAGE),
            Practice("Participatory budgeting", {"participation", "funding"}, _HERITAGE),
        ],
        role_tags={"culture", "urban-planning"}, institution=_MUNICIPAL, expertise_level=3,
        languages={"en", "ro"}, availability=[_VISITS],
    ),
    MentorCity(
        "eindhoven", "Eindhoven", "NL",
        practices=[
            Practice("GLOW light festival", {"cultural-events", "creative-industries"},
                     "work-shadowing visit 16-17 Nov 2017 at the GLOW festival (D1.1 calendar)"),
            Practice("Triple-helix design cluster", {"organisational-innovation",
                                                      "technological-innovation"}, _HERITAGE),
        ],
        role_tags={"economic-development", "innovation"},
        institution=Institution("municipal", {"economy", "culture"}, SizeBand.MEDIUM),
        expertise_level=5, languages={"en", "nl"}, availability=[_VISITS], capacity=2,
    ),
    MentorCity(
        "liverpool", "Liverpool", "GB",
        practices=[
            Practice("Heritage-led regeneration", {"heritage-regeneration", "funding"}, _HERITAGE),
            Practice("Creative districts", {"creative-industries"}, _HERITAGE),
        ],
        role_tags={"culture", "urban-planning", "economic-development"},
        institution=Institution("municipal", {"culture", "urban-planning"}, SizeBand.LARGE),
        expertise_level=4, languages={"en"}, availability=[_VISITS],
    ),
    MentorCity(
        "lyon", "Lyon", "FR",
        practices=[
            Practice("Fête des Lumières", {"cultural-events", "technological-innovation"},
                     "work-shadowing visit 7-10 Dec 2017 at the Fête des Lumières (D1.1)"),
            Practice("Historic site management", {"heritage-regeneration",
                                                  "organisational-innovation"}, _HERITAGE),
        ],
        role_tags={"culture", "heritage", "urban-planning"},
        institution=Institution("metropolitan", {"culture", "urban-planning"}, SizeBand.LARGE),
        expertise_level=5, languages={"en", "fr"}, availability=[_VISITS], capacity=2,
    ),
    MentorCity(
        "turin", "Turin", "IT",
        practices=[
            Practice("Artissima art fair", {"art-markets", "cultural-events"},
                     "work-shadowing visit 6-7 Nov 2017 at Artissima (D1.1 calendar)"),
            Practice("Creative industries support", {"creative-industries", "funding"}, _HERITAGE),
        ],
        role_tags={"culture", "economic-development"}, institution=_MUNICIPAL,
        expertise_level=4, languages={"en", "it"}, availability=[_VISITS], capacity=2,
    ),
    MentorCity(
        "vilnius", "Vilnius", "LT",
        practices=[
            Practice("Old town revitalisation", {"heritage-regeneration", "social-innovation"},
                     _HERITAGE),
        ],
        role_tags={"heritage", "urban-planning"}, institution=_MUNICIPAL, expertise_level=3,
        languages={"en", "lt"}, availability=[_VISITS],
    ),
)  # fmt: skip


def rock2017_problem(parameters: ProgrammeParameters | None = None) -> MatchingProblem:
    """The ROCK 2017 cities as one problem; default parameters: up to 3 mentors (R-MATCH-2)."""
    return MatchingProblem(_MENTEES, _MENTORS, parameters or ProgrammeParameters())
