"""The errors match-making raises on purpose, drawn as a tree; every one is a ``MatchingError``.

::

    MatchingError                       base of every match-making error
    ├── InvalidMatchingInput            bad profiles or parameters (also a ValueError);
    │                                   ``problems`` names every field at fault
    ├── InfeasibleMatching              pins, caps and capacities cannot all hold at once
    └── ReviewRefused                   a review step broke a rule; carries the rule id and why

A refusal is data: ``ReviewRefused.rule_id`` names the rule (``R-MATCH-2``, ``R-MATCH-7``, ...)
and ``ReviewRefused.reason`` says what was wrong, so a host platform can show it as it is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = [
    "InfeasibleMatching",
    "InvalidMatchingInput",
    "MatchingError",
    "Problem",
    "ReviewRefused",
]


@attrs.frozen
class Problem:
    """One thing wrong with an input: where (a ``$.field`` path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class MatchingError(Exception):
    """Base of every error the match-making subpackage raises on purpose."""


class InvalidMatchingInput(MatchingError, ValueError):  # noqa: N818 - reads as the domain says
    """A profile, parameter set or problem is wrong; ``problems`` names every field at fault."""

    def __init__(self, what: str, problems: Sequence[Problem]) -> None:
        self.what = what
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"invalid {what}:\n{lines}" if lines else f"invalid {what}")


class InfeasibleMatching(MatchingError):  # noqa: N818 - reads as the domain says
    """No assignment satisfies every pin, cap and capacity; ``reason`` says which ones clash."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"no feasible matching: {reason}")


class ReviewRefused(MatchingError):  # noqa: N818 - reads as the domain says
    """A review step was refused: ``rule_id`` is the rule it breaks, ``reason`` says how."""

    def __init__(self, rule_id: str, reason: str) -> None:
        self.rule_id = rule_id
        self.reason = reason
        super().__init__(f"{rule_id}: {reason}")
