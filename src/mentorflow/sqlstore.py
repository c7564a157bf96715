"""The SQL store on SQLAlchemy Core: SQLite by default (a file path is enough), PostgreSQL for many workers.

One ``save`` is one transaction: a compare-and-set ``UPDATE`` of the snapshot on the version it
was loaded at, the new history rows, the outbox rows and the engagement's rows in the deadline
index (``deadline_index``), so "what is due" never disagrees with the snapshots. A stale save matches no row, raises
``ConcurrencyConflict`` and rolls back. On SQLite every write transaction starts with
``BEGIN IMMEDIATE`` (one writer at a time, others wait up to the busy timeout) and the database
runs in WAL mode so readers do not block the writer.

``SqlStore`` is the one class hosts use; it draws on ``_sqlengine`` (opening the engine),
``_sqlrows`` (the rows a save writes) and ``_sqlreads`` (the read queries).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pendulum
import sqlalchemy as sa

from mentorflow import deadline_index
from mentorflow._attempts_begun import forget_event_statement
from mentorflow._change import Change
from mentorflow._index_writes import RowReplacement
from mentorflow._inputs import as_instant, as_text
from mentorflow._owed_index import owed_query, owed_rows
from mentorflow._sqlcopy import copy_rows
from mentorflow._sqldelete import (
    check_delete_arguments,
    delete_on,
    deletion_of,
    deletions_query,
    is_live_row,
    tombstone_event,
)
from mentorflow._sqlengine import open_engine
from mentorflow._sqlexplain import explained
from mentorflow._sqlreads import (
    due_arguments,
    history_entries,
    history_on,
    ids_query,
    outbox_entry,
    outbox_query,
    prune_arguments,
    prune_statement,
    replay_statement,
    row_problems,
    snapshot_query,
)
from mentorflow._sqlrows import (
    engagement_row,
    entries_to_save,
    history_row,
    next_deadline_column,
    outbox_row,
    without_unchanged,
)
from mentorflow._sqlschema import (
    DEADLINES_STEP,
    DELETED_PHASE,
    OWED_STEP,
    Tables,
    check_schema,
    check_sqlite_file,
    migrate_schema,
)
from mentorflow._sqlwrite import GuardedWrite, WriteStatements, cursor_of, unpinged
from mentorflow.clock import Clock
from mentorflow.compiled import CompiledMethod
from mentorflow.deadline_index import DueDeadline
from mentorflow.events import EngagementDeleted, Event
from mentorflow.exceptions import (
    InvalidDocument,
    InvalidInput,
    Problem,
    UnknownEngagement,
)
from mentorflow.schedule import Deadline, deadlines, is_live
from mentorflow.serialization import Codec, default_codec, snapshot_problems
from mentorflow.state import EngagementState, HistoryEntry, evolve_state
from mentorflow.store import OutboxEntry
from mentorflow.versions import MethodRegistry

__all__ = ["SqlStore", "WallClock"]

T = TypeVar("T")


class WallClock:
    """The real time, in UTC: the default for stores and relays that are not given a clock."""

    def now(self) -> pendulum.DateTime:
        """The current instant."""
        return pendulum.now("UTC")


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
        self._select_snapshot = snapshot_query(self.tables, engine.dialect)
        self._writes = WriteStatements.compile(self.tables, engine.dialect)
        self._deadline_rows = RowReplacement.compile(self.tables.deadlines, engine.dialect)
        self._owed_rows = RowReplacement.compile(self.tables.owed, engine.dialect)
        self._prune = prune_statement(self.tables)
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
        engine_options: Mapping[str, Any] | None = None,
    ) -> SqlStore:
        """A store on a SQLite file path or a database URL (``postgresql+psycopg://…``).

        The schema is created or upgraded unless ``create`` is False; then a database without
        every migration step of this release raises ``SchemaMismatch``, as does (either way) one
        that a newer release migrated. ``busy_timeout`` (seconds) is how long a SQLite writer
        waits for the write lock.

        ``engine_options`` go to SQLAlchemy's ``create_engine`` with the store's own settings:
        the pool's size (``pool_size``, ``max_overflow``, ``pool_recycle``) and driver arguments
        (``connect_args``), such as ``{"prepare_threshold": None}`` for psycopg behind
        PgBouncer's transaction pooling. ``isolation_level``, and on SQLite the driver's
        ``timeout`` (set by ``busy_timeout``), are the store's and refused, as is an option
        ``create_engine`` does not take: ``InvalidInput`` names it and nothing is opened.
        """
        engine = open_engine(target, busy_timeout, engine_options)
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

    def checkpoint(self) -> bool:
        """SQLite: copy the write-ahead log into the database file and empty it; True when the
        log is empty now. After ``delete`` or ``erase_participant`` (with the store's
        ``secure_delete``), none of the removed text is then left in either file.

        SQLite empties the log by itself when the last connection to the file closes; a
        long-running process keeps its connections, so it calls this. It waits up to the busy
        timeout for other connections' reads to finish, and returns False when one still holds
        an old snapshot: call it again later. PostgreSQL keeps its own log and returns False:
        there, ``VACUUM`` the store's tables.
        """
        if self.dialect != "sqlite":
            return False
        # A checkpoint cannot run inside a transaction, and SQLAlchemy would begin one: on the
        # driver's connection, which the store's SQLite connections leave in autocommit.
        raw = self.engine.raw_connection()
        try:
            busy, _, _ = raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            raw.close()
        return bool(busy == 0)

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
                if DEADLINES_STEP in applied or OWED_STEP in applied:
                    self._reindex(conn, next_deadline=DEADLINES_STEP in applied)
                return applied

    def _reindex(self, conn: sa.Connection, *, next_deadline: bool) -> None:
        """Fill the deadline indexes (and, from before the deadline step, the next deadline
        column) from every stored snapshot: an upgrade's steps create them empty."""
        e = self.tables.engagements
        for row in conn.execute(sa.select(e.c.id).where(is_live_row(self.tables))).all():
            try:
                state = self.load_on(conn, row.id)
            except InvalidDocument:
                continue  # ``load`` refuses it too; the upgrade must not be held up by it
            found = self._deadlines(state)
            if found is None:
                continue
            self._index_deadlines(conn, state, found)
            if next_deadline:
                due = next_deadline_column(state, self._method_of(state), found)
                conn.execute(e.update().where(e.c.id == row.id).values(next_deadline=due))

    def _index_deadlines(
        self, conn: sa.Connection, state: EngagementState, found: tuple[Deadline, ...]
    ) -> None:
        """The engagement's rows in the deadline index and in who owes the open ones."""
        cursor = cursor_of(conn)
        self._deadline_rows.run(cursor, state.id, deadline_index.rows(state, found))
        self._owed_rows.run(cursor, state.id, owed_rows(state, found))

    @contextmanager
    def reading(self) -> Iterator[sa.Connection]:
        """A connection for reads: a plain ``BEGIN`` on SQLite, so it takes no write lock; on
        PostgreSQL each statement on its own (autocommit), without a ``BEGIN`` and a
        ``ROLLBACK`` round trip around it. Under READ COMMITTED, PostgreSQL's default and the
        store's assumption, every statement of a transaction sees the latest commits anyway."""
        with self.engine.connect() as conn:
            conn.execution_options(mentorflow_read=True)
            if self.dialect == "postgresql":
                conn.execution_options(isolation_level="AUTOCOMMIT")
            yield conn

    def _read(self, work: Callable[[sa.Connection], T]) -> T:
        """``work``, a read, on a ``reading`` connection that is not pinged first: one round
        trip fewer per read on PostgreSQL. A read changes nothing, so when the pooled
        connection turns out to be broken it simply runs again, on a connection pinged at
        checkout as usual (which also has the pool drop the other connections of a server that
        restarted)."""
        try:
            with unpinged(), self.reading() as conn:
                return work(conn)
        except sa.exc.DBAPIError as error:
            if not error.connection_invalidated:
                raise
        with self.reading() as conn:
            return work(conn)

    # -- engagements ---------------------------------------------------------------------------

    def load(self, engagement_id: str) -> EngagementState:
        """The current snapshot; raises UnknownEngagement (DeletedEngagement for a deleted one),
        or InvalidDocument for a bad row."""
        return self._read(lambda conn: self.load_on(conn, engagement_id))

    def load_on(self, conn: sa.Connection, engagement_id: str) -> EngagementState:
        """``load``, read on ``conn``: inside a transaction the caller holds."""
        as_text(engagement_id, "engagement_id", what="load")
        row = conn.execute(self._select_snapshot, {"id": engagement_id}).first()
        if row is None:
            raise UnknownEngagement(engagement_id)
        if row.phase == DELETED_PHASE:
            raise deletion_of(self.codec, engagement_id, row)
        state = self.codec.load_state(row.snapshot)
        if not state.history and row.version:
            # The row's snapshot leaves the history out: it lives, append-only, in its own table.
            # Rows up to the row's version only: rows past it belong to a later snapshot. Where
            # the row brought its history along (``snapshot_query``, PostgreSQL), it is read.
            if "history" in row._fields:
                history = history_entries(self.codec, row.history or ())
            else:
                history = history_on(
                    conn, self.tables, self.codec, engagement_id, up_to=row.version
                )
            state = evolve_state(state, history=history)
            problems = snapshot_problems(state)
        else:
            problems = []
        problems += row_problems(state, row, engagement_id, self._methods)
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
        new_entries = entries_to_save(change, expected_version, previous)
        state = change.state
        found = self._deadlines(state)
        # The deadline index is rewritten only when the action moved a deadline.
        reindex = (
            found
            if found is not None and (previous is None or self._deadlines(previous) != found)
            else None
        )
        # The next deadline stays as stored when no deadline moved: not worked out to be dropped.
        kept = previous is not None and found is not None and reindex is None
        values = engagement_row(self.codec, state, None if kept else found, self._methods)
        if expected_version == 0:
            values = {**values, "id": state.id, "method_id": state.method_id}
        elif previous is not None:
            values = without_unchanged(values, state, previous, deadline_kept=kept)
        write = GuardedWrite(
            self._writes,
            state.id,
            expected_version,
            values,
            [history_row(self.codec, state.id, entry) for entry in new_entries],
            [outbox_row(self.codec, event) for event in change.events],
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
                self._index_deadlines(conn, state, reindex)

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

    def delete(
        self,
        engagement_id: str,
        *,
        expected_version: int,
        actor: str,
        at: dt.datetime | None = None,
        reason: str | None = None,
    ) -> EngagementDeleted:
        """Delete an engagement and everything the store holds of it; returns the event that
        records the deletion, which the outbox delivers after the engagement's other events.

        For data that must go (a participant's right to erasure, a retention period, an
        engagement created by mistake). In one transaction, if the engagement is still at
        ``expected_version`` (else ``ConcurrencyConflict``, as for a save): its snapshot,
        history, participants, deadline-index rows, reminder ledger and delivered outbox events
        are removed, and an ``EngagementDeleted`` event is added to the outbox. Events not yet
        delivered stay and reach the handlers first; handlers that keep copies of the
        engagement delete theirs on ``EngagementDeleted``.

        The id stays taken: ``load`` raises ``DeletedEngagement`` (an ``UnknownEngagement``
        saying when and by whom), ``ids`` leaves it out, and creating an engagement with the
        same id raises ``ConcurrencyConflict``, since its events would reuse the old events'
        ids. ``at`` (default: the store's clock) must carry a time zone; ``actor`` and ``reason``
        are the operator's words and are kept in the event. Nothing is written when it raises.
        """
        check_delete_arguments(engagement_id, expected_version, actor, reason)
        when = as_instant(at if at is not None else self.clock.now())
        with self.engine.begin() as conn:
            return delete_on(
                conn,
                self.tables,
                self.codec,
                engagement_id=engagement_id,
                expected_version=expected_version,
                actor=actor,
                at=when,
                reason=reason,
            )

    def deletions(
        self, *, after: str | None = None, limit: int | None = None
    ) -> tuple[EngagementDeleted, ...]:
        """The record of every deleted engagement (when, by whom, at which version and why),
        in engagement id order, paged as ``ids`` is: the tombstones ``delete`` leaves, which are
        kept when the outbox is pruned."""
        query = deletions_query(self.tables, after=after, limit=limit)
        rows = self._read(lambda conn: conn.execute(query).all())
        return tuple(tombstone_event(self.codec, row.id, row.snapshot) for row in rows)

    def copy_to(self, target: SqlStore, *, batch_size: int = 1000) -> dict[str, int]:
        """Copy everything this store holds into ``target``, an empty store, in one transaction
        on the target; returns how many rows each table got.

        For moving a platform from SQLite to PostgreSQL (or a copy for tests): engagements with
        their history, the outbox with every event's delivery state and its order, the deadline
        index, the reminder ledger and the deleted engagements' tombstones, so the target goes
        on exactly where this store stands. This store is read as of one moment, so workers may
        keep saving to it meanwhile; what they save after that moment is not copied. Refused
        with ``InvalidInput`` (nothing written) when ``target`` already holds engagements or
        events. Rows are read and written ``batch_size`` at a time.
        """
        if not isinstance(target, SqlStore):
            raise InvalidInput(
                "copy", [Problem("$.target", f"must be a SqlStore, not {type(target).__name__}")]
            )
        return copy_rows(self, target, batch_size)

    def enqueue(self, conn: sa.Connection, events: Sequence[Event]) -> None:
        """Add ``events`` to the outbox, in order, inside the transaction ``conn`` holds."""
        self._writes.outbox.execute_many(
            cursor_of(conn), [outbox_row(self.codec, e) for e in events]
        )

    # -- queries -------------------------------------------------------------------------------

    def history(self, engagement_id: str) -> tuple[HistoryEntry, ...]:
        """The append-only history rows of one engagement, oldest first."""
        as_text(engagement_id, "engagement_id", what="history")
        return self._read(lambda conn: history_on(conn, self.tables, self.codec, engagement_id))

    def ids(
        self,
        *,
        phase: str | None = None,
        organisation_id: str | None = None,
        due_before: dt.datetime | None = None,
        after: str | None = None,
        limit: int | None = None,
        last_action_before: dt.datetime | None = None,
        participant_id: str | None = None,
        method_id: str | None = None,
        method_version: int | None = None,
    ) -> tuple[str, ...]:
        """Engagement ids by phase, by participating city or organisation, by participant (a
        person's engagements, for an erasure request), by method and version (those a new
        edition of a method could move, see ``mentorflow.rollout``), by next deadline, or by
        the time of their last action, in id order. Deleted engagements are never listed.
        ``method_version`` needs ``method_id``. ``phase="paused"`` lists every paused
        engagement, as ``Engagement.phase`` names them (``"paused:preparation"``, as the snapshot
        reads, those paused in preparation).

        ``last_action_before`` finds engagements nobody has acted on since a time: with
        ``phase="closed"`` or ``"cancelled"``, those a retention period has run out for. It and
        ``due_before`` must carry a time zone, as the time of an action must: a naive datetime
        is refused (``InvalidInput``), not taken as UTC. For pages, give ``limit`` (at least 1)
        and, for each next page, ``after`` the last id of the page before: a page never skips
        or repeats an id, however engagements are added between the pages.
        """
        query = ids_query(
            self.tables,
            phase=phase,
            organisation_id=organisation_id,
            due_before=due_before,
            after=after,
            limit=limit,
            last_action_before=last_action_before,
            participant_id=participant_id,
            method_id=method_id,
            method_version=method_version,
        )
        return self._read(lambda conn: tuple(conn.execute(query).scalars()))

    def count_by_phase(self) -> dict[tuple[str, str], int]:
        """How many engagements each (method id, phase) holds, deleted ones left out: a
        dashboard's first numbers, counted by the database, not by loading snapshots. A paused
        engagement counts under ``paused:<phase>``, the phase it will resume in, as its
        snapshot's ``phase`` reads."""
        e = self.tables.engagements
        query = (
            sa.select(e.c.method_id, e.c.phase, sa.func.count())
            .where(is_live_row(self.tables))
            .group_by(e.c.method_id, e.c.phase)
            .order_by(e.c.method_id, e.c.phase)
        )
        rows = self._read(lambda conn: conn.execute(query).all())
        return {(method_id, phase): count for method_id, phase, count in rows}

    def due_before(self, instant: dt.datetime, limit: int = 1000) -> tuple[DueDeadline, ...]:
        """Unmet deadlines of live engagements due before ``instant``, earliest first.

        Read from the deadline index (an index range scan, see ``due_query_plan``), never by
        loading snapshots. ``instant`` must carry a time zone and ``limit`` be at least 1, or
        InvalidInput names the argument.
        """
        instant, limit = due_arguments(instant, limit)
        return self._read(
            lambda conn: deadline_index.due_before(conn, self.tables.deadlines, instant, limit)
        )

    def due_query_plan(self, instant: dt.datetime, limit: int = 1000) -> tuple[str, ...]:
        """How the database runs ``due_before`` (SQLite ``EXPLAIN QUERY PLAN``, else ``EXPLAIN``)."""
        instant, limit = due_arguments(instant, limit)
        with self.reading() as conn:
            return deadline_index.query_plan(conn, self.tables.deadlines, instant, limit)

    def owed_by(
        self, organisation_id: str, *, due_before: dt.datetime | None = None, limit: int = 1000
    ) -> tuple[DueDeadline, ...]:
        """Open deadlines of live engagements that ``organisation_id`` owes, alone or with
        others (one of a mentoring's role-model cities owes the mentors' paper with the rest),
        earliest first: a city's to-do list across all its engagements.

        ``due_before`` (with a time zone) keeps those due before it: what is overdue now, or
        due within the next fortnight. Read from an index of who owes each open deadline, kept
        in the same transaction as the snapshot, never by loading snapshots (see
        ``owed_query_plan``). InvalidInput names a bad argument.
        """
        query = owed_query(
            self.tables.deadlines, self.tables.owed, organisation_id, due_before, limit
        )
        return self._read(
            lambda conn: tuple(
                deadline_index.due_deadline(row) for row in conn.execute(query).mappings()
            )
        )

    def owed_query_plan(
        self, organisation_id: str, *, due_before: dt.datetime | None = None, limit: int = 1000
    ) -> tuple[str, ...]:
        """How the database runs ``owed_by`` (SQLite ``EXPLAIN QUERY PLAN``, else ``EXPLAIN``)."""
        query = owed_query(
            self.tables.deadlines, self.tables.owed, organisation_id, due_before, limit
        )
        with self.reading() as conn:
            return explained(conn, query)

    # -- outbox --------------------------------------------------------------------------------

    def outbox(
        self, engagement_id: str | None = None, *, status: str | None = None
    ) -> tuple[OutboxEntry, ...]:
        """Outbox events in commit order, optionally of one engagement and one status.

        Every entry is listed, even one whose stored payload cannot be read (a corrupt row): the
        listing is how an operator finds dead letters to replay, so one bad row must not hide
        the others. Such an entry carries its ``event_id``, its delivery state and the reader's
        problems in ``unreadable``; its ``event`` raises InvalidDocument naming the event id.
        ``status`` is one of pending, delivered and dead. An attempt counts from the moment its
        handler is called, on both databases: while it runs, or after its relay stopped in it,
        ``attempts`` includes it and ``last_error`` says the relay stopped during it.
        """
        query = outbox_query(self.tables, engagement_id, status)
        rows = self._read(lambda conn: conn.execute(query).all())
        return tuple(outbox_entry(self.codec, r) for r in rows)

    def prune_outbox(self, delivered_before: dt.datetime, *, limit: int = 10_000) -> int:
        """Remove up to ``limit`` events delivered before ``delivered_before``; returns how many.

        The outbox keeps every event until it is pruned: run this from a scheduled job, again
        while it returns ``limit``, to keep it to recent deliveries. Pending and dead events are
        never removed, and the relay's order is not touched: a delivered event holds nothing
        back. The history keeps every action however the outbox is pruned. A removed event can
        no longer be replayed or listed. ``delivered_before`` must carry a time zone and
        ``limit`` be at least 1, or InvalidInput names the argument. ``limit`` bounds how long
        one call holds the write lock (SQLite) or how many rows one transaction deletes.
        """
        before, most = prune_arguments(delivered_before, limit)
        with self.engine.begin() as conn:
            result = conn.execute(self._prune, {"before": before, "limit": most})
        return int(result.rowcount)

    def replay(self, event_id: str) -> None:
        """Put an event back in line for delivery now, with its attempts reset."""
        as_text(event_id, "event_id", what="replay")
        self._replay([event_id], lambda _: "$.event_id")

    def replay_all(self, event_ids: Sequence[str]) -> None:
        """``replay`` of every event in ``event_ids``, in one transaction: all of them, or none
        when the outbox lacks any (InvalidInput then names each missing one, ``$.event_ids[n]``).
        """
        if isinstance(event_ids, str) or not isinstance(event_ids, Sequence):
            raise InvalidInput("replay", [Problem("$.event_ids", "expected a list of event ids")])
        for n, event_id in enumerate(event_ids):
            as_text(event_id, f"event_ids[{n}]", what="replay")
        self._replay(list(event_ids), lambda n: f"$.event_ids[{n}]")

    def _replay(self, event_ids: list[str], path: Callable[[int], str]) -> None:
        with self.engine.begin() as conn:
            missing = []
            for n, event_id in enumerate(event_ids):
                result = conn.execute(replay_statement(self.tables, event_id))
                # The attempts a relay began go with the attempts reset. In this order: on
                # PostgreSQL the update waits for a relay that holds the event until its
                # outcome (or its death) ends the claim, and then keeps every relay off the
                # event until this commits, so no relay counts an attempt between the two.
                conn.execute(forget_event_statement(self.tables, event_id))
                if result.rowcount != 1:
                    missing.append(Problem(path(n), f"no event {event_id!r} in the outbox"))
            if missing:
                raise InvalidInput("replay", missing)  # inside the block: nothing is committed
