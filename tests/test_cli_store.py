"""The store-backed commands end to end in a subprocess: explain, status and relay on SQLite."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import attrs
import pendulum
import pytest
import sqlalchemy as sa

from _cli import assert_one_line_error, run_cli
from _stores import PG_URL, drop_schema, store_target
from mentorflow import compiled
from mentorflow import rock2017 as rock
from mentorflow.catalog import METHODS
from mentorflow.methodfiles import dump_method
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus, StoredEngagement
from test_rollout import gated

FACILITATOR = rock.rep(rock.FACILITATOR_ID)
JUNE = pendulum.datetime(2017, 6, 1, tz="Europe/Brussels")
#: Left in match-making, so confirm_match is allowed there.
UNMATCHED = "rock-ws-turin"

HANDLERS = textwrap.dedent(
    """
    from pathlib import Path

    def record(event):
        with Path("delivered.txt").open("a") as out:
            out.write(event.id + "\\n")

    def broken(event):
        raise ConnectionError("mail server down")
    """
)


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """A SQLite store holding the six ROCK 2017-18 engagements, all but one matched."""
    path = tmp_path / "mentorflow.db"
    store = SqlStore.open(path)
    try:
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
                prerequisites=plan.prerequisites,
                actor=FACILITATOR,
                at=JUNE,
            )
            if plan.id != UNMATCHED:
                engagement.fire("confirm_match", actor=FACILITATOR, at=JUNE.add(months=3))
    finally:
        store.close()
    (tmp_path / "handlers.py").write_text(HANDLERS, encoding="utf-8")
    return path


def pending_events(database: Path) -> int:
    """How many outbox events wait for delivery."""
    store = SqlStore.open(database, create=False)
    try:
        return len(store.outbox(status=OutboxStatus.PENDING))
    finally:
        store.close()


def test_explain_refused_lists_every_unmet_rule(database: Path) -> None:
    """R-PREP-1: start_visit before the needs assessment is refused (exit 1), every rule shown."""
    result = run_cli(
        "explain",
        str(database),
        "rock-mentoring-bologna",
        "start_visit",
        "--actor",
        FACILITATOR,
        "--at",
        "2017-11-01T10:00+01:00",
        cwd=database.parent,
    )
    assert result.returncode == 1, result.stderr
    assert "refused" in result.stdout
    for rule in ("R-PREP-1", "R-PREP-2", "R-PREP-7", "R-PREP-6"):
        assert rule in result.stdout


def test_explain_json_is_the_verdict(database: Path) -> None:
    """`explain --json` gives allowed=false and each unmet finding with rule, owner and due date."""
    result = run_cli(
        "explain",
        str(database),
        "rock-mentoring-bologna",
        "start_visit",
        "--actor",
        FACILITATOR,
        "--at",
        "2017-11-01",
        "--json",
        cwd=database.parent,
    )
    assert result.returncode == 1, result.stderr
    verdict = json.loads(result.stdout)
    assert verdict["allowed"] is False
    assert verdict["target"] == "visit"
    first = verdict["unmet"][0]
    assert first["rule"] == "R-PREP-1"
    assert first["owed_by"] == "replicator city"
    paper = next(f for f in verdict["unmet"] if f["rule"] == "R-PREP-2")
    assert paper["due"].startswith("2017-11-24T00:00:00+01:00")


def test_explain_allowed_exits_zero(database: Path) -> None:
    """The facilitator may confirm the unmatched engagement's match: exit 0, 'allowed'."""
    result = run_cli(
        "explain",
        str(database),
        UNMATCHED,
        "confirm_match",
        "--actor",
        FACILITATOR,
        "--at",
        "2017-09-01",
        cwd=database.parent,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "allowed" in result.stdout


def test_explain_unknown_engagement_is_one_line_error(database: Path) -> None:
    """An engagement id the store does not hold: one line naming it, exit 2."""
    result = run_cli(
        "explain", str(database), "nope", "start_visit", "--actor", FACILITATOR, cwd=database.parent
    )
    assert_one_line_error(result, "'nope'")


def test_explain_unknown_trigger_is_one_line_error(database: Path) -> None:
    """A trigger the method does not have: one line listing the ones it has, exit 2."""
    result = run_cli(
        "explain", str(database), UNMATCHED, "fly", "--actor", FACILITATOR, cwd=database.parent
    )
    assert_one_line_error(result, "'fly'", "confirm_match")


def test_missing_database_is_one_line_error_and_creates_nothing(tmp_path: Path) -> None:
    """A database path that does not exist is an error, not a new empty store."""
    result = run_cli("status", "typo.db", cwd=tmp_path)
    assert_one_line_error(result, "typo.db")
    assert not (tmp_path / "typo.db").exists()


def test_file_that_is_not_a_database_is_one_line_error(tmp_path: Path) -> None:
    """A file that is not a SQLite database: one line from the driver, no SQL, no traceback."""
    (tmp_path / "notes.db").write_text("not a database", encoding="utf-8")
    assert_one_line_error(run_cli("status", "notes.db", cwd=tmp_path), "database")


def test_bad_time_is_one_line_error(database: Path) -> None:
    """--at that is not ISO 8601: one line naming $.at."""
    assert_one_line_error(
        run_cli("status", str(database), "--at", "yesterday", cwd=database.parent), "$.at"
    )


def test_status_counts_engagements_by_phase(database: Path) -> None:
    """`status --json`: five engagements in preparation, one in match-making, six in all."""
    result = run_cli("status", str(database), "--at", "2017-09-05", "--json", cwd=database.parent)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["engagements"] == 6
    counts = {(row["method_id"], row["phase"]): row["count"] for row in report["by_phase"]}
    assert counts == {
        ("rock.mentoring", "preparation"): 3,
        ("rock.work_shadowing", "matchmaking"): 1,
        ("rock.work_shadowing", "preparation"): 2,
    }


def test_status_lists_overdue_deadlines(database: Path) -> None:
    """R-PREP-6: by January 2018 the agendas due before the autumn visits are overdue."""
    early = json.loads(
        run_cli("status", str(database), "--at", "2017-06-02", "--json", cwd=database.parent).stdout
    )
    assert early["overdue"] == []
    late = run_cli("status", str(database), "--at", "2018-01-20", "--json", cwd=database.parent)
    overdue = json.loads(late.stdout)["overdue"]
    agendas = {item["engagement_id"] for item in overdue if item["rule"] == "R-PREP-6"}
    assert "rock-mentoring-bologna" in agendas
    assert all(pendulum.parse(item["due"]) < pendulum.datetime(2018, 1, 20) for item in overdue)


def test_status_table_names_overdue_items(database: Path) -> None:
    """The text form shows the phase table and the overdue table."""
    result = run_cli("status", str(database), "--at", "2018-01-20", cwd=database.parent)
    assert result.returncode == 0, result.stderr
    assert "by phase" in result.stdout
    assert "Overdue" in result.stdout


def test_relay_delivers_every_pending_event_once(database: Path) -> None:
    """`relay` hands each outbox event to the handler once; a second run has nothing to do."""
    waiting = pending_events(database)
    assert waiting > 0
    first = run_cli(
        "relay", str(database), "--handler", "handlers:record", "--json", cwd=database.parent
    )
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["delivered"] == waiting
    delivered = (database.parent / "delivered.txt").read_text(encoding="utf-8").split()
    assert len(delivered) == len(set(delivered)) == waiting
    second = run_cli(
        "relay", str(database), "--handler", "handlers:record", "--json", cwd=database.parent
    )
    assert json.loads(second.stdout)["delivered"] == 0
    assert pending_events(database) == 0


def test_relay_text_shows_counts(database: Path) -> None:
    """Without --json the relay prints its counts; the progress bar goes to stderr."""
    result = run_cli("relay", str(database), "--handler", "handlers:record", cwd=database.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"delivered {pending_events(database) or ''}".rstrip())
    assert "Traceback" not in result.stderr


def test_relay_failing_handler_marks_events_dead(database: Path) -> None:
    """A handler that always fails: with one attempt allowed, events go dead and exit is 1."""
    result = run_cli(
        "relay",
        str(database),
        "--handler",
        "handlers:broken",
        "--max-attempts",
        "1",
        "--json",
        cwd=database.parent,
    )
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert summary["delivered"] == 0
    assert summary["dead"] >= 1
    assert len(summary["dead_events"]) == summary["dead"]


def test_relay_unknown_handler_is_one_line_error(database: Path) -> None:
    """A --handler that does not name a callable: one line naming $.handler, nothing delivered."""
    waiting = pending_events(database)
    result = run_cli("relay", str(database), "--handler", "handlers:nope", cwd=database.parent)
    assert_one_line_error(result, "$.handler")
    assert pending_events(database) == waiting


def _outbox_statuses(database: Path) -> list[str]:
    store = SqlStore.open(database, create=False)
    try:
        return [entry.status for entry in store.outbox()]
    finally:
        store.close()


def test_prune_outbox_removes_delivered_events_only(database: Path) -> None:
    """`prune-outbox --days` keeps recent deliveries; `--before` a later time removes them, and
    the events that are not delivered stay."""
    relayed = run_cli("relay", str(database), "--handler", "handlers:record", cwd=database.parent)
    assert relayed.returncode == 0, relayed.stderr
    store = SqlStore.open(database, create=False)
    try:
        StoredEngagement.load(store, UNMATCHED).fire(
            "confirm_match", actor=FACILITATOR, at=JUNE.add(months=4)
        )
    finally:
        store.close()
    before = _outbox_statuses(database)
    delivered = before.count(OutboxStatus.DELIVERED)
    assert delivered > 0
    assert OutboxStatus.PENDING in before

    recent = run_cli("prune-outbox", str(database), "--days", "1", "--json", cwd=database.parent)
    assert recent.returncode == 0, recent.stderr
    assert json.loads(recent.stdout)["removed"] == 0  # delivered moments ago

    later = pendulum.now("UTC").add(days=1).isoformat()
    pruned = run_cli(
        "prune-outbox", str(database), "--before", later, "--json", cwd=database.parent
    )
    assert pruned.returncode == 0, pruned.stderr
    assert json.loads(pruned.stdout)["removed"] == delivered
    assert _outbox_statuses(database) == [s for s in before if s != OutboxStatus.DELIVERED]


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ((), "$.before"),
        (("--days", "3", "--before", "2018-01-01"), "$.before"),
        (("--days", "-1"), "$.days"),
        (("--before", "last tuesday"), "$.before"),
    ],
)
def test_prune_outbox_bad_arguments_are_one_line(
    database: Path, arguments: tuple[str, ...], path: str
) -> None:
    before = _outbox_statuses(database)
    result = run_cli("prune-outbox", str(database), *arguments, cwd=database.parent)
    assert_one_line_error(result, path)
    assert _outbox_statuses(database) == before


