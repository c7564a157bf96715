"""The store's hot write statements, compiled once per store and run on the DBAPI cursor.

Why: a save is three or four small statements, and SQLAlchemy Core's work around each one
(statement cache lookup, execution context, result object) and around the transaction cost
more than the writes themselves on SQLite. The statements are still built from the ``Table``
objects and compiled by SQLAlchemy for the store's dialect, so names, quoting and parameter
style stay SQLAlchemy's; only the per-call machinery is skipped. Driver errors are wrapped in
SQLAlchemy's exceptions, as ``Connection.execute`` would raise them.

``GuardedWrite`` is one save's rows: the engagement row (created, or compare-and-set on the
version it was loaded at) and the history and outbox rows that commit with it or not at all.
On PostgreSQL (psycopg) the common save is a single statement run in autocommit: the
compare-and-set update in a data-modifying CTE, and inserts that take their rows only from a
matched update. One statement is one transaction and one round trip, with no BEGIN and no
COMMIT to send. Its connection is not pinged first: if the connection turns out broken, the
save reads back whether its rows were committed and runs again only if they were not.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import attrs
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.dialects import postgresql, sqlite

from mentorflow._sqlschema import DELETED_PHASE, Tables
from mentorflow.exceptions import ConcurrencyConflict

__all__ = [
    "CompiledWrite",
    "OUTBOX_COLUMNS",
    "GuardedWrite",
    "WriteStatements",
    "cursor_of",
    "ping_on_checkout",
    "unpinged",
    "write_transaction",
]

#: True while a one-statement save checks out its connection: the checkout ping is skipped there,
#: because the save settles a broken connection's outcome itself.
_UNPINGED: ContextVar[bool] = ContextVar("mentorflow_unpinged", default=False)
#: Marks a pooled connection not yet checked out since it was opened (no ping needed).
_FRESH = "mentorflow_fresh"
#: How long (seconds) a save whose connection broke waits for the engagement row's lock before
#: reading whether it was committed.
SETTLE_LOCK_TIMEOUT = 5


@attrs.frozen
class CompiledWrite:
    """One statement's SQL text for a dialect and the order its parameters go in."""

    sql: str
    #: Parameter names in positional order, or None when the driver takes named parameters.
    names: tuple[str, ...] | None
    #: Picks the positional parameters out of a row, in C (one runs per statement of a save).
    _pick: Callable[[Mapping[str, Any]], Any] | None = attrs.field(init=False, eq=False, repr=False)

    @_pick.default
    def _picker(self) -> Callable[[Mapping[str, Any]], Any] | None:
        if self.names is None:
            return None
        if len(self.names) > 1:
            return operator.itemgetter(*self.names)
        names = self.names  # itemgetter of one name gives a bare value, of none raises
        return lambda values: tuple([values[name] for name in names])

    @classmethod
    def compile(
        cls, statement: sa.Executable, dialect: sa.Dialect, converted: Collection[str] = ()
    ) -> CompiledWrite:
        """Compile ``statement``; refuses columns whose type converts values on the way in,
        but for the ``converted`` ones, whose values the caller converts (``conversions``)."""
        compiled = statement.compile(dialect=dialect)  # type: ignore[attr-defined]
        for name, bind in compiled.binds.items():
            # The dialect's own type: a generic DateTime converts nothing, SQLite's does.
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if name not in converted and processor is not None:
                raise TypeError(f"parameter {name!r} needs SQLAlchemy's bind processing")
        positions = compiled.positiontup
        return cls(compiled.string, tuple(positions) if positions is not None else None)

    def parameters(self, values: Mapping[str, Any]) -> Sequence[Any] | Mapping[str, Any]:
        """``values`` in the form the driver takes for this statement."""
        return values if self._pick is None else self._pick(values)

    def execute(self, cursor: Any, values: Mapping[str, Any]) -> int:
        """Run once; returns the number of rows it changed."""
        cursor.execute(self.sql, self.parameters(values))
        return int(cursor.rowcount)

    def fetch_one(self, cursor: Any, values: Mapping[str, Any]) -> Any:
        """Run a query once; returns its first row, or None."""
        cursor.execute(self.sql, self.parameters(values))
        return cursor.fetchone()

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


