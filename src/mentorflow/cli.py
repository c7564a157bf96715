"""The ``mentorflow`` command line: demo, lint, diagram, explain, status, owed, relay, outbox,
replay, delete, erase, personal-data, copy, roll-out and prune-outbox.

Exit codes: 0 success; 1 the answer is "no" (lint found problems, the verdict refuses);
2 the command could not run (bad arguments, missing file, unknown method or engagement). An error
is one line on stderr, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import enum
import io
import json
import sys
from pathlib import Path  # at run time: Typer reads the annotations
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from mentorflow import _cli_records as records
from mentorflow import _cli_store as stored
from mentorflow import diagrams
from mentorflow.compiled import compile_method
from mentorflow.exceptions import InvalidInput, InvalidMethod, MentorflowError, Problem
from mentorflow.lint import lint_method
from mentorflow.method_sources import load_method_source

if TYPE_CHECKING:
    from collections.abc import Sequence

__all__ = ["app", "main"]

#: Exit status when the command could not do its job at all.
EXIT_ERROR = 2
#: Exit status when the command ran and the answer is "no".
EXIT_NO = 1

app = typer.Typer(
    name="mentorflow",
    help="Run, check and draw city-to-city peer-learning workflows.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

JsonFlag = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON instead of text.")
]


class DiagramFormat(enum.StrEnum):
    """The diagram languages ``diagram`` can write."""

    MERMAID = "mermaid"
    DOT = "dot"


class OutboxStatusChoice(enum.StrEnum):
    """An outbox event's delivery state, as ``outbox --status`` takes it."""

    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


def one_line(error: BaseException) -> str:
    """An error as the single line the CLI prints: every problem joined, no traceback."""
    if isinstance(error, InvalidInput):
        return f"invalid {error.what}: " + "; ".join(str(p) for p in error.problems)
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"{error.strerror}: {error.filename}"
    cause = getattr(error, "orig", None)  # a database driver's own error, without the SQL
    if cause is not None:
        return f"database: {' '.join(str(cause).split())}"
    text = " ".join(str(error).split())
    return text or type(error).__name__


def _emit_json(data: object) -> None:
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False, default=_json_value))


def _json_value(value: object) -> object:
    # Instants as ISO 8601 with their offset; anything else by its text.
    return value.isoformat() if isinstance(value, dt.datetime) else str(value)


def _problems_json(problems: Sequence[Problem]) -> list[dict[str, str]]:
    return [{"path": p.path, "message": p.message} for p in problems]


@app.command()
def demo(
    as_json: JsonFlag = False,
    db: Annotated[
        Path | None,
        typer.Option("--db", help="SQLite file to keep the engagements in (default: a temp file)."),
    ] = None,
    stop_half_way: Annotated[
        bool,
        typer.Option(
            "--stop-half-way",
            help="Stop in the middle engagement, as a killed process would; run again with "
            "the same --db to continue.",
        ),
    ] = False,
) -> None:
    """Walk the ROCK 2017-18 programme through every phase on SQLite, restarting half-way.

    A database that already holds engagements is continued, not started again.
    """
    from mentorflow import demo as walk  # the demo loads only when asked for

    finals = walk.run(
        io.StringIO() if as_json else sys.stdout, database=db, stop_half_way=stop_half_way
    )
    if as_json:
        _emit_json(finals)
    if stop_half_way:
        raise typer.Exit(0)
    raise typer.Exit(0 if all(phase == "closed" for phase in finals.values()) else EXIT_NO)


