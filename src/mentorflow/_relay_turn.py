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
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from mentorflow._sqlite_path import sqlite_file
from mentorflow.exceptions import InvalidInput, Problem

__all__ = ["relay_turn"]

# One lock per in-memory database, that is per engine (every ``sqlite://`` URL reads the same).
_in_memory: weakref.WeakKeyDictionary[sa.Engine, threading.Lock] = weakref.WeakKeyDictionary()
_in_memory_guard = threading.Lock()


@contextmanager
def relay_turn(engine: sa.Engine) -> Iterator[bool]:
    """Take the relay turn of the SQLite database behind ``engine`` if it is free; yields whether
    it was."""
    path = _lock_path(engine.url)
    if path is None:
        with _in_memory_guard:
            lock = _in_memory.setdefault(engine, threading.Lock())
        mine = lock.acquire(blocking=False)
        try:
            yield mine
        finally:
            if mine:
                lock.release()
        return
    conn = _open_for_writing(path)
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


def _open_for_writing(path: str) -> sqlite3.Connection:
    """The lock file, opened for writing. SQLite opens a file it may not write read-only, without
    saying so, and a read-only handle's exclusive lock excludes nobody: refuse that instead."""
    try:
        conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
    except sqlite3.OperationalError as error:
        raise _unusable(path, str(error)) from None
    if not os.access(path, os.W_OK):
        conn.close()
        raise _unusable(path, "this process may not write it")
    return conn


def _unusable(path: str, why: str) -> InvalidInput:
    return InvalidInput(
        "relay",
        [
            Problem(
                "$.store",
                f"the relays' lock file {path} cannot be used ({why}); relays on SQLite need "
                "write access to the database's directory and to that file",
            )
        ],
    )


def _lock_path(url: sa.URL) -> str | None:
    database = sqlite_file(url)  # resolved, so every spelling of one file finds one lock
    return None if database is None else database + "-relay-lock"
