"""Who owes each open deadline: the deadline index's companion table, so that one organisation's
to-do list across all its engagements is an index range scan.

A deadline is owed by a party that may stand for several organisations (the role-model cities
of a mentoring, the host of a visit); ``schedule.Deadline.owed_by_organisations`` names them.
The table holds one row per open deadline and organisation, and only open ones: a met deadline
is on nobody's list. The rows are replaced with the engagement's deadline rows, in the same
transaction, whenever an action moved a deadline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from mentorflow.deadline_index import UtcDateTime

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable

    from mentorflow.schedule import Deadline
    from mentorflow.state import EngagementState

__all__ = ["define_owed_table", "owed_query", "sync_owed"]


def define_owed_table(metadata: sa.MetaData, name: str) -> sa.Table:
    """Declare the table ``name``: (engagement, deadline, organisation) with the due instant."""
    return sa.Table(
        name,
        metadata,
        # Keyed by engagement first: a save replaces one engagement's rows.
        sa.Column("engagement_id", sa.Text(), primary_key=True),
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("organisation_id", sa.Text(), primary_key=True),
        sa.Column("due_utc", UtcDateTime(), nullable=False),
        # The key columns complete the order, so a limit stops the scan early (no sort step).
        sa.Index(f"{name}_by_organisation", "organisation_id", "due_utc", "engagement_id", "key"),
    )


def owed_rows(state: EngagementState, deadlines: Iterable[Deadline]) -> list[dict[str, Any]]:
    """The rows for an engagement's open deadlines: one per organisation owing each."""
    return [
        {"engagement_id": state.id, "key": d.key, "organisation_id": org, "due_utc": d.due}
        for d in deadlines
        if not d.met
        for org in dict.fromkeys(d.owed_by_organisations)  # once each, in their order
    ]


def sync_owed(
    connection: sa.Connection,
    table: sa.Table,
    state: EngagementState,
    deadlines: Iterable[Deadline],
) -> None:
    """Replace the engagement's rows; run it in the transaction that saves its snapshot."""
    connection.execute(sa.delete(table).where(table.c.engagement_id == state.id))
    rows = owed_rows(state, deadlines)
    if rows:
        connection.execute(sa.insert(table), rows)


def owed_query(
    deadlines: sa.Table,
    owed: sa.Table,
    organisation_id: str,
    due_before: dt.datetime | None,
    limit: int,
) -> sa.Select[Any]:
    """The deadline rows ``organisation_id`` owes, earliest first (due before ``due_before``
    when given): a range of the by-organisation index, joined to the deadline index."""
    query = (
        sa.select(deadlines)
        .join(
            owed,
            sa.and_(
                owed.c.engagement_id == deadlines.c.engagement_id, owed.c.key == deadlines.c.key
            ),
        )
        .where(owed.c.organisation_id == organisation_id)
        .order_by(owed.c.due_utc, owed.c.engagement_id, owed.c.key)
        .limit(limit)
    )
    if due_before is not None:
        query = query.where(owed.c.due_utc < due_before)
    return query
