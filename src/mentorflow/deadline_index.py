"""An SQL index of deadlines, so that finding what is due is an index range scan, not a Python loop.

The ``deadlines`` table (made by ``define_table``; the SQL store declares it among its own
tables) holds one row per (engagement, deadline key). ``sync`` replaces an engagement's rows and
belongs inside the transaction that saves its snapshot; ``due_before`` answers "what is open and
due before this instant" from the ``(met, due_utc)`` index. Every function takes the table, so
the same code serves the store's prefixed, schema-bound table and a standalone one. Instants are
stored as naive UTC timestamps, which sort and compare the same on SQLite and PostgreSQL. Needs
the ``sql`` extra (SQLAlchemy 2).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import attrs
import pendulum
import sqlalchemy as sa

from mentorflow._sqlexplain import explained

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mentorflow.schedule import Deadline
    from mentorflow.state import EngagementState

__all__ = [
    "DueDeadline",
    "define_table",
    "due_before",
    "due_before_query",
    "due_deadline",
    "query_plan",
    "rows",
    "sync",
]


class UtcDateTime(sa.types.TypeDecorator[pendulum.DateTime]):
    """An aware instant stored as a naive UTC timestamp, read back as a pendulum UTC instant."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(
        self, value: dt.datetime | None, dialect: sa.Dialect
    ) -> dt.datetime | None:
        """Naive UTC for the database; a naive value is refused since its zone would be a guess."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("deadline instants must carry a time zone")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(
        self, value: dt.datetime | None, dialect: sa.Dialect
    ) -> pendulum.DateTime | None:
        """A pendulum instant in UTC."""
        if value is None:
            return None
        return pendulum.instance(value.replace(tzinfo=dt.UTC))


def define_table(metadata: sa.MetaData, name: str = "deadlines") -> sa.Table:
    """Declare the deadlines table ``name`` in ``metadata``, with its index ``ix_<name>_met_due``."""
    # Text, not VARCHAR(n): the rows are written in every save, and a long title or visitor list
    # must not make PostgreSQL refuse a valid save.
    return sa.Table(
        name,
        metadata,
        sa.Column("engagement_id", sa.Text(), primary_key=True),
        sa.Column("key", sa.Text(), primary_key=True),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("condition", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("owed_by", sa.Text(), nullable=False),
        sa.Column("visit_id", sa.Text(), nullable=True),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("due_utc", UtcDateTime(), nullable=False),
        sa.Column("due_zone", sa.Text(), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=False),
        sa.Column("engagement_version", sa.Integer(), nullable=False),
        # The key columns complete the order, so the limit stops the scan early (no sort step).
        sa.Index(f"ix_{name}_met_due", "met", "due_utc", "engagement_id", "key"),
    )


@attrs.frozen
class DueDeadline:
    """One row of the index: an open deadline as stored, its due instant back in the host's zone."""

    engagement_id: str
    key: str
    what: str
    condition: str
    title: str
    owed_by: str
    visit_id: str | None
    rule: str
    severity: str
    due: pendulum.DateTime
    engagement_version: int


def _zone(instant: pendulum.DateTime) -> str:
    name = getattr(instant.tzinfo, "name", None)
    return name if isinstance(name, str) else "UTC"


def rows(state: EngagementState, deadlines: Iterable[Deadline]) -> list[dict[str, Any]]:
    """The table rows for an engagement's deadlines."""
    return [
        {
            "engagement_id": state.id,
            "key": d.key,
            "what": d.what,
            "condition": d.condition.value,
            "title": d.title,
            "owed_by": d.owed_by,
            "visit_id": d.visit_id,
            "rule": d.rule,
            "severity": d.severity.value,
            "due_utc": d.due,
            "due_zone": _zone(d.due),
            "met": d.met,
            "engagement_version": state.version,
        }
        for d in deadlines
    ]


def sync(
    connection: sa.Connection,
    table: sa.Table,
    state: EngagementState,
    deadlines: Iterable[Deadline],
) -> int:
    """Replace the engagement's rows with ``deadlines``; run it in the snapshot's save transaction.

    Pass no deadlines for a closed or cancelled engagement to clear its rows. Returns the number
    of rows written.
    """
    connection.execute(sa.delete(table).where(table.c.engagement_id == state.id))
    new_rows = rows(state, deadlines)
    if new_rows:
        connection.execute(sa.insert(table), new_rows)
    return len(new_rows)


def due_before_query(table: sa.Table, instant: dt.datetime, limit: int) -> sa.Select[Any]:
    """The query ``due_before`` runs: open rows due before ``instant``, earliest first."""
    return (
        sa.select(table)
        .where(table.c.met.is_(False), table.c.due_utc < instant)
        .order_by(table.c.due_utc, table.c.engagement_id, table.c.key)
        .limit(limit)
    )


def due_before(
    connection: sa.Connection, table: sa.Table, instant: dt.datetime, limit: int = 1000
) -> tuple[DueDeadline, ...]:
    """Open deadlines due before ``instant``, earliest first, at most ``limit``; uses the index."""
    query = due_before_query(table, instant, limit)
    return tuple(due_deadline(row) for row in connection.execute(query).mappings())


def due_deadline(row: sa.RowMapping) -> DueDeadline:
    """A row of the table as a ``DueDeadline``, its due instant back in the host's zone."""
    return DueDeadline(
        engagement_id=row["engagement_id"],
        key=row["key"],
        what=row["what"],
        condition=row["condition"],
        title=row["title"],
        owed_by=row["owed_by"],
        visit_id=row["visit_id"],
        rule=row["rule"],
        severity=row["severity"],
        due=row["due_utc"].in_tz(row["due_zone"]),
        engagement_version=row["engagement_version"],
    )


def query_plan(
    connection: sa.Connection, table: sa.Table, instant: dt.datetime, limit: int = 1000
) -> tuple[str, ...]:
    """How the database runs ``due_before`` (SQLite ``EXPLAIN QUERY PLAN``, else ``EXPLAIN``)."""
    return explained(connection, due_before_query(table, instant, limit))
