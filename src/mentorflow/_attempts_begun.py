"""The attempts PostgreSQL relays have begun (``outbox_attempts``): the statements that keep them.

A PostgreSQL relay claims events with ``SELECT … FOR UPDATE SKIP LOCKED`` and records their
outcomes in that same transaction, so a process that dies in a handler rolls back all of it.
Before a handler runs, the relay writes the attempt's number into a row of this table and
commits it on a connection of its own; the attempt's outcome deletes the row again, in the
claim's transaction. A row left behind is an attempt whose relay stopped before the handler
returned, and the next claim of the event counts it.

Every write of an event's row happens while its writer holds the event's outbox row (the claim,
or the update of a replay or a dead-letter), so two writers of one row never overlap.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from mentorflow._sqlschema import Tables

__all__ = ["begin_statement", "forget_event_statement", "forget_statement", "stopped_error"]


def stopped_error(attempt: int) -> str:
    """The ``last_error`` of an event whose relay stopped during attempt ``attempt``."""
    return f"the relay stopped during attempt {attempt}, before the handler returned"


def begin_statement(tables: Tables) -> sa.Insert:
    """Record that attempt ``begun`` at the event at ``position`` begins (``begun_at``)."""
    a = tables.outbox_attempts
    insert = postgresql.insert(a).values(
        position=sa.bindparam("position"),
        begun=sa.bindparam("begun"),
        begun_at=sa.bindparam("begun_at"),
    )
    return insert.on_conflict_do_update(
        index_elements=[a.c.position],
        set_={"begun": insert.excluded.begun, "begun_at": insert.excluded.begun_at},
    )


def forget_statement(tables: Tables) -> sa.Delete:
    """Delete the rows of the events at ``positions`` (a list): their attempts have outcomes."""
    a = tables.outbox_attempts
    return a.delete().where(a.c.position.in_(sa.bindparam("positions", expanding=True)))


def forget_event_statement(tables: Tables, event_id: str) -> sa.Delete:
    """Delete the row of the event ``event_id``: a replay or a dead-letter sets its attempts."""
    a, o = tables.outbox_attempts, tables.outbox
    return a.delete().where(
        a.c.position.in_(sa.select(o.c.position).where(o.c.event_id == event_id))
    )
