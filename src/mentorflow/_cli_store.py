"""The command line's store-backed commands that read and deliver: explain a verdict,
engagement status, what an organisation owes, run the relay, list, replay and prune the outbox.
The commands that change or hand over the store's records are in ``_cli_records``.

The SQL store is an optional extra (``mentorflow[sql]``), so it is imported only when one of
these commands runs. Rendering stays here too: rich tables for people, plain dicts for ``--json``.
"""

from __future__ import annotations

import errno
import logging
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pendulum
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from mentorflow.events import Event, EventBus
from mentorflow.exceptions import InvalidInput, Problem
from mentorflow.method_sources import import_reference
from mentorflow.verdicts import Severity, Verdict
from mentorflow.versions import MethodRegistry

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from mentorflow.outbox import RelayReport
    from mentorflow.sqlstore import SqlStore

__all__ = [
    "explain_verdict",
    "instant",
    "load_handler",
    "opened",
    "outbox_listing",
    "owed_report",
    "prune_delivered",
    "relay_outbox",
    "render_outbox",
    "render_owed",
    "render_relay",
    "replay_events",
    "render_status",
    "render_verdict",
    "status_report",
    "verdict_document",
]


def instant(text: str | None, field: str = "$.at") -> pendulum.DateTime | None:
    """``--at`` text as an instant (ISO 8601; a date means its midnight in UTC)."""
    if text is None:
        return None
    try:
        parsed = pendulum.parse(text, tz="UTC")
    except ValueError as error:
        raise InvalidInput(
            "time", [Problem(field, f"{text!r} is not an ISO 8601 time ({error})")]
        ) from None
    if not isinstance(parsed, pendulum.DateTime):
        if isinstance(parsed, pendulum.Date):
            return pendulum.datetime(parsed.year, parsed.month, parsed.day, tz="UTC")
        raise InvalidInput("time", [Problem(field, f"{text!r} is not a date or a date and time")])
    return parsed


@contextmanager
def opened(database: str, methods: MethodRegistry | None = None) -> Iterator[SqlStore]:
    """The store at ``database`` (a SQLite file or a URL), with ``methods`` (default: the
    built-ins); never creates a missing file."""
    from mentorflow.sqlstore import SqlStore  # the sql extra is needed only here

    if "://" not in database and not Path(database).is_file():
        raise FileNotFoundError(errno.ENOENT, "no such database file", database)
    store = SqlStore.open(database, create=False, methods=methods)
    try:
        yield store
    finally:
        store.close()


# -- explain ---------------------------------------------------------------------------------


def explain_verdict(
    database: str, engagement_id: str, trigger: str, *, actor: str, at: pendulum.DateTime | None
) -> Verdict:
    """The verdict on firing ``trigger`` now (or ``at``) on the stored engagement."""
    from mentorflow.store import StoredEngagement

    with opened(database) as store:
        engagement = StoredEngagement.load(store, engagement_id)
        return engagement.check(
            trigger, actor=actor, at=at if at is not None else store.clock.now()
        )


def _short(moment: pendulum.DateTime) -> str:
    """A due date as a person reads it in a table: minutes and the UTC offset, no seconds."""
    return moment.format("YYYY-MM-DD HH:mm Z")


def verdict_document(verdict: Verdict) -> dict[str, Any]:
    """The verdict as the library's JSON document (``Codec.dump``), with ``allowed`` added."""
    from mentorflow.serialization import default_codec

    return {**default_codec().dump(verdict), "allowed": verdict.allowed}


def render_verdict(verdict: Verdict, console: Console) -> None:
    """The verdict as a table: one row per unmet requirement (✗) and per warning (⚠)."""
    move = f"{verdict.phase} → {verdict.target}" if verdict.target else verdict.phase
    answer = "[green]allowed[/]" if verdict.allowed else "[red]refused[/]"
    title = f"{verdict.action} on {verdict.engagement_id} ({move}): {answer}"
    findings = [*verdict.unmet, *verdict.warnings]
    if not findings:
        console.print(title)
        console.print("Nothing stands in the way.")
        return
    table = Table(title=title, title_justify="left", show_lines=False)
    for column in ("", "rule", "what", "owed by", "due"):
        table.add_column(column, overflow="fold")
    for finding in findings:
        mark = "[yellow]⚠[/]" if finding.severity is Severity.SOFT else "[red]✗[/]"
        due = _short(finding.due) if finding.due is not None else ""
        table.add_row(mark, finding.rule, finding.message, finding.owed_by or "", due)
    console.print(table)


# -- status ----------------------------------------------------------------------------------


#: The most overdue items ``status`` lists, earliest first.
OVERDUE_LISTED = 100_000


