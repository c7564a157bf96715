"""The mentorflow exception tree; every error the library raises on purpose is one of these.

::

    MentorflowError
    ├── InvalidInput                 bad data from the caller; names every field at fault
    │   ├── InvalidDeliverable       a deliverable's content fails validation
    │   ├── InvalidDocument          a stored or received document cannot be read
    │   └── InvalidMethod            a method definition (Python, TOML or JSON) fails lint
    ├── UnknownTrigger               the method has no trigger of that name
    ├── UnknownParticipant           the actor is not a participant of the engagement
    ├── UnknownEngagement            the store holds no engagement with that id
    │   └── DeletedEngagement        it held one, and it was deleted; the id stays taken
    ├── ConcurrencyConflict          the engagement changed since it was loaded; nothing written
    ├── SchemaMismatch               the database's schema is not this release's; nothing written
    └── ActionRefused                a rule refused the action; carries the Verdict
        └── TransitionRefused        a refused phase transition

A refusal is data: ``ActionRefused.verdict`` lists every unmet requirement, with the rule id,
the deliverable, the role that owes it and the due date where there is one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import attrs

if TYPE_CHECKING:
    from mentorflow.events import EngagementDeleted
    from mentorflow.verdicts import Verdict

__all__ = [
    "ActionRefused",
    "ConcurrencyConflict",
    "DeletedEngagement",
    "InvalidDeliverable",
    "InvalidDocument",
    "InvalidInput",
    "InvalidMethod",
    "MentorflowError",
    "Problem",
    "SchemaMismatch",
    "TransitionRefused",
    "UnknownEngagement",
    "UnknownParticipant",
    "UnknownTrigger",
]


@attrs.frozen
class Problem:
    """One thing wrong with an input: where (a ``$.field`` path) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class MentorflowError(Exception):
    """Base of every error mentorflow raises on purpose."""


class InvalidInput(MentorflowError, ValueError):
    """Input from the caller is wrong; ``problems`` names every field at fault."""

    def __init__(self, what: str, problems: Sequence[Problem]) -> None:
        self.what = what
        self.problems = tuple(problems)
        lines = "\n".join(f"  {p}" for p in self.problems)
        super().__init__(f"invalid {what}:\n{lines}" if lines else f"invalid {what}")


class InvalidDeliverable(InvalidInput):
    """A deliverable's content does not validate."""


class InvalidDocument(InvalidInput):
    """A document (JSON, TOML, a stored row) is malformed, too large or of an unread version."""


class InvalidMethod(InvalidInput):
    """A method definition does not pass lint; ``problems`` lists every finding."""


class UnknownTrigger(MentorflowError, LookupError):
    """The engagement's method has no trigger with this name."""

    def __init__(self, trigger: str, known: Sequence[str]) -> None:
        self.trigger = trigger
        self.known = tuple(known)
        super().__init__(f"unknown trigger {trigger!r}; the method knows {', '.join(known)}")


class UnknownParticipant(MentorflowError, LookupError):
    """The actor named is not a participant of the engagement."""

    def __init__(self, participant_id: str, engagement_id: str) -> None:
        self.participant_id = participant_id
        self.engagement_id = engagement_id
        super().__init__(
            f"participant {participant_id!r} does not take part in engagement {engagement_id!r}"
        )


class ConcurrencyConflict(MentorflowError):
    """Someone saved the engagement since it was loaded; this save wrote nothing."""

    def __init__(
        self,
        engagement_id: str,
        expected_version: int,
        found_version: int | None,
        *,
        deleted: bool = False,
    ) -> None:
        self.engagement_id = engagement_id
        self.expected_version = expected_version
        self.found_version = found_version
        #: Whether the stored engagement was deleted (``SqlStore.delete``): loading it again
        #: raises DeletedEngagement, and its id is never used again.
        self.deleted = deleted
        loaded = f"engagement {engagement_id!r} was loaded at version {expected_version}"
        if expected_version == 0 and deleted:
            message = (
                f"cannot create engagement {engagement_id!r}: the id belonged to an engagement "
                "that was deleted, and ids are never used again"
            )
        elif expected_version == 0:  # a create: the id is taken
            stored = "" if found_version is None else f" (stored at version {found_version})"
            message = f"cannot create engagement {engagement_id!r}: the id is taken{stored}"
        elif deleted:
            message = f"{loaded}, but it has been deleted since"
        elif found_version is None:
            message = f"{loaded}, but no such engagement"
        else:
            message = f"{loaded}, but it is at version {found_version}"
        super().__init__(message)


class SchemaMismatch(MentorflowError):
    """The database's migration steps are not this release's; the store wrote nothing.

    ``unknown_steps``: steps a newer mentorflow release applied, which this one does not know.
    ``missing_steps``: steps this release needs that the database lacks (opened with
    ``create=False``). Each maps the step number to its name.
    """

    def __init__(
        self, where: str, unknown_steps: Mapping[int, str], missing_steps: Mapping[int, str]
    ) -> None:
        self.where = where
        self.unknown_steps = dict(sorted(unknown_steps.items()))
        self.missing_steps = dict(sorted(missing_steps.items()))
        if self.unknown_steps:
            message = (
                f"{where} records migration step(s) {_steps(self.unknown_steps)} that this"
                " mentorflow release does not know: the database was migrated by a newer"
                " release, and this one is older than the database; upgrade mentorflow"
            )
        else:
            message = (
                f"{where} lacks migration step(s) {_steps(self.missing_steps)} that this"
                " mentorflow release needs: open it with create=True (or call"
                " SqlStore.migrate()) to upgrade it"
            )
        super().__init__(message)


def _steps(steps: Mapping[int, str]) -> str:
    return ", ".join(f"{number} ({name!r})" for number, name in steps.items())


class UnknownEngagement(MentorflowError, LookupError):
    """The store holds no engagement with this id."""

    def __init__(self, engagement_id: str, message: str | None = None) -> None:
        self.engagement_id = engagement_id
        super().__init__(message or f"no engagement {engagement_id!r} is stored")


class DeletedEngagement(UnknownEngagement):
    """The engagement was deleted (``SqlStore.delete``); ``deletion`` is the event that says
    when, by whom, at which version and why. Its id cannot be used for a new engagement."""

    def __init__(self, engagement_id: str, deletion: EngagementDeleted) -> None:
        self.deletion = deletion
        super().__init__(
            engagement_id,
            f"engagement {engagement_id!r} was deleted at version {deletion.version}, "
            f"{deletion.at.isoformat()}, by {deletion.actor!r}",
        )


class ActionRefused(MentorflowError):
    """A rule refused the action; ``verdict`` says every reason."""

    def __init__(self, verdict: Verdict) -> None:
        self.verdict = verdict
        super().__init__(verdict.explain())


class TransitionRefused(ActionRefused):
    """A phase transition was refused; ``verdict`` says every reason."""
