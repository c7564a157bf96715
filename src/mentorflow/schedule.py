"""Deadlines relative to domain dates: what each engagement owes, by when, in the host's time.

A method declares its deadlines already: a deliverable's ``due``, and the ``due`` of the
``Delivered`` / ``Approved`` / ``LeadTime`` requirements that gate its triggers. This module
reads them off the method (``deadline_rules``) and resolves them against an engagement's
visits (``deadlines``), in the host city's time zone, as absolute instants.

Policies, stated once:

* A tentative (TBC) or undated anchor visit gives no deadline at all until its dates are fixed.
* Per-visit deliverables get one deadline per planned visit. Engagement-wide deliverables anchor
  "before" rules on the first visit and "after" rules on the last one.
* A deadline is *met* from the moment its condition holds in the snapshot: the first submission
  (``submitted``), the share of the current version (``shared``), the last approval of the
  current version (``approved``), or the first firing of a trigger (``fired``). It is *missed*
  when it was not met by its due instant; meeting it late does not undo a miss.
* Beyond what the requirements say, two deadlines are derived from the method's parameters:
  a shared-first draft is due shared ``paper_comment_days`` before it must be agreed (R-PREP-2),
  and a trigger gated by ``TimeSinceFirstVisit`` is due ``follow_up_after_months`` after the
  first visit (R-PROG-8). Both are soft.
"""

from __future__ import annotations

import enum
import math
from typing import TYPE_CHECKING

import attrs
import pendulum

from mentorflow.model import Party, Role, Visit
from mentorflow.requirements import (
    Anchor,
    Approved,
    Context,
    Delivered,
    Due,
    LeadTime,
    Requirement,
    TimeSinceFirstVisit,
)
from mentorflow.state import DeliverableRecord, DeliverableStatus, EngagementState
from mentorflow.verdicts import Finding, Severity

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from mentorflow.compiled import CompiledMethod
    from mentorflow.methods import DeliverableSpec, Method

__all__ = [
    "Condition",
    "Deadline",
    "DeadlineRule",
    "deadline_rules",
    "deadlines",
    "due",
    "is_live",
    "overdue_findings",
]

#: Rule id for a deliverable's own ``due`` when no requirement names a rule for it.
DUE_RULE = "MF-DUE"

_NO_RELATED: dict[str, str] = {}


class Condition(enum.StrEnum):
    """What meets a deadline."""

    SUBMITTED = "submitted"
    SHARED = "shared"
    APPROVED = "approved"
    FIRED = "fired"


@attrs.frozen
class DeadlineRule:
    """One deadline a method declares, relative to a visit; resolved per engagement."""

    what: str
    condition: Condition
    due: Due
    severity: Severity
    rule: str
    owner: Party
    title: str
    per_visit: bool = False
    suffix: str = ""


@attrs.frozen
class Deadline:
    """A resolved deadline: what is owed, by whom, by which instant (in the host city's zone)."""

    key: str
    engagement_id: str
    what: str
    condition: Condition
    title: str
    owed_by: str
    owed_by_organisations: tuple[str, ...]
    due: pendulum.DateTime
    severity: Severity
    rule: str
    visit_id: str | None = None
    met_at: pendulum.DateTime | None = None

    @property
    def met(self) -> bool:
        """Whether the condition holds in the snapshot the deadline was computed from."""
        return self.met_at is not None

    def met_by(self, instant: pendulum.DateTime) -> bool:
        """Whether the condition already held at ``instant``."""
        return self.met_at is not None and self.met_at <= instant

    def missed_at(self, now: pendulum.DateTime) -> bool:
        """Whether, seen at ``now``, the due instant passed with the deadline unmet."""
        return self.due <= now and not self.met_by(self.due)


# -- reading deadlines off a method -----------------------------------------------------------

_Dated = Delivered | Approved | LeadTime


def deadline_rules(method: Method) -> tuple[DeadlineRule, ...]:
    """Every deadline ``method`` declares, in declaration order."""
    requirements = [r for t in method.triggers for r in t.requirements]
    rules: list[DeadlineRule] = []
    for spec in method.deliverables:
        rules.extend(_deliverable_rules(method, spec, requirements))
    for trigger in method.triggers:
        for requirement in trigger.requirements:
            if isinstance(requirement, TimeSinceFirstVisit):
                rules.append(
                    DeadlineRule(
                        what=trigger.name,
                        condition=Condition.FIRED,
                        due=Due(
                            Anchor.FIRST_VISIT_END, months=method.parameters.follow_up_after_months
                        ),
                        severity=requirement.severity,
                        rule=requirement.rule,
                        owner=trigger.parties[0],
                        title=trigger.title or trigger.name,
                    )
                )
    return tuple(rules)


