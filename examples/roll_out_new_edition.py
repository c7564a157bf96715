"""A new edition of the ROCK work-shadowing method, rolled out to the running engagements.

The network adds a rule for the 2018 calls: the rapporteur's article must be in before the
match is confirmed. A dry run says which engagements can take the new edition and why the
others cannot; the roll-out then moves those that can, each in a save of its own with a
``migrate`` history entry and a ``MethodMigrated`` event for the platform. An engagement past
the match stays on its version, and a cancelled one keeps the version it ran.
"""

from __future__ import annotations

import attrs
import pendulum

from mentorflow import rock2017 as rock
from mentorflow.catalog import METHODS, compiled
from mentorflow.clock import FrozenClock
from mentorflow.requirements import Delivered
from mentorflow.rollout import RolloutStatus, roll_out
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement

FACILITATOR = rock.rep(rock.FACILITATOR_ID)
clock = FrozenClock(pendulum.datetime(2017, 9, 1, tz="Europe/Brussels"))
store = SqlStore.open("new_edition.sqlite3", clock=clock)

turin, eindhoven, _, lyon, *_ = rock.programme()  # the three work-shadowing visits
for plan in (turin, eindhoven, lyon):
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
        clock=clock,
    )
StoredEngagement.load(store, eindhoven.id, clock=clock).fire("confirm_match", actor=FACILITATOR)
StoredEngagement.load(store, lyon.id, clock=clock).fire(
    "cancel", actor=FACILITATOR, reason="the host city withdrew"
)

# The 2018 edition: version 2, with the article required at the match.
current = METHODS["rock.work_shadowing"]()
edition = attrs.evolve(
    current,
    version=2,
    description="2018 calls: the rapporteur's article comes before the match",
    triggers=tuple(
        attrs.evolve(t, requirements=(*t.requirements, Delivered("article", "R-COMM-1")))
        if t.name == "confirm_match"
        else t
        for t in current.triggers
    ),
)

clock.advance(days=30)
preview = roll_out(store, edition, actor=FACILITATOR, dry_run=True)
print("dry run:", preview.counts())
print(preview.explain())

rollout = roll_out(store, edition, actor=FACILITATOR, reason="2018 calls")
print(rollout.explain())

assert [e.engagement_id for e in rollout.with_status(RolloutStatus.MIGRATED)] == [turin.id]
assert [e.engagement_id for e in rollout.with_status(RolloutStatus.REFUSED)] == [eindhoven.id]
assert [e.engagement_id for e in rollout.with_status(RolloutStatus.ENDED)] == [lyon.id]
moved = StoredEngagement.load(store, turin.id)
assert moved.method.version == 2
print(f"{turin.id}: {moved.state.history[-1].subject} ({moved.state.history[-1].reason})")
# Run again: nothing moves twice; the ones left behind are listed again, with their reasons.
again = roll_out(store, edition, actor=FACILITATOR)
assert again.with_status(RolloutStatus.MIGRATED) == ()
assert StoredEngagement.load(store, turin.id).version == moved.version
store.close()
