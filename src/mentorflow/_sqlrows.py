"""The rows a save writes: the engagement row, history rows and outbox rows, as column values.

The history rows are the entries the change adds after the version it follows, once the save's
arguments are checked. Every document in the rows (the snapshot, a history entry, an event) is
JSON text no larger than the reader takes: a save never stores what ``load`` would refuse.
"""

from __future__ import annotations

from typing import Any

import orjson

from mentorflow._change import Change
from mentorflow._inputs import as_count
from mentorflow._sqlschema import READY_NOW, utc_text
from mentorflow.compiled import CompiledMethod
from mentorflow.events import Event
from mentorflow.exceptions import InvalidDocument, InvalidInput, Problem
from mentorflow.schedule import Deadline
from mentorflow.serialization import MAX_DOCUMENT_BYTES, Codec, document_too_large
from mentorflow.state import EngagementState, HistoryEntry, evolve_state
from mentorflow.store import OutboxStatus, next_deadline
from mentorflow.versions import MethodRegistry

__all__ = [
    "document_text",
    "engagement_row",
    "entries_to_save",
    "history_row",
    "next_deadline_column",
    "outbox_row",
    "without_unchanged",
]


def entries_to_save(
    change: Change, expected_version: int, previous: EngagementState | None
) -> tuple[HistoryEntry, ...]:
    """The history entries ``change`` adds after ``expected_version``, once ``save``'s arguments
    are checked: InvalidInput unless ``change`` follows that version and ``previous`` (when
    given) is that version's snapshot of the same engagement."""
    if not isinstance(change, Change):
        raise InvalidInput(
            "save", [Problem("$.change", f"expected a Change, got {type(change).__name__}")]
        )
    as_count(expected_version, "expected_version", what="save", minimum=0)
    if previous is not None and not isinstance(previous, EngagementState):
        raise InvalidInput(
            "save",
            [
                Problem(
                    "$.previous",
                    f"expected an EngagementState, got {type(previous).__name__}",
                )
            ],
        )
    state = change.state
    if previous is not None and (previous.id, previous.version) != (
        state.id,
        expected_version,
    ):
        raise InvalidInput(
            "save",
            [
                Problem(
                    "$.previous",
                    f"is version {previous.version} of {previous.id!r}; the change "
                    f"follows version {expected_version} of {state.id!r}",
                )
            ],
        )
    entries = state.history[expected_version:]
    if not entries or entries[0].sequence != expected_version + 1:
        raise InvalidInput(
            "save",
            [
                Problem(
                    "$.expected_version",
                    f"the change does not follow version {expected_version}",
                )
            ],
        )
    return entries


def engagement_row(
    codec: Codec,
    state: EngagementState,
    found: tuple[Deadline, ...] | None,
    methods: MethodRegistry,
) -> dict[str, Any]:
    """The engagement row of ``state`` (no id or method id); its next deadline is among
    ``found``, or unknown (``None``) when the method is not registered here."""
    deadline = None
    if found is not None:
        method = methods.get(state.method_id, state.method_version)
        deadline = next_deadline_column(state, method, found)
    last = state.history[-1].at
    # The history is written row by row to its own table, so a save stays the same size
    # however long the engagement runs; load() puts the two back together.
    snapshot = evolve_state(state, history=())
    return {
        "version": state.version,
        "phase": state.phase,
        "method_version": state.method_version,
        "snapshot": document_text(codec, snapshot, state.id),
        "next_deadline": deadline,
        "updated_at": utc_text(last),
    }


def next_deadline_column(
    state: EngagementState, method: CompiledMethod, found: tuple[Deadline, ...]
) -> str | None:
    """The row's ``next_deadline``: the earliest unmet of ``found`` as UTC text, or NULL."""
    due = next_deadline(state, method, found)
    return utc_text(due) if due is not None else None


def without_unchanged(
    values: dict[str, Any],
    state: EngagementState,
    previous: EngagementState,
    *,
    deadline_kept: bool,
) -> dict[str, Any]:
    """``values`` less the indexed columns whose stored value ``previous`` already wrote.

    The row was written from ``previous`` (the save's version check makes sure of that), so
    its phase and method version are ``previous``'s, and so is its next deadline when the
    method is registered here and no deadline moved (``deadline_kept``).
    """
    same = []
    if previous.phase == state.phase:
        same.append("phase")
    if previous.method_version == state.method_version:
        same.append("method_version")
    if deadline_kept:
        same.append("next_deadline")
    return {name: value for name, value in values.items() if name not in same}


def history_row(codec: Codec, engagement_id: str, entry: HistoryEntry) -> dict[str, Any]:
    """The history table's row of ``entry``."""
    return {
        "engagement_id": engagement_id,
        "sequence": entry.sequence,
        "at": utc_text(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "to_phase": entry.to_phase,
        "entry": document_text(codec, entry, engagement_id),
    }


def outbox_row(codec: Codec, event: Event) -> dict[str, Any]:
    """The outbox row of ``event``: pending, ready for delivery now."""
    return {
        "event_id": event.id,
        "engagement_id": event.engagement_id,
        "sequence": event.sequence,
        "event_type": type(event).__name__,
        "payload": document_text(codec, event, event.engagement_id),
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": READY_NOW,
    }


def document_text(
    codec: Codec, value: EngagementState | HistoryEntry | Event, engagement_id: str
) -> str:
    """``value`` as JSON text; InvalidDocument if it is too large for the reader to take."""
    text = codec.dumps(value)
    if document_too_large(text):
        size = len(text.encode())
        raise InvalidDocument(
            _described(value, engagement_id),
            [
                Problem(
                    _largest_part(codec.dump(value)),
                    f"the largest part of a document of {size} bytes; the store reads "
                    f"documents of at most {MAX_DOCUMENT_BYTES} bytes",
                )
            ],
        )
    return text


def _described(value: EngagementState | HistoryEntry | Event, engagement_id: str) -> str:
    """What a refused document is, in a user's words (built only when one is refused)."""
    if isinstance(value, EngagementState):
        return f"snapshot of {engagement_id!r}"
    if isinstance(value, HistoryEntry):
        return f"history entry {value.sequence} of {engagement_id!r}"
    return f"event {value.id!r}"


def _largest_part(document: object) -> str:
    """The ``$.path`` of what takes the most room in ``document`` (parsed JSON), followed down."""
    path = "$"
    while True:
        if isinstance(document, dict) and document:
            key, document = max(document.items(), key=lambda item: len(orjson.dumps(item[1])))
            path += f".{key}" if key.isidentifier() else f"[{key!r}]"
        elif isinstance(document, list) and document:
            items: list[Any] = document
            index = max(range(len(items)), key=lambda i: len(orjson.dumps(items[i])))
            path, document = f"{path}[{index}]", items[index]
        else:
            return path
