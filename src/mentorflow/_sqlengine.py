"""Opening the store's engine: SQLite in WAL mode with ``BEGIN IMMEDIATE`` writers, or PostgreSQL.

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time, others
wait up to the busy timeout) and the database runs in WAL mode so readers do not block the
writer; a connection marked ``mentorflow_read`` begins with a plain ``BEGIN`` and takes no write
lock. PostgreSQL connections are pinged when taken from the pool.

A host's engine options (pool size, driver arguments such as psycopg's ``prepare_threshold``)
go to ``create_engine`` alongside these settings; the few that would undo them are refused.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event

from mentorflow._engine_options import checked_options
from mentorflow._sqlite_path import sqlite_file
from mentorflow._sqlwrite import ping_on_checkout
from mentorflow.exceptions import InvalidInput, Problem

__all__ = ["open_engine"]


def open_engine(
    target: str | Path, busy_timeout: float, options: Mapping[str, Any] | None = None
) -> sa.Engine:
    """An engine on a SQLite file path or a database URL (``postgresql+psycopg://…``), created
    with the host's ``options`` for ``create_engine`` (InvalidInput names a refused one)."""
    text = str(target)
    url = sa.make_url(text) if "://" in text else sa.URL.create("sqlite+pysqlite", database=text)
    sqlite = url.get_backend_name() == "sqlite"
    settings = checked_options(options, busy_timeout, sqlite=sqlite)
    driver_arguments = "connect_args" in settings
    if sqlite:
        connect_args = {**settings.pop("connect_args", {}), "timeout": busy_timeout}
        engine = _with_sqlite_settings(
            _created(url, {**settings, "connect_args": connect_args}), busy_timeout
        )
    else:
        engine = _created(url, settings)
        ping_on_checkout(engine)
    if driver_arguments:
        _first_connection(engine)
    return engine


def _created(url: sa.URL, options: Mapping[str, Any]) -> sa.Engine:
    """``create_engine``, with its refusal of an option (an unknown name, a value of the wrong
    type) as InvalidInput instead of a bare TypeError."""
    try:
        return sa.create_engine(url, **options)
    except (TypeError, ValueError, AttributeError, sa.exc.ArgumentError) as error:
        raise InvalidInput(
            "store",
            [Problem("$.engine_options", f"refused by SQLAlchemy's create_engine: {error}")],
        ) from None


def _first_connection(engine: sa.Engine) -> None:
    """Connect once, so that a driver argument the driver refuses (an unknown name, a value of
    the wrong type) is InvalidInput now, not a bare TypeError at some later request. A database
    that cannot be reached still raises SQLAlchemy's OperationalError, as without arguments."""
    try:
        with engine.connect():
            pass
    except (TypeError, ValueError, sa.exc.ProgrammingError, sa.exc.InterfaceError) as error:
        engine.dispose()
        why = str(getattr(error, "orig", error)).strip()  # the driver's words, not SQLAlchemy's
        raise InvalidInput(
            "store",
            [Problem("$.engine_options.connect_args", f"refused by the database driver: {why}")],
        ) from None


def _with_sqlite_settings(engine: sa.Engine, busy_timeout: float) -> sa.Engine:
    """``engine`` with the store's SQLite settings: WAL mode, the busy timeout, secure delete,
    and writers that begin with ``BEGIN IMMEDIATE``."""
    on_disk = sqlite_file(engine.url) is not None  # an in-memory database has no log to keep

    @sa_event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _: object) -> None:
        # Let SQLAlchemy's "begin" below issue BEGIN itself instead of the driver guessing.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        # Deleted and overwritten content is zeroed in the file, not left in free space: what
        # SqlStore.delete removes (and every earlier snapshot) is gone from the database file
        # on every SQLite build, not only on those compiled with it on.
        cursor.execute("PRAGMA secure_delete=ON")
        if on_disk:
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