def status_report(database: str, at: pendulum.DateTime | None) -> dict[str, Any]:
    """Engagements by method and phase, and every deadline that has passed unmet by ``at``.

    Both come from the store's indexes (``count_by_phase``, ``due_before``), not from loading
    every snapshot: the deadlines as the engagements stand now. Times in the report are
    pendulum instants; ``--json`` writes them as ISO 8601 text.
    """
    with opened(database) as store:
        now = at if at is not None else store.clock.now()
        by_phase = store.count_by_phase()
        passed = store.due_before(now, limit=OVERDUE_LISTED)
        # Each engagement's phase through the phase index too: no snapshot is loaded, but for
        # an engagement created in a new phase between the two reads.
        phases = {i: phase for phase in {p for _, p in by_phase} for i in store.ids(phase=phase)}
        for d in passed:
            if d.engagement_id not in phases:
                phases[d.engagement_id] = store.load(d.engagement_id).phase
    overdue = [
        {
            "engagement_id": d.engagement_id,
            "phase": phases[d.engagement_id],
            "rule": d.rule,
            "severity": d.severity,
            "what": d.title,
            "owed_by": d.owed_by,
            "due": d.due,
        }
        for d in passed
    ]
    return {
        "at": now,
        "engagements": sum(by_phase.values()),
        "by_phase": [
            {"method_id": method_id, "phase": phase, "count": count}
            for (method_id, phase), count in by_phase.items()
        ],
        "overdue": overdue,  # due_before's order: earliest first, then by engagement
    }


def render_status(report: dict[str, Any], console: Console) -> None:
    """The status report as two tables: counts by phase, then overdue items."""
    phases = Table(title=f"{report['engagements']} engagement(s) by phase", title_justify="left")
    for column in ("method", "phase", "engagements"):
        phases.add_column(column)
    for row in report["by_phase"]:
        phases.add_row(row["method_id"], row["phase"], str(row["count"]))
    console.print(phases)
    if not report["overdue"]:
        console.print(f"Nothing overdue at {_short(report['at'])}.")
        return
    late = Table(title=f"Overdue at {_short(report['at'])}", title_justify="left")
    for column in ("engagement", "rule", "what", "owed by", "due"):
        late.add_column(column, overflow="fold")
    for row in report["overdue"]:
        mark = "⚠ " if row["severity"] == Severity.SOFT.value else ""
        rule = mark + row["rule"]
        late.add_row(row["engagement_id"], rule, row["what"], row["owed_by"], _short(row["due"]))
    console.print(late)


# -- owed ------------------------------------------------------------------------------------


def owed_report(
    database: str,
    organisation_id: str,
    *,
    before: pendulum.DateTime | None,
    at: pendulum.DateTime | None,
    limit: int,
) -> dict[str, Any]:
    """What ``organisation_id`` owes across its engagements (``SqlStore.owed_by``), earliest
    first, each marked overdue when due before ``at`` (default: now)."""
    with opened(database) as store:
        now = at if at is not None else store.clock.now()
        owed = store.owed_by(organisation_id, due_before=before, limit=limit)
    return {
        "organisation_id": organisation_id,
        "at": now,
        "owed": [
            {
                "engagement_id": d.engagement_id,
                "key": d.key,
                "what": d.title,
                "until": d.condition,
                "owed_by": d.owed_by,
                "visit_id": d.visit_id,
                "rule": d.rule,
                "severity": d.severity,
                "due": d.due,
                "overdue": d.due < now,
            }
            for d in owed
        ],
    }


def render_owed(report: dict[str, Any], console: Console) -> None:
    """The to-do list as a table, overdue items marked."""
    if not report["owed"]:
        console.print(f"{report['organisation_id']} owes nothing open.")
        return
    title = f"{report['organisation_id']} owes (at {_short(report['at'])})"
    table = Table(title=title, title_justify="left")
    for column in ("", "due", "engagement", "what", "until", "rule"):
        table.add_column(column, overflow="fold")
    for row in report["owed"]:
        mark = "[red]overdue[/]" if row["overdue"] else ""
        table.add_row(
            mark, _short(row["due"]), row["engagement_id"], row["what"], row["until"], row["rule"]
        )
    console.print(table)


# -- relay -----------------------------------------------------------------------------------


def load_handler(spec: str) -> Callable[[Event], object] | EventBus:
    """The event handler ``module:name`` names: a callable taking an Event, or an EventBus."""
    target = import_reference(spec, "handler")
    if isinstance(target, EventBus):
        return target
    if not callable(target):
        message = f"{spec!r}: expected a callable taking an Event, or an EventBus"
        raise InvalidInput("handler", [Problem("$.handler", message)])
    return target