def test_outbox_lists_dead_events_and_replay_puts_them_back(database: Path) -> None:
    """`outbox --status dead` shows what a broken handler left dead, with its error; `replay`
    puts those events back in line with their attempts reset, and the relay delivers them."""
    broken = run_cli(
        "relay", str(database), "--handler", "handlers:broken", "--max-attempts", "1",
        cwd=database.parent,
    )  # fmt: skip
    assert broken.returncode == 1, broken.stderr
    listed = run_cli("outbox", str(database), "--status", "dead", "--json", cwd=database.parent)
    assert listed.returncode == 0, listed.stderr
    dead = json.loads(listed.stdout)
    assert dead
    assert {row["status"] for row in dead} == {"dead"}
    assert {row["last_error"] for row in dead} == {"ConnectionError: mail server down"}
    ids = [row["event_id"] for row in dead]

    replayed = run_cli("replay", str(database), *ids, cwd=database.parent)
    assert replayed.returncode == 0, replayed.stderr
    assert replayed.stdout.splitlines() == [f"replayed {i}" for i in ids]
    after = json.loads(run_cli("outbox", str(database), "--json", cwd=database.parent).stdout)
    by_id = {row["event_id"]: row for row in after}
    assert all((by_id[i]["status"], by_id[i]["attempts"]) == ("pending", 0) for i in ids)
    relayed = run_cli("relay", str(database), "--handler", "handlers:record", cwd=database.parent)
    assert relayed.returncode == 0, relayed.stderr