@app.command()
def lint(
    method: Annotated[
        str, typer.Argument(help="A JSON/TOML method file, module:function or built-in id.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Check a method definition; print every problem with its $.path (exit 1 if any)."""
    try:
        loaded = load_method_source(method)
    except InvalidMethod as error:
        # A method file is linted as it is read: its problems are the lint result.
        problems: tuple[Problem, ...] = error.problems
        name = method
    else:
        problems = lint_method(loaded)
        name = f"{loaded.id} v{loaded.version}"
    if as_json:
        _emit_json({"method": name, "ok": not problems, "problems": _problems_json(problems)})
    elif problems:
        for problem in problems:
            typer.echo(f"{method}: {problem}")
        typer.echo(f"{len(problems)} problem(s) in {name}", err=True)
    else:
        typer.echo(f"{name}: no problems")
    raise typer.Exit(EXIT_NO if problems else 0)


@app.command()
def diagram(
    method: Annotated[
        str, typer.Argument(help="A built-in method id, a JSON/TOML file or module:function.")
    ],
    fmt: Annotated[
        DiagramFormat, typer.Option("--format", "-f", help="Diagram language.")
    ] = DiagramFormat.MERMAID,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Draw a method as a state diagram, its gates and parties on the edges."""
    compiled = compile_method(load_method_source(method))
    render = diagrams.to_mermaid if fmt is DiagramFormat.MERMAID else diagrams.to_dot
    text = render(compiled)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")


DatabaseArg = Annotated[
    str, typer.Argument(help="The store: a SQLite file path or a database URL.", metavar="DB")
]
AtOption = Annotated[
    str | None,
    typer.Option(
        "--at", help="Evaluate at this ISO 8601 time instead of now (e.g. 2018-01-15T09:00+01:00)."
    ),
]


@app.command()
def explain(
    database: DatabaseArg,
    engagement: Annotated[str, typer.Argument(help="The engagement id.")],
    trigger: Annotated[str, typer.Argument(help="The trigger to ask about, e.g. start_visit.")],
    actor: Annotated[str, typer.Option("--actor", help="The participant id who would fire it.")],
    at: AtOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Why (not yet)? The verdict on firing TRIGGER, as a table (exit 1 when refused)."""
    verdict = stored.explain_verdict(
        database, engagement, trigger, actor=actor, at=stored.instant(at)
    )
    if as_json:
        _emit_json(stored.verdict_document(verdict))
    else:
        stored.render_verdict(verdict, Console(soft_wrap=False))
    raise typer.Exit(0 if verdict.allowed else EXIT_NO)


@app.command()
def status(database: DatabaseArg, at: AtOption = None, as_json: JsonFlag = False) -> None:
    """Engagements by method and phase, and those past their next deadline."""
    report = stored.status_report(database, stored.instant(at))
    if as_json:
        _emit_json(report)
    else:
        stored.render_status(report, Console())


@app.command()
def owed(
    database: DatabaseArg,
    organisation: Annotated[str, typer.Argument(help="The city or organisation id.")],
    before: Annotated[
        str | None,
        typer.Option("--before", help="Only what is due before this ISO 8601 time."),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", help="At most this many items.")] = 1000,
    at: AtOption = None,
    as_json: JsonFlag = False,
) -> None:
    """What an organisation owes across all its engagements, earliest first, overdue marked."""
    report = stored.owed_report(
        database,
        organisation,
        before=stored.instant(before, "$.before"),
        at=stored.instant(at),
        limit=limit,
    )
    if as_json:
        _emit_json(report)
    else:
        stored.render_owed(report, Console(soft_wrap=False))


@app.command()
def relay(
    database: DatabaseArg,
    handler: Annotated[
        str,
        typer.Option(
            "--handler", help="module:name of a callable taking an Event, or of an EventBus."
        ),
    ],
    max_attempts: Annotated[int, typer.Option(min=1, help="Attempts before an event is dead.")] = 5,
    as_json: JsonFlag = False,
) -> None:
    """Deliver every outbox event that is ready now (exit 1 if any event is dead)."""
    summary = stored.relay_outbox(
        database, stored.load_handler(handler), max_attempts=max_attempts, progress=not as_json
    )
    if as_json:
        _emit_json(summary)
    else:
        stored.render_relay(summary, Console())
    raise typer.Exit(EXIT_NO if summary["dead_events"] else 0)


@app.command()
def outbox(
    database: DatabaseArg,
    status: Annotated[
        OutboxStatusChoice | None, typer.Option("--status", help="Only events in this state.")
    ] = None,
    engagement: Annotated[
        str | None, typer.Option("--engagement", help="Only this engagement's events.")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """List outbox events with their delivery state (the dead ones: --status dead)."""
    rows = stored.outbox_listing(
        database, status=status.value if status else None, engagement_id=engagement
    )
    if as_json:
        _emit_json(rows)
    else:
        stored.render_outbox(rows, Console())


@app.command()
def replay(
    database: DatabaseArg,
    event_ids: Annotated[
        list[str], typer.Argument(help="The events to deliver again.", metavar="EVENT_ID...")
    ],
) -> None:
    """Put events back in line for delivery now, their attempts reset (after fixing a handler)."""
    for event_id in stored.replay_events(database, event_ids):
        typer.echo(f"replayed {event_id}")


@app.command()
def delete(
    database: DatabaseArg,
    engagement: Annotated[str, typer.Argument(help="The engagement to delete.")],
    actor: Annotated[str, typer.Option("--actor", help="Who deletes it (kept in the event).")],
    version: Annotated[
        int | None,
        typer.Option(
            "--version", help="Delete only if still at this version (default: as it is now)."
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (kept in the deletion event).")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Delete an engagement and everything stored of it; its id stays taken.

    Its undelivered events stay in the outbox, followed by an EngagementDeleted event.
    """
    deletion = records.delete_engagement(
        database, engagement, actor=actor, version=version, reason=reason
    )
    if as_json:
        _emit_json(deletion)
    else:
        typer.echo(
            f"deleted {engagement} at version {deletion['version']}; event {deletion['id']} "
            "tells the handlers at the next relay"
        )


@app.command()
def erase(
    database: DatabaseArg,
    participant: Annotated[str, typer.Argument(help="The participant whose name is erased.")],
    actor: Annotated[
        str, typer.Option("--actor", help="Who erases it: the facilitator, or the person.")
    ],
    as_json: JsonFlag = False,
) -> None:
    """Erase a person's name in every engagement they take part in (an erasure request).

    Their id, role and organisation stay, so the engagements go on; each engagement records the
    erasure and emits ParticipantErased.
    """
    done = records.erase_person(database, participant, actor=actor)
    if as_json:
        _emit_json(done)
    else:
        for row in done:
            typer.echo(f"{row['outcome']} in {row['engagement_id']}")


@app.command("personal-data")
def personal_data(
    database: DatabaseArg,
    participant: Annotated[str, typer.Argument(help="The participant id.")],
    as_json: JsonFlag = False,
) -> None:
    """What the store holds about a person (an access request): in each engagement they take
    part in, their participant record, their actions, submissions and approvals."""
    data = records.personal_data_of(database, participant)
    if as_json:
        from mentorflow.serialization import default_codec

        _emit_json(default_codec().dump(data))
    else:
        for line in records.render_personal_data(data):
            typer.echo(line)


@app.command()
def copy(
    source: DatabaseArg,
    target: Annotated[
        str,
        typer.Argument(
            help="The empty store to copy into: a SQLite file path or a database URL.",
            metavar="TARGET",
        ),
    ],
    as_json: JsonFlag = False,
) -> None:
    """Copy a whole store into an empty one (SQLite to PostgreSQL, say), in one transaction.

    Engagements, history, the outbox with each event's delivery state and order, the deadline
    index, the reminder ledger and the deleted engagements' records: the target goes on where
    the source stands.
    """
    summary = records.copy_store(source, target)
    if as_json:
        _emit_json(summary)
    else:
        rows = summary["rows"]
        typer.echo(
            f"copied {rows['engagements']} engagement(s), {rows['history']} history entries and "
            f"{rows['outbox']} outbox event(s) into {summary['target']}"
        )


@app.command("roll-out")
def roll_out(
    database: DatabaseArg,
    method: Annotated[
        str,
        typer.Argument(help="The new version: a JSON/TOML method file, module:function or id."),
    ],
    actor: Annotated[
        str, typer.Option("--actor", help="Who migrates (a participant of each engagement).")
    ],
    in_use: Annotated[
        list[str] | None,
        typer.Option(
            "--in-use",
            help="An older version engagements still run, when not built in (repeatable).",
        ),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (kept in each history entry).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would move and what not; write nothing.")
    ] = False,
    at: AtOption = None,
    as_json: JsonFlag = False,
) -> None:
    """Move every running engagement of an older version of METHOD to it (exit 1 if any stays).

    Each engagement is checked (can_migrate) and moved in its own save; those refused stay on
    their version with the reasons listed, closed and cancelled ones stay as they ran. Run it
    again after a stop: engagements already moved are not tried again.
    """
    rollout = records.roll_out_method(
        database,
        method,
        actor=actor,
        in_use=in_use or [],
        at=stored.instant(at),
        reason=reason,
        dry_run=dry_run,
    )
    if as_json:
        _emit_json(records.rollout_document(rollout))
    else:
        typer.echo(rollout.explain())
    raise typer.Exit(0 if rollout.complete else EXIT_NO)


@app.command("prune-outbox")
def prune_outbox(
    database: DatabaseArg,
    before: Annotated[
        str | None,
        typer.Option("--before", help="Remove events delivered before this ISO 8601 time."),
    ] = None,
    days: Annotated[
        int | None,
        typer.Option("--days", help="Remove events delivered more than this many days ago."),
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Remove delivered events from the outbox; pending and dead events always stay."""
    summary = stored.prune_delivered(database, before=stored.instant(before, "$.before"), days=days)
    if as_json:
        _emit_json(summary)
    else:
        typer.echo(
            f"removed {summary['removed']} event(s) delivered before "
            f"{summary['delivered_before'].isoformat()}"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Typer reports bad arguments itself (status 2); every error mentorflow expects becomes one
    line on stderr and status 2.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        app(args=args, prog_name="mentorflow")
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else EXIT_ERROR
    except _expected_errors() as error:
        print(f"mentorflow: error: {one_line(error)}", file=sys.stderr)
        return EXIT_ERROR
    return 0


def _expected_errors() -> tuple[type[Exception], ...]:
    """Errors that end a command with one line: ours, the operating system's, the database's."""
    try:
        from sqlalchemy.exc import SQLAlchemyError  # the sql extra may not be installed
    except ImportError:
        return (MentorflowError, OSError)
    return (MentorflowError, OSError, SQLAlchemyError)


if __name__ == "__main__":
    raise SystemExit(main())
