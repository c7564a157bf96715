"""Collect every problem with an input record, then raise them together as one error."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mentorflow.matching.errors import InvalidMatchingInput, Problem

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Checks", "duplicates"]


class Checks:
    """Gathers ``$.field: message`` problems; ``raise_if_any`` raises them all at once."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.problems: list[Problem] = []

    def require(self, condition: bool, path: str, message: str) -> None:
        """Record a problem at ``path`` unless ``condition`` holds."""
        if not condition:
            self.problems.append(Problem(path, message))

    def raise_if_any(self) -> None:
        """Raise one :class:`InvalidMatchingInput` listing every recorded problem."""
        if self.problems:
            raise InvalidMatchingInput(self.what, self.problems)


def duplicates(values: Iterable[str]) -> list[str]:
    """The values that occur more than once, sorted."""
    seen: set[str] = set()
    twice: set[str] = set()
    for value in values:
        (twice if value in seen else seen).add(value)
    return sorted(twice)
