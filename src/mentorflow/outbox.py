"""The outbox relay: delivers stored events to the host's handlers, at least once, in order.

Each round claims the *first* undelivered event of every engagement that has one (so events of
one engagement go out in order, one at a time), hands each to the handler, and records the
outcome in the same transaction: delivered, or retried later with exponential backoff, or
"dead" after ``max_attempts``. A dead event holds back the later events of its engagement until
it is replayed (``SqlStore.replay``). Reminder events (sequence 0) form a second lane per
engagement, ordered by commit, that neither waits for nor holds back the engagement's own. A crash between the handler and the commit means the
event is delivered again: handlers must be idempotent, keyed on ``event.id``.

On PostgreSQL the claim is ``SELECT … FOR UPDATE SKIP LOCKED``: several relays share the work
and never hold the same event at once. On SQLite the claim takes the single write lock, so one
relay at a time is the norm (more are safe but take turns).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import attrs
import pendulum
import sqlalchemy as sa

from mentorflow._sqlschema import utc_text
from mentorflow.clock import Clock
from mentorflow.events import Event, EventBus
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus

__all__ = ["Backoff", "Relay", "RelayReport"]

Handler = Callable[[Event], object]


@attrs.frozen
class Backoff:
    """Delay before retry ``n`` (1-based): ``base * factor ** (n - 1)``, at most ``maximum`` seconds."""

    base: float = 1.0
    factor: float = 2.0
    maximum: float = 300.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failure."""
        return float(min(self.maximum, self.base * self.factor ** max(0, attempts - 1)))


@attrs.frozen
class RelayReport:
    """What one ``run_once`` did."""

    delivered: tuple[str, ...] = ()
    retried: tuple[str, ...] = ()
    dead: tuple[str, ...] = ()

    @property
    def handled(self) -> int:
        """How many events were handed to the handler."""
        return len(self.delivered) + len(self.retried) + len(self.dead)


class Relay:
    """Moves events from a store's outbox to a handler; drive it with ``run_once`` or ``run``."""

    def __init__(
        self,
        store: SqlStore,
        handler: EventBus | Handler,
        *,
        clock: Clock | None = None,
        sleep: Callable[[float], object] = time.sleep,
        max_attempts: int = 5,
        backoff: Backoff | None = None,
        batch_size: int = 100,
    ) -> None:
        self.store = store
        self._deliver = _bus_handler(handler) if isinstance(handler, EventBus) else handler
        self.clock = clock or store.clock
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.backoff = backoff or Backoff()
        self.batch_size = batch_size
        o = store.tables.outbox
        earlier = o.alias("earlier")
        # Two lanes per engagement: its own events (sequence 1, 2, …) in sequence order, and
        # reminders (sequence 0, see ``reminders``) in commit order. A reminder that keeps
        # failing never holds back the engagement's own events, nor the other way round.
        blocked = (
            sa.select(earlier.c.position)
            .where(
                earlier.c.engagement_id == o.c.engagement_id,
                earlier.c.status != OutboxStatus.DELIVERED,
                sa.or_(
                    sa.and_(earlier.c.sequence > 0, earlier.c.sequence < o.c.sequence),
                    sa.and_(
                        o.c.sequence == 0,
                        earlier.c.sequence == 0,
                        earlier.c.position < o.c.position,
                    ),
                ),
            )
            .exists()
        )
        self._claim = (
            sa.select(o.c.position, o.c.event_id, o.c.payload, o.c.attempts)
            .where(
                o.c.status == OutboxStatus.PENDING,
                o.c.next_attempt_at <= sa.bindparam("now"),
                ~blocked,
            )
            .order_by(o.c.position)
            .limit(sa.bindparam("limit"))
            .with_for_update(skip_locked=True, of=o)
        )
        self._mark = o.update().where(o.c.position == sa.bindparam("b_position"))

    def run_once(self) -> RelayReport:
        """Deliver every event that is ready now, up to ``batch_size``; returns what happened."""
        delivered: list[str] = []
        retried: list[str] = []
        dead: list[str] = []
        while len(delivered) + len(retried) + len(dead) < self.batch_size:
            before = len(delivered) + len(retried) + len(dead)
            self._round(self.batch_size - before, delivered, retried, dead)
            if len(delivered) + len(retried) + len(dead) == before:
                break
        return RelayReport(tuple(delivered), tuple(retried), tuple(dead))

    def _round(self, limit: int, delivered: list[str], retried: list[str], dead: list[str]) -> None:
        now = self.clock.now()
        with self.store.engine.begin() as conn:
            rows = conn.execute(self._claim, {"now": utc_text(now), "limit": limit}).all()
            for row in rows:
                error = self._try(row.payload)
                if error is None:
                    values = {
                        "status": OutboxStatus.DELIVERED,
                        "delivered_at": utc_text(now),
                        "last_error": None,
                    }
                    values["attempts"] = row.attempts + 1
                    delivered.append(row.event_id)
                else:
                    attempts = row.attempts + 1
                    values = {"attempts": attempts, "last_error": error[:2000]}
                    if attempts >= self.max_attempts:
                        values["status"] = OutboxStatus.DEAD
                        dead.append(row.event_id)
                    else:
                        later = _later(now, self.backoff.delay(attempts))
                        values["next_attempt_at"] = utc_text(later)
                        retried.append(row.event_id)
                conn.execute(self._mark.values(**values), {"b_position": row.position})

    def _try(self, payload: str) -> str | None:
        try:
            event = self.store.codec.load_event(payload)
            self._deliver(event)
        except Exception as error:
            return f"{type(error).__name__}: {error}"
        return None

    def run(
        self,
        *,
        stop: Callable[[], bool] = lambda: False,
        idle_seconds: float = 1.0,
        max_rounds: int | None = None,
    ) -> int:
        """Call ``run_once`` until ``stop()`` is true (or ``max_rounds``), sleeping when idle.

        Returns how many events were delivered.
        """
        total = 0
        rounds = 0
        while not stop() and (max_rounds is None or rounds < max_rounds):
            report = self.run_once()
            total += len(report.delivered)
            rounds += 1
            if report.handled == 0:
                self.sleep(idle_seconds)
        return total


def _bus_handler(bus: EventBus) -> Handler:
    def deliver(event: Event) -> None:
        failures = bus.publish((event,))
        if failures:
            # Retry the whole event: handlers that succeeded see it again (they are idempotent).
            raise failures[0].error

    return deliver


def _later(now: pendulum.DateTime, seconds: float) -> pendulum.DateTime:
    return now.add(seconds=seconds)
