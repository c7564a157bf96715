"""Store cost: restoring a snapshot vs json.loads; fire + save + outbox vs a hand-written UPDATE + INSERT."""

from __future__ import annotations

import io
import json
import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pendulum
import sqlalchemy as sa

from benchmarks._harness import median_seconds, paired_seconds, report_ratio
from mentorflow import demo
from mentorflow import engine as engine_module
from mentorflow import rock2017 as rock
from mentorflow._sqlrows import engagement_row, history_row, outbox_row
from mentorflow._sqlwrite import GuardedWrite
from mentorflow.catalog import compiled
from mentorflow.serialization import default_codec
from mentorflow.sqlstore import SqlStore
from mentorflow.state import evolve_state
from mentorflow.store import StoredEngagement

FACILITATOR = rock.rep(rock.FACILITATOR_ID)
AT = pendulum.datetime(2017, 6, 1, tz="Europe/Brussels")
PG_URL = os.environ.get("MENTORFLOW_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _walked_document() -> str:
    plan = rock.programme()[2]
    engagement = plan.start(at=AT)
    demo._walk(engagement, plan, demo._Narrator(io.StringIO()))
    return default_codec().dumps(engagement.state)


def bench_restore() -> bool:
    """Snapshot JSON -> EngagementState ready to fire, vs json.loads of the same text."""
    text = _walked_document()
    codec = default_codec()
    method = compiled("rock.mentoring")

    def restore() -> None:
        state = codec.load_state(text)
        StoredEngagement(method, state, store=None)  # type: ignore[arg-type]  # not saved here

    measured, baseline = paired_seconds(restore, lambda: json.loads(text), number=50)
    return report_ratio(
        f"restore a {len(text) // 1024} KiB snapshot vs json.loads", measured, baseline, target=3.0
    )


def bench_save(target: str, schema: str | None, label: str) -> bool:
    """One pause/resume toggle fired and saved with its outbox row, vs raw UPDATE + INSERT."""
    store = SqlStore.open(target, schema=schema)

    def start(engagement_id: str) -> StoredEngagement:
        return StoredEngagement.start(
            compiled("rock.mentoring"),
            store=store,
            id=engagement_id,
            title="bench",
            organisations=rock.programme()[2].organisations,
            participants=rock.programme()[2].participants,
            actor=FACILITATOR,
            at=AT,
        )

    engagement = start("bench")
    start("bench-raw")  # the baseline's row, so the two never touch the same version
    writes_only = _prepared_writes(store, start("bench-rows"))
    codec = default_codec()

    def fire_and_save() -> None:
        if engagement.phase == "paused":
            engagement.fire("resume", actor=FACILITATOR, at=AT)
        else:
            engagement.fire("pause", actor=FACILITATOR, at=AT, reason="bench")

    # The baseline writes a snapshot of the same size (the store keeps the history out of the
    # row) and event-sized rows, through the same driver and connection settings.
    snapshot = codec.dumps(evolve_state(engagement.state, history=()))
    document = codec.dumps(engagement.state.history[0])
    marker = "?" if store.dialect == "sqlite" else "%s"
    markers = ", ".join([marker] * 8)

    def name(table: sa.Table) -> str:
        return f"{schema}.{table.name}" if schema else table.name

    t = store.tables
    update = (
        f"UPDATE {name(t.engagements)} SET snapshot={marker}, version=version+1 WHERE id={marker}"
    )
    insert = (
        f"INSERT INTO {name(t.outbox)} (event_id, engagement_id, sequence, event_type, payload, "
        f"status, attempts, next_attempt_at) VALUES ({markers})"
    )
    history = (
        f"INSERT INTO {name(t.history)} (engagement_id, sequence, at, actor, action, subject, "
        f"to_phase, entry) VALUES ({markers})"
    )
    raw = store.engine.raw_connection()
    counter = iter(range(10**9))

    def by_hand(*, history_row: bool, events: int) -> Callable[[], None]:
        def write() -> None:
            cursor = raw.cursor()
            if store.dialect == "sqlite":
                cursor.execute("BEGIN IMMEDIATE")
            cursor.execute(update, (snapshot, "bench-raw"))
            n = next(counter)
            if history_row:
                cursor.execute(
                    history, ("bench-raw", n, "t", "a", "pause", "s", "paused", document)
                )
            for k in range(events):
                cursor.execute(
                    insert, (f"raw-{n}-{k}", "bench-raw", 0, "X", document, "pending", 0, "")
                )
            raw.commit()

        return write

    hand_written = by_hand(history_row=False, events=1)
    # What the store writes for one pause or resume: the row, a history row and two events.
    same_rows_by_hand = by_hand(history_row=True, events=2)

    measured, baseline = paired_seconds(fire_and_save, hand_written, number=40, repeat=9)
    again, same_rows = paired_seconds(fire_and_save, same_rows_by_hand, number=40, repeat=5)
    print(
        f"  ({label}: the same rows written by hand take {same_rows * 1e6:.0f} µs, "
        f"fire + save {again * 1e6:.0f} µs in that run: {again / same_rows:.2f}x)"
    )
    writes, base = paired_seconds(writes_only, hand_written, number=40, repeat=5)
    print(
        f"  ({label}: the store's writes alone, rows prepared beforehand, take "
        f"{writes * 1e6:.0f} µs, {writes / base:.2f}x the baseline in that run)"
    )
    if store.dialect == "sqlite":
        _print_sync_share(raw, hand_written)
        _print_wal_frames(target, raw, fire_and_save, hand_written)
    raw.close()
    store.close()
    return report_ratio(
        f"fire + save + outbox ({label}) vs UPDATE + INSERT", measured, baseline, target=1.5
    )


def _print_sync_share(raw: Any, hand_written: Callable[[], None]) -> None:
    """How much of the baseline is the commit's fsync: the same writes with synchronous=OFF.

    Both sides pay one fsync per save, so the ratio is set by how slow this disk's fsync is.
    """
    cursor = raw.cursor()
    synced = median_seconds(hand_written, number=40, repeat=5)
    cursor.execute("PRAGMA synchronous=OFF")
    try:
        unsynced = median_seconds(hand_written, number=40, repeat=5)
    finally:
        cursor.execute("PRAGMA synchronous=FULL")
    print(
        f"  (SQLite: the baseline takes {synced * 1e6:.0f} µs, and {unsynced * 1e6:.0f} µs "
        f"without the fsync: the fsync is {1 - unsynced / synced:.0%} of it on this disk)"
    )


def _print_wal_frames(
    target: str, raw: Any, fire_and_save: Callable[[], None], hand_written: Callable[[], None]
) -> None:
    """Pages each side appends to the write-ahead log per save: every page is written, and
    synced, at the commit, so the commit's cost grows with them."""
    cursor = raw.cursor()
    wal = Path(target + "-wal")
    ((page_size,),) = cursor.execute("PRAGMA page_size").fetchall()

    def frames(work: Callable[[], None], saves: int = 50) -> float:
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        for _ in range(saves):
            work()
        return (wal.stat().st_size - 32) / (24 + page_size) / saves  # header, then frames

    store_frames, baseline_frames = frames(fire_and_save), frames(hand_written)
    print(
        f"  (SQLite: a save appends {store_frames:.1f} pages to the log, the baseline "
        f"{baseline_frames:.1f}: the row, history and outbox tables and their indexes)"
    )


def _prepared_writes(store: SqlStore, engagement: StoredEngagement) -> Callable[[], None]:
    """The store's own write of a pause (its rows serialised once, beforehand), saved again and
    again at the next version: what a save costs without firing and serialising."""
    change = engine_module.fire(
        engagement.method, engagement.state, "pause", actor=FACILITATOR, at=AT, reason="bench"
    )
    found = store._deadlines(change.state)
    row = engagement_row(store.codec, change.state, found, store.methods)
    entry = history_row(store.codec, engagement.id, change.state.history[-1])
    events = [outbox_row(store.codec, event) for event in change.events]
    version = iter(range(engagement.version, 10**9))

    def write() -> None:
        at = next(version)
        GuardedWrite(
            store._writes,
            engagement.id,
            at,
            {**row, "version": at + 1},
            [{**entry, "sequence": at + 1, "entry": f"{at} {entry['entry']}"}],
            [{**event, "event_id": f"{event['event_id']}/{at}"} for event in events],
        ).commit(store.engine)

    return write


def main() -> bool:
    """Run every store benchmark; True when all met their targets."""
    results = [bench_restore()]
    with tempfile.TemporaryDirectory() as tmp:
        results.append(bench_save(str(Path(tmp) / "bench.sqlite3"), None, "SQLite"))
    schema = f"mf_bench_{uuid.uuid4().hex[:8]}"
    try:
        results.append(bench_save(PG_URL, schema, "PostgreSQL"))
    except sa.exc.OperationalError as error:
        # A target that was not measured is not met: say so and count it as missed.
        print("fire + save + outbox (PostgreSQL): NOT MEASURED, no server")
        print(f"  ({str(error.orig).splitlines()[0]})")
        results.append(False)
    finally:
        try:
            engine = sa.create_engine(PG_URL)
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()
        except sa.exc.OperationalError:
            pass
    return all(results)
