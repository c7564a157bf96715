"""A roll-out judged against the rule it follows, over random programmes (hypothesis stateful).

Engagements of two methods are started, matched, paused, resumed and cancelled at random, and
new versions of the mentoring method (some that gate the match on a deliverable, some not) are
rolled out, for real or dry, by the facilitator or by an outsider. After every roll-out:

- each engagement of an older version of that method is listed once, and only those;
- its status is what the rule says: ``ended`` when closed or cancelled, else ``migrated``
  (``ready`` in a dry run) exactly when ``can_migrate`` allows it and the actor takes part;
- a migrated engagement is one version further, on the new method version, its last history
  entry the migration; every other engagement is exactly as it was, and a dry run changes none;
- every engagement still loads, and each migration in a history has its event in the outbox.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from pathlib import Path

import pendulum
from hypothesis import event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from _stores import CREATED, FACILITATOR, start_plan
from mentorflow.events import MethodMigrated
from mentorflow.exceptions import ActionRefused
from mentorflow.rollout import RolloutStatus, roll_out
from mentorflow.schedule import is_live
from mentorflow.sqlstore import SqlStore
from mentorflow.state import EngagementState
from mentorflow.store import StoredEngagement
from mentorflow.versions import can_migrate
from test_rollout import gated, plain

VISIT = pendulum.date(2017, 11, 24)
#: The versions a run may roll out: gated ones refuse engagements already matched.
VERSIONS = {2: gated(2), 3: plain(3), 4: gated(4), 5: plain(5)}
#: ROCK programme plans: 0 is a work-shadowing (another method), 2 a mentoring.
PLANS = (0, 2)
ACTIONS = ("confirm_match", "pause", "resume", "cancel")


class RolloutMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = tempfile.mkdtemp(prefix="mf-rollout-")
        self.store = SqlStore.open(str(Path(self.folder) / "store.sqlite3"))
        self.started = 0
        self.now = CREATED

    def teardown(self) -> None:
        self.store.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _tick(self) -> pendulum.DateTime:
        self.now = self.now.add(hours=1)
        return self.now

    @rule(plan=st.sampled_from(PLANS))
    def start(self, plan: int) -> None:
        start_plan(self.store, plan, VISIT, f"e{self.started:02d}")
        self.started += 1

    @precondition(lambda self: self.started > 0)
    @rule(which=st.integers(min_value=0), action=st.sampled_from(ACTIONS))
    def act(self, which: int, action: str) -> None:
        engagement = StoredEngagement.load(self.store, f"e{which % self.started:02d}")
        reason = {"pause": "elections", "cancel": "no budget"}.get(action)
        with contextlib.suppress(ActionRefused):  # not from this phase: the programme goes on
            engagement.fire(action, actor=FACILITATOR, at=self._tick(), reason=reason)

    @rule(
        version=st.sampled_from(sorted(VERSIONS)),
        dry_run=st.booleans(),
        actor=st.sampled_from([FACILITATOR, "outsider-1"]),
    )
    def roll(self, version: int, dry_run: bool, actor: str) -> None:
        new = VERSIONS[version]
        before = {i: self.store.load(i) for i in self.store.ids()}
        expected = {
            i: self._expected(state, version, actor, dry_run)
            for i, state in before.items()
            if state.method_id == new.id and state.method_version < version
        }
        at = self._tick()
        rollout = roll_out(self.store, new, actor=actor, at=at, dry_run=dry_run)
        assert {e.engagement_id: e.status for e in rollout.entries} == expected
        assert [e.engagement_id for e in rollout.entries] == sorted(expected)
        for status in set(expected.values()):
            event(f"a roll-out with an engagement {status}")
        for engagement_id, state in before.items():
            now = self.store.load(engagement_id)
            if expected.get(engagement_id) is RolloutStatus.MIGRATED:
                assert (now.version, now.method_version) == (state.version + 1, version)
                assert now.history[-1].action == "migrate"
                assert now.history[-1].at == at
                assert now.phase == state.phase
            else:
                assert now == state

    def _expected(
        self, state: EngagementState, version: int, actor: str, dry_run: bool
    ) -> RolloutStatus:
        current = self.store.methods.get(state.method_id, state.method_version)
        if not is_live(current, state):
            return RolloutStatus.ENDED
        allowed = can_migrate(state, VERSIONS[version], current=current).allowed
        if not allowed or state.participant(actor) is None:
            return RolloutStatus.REFUSED
        return RolloutStatus.READY if dry_run else RolloutStatus.MIGRATED

    @invariant()
    def every_engagement_loads_and_each_migration_has_its_event(self) -> None:
        for engagement_id in self.store.ids():
            engagement = StoredEngagement.load(self.store, engagement_id)
            migrations = [e for e in engagement.state.history if e.action == "migrate"]
            events = [
                e.event
                for e in self.store.outbox(engagement_id)
                if isinstance(e.event, MethodMigrated)
            ]
            assert len(events) == len(migrations)
            assert engagement.method.version == (events[-1].to_version if events else 1)


RolloutMachine.TestCase.settings = settings(max_examples=50, stateful_step_count=20, deadline=None)
test_rollout_machine = RolloutMachine.TestCase