def _save_statement(
    update: sa.Update, targets: Sequence[tuple[sa.Table, Sequence[str], str, int]]
) -> sa.Select[Any]:
    """``update`` as a CTE, then for each (table, columns, prefix, n) an insert of ``n`` rows
    whose parameters are named ``{prefix}{i}_{column}``, each row selected from the update's
    result: a stale save (no row matched) inserts nothing. Returns how many rows matched."""
    changed = update.returning(sa.literal_column("1")).cte("changed")
    query = sa.select(sa.func.count()).select_from(changed)
    for table, columns, prefix, n in targets:
        if n == 0:
            continue
        rows = [
            sa.select(
                *[sa.bindparam(f"{prefix}{i}_{c}", type_=table.c[c].type) for c in columns]
            ).select_from(changed)
            for i in range(n)
        ]
        written = sa.insert(table).from_select(columns, sa.union_all(*rows) if n > 1 else rows[0])
        query = query.add_cte(written.cte(f"written_{table.name}"))
    return query


def _insert(table: sa.Table, names: Sequence[str]) -> sa.Insert:
    # inline(): no RETURNING of the generated key (the outbox position); nothing reads it.
    return sa.insert(table).inline().values({name: sa.bindparam(name) for name in names})


#: The outbox columns a save writes (the rest take their defaults).
OUTBOX_COLUMNS = (
    "event_id",
    "engagement_id",
    "sequence",
    "event_type",
    "payload",
    "status",
    "attempts",
    "next_attempt_at",
)


