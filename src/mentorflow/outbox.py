"""The outbox relay: delivers stored events to the host's handlers, at least once, in order.

A relay hands the *first* undelivered event of an engagement to the handler (so events of one
engagement go out in order, one at a time) and records the outcome: delivered, or retried later
with exponential backoff, or "dead" after ``max_attempts``. A dead event holds back the later
events of its engagement until it is replayed (``SqlStore.replay``). Reminder events (sequence
0) form a second lane per engagement, ordered by commit, that neither waits for nor holds back
the engagement's own. A crash between the handler and the recorded outcome means the event is
delivered again: handlers must be idempotent, keyed on ``event.id``.

On both databases an attempt is counted before its handler runs, so a relay process that dies
in the handler (SIGKILL, OOM, ``os._exit``) uses up one attempt of that event: after
``max_attempts`` such deaths the next relay marks the event dead without calling the handler,
with a ``last_error`` saying during which attempt the relay stopped, instead of the event
blocking its engagement (and killing relays) forever.

On PostgreSQL a round claims up to ``batch_size`` events with ``SELECT … FOR UPDATE SKIP
LOCKED`` and records their outcomes in that transaction: several relays share the work and never
hold the same event at once, and the row locks never stop a save. A process that dies rolls that
transaction back, so the attempt is counted elsewhere (``_attempts_begun``): in a row of
``outbox_attempts`` committed on a second connection just before the handler runs, and deleted
with the outcome.

On SQLite a lock on the whole database is all there is, so the relay must not hold it while a
handler runs. Relays take turns on a lock of their own (``_relay_turn``: one relay delivers at a
time, the others' ``run_once`` returns at once) and each event takes two short transactions: the
claim, which counts the attempt, and the outcome. A save never waits for a handler.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import attrs
import pendulum
import sqlalchemy as sa

from mentorflow._attempts_begun import (
    begin_statement,
    forget_event_statement,
    forget_statement,
    stopped_error,
)
from mentorflow._inputs import count_problems
from mentorflow._relay_turn import relay_turn
from mentorflow._sqlschema import utc_text
from mentorflow._write_checks import is_number
from mentorflow.clock import Clock
from mentorflow.events import Event, EventBus
from mentorflow.exceptions import InvalidInput, Problem
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus

__all__ = ["LONGEST_BACKOFF", "Backoff", "Relay", "RelayReport"]

Handler = Callable[[Event], object]

#: Failures (with the handler's traceback) and dead events, for the host's logs and alerts.
_log = logging.getLogger("mentorflow.outbox")

#: The longest ``Backoff.maximum`` accepted, in seconds (366 days).
LONGEST_BACKOFF = 366 * 24 * 3600


@attrs.frozen
class Backoff:
    """Delay before retry ``n`` (1-based): ``base * factor ** (n - 1)``, at most ``maximum`` seconds.

    Refused with ``InvalidInput`` naming the field unless ``0 <= base <= maximum``,
    ``factor >= 1``, ``maximum`` is at most ``LONGEST_BACKOFF`` (366 days) and all three are
    finite numbers.
    """

    base: float = 1.0
    factor: float = 2.0
    maximum: float = 300.0

    def __attrs_post_init__(self) -> None:
        base_problem = _number_problem(self.base, 0.0, "at least 0")
        least_maximum = self.base if not base_problem else 0.0
        problems = [
            Problem(f"$.{name}", message)
            for name, message in (
                ("base", base_problem),
                ("factor", _number_problem(self.factor, 1.0, "at least 1")),
                ("maximum", _number_problem(self.maximum, least_maximum, "at least base")),
            )
            if message
        ]
        if not problems and self.maximum > LONGEST_BACKOFF:
            # A retry date must stay a date: pendulum cannot add 1e300 seconds.
            problems.append(
                Problem("$.maximum", f"must be at most {LONGEST_BACKOFF} seconds (366 days)")
            )
        if problems:
            raise InvalidInput("backoff", problems)

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failure: never negative, never above ``maximum``."""
        if self.base == 0:
            return 0.0
        try:
            grown = self.base * self.factor ** max(0, attempts - 1)
        except OverflowError:  # the power left the floats long after it passed ``maximum``
            return float(self.maximum)
        return float(min(self.maximum, grown))


#: Characters of a handler's error (or a dead-letter reason) kept in the outbox row.
_ERROR_KEPT = 2000


