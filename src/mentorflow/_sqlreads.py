"""The store's read queries, built from its tables with their arguments checked, and their rows read.

Snapshots checked against the row that holds them, history rows, engagement ids, the outbox
listing (which lists a corrupt row too, with its problems) and the statement that replays an
outbox event.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pendulum
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from mentorflow._attempts_begun import stopped_error
from mentorflow._inputs import as_count, as_instant, as_text
from mentorflow._sqldelete import is_live_row
from mentorflow._sqlschema import READY_NOW, Tables, utc_text
from mentorflow.compiled import PAUSED
from mentorflow.events import Event
from mentorflow.exceptions import InvalidDocument, InvalidInput, Problem
from mentorflow.serialization import Codec
from mentorflow.state import PAUSED_PREFIX, EngagementState, HistoryEntry
from mentorflow.store import OutboxEntry, OutboxStatus, method_problems
from mentorflow.versions import MethodRegistry

__all__ = [
    "due_arguments",
    "history_entries",
    "history_on",
    "ids_query",
    "outbox_entry",
    "outbox_query",
    "prune_arguments",
    "prune_statement",
    "replay_statement",
    "row_problems",
    "snapshot_query",
]

#: Every outbox status, as ``outbox(status=…)`` takes them.
_OUTBOX_STATUSES = (OutboxStatus.PENDING, OutboxStatus.DELIVERED, OutboxStatus.DEAD)


def row_problems(
    state: EngagementState, row: Any, engagement_id: str, methods: MethodRegistry
) -> list[Problem]:
    """Where the snapshot ``state`` disagrees with the engagement row that holds it (id,
    version, method) or, its method being registered here, with the method."""
    problems = []
    if state.id != engagement_id:
        problems.append(Problem("$.id", f"snapshot of {state.id!r} stored under {engagement_id!r}"))
    if state.version != row.version:
        problems.append(
            Problem(
                "$.history",
                f"holds {state.version} entries; the row says version {row.version}",
            )
        )
    if (state.method_id, state.method_version) != (row.method_id, row.method_version):
        problems.append(
            Problem(
                "$.method_version",
                f"snapshot follows {state.method_id} v{state.method_version}; "
                f"the row says {row.method_id} v{row.method_version}",
            )
        )
    elif (state.method_id, state.method_version) in methods:
        method = methods.get(state.method_id, state.method_version)
        problems += method_problems(state, method)
    return problems


def history_on(
    conn: sa.Connection,
    tables: Tables,
    codec: Codec,
    engagement_id: str,
    *,
    up_to: int | None = None,
) -> tuple[HistoryEntry, ...]:
    """The history rows of one engagement read on ``conn``, oldest first, up to a sequence."""
    h = tables.history
    query = sa.select(h.c.entry).where(h.c.engagement_id == engagement_id).order_by(h.c.sequence)
    if up_to is not None:
        query = query.where(h.c.sequence <= up_to)
    return history_entries(codec, conn.execute(query).scalars().all())


def history_entries(codec: Codec, documents: Iterable[str]) -> tuple[HistoryEntry, ...]:
    """Stored history entries (their JSON documents, oldest first) read back."""
    return tuple(codec.load(document, HistoryEntry) for document in documents)


def snapshot_query(tables: Tables, dialect: sa.Dialect) -> sa.Select[Any]:
    """``load``'s read of an engagement row. On PostgreSQL it brings the history along in the
    same statement (``history``: its entries up to the row's version, oldest first, as an
    array), so a load is one round trip instead of two, and row and history come from one
    snapshot of the database."""
    e, h = tables.engagements, tables.history
    columns: list[sa.ColumnElement[Any]] = [
        e.c.snapshot,
        e.c.version,
        e.c.phase,
        e.c.method_id,
        e.c.method_version,
    ]
    if dialect.name == "postgresql":
        entries = sa.func.array_agg(
            postgresql.aggregate_order_by(h.c.entry, h.c.sequence),
            type_=postgresql.ARRAY(sa.Text),
        )
        history = (
            sa.select(entries)
            .where(h.c.engagement_id == e.c.id, h.c.sequence <= e.c.version)
            .scalar_subquery()
            .label("history")
        )
        columns.append(history)
    return sa.select(*columns).where(e.c.id == sa.bindparam("id"))


def ids_query(
    tables: Tables,
    *,
    phase: str | None,
    organisation_id: str | None,
    due_before: dt.datetime | None,
    after: str | None = None,
    limit: int | None = None,
    last_action_before: dt.datetime | None = None,
    participant_id: str | None = None,
    method_id: str | None = None,
    method_version: int | None = None,
) -> sa.Select[Any]:
    """The query behind ``SqlStore.ids``; InvalidInput for an argument it cannot take."""
    for field, value in (
        ("phase", phase),
        ("organisation_id", organisation_id),
        ("after", after),
        ("participant_id", participant_id),
        ("method_id", method_id),
    ):
        if value is not None:
            as_text(value, field, what="query")
    if limit is not None:
        as_count(limit, "limit", what="query")
    if method_version is not None:
        as_count(method_version, "method_version", what="query")
        if method_id is None:
            # Versions are numbered per method: version 2 of every method is no question.
            raise InvalidInput(
                "query", [Problem("$.method_version", "needs method_id: versions are per method")]
            )
    e, p = tables.engagements, tables.participants
    query = sa.select(e.c.id).where(is_live_row(tables)).order_by(e.c.id)
    if phase == PAUSED:
        # Stored as "paused:<phase to resume in>", as the snapshot reads; "paused" is what
        # ``Engagement.phase`` says, so it means all of them: a range of the phase index.
        query = query.where(e.c.phase >= PAUSED_PREFIX, e.c.phase < _after_prefix(PAUSED_PREFIX))
    elif phase is not None:
        query = query.where(e.c.phase == phase)
    if method_id is not None:
        query = query.where(e.c.method_id == method_id)
    if method_version is not None:
        query = query.where(e.c.method_version == method_version)
    # A city's engagements and a person's: both through the participants table.
    for column, value in (
        (p.c.organisation_id, organisation_id),
        (p.c.participant_id, participant_id),
    ):
        if value is not None:
            query = query.where(e.c.id.in_(sa.select(p.c.engagement_id).where(column == value)))
    if due_before is not None:
        instant = as_instant(due_before, "due_before")
        query = query.where(e.c.next_deadline.is_not(None), e.c.next_deadline < utc_text(instant))
    if last_action_before is not None:
        instant = as_instant(last_action_before, "last_action_before")
        query = query.where(e.c.updated_at < utc_text(instant))
    if after is not None:
        query = query.where(e.c.id > after)  # keyset paging: a range on the primary key
    if limit is not None:
        query = query.limit(limit)
    return query


def _after_prefix(prefix: str) -> str:
    """The least text after every text that starts with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def due_arguments(instant: dt.datetime, limit: int) -> tuple[pendulum.DateTime, int]:
    """``due_before``'s arguments, checked: an aware instant (as for an action's time) and a
    limit of at least one."""
    return as_instant(instant, "instant"), as_count(limit, "limit", what="query")


