"""Opening the store's engine: SQLite in WAL mode with ``BEGIN IMMEDIATE`` writers, or PostgreSQL.

On SQLite every write transaction starts with ``BEGIN IMMEDIATE`` (one writer at a time, others
wait up to the busy timeout) and the database runs in WAL mode so readers do not block the
writer; a connection marked ``mentorflow_read`` begins with a plain ``BEGIN`` and takes no write
lock. PostgreSQL connections are pinged when taken from the pool.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event

from mentorflow._sqlite_path import sqlite_file
from mentorflow._sqlwrite import ping_on_checkout

__all__ = ["open_engine"]


def open_engine(target: str | Path, busy_timeout: float) -> sa.Engine:
    """An engine on a SQLite file path or a database URL (``postgresql+psycopg://…``)."""
    text = str(target)
    url = sa.make_url(text) if "://" in text else sa.URL.create("sqlite+pysqlite", database=text)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url, busy_timeout)
    engine = sa.create_engine(url)
    ping_on_checkout(engine)
    return engine


def _sqlite_engine(url: sa.URL, busy_timeout: float) -> sa.Engine:
    engine = sa.create_engine(url, connect_args={"timeout": busy_timeout})

    on_disk = sqlite_file(url) is not None  # an in-memory database has no log to keep

    @sa_event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _: object) -> None:
        # Let SQLAlchemy's "begin" below issue BEGIN itself instead of the driver guessing.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
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
