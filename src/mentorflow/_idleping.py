"""Ping a pooled connection before use only when it sat idle long enough to have been dropped.

Why: SQLAlchemy's ``pool_pre_ping`` pings on every checkout, one more round trip on every save.
Connections are dropped mostly after idling (server or proxy idle timeouts, firewalls), so a
connection checked in moments ago is handed out unpinged. A connection that dies sooner (a
server restart) fails its next statement instead; the store's pipelined save then runs once
more, and ``suspect_pool`` makes every connection checked in before that moment pinged again.
This is SQLAlchemy's documented custom-ping recipe: a ``checkout`` listener that raises
``DisconnectionError`` so the pool replaces the connection with a fresh one.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event

__all__ = ["IdlePing"]

_CHECKED_IN = "mentorflow_checked_in"


class IdlePing:
    """Pings connections of one engine idle longer than ``after`` seconds, at checkout."""

    def __init__(self, engine: sa.Engine, after: float) -> None:
        self.after = after
        self._dialect = engine.dialect
        self._suspect_before = 0.0
        sa_event.listen(engine, "checkin", self._checked_in)
        sa_event.listen(engine, "checkout", self._checking_out)

    def suspect_pool(self) -> None:
        """Ping every connection checked in before now at its next checkout."""
        self._suspect_before = time.monotonic()

    def _checked_in(self, dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    def _checking_out(self, dbapi_connection: Any, record: Any, proxy: Any) -> None:
        checked_in = record.info.get(_CHECKED_IN)
        if checked_in is None:
            return  # just connected (the pool clears ``info`` on every reconnect)
        if checked_in > self._suspect_before and time.monotonic() - checked_in <= self.after:
            return
        try:
            self._dialect.do_ping(dbapi_connection)
        except self._dialect.loaded_dbapi.Error as error:
            # Others may have died with it (a restart): ping them too rather than trust them.
            self.suspect_pool()
            raise sa.exc.DisconnectionError("idle connection failed its ping") from error
