"""Due-deadline query on SQLite: 10k against 1M stored deadline rows (target: at most 2x slower)."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
from pathlib import Path

import pendulum
import sqlalchemy as sa

from benchmarks._harness import median_seconds, report_ratio, report_value
from mentorflow import deadline_index

KEYS = (
    "agenda@v1",
    "language_plan",
    "mentors_paper",
    "mentors_paper.shared",
    "visit_report",
    "roadmap",
)
BATCH = 50_000
EPOCH = dt.datetime(2017, 1, 1)  # naive UTC, the index's storage form
METADATA = sa.MetaData()
TABLE = deadline_index.define_table(METADATA)


def fill(db: sa.Engine, rows: int, seed: int = 7) -> None:
    """``rows`` deadlines over three years, 70 % already met, inserted by executemany in batches."""
    rng = random.Random(seed)
    insert = (
        "INSERT INTO deadlines (engagement_id, key, what, condition, title, owed_by, visit_id, "
        "rule, severity, due_utc, due_zone, met, engagement_version) "
        "VALUES (?, ?, ?, 'submitted', 'a deliverable', 'host', NULL, 'R-PREP-4', 'hard', ?, "
        "'Europe/Rome', ?, 1)"
    )
    with db.begin() as connection:
        batch: list[tuple[object, ...]] = []
        for n in range(rows):
            key = KEYS[n % len(KEYS)]
            due = EPOCH + dt.timedelta(minutes=rng.randrange(3 * 365 * 24 * 60))
            met = rng.random() < 0.7
            batch.append((f"e{n // len(KEYS)}", key, key.split("@")[0], due.isoformat(" "), met))
            if len(batch) == BATCH:
                connection.exec_driver_sql(insert, batch)
                batch = []
        if batch:
            connection.exec_driver_sql(insert, batch)
        connection.exec_driver_sql("ANALYZE")


def query_time(db: sa.Engine) -> float:
    """Median time of the due query (the first 100 open rows due before a mid-range instant)."""
    now = pendulum.datetime(2018, 6, 1, tz="UTC")
    with db.connect() as connection:
        assert len(deadline_index.due_before(connection, TABLE, now, 100)) == 100
        return median_seconds(
            lambda: deadline_index.due_before(connection, TABLE, now, 100), number=200
        )


def main() -> bool:
    """Build both databases, time the due query on each, report the ratio."""
    with tempfile.TemporaryDirectory() as folder:
        times = {}
        for rows in (10_000, 1_000_000):
            db = sa.create_engine(f"sqlite:///{Path(folder) / f'd{rows}.db'}")
            METADATA.create_all(db)
            fill(db, rows)
            times[rows] = query_time(db)
            with db.connect() as connection:
                plan = deadline_index.query_plan(
                    connection, TABLE, pendulum.datetime(2018, 6, 1, tz="UTC"), 100
                )
            print(f"  plan at {rows:>9,} rows: {'; '.join(plan)}")
            db.dispose()
    report_value("due query, 100 rows, 10k stored", times[10_000] * 1e3, "ms")
    return report_ratio(
        "due query, 1M vs 10k stored deadlines", times[1_000_000], times[10_000], target=2.0
    )
