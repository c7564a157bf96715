"""Reminder and overdue events from deadlines, exactly once, driven by the host's ``tick``.

The host calls ``tick(states, now, ledger)`` as often as it likes (every hour, every day, once
after an outage) and persists the ledger it gets back. The policy:

* Each deadline has reminder *moments*: ``lead`` days before its due instant (wall-clock days in
  the host city's zone) for every lead of the ``ReminderPolicy``, and the due instant itself.
* A tick emits, for every moment at or before ``now`` not yet in the ledger, a
  ``DeadlineApproaching`` (if the deadline was not met at that moment) or a ``DeadlineMissed``
  (if it was not met by its due instant). A reminder whose moment passed while the deadline was
  met is settled silently.
* Events carry the moment they were scheduled for as ``at``, not the tick's time, and an id
  derived from engagement, deadline key, due instant and lead, so the same events come out
  whatever the tick granularity; after an outage, the ones missed are emitted once, in order of
  their moment (then engagement id, then deadline key).
* A deadline that moves (its visit's dates changed) is a new deadline: its due instant is part of
  the id, so it gets its own reminders. Reminders already sent for the old date stay sent.
* Closed, cancelled and paused engagements get no reminders; tentative (TBC) visits give no
  deadlines until their dates are fixed.
* Reminder events are not part of an engagement's own event sequence: their ``sequence`` is 0 and
  their ``actor`` is ``"mentorflow"``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import attrs
import pendulum

from mentorflow._read_errors import version_problem
from mentorflow.catalog import compiled
from mentorflow.compiled import CompiledMethod
from mentorflow.events import Event
from mentorflow.exceptions import InvalidDocument, InvalidInput, Problem
from mentorflow.schedule import Condition, Deadline, deadlines, is_live
from mentorflow.state import EngagementState
from mentorflow.verdicts import Severity

__all__ = [
    "DeadlineApproaching",
    "DeadlineMissed",
    "DeadlineReminder",
    "ReminderLedger",
    "ReminderPolicy",
    "Tick",
    "reminder_id",
    "tick",
]

LEDGER_SCHEMA_VERSION = 1
_OLDEST_LEDGER = LEDGER_SCHEMA_VERSION - 1  # readers accept the previous version
SYSTEM_ACTOR = "mentorflow"

MethodLookup = Callable[[EngagementState], CompiledMethod]


@attrs.frozen(kw_only=True)
class DeadlineReminder(Event):
    """What both reminder events carry: the deadline, as it stood when the reminder came due."""

    key: str
    what: str
    condition: Condition
    title: str
    owed_by: str
    owed_by_organisations: tuple[str, ...]
    due: pendulum.DateTime
    severity: Severity
    rule: str
    visit_id: str | None


@attrs.frozen(kw_only=True)
class DeadlineApproaching(DeadlineReminder):
    """A deadline is ``lead_days`` away and not yet met."""

    lead_days: int


@attrs.frozen(kw_only=True)
class DeadlineMissed(DeadlineReminder):
    """A deadline passed unmet."""


@attrs.frozen
class ReminderPolicy:
    """How many days ahead to remind, and which deadlines to remind about."""

    lead_days: tuple[int, ...] = (14, 3)
    severities: frozenset[Severity] = frozenset(Severity)

    def __attrs_post_init__(self) -> None:
        problems = [
            Problem(f"$.lead_days[{i}]", "must be a positive number of days")
            for i, lead in enumerate(self.lead_days)
            if lead <= 0
        ]
        if problems:
            raise InvalidInput("reminder policy", problems)


def reminder_id(deadline: Deadline, lead_days: int | None) -> str:
    """The deterministic id of one reminder: ``lead_days`` None is the missed-deadline event."""
    what = "missed" if lead_days is None else f"approaching-{lead_days}d"
    due_utc = deadline.due.in_tz("UTC").to_iso8601_string()
    return f"{deadline.engagement_id}/{deadline.key}/{due_utc}/{what}"


@attrs.frozen
class ReminderLedger:
    """The ids of every reminder already settled (emitted, or passed while met): persist it."""

    settled: frozenset[str] = frozenset()

    def __contains__(self, reminder: object) -> bool:
        return reminder in self.settled

    def __len__(self) -> int:
        return len(self.settled)

    def with_settled(self, ids: Iterable[str]) -> ReminderLedger:
        """A ledger that also holds ``ids``."""
        return ReminderLedger(self.settled | frozenset(ids))

    def forget(self, engagement_id: str) -> ReminderLedger:
        """Drop an engagement's entries, e.g. once it is closed and archived."""
        prefix = f"{engagement_id}/"
        return ReminderLedger(frozenset(i for i in self.settled if not i.startswith(prefix)))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form with a schema version; ids sorted, so equal ledgers dump equal."""
        return {"schema_version": LEDGER_SCHEMA_VERSION, "settled": sorted(self.settled)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReminderLedger:
        """Read ``to_dict`` output back, of this version or the previous one.

        Raises InvalidDocument naming every bad field.
        """
        if not isinstance(data, Mapping):
            raise InvalidDocument("reminder ledger", [Problem("$", "expected an object")])
        # Version 0 ledgers were written before schema_version existed, in the same layout.
        version = version_problem(data, _OLDEST_LEDGER, LEDGER_SCHEMA_VERSION)
        problems = [version] if version is not None else []
        settled = data.get("settled")
        if not isinstance(settled, list):
            problems.append(Problem("$.settled", "expected a list of reminder ids"))
            settled = []
        problems += [
            Problem(f"$.settled[{i}]", "expected a string")
            for i, s in enumerate(settled)
            if not isinstance(s, str)
        ]
        if problems:
            raise InvalidDocument("reminder ledger", problems)
        return cls(frozenset(settled))


@attrs.frozen
class Tick:
    """What one tick produced: the new events, in order, and the ledger to persist."""

    events: tuple[DeadlineReminder, ...]
    ledger: ReminderLedger


def _moments(
    deadline: Deadline, policy: ReminderPolicy
) -> Iterator[tuple[pendulum.DateTime, int | None]]:
    for lead in sorted(set(policy.lead_days), reverse=True):
        yield deadline.due.subtract(days=lead), lead
    yield deadline.due, None


def _event(deadline: Deadline, lead: int | None, at: pendulum.DateTime) -> DeadlineReminder:
    fields = {
        "id": reminder_id(deadline, lead),
        "engagement_id": deadline.engagement_id,
        "sequence": 0,
        "at": at,
        "actor": SYSTEM_ACTOR,
        "key": deadline.key,
        "what": deadline.what,
        "condition": deadline.condition,
        "title": deadline.title,
        "owed_by": deadline.owed_by,
        "owed_by_organisations": deadline.owed_by_organisations,
        "due": deadline.due,
        "severity": deadline.severity,
        "rule": deadline.rule,
        "visit_id": deadline.visit_id,
    }
    if lead is None:
        return DeadlineMissed(**fields)  # type: ignore[arg-type]  # fields typed by the record
    return DeadlineApproaching(lead_days=lead, **fields)  # type: ignore[arg-type]


def _default_lookup(state: EngagementState) -> CompiledMethod:
    return compiled(state.method_id)


def tick(
    states: EngagementState | Iterable[EngagementState],
    now: pendulum.DateTime,
    ledger: ReminderLedger,
    *,
    policy: ReminderPolicy | None = None,
    methods: MethodLookup = _default_lookup,
) -> Tick:
    """Every reminder due by ``now`` and not yet in ``ledger``, once, in order; and the new ledger.

    ``methods`` finds an engagement's compiled method (default: the built-in catalogue).
    """
    policy = policy or ReminderPolicy()
    snapshots = (states,) if isinstance(states, EngagementState) else tuple(states)
    due_now: list[tuple[pendulum.DateTime, str, str, int, DeadlineReminder]] = []
    settled: list[str] = []
    for state in snapshots:
        method = methods(state)
        if not is_live(method, state) or state.is_paused:
            continue  # on hold: nothing nags; missed ones come out once it resumes
        for deadline in deadlines(method, state):
            if deadline.severity not in policy.severities:
                continue
            for rank, (moment, lead) in enumerate(_moments(deadline, policy)):
                if moment > now:
                    continue
                rid = reminder_id(deadline, lead)
                if rid in ledger:
                    continue
                settled.append(rid)
                met = deadline.met_by(moment)
                if not met:
                    event = _event(deadline, lead, moment)
                    due_now.append((moment, deadline.engagement_id, deadline.key, rank, event))
    due_now.sort(key=lambda item: item[:4])
    return Tick(tuple(item[4] for item in due_now), ledger.with_settled(settled))
