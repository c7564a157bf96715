"""Verdicts: the structured answer to "may this happen, and if not, why not yet?"."""

from __future__ import annotations

import enum

import attrs
import pendulum

__all__ = ["Finding", "Severity", "Verdict"]


class Severity(enum.StrEnum):
    """Hard findings refuse an action; soft ones warn and never refuse (the seeds' "ideally")."""

    HARD = "hard"
    SOFT = "soft"


@attrs.frozen
class Finding:
    """One unmet requirement or warning: which rule, what is missing, who owes it, by when."""

    rule: str
    message: str
    severity: Severity = Severity.HARD
    deliverable: str | None = None
    owed_by: str | None = None
    due: pendulum.DateTime | None = None
    visit_id: str | None = None

    def __str__(self) -> str:
        parts = [f"[{self.rule}] {self.message}"]
        if self.owed_by:
            parts.append(f"owed by {self.owed_by}")
        if self.due is not None:
            parts.append(f"due {self.due.to_iso8601_string()}")
        return "; ".join(parts)


@attrs.frozen
class Verdict:
    """Every reason an action may not happen now (``unmet``) and every warning about it."""

    action: str
    engagement_id: str
    phase: str
    target: str | None
    unmet: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()
    #: Deadlines of the engagement that have passed unmet (soft; never refuse, never acknowledged).
    overdue: tuple[Finding, ...] = ()

    @property
    def allowed(self) -> bool:
        """True when no hard requirement is unmet; warnings never refuse."""
        return not self.unmet

    @property
    def rules(self) -> tuple[str, ...]:
        """The rule ids of the unmet requirements, in the order they were found."""
        return tuple(f.rule for f in self.unmet)

    def explain(self) -> str:
        """A few lines a person can act on."""
        head = (
            f"{self.action} on engagement {self.engagement_id!r} (phase {self.phase})"
            + (f" -> {self.target}" if self.target else "")
            + (": allowed" if self.allowed else ": refused")
        )
        lines = [head]
        lines += [f"  unmet: {f}" for f in self.unmet]
        lines += [f"  warning: {f}" for f in self.warnings]
        lines += [f"  overdue: {f}" for f in self.overdue]
        return "\n".join(lines)
