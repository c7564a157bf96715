"""Deleting an engagement from the SQL store: everything it holds goes, its id stays taken.

The engagement's row is not removed but turned into a tombstone: its phase becomes
``DELETED_PHASE`` and its snapshot column holds the ``EngagementDeleted`` event. Why keep a row:
event ids derive from the engagement id and a sequence, so a new engagement under the same id
would give its events the ids of the old one's, and idempotent handlers would drop them as
already seen. The primary key refuses such a create, as it refuses any taken id.

Everything else the engagement holds is removed in the same transaction: its history, its
participants, its deadline-index rows, its reminder ledger and its delivered outbox events.
Events not delivered yet stay, so handlers still receive them, and the deletion event follows
them in the engagement's order.
"""

from __future__ import annotations

from typing import Any

import orjson
import pendulum
import sqlalchemy as sa

from mentorflow._inputs import as_count, as_text
from mentorflow._sqlrows import outbox_row
from mentorflow._sqlschema import DELETED_PHASE, Tables, utc_text
from mentorflow.events import EngagementDeleted, event_id
from mentorflow.exceptions import (
    ConcurrencyConflict,
    DeletedEngagement,
    InvalidDocument,
    InvalidInput,
    Problem,
    UnknownEngagement,
)
from mentorflow.serialization import Codec
from mentorflow.store import OutboxStatus

__all__ = [
    "check_delete_arguments",
    "delete_on",
    "deletion_of",
    "deletions_query",
    "is_live_row",
    "tombstone_event",
]


def check_delete_arguments(
    engagement_id: object, expected_version: object, actor: object, reason: object
) -> None:
    """InvalidInput naming the first of ``SqlStore.delete``'s arguments it cannot take."""
    as_text(engagement_id, "engagement_id", what="delete")
    as_count(expected_version, "expected_version", what="delete")
    if not isinstance(actor, str) or not actor.strip():
        raise InvalidInput("delete", [Problem("$.actor", "must be a non-empty text")])
    if reason is not None:
        as_text(reason, "reason", what="delete")


def is_live_row(tables: Tables) -> sa.ColumnElement[bool]:
    """The condition that leaves deleted engagements' rows out of a query on the engagements."""
    return tables.engagements.c.phase != DELETED_PHASE


def deletions_query(tables: Tables, *, after: str | None, limit: int | None) -> sa.Select[Any]:
    """The tombstones in id order, after ``after`` and at most ``limit`` (as ``ids`` pages);
    InvalidInput for an argument it cannot take."""
    if after is not None:
        as_text(after, "after", what="query")
    if limit is not None:
        as_count(limit, "limit", what="query")
    e = tables.engagements
    query = sa.select(e.c.id, e.c.snapshot).where(e.c.phase == DELETED_PHASE).order_by(e.c.id)
    if after is not None:
        query = query.where(e.c.id > after)
    if limit is not None:
        query = query.limit(limit)
    return query


def tombstone_event(codec: Codec, engagement_id: str, snapshot: str) -> EngagementDeleted:
    """The deletion event a deleted engagement's row holds in its snapshot column."""
    deletion = codec.load_event(snapshot)
    if not isinstance(deletion, EngagementDeleted):
        raise InvalidDocument(
            f"tombstone of {engagement_id!r}",
            [Problem("$.type", f"expected EngagementDeleted, got {type(deletion).__name__}")],
        )
    return deletion


def deletion_of(codec: Codec, engagement_id: str, row: Any) -> DeletedEngagement:
    """The refusal to read or change a deleted engagement, from its row's ``snapshot``."""
    return DeletedEngagement(engagement_id, tombstone_event(codec, engagement_id, row.snapshot))


def delete_on(
    conn: sa.Connection,
    tables: Tables,
    codec: Codec,
    *,
    engagement_id: str,
    expected_version: int,
    actor: str,
    at: pendulum.DateTime,
    reason: str | None,
) -> EngagementDeleted:
    """Delete the engagement inside the write transaction ``conn`` holds; returns the event
    added to the outbox. Raises, before anything is written: UnknownEngagement,
    DeletedEngagement, ConcurrencyConflict (not at ``expected_version``) or InvalidDocument (a
    stored snapshot whose event count cannot be read)."""
    e = tables.engagements
    # FOR UPDATE on PostgreSQL: a save waits for the delete and then finds the version moved,
    # and a reminder tick's key-share read of the row waits too. SQLite's BEGIN IMMEDIATE
    # already serialises writers.
    row = conn.execute(
        sa.select(e.c.version, e.c.phase, e.c.snapshot)
        .where(e.c.id == engagement_id)
        .with_for_update()
    ).first()
    if row is None:
        raise UnknownEngagement(engagement_id)
    if row.phase == DELETED_PHASE:
        raise deletion_of(codec, engagement_id, row)
    if row.version != expected_version:
        raise ConcurrencyConflict(engagement_id, expected_version, int(row.version))
    sequence = _event_count(row.snapshot, engagement_id) + 1
    deletion = EngagementDeleted(
        id=event_id(engagement_id, sequence),
        engagement_id=engagement_id,
        sequence=sequence,
        at=at,
        actor=actor,
        version=expected_version,
        reason=reason,
    )
    conn.execute(
        e.update()
        .where(e.c.id == engagement_id)
        .values(
            phase=DELETED_PHASE,
            version=expected_version + 1,
            snapshot=codec.dumps(deletion),
            next_deadline=None,
            updated_at=utc_text(at),
        )
    )
    for table in (
        tables.history,
        tables.participants,
        tables.deadlines,
        tables.owed,
        tables.reminders,
    ):
        conn.execute(sa.delete(table).where(table.c.engagement_id == engagement_id))
    o = tables.outbox
    conn.execute(
        sa.delete(o).where(o.c.engagement_id == engagement_id, o.c.status == OutboxStatus.DELIVERED)
    )
    conn.execute(o.insert().values(outbox_row(codec, deletion)))
    return deletion


def _event_count(snapshot: str, engagement_id: str) -> int:
    """How many events the engagement has emitted, read from its stored snapshot alone, so an
    engagement whose snapshot no longer loads in full can still be deleted."""
    try:
        count = orjson.loads(snapshot).get("event_count", 0)
    except (orjson.JSONDecodeError, AttributeError):
        count = None
    if type(count) is not int or count < 0:
        raise InvalidDocument(
            f"snapshot of {engagement_id!r}",
            [Problem("$.event_count", "cannot be read, so the deletion event has no sequence")],
        )
    return count
