"""Copying everything one store holds into another, empty one: from SQLite to PostgreSQL when a
platform outgrows one process, or from a production database into a test copy.

Every table is copied row for row, keys included, in one transaction on the target, so the
copy is all there or not there at all. Outbox positions are kept, so the relay delivers in the
source's order; on PostgreSQL the position sequence is then moved past them, so that new events
come after the copied ones. The source is read in one snapshot (a read transaction on SQLite,
REPEATABLE READ on PostgreSQL): workers may keep saving to it while it is copied, and what they
save after the snapshot is simply not in the copy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import sqlalchemy as sa

from mentorflow._inputs import as_count
from mentorflow.exceptions import InvalidInput, Problem

if TYPE_CHECKING:
    from mentorflow.sqlstore import SqlStore

__all__ = ["COPIED_TABLES", "copy_rows"]

#: The store's tables a copy carries over, by their ``Tables`` field (the schema's own record of
#: migration steps is the target's: it is migrated to this release when it opens).
COPIED_TABLES = (
    "engagements",
    "history",
    "participants",
    "outbox",
    "outbox_attempts",
    "deadlines",
    "owed",
    "reminders",
    "reminder_ticks",
)


def copy_rows(source: SqlStore, target: SqlStore, batch_size: int) -> dict[str, int]:
    """Copy every row of ``source`` into ``target`` in one transaction on the target; returns
    how many rows each table got (by its ``Tables`` field). InvalidInput, with nothing written,
    when ``target`` already holds engagements or events, or ``batch_size`` is not a count."""
    as_count(batch_size, "batch_size", what="copy")
    counts: dict[str, int] = {}
    with _snapshot(source) as read, target.engine.begin() as write:
        _refuse_unless_empty(write, target)
        for name in COPIED_TABLES:
            source_table, target_table = getattr(source.tables, name), getattr(target.tables, name)
            query = sa.select(source_table).order_by(*source_table.primary_key.columns)
            copied = 0
            # Closed even when a write fails: on PostgreSQL the rows come from a server cursor.
            with read.execution_options(yield_per=batch_size).execute(query) as result:
                for rows in result.mappings().partitions(batch_size):
                    write.execute(target_table.insert(), [dict(row) for row in rows])
                    copied += len(rows)
            counts[name] = copied
        if write.dialect.name == "postgresql":
            _move_position_sequence(write, target.tables.outbox)
    return counts


@contextmanager
def _snapshot(store: SqlStore) -> Iterator[sa.Connection]:
    """A connection that reads ``store`` as of one moment, for as long as the block runs."""
    with store.engine.connect() as conn:
        conn.execution_options(mentorflow_read=True)  # SQLite: a plain BEGIN, no write lock
        if store.dialect == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def _refuse_unless_empty(conn: sa.Connection, target: SqlStore) -> None:
    """A copy goes into an empty store only: merging two stores' engagements and outboxes
    could mix two relays' orders and collide on ids."""
    problems = []
    for name, what in (("engagements", "engagement(s)"), ("outbox", "outbox event(s)")):
        table = getattr(target.tables, name)
        held = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        if held:
            problems.append(Problem("$.target", f"holds {held} {what}; copy into an empty store"))
    if problems:
        raise InvalidInput("copy", problems)


def _move_position_sequence(conn: sa.Connection, outbox: sa.Table) -> None:
    """Set the outbox's position sequence past the copied positions (explicit values do not
    move it), so the next event saved on the target comes after them."""
    table = conn.dialect.identifier_preparer.format_table(outbox)
    conn.execute(
        sa.text(
            f"SELECT setval(pg_get_serial_sequence(:table, 'position'), "
            f"COALESCE((SELECT max(position) FROM {table}), 0) + 1, false)"
        ),
        {"table": table},
    )
