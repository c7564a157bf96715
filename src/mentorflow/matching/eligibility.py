"""Hard eligibility rules for a (mentee, mentor) pair; an ineligible pair lists every rule it fails.

Rules, by id:

- ``R-MATCH-1``    the mentor city covers at least one of the mentee city's needs
- ``R-PREP-7``     the two cities share a working language, or the mentee budgets translation
- ``AVAILABILITY`` when both cities give availability windows, at least one pair overlaps
- ``FORBIDDEN``    the facilitator has not forbidden the pair
- ``NO-REPEAT``    with ``no_repeat_partner``, the two cities were not partners before

A pair the facilitator pins is taken even when it fails a rule other than ``FORBIDDEN``: pinning
is the recorded override of R-MATCH-7, and explanations show the rules it overrides.
"""

from __future__ import annotations

from collections.abc import Callable

import attrs

from mentorflow.matching.parameters import ProgrammeParameters
from mentorflow.matching.profiles import MenteeCity, MentorCity, available_together

__all__ = ["RULES", "Eligibility", "EligibilityRule", "RuleFailure", "check_pair"]

Check = Callable[[MenteeCity, MentorCity, ProgrammeParameters], str | None]


@attrs.frozen
class RuleFailure:
    """One failed rule: its id and a sentence saying why."""

    rule_id: str
    reason: str

    def __str__(self) -> str:
        return f"{self.rule_id}: {self.reason}"


@attrs.frozen
class EligibilityRule:
    """A named hard rule; ``check`` returns ``None`` when the pair passes, else the reason."""

    rule_id: str
    title: str
    check: Check


@attrs.frozen
class Eligibility:
    """The verdict on one pair: eligible when ``failures`` is empty."""

    mentee_id: str
    mentor_id: str
    failures: tuple[RuleFailure, ...]

    @property
    def eligible(self) -> bool:
        """Whether the pair passes every rule."""
        return not self.failures

    @property
    def rule_ids(self) -> tuple[str, ...]:
        """The ids of every failed rule, in rule order."""
        return tuple(f.rule_id for f in self.failures)


def _covers_a_need(mentee: MenteeCity, mentor: MentorCity, _: ProgrammeParameters) -> str | None:
    if mentee.topics & mentor.topics:
        return None
    return f"{mentor.name} has no practice on any need of {mentee.name}"


def _shares_language(mentee: MenteeCity, mentor: MentorCity, _: ProgrammeParameters) -> str | None:
    if mentee.languages & mentor.languages or mentee.translation_budget:
        return None
    return f"no common working language and {mentee.name} has no translation budget"


def _available_together(
    mentee: MenteeCity, mentor: MentorCity, _: ProgrammeParameters
) -> str | None:
    if not mentee.availability or not mentor.availability:
        return None
    if available_together(mentee, mentor):
        return None
    return f"no availability window of {mentee.name} overlaps one of {mentor.name}"


def _not_forbidden(mentee: MenteeCity, mentor: MentorCity, p: ProgrammeParameters) -> str | None:
    if (mentee.id, mentor.id) not in p.forbidden:
        return None
    return "the facilitator forbade this pair"


def _not_repeated(mentee: MenteeCity, mentor: MentorCity, p: ProgrammeParameters) -> str | None:
    if not p.no_repeat_partner or (mentee.id, mentor.id) not in p.previous_partners:
        return None
    return f"{mentee.name} and {mentor.name} were partners before"


RULES: tuple[EligibilityRule, ...] = (
    EligibilityRule("R-MATCH-1", "mentor covers a need of the mentee", _covers_a_need),
    EligibilityRule("R-PREP-7", "common working language or translation", _shares_language),
    EligibilityRule("AVAILABILITY", "availability windows overlap", _available_together),
    EligibilityRule("FORBIDDEN", "not forbidden by the facilitator", _not_forbidden),
    EligibilityRule("NO-REPEAT", "not partners before (no_repeat_partner)", _not_repeated),
)


def check_pair(
    mentee: MenteeCity,
    mentor: MentorCity,
    parameters: ProgrammeParameters,
    rules: tuple[EligibilityRule, ...] = RULES,
) -> Eligibility:
    """Run every rule on the pair and gather each failure (not only the first)."""
    failures = []
    for rule in rules:
        reason = rule.check(mentee, mentor, parameters)
        if reason is not None:
            failures.append(RuleFailure(rule.rule_id, reason))
    return Eligibility(mentee.id, mentor.id, tuple(failures))
