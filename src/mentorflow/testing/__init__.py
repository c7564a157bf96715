"""Tools for testing code built on mentorflow: strategies, a generated state machine, recorders.

Needs hypothesis: ``pip install mentorflow[testing]``.
"""

from __future__ import annotations

try:
    import hypothesis as _hypothesis  # noqa: F401 - fail early, with the fix in the message
except ImportError as error:  # pragma: no cover - hypothesis is installed wherever tests run
    raise ImportError(
        "mentorflow.testing needs hypothesis; install it with `pip install mentorflow[testing]`"
    ) from error

from mentorflow.clock import FrozenClock
from mentorflow.testing.recorder import EventRecorder
from mentorflow.testing.stateful import STRANGER, method_state_machine
from mentorflow.testing.strategies import (
    Team,
    actions,
    agenda_sessions,
    agendas,
    complete_agendas,
    dates,
    deliverable_contents,
    findings,
    follow_up_reviews,
    identifiers,
    indicators,
    instants,
    invalid_content,
    learning_points,
    needs,
    organisations,
    participants,
    recommendations,
    role_labels,
    teams,
    texts,
    themes,
    valid_content,
    verdicts,
    visit_windows,
    visits,
)

__all__ = [
    "EventRecorder",
    "FrozenClock",
    "STRANGER",
    "Team",
    "actions",
    "agenda_sessions",
    "agendas",
    "complete_agendas",
    "dates",
    "deliverable_contents",
    "findings",
    "follow_up_reviews",
    "identifiers",
    "indicators",
    "instants",
    "invalid_content",
    "learning_points",
    "method_state_machine",
    "needs",
    "organisations",
    "participants",
    "recommendations",
    "role_labels",
    "teams",
    "texts",
    "themes",
    "valid_content",
    "verdicts",
    "visit_windows",
    "visits",
]
