"""Replacing one engagement's rows in an index table (the deadline index, who owes what) on the
save's own cursor, with statements compiled once per store.

Why: a save that moves a deadline rewrites these rows, and SQLAlchemy Core's work around each
statement costs more than the small writes themselves (see ``_sqlwrite``). The values are still
converted by each column's own type for the dialect, as SQLAlchemy would convert them (an
instant to naive UTC, a flag to the driver's boolean), so the rows are exactly the ones
``Connection.execute`` writes and every query of the indexes reads them the same.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import sqlalchemy as sa

from mentorflow._sqlwrite import CompiledWrite

__all__ = ["RowReplacement"]


@attrs.frozen
class RowReplacement:
    """The delete of an engagement's rows and the insert of its new ones, for one table."""

    delete: CompiledWrite
    insert: CompiledWrite
    #: Each column whose type converts its values on the way in, with that conversion.
    conversions: tuple[tuple[str, Callable[[Any], Any]], ...]

    @classmethod
    def compile(cls, table: sa.Table, dialect: sa.Dialect) -> RowReplacement:
        """Compile for ``table`` (keyed by ``engagement_id``) and ``dialect``."""
        delete = sa.delete(table).where(table.c.engagement_id == sa.bindparam("engagement_id"))
        insert = sa.insert(table).values({c.name: sa.bindparam(c.name) for c in table.columns})
        conversions = []
        for column in table.columns:
            convert = column.type.dialect_impl(dialect).bind_processor(dialect)
            if convert is not None:
                conversions.append((column.name, convert))
        converted = [name for name, _ in conversions]
        return cls(
            CompiledWrite.compile(delete, dialect),
            CompiledWrite.compile(insert, dialect, converted),
            tuple(conversions),
        )

    def run(self, cursor: Any, engagement_id: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Replace the engagement's rows with ``rows``; inside the save's transaction."""
        self.delete.execute(cursor, {"engagement_id": engagement_id})
        if self.conversions:
            rows = [
                {**row, **{name: convert(row[name]) for name, convert in self.conversions}}
                for row in rows
            ]
        self.insert.execute_many(cursor, rows)
