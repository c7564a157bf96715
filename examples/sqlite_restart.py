"""Run an engagement on a SQLite file, stop half-way, open the file again and finish it."""

from __future__ import annotations

import pendulum

from mentorflow import rock2017 as rock
from mentorflow.catalog import compiled
from mentorflow.outbox import Relay
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement

FACILITATOR = rock.rep(rock.FACILITATOR_ID)
AT = pendulum.datetime(2017, 9, 1, tz="Europe/Brussels")
plan = rock.programme()[2]

# First run: create the engagement and confirm the match, then "crash".
store = SqlStore.open("rock.sqlite3")
engagement = StoredEngagement.start(
    compiled(plan.method_id),
    store=store,
    id=plan.id,
    title=plan.title,
    organisations=plan.organisations,
    participants=plan.participants,
    actor=FACILITATOR,
    at=AT,
    themes=plan.themes,
    visits=plan.visits,
)
engagement.fire("confirm_match", actor=FACILITATOR, at=AT)
engagement.submit(rock.needs_assessment(), actor=rock.rep("bologna"), at=AT)
print(f"before the restart: {engagement.phase}, version {engagement.version}")
store.close()

# Second run: a fresh process would do exactly this.
store = SqlStore.open("rock.sqlite3")
engagement = StoredEngagement.load(store, plan.id)
print(f"after the restart:  {engagement.phase}, version {engagement.version}")
engagement.submit(rock.mentors_paper(), actor=rock.rep("athens"), at=AT)
engagement.share("mentors_paper", actor=rock.rep("athens"), at=AT)
engagement.approve("mentors_paper", actor=rock.rep("bologna"), at=AT)

# Deliver the stored events, at least once, in order.
delivered = Relay(
    store, lambda event: print("  event", event.sequence, type(event).__name__)
).run_once()
print(f"{len(delivered.delivered)} events delivered from the outbox")
assert engagement.version == 6
store.close()
