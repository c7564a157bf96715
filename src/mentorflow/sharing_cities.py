"""The Eurocities page's Sharing Cities example as data: who took which practice from whom.

From the seed's "Impact" section: Burgas took environment sensors from Milan and Lisbon and
e-vehicle charging on lampposts from London; Warsaw took Lisbon's large-scale deployment of
charging stations; Lisbon took Milan's digital islands. The roadmaps around those links
(owners, indicators, learning points, internal notes) are illustrative.
"""

from __future__ import annotations

from mentorflow.deliverables import (
    Action,
    CostClass,
    Horizon,
    Indicator,
    LearningPoint,
    LocalRoadmap,
    Passage,
    PracticeRef,
)
from mentorflow.model import Side

__all__ = [
    "CITY_NAMES",
    "DIGITAL_ISLANDS",
    "EV_CHARGING_AT_SCALE",
    "LAMPPOST_CHARGING",
    "burgas_roadmap",
    "lisbon_roadmap",
    "roadmaps",
    "warsaw_roadmap",
]

CITY_NAMES = {
    "burgas": "Burgas",
    "lisbon": "Lisbon",
    "london": "London",
    "milan": "Milan",
    "warsaw": "Warsaw",
}

LAMPPOST_CHARGING = PracticeRef("london", "e-vehicle charging on lampposts")
ENVIRONMENT_SENSORS_MILAN = PracticeRef("milan", "environment sensors")
ENVIRONMENT_SENSORS_LISBON = PracticeRef("lisbon", "environment sensors")
EV_CHARGING_AT_SCALE = PracticeRef("lisbon", "EV charging at scale")
DIGITAL_ISLANDS = PracticeRef("milan", "digital islands")


def burgas_roadmap() -> LocalRoadmap:
    """Burgas' smart-lamppost street, with the practices it took from London, Milan and Lisbon."""
    return LocalRoadmap(
        learning_points=(
            LearningPoint(
                Side.MENTEE, "A lamppost can carry far more than light: sensors, Wi-Fi, charging"
            ),
            LearningPoint(Side.MENTEE, "Start on one street, measure, then scale"),
            LearningPoint(
                Side.MENTOR, "A smaller city's single-street pilot shows our rollout's weak spots"
            ),
        ),
        indicators=(
            Indicator("lampposts upgraded", "lampposts", baseline=0, target=40),
            Indicator("energy use of street lighting", "MWh/year", baseline=310, target=190),
            Indicator("free Wi-Fi sessions", "sessions/month", baseline=0, target=5000),
            Indicator(
                "maintenance contract cost", "EUR/year", baseline=52000, target=47000, internal=True
            ),
        ),
        actions=(
            Action(
                "b1",
                "Energy-efficient smart lampposts on one street",
                Horizon.SHORT,
                CostClass.FUNDED,
                "Municipal lighting department",
                funding="Sharing Cities (Horizon 2020)",
                objective="Cut lighting energy use and host smart services on the same poles",
                milestones=("street chosen", "poles installed", "services switched on"),
                indicators=("lampposts upgraded", "energy use of street lighting"),
                stakeholders=("utility company", "district council"),
            ),
            Action(
                "b2",
                "Charging points for e-vehicles, wheelchairs and mobile devices on the lampposts",
                Horizon.MEDIUM,
                CostClass.FUNDED,
                "Transport department",
                funding="Sharing Cities (Horizon 2020)",
                expected_result="Charging within reach on the whole street",
                inspired_by=(LAMPPOST_CHARGING,),
                stakeholders=("disability associations",),
            ),
            Action(
                "b3",
                "Environment monitoring sensors on the lampposts",
                Horizon.MEDIUM,
                CostClass.FUNDED,
                "Environment department",
                funding="Sharing Cities (Horizon 2020)",
                outputs=("open air-quality data feed",),
                inspired_by=(ENVIRONMENT_SENSORS_MILAN, ENVIRONMENT_SENSORS_LISBON),
            ),
            Action(
                "b4",
                "Free internet zone and info-media system on the street",
                Horizon.SHORT,
                CostClass.NO_COST,
                "Digital services office",
                indicators=("free Wi-Fi sessions",),
                risk="Vendor lock-in on the info-media platform",
                internal_fields=frozenset({"risk"}),
            ),
            Action(
                "b5",
                "Smart waste management of underground containers",
                Horizon.LONG,
                CostClass.FUNDED,
                "Waste management company",
                funding="municipal budget 2020",
                internal=True,
            ),
        ),
        passages=(
            Passage(
                "Video surveillance on the poles needs the data-protection officer's opinion.",
                internal=True,
            ),
            Passage(
                "The street becomes the city's test bed before a citywide tender.",
                topic="Next steps",
            ),
        ),
    )


def warsaw_roadmap() -> LocalRoadmap:
    """Warsaw's charging-station rollout, after Lisbon's large-scale deployment."""
    return LocalRoadmap(
        learning_points=(
            LearningPoint(
                Side.MENTEE, "Plan the grid's peak demand before the stations, not after"
            ),
            LearningPoint(
                Side.MENTOR, "Our demand-management rules are worth writing down for others"
            ),
        ),
        indicators=(Indicator("public charging points", "points", baseline=40, target=400),),
        actions=(
            Action(
                "w1",
                "Large-scale deployment of charging stations with grid demand management",
                Horizon.LONG,
                CostClass.FUNDED,
                "Roads authority",
                funding="national clean-transport fund",
                inspired_by=(EV_CHARGING_AT_SCALE,),
            ),
        ),
    )


def lisbon_roadmap() -> LocalRoadmap:
    """Lisbon's digital islands, after Milan's."""
    return LocalRoadmap(
        learning_points=(
            LearningPoint(
                Side.MENTEE, "A digital island bundles services residents already ask for"
            ),
            LearningPoint(
                Side.MENTOR, "Lisbon's neighbourhood partners made us rethink our siting"
            ),
        ),
        indicators=(Indicator("digital islands open", "sites", baseline=0, target=5),),
        actions=(
            Action(
                "l1",
                "Digital islands in regenerated neighbourhoods",
                Horizon.MEDIUM,
                CostClass.FUNDED,
                "Innovation department",
                funding="Sharing Cities (Horizon 2020)",
                inspired_by=(DIGITAL_ISLANDS,),
            ),
        ),
    )


def roadmaps() -> dict[str, LocalRoadmap]:
    """The three roadmaps of the example, by the city that owns each."""
    return {"burgas": burgas_roadmap(), "warsaw": warsaw_roadmap(), "lisbon": lisbon_roadmap()}
