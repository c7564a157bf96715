"""Match-making at scale: 1,000 mentee x 300 mentor cities, 30 needs; MILP vs min-cost flow."""

from __future__ import annotations

import random
import time

import networkx as nx
import pendulum

from benchmarks._harness import median_seconds, report_ratio, report_value
from mentorflow.matching import (
    AvailabilityWindow,
    Candidates,
    MatchingProblem,
    MenteeCity,
    MentorCity,
    Need,
    Practice,
    ProgrammeParameters,
    candidates,
    solve,
)

MENTEES, MENTORS, TOPICS = 1000, 300, 30
_TAGS = ("planner", "curator", "policy", "finance", "heritage", "tourism")
_START = pendulum.date(2026, 1, 1)


def _window(rng: random.Random) -> AvailabilityWindow:
    """About four months somewhere in the year: a city is not free all the time."""
    start = _START.add(days=rng.randrange(0, 240))
    return AvailabilityWindow(start, start.add(days=120))


def instance(
    max_mentors: int, seed: int = 2017, mentees: int = MENTEES, mentors: int = MENTORS
) -> MatchingProblem:
    """A reproducible problem: mentees state 2-5 needs, mentors offer 1-3 practices on 1-2
    topics, capacities 1-6 mentees, English shared by all, four-month availability windows."""
    rng = random.Random(seed)
    topics = [f"topic-{n:02d}" for n in range(TOPICS)]
    mentee_cities = [
        MenteeCity(
            f"mentee-{i:04d}", f"Mentee {i}", f"C{rng.randrange(27):02d}",
            [Need(t, rng.randint(1, 5)) for t in rng.sample(topics, rng.randint(2, 5))],
            role_tags=rng.sample(_TAGS, 2), expertise_level=rng.randint(1, 4),
            availability=[_window(rng)],
        )
        for i in range(mentees)
    ]  # fmt: skip
    mentor_cities = [
        MentorCity(
            f"mentor-{j:03d}", f"Mentor {j}", f"C{rng.randrange(27):02d}",
            [Practice(f"p{j}-{q}", rng.sample(topics, rng.randint(1, 2)))
             for q in range(rng.randint(1, 3))],
            role_tags=rng.sample(_TAGS, 2), expertise_level=rng.randint(2, 5),
            availability=[_window(rng)], capacity=rng.randint(1, 6),
        )
        for j in range(mentors)
    ]  # fmt: skip
    params = ProgrammeParameters(max_mentors_per_mentee=max_mentors)
    return MatchingProblem(mentee_cities, mentor_cities, params)


def min_cost_flow_baseline(problem: MatchingProblem, cands: Candidates) -> int:
    """The pairwise optimum (one mentor per mentee) by networkx min-cost flow."""
    graph = nx.DiGraph()
    n = len(problem.mentees)
    graph.add_node("source", demand=-n)
    graph.add_node("sink", demand=n)
    graph.add_edge("source", "sink", capacity=n, weight=0)  # a mentee may stay unmatched
    for mentee in problem.mentees:
        graph.add_edge("source", mentee.id, capacity=1, weight=0)
    for mentor in problem.mentors:
        graph.add_edge(mentor.id, "sink", capacity=mentor.capacity, weight=0)
    values = {m.id: {need.topic: need.priority * 10 for need in m.needs} for m in problem.mentees}
    for pair in cands.pairs:
        value = cands.fit[pair] + sum(values[pair[0]][t] for t in cands.covered[pair])
        graph.add_edge(pair[0], pair[1], capacity=1, weight=-value)
    cost, _ = nx.network_simplex(graph)
    return int(-cost)


def main() -> bool:
    """Print time to optimal for teams of up to 3, and the pairwise ratio against networkx."""
    ok = True
    team_problem = instance(max_mentors=3)
    start = time.perf_counter()
    team_cands = candidates(team_problem)
    prepared = time.perf_counter()
    proposal = solve(team_problem, team_cands)
    solved = time.perf_counter()
    print(
        f"teams of up to 3: {len(team_cands.pairs)} eligible pairs, "
        f"{len(proposal.pairs)} chosen, objective {proposal.objective}"
    )
    report_value("eligibility and scoring, 1000 x 300", prepared - start, "s")
    ok &= report_value("MILP time to optimal, teams of up to 3", solved - prepared, "s", target=10)
    ok &= report_value("total time to optimal, teams of up to 3", solved - start, "s", target=10)

    half = instance(max_mentors=3, mentees=MENTEES // 2, mentors=MENTORS // 2)
    half_cands = candidates(half)
    start = time.perf_counter()
    solve(half, half_cands)
    report_value(
        "MILP time to optimal, teams of up to 3, 500 x 150", time.perf_counter() - start, "s"
    )

    pair_problem = instance(max_mentors=1)
    pair_cands = candidates(pair_problem)
    milp_value = solve(pair_problem, pair_cands).objective
    flow_value = min_cost_flow_baseline(pair_problem, pair_cands)
    print(f"pairwise: MILP objective {milp_value}, min-cost flow objective {flow_value}")
    ok &= milp_value == flow_value
    measured = median_seconds(lambda: solve(pair_problem, pair_cands), number=1, repeat=3)
    baseline = median_seconds(
        lambda: min_cost_flow_baseline(pair_problem, pair_cands), number=1, repeat=3
    )
    ok &= report_ratio(
        "pairwise MILP vs networkx min-cost flow", measured, baseline, target=2, unit="s"
    )
    return ok