def outbox_query(tables: Tables, engagement_id: str | None, status: str | None) -> sa.Select[Any]:
    """The query behind ``SqlStore.outbox``, in commit order; InvalidInput for an argument it
    cannot take."""
    if engagement_id is not None:
        as_text(engagement_id, "engagement_id", what="outbox query")
    if status is not None and status not in _OUTBOX_STATUSES:
        raise InvalidInput(
            "outbox query",
            [
                Problem(
                    "$.status",
                    f"{status!r} is not an outbox status ({', '.join(_OUTBOX_STATUSES)})",
                )
            ],
        )
    o, a = tables.outbox, tables.outbox_attempts
    query = sa.select(
        o.c.event_id,
        o.c.payload,
        o.c.status,
        o.c.attempts,
        o.c.next_attempt_at,
        o.c.last_error,
        o.c.delivered_at,
        a.c.begun,  # PostgreSQL: an attempt begun with no outcome yet (``_attempts_begun``)
    ).select_from(o.outerjoin(a, a.c.position == o.c.position))
    if engagement_id is not None:
        query = query.where(o.c.engagement_id == engagement_id)
    if status is not None:
        query = query.where(o.c.status == status)
    return query.order_by(o.c.position)


def outbox_entry(codec: Codec, row: Any) -> OutboxEntry:
    """One row of ``outbox_query``, its problems in ``unreadable`` if its payload is corrupt."""
    event: Event | None = None
    unreadable: tuple[Problem, ...] = ()
    try:
        event = codec.load_event(row.payload)
    except InvalidDocument as error:
        unreadable = error.problems
    attempts, last_error = row.attempts, row.last_error
    if row.begun is not None and row.begun > attempts:
        # Counted as SQLite counts it at the claim: under way, or its relay stopped in it.
        attempts, last_error = row.begun, stopped_error(row.begun)
    return OutboxEntry(
        event,
        row.status,
        attempts,
        row.next_attempt_at,
        last_error,
        event_id=row.event_id,
        delivered_at=row.delivered_at,
        unreadable=unreadable,
    )


def replay_statement(tables: Tables, event_id: str) -> sa.Update:
    """The update that puts an outbox event back in line for delivery now, attempts reset."""
    o = tables.outbox
    return (
        o.update()
        .where(o.c.event_id == event_id)
        .values(
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=READY_NOW,
            last_error=None,
        )
    )


def prune_arguments(delivered_before: dt.datetime, limit: int) -> tuple[str, int]:
    """``prune_outbox``'s arguments as the statement takes them; InvalidInput names a bad one."""
    instant = as_instant(delivered_before, "delivered_before")
    return utc_text(instant), as_count(limit, "limit", what="prune")


def prune_statement(tables: Tables) -> sa.Delete:
    """The delete behind ``prune_outbox``: up to ``limit`` events delivered before ``before``.

    An event is claimed once its ``next_attempt_at`` has come and delivered after that, so the
    range on ``next_attempt_at`` finds the candidates in the ``outbox_ready`` index instead of
    scanning every delivered row; ``delivered_at`` decides. An event whose ``next_attempt_at``
    lies after ``before`` (a clock set back between claim and outcome) waits for a later prune.
    """
    o = tables.outbox
    before: sa.BindParameter[str] = sa.bindparam("before")
    delivered = (o.c.status == OutboxStatus.DELIVERED, o.c.delivered_at < before)
    chosen = (
        sa.select(o.c.position)
        .where(o.c.next_attempt_at < before, *delivered)
        .limit(sa.bindparam("limit"))
    )
    # Checked again on the rows deleted: on PostgreSQL a replay committed while the delete
    # waited for its row makes the row pending, and the re-check then keeps it.
    return o.delete().where(o.c.position.in_(chosen.scalar_subquery()), *delivered)