def _deliverable_rules(
    method: Method, spec: DeliverableSpec, requirements: Iterable[Requirement]
) -> Iterator[DeadlineRule]:
    # Requirements and the spec that name the same due instant describe one deadline.
    groups: dict[Due, list[_Dated]] = {}
    if spec.due is not None:
        groups[spec.due] = []
    undated: list[_Dated] = []
    for requirement in requirements:
        if isinstance(requirement, _Dated) and requirement.deliverable == spec.kind:
            if requirement.due is None:
                undated.append(requirement)
            else:
                groups.setdefault(requirement.due, []).append(requirement)
    if spec.due is not None:
        groups[spec.due].extend(undated)
    for number, (due_at, contributors) in enumerate(groups.items()):
        condition = (
            Condition.APPROVED
            if any(isinstance(r, Approved) for r in contributors)
            else Condition.SUBMITTED
        )
        lead_times = [r for r in contributors if isinstance(r, LeadTime)]
        if lead_times:  # the requirement about timing decides how hard the time is
            severity = lead_times[0].severity
        elif contributors and all(r.severity is Severity.SOFT for r in contributors):
            severity = Severity.SOFT
        else:
            severity = Severity.HARD
        rule = DeadlineRule(
            what=spec.kind,
            condition=condition,
            due=due_at,
            severity=severity,
            rule=contributors[0].rule if contributors else DUE_RULE,
            owner=spec.owner,
            title=spec.title,
            per_visit=spec.per_visit,
            suffix="" if number == 0 else f"~{number}",
        )
        yield rule
        if spec.shared_first and condition is Condition.APPROVED:
            window = method.parameters.paper_comment_days
            yield attrs.evolve(
                rule,
                condition=Condition.SHARED,
                due=attrs.evolve(due_at, days=due_at.days - window),
                severity=Severity.SOFT,
                title=f"{spec.title} (shared for {window} days of comments)",
                suffix=f"{rule.suffix}.shared",
            )


# -- resolving them for an engagement ---------------------------------------------------------


def is_live(method: CompiledMethod, state: EngagementState) -> bool:
    """Whether the engagement still owes anything: active or paused, not closed or cancelled."""
    return state.phase in method.active_phases or state.is_paused


_SNAPSHOTS_REMEMBERED = 64


def deadlines(method: CompiledMethod, state: EngagementState) -> tuple[Deadline, ...]:
    """Every deadline of the engagement whose anchor date is fixed, ordered by due instant.

    Snapshots are immutable, so the answer is remembered for the last few snapshots seen:
    ``check()`` asks for overdue items on every call, often on the same snapshot.
    """
    return _remembered(method, state)[0]


def _remembered(
    method: CompiledMethod, state: EngagementState
) -> tuple[tuple[Deadline, ...], tuple[tuple[float, float, Finding], ...]]:
    # The deadlines of a snapshot, with (due, met) as POSIX seconds for cheap comparisons and
    # the overdue finding each would give: none of it depends on the time of asking.
    memo = method.derived.setdefault("deadlines_by_snapshot", {})
    assert isinstance(memo, dict)
    hit = memo.get(id(state))
    if hit is not None and hit[0] is state:
        return hit[1]  # type: ignore[no-any-return]
    found = _compute_deadlines(method, state)
    stamps = tuple(
        (
            d.due.timestamp(),
            d.met_at.timestamp() if d.met_at is not None else math.inf,
            _overdue_finding(d),
        )
        for d in found
    )
    if len(memo) >= _SNAPSHOTS_REMEMBERED:
        memo.pop(next(iter(memo)))
    memo[id(state)] = (state, (found, stamps))  # the snapshot is kept: its id cannot be reused
    return found, stamps


def _compute_deadlines(method: CompiledMethod, state: EngagementState) -> tuple[Deadline, ...]:
    found: list[Deadline] = []
    for rule in _rules_of(method):
        for visit in _anchor_visits(rule, state):
            resolved = _resolve(method, state, rule, visit)
            if resolved is not None:
                found.append(resolved)
    return tuple(sorted(found, key=lambda d: (d.due, d.key)))


def _rules_of(method: CompiledMethod) -> tuple[DeadlineRule, ...]:
    # Derived once per compiled method: verdicts ask for overdue items on every check.
    rules = method.derived.get("deadline_rules")
    if rules is None:
        rules = method.derived["deadline_rules"] = deadline_rules(method.method)
    return rules  # type: ignore[return-value]  # only this function writes the key


