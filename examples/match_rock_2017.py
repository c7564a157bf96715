"""Match the ROCK 2017 cities, explain the proposal, and take it through review.

Run: ``python examples/match_rock_2017.py``
"""

from __future__ import annotations

import pendulum

from mentorflow.matching import Review, report, rock2017_problem, solve, why_not, why_pair

AT = pendulum.datetime(2017, 9, 6, 10, tz="Europe/Brussels")
FACILITATOR = "eurocities"


def main() -> None:
    """Print the proposal, a few explanations, and the accepted teams after one decline."""
    problem = rock2017_problem()
    proposal = solve(problem)
    print("== proposal")
    print(report(proposal))

    print("\n== why Turin for Bologna?")
    print(why_pair(proposal, "bologna", "turin"))

    print("\n== why not ...?")
    for mentee_id, mentor_id in [
        ("bologna", "athens"), ("bologna", "liverpool"), ("bologna", "vilnius"),
        ("skopje", "cluj-napoca"),
    ]:  # fmt: skip
        print(why_not(proposal, mentee_id, mentor_id))

    print("\n== review")
    review = Review.start("rock-2017", problem, at=AT, actor=FACILITATOR)
    review = review.publish(at=AT, actor=FACILITATOR)
    review = review.decline(
        "skopje", "liverpool", by="liverpool", reason="no staff free in January", at=AT,
        actor="liverpool",
    )  # fmt: skip
    review = review.rematch(at=AT, actor=FACILITATOR).publish(at=AT, actor=FACILITATOR)
    for city in (*problem.mentee_ids, *problem.mentor_ids):
        if any(city in pair for pair in review.pairs):
            review = review.accept(city, at=AT, actor=city)
    for event in review.events:
        print(f"{event.event_id}  {type(event).__name__}")
    for team in review.accepted_teams():
        print(team)


if __name__ == "__main__":
    main()
