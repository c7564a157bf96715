"""How the database runs a query: SQLite's ``EXPLAIN QUERY PLAN`` or PostgreSQL's ``EXPLAIN``,
for the exact statement and parameters SQLAlchemy sends, so a test or an operator sees the plan
of the real query (an index search, or a scan)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

__all__ = ["explained"]


def explained(connection: sa.Connection, query: sa.Executable) -> tuple[str, ...]:
    """How the database runs ``query`` (SQLite ``EXPLAIN QUERY PLAN``, else ``EXPLAIN``)."""
    prefix = "EXPLAIN QUERY PLAN " if connection.dialect.name == "sqlite" else "EXPLAIN "

    def explain(*args: Any) -> tuple[str, Any]:
        # Prefix the real statement, so the plan is for exactly the bound query that runs.
        statement, parameters = args[2], args[3]
        return prefix + statement, parameters

    sa.event.listen(connection, "before_cursor_execute", explain, retval=True)
    try:
        lines = connection.execute(query).cursor.fetchall()
    finally:
        sa.event.remove(connection, "before_cursor_execute", explain)
    return tuple(str(line[-1]) for line in lines)
