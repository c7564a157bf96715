"""Each city's to-do list across the ROCK 2017-18 programme, as a platform's home page shows it.

``SqlStore.owed_by`` reads an index of who owes each open deadline, kept in the same
transaction as every save: a city sees what it owes in every engagement it takes part in,
earliest first, and an item leaves the list in the save that meets it.
"""

from __future__ import annotations

import pendulum

from mentorflow import rock2017 as rock
from mentorflow.catalog import compiled
from mentorflow.clock import FrozenClock
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement

FACILITATOR = rock.rep(rock.FACILITATOR_ID)
clock = FrozenClock(pendulum.datetime(2017, 9, 1, tz="Europe/Brussels"))
store = SqlStore.open("city_todo.sqlite3", clock=clock)

for plan in rock.programme():
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


def show(city: str) -> list[str]:
    """The city's list as lines; returns the deadline keys, in order."""
    now = clock.now()
    owed = store.owed_by(city)
    print(f"{city} owes {len(owed)} item(s) at {now.to_date_string()}:")
    for item in owed:
        late = "OVERDUE " if item.due < now else ""
        print(f"  {late}{item.due.to_date_string()} {item.engagement_id}: {item.title}")
    return [item.key for item in owed]


# Bologna takes part in four engagements: replicator in three work-shadowing visits and host
# of its mentoring visit, so its list spans all of them.
clock.advance(days=20)
bologna_list = show("bologna")
assert len({d.engagement_id for d in store.owed_by("bologna")}) == 4

# Athens, one of Bologna's role-model cities, writes and shares the mentors' paper.
athens_list = show("athens")
assert athens_list[:2] == ["mentors_paper.shared", "mentors_paper"]
mentoring = StoredEngagement.load(store, "rock-mentoring-bologna", clock=clock)
mentoring.submit(rock.needs_assessment(), actor=rock.rep("bologna"))
mentoring.submit(rock.mentors_paper(), actor=rock.rep("athens"))
mentoring.share("mentors_paper", actor=rock.rep("athens"))
after = show("athens")
assert "mentors_paper.shared" not in after  # shared: off the list, in that same save
assert "mentors_paper" in after  # until Bologna approves it (the deadline's condition)
mentoring.approve("mentors_paper", actor=rock.rep("bologna"))
assert "mentors_paper" not in show("athens")
store.close()
