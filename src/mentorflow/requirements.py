"""Requirements that gate triggers, and their evaluation into findings for a verdict."""

from __future__ import annotations

from typing import TypeAlias

# The requirement families live in private modules; this module is their one public home.
from mentorflow._deliverable_requirements import (
    ActionsReviewed,
    Approved,
    Delivered,
    LeadTime,
    PageCount,
)
from mentorflow._due import Anchor, Due
from mentorflow._due import local_deadline as local_deadline  # public name before the split
from mentorflow._programme_requirements import (
    InPersonVisit,
    MaxThemes,
    NextVisitPlanned,
    NoVisitsLeft,
    PrerequisitesClosed,
    ProgrammeShape,
    TeamComposition,
    ThemesDefined,
    TimeSinceFirstVisit,
    VisitSlot,
)
from mentorflow._requirement_context import Context
from mentorflow._visit_requirements import (
    AgendaIncludes,
    VisitDatesFixed,
    VisitLength,
    VisitPrepared,
)

__all__ = [
    "ActionsReviewed",
    "AgendaIncludes",
    "Anchor",
    "Approved",
    "Context",
    "Delivered",
    "Due",
    "InPersonVisit",
    "LeadTime",
    "MaxThemes",
    "NextVisitPlanned",
    "NoVisitsLeft",
    "PageCount",
    "PrerequisitesClosed",
    "ProgrammeShape",
    "Requirement",
    "TeamComposition",
    "ThemesDefined",
    "TimeSinceFirstVisit",
    "VisitDatesFixed",
    "VisitLength",
    "VisitPrepared",
    "VisitSlot",
]

Requirement: TypeAlias = (
    Delivered
    | Approved
    | VisitPrepared
    | VisitDatesFixed
    | AgendaIncludes
    | VisitLength
    | ThemesDefined
    | MaxThemes
    | InPersonVisit
    | TeamComposition
    | LeadTime
    | PageCount
    | NextVisitPlanned
    | NoVisitsLeft
    | ProgrammeShape
    | PrerequisitesClosed
    | TimeSinceFirstVisit
    | ActionsReviewed
)

REQUIREMENT_TYPES: dict[str, type[Requirement]] = {cls.type: cls for cls in Requirement.__args__}
