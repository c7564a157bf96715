"""Several worker processes and two relays on one PostgreSQL database.

Three web workers act on the same ROCK engagements at once; a save that lost the race raises
``ConcurrencyConflict`` and ``retry_action`` runs the action again on the fresh snapshot. Two
relay processes share the outbox (``FOR UPDATE SKIP LOCKED``) and hand every event to an
idempotent handler that records ``event.id`` in its own table. At the end every accepted action
is in the history, every event reached the handler's table once, and a housekeeping job prunes
the delivered events.

The database is ``MENTORFLOW_PG_URL`` (default: the local test server). Without a server the
example says so and exits 0, unless ``CI`` is set, where it must run.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import uuid

import pendulum
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from mentorflow import rock2017 as rock
from mentorflow.catalog import compiled
from mentorflow.clock import FrozenClock
from mentorflow.events import Event
from mentorflow.outbox import Relay
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus, StoredEngagement, retry_action

URL = os.environ.get("MENTORFLOW_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FACILITATOR = rock.rep(rock.FACILITATOR_ID)
AT = pendulum.datetime(2017, 9, 1, tz="Europe/Brussels")
WORKERS, ACTIONS = 3, 20
#: A web worker needs one connection at a time, a relay two: pools sized for each.
WORKER_POOL = {"pool_size": 1, "max_overflow": 0}
RELAY_POOL = {"pool_size": 2, "max_overflow": 0}


def open_store(schema: str, pool: dict[str, int]) -> SqlStore:
    return SqlStore.open(URL, schema=schema, engine_options=pool, clock=FrozenClock(AT))


def web_worker(schema: str, worker: int) -> tuple[int, int]:
    """Pause or resume each engagement in turn, ACTIONS times, racing the other workers over the
    same engagements; returns (actions saved, tries that lost the race and were retried)."""
    store = open_store(schema, WORKER_POOL)
    ids = store.ids()
    tries = 0

    def toggle(engagement: StoredEngagement) -> None:
        nonlocal tries
        tries += 1
        if engagement.phase == "paused":
            engagement.fire("resume", actor=FACILITATOR)
        else:
            engagement.fire("pause", actor=FACILITATOR, reason=f"worker {worker}")

    for n in range(ACTIONS):
        retry_action(store, ids[n % len(ids)], toggle, attempts=WORKERS * 4, clock=store.clock)
    store.close()
    return ACTIONS, tries - ACTIONS


def relay_worker(schema: str) -> int:
    """Deliver until the outbox has nothing ready; returns how many this relay delivered."""
    store = open_store(schema, RELAY_POOL)
    # The host's own connection for its effects: the relay's two are busy while it delivers.
    host = sa.create_engine(URL, pool_size=1, max_overflow=0)
    received = sa.Table("received", sa.MetaData(schema=schema), autoload_with=host)

    def handle(event: Event) -> None:
        # Idempotent: a redelivered event (a relay died after the handler) changes nothing.
        with host.begin() as conn:
            insert = postgresql.insert(received).on_conflict_do_nothing()
            conn.execute(insert.values(event_id=event.id, event_type=type(event).__name__))

    relay = Relay(store, handle, batch_size=10)
    delivered = 0
    while (report := relay.run_once()).handled:
        delivered += len(report.delivered)
    store.close()
    host.dispose()
    return delivered


def main() -> int:
    schema = f"mf_example_{uuid.uuid4().hex[:8]}"
    try:
        store = open_store(schema, RELAY_POOL)
    except sa.exc.OperationalError as error:
        print(f"no PostgreSQL at {URL}: {str(error.orig).splitlines()[0]}")
        return 1 if os.environ.get("CI") else 0
    try:
        with store.engine.begin() as conn:
            conn.execute(
                sa.text(
                    f'CREATE TABLE "{schema}".received '
                    "(event_id text PRIMARY KEY, event_type text NOT NULL)"
                )
            )
        for plan in rock.programme():
            StoredEngagement.start(
                compiled(plan.method_id),
                store=store,
                id=plan.id,
                title=plan.title,
                organisations=plan.organisations,
                participants=plan.participants,
                themes=plan.themes,
                visits=plan.visits,
                actor=FACILITATOR,
                at=AT,
            )
        spawn = multiprocessing.get_context("spawn")
        with spawn.Pool(WORKERS) as pool:
            results = pool.starmap(web_worker, [(schema, w) for w in range(WORKERS)])
        saved, retried = (sum(column) for column in zip(*results, strict=True))
        with spawn.Pool(2) as pool:
            delivered = sum(pool.map(relay_worker, [schema, schema]))

        versions = sum(store.load(i).version for i in store.ids())
        events = store.outbox()
        with store.engine.connect() as conn:
            received = conn.execute(sa.text(f'SELECT count(*) FROM "{schema}".received')).scalar()
        print(f"{WORKERS} workers saved {saved} actions ({retried} retried after a conflict)")
        print(f"the engagements' versions add up to {versions}: every saved action, no more")
        print(f"2 relays delivered {delivered} of {len(events)} events; the handler has {received}")
        all_saved = versions == saved + len(rock.programme())  # creation is version 1
        all_delivered = {e.status for e in events} == {OutboxStatus.DELIVERED}
        pruned = store.prune_outbox(AT.add(days=1))  # the relays' clock stands at AT
        print(f"housekeeping pruned {pruned} delivered events")
        ok = all_saved and all_delivered and received == delivered == len(events) == pruned
        return 0 if ok else 1
    finally:
        store.close()
        engine = sa.create_engine(URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
