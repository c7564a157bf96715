"""The demo walks the ROCK 2017-18 calendar to the end, on SQLite, with a restart half-way."""

from __future__ import annotations

import io
import json
from pathlib import Path

from tests._cli import run_cli

from mentorflow import demo
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus

MIDDLE = "rock-ws-lyon"  # the fourth of six engagements: where the demo stops and restarts


def test_demo_closes_every_engagement_of_the_rock_calendar() -> None:
    """All six engagements of the calendar close, and refusals are printed with rule ids first."""
    out = io.StringIO()
    finals = demo.run(out)
    text = out.getvalue()
    assert len(finals) == 6
    assert set(finals.values()) == {"closed"}
    assert "start_visit refused" in text
    assert "[R-PREP-1]" in text  # needs assessment owed before the mentoring visit
    assert "[R-PROG-7]" in text  # Skopje and Lisbon start with TBC dates
    assert "acknowledged" in text  # Lyon's four-day visit warning, accepted with a reason


def test_demo_restarts_in_the_middle_of_an_engagement_and_continues_it(tmp_path: Path) -> None:
    """The middle engagement is prepared, the store closed and reopened, and the engagement
    loaded from the file goes on to its visit: the visit comes after the restart line."""
    out = io.StringIO()
    demo.run(out, database=tmp_path / "rock.sqlite3")
    text = out.getvalue()
    restart = text.index(f"-- restart: stopped half-way through {MIDDLE}")
    assert "loaded it in preparation at version 8" in text[restart:]
    lyon = text[text.index("ROCK work-shadowing visit to Lyon") :]
    assert lyon.index("supplied") < lyon.index("-- restart") < lyon.index("preparation -> visit")
    store = SqlStore.open(tmp_path / "rock.sqlite3")
    try:
        history = store.history(MIDDLE)
        assert [entry.sequence for entry in history] == list(range(1, len(history) + 1))
        assert store.load(MIDDLE).phase == "closed"
    finally:
        store.close()


def test_a_stopped_demo_continues_where_it_stopped_when_run_again(tmp_path: Path) -> None:
    """`stop_half_way` leaves the middle engagement in preparation and the later ones unstarted;
    a second run on the same file loads what is stored, continues it and starts the rest."""
    database = tmp_path / "rock.sqlite3"
    first = demo.run(io.StringIO(), database=database, stop_half_way=True)
    assert list(first)[-1] == MIDDLE
    assert first[MIDDLE] == "preparation"
    assert set(list(first.values())[:-1]) == {"closed"}
    store = SqlStore.open(database)
    try:
        assert set(store.ids()) == set(first)
        stopped_at = store.load(MIDDLE).version
    finally:
        store.close()

    out = io.StringIO()
    second = demo.run(out, database=database)
    text = out.getvalue()
    assert len(second) == 6
    assert set(second.values()) == {"closed"}
    lyon = text[text.index("ROCK work-shadowing visit to Lyon") :]
    assert lyon.startswith(
        f"ROCK work-shadowing visit to Lyon  [rock.work_shadowing]\n  already stored: preparation at version {stopped_at}"
    )
    assert "confirm_match" not in lyon[: lyon.index("=>")]  # not walked from the start again
    assert "preparation -> visit" in lyon[: lyon.index("=>")]
    store = SqlStore.open(database)
    try:
        # Every event of every engagement is in the outbox once, waiting for a relay.
        events = store.outbox(status=OutboxStatus.PENDING)
        assert len({e.event_id for e in events}) == len(events)
        assert {e.event.engagement_id for e in events} == set(second)
    finally:
        store.close()


def test_running_the_demo_again_on_a_finished_database_changes_nothing(tmp_path: Path) -> None:
    """A second run on a finished database reports every engagement closed and writes nothing."""
    database = tmp_path / "rock.sqlite3"
    demo.run(io.StringIO(), database=database)
    store = SqlStore.open(database)
    try:
        versions = {i: store.load(i).version for i in store.ids()}
    finally:
        store.close()
    out = io.StringIO()
    assert set(demo.run(out, database=database).values()) == {"closed"}
    assert out.getvalue().count("already stored: closed") == 6
    store = SqlStore.open(database)
    try:
        assert {i: store.load(i).version for i in store.ids()} == versions
    finally:
        store.close()


def test_cli_demo_stops_half_way_and_a_second_run_finishes(tmp_path: Path) -> None:
    """`mentorflow demo --db F --stop-half-way` exits 0 with the middle engagement unfinished;
    `mentorflow demo --db F` then exits 0 with all six closed."""
    database = str(tmp_path / "rock.sqlite3")
    stopped = run_cli("demo", "--db", database, "--stop-half-way", "--json", cwd=tmp_path)
    assert stopped.returncode == 0, stopped.stderr
    assert json.loads(stopped.stdout)[MIDDLE] == "preparation"
    finished = run_cli("demo", "--db", database, "--json", cwd=tmp_path)
    assert finished.returncode == 0, finished.stderr
    assert set(json.loads(finished.stdout).values()) == {"closed"}