def test_outbox_table_names_each_event(database: Path) -> None:
    result = run_cli("outbox", str(database), "--engagement", UNMATCHED, cwd=database.parent)
    assert result.returncode == 0, result.stderr
    store = SqlStore.open(database, create=False)
    try:
        ids = [entry.event_id for entry in store.outbox(UNMATCHED)]
    finally:
        store.close()
    assert ids
    assert all(event_id in result.stdout for event_id in ids)


def test_replay_of_an_unknown_event_is_one_line_and_replays_nothing(database: Path) -> None:
    run_cli(
        "relay", str(database), "--handler", "handlers:broken", "--max-attempts", "1",
        cwd=database.parent,
    )  # fmt: skip
    before = _outbox_statuses(database)
    dead = SqlStore.open(database, create=False)
    try:
        first = dead.outbox(status=OutboxStatus.DEAD)[0].event_id
    finally:
        dead.close()
    result = run_cli("replay", str(database), first, "no-such-event", cwd=database.parent)
    assert_one_line_error(result, "$.event_ids[1]", "no-such-event")
    assert _outbox_statuses(database) == before


def test_outbox_lists_an_unreadable_event_with_its_problems(database: Path) -> None:
    """A payload damaged by hand is listed (so it can be found and replayed), not a traceback."""
    store = SqlStore.open(database, create=False)
    try:
        o = store.tables.outbox
        damaged = store.outbox(UNMATCHED)[0].event_id
        with store.engine.begin() as conn:
            conn.execute(o.update().where(o.c.event_id == damaged).values(payload='{"id": 1'))
    finally:
        store.close()
    result = run_cli("outbox", str(database), "--json", cwd=database.parent)
    assert result.returncode == 0, result.stderr
    (row,) = [r for r in json.loads(result.stdout) if r["event_id"] == damaged]
    assert row["event_type"] is None
    assert row["unreadable"]
    table = run_cli("outbox", str(database), "--engagement", UNMATCHED, cwd=database.parent)
    assert table.returncode == 0, table.stderr
    assert "unreadable" in table.stdout


