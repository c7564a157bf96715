"""Reminders from the SQL store, exactly once: the deadline index finds them, the outbox sends them.

``ReminderScheduler(store).tick(now)`` runs ``reminders.tick`` (same policy, same events, same
ids) against a ``SqlStore``, in one transaction:

1. It locks its row in the ``reminder_ticks`` table (``SELECT … FOR UPDATE`` on PostgreSQL; the
   single write lock on SQLite), so two ticks of one scheduler never interleave.
2. It asks the deadline index which engagements may owe a reminder: those with an unmet deadline
   due within the largest lead time whose missed-deadline reminder is not yet settled, and those
   with a met deadline due since the last tick (met late, it can still owe a reminder for a
   moment it was not met by). Both are index range scans; no snapshot is read to find them.
3. It loads just those snapshots and their ledger rows, runs ``reminders.tick``, and writes the
   newly settled reminders to the ledger table and the new events to the outbox, together.

Each ledger row's primary key is the reminder id, and a reminder is written with
``INSERT … ON CONFLICT DO NOTHING``; only the tick whose insert took effect puts the event in the
outbox. So repeated ticks, a restart (a new store on the same database), a catch-up after days
of downtime, or two schedulers racing on PostgreSQL emit every reminder once; the ``Relay``
then delivers it at least once, like any event.

One difference from ``reminders.tick`` over every snapshot, by design: a deadline that enters
the index already met (a visit dated after its documents came in) gets no reminders for moments
before the scheduler's last tick.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import pendulum
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from mentorflow._sqldelete import is_live_row
from mentorflow._sqlschema import utc_text
from mentorflow.compiled import CompiledMethod
from mentorflow.reminders import (
    DeadlineReminder,
    ReminderLedger,
    ReminderPolicy,
    reminder_id,
    tick,
)
from mentorflow.schedule import Deadline, deadlines
from mentorflow.sqlstore import SqlStore
from mentorflow.state import EngagementState

__all__ = ["ReminderScheduler"]

#: Lead days are wall-clock days in the host's zone; a DST change makes one an hour longer.
_DST_MARGIN = dt.timedelta(days=1)


class ReminderScheduler:
    """Emits a store's reminder events exactly once into its outbox; drive it with ``tick``."""

    def __init__(
        self, store: SqlStore, *, policy: ReminderPolicy | None = None, name: str = "default"
    ) -> None:
        self.store = store
        self.policy = policy or ReminderPolicy()
        #: Schedulers with different names keep their own progress (and, say, policies).
        self.name = name

    def tick(self, now: dt.datetime | None = None) -> tuple[DeadlineReminder, ...]:
        """Emit every reminder due by ``now`` (default: the store's clock) not emitted before.

        Returns the events this tick put in the outbox, in order of their moment.
        """
        instant = pendulum.instance(now) if now is not None else self.store.clock.now()
        with self.store.engine.begin() as conn:
            since = self._lock(conn)
            ids = self._live(conn, self._candidates(conn, instant, since))
            states = [self.store.load_on(conn, engagement_id) for engagement_id in ids]
            owed = self._reminders_of(states)
            ledger = self._ledger_on(conn, ids)
            result = tick(states, instant, ledger, policy=self.policy, methods=self._method)
            events = {event.id: event for event in result.events}
            won = {
                rid
                for rid in sorted(result.ledger.settled - ledger.settled)
                if self._settle(conn, rid, owed[rid], emitted=rid in events, now=instant)
            }
            emitted = tuple(event for event in result.events if event.id in won)
            self.store.enqueue(conn, emitted)
            if since is None or instant > since:
                t = self.store.tables.reminder_ticks
                conn.execute(t.update().where(t.c.name == self.name).values(ticked_until=instant))
        return emitted

    def ledger(self, engagement_id: str | None = None) -> ReminderLedger:
        """The persisted ledger (of one engagement, or all), as ``reminders.tick`` reads it."""
        with self.store.reading() as conn:
            return self._ledger_on(conn, None if engagement_id is None else [engagement_id])

    # -- one tick's steps ----------------------------------------------------------------------

    def _lock(self, conn: sa.Connection) -> pendulum.DateTime | None:
        t = self.store.tables.reminder_ticks
        conn.execute(_insert_or_skip(conn, t).values(name=self.name, ticked_until=None))
        row = conn.execute(
            sa.select(t.c.ticked_until).where(t.c.name == self.name).with_for_update()
        ).one()
        since: pendulum.DateTime | None = row.ticked_until
        return since

    def _live(self, conn: sa.Connection, ids: list[str]) -> list[str]:
        """Those of ``ids`` not deleted, their rows read with a key-share lock on PostgreSQL:
        saves go on (they take no stronger lock than that allows), but a ``delete`` waits for
        this tick to commit, and a tick that waited for a delete sees the row deleted. Without
        it, a tick could read the deadline rows before a delete commits and emit reminders
        (and keep ledger rows) for an engagement deleted in between."""
        if not ids:
            return ids
        e = self.store.tables.engagements
        query = (
            sa.select(e.c.id)
            .where(e.c.id.in_(ids), is_live_row(self.store.tables))
            .order_by(e.c.id)
            .with_for_update(read=True, key_share=True)
        )
        return list(conn.execute(query).scalars())

    def _candidates(
        self, conn: sa.Connection, now: pendulum.DateTime, since: pendulum.DateTime | None
    ) -> list[str]:
        d, r = self.store.tables.deadlines, self.store.tables.reminders
        horizon = now + dt.timedelta(days=max(self.policy.lead_days, default=0)) + _DST_MARGIN
        severities = sorted(s.value for s in self.policy.severities)
        missed_settled = (
            sa.select(r.c.reminder_id)
            .where(
                r.c.engagement_id == d.c.engagement_id,
                r.c.deadline_key == d.c.key,
                r.c.due_utc == d.c.due_utc,
                r.c.lead_days.is_(None),
            )
            .exists()
        )
        open_rows = sa.select(d.c.engagement_id).where(
            d.c.met.is_(False),
            d.c.due_utc <= horizon,
            d.c.severity.in_(severities),
            ~missed_settled,
        )
        # Every moment of a deadline comes at or before its due instant: a met deadline with a
        # moment since the last tick is due after it.
        met_rows = sa.select(d.c.engagement_id).where(
            d.c.met.is_(True), d.c.due_utc <= horizon, d.c.severity.in_(severities)
        )
        if since is not None:
            met_rows = met_rows.where(d.c.due_utc > since)
        both = sa.union(open_rows, met_rows).subquery()
        return list(
            conn.execute(sa.select(both.c.engagement_id).order_by(both.c.engagement_id)).scalars()
        )

    def _method(self, state: EngagementState) -> CompiledMethod:
        return self.store.methods.get(state.method_id, state.method_version)

    def _reminders_of(self, states: Iterable[EngagementState]) -> dict[str, _Owed]:
        leads: Sequence[int | None] = (*self.policy.lead_days, None)
        return {
            reminder_id(d, lead): (d, lead)
            for state in states
            for d in deadlines(self._method(state), state)
            for lead in leads
        }

    def _ledger_on(self, conn: sa.Connection, ids: Sequence[str] | None) -> ReminderLedger:
        r = self.store.tables.reminders
        query = sa.select(r.c.reminder_id)
        if ids is not None:
            if not ids:
                return ReminderLedger()
            query = query.where(r.c.engagement_id.in_(ids))
        return ReminderLedger(frozenset(conn.execute(query).scalars()))

    def _settle(
        self,
        conn: sa.Connection,
        rid: str,
        owed: _Owed,
        *,
        emitted: bool,
        now: pendulum.DateTime,
    ) -> bool:
        """Record one reminder; False when another tick recorded it first (then it emits it)."""
        deadline, lead = owed
        reminders = self.store.tables.reminders
        # RETURNING, not rowcount: drivers disagree on the rowcount of a skipped insert.
        result = conn.execute(
            _insert_or_skip(conn, reminders)
            .returning(reminders.c.reminder_id)
            .values(
                reminder_id=rid,
                engagement_id=deadline.engagement_id,
                deadline_key=deadline.key,
                due_utc=deadline.due,
                lead_days=lead,
                emitted=emitted,
                settled_at=utc_text(now),
            )
        )
        return result.first() is not None


_Owed = tuple[Deadline, int | None]


def _insert_or_skip(conn: sa.Connection, table: sa.Table) -> Any:
    """``INSERT … ON CONFLICT DO NOTHING`` in the connection's dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()
