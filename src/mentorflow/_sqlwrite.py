"""The store's hot write statements, compiled once per store and run on the DBAPI cursor.

Why: a save is three or four small statements, and SQLAlchemy Core's work around each one
(statement cache lookup, execution context, result object) and around the transaction cost
more than the writes themselves on SQLite. The statements are still built from the ``Table``
objects and compiled by SQLAlchemy for the store's dialect, so names, quoting and parameter
style stay SQLAlchemy's; only the per-call machinery is skipped. Driver errors are wrapped in
SQLAlchemy's exceptions, as ``Connection.execute`` would raise them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from mentorflow._sqlschema import Tables

__all__ = ["CompiledWrite", "WriteStatements", "cursor_of", "write_transaction"]


@attrs.frozen
class CompiledWrite:
    """One statement's SQL text for a dialect and the order its parameters go in."""

    sql: str
    #: Parameter names in positional order, or None when the driver takes named parameters.
    names: tuple[str, ...] | None

    @classmethod
    def compile(cls, statement: sa.Executable, dialect: sa.Dialect) -> CompiledWrite:
        """Compile ``statement``; refuses columns whose type converts values on the way in."""
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        for name, bind in compiled.binds.items():
            if bind.type.bind_processor(dialect) is not None:
                raise TypeError(f"parameter {name!r} needs SQLAlchemy's bind processing")
        positions = compiled.positiontup
        return cls(compiled.string, tuple(positions) if positions is not None else None)

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        """``values`` in the form the driver takes for this statement."""
        return values if self.names is None else tuple(values[name] for name in self.names)

    def execute(self, cursor: Any, values: Mapping[str, Any]) -> int:
        """Run once; returns the number of rows it changed."""
        cursor.execute(self.sql, self.parameters(values))
        return int(cursor.rowcount)

    def execute_many(self, cursor: Any, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row, in order."""
        if len(rows) == 1:
            cursor.execute(self.sql, self.parameters(rows[0]))
        elif rows:
            cursor.executemany(self.sql, [self.parameters(row) for row in rows])


def _insert_new(table: sa.Table, dialect: sa.Dialect) -> sa.Insert:
    # ON CONFLICT DO NOTHING, so a taken id shows as zero rows instead of an error that would
    # abort the whole PostgreSQL transaction.
    insert: sa.Insert
    if dialect.name == "postgresql":
        insert = postgresql.insert(table).on_conflict_do_nothing(index_elements=[table.c.id])
    else:
        insert = sqlite.insert(table).on_conflict_do_nothing(index_elements=[table.c.id])
    return insert.values({c.name: sa.bindparam(c.name) for c in table.columns})


def _insert(table: sa.Table, names: Sequence[str]) -> sa.Insert:
    return sa.insert(table).values({name: sa.bindparam(name) for name in names})


@attrs.frozen
class WriteStatements:
    """The writes of one ``save``, compiled for one store's tables and dialect."""

    create: CompiledWrite
    update: CompiledWrite
    version: CompiledWrite
    history: CompiledWrite
    outbox: CompiledWrite

    @classmethod
    def compile(cls, tables: Tables, dialect: sa.Dialect) -> WriteStatements:
        """Compile every statement once, for ``dialect``."""
        e, h, o = tables.engagements, tables.history, tables.outbox
        update = (
            e.update()
            .where(e.c.id == sa.bindparam("b_id"), e.c.version == sa.bindparam("b_expected"))
            .values(
                {
                    name: sa.bindparam(name)
                    for name in (
                        "version",
                        "phase",
                        "method_version",
                        "snapshot",
                        "next_deadline",
                        "updated_at",
                    )
                }
            )
        )
        outbox_columns = [
            "event_id",
            "engagement_id",
            "sequence",
            "event_type",
            "payload",
            "status",
            "attempts",
            "next_attempt_at",
        ]
        return cls(
            create=CompiledWrite.compile(_insert_new(e, dialect), dialect),
            update=CompiledWrite.compile(update, dialect),
            version=CompiledWrite.compile(
                sa.select(e.c.version).where(e.c.id == sa.bindparam("id")), dialect
            ),
            history=CompiledWrite.compile(_insert(h, [c.name for c in h.columns]), dialect),
            outbox=CompiledWrite.compile(_insert(o, outbox_columns), dialect),
        )


def cursor_of(connection: sa.Connection) -> Any:
    """A DBAPI cursor on the connection (and inside the transaction) ``connection`` holds."""
    return connection.connection.cursor()


@contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[Any]:
    """A DBAPI cursor inside one write transaction on a pooled connection.

    Commits when the block ends, rolls back when it raises. On SQLite the transaction starts
    with ``BEGIN IMMEDIATE`` (one writer at a time), as the store's other write transactions do.
    """
    dbapi = engine.dialect.loaded_dbapi
    try:
        connection = engine.raw_connection()
    except dbapi.Error as error:
        raise sa.exc.DBAPIError.instance("connect", None, error, dbapi.Error) from error
    try:
        cursor = connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        yield cursor
        connection.commit()
    except dbapi.Error as error:
        _rollback(connection, dbapi)
        raise sa.exc.DBAPIError.instance("save", None, error, dbapi.Error) from error
    except BaseException:
        _rollback(connection, dbapi)
        raise
    finally:
        connection.close()


def _rollback(connection: Any, dbapi: Any) -> None:
    try:
        connection.rollback()
    except dbapi.Error:
        # The connection is broken; closing it below hands it back to the pool, which drops it.
        connection.invalidate()
