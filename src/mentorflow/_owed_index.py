"""Who owes each open deadline: the rows of the deadline index's companion table
(``Tables.owed``), so that one organisation's to-do list across all its engagements is an index
range scan.

A deadline is owed by a party that may stand for several organisations (the role-model cities
of a mentoring, the host of a visit); ``schedule.Deadline.owed_by_organisations`` names them.
The table holds one row per open deadline and organisation, and only open ones: a met deadline
is on nobody's list. The rows are replaced with the engagement's deadline rows, in the same
transaction, whenever an action moved a deadline.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from mentorflow._inputs import as_count, as_instant, as_text
from mentorflow._sqlschema import utc_text

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable

    from mentorflow.schedule import Deadline
    from mentorflow.state import EngagementState

__all__ = ["owed_query", "owed_rows"]


def owed_rows(state: EngagementState, deadlines: Iterable[Deadline]) -> list[dict[str, Any]]:
    """The rows for an engagement's open deadlines: one per organisation owing each."""
    return [
        {"engagement_id": state.id, "key": d.key, "organisation_id": org, "due": utc_text(d.due)}
        for d in deadlines
        if not d.met
        for org in dict.fromkeys(d.owed_by_organisations)  # once each, in their order
    ]


def owed_query(
    deadlines: sa.Table,
    owed: sa.Table,
    organisation_id: str,
    due_before: dt.datetime | None,
    limit: int,
) -> sa.Select[Any]:
    """The deadline rows ``organisation_id`` owes, earliest first (due before ``due_before``
    when given): a range of the by-organisation index, joined to the deadline index by its
    key. InvalidInput for an argument it cannot take."""
    as_text(organisation_id, "organisation_id", what="query")
    as_count(limit, "limit", what="query")
    query = (
        sa.select(deadlines)
        .join(
            owed,
            sa.and_(
                owed.c.engagement_id == deadlines.c.engagement_id, owed.c.key == deadlines.c.key
            ),
        )
        .where(owed.c.organisation_id == organisation_id)
        .order_by(owed.c.due, owed.c.engagement_id, owed.c.key)
        .limit(limit)
    )
    if due_before is not None:
        query = query.where(owed.c.due < utc_text(as_instant(due_before, "due_before")))
    return query
