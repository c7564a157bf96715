"""Store cost: restoring a snapshot vs json.loads; fire + save + outbox vs a hand-written UPDATE + INSERT."""

from __future__ import annotations

import io
import json
import os
import tempfile
import uuid
from pathlib import Path

import pendulum
import sqlalchemy as sa

from benchmarks._harness import median_seconds, report_ratio
from mentorflow import demo
from mentorflow import rock2017 as rock
from mentorflow.catalog import compiled
from mentorflow.serialization import default_codec
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement

FACILITATOR = rock.rep(rock.FACILITATOR_ID)
AT = pendulum.datetime(2017, 6, 1, tz="Europe/Brussels")
PG_URL = os.environ.get("MENTORFLOW_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _walked_document() -> str:
    plan = rock.programme()[2]
    engagement = plan.start(at=AT)
    demo._mentoring(engagement, plan, demo._Narrator(io.StringIO()))
    return default_codec().dumps(engagement.state)


def bench_restore() -> bool:
    """Snapshot JSON -> EngagementState ready to fire, vs json.loads of the same text."""
    text = _walked_document()
    codec = default_codec()
    method = compiled("rock.mentoring")

    def restore() -> None:
        state = codec.load_state(text)
        StoredEngagement(method, state, store=None)  # type: ignore[arg-type]  # not saved here

    measured = median_seconds(restore, number=50)
    baseline = median_seconds(lambda: json.loads(text), number=50)
    return report_ratio(
        f"restore a {len(text) // 1024} KiB snapshot vs json.loads", measured, baseline, target=3.0
    )


def bench_save(target: str, schema: str | None, label: str) -> bool:
    """One pause/resume toggle fired and saved with its outbox row, vs raw UPDATE + INSERT."""
    store = SqlStore.open(target, schema=schema)
    engagement = StoredEngagement.start(
        compiled("rock.mentoring"),
        store=store,
        id="bench",
        title="bench",
        organisations=rock.programme()[2].organisations,
        participants=rock.programme()[2].participants,
        actor=FACILITATOR,
        at=AT,
    )
    codec = default_codec()

    def fire_and_save() -> None:
        if engagement.phase == "paused":
            engagement.fire("resume", actor=FACILITATOR, at=AT)
        else:
            engagement.fire("pause", actor=FACILITATOR, at=AT, reason="bench")

    measured = median_seconds(fire_and_save, number=40, repeat=5)
    # The baseline writes the same snapshot text and one event row through the same driver.
    snapshot = codec.dumps(engagement.state)
    payload = codec.dumps(engagement.state)[:300]
    e, o = store.tables.engagements, store.tables.outbox
    e_name = f"{schema}.{e.name}" if schema else e.name
    o_name = f"{schema}.{o.name}" if schema else o.name
    marker = "?" if store.dialect == "sqlite" else "%s"
    update = f"UPDATE {e_name} SET snapshot={marker}, version=version+1 WHERE id={marker}"
    insert = (
        f"INSERT INTO {o_name} (event_id, engagement_id, sequence, event_type, payload, status, attempts, "
        f"next_attempt_at) VALUES ({', '.join([marker] * 8)})"
    )
    raw = store.engine.raw_connection()
    counter = iter(range(10**9))

    def hand_written() -> None:
        cursor = raw.cursor()
        if store.dialect == "sqlite":
            cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(update, (snapshot, "bench"))
        cursor.execute(
            insert, (f"raw-{next(counter)}", "bench", 0, "X", payload, "delivered", 0, "")
        )
        raw.commit()

    baseline = median_seconds(hand_written, number=40, repeat=5)
    raw.close()
    store.close()
    return report_ratio(
        f"fire + save + outbox ({label}) vs UPDATE + INSERT", measured, baseline, target=1.5
    )


def main() -> bool:
    """Run every store benchmark; True when all met their targets."""
    results = [bench_restore()]
    with tempfile.TemporaryDirectory() as tmp:
        results.append(bench_save(str(Path(tmp) / "bench.sqlite3"), None, "SQLite"))
    schema = f"mf_bench_{uuid.uuid4().hex[:8]}"
    try:
        results.append(bench_save(PG_URL, schema, "PostgreSQL"))
    except sa.exc.OperationalError as error:
        print(f"PostgreSQL benchmark skipped: {error.__class__.__name__}")
    finally:
        try:
            engine = sa.create_engine(PG_URL)
            with engine.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            engine.dispose()
        except sa.exc.OperationalError:
            pass
    return all(results)
