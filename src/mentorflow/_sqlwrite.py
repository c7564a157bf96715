"""The store's hot write statements, compiled once per store and run on the DBAPI cursor.

Why: a save is three or four small statements, and SQLAlchemy Core's work around each one
(statement cache lookup, execution context, result object) and around the transaction cost
more than the writes themselves on SQLite. The statements are still built from the ``Table``
objects and compiled by SQLAlchemy for the store's dialect, so names, quoting and parameter
style stay SQLAlchemy's; only the per-call machinery is skipped. Driver errors are wrapped in
SQLAlchemy's exceptions, as ``Connection.execute`` would raise them.

``GuardedWrite`` is one save's rows: the engagement row (created, or compare-and-set on the
version it was loaded at) and the history and outbox rows that commit with it or not at all.
On psycopg its own transaction is pipelined: BEGIN, the update and the inserts go in one round
trip, COMMIT in a second once the update's row count says the save was not stale.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from mentorflow._sqlschema import Tables
from mentorflow.exceptions import ConcurrencyConflict

__all__ = ["CompiledWrite", "GuardedWrite", "WriteStatements", "cursor_of", "write_transaction"]


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
    # inline(): no RETURNING of the generated key (the outbox position); nothing reads it.
    return sa.insert(table).inline().values({name: sa.bindparam(name) for name in names})


@attrs.frozen
class WriteStatements:
    """The writes of one ``save``, compiled for one store's tables and dialect."""

    create: CompiledWrite
    update: CompiledWrite
    version: CompiledWrite
    history: CompiledWrite
    outbox: CompiledWrite
    #: Whether a save's own transaction goes through the driver's pipeline (psycopg, libpq 14+).
    pipelined: bool

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
            pipelined=dialect.driver == "psycopg" and dialect.loaded_dbapi.Pipeline.is_supported(),
        )


@attrs.frozen
class GuardedWrite:
    """One save's rows: the engagement row, then history and outbox rows that only make sense on it.

    With ``expected_version`` 0 the row is created (refused if the id is taken); otherwise it is
    updated only if still at ``expected_version``. Either way a row count other than one means
    someone else saved first: nothing is written and ``ConcurrencyConflict`` is raised.
    """

    statements: WriteStatements
    engagement_id: str
    expected_version: int
    row: Mapping[str, Any]
    history: Sequence[Mapping[str, Any]]
    outbox: Sequence[Mapping[str, Any]]

    def run(self, cursor: Any) -> None:
        """Statement by statement, inside the transaction ``cursor`` is in."""
        if self._guard().execute(cursor, self._guard_values()) != 1:
            raise self._conflict(cursor)
        self.statements.history.execute_many(cursor, self.history)
        self.statements.outbox.execute_many(cursor, self.outbox)

    def commit(self, engine: sa.Engine) -> None:
        """In a transaction of its own on a pooled connection: pipelined where the driver can.

        A pipelined save whose connection turns out dead before COMMIT was sent (so nothing can
        have been committed) runs once more on another connection.
        """
        if not self.statements.pipelined:
            with write_transaction(engine) as cursor:
                self.run(cursor)
            return
        try:
            self._commit_pipelined(engine, retry=True)
        except _Disconnected:
            self._commit_pipelined(engine, retry=False)

    def _guard(self) -> CompiledWrite:
        return self.statements.create if self.expected_version == 0 else self.statements.update

    def _guard_values(self) -> Mapping[str, Any]:
        if self.expected_version == 0:
            return self.row
        return {**self.row, "b_id": self.engagement_id, "b_expected": self.expected_version}

    def _conflict(self, cursor: Any) -> ConcurrencyConflict:
        found = None
        if self.expected_version > 0:  # a taken id on create says "no version", as it always has
            self.statements.version.execute(cursor, {"id": self.engagement_id})
            row = cursor.fetchone()
            found = int(row[0]) if row else None
        return ConcurrencyConflict(self.engagement_id, self.expected_version, found)

    def _commit_pipelined(self, engine: sa.Engine, *, retry: bool) -> None:
        dbapi = engine.dialect.loaded_dbapi
        connection = _checkout(engine)
        with _rolled_back_on_error(connection, dbapi):
            driver = connection.driver_connection
            try:
                guard = self._send(driver)
            except dbapi.Error as error:
                if engine.dialect.is_disconnect(error, driver, None):
                    connection.invalidate(error)
                    if retry:
                        raise _Disconnected from error
                    raise
                _rollback(connection, dbapi)
                # A stale save usually fails here, on its history sequence that is already taken.
                conflict = self._conflict(driver.cursor())
                if conflict.found_version != self.expected_version:
                    raise conflict from None
                raise
            if guard.rowcount != 1:
                # The inserts may have gone in: roll them back, never COMMIT them.
                _rollback(connection, dbapi)
                raise self._conflict(driver.cursor())
            driver.commit()

    def _send(self, driver: Any) -> Any:
        """BEGIN, the guarded write and the inserts in one round trip; returns the guard's cursor."""
        # Leaving the block sends one Sync and reads every result back; no COMMIT is queued.
        with driver.pipeline():
            guard = driver.cursor()
            self._guard().execute(guard, self._guard_values())
            rows = driver.cursor()
            self.statements.history.execute_many(rows, self.history)
            self.statements.outbox.execute_many(rows, self.outbox)
        return guard


class _Disconnected(Exception):
    """The connection died before COMMIT was sent: running the save again is safe."""


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
    connection = _checkout(engine)
    with _rolled_back_on_error(connection, dbapi):
        cursor = connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        yield cursor
        connection.commit()


@contextmanager
def _rolled_back_on_error(connection: Any, dbapi: Any) -> Iterator[None]:
    """Rolls back when the block raises (driver errors as SQLAlchemy's), then hands
    ``connection`` back to the pool."""
    try:
        yield
    except dbapi.Error as error:
        _rollback(connection, dbapi)
        raise sa.exc.DBAPIError.instance("save", None, error, dbapi.Error) from error
    except BaseException:
        _rollback(connection, dbapi)  # nothing to do when already invalidated (_Disconnected)
        raise
    finally:
        connection.close()


def _checkout(engine: sa.Engine) -> Any:
    dbapi = engine.dialect.loaded_dbapi
    try:
        return engine.raw_connection()
    except dbapi.Error as error:
        raise sa.exc.DBAPIError.instance("connect", None, error, dbapi.Error) from error


def _rollback(connection: Any, dbapi: Any) -> None:
    if not connection.is_valid:
        return  # invalidated: the server ended its transaction with the connection
    try:
        connection.rollback()
    except dbapi.Error:
        # The connection is broken; closing it below hands it back to the pool, which drops it.
        connection.invalidate()
