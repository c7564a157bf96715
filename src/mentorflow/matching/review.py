"""The review lifecycle of a proposal, from solver output to teams every city has accepted.

::

    start ──> PROPOSED ──publish──> PUBLISHED ──accept / decline──> ...
               │  ^                     │
     add_pair, │  │ rerun               │ rematch (declined pairs forbidden,
   remove_pair └──┘                     │ accepted and pending pairs pinned)
                  ^─────────────────────┘

A :class:`Review` is an immutable value: every step returns a new review with one more event.
Facilitator edits need a reason (the recorded override of R-MATCH-7) and keep the R-MATCH-2 cap
and mentor capacities. A refused step raises :class:`ReviewRefused` with the rule id and why.
Event ids are ``"<review id>/<sequence>"``, so the same steps always give the same ids.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import attrs

from mentorflow.matching.errors import InfeasibleMatching, ReviewRefused
from mentorflow.matching.solver import candidates, solve

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import pendulum

    from mentorflow.matching.parameters import Pair
    from mentorflow.matching.problem import MatchingProblem

__all__ = [
    "AcceptedTeam",
    "PairAdded",
    "PairRemoved",
    "ProposalMade",
    "ProposalPublished",
    "Review",
    "ReviewEvent",
    "ReviewState",
    "TeamAccepted",
    "TeamDeclined",
]


class ReviewState(enum.StrEnum):
    """Where a review stands."""

    PROPOSED = "proposed"
    PUBLISHED = "published"


@attrs.frozen(kw_only=True)
class ReviewEvent:
    """What every review event carries: a deterministic id, its place, when and who."""

    event_id: str
    review_id: str
    sequence: int
    at: pendulum.DateTime
    actor: str


@attrs.frozen(kw_only=True)
class ProposalMade(ReviewEvent):
    """The solver proposed ``pairs``; ``cause`` is ``start``, ``rerun`` or ``rematch``."""

    cause: str
    pairs: tuple[Pair, ...]
    objective: int


@attrs.frozen(kw_only=True)
class PairAdded(ReviewEvent):
    """The facilitator added a pair, with the reason recorded (R-MATCH-7)."""

    pair: Pair
    reason: str


@attrs.frozen(kw_only=True)
class PairRemoved(ReviewEvent):
    """The facilitator removed a pair, with the reason recorded (R-MATCH-7)."""

    pair: Pair
    reason: str


@attrs.frozen(kw_only=True)
class ProposalPublished(ReviewEvent):
    """The proposal was published to the cities."""

    pairs: tuple[Pair, ...]


@attrs.frozen(kw_only=True)
class TeamAccepted(ReviewEvent):
    """A city accepted every pending pair it is part of."""

    city_id: str
    pairs: tuple[Pair, ...]


@attrs.frozen(kw_only=True)
class TeamDeclined(ReviewEvent):
    """A city declined one pair; it will not be proposed again."""

    city_id: str
    pair: Pair
    reason: str


@attrs.frozen
class AcceptedTeam:
    """A mentee city's mentor cities that both sides accepted: what an engagement starts from.

    ``representatives_per_city`` comes from the programme parameters (R-MATCH-4, R-MATCH-5);
    ``needs_covered`` are the mentee's need topics the team covers, usable as engagement themes.
    """

    mentee_city_id: str
    mentor_city_ids: tuple[str, ...]
    representatives_per_city: int
    needs_covered: tuple[str, ...]


def _sorted(pairs: Iterable[Pair]) -> tuple[Pair, ...]:
    return tuple(sorted(pairs))


@attrs.frozen
class Review:
    """A proposal under review; build one with :meth:`start`."""

    review_id: str
    problem: MatchingProblem
    state: ReviewState
    pairs: frozenset[Pair]
    objective: int
    accepted_by: Mapping[Pair, frozenset[str]]
    declined: frozenset[Pair]
    added: frozenset[Pair]
    removed: frozenset[Pair]
    events: tuple[ReviewEvent, ...]

    @classmethod
    def start(
        cls, review_id: str, problem: MatchingProblem, *, at: pendulum.DateTime, actor: str
    ) -> Review:
        """Solve ``problem`` and open its review with the optimal proposal."""
        proposal = solve(problem)
        review = cls(
            review_id, problem, ReviewState.PROPOSED, proposal.pairs, proposal.objective,
            {}, frozenset(), frozenset(), frozenset(), (),
        )  # fmt: skip
        return review._record(
            ProposalMade, at, actor, cause="start", pairs=_sorted(proposal.pairs),
            objective=proposal.objective,
        )  # fmt: skip

    # -- helpers -------------------------------------------------------------------------------

    def _record(
        self, kind: type[ReviewEvent], at: pendulum.DateTime, actor: str, **fields: object
    ) -> Review:
        sequence = len(self.events) + 1
        event = kind(
            event_id=f"{self.review_id}/{sequence:04d}", review_id=self.review_id,
            sequence=sequence, at=at, actor=actor, **fields,
        )  # fmt: skip
        return attrs.evolve(self, events=(*self.events, event))

    def _require_state(self, state: ReviewState, step: str) -> None:
        if self.state is not state:
            raise ReviewRefused("REVIEW-STATE", f"{step} needs a {state} review, not {self.state}")

    def _require_pair(self, pair: Pair) -> None:
        self.problem.mentee(pair[0])
        self.problem.mentor(pair[1])
        if pair not in self.pairs:
            raise ReviewRefused("REVIEW-PAIR", f"{pair} is not in the proposal")

    def is_accepted(self, pair: Pair) -> bool:
        """Whether both cities of the pair accepted it."""
        return self.accepted_by.get(pair, frozenset()) >= set(pair)

    def _resolve(
        self, cause: str, pins: frozenset[Pair], at: pendulum.DateTime, actor: str
    ) -> Review:
        params = self.problem.parameters
        forbidden = params.forbidden | self.removed | self.declined
        clash = sorted(pins & forbidden)
        if clash:
            raise ReviewRefused("FORBIDDEN", f"cannot pin forbidden or declined pairs {clash}")
        problem = self.problem.with_parameters(
            attrs.evolve(params, pinned=params.pinned | pins, forbidden=forbidden)
        )
        try:
            proposal = solve(problem, candidates(problem))
        except InfeasibleMatching as error:
            raise ReviewRefused("INFEASIBLE", error.reason) from error
        accepted = {p: c for p, c in self.accepted_by.items() if p in proposal.pairs}
        review = attrs.evolve(
            self, state=ReviewState.PROPOSED, pairs=proposal.pairs,
            objective=proposal.objective, accepted_by=accepted,
        )  # fmt: skip
        return review._record(
            ProposalMade, at, actor, cause=cause, pairs=_sorted(proposal.pairs),
            objective=proposal.objective,
        )  # fmt: skip

    # -- facilitator steps ---------------------------------------------------------------------

    def add_pair(
        self, mentee_id: str, mentor_id: str, *, reason: str, at: pendulum.DateTime, actor: str
    ) -> Review:
        """Add a pair by hand (R-MATCH-7 override); the reason is recorded."""
        self._require_state(ReviewState.PROPOSED, "add_pair")
        pair = (mentee_id, mentor_id)
        mentor = self.problem.mentor(mentor_id)
        self.problem.mentee(mentee_id)
        cap = self.problem.parameters.max_mentors_per_mentee
        if not reason.strip():
            raise ReviewRefused("R-MATCH-7", "an override needs a recorded reason")
        if pair in self.pairs:
            raise ReviewRefused("REVIEW-PAIR", f"{pair} is already in the proposal")
        if pair in self.declined or pair in self.problem.parameters.forbidden:
            raise ReviewRefused("FORBIDDEN", f"{pair} was declined or is forbidden")
        if sum(1 for p in self.pairs if p[0] == mentee_id) >= cap:
            raise ReviewRefused("R-MATCH-2", f"{mentee_id!r} already has {cap} mentor cities")
        if sum(1 for p in self.pairs if p[1] == mentor_id) >= mentor.capacity:
            raise ReviewRefused("CAPACITY", f"{mentor_id!r} is at capacity {mentor.capacity}")
        review = attrs.evolve(
            self, pairs=self.pairs | {pair}, added=self.added | {pair},
            removed=self.removed - {pair},
        )  # fmt: skip
        return review._record(PairAdded, at, actor, pair=pair, reason=reason)

    def remove_pair(
        self, mentee_id: str, mentor_id: str, *, reason: str, at: pendulum.DateTime, actor: str
    ) -> Review:
        """Remove a pair by hand (R-MATCH-7 override); it is not proposed again."""
        self._require_state(ReviewState.PROPOSED, "remove_pair")
        pair = (mentee_id, mentor_id)
        self._require_pair(pair)
        if not reason.strip():
            raise ReviewRefused("R-MATCH-7", "an override needs a recorded reason")
        if self.is_accepted(pair):
            raise ReviewRefused("REVIEW-ACCEPTED", f"{pair} was accepted by both cities")
        review = attrs.evolve(
            self, pairs=self.pairs - {pair}, added=self.added - {pair},
            removed=self.removed | {pair},
        )  # fmt: skip
        return review._record(PairRemoved, at, actor, pair=pair, reason=reason)

    def rerun(self, *, pins: Iterable[Pair] = (), at: pendulum.DateTime, actor: str) -> Review:
        """Solve again; added, accepted and pinned pairs stay, removed and declined stay out."""
        self._require_state(ReviewState.PROPOSED, "rerun")
        kept = {p for p in self.pairs if self.is_accepted(p)}
        return self._resolve("rerun", frozenset(pins) | self.added | kept, at, actor)

    def publish(self, *, at: pendulum.DateTime, actor: str) -> Review:
        """Publish the proposal; the cities may now accept or decline."""
        self._require_state(ReviewState.PROPOSED, "publish")
        review = attrs.evolve(self, state=ReviewState.PUBLISHED)
        return review._record(ProposalPublished, at, actor, pairs=_sorted(self.pairs))

    def rematch(self, *, at: pendulum.DateTime, actor: str) -> Review:
        """After declines, solve again: published pairs stay, declined ones are forbidden."""
        self._require_state(ReviewState.PUBLISHED, "rematch")
        return self._resolve("rematch", self.pairs, at, actor)

    # -- city steps ----------------------------------------------------------------------------

    def accept(self, city_id: str, *, at: pendulum.DateTime, actor: str) -> Review:
        """The city accepts every published pair it is part of."""
        self._require_state(ReviewState.PUBLISHED, "accept")
        mine = _sorted(p for p in self.pairs if city_id in p)
        if not mine:
            raise ReviewRefused("REVIEW-CITY", f"{city_id!r} has no pair in the proposal")
        accepted = dict(self.accepted_by)
        for pair in mine:
            accepted[pair] = accepted.get(pair, frozenset()) | {city_id}
        review = attrs.evolve(self, accepted_by=accepted)
        return review._record(TeamAccepted, at, actor, city_id=city_id, pairs=mine)

    def decline(
        self, mentee_id: str, mentor_id: str, *, by: str, reason: str,
        at: pendulum.DateTime, actor: str,
    ) -> Review:  # fmt: skip
        """One city of a published pair declines it; the pair leaves and is never proposed again."""
        self._require_state(ReviewState.PUBLISHED, "decline")
        pair = (mentee_id, mentor_id)
        self._require_pair(pair)
        if by not in pair:
            raise ReviewRefused("REVIEW-CITY", f"{by!r} is not a city of {pair}")
        if self.is_accepted(pair):
            raise ReviewRefused("REVIEW-ACCEPTED", f"{pair} was accepted by both cities")
        accepted = {p: c for p, c in self.accepted_by.items() if p != pair}
        review = attrs.evolve(
            self, pairs=self.pairs - {pair}, declined=self.declined | {pair},
            added=self.added - {pair}, accepted_by=accepted,
        )  # fmt: skip
        return review._record(TeamDeclined, at, actor, city_id=by, pair=pair, reason=reason)

    # -- results -------------------------------------------------------------------------------

    def accepted_teams(self) -> tuple[AcceptedTeam, ...]:
        """The teams of pairs both sides accepted, one record per mentee city, sorted."""
        teams = []
        reps = self.problem.parameters.representatives_per_city
        for mentee in self.problem.mentees:
            mentors = tuple(
                sorted(m for (e, m) in self.pairs if e == mentee.id and self.is_accepted((e, m)))
            )
            if mentors:
                covered = mentee.topics & frozenset().union(
                    *(self.problem.mentor(m).topics for m in mentors)
                )
                teams.append(AcceptedTeam(mentee.id, mentors, reps, tuple(sorted(covered))))
        return tuple(teams)