def _anchor_visits(rule: DeadlineRule, state: EngagementState) -> tuple[Visit | None, ...]:
    if not state.visits:
        return ()
    if rule.per_visit:
        return state.visits
    if rule.due.anchor is Anchor.VISIT_END:
        return (state.visits[-1],)
    return (state.visits[0],)


def _resolve(
    method: CompiledMethod, state: EngagementState, rule: DeadlineRule, visit: Visit | None
) -> Deadline | None:
    instant = rule.due.resolve(state, visit)
    if instant is None:
        return None
    visit_id = visit.id if visit is not None and rule.per_visit else None
    # Describe the owner as seen from the anchor visit (host and visitors are per visit).
    index = state.visits.index(visit) if visit is not None else state.current_visit
    seen_from = attrs.evolve(state, current_visit=index)
    ctx = Context(seen_from, method.method, instant, _NO_RELATED)
    return Deadline(
        key=f"{rule.what}{rule.suffix}" + (f"@{visit_id}" if visit_id else ""),
        engagement_id=state.id,
        what=rule.what,
        condition=rule.condition,
        title=rule.title,
        owed_by=ctx.describe(rule.owner),
        owed_by_organisations=_organisations(seen_from, rule.owner, visit),
        due=instant,
        severity=rule.severity,
        rule=rule.rule,
        visit_id=visit_id,
        met_at=_met_at(state, rule, visit_id),
    )


def _organisations(state: EngagementState, party: Party, visit: Visit | None) -> tuple[str, ...]:
    if party is Party.HOST:
        return (visit.host,) if visit is not None else ()
    if party is Party.VISITORS:
        return visit.visitors if visit is not None else ()
    return state.organisations_with(Role(party.value))


def _met_at(
    state: EngagementState, rule: DeadlineRule, visit_id: str | None
) -> pendulum.DateTime | None:
    if rule.condition is Condition.FIRED:
        return next(
            (h.at for h in state.history if h.action == "fire" and h.subject == rule.what), None
        )
    record = state.deliverable(rule.what, visit_id)
    if record is None:
        return None
    if rule.condition is Condition.SUBMITTED:
        return _first_submitted(state, record, per_visit=rule.per_visit)
    if rule.condition is Condition.SHARED:
        if record.status is DeliverableStatus.SUBMITTED:
            return None
        shares = (
            h.at
            for h in state.history
            if h.action == "share" and h.subject == rule.what and h.at >= record.submitted_at
        )
        return next(shares, record.submitted_at)
    if record.status is not DeliverableStatus.APPROVED:
        return None
    return max((a.at for a in record.approvals), default=record.submitted_at)


def _first_submitted(
    state: EngagementState, record: DeliverableRecord, *, per_visit: bool
) -> pendulum.DateTime:
    # A later version does not make a timely first one late; per-visit kinds share one history
    # subject across visits, so there the latest version's time is the safe reading.
    if record.version == 1 or per_visit:
        return record.submitted_at
    return min(
        (h.at for h in state.history if h.action == "submit" and h.subject == record.kind),
        default=record.submitted_at,
    )


# -- questions a host asks ---------------------------------------------------------------------


def due(
    method: CompiledMethod, state: EngagementState, now: pendulum.DateTime, *, within_days: int = 0
) -> tuple[Deadline, ...]:
    """Unmet deadlines due by ``now`` plus ``within_days``, earliest first; none once closed."""
    if not is_live(method, state):
        return ()
    horizon = now.add(days=within_days) if within_days else now
    return tuple(d for d in deadlines(method, state) if d.due <= horizon and not d.met_by(now))


def _overdue_finding(d: Deadline) -> Finding:
    return Finding(
        rule=d.rule,
        message=f"{d.title} overdue since {d.due.to_iso8601_string()}",
        severity=Severity.SOFT,
        deliverable=d.what if d.condition is not Condition.FIRED else None,
        owed_by=d.owed_by,
        due=d.due,
        visit_id=d.visit_id,
    )


def overdue_findings(
    method: CompiledMethod, state: EngagementState, at: pendulum.DateTime
) -> tuple[Finding, ...]:
    """A soft finding per deadline that has passed unmet at ``at``, for ``check()`` verdicts."""
    if not is_live(method, state):
        return ()
    now = at.timestamp()
    return tuple(
        finding
        for due_at, met_at, finding in _remembered(method, state)[1]
        if due_at < now and met_at > now
    )
