"""Match-making: explainable, capacity-aware pairing of mentee and mentor cities (R-MATCH-1..7).

Curated public names only; the logic lives in one module per job.
"""

from __future__ import annotations

from mentorflow.matching.eligibility import (
    RULES,
    Eligibility,
    EligibilityRule,
    RuleFailure,
    check_pair,
)
from mentorflow.matching.engagements import start_engagements
from mentorflow.matching.errors import (
    InfeasibleMatching,
    InvalidMatchingInput,
    MatchingError,
    Problem,
    ReviewRefused,
)
from mentorflow.matching.explain import (
    PairExplanation,
    WhyNot,
    WhyNotKind,
    report,
    why_not,
    why_pair,
)
from mentorflow.matching.hosting import HostAllocation, allocate_hosts, blocking_pairs
from mentorflow.matching.parameters import ExpertiseMode, Pair, ProgrammeParameters, Weights
from mentorflow.matching.problem import MatchingProblem
from mentorflow.matching.profiles import (
    AvailabilityWindow,
    Institution,
    MenteeCity,
    MentorCity,
    Need,
    Practice,
    SizeBand,
    available_together,
)
from mentorflow.matching.review import (
    AcceptedTeam,
    PairAdded,
    PairRemoved,
    ProposalMade,
    ProposalPublished,
    Review,
    ReviewEvent,
    ReviewState,
    TeamAccepted,
    TeamDeclined,
)
from mentorflow.matching.rock2017 import rock2017_problem
from mentorflow.matching.scoring import Component, PairScore, fit_points, need_values, score_pair
from mentorflow.matching.solver import Candidates, Proposal, Team, candidates, solve, team_value

__all__ = [
    "AcceptedTeam",
    "AvailabilityWindow",
    "Candidates",
    "Component",
    "Eligibility",
    "EligibilityRule",
    "ExpertiseMode",
    "HostAllocation",
    "InfeasibleMatching",
    "Institution",
    "InvalidMatchingInput",
    "MatchingError",
    "MatchingProblem",
    "MenteeCity",
    "MentorCity",
    "Need",
    "Pair",
    "PairAdded",
    "PairExplanation",
    "PairRemoved",
    "PairScore",
    "Practice",
    "Problem",
    "ProgrammeParameters",
    "Proposal",
    "ProposalMade",
    "ProposalPublished",
    "RULES",
    "Review",
    "ReviewEvent",
    "ReviewRefused",
    "ReviewState",
    "RuleFailure",
    "SizeBand",
    "Team",
    "TeamAccepted",
    "TeamDeclined",
    "Weights",
    "WhyNot",
    "WhyNotKind",
    "allocate_hosts",
    "available_together",
    "blocking_pairs",
    "candidates",
    "check_pair",
    "fit_points",
    "need_values",
    "report",
    "rock2017_problem",
    "score_pair",
    "solve",
    "start_engagements",
    "team_value",
    "why_not",
    "why_pair",
]
