"""Personal data over time: what is held about one person, their name erased from an
engagement that goes on, and a retention job that deletes engagements cancelled more than 90
days ago, with the platform's own copy (a read model fed by the relay) forgetting them too.

``SqlStore.delete`` removes everything the store holds of an engagement in one transaction and
adds an ``EngagementDeleted`` event to the outbox, delivered after the engagement's other
events. The id stays taken, so no later engagement can reuse its event ids.
"""

from __future__ import annotations

import pendulum

from mentorflow import DeletedEngagement, EngagementDeleted, Event
from mentorflow import rock2017 as rock
from mentorflow.catalog import compiled
from mentorflow.clock import FrozenClock
from mentorflow.exceptions import ConcurrencyConflict
from mentorflow.outbox import Relay
from mentorflow.personal_data import personal_data
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement

FACILITATOR = rock.rep(rock.FACILITATOR_ID)
clock = FrozenClock(pendulum.datetime(2017, 9, 1, tz="Europe/Brussels"))
store = SqlStore.open("retention.sqlite3", clock=clock)

# The platform's read model: engagement id -> the last thing that happened to it, kept up to
# date by the relay's handler (events arrive in order per engagement).
read_model: dict[str, str] = {}


def update_read_model(event: Event) -> None:
    if isinstance(event, EngagementDeleted):
        read_model.pop(event.engagement_id, None)  # a redelivery finds it gone already
    else:
        read_model[event.engagement_id] = type(event).__name__


def relay() -> None:
    Relay(store, update_read_model, clock=clock).run_once()


def start(plan: rock.EngagementPlan) -> StoredEngagement:
    return StoredEngagement.start(
        compiled(plan.method_id),
        store=store,
        id=plan.id,
        title=plan.title,
        organisations=plan.organisations,
        participants=plan.participants,
        actor=FACILITATOR,
        clock=clock,
    )


turin, bologna = start(rock.programme()[0]), start(rock.programme()[2])
turin.fire("cancel", actor=FACILITATOR, reason="the host city withdrew")
relay()
print("read model after the first relay:", read_model)

# A representative of Bologna asks what the platform holds about them, then for their name to
# be erased; the engagement goes on.
person = rock.rep("bologna")
held = personal_data(store, person)
print(f"{person} takes part in", [e.engagement_id for e in held.engagements])
assert {e.engagement_id for e in held.engagements} == {bologna.id, turin.id}
bologna.erase_participant(person, actor=FACILITATOR)
(shown,) = [p.name for p in bologna.state.participants if p.id == person]
print(f"{person} is now shown as {shown!r}")

# Half a year later, the nightly retention job runs.
clock.advance(days=180)
cut = clock.now().subtract(days=90)
for engagement_id in store.ids(phase="cancelled", last_action_before=cut):
    state = store.load(engagement_id)
    deletion = store.delete(
        engagement_id,
        expected_version=state.version,  # a save in between makes this a conflict
        actor="retention-job",
        reason="cancelled more than 90 days ago",
    )
    print(f"deleted {engagement_id} at version {deletion.version}")
# This process stays open, so SQLite keeps the deleted pages in its log until emptied.
assert store.checkpoint(), "a reader still holds the log; try again later"
relay()
print("read model after the job's relay:  ", read_model)

assert set(read_model) == {bologna.id}
assert read_model[bologna.id] == "ParticipantErased"
assert store.ids() == (bologna.id,)
try:
    store.load(turin.id)
    raise AssertionError("a deleted engagement loaded")
except DeletedEngagement as gone:
    print("load:", gone)
try:
    start(rock.programme()[0])
    raise AssertionError("a deleted engagement's id was used again")
except ConcurrencyConflict as taken:
    print("create again:", taken)
print("history left of the deleted engagement:", store.history(turin.id))
store.close()
