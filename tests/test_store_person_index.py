"""A person's engagements (``ids(participant_id=…)``) are an index search, on new and upgraded databases."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa

from _stores import BACKENDS, back_to_step, bologna, drop_schema, store_target
from mentorflow._sqlexplain import explained
from mentorflow._sqlreads import ids_query
from mentorflow._sqlschema import ATTEMPTS_STEP, PERSON_INDEX_STEP
from mentorflow.exceptions import SchemaMismatch
from mentorflow.sqlstore import SqlStore

PERSON = "athens-1"  # the Athens mentor, in every Bologna engagement

#: PostgreSQL reading the by-person index: an index (only) scan or a bitmap one, as its
#: estimates go.
PG_PERSON_INDEX_READ = re.compile(
    r"Index (Only )?Scan using mf_participants_by_person|Bitmap Index Scan on mf_participants_by_person"
)


def persons_engagements_plan(store: SqlStore, participant_id: str = PERSON) -> str:
    """How the database runs the query behind ``ids(participant_id=…)``, bound as ``ids`` runs
    it: SQLite's ``EXPLAIN QUERY PLAN``, PostgreSQL's ``EXPLAIN`` with sequential scans off.

    On a connection of its own: SQLite keeps a prepared ``EXPLAIN`` as it was, so one prepared
    before a migration would still show the old plan after it. PostgreSQL rightly reads a table
    of a few rows from start to end; ``enable_seqscan = off`` (for this transaction only) asks
    which index it would search instead, so the answer does not depend on the table's size.
    """
    query = ids_query(
        store.tables,
        phase=None,
        organisation_id=None,
        due_before=None,
        participant_id=participant_id,
    )
    engine = sa.create_engine(store.engine.url, poolclass=sa.pool.NullPool)
    try:
        with engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            return "\n".join(explained(conn, query))
    finally:
        engine.dispose()


def assert_searches_the_person_index(plan: str, dialect: str) -> None:
    """The participants table is read through the by-person index, by the person's id."""
    if dialect == "sqlite":
        assert "SEARCH mf_participants USING COVERING INDEX mf_participants_by_person" in plan, plan
        assert "SCAN mf_participants" not in plan, plan
    else:
        assert PG_PERSON_INDEX_READ.search(plan), plan
        assert "Index Cond: (participant_id = " in plan, plan
        assert "mf_participants_pkey" not in plan, plan  # a whole-index scan of the key


def assert_scans_the_participants(plan: str, dialect: str) -> None:
    """Without the index: SQLite reads every participants row (through the primary key, which
    leads with the engagement); PostgreSQL, kept off a sequential scan, reads the whole key."""
    assert "mf_participants_by_person" not in plan, plan
    if dialect == "sqlite":
        assert "SCAN mf_participants" in plan, plan
    else:
        assert "mf_participants_pkey" in plan, plan


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_persons_engagements_are_an_index_search(backend: str, tmp_path: Path) -> None:
    """On a new database the query behind ids(participant_id=…) searches the participants by
    person (mf_participants_by_person), not every row of the table."""
    target, schema = store_target(backend, tmp_path)
    store = SqlStore.open(target, schema=schema)
    try:
        bologna(store)
        assert_searches_the_person_index(persons_engagements_plan(store), store.engine.dialect.name)
    finally:
        store.close()
        drop_schema(schema)


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_database_at_the_attempts_step_upgrades_to_search_by_person(
    backend: str, tmp_path: Path
) -> None:
    """A database an older release left at step 3 scans for a person's engagements; the upgrade
    applies step 4 (and the later ones), and then the same query searches the new index and
    finds the same engagements."""
    target, schema = store_target(backend, tmp_path)
    store = SqlStore.open(target, schema=schema)
    try:
        for engagement_id in ("bologna-b", "bologna-a"):
            bologna(store, engagement_id)
        back_to_step(store, ATTEMPTS_STEP)
        dialect = store.engine.dialect.name
        assert_scans_the_participants(persons_engagements_plan(store), dialect)
        before = store.ids(participant_id=PERSON)
        assert before == ("bologna-a", "bologna-b")
        with pytest.raises(SchemaMismatch) as refused:
            SqlStore.open(target, schema=schema, create=False)
        assert refused.value.missing_steps[PERSON_INDEX_STEP] == "participants by person"
        assert store.migrate()[0] == PERSON_INDEX_STEP
        assert_searches_the_person_index(persons_engagements_plan(store), dialect)
        assert store.ids(participant_id=PERSON) == before
        assert store.ids(participant_id="nobody-1") == ()
        SqlStore.open(target, schema=schema, create=False).close()
    finally:
        store.close()
        drop_schema(schema)