@attrs.frozen
class WriteStatements:
    """The writes of one ``save``, compiled for one store's tables and dialect."""

    create: CompiledWrite
    version: CompiledWrite
    #: The version, the history entry at one sequence (NULL when absent) and the phase (a
    #: deleted engagement's tells), read for update.
    outcome: CompiledWrite
    history: CompiledWrite
    outbox: CompiledWrite
    #: Whether the common save runs as one statement in autocommit (PostgreSQL with psycopg).
    one_statement: bool
    _tables: Tables
    _dialect: sa.Dialect
    #: Compare-and-set updates compiled so far, by the engagement columns they set.
    _updates: dict[tuple[str, ...], CompiledWrite] = attrs.field(factory=dict, init=False)
    #: Combined statements compiled so far, by (history rows, outbox rows, columns set).
    _combined: dict[tuple[int, int, tuple[str, ...]], CompiledWrite] = attrs.field(
        factory=dict, init=False
    )

    @classmethod
    def compile(cls, tables: Tables, dialect: sa.Dialect) -> WriteStatements:
        """Compile every statement once, for ``dialect``."""
        e, h, o = tables.engagements, tables.history, tables.outbox
        entry_at = sa.and_(h.c.engagement_id == e.c.id, h.c.sequence == sa.bindparam("sequence"))
        outcome = (
            sa.select(e.c.version, h.c.entry, e.c.phase)
            .select_from(e.outerjoin(h, entry_at))
            .where(e.c.id == sa.bindparam("id"))
        )
        if dialect.name == "postgresql":
            # Waits for a transaction still holding the row: the outcome read is a final one.
            outcome = outcome.with_for_update(read=True, of=e)
        return cls(
            create=CompiledWrite.compile(_insert_new(e, dialect), dialect),
            version=CompiledWrite.compile(
                sa.select(e.c.version, e.c.phase).where(e.c.id == sa.bindparam("id")), dialect
            ),
            outcome=CompiledWrite.compile(outcome, dialect),
            history=CompiledWrite.compile(_insert(h, [c.name for c in h.columns]), dialect),
            outbox=CompiledWrite.compile(_insert(o, OUTBOX_COLUMNS), dialect),
            one_statement=dialect.name == "postgresql" and dialect.driver == "psycopg",
            tables=tables,
            dialect=dialect,
        )

    def update(self, columns: tuple[str, ...]) -> CompiledWrite:
        """The compare-and-set update of the engagement row setting ``columns`` (compiled on
        first use for that set): a save sets only the indexed columns its action changed,
        since SQLite rewrites an index whenever its column is set, even to the same value."""
        found = self._updates.get(columns)
        if found is None:
            found = CompiledWrite.compile(self._update_statement(columns), self._dialect)
            self._updates[columns] = found
        return found

    def combined(self, history: int, outbox: int, columns: tuple[str, ...]) -> CompiledWrite:
        """The update of ``columns`` and the inserts of ``history`` history and ``outbox``
        outbox rows as one statement (see ``_save_statement``), compiled on first use."""
        key = (history, outbox, columns)
        found = self._combined.get(key)
        if found is None:
            h = self._tables.history
            targets = [
                (h, [c.name for c in h.columns], "h", history),
                (self._tables.outbox, OUTBOX_COLUMNS, "o", outbox),
            ]
            found = CompiledWrite.compile(
                _save_statement(self._update_statement(columns), targets), self._dialect
            )
            self._combined[key] = found
        return found

    def _update_statement(self, columns: tuple[str, ...]) -> sa.Update:
        e = self._tables.engagements
        return (
            e.update()
            .where(e.c.id == sa.bindparam("b_id"), e.c.version == sa.bindparam("b_expected"))
            .values({name: sa.bindparam(name) for name in columns})
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
        """In a transaction of its own on a pooled connection: one statement where it can.

        If that statement's connection breaks, it may or may not have been committed: the save
        reads back whether its rows are there, and runs once more, on a pinged connection, only
        if they are not.
        """
        if not self.statements.one_statement or self.expected_version == 0:
            with write_transaction(engine) as cursor:
                self.run(cursor)
            return
        try:
            self._write_at_once(engine, ping=False)
            return
        except _Broken:
            if self._stored(engine):
                return
        try:
            self._write_at_once(engine, ping=True)
        except ConcurrencyConflict:
            # The first attempt may have been committed after all, once its server caught up.
            if not self._stored(engine):
                raise
        except _Broken as broken:
            if not self._stored(engine):
                raise _wrapped(broken.error, engine.dialect.loaded_dbapi) from broken.error

    def _guard(self) -> CompiledWrite:
        if self.expected_version == 0:
            return self.statements.create
        return self.statements.update(tuple(self.row))

    def _guard_values(self) -> Mapping[str, Any]:
        if self.expected_version == 0:
            return self.row
        return {**self.row, "b_id": self.engagement_id, "b_expected": self.expected_version}

    def _conflict(self, cursor: Any) -> ConcurrencyConflict:
        # On create too: the id is taken, and the stored version says by how far.
        row = self.statements.version.fetch_one(cursor, {"id": self.engagement_id})
        if row is None:
            return ConcurrencyConflict(self.engagement_id, self.expected_version, None)
        version, phase = row
        return self._conflict_with(version, phase)

    def _conflict_with(self, version: int, phase: str) -> ConcurrencyConflict:
        """The conflict with the stored row at ``version`` in ``phase`` (deleted, perhaps)."""
        return ConcurrencyConflict(
            self.engagement_id, self.expected_version, int(version), deleted=phase == DELETED_PHASE
        )

    def _write_at_once(self, engine: sa.Engine, *, ping: bool) -> None:
        """The save as one statement in autocommit; raises _Broken when the connection broke."""
        dbapi = engine.dialect.loaded_dbapi
        connection = _checkout(engine, ping=ping)
        with _rolled_back_on_error(connection, dbapi):
            driver = connection.driver_connection
            cursor = driver.cursor()
            statement = self.statements.combined(
                len(self.history), len(self.outbox), tuple(self.row)
            )
            # One statement is one transaction: no BEGIN and no COMMIT round trips.
            was_autocommit = bool(driver.autocommit)
            driver.autocommit = True
            try:
                (matched,) = statement.fetch_one(cursor, self._combined_values())
            except dbapi.Error as error:
                # Never a stale save (that inserts nothing and fails nothing): a broken
                # connection, or a real failure that the caller gets as SQLAlchemy's error.
                if engine.dialect.is_disconnect(error, driver, None):
                    connection.invalidate(error)
                    raise _Broken(error) from error
                raise
            finally:
                _restore_autocommit(connection, driver, was_autocommit)
            if matched != 1:
                raise self._conflict(cursor)  # stale: the inserts took no rows either

    def _combined_values(self) -> dict[str, Any]:
        values = {**self.row, "b_id": self.engagement_id, "b_expected": self.expected_version}
        for prefix, rows in (("h", self.history), ("o", self.outbox)):
            for i, row in enumerate(rows):
                values.update({f"{prefix}{i}_{name}": value for name, value in row.items()})
        return values

    def _stored(self, engine: sa.Engine) -> bool:
        """Whether this save's rows are in the database (False: nothing of it is).

        Raises ConcurrencyConflict when another save took the version. Waits (up to
        ``SETTLE_LOCK_TIMEOUT``) for a transaction still holding the engagement's row, such as
        this save's own on a connection the server has not yet seen break.
        """
        dbapi = engine.dialect.loaded_dbapi
        connection = _checkout(engine)
        with _rolled_back_on_error(connection, dbapi):
            cursor = connection.cursor()
            cursor.execute(f"SET LOCAL lock_timeout = '{SETTLE_LOCK_TIMEOUT}s'")
            row = self.statements.outcome.fetch_one(
                cursor, {"id": self.engagement_id, "sequence": self.expected_version + 1}
            )
            connection.rollback()
        if row is None:
            raise ConcurrencyConflict(self.engagement_id, self.expected_version, None)
        version, entry, phase = row
        if entry is not None and entry == self.history[0]["entry"]:
            return True
        if version == self.expected_version:
            return False
        raise self._conflict_with(version, phase)


class _Broken(Exception):
    """The connection broke while a save's statement was on it; ``error`` is the driver's."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _restore_autocommit(connection: Any, driver: Any, autocommit: bool) -> None:
    """The connection's own setting (transactions, normally) back before it returns to the
    pool; a connection where it cannot be (broken, or stopped mid-statement) is invalidated so
    that nobody else gets it."""
    if not connection.is_valid or bool(driver.autocommit) == autocommit:
        return
    try:
        driver.autocommit = autocommit
    except Exception as error:
        connection.invalidate(error)


def ping_on_checkout(engine: sa.Engine) -> None:
    """Ping each pooled connection as it is checked out, as ``pool_pre_ping`` does, except for
    new connections and for one-statement saves, which find out what a broken connection did."""
    dialect = engine.dialect

    @sa_event.listens_for(engine, "connect")
    def _fresh(dbapi_connection: Any, record: Any) -> None:
        record.info[_FRESH] = True

    @sa_event.listens_for(engine, "checkout")
    def _ping(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if record.info.pop(_FRESH, False) or _UNPINGED.get():
            return
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # As a failed pre-ping: the pool drops its older connections and reconnects.
                raise sa.exc.InvalidatePoolError() from error
            raise


@contextmanager
def unpinged() -> Iterator[None]:
    """Connections checked out inside the block are not pinged: for work that finds out for
    itself what a broken connection did (a one-statement save, a read that can run again)."""
    token = _UNPINGED.set(True)
    try:
        yield
    finally:
        _UNPINGED.reset(token)


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
        raise _wrapped(error, dbapi) from error
    except BaseException:
        _rollback(connection, dbapi)  # nothing to do when already invalidated (_Broken)
        raise
    finally:
        connection.close()


def _wrapped(error: Exception, dbapi: Any) -> sa.exc.StatementError:
    return sa.exc.DBAPIError.instance("save", None, error, dbapi.Error)


def _checkout(engine: sa.Engine, *, ping: bool = True) -> Any:
    dbapi = engine.dialect.loaded_dbapi
    token = _UNPINGED.set(not ping)
    try:
        return engine.raw_connection()
    except dbapi.Error as error:
        raise sa.exc.DBAPIError.instance("connect", None, error, dbapi.Error) from error
    finally:
        _UNPINGED.reset(token)


def _rollback(connection: Any, dbapi: Any) -> None:
    if not connection.is_valid:
        return  # invalidated: the server ended its transaction with the connection
    try:
        connection.rollback()
    except dbapi.Error:
        # The connection is broken; closing it below hands it back to the pool, which drops it.
        connection.invalidate()