def relay_outbox(
    database: str,
    handler: Callable[[Event], object] | EventBus,
    *,
    max_attempts: int,
    progress: bool,
) -> dict[str, Any]:
    """Deliver every event ready now; with ``progress``, show a bar on stderr while doing it."""
    from mentorflow.outbox import Relay
    from mentorflow.store import OutboxStatus

    reports: list[RelayReport] = []
    with opened(database) as store, _relay_log_lines():
        relay = Relay(store, handler, max_attempts=max_attempts)
        pending = len(store.outbox(status=OutboxStatus.PENDING))
        columns = (TextColumn("relaying events"), BarColumn(), MofNCompleteColumn())
        with Progress(*columns, console=Console(stderr=True), disable=not progress) as bar:
            task = bar.add_task("relay", total=pending)
            while True:
                report = relay.run_once()
                if report.handled == 0:
                    break
                reports.append(report)
                bar.advance(task, report.handled)
        dead_now = [entry.event_id for entry in store.outbox(status=OutboxStatus.DEAD)]
        left = len(store.outbox(status=OutboxStatus.PENDING))
    return {
        "delivered": sum(len(r.delivered) for r in reports),
        "retried": sum(len(r.retried) for r in reports),
        "dead": sum(len(r.dead) for r in reports),
        "pending": left,
        "dead_events": dead_now,
    }


class _OneLine(logging.Formatter):
    """A log record as one line, as the command's own errors are written: the handler's
    traceback stays out of the command's output."""

    def format(self, record: logging.LogRecord) -> str:
        return f"mentorflow: {record.levelname.lower()}: {record.getMessage()}"


@contextmanager
def _relay_log_lines() -> Iterator[None]:
    """While the command relays: the relay's failures and dead events as one line each on
    stderr (``mentorflow: warning: …``), not as the tracebacks a library logger would show."""
    logger = logging.getLogger("mentorflow.outbox")
    lines = logging.StreamHandler(sys.stderr)
    lines.setLevel(logging.WARNING)
    lines.setFormatter(_OneLine())
    kept = logger.propagate
    logger.addHandler(lines)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(lines)
        logger.propagate = kept


def render_relay(summary: dict[str, Any], console: Console) -> None:
    """One line of counts, then the dead events a person should look at."""
    console.print(
        f"delivered {summary['delivered']}, retried {summary['retried']}, "
        f"dead {summary['dead']}, still pending {summary['pending']}"
    )
    for event_id in summary["dead_events"]:
        console.print(f"dead: {event_id} (fix the handler, then: mentorflow replay DB {event_id})")


# -- prune-outbox ----------------------------------------------------------------------------


def prune_delivered(
    database: str, *, before: pendulum.DateTime | None, days: int | None
) -> dict[str, Any]:
    """Remove every event delivered before ``before``, or more than ``days`` days ago (exactly
    one of the two), in batches; returns the boundary and how many went."""
    if (before is None) == (days is None):
        raise InvalidInput(
            "prune-outbox", [Problem("$.before", "give --before or --days, and only one of them")]
        )
    if days is not None and days < 0:
        raise InvalidInput("prune-outbox", [Problem("$.days", f"must be at least 0, not {days}")])
    removed = 0
    with opened(database) as store:
        boundary = before if before is not None else store.clock.now().subtract(days=days or 0)
        while (batch := store.prune_outbox(boundary)) > 0:
            removed += batch  # batches keep each transaction, and the SQLite write lock, short
    return {"delivered_before": boundary, "removed": removed}


# -- outbox and replay -----------------------------------------------------------------------


def outbox_listing(
    database: str, *, status: str | None, engagement_id: str | None
) -> list[dict[str, Any]]:
    """The outbox's events in commit order (optionally of one status or engagement), each with
    its delivery state; an unreadable payload is listed with the reader's problems."""
    with opened(database) as store:
        entries = store.outbox(engagement_id, status=status)
    return [
        {
            "event_id": entry.event_id,
            "event_type": None if entry.unreadable else type(entry.event).__name__,
            "status": entry.status,
            "attempts": entry.attempts,
            "last_error": entry.last_error,
            "delivered_at": entry.delivered_at,
            "unreadable": [str(problem) for problem in entry.unreadable],
        }
        for entry in entries
    ]


def render_outbox(rows: list[dict[str, Any]], console: Console) -> None:
    """The listing as one table."""
    table = Table(title=f"{len(rows)} event(s)", title_justify="left")
    for column in ("event", "type", "status", "attempts", "last error / delivered at"):
        table.add_column(column, overflow="fold")
    for row in rows:
        detail = row["last_error"] or row["delivered_at"] or ""
        if row["unreadable"]:
            detail = "unreadable: " + "; ".join(row["unreadable"])
        kind = row["event_type"] or "?"
        table.add_row(row["event_id"], kind, row["status"], str(row["attempts"]), detail)
    console.print(table)


def replay_events(database: str, event_ids: list[str]) -> list[str]:
    """Put each event back in line for delivery now, attempts reset, in one transaction: an id
    the outbox does not hold is refused, and then none is replayed."""
    with opened(database) as store:
        store.replay_all(event_ids)
    return event_ids
