"""Reader errors: ``Mismatch`` for a value of the wrong JSON shape, the ``$.path`` problems
that any error of the converters becomes, and the check of a document's schema version."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import cattrs

from mentorflow.exceptions import InvalidDocument, Problem

__all__ = ["Mismatch", "problems_of", "version_problem"]


class Mismatch(ValueError):
    """A value of the wrong JSON shape; its message is shown as is."""


def _format(error: BaseException, kind: type | None) -> str:
    if isinstance(error, Mismatch):
        return str(error)
    if isinstance(error, AttributeError | TypeError) and kind is not None and attrs.has(kind):
        return f"expected an object ({kind.__name__})"
    return cattrs.v.format_exception(error, kind)


def problems_of(error: Exception) -> list[Problem]:
    """Every problem ``error`` reports (a converter's error or ``InvalidDocument``), at its path."""
    if isinstance(error, InvalidDocument):
        return list(error.problems)
    lines = cattrs.transform_error(error, "$", _format)
    problems = []
    for line in lines:
        message, _, path = line.rpartition(" @ ")
        problems.append(Problem(path or "$", message or line))
    return problems or [Problem("$", str(error))]


def version_problem(document: Mapping[str, Any], oldest: int, newest: int) -> Problem | None:
    """The problem with ``document``'s ``schema_version`` (0 when absent: written before it
    existed) unless it is a whole number from ``oldest`` to ``newest``."""
    version = document.get("schema_version", 0)
    if type(version) is int and oldest <= version <= newest:
        return None
    return Problem(
        "$.schema_version",
        f"version {version!r} is not read by this release (it reads {oldest} to {newest})",
    )