def _number_problem(value: object, least: float, bound: str) -> str:
    if not is_number(value):
        return f"must be a finite number, not {value!r}"
    if value < least:
        return f"must be {bound}, not {value!r}"
    return ""


@attrs.frozen
class RelayReport:
    """What one ``run_once`` did."""

    delivered: tuple[str, ...] = ()
    retried: tuple[str, ...] = ()
    dead: tuple[str, ...] = ()

    @property
    def handled(self) -> int:
        """How many events were handed to the handler (or given up on)."""
        return len(self.delivered) + len(self.retried) + len(self.dead)


@attrs.define
class _Tally:
    delivered: list[str] = attrs.Factory(list)
    retried: list[str] = attrs.Factory(list)
    dead: list[str] = attrs.Factory(list)

    @property
    def handled(self) -> int:
        return len(self.delivered) + len(self.retried) + len(self.dead)

    def add(self, bucket: str, event_id: str) -> None:
        getattr(self, bucket).append(event_id)

    def report(self) -> RelayReport:
        return RelayReport(tuple(self.delivered), tuple(self.retried), tuple(self.dead))


class Relay:
    """Moves events from a store's outbox to a handler; drive it with ``run_once`` or ``run``.

    On PostgreSQL a relay takes two of the store's pooled connections while it delivers: the
    claim's transaction, and one that counts each attempt before its handler runs.

    Refused with ``InvalidInput`` naming the argument unless ``store`` is a ``SqlStore``,
    ``handler`` a callable or an ``EventBus``, ``max_attempts`` and ``batch_size`` integers of at
    least 1 and ``backoff`` a ``Backoff``; on PostgreSQL also unless the store's pool can hold
    two connections at once.
    """

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
        _check_arguments(store, handler, sleep, max_attempts, backoff, batch_size)
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
            sa.select(o.c.position, o.c.event_id, o.c.payload, o.c.attempts, o.c.last_error)
            .where(
                o.c.status == OutboxStatus.PENDING,
                o.c.next_attempt_at <= sa.bindparam("now"),
                ~blocked,
            )
            .order_by(o.c.position)
            .limit(sa.bindparam("limit"))
            .with_for_update(skip_locked=True, of=o)
        )
        # PostgreSQL: with the attempts begun that no outcome has followed (``_attempts_begun``).
        # Only the outbox row is locked; the row of attempts begun is written while it is.
        a = store.tables.outbox_attempts
        self._claim_counting_begun = self._claim.add_columns(a.c.begun).select_from(
            o.outerjoin(a, a.c.position == o.c.position)
        )
        self._begin = begin_statement(store.tables)
        self._forget = forget_statement(store.tables)
        self._mark = o.update().where(o.c.position == sa.bindparam("b_position"))
        # The outcome of an attempt, written only if the event is still as its claim left it.
        self._mark_if_unchanged = self._mark.where(
            o.c.status == OutboxStatus.PENDING, o.c.attempts == sa.bindparam("b_attempts")
        )
        # ``dead_letter``: only a pending event, so one delivered or dead already is refused.
        self._dead_letter = (
            o.update()
            .where(o.c.event_id == sa.bindparam("b_event_id"), o.c.status == OutboxStatus.PENDING)
            .values(status=OutboxStatus.DEAD, last_error=sa.bindparam("b_reason"))
        )

    def run_once(self) -> RelayReport:
        """Deliver every event that is ready now, up to ``batch_size``; returns what happened.

        On SQLite, while another relay of the same database has its turn, this returns an empty
        report at once.
        """
        tally = _Tally()
        if self.store.dialect == "sqlite":
            with relay_turn(self.store.engine) as mine:
                while mine and tally.handled < self.batch_size and self._deliver_next(tally):
                    pass
            return tally.report()
        while tally.handled < self.batch_size:
            before = tally.handled
            self._round(self.batch_size - before, tally)
            if tally.handled == before:
                break
        return tally.report()

    def _round(self, limit: int, tally: _Tally) -> None:
        # PostgreSQL: the row locks of FOR UPDATE SKIP LOCKED keep other relays off these events
        # until the outcomes commit, and they never stop a save.
        now = self.clock.now()
        with self.store.engine.begin() as conn:
            rows = conn.execute(self._claim_counting_begun, {"now": utc_text(now), "limit": limit})
            claimed = rows.all()
            if not claimed:
                return
            with self.store.engine.connect() as beginning:
                # Its own connection, committing each statement: a process that dies in the
                # handler rolls back ``conn``, never the attempt's begun count.
                beginning.execution_options(isolation_level="AUTOCOMMIT")
                for row in claimed:
                    values, bucket, error = self._attempt(row, now, beginning)
                    conn.execute(self._mark.values(**values), {"b_position": row.position})
                    self._settled(tally, bucket, row.event_id, values, error)
            # The outcomes take the place of the begun counts, in one commit: a process that
            # dies before it leaves the counts, and each of those attempts is used up.
            conn.execute(self._forget, {"positions": [row.position for row in claimed]})

    def _attempt(
        self, row: Any, now: pendulum.DateTime, beginning: sa.Connection
    ) -> tuple[dict[str, Any], str, Exception | None]:
        """PostgreSQL: try the claimed event ``row`` unless its attempts are used up; the row's
        new values, the report's bucket and what the handler raised."""
        begun = row.begun or 0
        attempts = max(row.attempts, begun)
        if attempts >= self.max_attempts:
            # Its last attempts ended with their relay's process: give up, as for failures.
            stopped = begun > row.attempts
            last_error = stopped_error(begun) if stopped else row.last_error
            values = {"status": OutboxStatus.DEAD, "attempts": attempts, "last_error": last_error}
            return values, "dead", None
        attempt = attempts + 1
        # Committed before the handler runs, so a process that dies in it still uses it up.
        beginning.execute(
            self._begin,
            {"position": row.position, "begun": attempt, "begun_at": utc_text(self.clock.now())},
        )
        error = self._try(row.payload)
        return (*self._outcome(attempt, error, now), error)

    def _deliver_next(self, tally: _Tally) -> bool:
        # SQLite, inside this relay's turn: nobody else claims, so the write lock can be let go
        # while the handler runs. Returns whether there was an event to handle.
        with self.store.engine.begin() as conn:
            now = self.clock.now()
            row = conn.execute(self._claim, {"now": utc_text(now), "limit": 1}).first()
            if row is None:
                return False
            if row.attempts >= self.max_attempts:
                # Its last attempts ended with their relay's process: give up, as for failures.
                conn.execute(
                    self._mark.values(status=OutboxStatus.DEAD), {"b_position": row.position}
                )
                values = {"attempts": row.attempts, "last_error": row.last_error}
                self._settled(tally, "dead", row.event_id, values, None)
                return True
            attempt = row.attempts + 1
            # Counted before the handler runs, so a process that dies in it still uses it up.
            conn.execute(
                self._mark.values(attempts=attempt, last_error=stopped_error(attempt)),
                {"b_position": row.position},
            )
        error = self._try(row.payload)
        values, bucket = self._outcome(attempt, error, self.clock.now())
        with self.store.engine.begin() as conn:
            # Only if the event is still as this relay left it: a replay or a dead-letter made
            # while the handler ran wins over this outcome (and a replay means delivering again).
            written = conn.execute(
                self._mark_if_unchanged.values(**values),
                {"b_position": row.position, "b_attempts": attempt},
            )
        if written.rowcount == 1:
            self._settled(tally, bucket, row.event_id, values, error)
        return True

    def _settled(
        self,
        tally: _Tally,
        bucket: str,
        event_id: str,
        values: dict[str, Any],
        error: Exception | None,
    ) -> None:
        """Count the outcome in the report and log it: a failure with the handler's traceback
        (the outbox keeps only its first line), a dead event as an error to act on."""
        tally.add(bucket, event_id)
        if bucket == "delivered":
            _log.debug("delivered event %s", event_id)
        elif bucket == "retried":
            _log.warning(
                "event %s failed on attempt %s of %s; next attempt at %s",
                event_id,
                values["attempts"],
                self.max_attempts,
                values["next_attempt_at"],
                exc_info=error,
            )
        else:
            _log.error(
                "event %s is dead after %s attempt(s): %s; fix the cause, then replay it "
                "(SqlStore.replay)",
                event_id,
                values["attempts"],
                values["last_error"] or "its attempts are used up",
                exc_info=error,
            )

    def _outcome(
        self, attempts: int, error: Exception | None, now: pendulum.DateTime
    ) -> tuple[dict[str, Any], str]:
        """The row's new values after attempt number ``attempts``, and the report's bucket."""
        if error is None:
            values = {
                "status": OutboxStatus.DELIVERED,
                "delivered_at": utc_text(now),
                "last_error": None,
                "attempts": attempts,
            }
            return values, "delivered"
        values = {
            "attempts": attempts,
            "last_error": f"{type(error).__name__}: {error}"[:_ERROR_KEPT],
        }
        if attempts >= self.max_attempts:
            values["status"] = OutboxStatus.DEAD
            return values, "dead"
        values["next_attempt_at"] = utc_text(_later(now, self.backoff.delay(attempts)))
        return values, "retried"

    def _try(self, payload: str) -> Exception | None:
        """Hand the event to the handler; what it raised (or what the reader refused), if any."""
        try:
            event = self.store.codec.load_event(payload)
            self._deliver(event)
        except Exception as error:
            return error
        return None

    def dead_letter(self, event_id: str, reason: str) -> None:
        """Give up on a pending event by hand: it becomes "dead" with ``reason`` as its error.

        For an event whose handler hangs its relay, or that should not wait for its last
        attempts (see the relay docs); ``SqlStore.replay`` puts it back in line. Refused with
        ``InvalidInput`` unless the outbox holds a pending event with that id.
        """
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidInput(
                "dead_letter", [Problem("$.reason", "must be a non-empty text saying why")]
            )
        with self.store.engine.begin() as conn:
            result = conn.execute(
                self._dead_letter, {"b_event_id": event_id, "b_reason": reason[:_ERROR_KEPT]}
            )
            # After the update, which waits for a relay that holds the event: see ``replay``.
            conn.execute(forget_event_statement(self.store.tables, event_id))
        if result.rowcount != 1:
            raise InvalidInput(
                "dead_letter", [Problem("$.event_id", f"no pending event {event_id!r}")]
            )

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


