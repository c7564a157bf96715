"""Turns for the relays of one SQLite database: one relay delivers at a time, without the write lock.

SQLite has a single write lock for the whole database. A relay that kept it while its handler
ran would make every save wait for the handler. So relays take turns on a lock of their own: an
exclusive transaction on a side file next to the database (``<database>-relay-lock``, empty).
The operating system drops that lock when the process ends, however it ends (SIGKILL, OOM,
``os._exit``), so a relay that died never holds up the next one. A database that lives only in
memory cannot be shared between processes; its relays take turns on a lock in this process.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

__all__ = ["relay_turn"]

_in_memory: dict[str, threading.Lock] = {}
_in_memory_guard = threading.Lock()


@contextmanager
def relay_turn(url: sa.URL) -> Iterator[bool]:
    """Take the relay turn of the SQLite database at ``url`` if it is free; yields whether it was."""
    path = _lock_path(url)
    if path is None:
        with _in_memory_guard:
            lock = _in_memory.setdefault(str(url), threading.Lock())
        mine = lock.acquire(blocking=False)
        try:
            yield mine
        finally:
            if mine:
                lock.release()
        return
    conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    try:
        try:
            conn.execute("BEGIN EXCLUSIVE")
            mine = True
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                raise
            mine = False  # another relay has the turn; it will deliver what is ready
        try:
            yield mine
        finally:
            if mine:
                conn.execute("ROLLBACK")
    finally:
        conn.close()


def _lock_path(url: sa.URL) -> str | None:
    database = url.database or ""
    if url.query.get("uri") and database.startswith("file:"):
        if "mode=memory" in database:
            return None
        database = database.removeprefix("file:").split("?", 1)[0]
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return None
    # The real path, so that every relay of one file finds the same lock whatever path it was given.
    return os.path.realpath(database) + "-relay-lock"
