"""The SQL store on SQLAlchemy Core: SQLite by default (a file path is enough), PostgreSQL for many workers.

One ``save`` is one transaction: a compare-and-set ``UPDATE`` of the snapshot on the version it
was loaded at, the new history rows, the outbox rows and the engagement's rows in the deadline
index (``deadline_index``), so "what is due" never disagrees with the snapshots. A stale save matches no row, raises
``ConcurrencyConflict`` and rolls back. On SQLite every write transaction starts with
``BEGIN IMMEDIATE`` (one writer at a time, others wait up to the busy timeout) and the database
runs in WAL mode so readers do not block the writer.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pendulum
import sqlalchemy as sa
from sqlalchemy import event as sa_event

from mentorflow import deadline_index
from mentorflow._change import Change
from mentorflow._inputs import as_count, as_instant, as_text
from mentorflow._sqlite_path import sqlite_file
from mentorflow._sqlschema import (
    DEADLINES_STEP,
    READY_NOW,
    Tables,
    check_schema,
    check_sqlite_file,
    migrate_schema,
    utc_text,
)
from mentorflow._sqlwrite import GuardedWrite, WriteStatements, cursor_of, ping_on_checkout
from mentorflow.clock import Clock
from mentorflow.compiled import CompiledMethod
from mentorflow.deadline_index import DueDeadline
from mentorflow.events import Event
from mentorflow.exceptions import (
    InvalidDocument,
    InvalidInput,
    Problem,
    UnknownEngagement,
)
from mentorflow.schedule import Deadline, deadlines, is_live
from mentorflow.serialization import (
    MAX_DOCUMENT_BYTES,
    Codec,
    default_codec,
    document_too_large,
    snapshot_problems,
)
from mentorflow.state import EngagementState, HistoryEntry, evolve_state
from mentorflow.store import OutboxEntry, OutboxStatus, method_problems, next_deadline
from mentorflow.versions import MethodRegistry

__all__ = ["SqlStore", "WallClock"]


#: Every outbox status, as ``outbox(status=…)`` takes them.
_OUTBOX_STATUSES = (OutboxStatus.PENDING, OutboxStatus.DELIVERED, OutboxStatus.DEAD)


def _largest_part(document: object) -> str:
    """The ``$.path`` of what takes the most room in ``document`` (parsed JSON), followed down."""
    path = "$"
    while True:
        if isinstance(document, dict) and document:
            key, document = max(document.items(), key=lambda item: len(orjson.dumps(item[1])))
            path += f".{key}" if key.isidentifier() else f"[{key!r}]"
        elif isinstance(document, list) and document:
            items: list[Any] = document
            index = max(range(len(items)), key=lambda i: len(orjson.dumps(items[i])))
            path, document = f"{path}[{index}]", items[index]
        else:
            return path


class WallClock:
    """The real time, in UTC: the default for stores and relays that are not given a clock."""

    def now(self) -> pendulum.DateTime:
        """The current instant."""
        return pendulum.now("UTC")


def _sqlite_engine(url: sa.URL, busy_timeout: float) -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"timeout": busy_timeout})

    @sa_event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _: object) -> None:
        # Let SQLAlchemy's "begin" below issue BEGIN itself instead of the driver guessing.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        if sqlite_file(url) is not None:  # an in-memory database has no log to keep
            _write_ahead_log(cursor, busy_timeout)
        cursor.close()

    @sa_event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        read_only = conn.get_execution_options().get("mentorflow_read", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


#: How long a connection waits between tries to switch a new SQLite file to WAL mode.
_WAL_RETRY_SECONDS = 0.01


def _write_ahead_log(cursor: Any, busy_timeout: float) -> None:
    """Switch the database to WAL mode (it stays so), trying again while another connection
    opening the same new file holds it: SQLite answers "database is locked" at once there,
    without waiting out the busy timeout, when waiting could deadlock."""
    for _ in range(max(1, int(busy_timeout / _WAL_RETRY_SECONDS))):
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
                return
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
            time.sleep(_WAL_RETRY_SECONDS)
    cursor.execute("PRAGMA journal_mode=WAL")  # the last try raises what the database says


def _without_unchanged(
    values: dict[str, Any],
    state: EngagementState,
    previous: EngagementState,
    *,
    deadline_kept: bool,
) -> dict[str, Any]:
    """``values`` less the indexed columns whose stored value ``previous`` already wrote.

    The row was written from ``previous`` (the save's version check makes sure of that), so
    its phase and method version are ``previous``'s, and so is its next deadline when the
    method is registered here and no deadline moved (``deadline_kept``).
    """
    same = []
    if previous.phase == state.phase:
        same.append("phase")
    if previous.method_version == state.method_version:
        same.append("method_version")
    if deadline_kept:
        same.append("next_deadline")
    return {name: value for name, value in values.items() if name not in same}


class SqlStore:
    """Engagements, history and outbox in SQL tables (see ``_sqlschema``)."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        methods: MethodRegistry | None = None,
        schema: str | None = None,
        prefix: str = "mf_",
        clock: Clock | None = None,
        codec: Codec | None = None,
        create: bool = True,
    ) -> None:
        self.engine = engine
        self.tables = Tables.define(schema, prefix)
        self.codec = codec or default_codec()
        self.clock: Clock = clock or WallClock()
        self._methods = methods if methods is not None else MethodRegistry.builtin()
        t = self.tables
        e = t.engagements
        self._select_snapshot = sa.select(
            e.c.snapshot, e.c.version, e.c.method_id, e.c.method_version
        ).where(e.c.id == sa.bindparam("id"))
        self._writes = WriteStatements.compile(self.tables, engine.dialect)
        if create:
            self.migrate()
        else:
            check_sqlite_file(engine.url, self.tables)
            with self.reading() as conn:
                check_schema(conn, self.tables)

    @classmethod
    def open(
        cls,
        target: str | Path,
        *,
        methods: MethodRegistry | None = None,
        schema: str | None = None,
        prefix: str = "mf_",
        clock: Clock | None = None,
        busy_timeout: float = 30.0,
        create: bool = True,
    ) -> SqlStore:
        """A store on a SQLite file path or a database URL (``postgresql+psycopg://…``).

        The schema is created or upgraded unless ``create`` is False; then a database without
        every migration step of this release raises ``SchemaMismatch``, as does (either way) one
        that a newer release migrated. ``busy_timeout`` (seconds) is how long a SQLite writer
        waits for the write lock.
        """
        text = str(target)
        url = (
            sa.make_url(text) if "://" in text else sa.URL.create("sqlite+pysqlite", database=text)
        )
        if url.get_backend_name() == "sqlite":
            engine = _sqlite_engine(url, busy_timeout)
        else:
            engine = sa.create_engine(url)
            ping_on_checkout(engine)
        try:
            return cls(
                engine, methods=methods, schema=schema, prefix=prefix, clock=clock, create=create
            )
        except BaseException:
            engine.dispose()  # a refused open (SchemaMismatch) keeps no connection open
            raise

    @property
    def methods(self) -> MethodRegistry:
        """The methods engagements here may follow, by (id, version)."""
        return self._methods

    @property
    def dialect(self) -> str:
        """``"sqlite"`` or ``"postgresql"``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def migrate(self) -> tuple[int, ...]:
        """Create or upgrade the schema; returns the migration steps applied now.

        The step that adds the deadline index also fills it (and recomputes ``next_deadline``)
        for every stored engagement, in the same transaction. Workers migrating at once take
        turns, so each step is applied once. A database with a step this release does not know
        (a newer release migrated it) raises ``SchemaMismatch`` and nothing is written.
        """
        with self.engine.connect() as conn:
            if self.dialect == "postgresql":
                # Once the previous worker's lock is released, the next statements must see
                # what it committed: not so under a REPEATABLE READ engine of the caller's.
                conn.execution_options(isolation_level="READ COMMITTED")
            with conn.begin():
                applied = migrate_schema(conn, self.tables, self.clock.now())
                if DEADLINES_STEP in applied:
                    self._reindex(conn)
                return applied

    def _reindex(self, conn: sa.Connection) -> None:
        e = self.tables.engagements
        for row in conn.execute(sa.select(e.c.id)).all():
            try:
                state = self.load_on(conn, row.id)
            except InvalidDocument:
                continue  # ``load`` refuses it too; the upgrade must not be held up by it
            found = self._deadlines(state)
            if found is None:
                continue
            deadline_index.sync(conn, self.tables.deadlines, state, found)
            due = next_deadline(state, self._method_of(state), found)
            conn.execute(
                e.update()
                .where(e.c.id == row.id)
                .values(next_deadline=utc_text(due) if due is not None else None)
            )

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        """A connection for reads (a plain ``BEGIN`` on SQLite, so it takes no write lock)."""
        with self.engine.connect() as conn:
            conn.execution_options(mentorflow_read=True)
            yield conn

    # -- engagements ---------------------------------------------------------------------------

    def load(self, engagement_id: str) -> EngagementState:
        """The current snapshot; raises UnknownEngagement, or InvalidDocument for a bad row."""
        with self.reading() as conn:
            return self.load_on(conn, engagement_id)

    def load_on(self, conn: sa.Connection, engagement_id: str) -> EngagementState:
        """``load``, read on ``conn``: inside a transaction the caller holds."""
        as_text(engagement_id, "engagement_id", what="load")
        row = conn.execute(self._select_snapshot, {"id": engagement_id}).first()
        if row is None:
            raise UnknownEngagement(engagement_id)
        state = self.codec.load_state(row.snapshot)
        if not state.history and row.version:
            # The row's snapshot leaves the history out: it lives, append-only, in its own table.
            # Rows up to the row's version only: under READ COMMITTED another worker may append
            # between the two reads, and the appended rows belong to a later snapshot.
            history = self._history_on(conn, engagement_id, up_to=row.version)
            state = evolve_state(state, history=history)
            problems = snapshot_problems(state)
        else:
            problems = []
        if state.id != engagement_id:
            problems.append(
                Problem("$.id", f"snapshot of {state.id!r} stored under {engagement_id!r}")
            )
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
        elif (state.method_id, state.method_version) in self._methods:
            method = self._methods.get(state.method_id, state.method_version)
            problems += method_problems(state, method)
        if problems:
            raise InvalidDocument("EngagementState", problems)
        return state

    def save(
        self,
        change: Change,
        *,
        expected_version: int,
        previous: EngagementState | None = None,
    ) -> None:
        """Snapshot, history rows and outbox rows in one transaction, if still at ``expected_version``.

        ``previous`` (the snapshot the change was computed from, at ``expected_version``) lets
        the save skip what the action left as it was: the deadline index when no deadline
        moved, as most actions do, and the engagement row's indexed columns (phase, method
        version, next deadline) when their values are the same, so their indexes are not
        rewritten.

        Nothing is written, and ``InvalidDocument`` names the part that takes the most room,
        when a document to write (the snapshot, a history entry, an event) is larger than the
        reader takes (``MAX_DOCUMENT_BYTES`` of UTF-8): a save never stores what ``load``
        would refuse.
        """
        if not isinstance(change, Change):
            raise InvalidInput(
                "save", [Problem("$.change", f"expected a Change, got {type(change).__name__}")]
            )
        as_count(expected_version, "expected_version", what="save", minimum=0)
        if previous is not None and not isinstance(previous, EngagementState):
            raise InvalidInput(
                "save",
                [
                    Problem(
                        "$.previous",
                        f"expected an EngagementState, got {type(previous).__name__}",
                    )
                ],
            )
        state = change.state
        if previous is not None and (previous.id, previous.version) != (
            state.id,
            expected_version,
        ):
            raise InvalidInput(
                "save",
                [
                    Problem(
                        "$.previous",
                        f"is version {previous.version} of {previous.id!r}; the change "
                        f"follows version {expected_version} of {state.id!r}",
                    )
                ],
            )
        new_entries = state.history[expected_version:]
        if not new_entries or new_entries[0].sequence != expected_version + 1:
            raise InvalidInput(
                "save",
                [
                    Problem(
                        "$.expected_version",
                        f"the change does not follow version {expected_version}",
                    )
                ],
            )
        found = self._deadlines(state)
        # The deadline index is rewritten only when the action moved a deadline.
        reindex = (
            found
            if found is not None and (previous is None or self._deadlines(previous) != found)
            else None
        )
        values = self._row(state, found)
        if expected_version == 0:
            values = {**values, "id": state.id, "method_id": state.method_id}
        elif previous is not None:
            kept = found is not None and reindex is None
            values = _without_unchanged(values, state, previous, deadline_kept=kept)
        write = GuardedWrite(
            self._writes,
            state.id,
            expected_version,
            values,
            [self._history_row(state.id, entry) for entry in new_entries],
            [self._outbox_row(event) for event in change.events],
        )
        if expected_version > 0 and reindex is None:
            # The common save: nothing to write beyond the guarded rows.
            write.commit(self.engine)
            return
        with self.engine.begin() as conn:
            write.run(cursor_of(conn))
            if expected_version == 0:
                self._insert_participants(conn, state)
            if reindex is not None:
                deadline_index.sync(conn, self.tables.deadlines, state, reindex)

    def _insert_participants(self, conn: sa.Connection, state: EngagementState) -> None:
        people = [
            {
                "engagement_id": state.id,
                "participant_id": p.id,
                "organisation_id": p.organisation_id,
                "role": p.role.value,
            }
            for p in state.participants
        ]
        if people:
            conn.execute(self.tables.participants.insert(), people)

    def _method_of(self, state: EngagementState) -> CompiledMethod:
        return self._methods.get(state.method_id, state.method_version)

    def _deadlines(self, state: EngagementState) -> tuple[Deadline, ...] | None:
        """The rows the deadline index should hold: none once closed or cancelled; ``None``
        (leave the index alone) when the method is not registered here."""
        if (state.method_id, state.method_version) not in self._methods:
            return None
        method = self._method_of(state)
        return deadlines(method, state) if is_live(method, state) else ()

    def _row(self, state: EngagementState, found: tuple[Deadline, ...] | None) -> dict[str, Any]:
        deadline = None
        if found is not None:
            due = next_deadline(state, self._method_of(state), found)
            deadline = utc_text(due) if due is not None else None
        last = state.history[-1].at
        # The history is written row by row to its own table, so a save stays the same size
        # however long the engagement runs; load() puts the two back together.
        snapshot = evolve_state(state, history=())
        return {
            "version": state.version,
            "phase": state.phase,
            "method_version": state.method_version,
            "snapshot": self._document(snapshot, state.id),
            "next_deadline": deadline,
            "updated_at": utc_text(last),
        }

    def _history_row(self, engagement_id: str, entry: HistoryEntry) -> dict[str, Any]:
        return {
            "engagement_id": engagement_id,
            "sequence": entry.sequence,
            "at": utc_text(entry.at),
            "actor": entry.actor,
            "action": entry.action,
            "subject": entry.subject,
            "to_phase": entry.to_phase,
            "entry": self._document(entry, engagement_id),
        }

    def _document(self, value: EngagementState | HistoryEntry | Event, engagement_id: str) -> str:
        """``value`` as JSON text; InvalidDocument if it is too large for the reader to take."""
        text = self.codec.dumps(value)
        if document_too_large(text):
            size = len(text.encode())
            raise InvalidDocument(
                _described(value, engagement_id),
                [
                    Problem(
                        _largest_part(self.codec.dump(value)),
                        f"the largest part of a document of {size} bytes; the store reads "
                        f"documents of at most {MAX_DOCUMENT_BYTES} bytes",
                    )
                ],
            )
        return text

    def enqueue(self, conn: sa.Connection, events: Sequence[Event]) -> None:
        """Add ``events`` to the outbox, in order, inside the transaction ``conn`` holds."""
        self._writes.outbox.execute_many(cursor_of(conn), [self._outbox_row(e) for e in events])

    def _outbox_row(self, event: Event) -> dict[str, Any]:
        return {
            "event_id": event.id,
            "engagement_id": event.engagement_id,
            "sequence": event.sequence,
            "event_type": type(event).__name__,
            "payload": self._document(event, event.engagement_id),
            "status": OutboxStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": READY_NOW,
        }

    # -- queries -------------------------------------------------------------------------------

    def history(self, engagement_id: str) -> tuple[HistoryEntry, ...]:
        """The append-only history rows of one engagement, oldest first."""
        as_text(engagement_id, "engagement_id", what="history")
        with self.reading() as conn:
            return self._history_on(conn, engagement_id)

    def _history_on(
        self, conn: sa.Connection, engagement_id: str, *, up_to: int | None = None
    ) -> tuple[HistoryEntry, ...]:
        h = self.tables.history
        query = (
            sa.select(h.c.entry).where(h.c.engagement_id == engagement_id).order_by(h.c.sequence)
        )
        if up_to is not None:
            query = query.where(h.c.sequence <= up_to)
        rows = conn.execute(query).scalars().all()
        return tuple(self.codec.load(row, HistoryEntry) for row in rows)

    def ids(
        self,
        *,
        phase: str | None = None,
        organisation_id: str | None = None,
        due_before: dt.datetime | None = None,
    ) -> tuple[str, ...]:
        """Engagement ids by phase, by participating city or organisation, or by next deadline.

        ``due_before`` must carry a time zone, as the time of an action must: a naive datetime
        is refused (``InvalidInput``), not taken as UTC.
        """
        for field, value in (("phase", phase), ("organisation_id", organisation_id)):
            if value is not None:
                as_text(value, field, what="query")
        e, p = self.tables.engagements, self.tables.participants
        query = sa.select(e.c.id).order_by(e.c.id)
        if phase is not None:
            query = query.where(e.c.phase == phase)
        if organisation_id is not None:
            query = query.where(
                e.c.id.in_(
                    sa.select(p.c.engagement_id).where(p.c.organisation_id == organisation_id)
                )
            )
        if due_before is not None:
            instant = as_instant(due_before, "due_before")
            query = query.where(
                e.c.next_deadline.is_not(None), e.c.next_deadline < utc_text(instant)
            )
        with self.reading() as conn:
            return tuple(conn.execute(query).scalars())

    def due_before(self, instant: dt.datetime, limit: int = 1000) -> tuple[DueDeadline, ...]:
        """Unmet deadlines of live engagements due before ``instant``, earliest first.

        Read from the deadline index (an index range scan, see ``due_query_plan``), never by
        loading snapshots. ``instant`` must carry a time zone and ``limit`` be at least 1, or
        InvalidInput names the argument.
        """
        instant, limit = _due_arguments(instant, limit)
        with self.reading() as conn:
            return deadline_index.due_before(conn, self.tables.deadlines, instant, limit)

    def due_query_plan(self, instant: dt.datetime, limit: int = 1000) -> tuple[str, ...]:
        """How the database runs ``due_before`` (SQLite ``EXPLAIN QUERY PLAN``, else ``EXPLAIN``)."""
        instant, limit = _due_arguments(instant, limit)
        with self.reading() as conn:
            return deadline_index.query_plan(conn, self.tables.deadlines, instant, limit)

    # -- outbox --------------------------------------------------------------------------------

    def outbox(
        self, engagement_id: str | None = None, *, status: str | None = None
    ) -> tuple[OutboxEntry, ...]:
        """Outbox events in commit order, optionally of one engagement and one status.

        Every entry is listed, even one whose stored payload cannot be read (a corrupt row): the
        listing is how an operator finds dead letters to replay, so one bad row must not hide
        the others. Such an entry carries its ``event_id``, its delivery state and the reader's
        problems in ``unreadable``; its ``event`` raises InvalidDocument naming the event id.
        ``status`` is one of pending, delivered and dead.
        """
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
        o = self.tables.outbox
        query = sa.select(
            o.c.event_id, o.c.payload, o.c.status, o.c.attempts, o.c.next_attempt_at, o.c.last_error
        )
        if engagement_id is not None:
            query = query.where(o.c.engagement_id == engagement_id)
        if status is not None:
            query = query.where(o.c.status == status)
        with self.reading() as conn:
            rows = conn.execute(query.order_by(o.c.position)).all()
        return tuple(self._outbox_entry(r) for r in rows)

    def _outbox_entry(self, row: Any) -> OutboxEntry:
        event: Event | None = None
        unreadable: tuple[Problem, ...] = ()
        try:
            event = self.codec.load_event(row.payload)
        except InvalidDocument as error:
            unreadable = error.problems
        return OutboxEntry(
            event,
            row.status,
            row.attempts,
            row.next_attempt_at,
            row.last_error,
            event_id=row.event_id,
            unreadable=unreadable,
        )

    def replay(self, event_id: str) -> None:
        """Put an event back in line for delivery now, with its attempts reset."""
        as_text(event_id, "event_id", what="replay")
        o = self.tables.outbox
        with self.engine.begin() as conn:
            result = conn.execute(
                o.update()
                .where(o.c.event_id == event_id)
                .values(
                    status=OutboxStatus.PENDING,
                    attempts=0,
                    next_attempt_at=READY_NOW,
                    last_error=None,
                )
            )
        if result.rowcount != 1:
            raise InvalidInput(
                "replay", [Problem("$.event_id", f"no event {event_id!r} in the outbox")]
            )


def _described(value: EngagementState | HistoryEntry | Event, engagement_id: str) -> str:
    """What a refused document is, in a user's words (built only when one is refused)."""
    if isinstance(value, EngagementState):
        return f"snapshot of {engagement_id!r}"
    if isinstance(value, HistoryEntry):
        return f"history entry {value.sequence} of {engagement_id!r}"
    return f"event {value.id!r}"


def _due_arguments(instant: dt.datetime, limit: int) -> tuple[pendulum.DateTime, int]:
    """``due_before``'s arguments, checked: an aware instant (as for an action's time) and a
    limit of at least one."""
    return as_instant(instant, "instant"), as_count(limit, "limit", what="query")