def _check_arguments(
    store: object,
    handler: object,
    sleep: object,
    max_attempts: object,
    backoff: object,
    batch_size: object,
) -> None:
    problems: list[Problem] = []
    if not isinstance(store, SqlStore):
        problems.append(Problem("$.store", f"must be a SqlStore, not {type(store).__name__}"))
    elif store.dialect == "postgresql" and not _holds_two_connections(store.engine.pool):
        problems.append(
            Problem(
                "$.store",
                "its connection pool cannot hold two connections at once, and a relay on "
                "PostgreSQL needs two while it delivers (the claim and the attempt count): "
                "give the store pool_size + max_overflow of at least 2",
            )
        )
    if not (isinstance(handler, EventBus) or callable(handler)):
        problems.append(Problem("$.handler", f"must be a callable or an EventBus, not {handler!r}"))
    if not callable(sleep):
        problems.append(Problem("$.sleep", f"must be a callable, not {sleep!r}"))
    problems += count_problems(max_attempts, "max_attempts")
    problems += count_problems(batch_size, "batch_size")
    if backoff is not None and not isinstance(backoff, Backoff):
        problems.append(Problem("$.backoff", f"must be a Backoff, not {backoff!r}"))
    if problems:
        raise InvalidInput("relay", problems)


def _holds_two_connections(pool: sa.pool.Pool) -> bool:
    """Whether ``pool`` can hand out two distinct connections at once, as a PostgreSQL relay
    takes them. A pool of one shared connection (StaticPool, SingletonThreadPool) would give the
    attempt count the claim's own connection, and its commit would end the claim."""
    if isinstance(pool, sa.pool.NullPool):
        return True
    if not isinstance(pool, sa.pool.QueuePool):
        return False
    # QueuePool keeps its overflow limit private; -1 means no limit, as a pool_size of 0 does.
    overflow = getattr(pool, "_max_overflow", -1)
    return pool.size() == 0 or overflow < 0 or pool.size() + overflow >= 2


def _bus_handler(bus: EventBus) -> Handler:
    def deliver(event: Event) -> None:
        failures = bus.publish((event,))
        if failures:
            # Retry the whole event: handlers that succeeded see it again (they are idempotent).
            raise failures[0].error

    return deliver


def _later(now: pendulum.DateTime, seconds: float) -> pendulum.DateTime:
    return now.add(seconds=seconds)
