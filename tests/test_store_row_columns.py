"""The engagement row's indexed columns stay true to the snapshot while a save writes only changes.

A save sets the phase, method version and next deadline only when the action changed them (so
SQLite does not rewrite their indexes for nothing). These tests check that the columns the
queries read (``ids(phase=…)``, ``ids(due_before=…)``, the method check on load) always say
what the stored snapshot says, over random action sequences on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings
from hypothesis.stateful import initialize, invariant, run_state_machine_as_test

from _stores import BACKENDS, FACILITATOR, bologna, expected_rows, index_rows, open_store
from mentorflow._sqlschema import utc_text
from mentorflow.catalog import compiled
from mentorflow.engine import fire
from mentorflow.events import EventBus
from mentorflow.exceptions import InvalidInput
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement, next_deadline
from mentorflow.testing import method_state_machine
from mentorflow.testing.recorder import EventRecorder
from mentorflow.testing.strategies import Team, teams

STEPS = 25


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from open_store(request.param, tmp_path)


def stored_columns(store: SqlStore, engagement_id: str) -> tuple[object, ...]:
    """The row's (version, phase, method id, method version, next deadline) as stored."""
    e = store.tables.engagements
    query = sa.select(
        e.c.version, e.c.phase, e.c.method_id, e.c.method_version, e.c.next_deadline
    ).where(e.c.id == engagement_id)
    with store.engine.connect() as conn:
        return tuple(conn.execute(query).one())


def derived_columns(engagement: StoredEngagement) -> tuple[object, ...]:
    """What the snapshot says those columns must hold."""
    state = engagement.state
    due = next_deadline(state, engagement.method)
    return (
        state.version,
        state.phase,
        state.method_id,
        state.method_version,
        utc_text(due) if due is not None else None,
    )


def forget(store: SqlStore, engagement_id: str) -> None:
    """Remove every row of one engagement, so the next example can reuse its id."""
    t = store.tables
    with store.engine.begin() as conn:
        for table, column in (
            (t.outbox, t.outbox.c.engagement_id),
            (t.history, t.history.c.engagement_id),
            (t.participants, t.participants.c.engagement_id),
            (t.deadlines, t.deadlines.c.engagement_id),
            (t.engagements, t.engagements.c.id),
        ):
            conn.execute(table.delete().where(column == engagement_id))


@pytest.mark.parametrize("method_id", ["rock.mentoring", "rock.work_shadowing"])
def test_row_columns_follow_random_actions(store: SqlStore, method_id: str) -> None:
    """Random actions (pause, resume, submits, visit moves, cancel) keep phase, method version,
    next deadline and the deadline index equal to what the stored snapshot gives."""
    method = compiled(method_id)
    store.methods.add(method)
    base = method_state_machine(method)

    class StoredMachine(base):  # type: ignore[misc,valid-type]  # a class made at run time
        """The generated machine, on an engagement saved to the store at every action."""

        @initialize(team=teams(method, tentative=None))
        def start(self, team: Team) -> None:
            bus = EventBus()
            self.recorder = EventRecorder(bus)
            self.team = team
            self.engagement = StoredEngagement.start(
                method,
                store=store,
                id="engagement-1",  # the id the machine's replay check starts with
                title="Generated engagement",
                organisations=team.organisations,
                participants=team.participants,
                actor=team.facilitator,
                at=self.now,
                themes=team.themes,
                visits=team.visits,
                prerequisites=team.prerequisites,
                bus=bus,
            )

        @invariant()
        def row_says_what_the_snapshot_says(self) -> None:
            if self.engagement is None:
                return
            engagement = self.engagement
            assert stored_columns(store, engagement.id) == derived_columns(engagement)
            assert store.load(engagement.id) == engagement.state
            live = engagement.state.phase in engagement.method.active_phases or (
                engagement.state.is_paused
            )
            assert index_rows(store, engagement.id) == (expected_rows(engagement) if live else {})
            assert (engagement.id in store.ids(phase=engagement.state.phase)) is True

        def teardown(self) -> None:
            try:
                super().teardown()
            finally:
                forget(store, "engagement-1")

    # Fewer runs than the profile's: the engine's own promises are covered by
    # test_core_stateful; these runs are about the rows, and each step reads them back.
    examples = min(settings.default.max_examples, 100)
    run_state_machine_as_test(
        StoredMachine,
        settings=settings(settings.default, stateful_step_count=STEPS, max_examples=examples),
    )


def test_pause_and_resume_keep_the_row_true(store: SqlStore) -> None:
    """A pause changes the phase column (ids(phase=…) finds it paused) and a resume changes it
    back, while the method version and next deadline, left alone, keep their values."""
    engagement = bologna(store)
    before = stored_columns(store, engagement.id)
    at = engagement.state.history[-1].at.add(days=1)
    engagement.fire("pause", actor=FACILITATOR, at=at, reason="elections")
    paused = stored_columns(store, engagement.id)
    assert paused[1] == engagement.state.phase != before[1]
    assert paused[3:] == before[3:]
    assert store.ids(phase=engagement.state.phase) == (engagement.id,)
    engagement.fire("resume", actor=FACILITATOR, at=at)
    assert stored_columns(store, engagement.id) == derived_columns(engagement)
    assert stored_columns(store, engagement.id)[1:] == before[1:]


def test_a_previous_snapshot_of_another_version_is_refused(store: SqlStore) -> None:
    """save(previous=…) must be the snapshot at expected_version; another is refused by name
    and nothing is written (it decides which columns the save leaves alone)."""
    engagement = bologna(store)
    first = engagement.state
    at = first.history[-1].at.add(days=1)
    engagement.fire("pause", actor=FACILITATOR, at=at, reason="elections")
    change = fire(engagement.method, engagement.state, "resume", actor=FACILITATOR, at=at)
    before = stored_columns(store, engagement.id)
    with pytest.raises(InvalidInput) as refused:
        store.save(change, expected_version=engagement.version, previous=first)
    assert "$.previous" in str(refused.value)
    assert stored_columns(store, engagement.id) == before
    store.save(change, expected_version=engagement.version, previous=engagement.state)
    assert stored_columns(store, engagement.id)[1] == change.state.phase
