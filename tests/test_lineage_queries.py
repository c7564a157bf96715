"""Practice-transfer lineage: who took which practice from whom, and what spread furthest."""

from __future__ import annotations

from collections import Counter

import attrs
import pendulum
from hypothesis import given
from hypothesis import strategies as st

from mentorflow import rock2017 as rock
from mentorflow import sharing_cities as sc
from mentorflow.deliverables import Action, CostClass, Horizon, LocalRoadmap, PracticeRef
from mentorflow.lineage import Lineage
from mentorflow.state import DeliverableRecord, DeliverableStatus


def test_burgas_took_from_london_milan_and_lisbon() -> None:
    """The Eurocities example: Burgas' lamppost charging from London, sensors from Milan and Lisbon."""
    lineage = Lineage.from_roadmaps(sc.roadmaps())
    assert [a.source.practice for a in lineage.taken_from("burgas", "london")] == [
        "e-vehicle charging on lampposts"
    ]
    assert [a.source.practice for a in lineage.taken_from("burgas", "milan")] == [
        "environment sensors"
    ]
    assert [a.source.practice for a in lineage.taken_from("burgas", "lisbon")] == [
        "environment sensors"
    ]
    assert lineage.sources_of("burgas") == ("london", "milan", "lisbon")


def test_warsaw_and_lisbon_links() -> None:
    """Warsaw took Lisbon's EV charging at scale; Lisbon took Milan's digital islands."""
    lineage = Lineage.from_roadmaps(sc.roadmaps())
    assert [a.source for a in lineage.taken_from("warsaw", "lisbon")] == [sc.EV_CHARGING_AT_SCALE]
    assert [a.source for a in lineage.taken_from("lisbon", "milan")] == [sc.DIGITAL_ISLANDS]
    assert lineage.taken_from("warsaw", "milan") == ()


def test_milan_and_lisbon_reached_most_cities() -> None:
    """Milan's and Lisbon's practices each reached two cities, London's one."""
    assert Lineage.from_roadmaps(sc.roadmaps()).mentors_by_reach() == (
        ("lisbon", 2),
        ("milan", 2),
        ("london", 1),
    )


def test_internal_actions_stay_out_of_a_public_lineage() -> None:
    """R-FOLLOW-5: an internal action's inspiration is not shown in a public lineage."""
    road = sc.burgas_roadmap()
    hidden = attrs.evolve(road.actions[1], internal=True)
    roads = {"burgas": attrs.evolve(road, actions=(road.actions[0], hidden, *road.actions[2:]))}
    assert Lineage.from_roadmaps(roads, include_internal=False).taken_from("burgas", "london") == ()
    assert len(Lineage.from_roadmaps(roads).taken_from("burgas", "london")) == 1


def test_lineage_from_engagements_uses_the_roadmap_owner() -> None:
    """The adopting city is the city of whoever submitted the roadmap."""
    plan = rock.programme()[2]
    state = plan.start(at=pendulum.datetime(2017, 9, 1, tz="UTC")).state
    road = attrs.evolve(
        rock.roadmap(),
        actions=(
            attrs.evolve(
                rock.roadmap().actions[0], inspired_by=(PracticeRef("liverpool", "land trust"),)
            ),
        ),
    )
    # Keep the walk short: put the submitted roadmap straight into a snapshot.
    snapshot = attrs.evolve(
        state,
        deliverables={
            "roadmap": DeliverableRecord(
                "roadmap",
                None,
                road,
                1,
                DeliverableStatus.APPROVED,
                rock.rep("bologna"),
                state.history[0].at,
            )
        },
    )
    lineage = Lineage.from_states([snapshot])
    assert [(a.city_id, a.engagement_id) for a in lineage.adoptions] == [("bologna", snapshot.id)]


CITIES = ["c1", "c2", "c3", "c4"]
PRACTICES = [PracticeRef(c, p) for c in ("m1", "m2") for p in ("x", "y")]


@given(
    st.dictionaries(
        st.sampled_from(CITIES),
        st.lists(st.lists(st.sampled_from(PRACTICES), max_size=3), min_size=1, max_size=3),
        max_size=4,
    )
)
def test_reach_counts_distinct_adopting_cities(plan: dict[str, list[list[PracticeRef]]]) -> None:
    """A practice's reach is the number of distinct cities whose actions name it, widest first."""
    roads = {
        city: LocalRoadmap(
            rock.roadmap().learning_points,
            rock.roadmap().indicators,
            tuple(
                Action(
                    f"a{i}",
                    "act",
                    Horizon.SHORT,
                    CostClass.NO_COST,
                    "office",
                    inspired_by=tuple(refs),
                )
                for i, refs in enumerate(actions)
            ),
        )
        for city, actions in plan.items()
    }
    reach = Lineage.from_roadmaps(roads).practices_by_reach()
    expected = Counter(
        ref for city, actions in plan.items() for ref in {r for refs in actions for r in refs}
    )
    assert {r.practice: r.count for r in reach} == dict(expected)
    assert [r.count for r in reach] == sorted((r.count for r in reach), reverse=True)
    top = Lineage.from_roadmaps(roads).most_adopted(1)
    assert all(r.count == max(expected.values(), default=0) for r in top)
