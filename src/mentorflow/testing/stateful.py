"""A hypothesis ``RuleBasedStateMachine`` generated from any method, with the engine's invariants.

``method_state_machine(compiled)`` returns a machine class whose rules submit valid and invalid
deliverables, share, approve, plan visits and fire every trigger (pause, resume and cancel
included) as random participants, owners or not, while time moves forward. A guided rule works
through the verdict's unmet requirements so runs also reach deep phases. After every step it
checks:

- an accepted trigger had no unmet hard requirement on the snapshot it was fired from;
- every refusal names at least one reason, and ``check()`` agreed with ``fire()`` beforehand;
- history holds one entry per accepted action, creation included;
- a refusal or an error leaves the snapshot equal to what it was;
- event sequence numbers run 1, 2, 3, ... with deterministic, unique ids;
- replaying the accepted actions on a fresh engagement gives the same snapshot and events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import pendulum
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from mentorflow._erasure import ERASED_NAME
from mentorflow.deliverables import DraftAgenda, FollowUpReview, LocalRoadmap
from mentorflow.engagement import Engagement, Outcome
from mentorflow.events import EVENT_SCHEMA_VERSION, EventBus, event_id
from mentorflow.exceptions import (
    ActionRefused,
    InvalidDeliverable,
    InvalidInput,
    MentorflowError,
    UnknownParticipant,
    UnknownTrigger,
)
from mentorflow.model import Participant, Party, Role, Visit, VisitMode, VisitWindow, belongs_to
from mentorflow.requirements import Context
from mentorflow.state import DeliverableStatus, EngagementState
from mentorflow.testing.recorder import EventRecorder
from mentorflow.testing.strategies import (
    Team,
    complete_agendas,
    follow_up_reviews,
    invalid_content,
    teams,
    texts,
    valid_content,
)
from mentorflow.verdicts import Severity, Verdict

if TYPE_CHECKING:
    import datetime as dt

    from mentorflow.compiled import CompiledMethod

__all__ = ["STRANGER", "method_state_machine"]

#: An actor id no generated team uses: actions by it must raise UnknownParticipant.
STRANGER = "stranger-0"
_NO_SUCH_TRIGGER = "no_such_trigger"
_START = pendulum.datetime(2017, 9, 1, 9, tz="Europe/Brussels")

Act = Callable[[Engagement], Outcome]


@attrs.frozen
class _Logged:
    """An accepted action, kept so the run can be replayed on a fresh engagement."""

    name: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]

    def apply(self, engagement: Engagement) -> Outcome:
        result: Outcome = getattr(engagement, self.name)(*self.args, **self.kwargs)
        return result


def method_state_machine(
    method: CompiledMethod,
    team_strategy: st.SearchStrategy[Team] | None = None,
    *,
    start_at: dt.datetime = _START,
) -> type[RuleBasedStateMachine]:
    """A ``RuleBasedStateMachine`` class that drives engagements on ``method`` at random.

    ``team_strategy`` draws who takes part (default: ``teams(method, tentative=None)``, which
    satisfies the method's team composition). Run it with ``Machine.TestCase`` and
    ``settings(stateful_step_count=...)``.
    """
    team_source = team_strategy if team_strategy is not None else teams(method, tentative=None)
    spec_of = method.method.deliverable_specs
    kinds = sorted(spec_of)
    trigger_names = sorted(method.triggers)
    reasons = st.one_of(st.none(), st.just(""), texts(20))
    start_instant = (
        pendulum.instance(start_at) if not isinstance(start_at, pendulum.DateTime) else start_at
    )

    class MethodMachine(RuleBasedStateMachine):
        """Random actions on one engagement of the method, checked against the engine's promises."""

        def __init__(self) -> None:
            super().__init__()
            self.engagement: Engagement | None = None
            self.team: Team | None = None
            self.now = start_instant
            self.log: list[_Logged] = []
            self.recorder: EventRecorder | None = None
            self.extra_visits = 0

        # -- set-up -------------------------------------------------------------------------

        @initialize(team=team_source)
        def start(self, team: Team) -> None:
            bus = EventBus()
            self.recorder = EventRecorder(bus)
            self.team = team
            self.engagement = team.start(method, at=self.now, bus=bus)
            assert len(self.recorder) == 1
            assert self.engagement.version == 1

        # -- helpers ------------------------------------------------------------------------

        @property
        def eng(self) -> Engagement:
            assert self.engagement is not None
            return self.engagement

        @property
        def people(self) -> tuple[Participant, ...]:
            return self.eng.state.participants

        def actor(self, data: st.DataObject, preferred: list[str]) -> str:
            """An actor who may well be allowed, or anyone (a stranger now and then)."""
            prefer: bool = data.draw(st.booleans(), label="prefer an allowed actor")
            if preferred and prefer:
                return data.draw(st.sampled_from(preferred), label="actor")
            return data.draw(
                st.sampled_from([*(p.id for p in self.people), STRANGER]), label="actor"
            )

        def acting_for(self, parties: tuple[Party, ...], visit: Visit | None = None) -> list[str]:
            target = visit if visit is not None else self.eng.state.visit
            return [
                p.id for p in self.people if any(belongs_to(p, party, target) for party in parties)
            ]

        def related(self, data: st.DataObject | None) -> dict[str, str] | None:
            prerequisites = self.eng.state.prerequisites
            if not prerequisites:
                return None
            if data is None:
                return dict.fromkeys(prerequisites, "closed")
            phases = st.sampled_from(("closed", "closed", "follow_up", "visit"))
            return data.draw(
                st.one_of(st.none(), st.fixed_dictionaries(dict.fromkeys(prerequisites, phases)))
            )

        def content(self, data: st.DataObject, kind: str) -> Any:
            state = self.eng.state
            roadmap = state.deliverable(LocalRoadmap.kind)
            if kind == FollowUpReview.kind and roadmap is not None and data.draw(st.booleans()):
                return data.draw(follow_up_reviews(roadmap.content))  # type: ignore[arg-type]
            visit = state.visit
            if (
                kind == DraftAgenda.kind
                and visit is not None
                and visit.window is not None
                and data.draw(st.booleans())
            ):
                return DraftAgenda(data.draw(complete_agendas(visit.window.start)))
            return data.draw(valid_content(kind), label=f"{kind} content")

        def attempt(
            self,
            name: str,
            *args: Any,
            predicted: Verdict | type[MentorflowError] | None = None,
            **kwargs: Any,
        ) -> Outcome | None:
            """Run one action and check what any action promises; return the outcome if accepted."""
            before = self.eng.state
            failure: MentorflowError | None = None
            try:
                outcome: Outcome = getattr(self.eng, name)(*args, **kwargs)
            except MentorflowError as error:
                failure = error
            if failure is not None:
                assert self.eng.state == before, f"{name} raised {failure!r} and changed the state"
                if isinstance(failure, ActionRefused):
                    assert failure.verdict.unmet, f"{name} refused without a reason"
                    if isinstance(predicted, Verdict):
                        assert predicted == failure.verdict, "check() and the refusal disagree"
                    else:
                        assert predicted is None, f"check() raised {predicted}, {name} refused"
                else:
                    assert not isinstance(predicted, Verdict), (
                        f"check() gave a verdict, {name} raised"
                    )
                    assert predicted is None or isinstance(failure, predicted), (
                        f"{name}: {failure!r}"
                    )
                return None
            if isinstance(predicted, Verdict):
                assert predicted.allowed, (
                    f"check() refused, {name} succeeded: {predicted.explain()}"
                )
            else:
                assert predicted is None, f"check() raised {predicted}, {name} succeeded"
            recorder = self.recorder
            assert recorder is not None
            assert tuple(recorder.events[-len(outcome.events) :]) == outcome.events
            assert self.eng.version == before.version + 1
            self.log.append(_Logged(name, args, kwargs))
            return outcome

        def fire(self, trigger: str, actor: str, **kwargs: Any) -> Outcome | None:
            """Fire after asking check(); an accepted trigger is judged again on the snapshot."""
            before = self.eng.state
            try:
                predicted: Verdict | type[MentorflowError] = self.eng.check(
                    trigger,
                    actor=actor,
                    at=self.now,
                    reason=kwargs.get("reason"),
                    related=kwargs.get("related"),
                )
            except MentorflowError as error:
                predicted = type(error)
            outcome = self.attempt(
                "fire", trigger, actor=actor, at=self.now, predicted=predicted, **kwargs
            )
            if outcome is not None:
                self.judge_accepted(before, trigger, actor, kwargs.get("related"))
            elif trigger == _NO_SUCH_TRIGGER:
                assert predicted is UnknownTrigger
            return outcome

        def judge_accepted(
            self,
            before: EngagementState,
            trigger: str,
            actor: str,
            related: Mapping[str, str] | None,
        ) -> None:
            spec = method.trigger(trigger)
            ctx = Context(before, method.method, self.now, related or {})
            unmet = [
                f for r in spec.requirements for f in r.evaluate(ctx) if f.severity is Severity.HARD
            ]
            assert not unmet, f"{trigger} entered {self.eng.state.phase} with {unmet}"
            assert self.eng.state.phase == method.table.dest(trigger, before.phase)
            person = before.participant(actor)
            assert person is not None
            assert any(belongs_to(person, p, before.visit) for p in spec.parties), (
                f"{actor} may not {trigger}"
            )

        def submit(self, content: Any, actor: str) -> Outcome | None:
            try:
                predicted: Verdict | type[MentorflowError] = self.eng.check_submission(
                    content, actor=actor, at=self.now
                )
            except MentorflowError as error:
                predicted = type(error)
            return self.attempt("submit", content, actor=actor, at=self.now, predicted=predicted)

        # -- rules --------------------------------------------------------------------------

        @rule(hours=st.integers(1, 24 * 120))
        def time_passes(self, hours: int) -> None:
            self.now = self.now.add(hours=hours)

        @rule(data=st.data(), kind=st.sampled_from(kinds))
        def submit_valid(self, data: st.DataObject, kind: str) -> None:
            content = self.content(data, kind)
            outcome = self.submit(
                content, self.actor(data, self.acting_for((spec_of[kind].owner,)))
            )
            if outcome is not None:
                assert self.eng.state.deliverable(kind, outcome.events[0].visit_id) is not None  # type: ignore[attr-defined]

        @rule(data=st.data(), kind=st.sampled_from(kinds))
        def submit_invalid(self, data: st.DataObject, kind: str) -> None:
            path, content = data.draw(invalid_content(kind), label="spoiled content")
            before = self.eng.state
            named: set[str] = set()
            try:
                self.eng.submit(content, actor=self.actor(data, []), at=self.now)
            except InvalidDeliverable as error:
                named = {p.path for p in error.problems}
            assert path in named, f"invalid {kind} content: {path} not named in {named}"
            assert self.eng.state == before

        @rule(data=st.data(), kind=st.sampled_from(kinds))
        def share(self, data: st.DataObject, kind: str) -> None:
            actor = self.actor(data, self.acting_for((spec_of[kind].owner,)))
            if self.attempt("share", kind, actor=actor, at=self.now) is not None:
                record = self.eng.state.deliverable(kind, self._slot_visit(kind))
                assert record is not None
                assert record.status is DeliverableStatus.SHARED

        @rule(data=st.data(), kind=st.sampled_from(kinds))
        def approve(self, data: st.DataObject, kind: str) -> None:
            actor = self.actor(data, self.acting_for(spec_of[kind].approvers))
            before = self.eng.state.deliverable(kind, self._slot_visit(kind))
            if self.attempt("approve", kind, actor=actor, at=self.now) is not None:
                after = self.eng.state.deliverable(kind, self._slot_visit(kind))
                assert before is not None
                assert after is not None
                assert after.version == before.version
                assert len(after.approvals) == len(before.approvals) + 1

        @rule(
            data=st.data(),
            trigger=st.sampled_from([*trigger_names, _NO_SUCH_TRIGGER]),
            reason=reasons,
        )
        def fire_trigger(self, data: st.DataObject, trigger: str, reason: str | None) -> None:
            spec = method.triggers.get(trigger)
            actor = self.actor(data, self.acting_for(spec.parties) if spec else [])
            self.fire(trigger, actor, reason=reason, related=self.related(data))

        @rule(data=st.data(), trigger=st.sampled_from(trigger_names))
        def fire_acknowledging(self, data: st.DataObject, trigger: str) -> None:
            """Acknowledge the warnings (or, now and then, a hard rule, which must be an error)."""
            actor = self.actor(data, self.acting_for(method.trigger(trigger).parties))
            related = self.related(None)
            try:
                verdict = self.eng.check(
                    trigger, actor=actor, at=self.now, reason="on purpose", related=related
                )
            except MentorflowError:
                return
            hard: bool = data.draw(st.booleans(), label="acknowledge a hard rule")
            if verdict.unmet and hard:
                before = self.eng.state
                try:
                    self.eng.fire(
                        trigger,
                        actor=actor,
                        at=self.now,
                        reason="on purpose",
                        related=related,
                        acknowledge={verdict.unmet[0].rule: "we accept it"},
                    )
                except InvalidInput as error:
                    named = [p.path for p in error.problems]
                else:
                    named = []
                assert any(p.startswith("$.acknowledge") for p in named), "hard rule acknowledged"
                assert self.eng.state == before
                return
            # A rule id that is also unmet is hard here, and cannot be acknowledged (R-PREP-3 is
            # both: the document is required, its lead time only advised).
            acknowledge = {
                w.rule: "accepted by the facilitator"
                for w in verdict.warnings
                if w.rule not in verdict.rules
            }
            outcome = self.fire(
                trigger, actor, reason="on purpose", related=related, acknowledge=acknowledge
            )
            if outcome is not None and acknowledge:
                recorded = {a.rule for a in self.eng.history[-1].acknowledged}
                assert recorded == set(acknowledge), "acknowledgements missing from history"

        @rule(data=st.data())
        def plan_visit(self, data: st.DataObject) -> None:
            state = self.eng.state
            visits = list(state.visits)
            change: bool = data.draw(st.booleans(), label="change a planned visit")
            if visits and change:
                visit = data.draw(st.sampled_from(visits))
                window = visit.window or VisitWindow(
                    self.now.date().add(days=30), self.now.date().add(days=32)
                )
                low, _ = method.method.parameters.visit_days
                fixed = VisitWindow(
                    window.start, window.start.add(days=max(low, 1) - 1), tentative=False
                )
                visit = attrs.evolve(visit, window=fixed)
            else:
                self.extra_visits += 1
                hosts = [o.id for o in state.organisations]
                host = data.draw(st.sampled_from(hosts))
                first = self.now.date().add(days=data.draw(st.integers(1, 200)))
                visit = Visit(
                    id=f"extra-{self.extra_visits}",
                    host=host,
                    visitors=tuple(o for o in hosts if o != host)[:3],
                    mode=data.draw(st.sampled_from(VisitMode)),
                    window=VisitWindow(
                        first,
                        first.add(days=data.draw(st.integers(0, 4))),
                        data.draw(st.booleans()),
                    ),
                    aim=data.draw(st.one_of(st.just(""), texts(20))),
                    expected_outcome="a concrete outcome",
                )
            preferred = [p.id for p in self.people if p.role is Role.FACILITATOR]
            preferred += self.acting_for((Party.HOST,), visit)
            self.attempt("plan_visit", visit, actor=self.actor(data, preferred), at=self.now)

        @rule(data=st.data(), steps=st.integers(1, 4))
        def guided_steps(self, data: st.DataObject, steps: int) -> None:
            """A few steps towards closure, so that random runs also reach the late phases."""
            for _ in range(steps):
                self.guided_step(data)

        def guided_step(self, data: st.DataObject) -> None:
            """Work towards the next phase: fire what is allowed, else supply what is missing."""
            state = self.eng.state
            if state.is_paused:
                self.fire(
                    "resume", self.team.facilitator if self.team else "", reason="back to work"
                )
                return
            related = self.related(None)
            for trigger in self.eng.available_triggers():
                if trigger in ("pause", "cancel"):
                    continue
                actors = self.acting_for(method.trigger(trigger).parties)
                for actor in actors:
                    verdict = self.eng.check(
                        trigger, actor=actor, at=self.now, reason="planned", related=related
                    )
                    if verdict.allowed:
                        self.fire(trigger, actor, reason="planned", related=related)
                        return
                if actors:
                    verdict = self.eng.check(
                        trigger, actor=actors[0], at=self.now, reason="planned", related=related
                    )
                    for finding in verdict.unmet:
                        if self.supply(data, finding.deliverable, finding.rule):
                            return

        def supply(self, data: st.DataObject, kind: str | None, rule_id: str) -> bool:
            """Take the next step towards meeting a finding; False when there is nothing to do."""
            state = self.eng.state
            visit = state.visit
            if kind is None:
                if rule_id in ("R-PROG-7", "R-PROG-5") and visit is not None:
                    start = visit.window.start if visit.window else self.now.date().add(days=30)
                    low, _ = method.method.parameters.visit_days
                    fixed = VisitWindow(start, start.add(days=max(low, 1) - 1))
                    planned = attrs.evolve(
                        visit,
                        window=fixed,
                        aim=visit.aim or "an aim",
                        expected_outcome=visit.expected_outcome or "an outcome",
                    )
                    facilitator = self.team.facilitator if self.team else ""
                    return (
                        self.attempt("plan_visit", planned, actor=facilitator, at=self.now)
                        is not None
                    )
                return False
            if kind not in spec_of:
                return False
            spec = spec_of[kind]
            record = state.deliverable(kind, self._slot_visit(kind))
            owners = self.acting_for((spec.owner,))
            if record is None or record.status is DeliverableStatus.APPROVED:
                # Missing, or approved yet still named (an agenda without a required session,
                # a review that misses an action): a new version is the way forward.
                return bool(owners) and self.submit(self.content(data, kind), owners[0]) is not None
            if spec.shared_first and record.status is DeliverableStatus.SUBMITTED and owners:
                return self.attempt("share", kind, actor=owners[0], at=self.now) is not None
            for party in spec.approvers:
                if not record.approved_by(party.value):
                    approvers = self.acting_for((party,))
                    if approvers:
                        return (
                            self.attempt("approve", kind, actor=approvers[0], at=self.now)
                            is not None
                        )
            return False

        def _slot_visit(self, kind: str) -> str | None:
            visit = self.eng.state.visit
            return visit.id if spec_of[kind].per_visit and visit is not None else None

        @rule(data=st.data())
        def erase_a_name(self, data: st.DataObject) -> None:
            """A participant's name erased, in any phase: by the facilitator or by themselves,
            once; by anyone else, or a second time, refused. Only that name changes."""
            person = data.draw(st.sampled_from(self.people), label="whose name")
            facilitators = [p.id for p in self.people if p.role is Role.FACILITATOR]
            actor = self.actor(data, [person.id, *facilitators])
            before = self.eng.state
            outcome = self.attempt("erase_participant", person.id, actor=actor, at=self.now)
            doer = before.participant(actor)
            allowed = doer is not None and (doer.role is Role.FACILITATOR or doer.id == person.id)
            assert (outcome is not None) == (allowed and person.name != ERASED_NAME)
            if outcome is not None:
                assert self.eng.state.participant(person.id) == attrs.evolve(
                    person, name=ERASED_NAME
                )
                assert self.eng.state.phase == before.phase

        @rule(data=st.data())
        def stranger_acts(self, data: st.DataObject) -> None:
            """A participant the engagement does not know is an error, never a silent no-op."""
            before = self.eng.state
            try:
                self.eng.check(
                    data.draw(st.sampled_from(trigger_names)), actor=STRANGER, at=self.now
                )
            except UnknownParticipant:
                pass
            else:
                raise AssertionError("a stranger's check did not raise UnknownParticipant")
            assert self.eng.state == before

        # -- invariants ---------------------------------------------------------------------

        @invariant()
        def history_counts_every_accepted_action(self) -> None:
            if self.engagement is None:
                return
            assert len(self.eng.history) == len(self.log) + 1
            assert [h.sequence for h in self.eng.history] == list(range(1, len(self.log) + 2))

        @invariant()
        def events_are_contiguous_unique_and_deterministic(self) -> None:
            if self.engagement is None or self.recorder is None:
                return
            events = self.recorder.events
            assert self.recorder.sequences == list(range(1, len(events) + 1))
            assert self.eng.state.event_count == len(events)
            ids = [e.id for e in events]
            assert len(set(ids)) == len(ids)
            assert all(e.id == event_id(self.eng.id, e.sequence) for e in events)
            assert all(
                e.schema_version == EVENT_SCHEMA_VERSION and e.engagement_id == self.eng.id
                for e in events
            )
            assert [i for h in self.eng.history for i in h.event_ids] == ids

        @invariant()
        def phase_is_a_state_of_the_method(self) -> None:
            if self.engagement is not None:
                assert self.eng.state.phase in method.table.states

        def teardown(self) -> None:
            """Replaying the accepted actions on a fresh engagement gives the same result."""
            if self.engagement is None or self.team is None or self.recorder is None:
                return
            bus = EventBus()
            with EventRecorder(bus) as again:
                replay = self.team.start(method, at=start_instant, bus=bus)
                for entry in self.log:
                    entry.apply(replay)
            assert replay.state == self.eng.state, "replay diverged"
            assert again.events == self.recorder.events, "replayed events differ"

    MethodMachine.__name__ = MethodMachine.__qualname__ = (
        f"MethodMachine_{method.id.replace('.', '_')}"
    )
    return MethodMachine
