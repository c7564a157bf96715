"""A platform outgrows SQLite: copy its store into PostgreSQL and go on there.

The pilot ran on a SQLite file: engagements in several phases, events delivered and one still
waiting, a city's handler down so one event went dead. ``SqlStore.copy_to`` copies all of it
into an empty PostgreSQL store in one transaction, and the workers go on there: the waiting
event is delivered in its order, the dead one can be replayed, new saves follow.

The database is ``MENTORFLOW_PG_URL`` (default: the local test server). Without a server the
example says so and exits 0, unless ``CI`` is set, where it must run.
"""

from __future__ import annotations

import os
import sys
import uuid

import pendulum
import sqlalchemy as sa

from mentorflow import rock2017 as rock
from mentorflow.catalog import compiled
from mentorflow.clock import FrozenClock
from mentorflow.events import Event
from mentorflow.outbox import Relay
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement

URL = os.environ.get("MENTORFLOW_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
FACILITATOR = rock.rep(rock.FACILITATOR_ID)
clock = FrozenClock(pendulum.datetime(2017, 9, 1, tz="Europe/Brussels"))


def pilot() -> SqlStore:
    """The SQLite store the pilot left behind."""
    store = SqlStore.open("pilot.sqlite3", clock=clock)
    for plan in rock.programme()[:3]:
        engagement = StoredEngagement.start(
            compiled(plan.method_id),
            store=store,
            id=plan.id,
            title=plan.title,
            organisations=plan.organisations,
            participants=plan.participants,
            themes=plan.themes,
            visits=plan.visits,
            actor=FACILITATOR,
            clock=clock,
        )
        engagement.fire("confirm_match", actor=FACILITATOR)

    def bologna_is_down(event: Event) -> None:
        if event.engagement_id == "rock-mentoring-bologna":
            raise ConnectionError("the city's system is down")

    Relay(store, lambda event: None, clock=clock).run_once()
    bologna = StoredEngagement.load(store, "rock-mentoring-bologna", clock=clock)
    bologna.submit(rock.needs_assessment(), actor=rock.rep("bologna"))
    Relay(store, bologna_is_down, clock=clock, max_attempts=1).run_once()  # that event goes dead
    turin = StoredEngagement.load(store, rock.programme()[0].id, clock=clock)
    turin.fire("pause", actor=FACILITATOR, reason="the host city's elections")  # still waiting
    return store


def main() -> int:
    schema = f"mf_example_{uuid.uuid4().hex[:8]}"
    try:
        production = SqlStore.open(URL, schema=schema, clock=clock)
    except sa.exc.OperationalError as error:
        print(f"no PostgreSQL at {URL}: {str(error.orig).splitlines()[0]}")
        return 1 if os.environ.get("CI") else 0
    sqlite = pilot()
    try:
        rows = sqlite.copy_to(production)
        print("copied:", ", ".join(f"{n} {table}" for table, n in rows.items() if n))
        same = all(production.load(i) == sqlite.load(i) for i in sqlite.ids())
        print("every engagement reads back the same on PostgreSQL:", same)
        print("the outbox too:", production.outbox() == sqlite.outbox())

        # The workers now run on PostgreSQL: the waiting event goes out, the dead one is
        # replayed once the city is back, and new saves follow the copied events.
        (dead,) = [e.event_id for e in production.outbox() if e.status == "dead"]
        production.replay(dead)
        turin = StoredEngagement.load(production, rock.programme()[0].id, clock=clock)
        turin.fire("resume", actor=FACILITATOR)
        delivered = Relay(production, lambda e: print("  delivered", e.id), clock=clock).run_once()
        statuses = {e.status for e in production.outbox()}
        print(f"{len(delivered.delivered)} events delivered from PostgreSQL; states: {statuses}")
        return 0 if same and statuses == {"delivered"} else 1
    finally:
        sqlite.close()
        production.close()
        engine = sa.create_engine(URL)
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
