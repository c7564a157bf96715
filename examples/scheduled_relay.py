"""The outbox relay driven by a scheduler: the host's ``sched`` runs it every five minutes.

Nothing here sleeps for real. The scheduler, the store and the relay share one ``FrozenClock``;
the scheduler's delay function advances it, so an afternoon of relay runs takes a blink and the
relay's retry backoff is honoured in the same simulated time. The mail server is down for the
first two attempts: the relay retries with backoff and delivers each event exactly once to the
idempotent handler. At the end of the hour a housekeeping job prunes the outbox of deliveries
older than half an hour.
"""

from __future__ import annotations

import sched
import sys
import tempfile
from pathlib import Path

import pendulum

from mentorflow import Event, FrozenClock, compiled
from mentorflow import rock2017 as rock
from mentorflow.outbox import Backoff, Relay
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus, StoredEngagement

EVERY = 5 * 60  # seconds between relay runs
RUNS = 12  # one simulated hour


class Mailer:
    """Sends one notification per event; down for its first ``outages`` attempts."""

    def __init__(self, outages: int) -> None:
        self.outages = outages
        self.sent: dict[str, str] = {}  # event id -> what was sent: the idempotency record

    def __call__(self, event: Event) -> None:
        if self.outages > 0:
            self.outages -= 1
            raise ConnectionError("mail server down")
        # Delivered twice (a crash after sending, before the commit)? Send once all the same.
        self.sent.setdefault(event.id, type(event).__name__)


def main(directory: Path) -> int:
    """Start an engagement, then let the scheduler drive the relay for an hour of simulated time."""
    clock = FrozenClock(pendulum.datetime(2017, 9, 15, 9, tz="Europe/Brussels"))
    store = SqlStore.open(directory / "relay.db", clock=clock)
    plan = next(p for p in rock.programme() if p.id == "rock-mentoring-bologna")
    facilitator = rock.rep(rock.FACILITATOR_ID)
    engagement = StoredEngagement.start(
        compiled(plan.method_id),
        store=store,
        id=plan.id,
        title=plan.title,
        organisations=plan.organisations,
        participants=plan.participants,
        themes=plan.themes,
        visits=plan.visits,
        actor=facilitator,
        clock=clock,
    )
    engagement.fire("confirm_match", actor=facilitator)

    mailer = Mailer(outages=2)
    relay = Relay(store, mailer, clock=clock, backoff=Backoff(base=60, factor=2), max_attempts=5)
    start = clock.now()

    def now() -> float:
        return (clock.now() - start).total_seconds()

    def wait(seconds: float) -> None:
        if seconds > 0:
            clock.advance(seconds=int(seconds))

    scheduler = sched.scheduler(now, wait)

    def run_relay(remaining: int) -> None:
        report = relay.run_once()
        stamp = clock.now().format("HH:mm")
        if report.handled:
            print(f"{stamp}  delivered {len(report.delivered)}, retrying {len(report.retried)}")
        if remaining > 1:
            scheduler.enter(EVERY, 1, run_relay, (remaining - 1,))

    scheduler.enter(0, 1, run_relay, (RUNS,))
    scheduler.run()

    waiting = store.outbox(status=OutboxStatus.PENDING)
    events = store.outbox()
    print(f"{len(mailer.sent)} notifications sent for {len(events)} events; {len(waiting)} waiting")
    # Housekeeping: delivered events stay in the outbox until pruned; keep the last half hour.
    kept_from = clock.now().subtract(minutes=30)
    removed = store.prune_outbox(kept_from)
    left = len(store.outbox())
    print(f"pruned {removed} event(s) delivered before {kept_from.format('HH:mm')}; {left} left")
    store.close()
    delivered_all = len(mailer.sent) == len(events) and not waiting
    return 0 if delivered_all and removed == len(events) and left == 0 else 1


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as scratch:
        status = main(Path(scratch))
    sys.exit(status)