def test_relay_reports_failures_as_one_line_each_without_tracebacks(database: Path) -> None:
    """A broken handler: each dead event is one `mentorflow: error:` line on stderr naming it."""
    result = run_cli(
        "relay", str(database), "--handler", "handlers:broken", "--max-attempts", "1", "--json",
        cwd=database.parent,
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    dead = json.loads(result.stdout)["dead_events"]
    lines = [line for line in result.stderr.splitlines() if line.startswith("mentorflow: ")]
    assert "Traceback" not in result.stderr
    assert len(lines) == len(dead)
    for event_id, line in zip(dead, lines, strict=True):
        assert line.startswith(f"mentorflow: error: event {event_id} is dead")
        assert "ConnectionError: mail server down" in line


def test_delete_removes_the_engagement_and_the_relay_tells_the_handlers(database: Path) -> None:
    """`delete` at the current version: the engagement is gone from `status`, and the relay
    delivers its deletion event after its other events."""
    result = run_cli(
        "delete", str(database), UNMATCHED, "--actor", "platform-admin",
        "--reason", "entered twice", "--json", cwd=database.parent,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    deletion = json.loads(result.stdout)
    assert (deletion["type"], deletion["engagement_id"], deletion["version"]) == (
        "EngagementDeleted",
        UNMATCHED,
        1,
    )
    assert (deletion["actor"], deletion["reason"]) == ("platform-admin", "entered twice")
    status = json.loads(run_cli("status", str(database), "--json", cwd=database.parent).stdout)
    assert status["engagements"] == len(rock.programme()) - 1
    relayed = run_cli("relay", str(database), "--handler", "handlers:record", cwd=database.parent)
    assert relayed.returncode == 0, relayed.stderr
    delivered = (database.parent / "delivered.txt").read_text().split()
    own = [i for i in delivered if i.startswith(f"{UNMATCHED}#")]
    assert own[-1] == deletion["id"]
    assert len(own) == deletion["sequence"]


def test_delete_at_a_stale_version_or_of_an_unknown_engagement_is_one_line(
    database: Path,
) -> None:
    before = _outbox_statuses(database)
    stale = run_cli(
        "delete", str(database), "rock-mentoring-bologna", "--actor", "admin", "--version", "1",
        cwd=database.parent,
    )  # fmt: skip
    assert_one_line_error(stale, "rock-mentoring-bologna", "version 2")
    unknown = run_cli("delete", str(database), "nobody", "--actor", "admin", cwd=database.parent)
    assert_one_line_error(unknown, "nobody")
    blank = run_cli("delete", str(database), UNMATCHED, "--actor", " ", cwd=database.parent)
    assert_one_line_error(blank, "$.actor")
    assert _outbox_statuses(database) == before
    gone = run_cli("delete", str(database), UNMATCHED, "--actor", "admin", cwd=database.parent)
    assert gone.returncode == 0, gone.stderr
    assert gone.stdout.startswith(f"deleted {UNMATCHED} at version 1; event {UNMATCHED}#")
    again = run_cli("delete", str(database), UNMATCHED, "--actor", "admin", cwd=database.parent)
    assert_one_line_error(again, UNMATCHED, "was deleted at version 1", "admin")


def test_copy_moves_the_whole_store_into_a_new_file(database: Path) -> None:
    """`copy` creates the target, and the target answers as the source does."""
    target = database.parent / "copy.sqlite3"
    result = run_cli("copy", str(database), str(target), "--json", cwd=database.parent)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["rows"]["engagements"] == len(rock.programme())
    status = [
        json.loads(
            run_cli(
                "status",
                str(db),
                "--at",
                "2018-01-15T09:00+01:00",
                "--json",
                cwd=database.parent,
            ).stdout
        )
        for db in (database, target)
    ]
    assert status[0] == status[1]
    again = run_cli("copy", str(database), str(target), cwd=database.parent)
    assert_one_line_error(again, "$.target", "copy into an empty store")


def test_copy_into_postgresql_masks_the_password_it_prints(database: Path, tmp_path: Path) -> None:
    """From SQLite into PostgreSQL (a schema of its own, through the URL's search_path)."""
    _, schema = store_target("postgresql", tmp_path)
    assert schema is not None
    engine = sa.create_engine(PG_URL)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    url = sa.make_url(PG_URL).set(
        password="s3cret-pw", query={"options": f"-csearch_path={schema}"}
    )
    try:
        result = run_cli(
            "copy", str(database), url.render_as_string(hide_password=False), "--json",
            cwd=database.parent,
        )  # fmt: skip
        # The server trusts local connections, so the password is accepted and never shown.
        assert result.returncode == 0, result.stderr
        assert "s3cret-pw" not in result.stdout
        summary = json.loads(result.stdout)
        assert summary["rows"]["engagements"] == len(rock.programme())
        copied = SqlStore.open(PG_URL, schema=schema, create=False)
        try:
            assert copied.ids() == tuple(sorted(plan.id for plan in rock.programme()))
        finally:
            copied.close()
    finally:
        drop_schema(schema)


def test_erase_takes_a_name_out_of_every_engagement_the_person_is_in(database: Path) -> None:
    """`erase` by the person themselves: the four engagements Bologna's representative is in
    record it, the others are untouched; erasing again says it was done."""
    person = rock.rep("bologna")
    result = run_cli("erase", str(database), person, "--actor", person, cwd=database.parent)
    assert result.returncode == 0, result.stderr
    involved = sorted(p.id for p in rock.programme() if any(x.id == person for x in p.participants))
    assert len(involved) == 4
    assert result.stdout.splitlines() == [f"erased in {i}" for i in involved]
    store = SqlStore.open(database, create=False)
    try:
        for plan in rock.programme():
            state = store.load(plan.id)
            names = {p.id: p.name for p in state.participants}
            if plan.id in involved:
                assert names[person] == "(name erased)"
                assert state.history[-1].action == "erase_participant"
            else:
                assert state.history[-1].action != "erase_participant"
    finally:
        store.close()
    again = run_cli("erase", str(database), person, "--actor", FACILITATOR, "--json",
                    cwd=database.parent)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert {row["outcome"] for row in json.loads(again.stdout)} == {"already erased"}


def test_erase_refusals_are_one_line(database: Path) -> None:
    before = _outbox_statuses(database)
    nobody = run_cli("erase", str(database), "nobody-1", "--actor", FACILITATOR,
                     cwd=database.parent)  # fmt: skip
    assert_one_line_error(nobody, "$.participant_id", "nobody-1")
    # Lisbon's representative is in some of Bologna's engagements only, and facilitates none:
    # refused as a whole, before any engagement is touched.
    other = run_cli("erase", str(database), rock.rep("bologna"), "--actor", rock.rep("lisbon"),
                    cwd=database.parent)  # fmt: skip
    assert_one_line_error(other, "$.actor", "takes no part in", "is not the facilitator")
    assert _outbox_statuses(database) == before


def _edition(tmp_path: Path, version: int, *, gate_the_match: bool) -> Path:
    """A new version of the work-shadowing method as a JSON file; gated, it needs the
    rapporteur's article before the match, which the matched engagements are past."""
    method = (
        gated(version, "rock.work_shadowing")
        if gate_the_match
        else attrs.evolve(METHODS["rock.work_shadowing"](), version=version)
    )
    path = tmp_path / f"work-shadowing-v{version}.json"
    path.write_text(dump_method(method))
    return path


def _method_versions(database: Path) -> dict[str, int]:
    store = SqlStore.open(database, create=False)
    try:
        e = store.tables.engagements
        with store.engine.connect() as conn:
            return {
                row.id: row.method_version
                for row in conn.execute(sa.select(e.c.id, e.c.method_version))
            }
    finally:
        store.close()


def test_roll_out_dry_run_lists_what_would_move_and_writes_nothing(
    database: Path, tmp_path: Path
) -> None:
    edition = _edition(tmp_path, 2, gate_the_match=True)
    before = (_method_versions(database), _outbox_statuses(database))
    result = run_cli("roll-out", str(database), str(edition), "--actor", FACILITATOR,
                     "--dry-run", "--json", cwd=database.parent)  # fmt: skip
    assert result.returncode == 1, result.stderr  # some stay behind: the answer is "no"
    document = json.loads(result.stdout)
    assert (document["method_id"], document["to_version"], document["dry_run"]) == (
        "rock.work_shadowing",
        2,
        True,
    )
    assert {e["engagement_id"]: e["status"] for e in document["engagements"]} == {
        "rock-ws-eindhoven": "refused",
        "rock-ws-lyon": "refused",
        "rock-ws-turin": "ready",
    }
    refused = document["engagements"][0]["verdict"]
    assert [(f["rule"], f["deliverable"]) for f in refused["unmet"]] == [("MF-MIGRATE", "article")]
    assert document["counts"]["ready"] == 1
    assert (_method_versions(database), _outbox_statuses(database)) == before


def test_roll_out_moves_what_it_may_and_says_why_the_rest_stays(
    database: Path, tmp_path: Path
) -> None:
    edition = _edition(tmp_path, 2, gate_the_match=True)
    result = run_cli("roll-out", str(database), str(edition), "--actor", FACILITATOR,
                     "--reason", "2018 edition", cwd=database.parent)  # fmt: skip
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "rock.work_shadowing v2: 1 of 3 engagement(s) moved"
    assert lines[1].startswith("  rock-ws-eindhoven (v1) refused: [MF-MIGRATE]")
    versions = _method_versions(database)
    assert versions["rock-ws-turin"] == 2
    assert versions["rock-ws-lyon"] == versions["rock-mentoring-bologna"] == 1
    # The next edition runs where engagements are on v2: that version must be registered.
    plain = _edition(tmp_path, 3, gate_the_match=False)
    unknown = run_cli("roll-out", str(database), str(plain), "--actor", FACILITATOR,
                      cwd=database.parent)  # fmt: skip
    assert_one_line_error(unknown, "$.new", "rock.work_shadowing v2", "register")
    done = run_cli("roll-out", str(database), str(plain), "--actor", FACILITATOR,
                   "--in-use", str(edition), cwd=database.parent)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["rock.work_shadowing v3: 3 of 3 engagement(s) moved"]
    assert {k: v for k, v in _method_versions(database).items() if k.startswith("rock-ws")} == {
        "rock-ws-eindhoven": 3,
        "rock-ws-lyon": 3,
        "rock-ws-turin": 3,
    }


def test_owed_lists_what_a_city_owes_across_its_engagements(database: Path) -> None:
    """R-PREP-2 / R-FOLLOW-1: Athens, a role-model city of Bologna's mentoring, owes the
    shared mentors' paper first; at 1 December 2017 the papers are overdue, the visit report
    not yet."""
    result = run_cli("owed", str(database), "athens", "--at", "2017-12-01", "--json",
                     cwd=database.parent)  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    rows = [(r["engagement_id"], r["key"], r["until"], r["overdue"]) for r in report["owed"]]
    assert rows == [
        ("rock-mentoring-bologna", "mentors_paper.shared", "shared", True),
        ("rock-mentoring-bologna", "mentors_paper", "approved", True),
        ("rock-mentoring-bologna", "visit_report", "approved", False),
    ]
    assert report["owed"][0]["due"] == "2017-11-10T00:00:00+01:00"
    table = run_cli("owed", str(database), "athens", "--at", "2017-12-01",
                    "--before", "2017-11-20", cwd=database.parent)  # fmt: skip
    assert table.returncode == 0, table.stderr
    assert "overdue" in table.stdout
    assert "R-PREP-2" in table.stdout  # the shared paper, due 10 November
    assert "R-FOLLOW-1" not in table.stdout  # the visit report is due after --before
    nothing = run_cli("owed", str(database), "nobody", cwd=database.parent)
    assert nothing.stdout.strip() == "nobody owes nothing open."
    bad = run_cli("owed", str(database), "athens", "--limit", "0", cwd=database.parent)
    assert_one_line_error(bad, "$.limit")


def test_status_names_the_phase_of_an_engagement_created_between_its_reads(
    database: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker creates and pauses an engagement after `status` counted the phases and before
    it read the overdue deadlines: its overdue items are listed with its phase, not a crash."""
    from mentorflow import _cli_store

    counted = SqlStore.count_by_phase

    def count_then_a_worker_saves(store: SqlStore) -> dict[tuple[str, str], int]:
        counts = counted(store)
        plan = rock.programme()[2]
        late = StoredEngagement.start(
            compiled(plan.method_id), store=store, id="late-comer", title=plan.title,
            organisations=plan.organisations, participants=plan.participants,
            themes=plan.themes, visits=plan.visits, actor=FACILITATOR, at=JUNE,
        )  # fmt: skip
        late.fire("pause", actor=FACILITATOR, at=JUNE, reason="elections")
        return counts

    monkeypatch.setattr(SqlStore, "count_by_phase", count_then_a_worker_saves)
    report = _cli_store.status_report(str(database), pendulum.datetime(2018, 1, 20, tz="UTC"))
    late_items = [item for item in report["overdue"] if item["engagement_id"] == "late-comer"]
    assert late_items
    assert {item["phase"] for item in late_items} == {"paused:matchmaking"}
    assert report["engagements"] == len(rock.programme())  # counted before it was created
