"""The errors match-making raises on purpose, drawn as a tree; every one is a ``MatchingError``.

::

    MentorflowError
    └── MatchingError                   base of every match-making error
    ├── InvalidMatchingInput            bad profiles or parameters (also a ValueError);
    │                                   ``problems`` names every field at fault
    ├── InfeasibleMatching              pins, caps and capacities cannot all hold at once
    └── ReviewRefused                   a review step broke a rule; carries the rule id and why

A refusal is data: ``ReviewRefused.rule_id`` names the rule (``R-MATCH-2``, ``R-MATCH-7``, ...)
and ``ReviewRefused.reason`` says what was wrong, so a host platform can show it as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mentorflow.exceptions import InvalidInput, MentorflowError, Problem

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "InfeasibleMatching",
    "InvalidMatchingInput",
    "MatchingError",
    "Problem",
    "ReviewRefused",
]


class MatchingError(MentorflowError):
    """Base of every error the match-making subpackage raises on purpose."""


class InvalidMatchingInput(MatchingError, InvalidInput):
    """A profile, parameter set or problem is wrong; ``problems`` names every field at fault."""

    def __init__(self, what: str, problems: Sequence[Problem]) -> None:
        InvalidInput.__init__(self, what, problems)


class InfeasibleMatching(MatchingError):
    """No assignment satisfies every pin, cap and capacity; ``reason`` says which ones clash."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"no feasible matching: {reason}")


class ReviewRefused(MatchingError):
    """A review step was refused: ``rule_id`` is the rule it breaks, ``reason`` says how."""

    def __init__(self, rule_id: str, reason: str) -> None:
        self.rule_id = rule_id
        self.reason = reason
        super().__init__(f"{rule_id}: {reason}")
