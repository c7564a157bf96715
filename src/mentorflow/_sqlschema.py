"""The SQL tables of the store, and the numbered migrations that create and upgrade them.

Times are stored as ISO 8601 text in UTC (``2017-11-24T08:00:00.000000+00:00``): the same on
SQLite and PostgreSQL, and ordered correctly as text, which the deadline and retry queries need.
Snapshots, history entries and events are stored as their versioned JSON documents. The
deadline index and the reminder ledger store instants as naive UTC timestamps
(``deadline_index.UtcDateTime``), since their queries compare them with one another.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import attrs
import pendulum
import sqlalchemy as sa

from mentorflow._sqlite_path import sqlite_file
from mentorflow.deadline_index import UtcDateTime, define_table
from mentorflow.exceptions import SchemaMismatch

__all__ = [
    "ATTEMPTS_STEP",
    "DEADLINES_STEP",
    "DELETED_PHASE",
    "MIGRATIONS",
    "OWED_STEP",
    "PERSON_INDEX_STEP",
    "READY_NOW",
    "Migration",
    "Tables",
    "check_schema",
    "check_sqlite_file",
    "migrate_schema",
    "person_index",
    "utc_text",
]

#: The phase of a deleted engagement's row (``_sqldelete``); no method has it, since phase names
#: are identifiers.
DELETED_PHASE = "(deleted)"

#: ``next_attempt_at`` of an event due at once: sorts before every time, so no clock is needed.
READY_NOW = ""

#: The participants index by person, after the table prefix (``mf_participants_by_person``).
_PERSON_INDEX = "participants_by_person"

_UTC = dt.UTC


@attrs.frozen
class Tables:
    """The store's tables, bound to one metadata (and so to one PostgreSQL schema)."""

    metadata: sa.MetaData
    migrations: sa.Table
    engagements: sa.Table
    history: sa.Table
    participants: sa.Table
    outbox: sa.Table
    deadlines: sa.Table
    reminders: sa.Table
    reminder_ticks: sa.Table
    outbox_attempts: sa.Table
    owed: sa.Table

    @classmethod
    def define(cls, schema: str | None = None, prefix: str = "mf_") -> Tables:
        """Declare the tables in ``schema`` (PostgreSQL) with names starting ``prefix``."""
        md = sa.MetaData(schema=schema)
        text = sa.Text
        migrations = sa.Table(
            f"{prefix}schema_migrations",
            md,
            sa.Column("number", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("name", text, nullable=False),
            sa.Column("applied_at", text, nullable=False),
        )
        engagements = sa.Table(
            f"{prefix}engagements",
            md,
            sa.Column("id", text, primary_key=True),
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("phase", text, nullable=False),
            sa.Column("method_id", text, nullable=False),
            sa.Column("method_version", sa.Integer, nullable=False),
            sa.Column("snapshot", text, nullable=False),
            sa.Column("next_deadline", text, nullable=True),
            sa.Column("updated_at", text, nullable=False),
            sa.Index(f"{prefix}engagements_by_phase", "phase"),
            sa.Index(f"{prefix}engagements_by_deadline", "next_deadline"),
            sa.Index(f"{prefix}engagements_by_method", "method_id", "method_version"),
        )
        history = sa.Table(
            f"{prefix}history",
            md,
            sa.Column("engagement_id", text, primary_key=True),
            sa.Column("sequence", sa.Integer, primary_key=True, autoincrement=False),
            sa.Column("at", text, nullable=False),
            sa.Column("actor", text, nullable=False),
            sa.Column("action", text, nullable=False),
            sa.Column("subject", text, nullable=False),
            sa.Column("to_phase", text, nullable=False),
            sa.Column("entry", text, nullable=False),
        )
        participants = sa.Table(
            f"{prefix}participants",
            md,
            sa.Column("engagement_id", text, primary_key=True),
            sa.Column("participant_id", text, primary_key=True),
            sa.Column("organisation_id", text, nullable=False),
            sa.Column("role", text, nullable=False),
            sa.Index(f"{prefix}participants_by_city", "organisation_id", "engagement_id"),
            # A person's engagements (``ids(participant_id=…)``, erasure requests): the primary
            # key leads with the engagement, so without this index that query reads every row.
            sa.Index(f"{prefix}{_PERSON_INDEX}", "participant_id", "engagement_id"),
        )
        outbox = sa.Table(
            f"{prefix}outbox",
            md,
            sa.Column(
                "position",
                sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                primary_key=True,
                autoincrement=True,
            ),
            sa.Column("event_id", text, nullable=False, unique=True),
            sa.Column("engagement_id", text, nullable=False),
            sa.Column("sequence", sa.Integer, nullable=False),
            sa.Column("event_type", text, nullable=False),
            sa.Column("payload", text, nullable=False),
            sa.Column("status", text, nullable=False, server_default="pending"),
            sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
            sa.Column("next_attempt_at", text, nullable=False),
            sa.Column("last_error", text, nullable=True),
            sa.Column("delivered_at", text, nullable=True),
            sa.Index(f"{prefix}outbox_ready", "status", "next_attempt_at"),
            sa.Index(f"{prefix}outbox_by_engagement", "engagement_id", "sequence"),
        )
        deadlines = define_table(md, f"{prefix}deadlines")
        # The reminder ledger: one row per settled reminder (emitted, or passed while met). The
        # primary key is the reminder id, so a second tick inserting the same one is a no-op.
        reminders = sa.Table(
            f"{prefix}reminders",
            md,
            sa.Column("reminder_id", text, primary_key=True),
            sa.Column("engagement_id", text, nullable=False),
            sa.Column("deadline_key", text, nullable=False),
            sa.Column("due_utc", UtcDateTime(), nullable=False),
            sa.Column("lead_days", sa.Integer, nullable=True),  # NULL: the missed-deadline one
            sa.Column("emitted", sa.Boolean, nullable=False),
            sa.Column("settled_at", text, nullable=False),
            sa.Index(f"{prefix}reminders_by_deadline", "engagement_id", "deadline_key", "due_utc"),
        )
        # One row per scheduler: how far its ticks have got. Ticks lock it (FOR UPDATE), so two
        # ticks of one scheduler never run at once.
        reminder_ticks = sa.Table(
            f"{prefix}reminder_ticks",
            md,
            sa.Column("name", text, primary_key=True),
            sa.Column("ticked_until", UtcDateTime(), nullable=True),
        )
        # PostgreSQL relays: how many attempts at a claimed event have begun, written (and
        # committed) before its handler runs, so a relay process that dies in the handler still
        # uses up the attempt. A row of its own because the outbox row is locked by the claim
        # until the outcome commits. No foreign key to the outbox: checking it would take a
        # KEY SHARE lock on that very row, and wait for the claim's FOR UPDATE.
        outbox_attempts = sa.Table(
            f"{prefix}outbox_attempts",
            md,
            sa.Column(
                "position",
                sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                primary_key=True,
                autoincrement=False,
            ),
            sa.Column("begun", sa.Integer, nullable=False),
            sa.Column("begun_at", text, nullable=False),
        )
        return cls(
            md,
            migrations,
            engagements,
            history,
            participants,
            outbox,
            deadlines,
            reminders,
            reminder_ticks,
            outbox_attempts,
            _owed_table(md, f"{prefix}deadlines_owed"),
        )


def _owed_table(metadata: sa.MetaData, name: str) -> sa.Table:
    """Who owes each open deadline: one row per (engagement, deadline, organisation owing it),
    so one organisation's to-do list is a range of the by-organisation index, in due order."""
    return sa.Table(
        name,
        metadata,
        # Keyed by engagement first: a save replaces one engagement's rows.
        sa.Column("engagement_id", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("organisation_id", sa.Text, primary_key=True),
        # Fixed-width UTC text (``utc_text``), as ``next_deadline`` is: text order is time order.
        sa.Column("due", sa.Text, nullable=False),
        sa.Index(f"{name}_by_organisation", "organisation_id", "due", "engagement_id", "key"),
    )


@attrs.frozen
class Migration:
    """One numbered step of the schema; applied once, in order, recorded in schema_migrations."""

    number: int
    name: str
    apply: Callable[[sa.Connection, Tables], None]


def _create_v1(conn: sa.Connection, tables: Tables) -> None:
    tables.metadata.create_all(
        conn,
        tables=[tables.engagements, tables.history, tables.participants, tables.outbox],
    )


def _create_v2(conn: sa.Connection, tables: Tables) -> None:
    # Rows for engagements saved before this step are written by ``SqlStore.migrate``, which
    # can read snapshots (this module cannot).
    tables.metadata.create_all(
        conn, tables=[tables.deadlines, tables.reminders, tables.reminder_ticks]
    )


def _create_v3(conn: sa.Connection, tables: Tables) -> None:
    # Empty at first: a relay that died before this step left no count behind.
    tables.metadata.create_all(conn, tables=[tables.outbox_attempts])


def _create_v4(conn: sa.Connection, tables: Tables) -> None:
    # Step 1 already made it on a database created by this release (it is in the table's
    # declaration), so only where it is missing: an older release's participants table.
    person_index(tables).create(conn, checkfirst=True)


def _create_v5(conn: sa.Connection, tables: Tables) -> None:
    # Rows for engagements saved before this step are written by ``SqlStore.migrate``, which
    # can read snapshots (this module cannot).
    tables.metadata.create_all(conn, tables=[tables.owed])


def person_index(tables: Tables) -> sa.Index:
    """The participants table's index by person, which ``PERSON_INDEX_STEP`` adds."""
    (index,) = (i for i in tables.participants.indexes if str(i.name).endswith(_PERSON_INDEX))
    return index


#: The step that adds the deadline index; the store fills it for existing engagements.
DEADLINES_STEP = 2

#: The step that adds the relays' count of attempts begun (``outbox_attempts``).
ATTEMPTS_STEP = 3

#: The step that indexes the participants table by person (``ids(participant_id=…)``).
PERSON_INDEX_STEP = 4

#: The step that adds who owes each open deadline (``deadlines_owed``); the store fills it.
OWED_STEP = 5

#: The schema's history. To change the schema, append a step (never edit an applied one).
MIGRATIONS: Sequence[Migration] = (
    Migration(1, "engagements, history, participants, outbox", _create_v1),
    Migration(DEADLINES_STEP, "deadline index, reminder ledger", _create_v2),
    Migration(ATTEMPTS_STEP, "outbox attempts begun", _create_v3),
    Migration(PERSON_INDEX_STEP, "participants by person", _create_v4),
    Migration(OWED_STEP, "open deadlines by organisation owing them", _create_v5),
)


def utc_text(at: pendulum.DateTime) -> str:
    """An instant as fixed-width UTC ISO 8601 text, so text order is time order."""
    return dt.datetime.astimezone(at, _UTC).isoformat(timespec="microseconds")


def migrate_schema(conn: sa.Connection, tables: Tables, now: pendulum.DateTime) -> tuple[int, ...]:
    """Apply every migration not applied yet, in one transaction; return the numbers applied.

    Callers migrating the same tables at once take turns (see ``_take_turn``), so each step is
    applied once. A database with a step this release does not know raises ``SchemaMismatch``
    before anything is written.
    """
    _take_turn(conn, tables)
    tables.migrations.create(conn, checkfirst=True)
    recorded = _recorded_steps(conn, tables)
    _refuse_unknown_steps(conn, tables, recorded)
    applied = []
    for step in MIGRATIONS:
        if step.number in recorded:
            continue
        step.apply(conn, tables)
        conn.execute(
            tables.migrations.insert().values(
                number=step.number, name=step.name, applied_at=utc_text(now)
            )
        )
        applied.append(step.number)
    return tuple(applied)


def check_schema(conn: sa.Connection, tables: Tables) -> None:
    """Raise ``SchemaMismatch`` unless the database has exactly this release's migration steps."""
    recorded = (
        _recorded_steps(conn, tables)
        if sa.inspect(conn).has_table(tables.migrations.name, schema=tables.metadata.schema)
        else {}
    )
    _refuse_unknown_steps(conn, tables, recorded)
    _refuse_missing_steps(conn.engine.url, tables, recorded)


def check_sqlite_file(url: sa.URL, tables: Tables) -> None:
    """Raise ``SchemaMismatch`` for a SQLite file that does not exist, before connecting creates it."""
    if url.get_backend_name() != "sqlite":
        return
    path = sqlite_file(url)
    if path is not None and not Path(path).exists():
        _refuse_missing_steps(url, tables, {})


def _take_turn(conn: sa.Connection, tables: Tables) -> None:
    """Wait until no one else migrates these tables: held until this transaction ends.

    Without it, workers opening a fresh database at once all create the schema and the
    migrations table, and all but one fail on PostgreSQL's catalog unique indexes.
    """
    if conn.dialect.name == "postgresql":
        schema = tables.metadata.schema
        if schema is not None and not sa.inspect(conn).has_schema(schema):
            # Keyed on the schema alone: stores with other prefixes may be creating it too.
            _advisory_xact_lock(conn, f"schema {schema}")
            conn.execute(sa.schema.CreateSchema(schema, if_not_exists=True))
        _advisory_xact_lock(conn, f"tables {schema or ''}.{tables.migrations.name}")
    elif conn.dialect.name == "sqlite":
        driver = conn.connection.driver_connection
        if driver is not None and not driver.in_transaction:
            # SqlStore.open's engine began with BEGIN IMMEDIATE already. On an engine of the
            # caller's, the driver would run the DDL below outside any transaction.
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def _advisory_xact_lock(conn: sa.Connection, name: str) -> None:
    # Every process must derive the same key, so a fixed hash (``hash()`` is salted per process).
    digest = hashlib.blake2b(f"mentorflow {name}".encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(key)))


def _recorded_steps(conn: sa.Connection, tables: Tables) -> dict[int, str]:
    m = tables.migrations
    return {row.number: row.name for row in conn.execute(sa.select(m.c.number, m.c.name))}


def _refuse_unknown_steps(conn: sa.Connection, tables: Tables, recorded: dict[int, str]) -> None:
    known = {step.number for step in MIGRATIONS}
    unknown = {number: name for number, name in recorded.items() if number not in known}
    if unknown:
        raise SchemaMismatch(_where(conn.engine.url, tables), unknown, {})


def _refuse_missing_steps(url: sa.URL, tables: Tables, recorded: dict[int, str]) -> None:
    missing = {step.number: step.name for step in MIGRATIONS if step.number not in recorded}
    if missing:
        raise SchemaMismatch(_where(url, tables), {}, missing)


def _where(url: sa.URL, tables: Tables) -> str:
    schema = tables.metadata.schema
    table = f"{schema}.{tables.migrations.name}" if schema else tables.migrations.name
    return f"{table} in database {url.database!r}"
