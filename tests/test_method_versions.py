"""Method versions: every reason can_migrate gives, diff, and migrations that change all or nothing."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st

from _stores import BACKENDS, FACILITATOR, bologna, open_store
from mentorflow.catalog import METHODS, compiled
from mentorflow.compiled import CompiledMethod
from mentorflow.deliverables import MentorsPaper
from mentorflow.exceptions import ActionRefused, ConcurrencyConflict, InvalidInput, InvalidMethod
from mentorflow.methods import DeliverableSpec, Method, MethodParameters, TriggerSpec
from mentorflow.model import EngagementKind, Participant, Party, Role
from mentorflow.requirements import Delivered, PageCount, Requirement
from mentorflow.sqlstore import SqlStore
from mentorflow.state import DeliverableStatus, EngagementState, evolve_state
from mentorflow.store import StoredEngagement, method_problems
from mentorflow.verdicts import Severity, Verdict
from mentorflow.versions import MIGRATE_RULE, MethodRegistry, can_migrate, diff, migrate
from walker import Walk

V1 = METHODS["rock.mentoring"]()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from open_store(request.param, tmp_path)


# -- building versions and engagements --------------------------------------------------------


def v2(method: Method = V1, **changes: Any) -> Method:
    """``method`` as version 2 with ``changes``."""
    return attrs.evolve(method, **{"version": 2, **changes})


def with_spec(kind: str, method: Method = V1, **changes: Any) -> Method:
    """Version 2 where the deliverable ``kind`` is declared with ``changes``."""
    specs = tuple(attrs.evolve(d, **changes) if d.kind == kind else d for d in method.deliverables)
    return v2(method, deliverables=specs)


def with_trigger_requirement(trigger: str, requirement: Requirement) -> Method:
    """Version 2 where ``trigger`` is also gated by ``requirement``."""
    triggers = tuple(
        attrs.evolve(t, requirements=(*t.requirements, requirement)) if t.name == trigger else t
        for t in V1.triggers
    )
    return v2(triggers=triggers)


def without_deliverable(kind: str, method: Method = V1) -> Method:
    """Version 2 with no ``kind`` deliverable, nor any gate or ``requires`` naming it."""

    def keeps(requirement: object) -> bool:
        return getattr(requirement, "deliverable", None) != kind and not (
            kind == "learning_objectives" and isinstance(requirement, PageCount)
        )

    triggers = tuple(
        attrs.evolve(t, requirements=tuple(r for r in t.requirements if keeps(r)))
        for t in method.triggers
    )
    specs = tuple(
        attrs.evolve(d, requires=tuple(n for n in d.requires if n != kind))
        for d in method.deliverables
        if d.kind != kind
    )
    return v2(method, deliverables=specs, triggers=triggers)


def without_preparation(method: Method = V1) -> Method:
    """Version 2 going from matchmaking straight to the visit (the preparation phase removed)."""
    phases = tuple(p for p in method.phases if p.name != "preparation")
    triggers = tuple(
        attrs.evolve(
            t,
            sources=tuple("matchmaking" if s == "preparation" else s for s in t.sources),
            dest="visit" if t.dest == "preparation" else t.dest,
        )
        for t in method.triggers
    )
    return v2(method, phases=phases, triggers=triggers)


def paper_approved() -> EngagementState:
    """Bologna's ROCK mentoring in matchmaking: needs assessment and mentors' paper approved."""
    walk = Walk("rock.mentoring")
    walk.supply("needs_assessment")
    walk.supply("mentors_paper")
    return walk.state  # type: ignore[no-any-return]


def paper_submitted() -> EngagementState:
    """Bologna's ROCK mentoring with the mentors' paper submitted, not yet shared or approved."""
    walk = Walk("rock.mentoring", unapproved=("mentors_paper",))
    walk.supply("needs_assessment")
    walk.supply("mentors_paper")
    return walk.state  # type: ignore[no-any-return]


def messages(verdict: Verdict) -> list[str]:
    """The messages of the verdict's reasons, after checking they are all migration findings."""
    assert {f.rule for f in verdict.unmet} <= {MIGRATE_RULE}
    return [f.message for f in verdict.unmet]


def refused_for(state: EngagementState, new: Method, *fragments: str) -> Verdict:
    """The refusal of ``state`` to ``new``, after checking one reason holds every fragment."""
    verdict = can_migrate(state, new)
    assert not verdict.allowed
    assert any(all(f in m for f in fragments) for m in messages(verdict)), verdict.explain()
    return verdict


# -- the reasons a migration is refused -------------------------------------------------------


def test_identical_newer_version_is_allowed() -> None:
    """A newer version that changes nothing the engagement holds lets it move, with no warning."""
    verdict = can_migrate(paper_approved(), v2(description="2018 edition"))
    assert verdict.allowed
    assert verdict.warnings == ()


def test_refused_for_a_different_method() -> None:
    """A version of another method is refused, naming both method ids."""
    refused_for(paper_approved(), v2(id="other.mentoring"), "other.mentoring", "rock.mentoring")


def test_refused_when_not_newer() -> None:
    """Moving to the same (or an older) version is refused."""
    refused_for(paper_approved(), V1, "v1 is not newer than v1")


def test_refused_when_the_kind_changes() -> None:
    """A version that runs another kind of engagement is refused."""
    refused_for(paper_approved(), v2(kind=EngagementKind.WORK_SHADOWING), "work_shadowing")


def test_refused_when_the_current_phase_is_removed() -> None:
    """A version without the phase the engagement is in is refused, naming the phase."""
    walk = Walk("rock.mentoring")
    walk.fire("confirm_match")
    refused_for(walk.state, without_preparation(), "'preparation'", "does not exist in v2")


def test_refused_when_a_participants_role_is_dropped() -> None:
    """A version without the role a participant holds is refused, naming the participant."""
    plan = Walk("rock.mentoring").plan
    observer = Participant("observer-1", "Observer", Role.OBSERVER, "bologna")
    walk = Walk(
        "rock.mentoring", plan=attrs.evolve(plan, participants=(*plan.participants, observer))
    )
    roles = (Role.MENTOR, Role.MENTEE, Role.FACILITATOR)
    refused_for(walk.state, v2(roles=roles), "Observer is a observer", "role v2 does not have")


def test_refused_when_a_submitted_deliverable_is_removed() -> None:
    """A version without a deliverable the engagement holds is refused, naming it."""
    verdict = refused_for(paper_approved(), without_deliverable("mentors_paper"), "no longer")
    assert "mentors_paper" in {f.deliverable for f in verdict.unmet}


def test_refused_when_per_visit_changes() -> None:
    """A deliverable held per engagement that v2 keeps per visit is refused."""
    new = with_spec("mentors_paper", per_visit=True)
    refused_for(paper_approved(), new, "mentors_paper changes between per-visit")


def test_refused_when_an_approved_deliverable_needs_another_approver() -> None:
    """An approved deliverable v2 also wants approved by the facilitator is refused."""
    new = with_spec("mentors_paper", approvers=(Party.MENTEE, Party.FACILITATOR))
    refused_for(paper_approved(), new, "mentors_paper is approved", "approval by facilitator")


def test_refused_when_the_owner_of_an_approved_deliverable_changes() -> None:
    """An approved paper written by a mentor, which v2 says the mentee owes, is refused."""
    new = with_spec("mentors_paper", owner=Party.MENTEE)
    verdict = refused_for(paper_approved(), new, "submitted by Athens", "owed by the mentee")
    assert [f.deliverable for f in verdict.unmet] == ["mentors_paper"]


def test_refused_when_the_owner_of_a_submitted_draft_changes() -> None:
    """A submitted, unapproved draft is checked like an approved one: its author must owe it."""
    new = with_spec("mentors_paper", owner=Party.MENTEE)
    refused_for(paper_submitted(), new, "mentors_paper was submitted by", "owed by the mentee")


def test_owner_party_naming_the_same_people_is_allowed() -> None:
    """An owner change the author still belongs to (the host of the visit, for mentee Bologna)."""
    new = with_spec("needs_assessment", owner=Party.HOST)
    assert can_migrate(paper_approved(), new).allowed


def test_refused_when_a_submitted_deliverable_lacks_a_new_prerequisite() -> None:
    """A paper already submitted without the language plan v2 requires before it is refused."""
    new = with_spec("mentors_paper", requires=("needs_assessment", "language_plan"))
    refused_for(paper_approved(), new, "mentors_paper is submitted", "needs the language_plan")


def test_new_prerequisite_of_a_deliverable_not_yet_submitted_is_allowed() -> None:
    """A new ``requires`` on a deliverable still to come is future work, not a reason."""
    new = with_spec("visit_report", requires=("language_plan",))
    assert can_migrate(paper_approved(), new).allowed


def test_a_waiting_draft_v2_no_longer_approves_is_a_warning(store: SqlStore) -> None:
    """A draft awaiting an approval v2 drops moves with a warning; resubmitted, it is approved."""
    new = with_spec("mentors_paper", approvers=(), shared_first=False)
    walk = stored_bologna(store)
    walk.unapproved = {"mentors_paper"}
    walk.supply("needs_assessment")
    walk.supply("mentors_paper")
    engagement = stored(walk)
    verdict = can_migrate(engagement.state, new)
    assert verdict.allowed, verdict.explain()
    [warning] = verdict.warnings
    assert (warning.rule, warning.severity, warning.deliverable) == (
        MIGRATE_RULE,
        Severity.SOFT,
        "mentors_paper",
    )
    assert "submit it again under v2" in warning.message
    engagement.migrate(new, actor=FACILITATOR, at=walk.now)
    draft = engagement.state.deliverables["mentors_paper"]
    engagement.submit(draft.content, actor=draft.submitted_by, at=walk.now)
    assert engagement.state.deliverables["mentors_paper"].status is DeliverableStatus.APPROVED
    assert can_migrate(paper_approved(), new).warnings == ()


def replanned_work_shadowing() -> Walk:
    """Turin's work shadowing: Bologna submitted the visitors' questions, then Bologna was
    dropped from the visitors of the visit, which is not held yet."""
    walk = Walk("rock.work_shadowing")
    walk.fire("confirm_match")
    walk.supply("visitor_questions")
    assert walk.state.deliverables["visitor_questions"].submitted_by == "bologna-1"
    visit = attrs.evolve(walk.state.visit, visitors=("lisbon", "skopje"))
    walk.engagement.plan_visit(visit, actor=FACILITATOR, at=walk.now)
    return walk


def test_an_author_the_replanned_visit_no_longer_names_keeps_an_unchanged_rule() -> None:
    """An owner rule v2 keeps is not asked again of an author a re-planned visit dropped."""
    walk = replanned_work_shadowing()
    current = METHODS["rock.work_shadowing"]()
    new = attrs.evolve(current, version=2, title=f"{current.title} (typo fixed)")
    assert can_migrate(walk.state, new).allowed, can_migrate(walk.state, new).explain()
    assert can_migrate(walk.state, new, current=current).allowed
    # A rule v2 does change is checked against the visit as it is now.
    owed_by_host = with_spec("visitor_questions", current, owner=Party.HOST)
    refused_for(walk.state, owed_by_host, "submitted by", "owed by the host")


def test_a_method_of_your_own_is_compared_with_the_current_version_passed() -> None:
    """For a method not in the catalog, ``current`` is what keeps an unchanged owner rule from
    being asked again: without it the re-planned visit's dropped author refuses the move."""
    walk = replanned_work_shadowing()
    own = attrs.evolve(METHODS["rock.work_shadowing"](), id="turin.work_shadowing")
    state = evolve_state(walk.state, method_id=own.id)
    new = attrs.evolve(own, version=2, title=f"{own.title} (typo fixed)")
    without = can_migrate(state, new)
    assert not without.allowed
    assert any("submitted by" in m for m in messages(without)), without.explain()
    assert can_migrate(state, new, current=own).allowed
    change = migrate(state, new, actor=FACILITATOR, at=walk.now, current=compiled_own(own))
    assert (change.state.method_id, change.state.method_version) == (own.id, 2)
    assert change.state.history[-1].action == "migrate"


def compiled_own(method: Method) -> CompiledMethod:
    """A method of one's own, compiled as a host would register it."""
    return MethodRegistry([method]).get(method.id, method.version)


def test_current_must_be_the_version_the_engagement_runs() -> None:
    """``current`` naming another version than the engagement's is refused, naming it."""
    with pytest.raises(InvalidInput, match=r"\$\.current"):
        can_migrate(paper_approved(), v2(), current=v2())


def test_refused_when_stored_content_does_not_validate() -> None:
    """A stored document whose content fails the submit checks is refused, naming the field."""
    state = paper_approved()
    record = attrs.evolve(
        state.deliverables["mentors_paper"], content=MentorsPaper(key_needs=(" ",), hypotheses=())
    )
    broken = evolve_state(state, deliverables={**state.deliverables, "mentors_paper": record})
    refused_for(broken, v2(), "mentors_paper as stored does not validate", "$.key_needs[0]")
    refused_for(broken, v2(), "$.hypotheses")


def test_refused_when_a_passed_gate_needs_a_missing_deliverable() -> None:
    """A deliverable v2 requires at a gate already passed cannot be supplied there any more."""
    walk = Walk("rock.mentoring")
    walk.fire("confirm_match")
    new = with_trigger_requirement("confirm_match", Delivered("article", "R-COMM-1"))
    verdict = refused_for(walk.state, new, "past confirm_match", "article")
    assert verdict.unmet[0].deliverable == "article"


def test_a_new_requirement_of_a_gate_ahead_is_allowed() -> None:
    """The same requirement at a gate still ahead is work to do, not a reason."""
    walk = Walk("rock.mentoring")
    walk.fire("confirm_match")
    new = with_trigger_requirement("start_visit", Delivered("article", "R-COMM-1"))
    assert can_migrate(walk.state, new).allowed


def test_page_bounds_of_a_stored_document_warn_or_refuse_as_the_rule_says() -> None:
    """New page bounds a stored learning-objectives document misses warn (soft) or refuse (hard)."""
    walk = Walk("rock.work_shadowing")
    walk.supply("learning_objectives")  # three pages
    base = METHODS["rock.work_shadowing"]()
    narrow = v2(base, parameters=attrs.evolve(base.parameters, objectives_pages=(5, 6)))
    verdict = can_migrate(walk.state, narrow)
    assert verdict.allowed
    assert [w.deliverable for w in verdict.warnings] == ["learning_objectives"]
    assert "3 pages; 5 to 6" in verdict.warnings[0].message
    hard = attrs.evolve(
        narrow,
        triggers=tuple(
            attrs.evolve(
                t,
                requirements=tuple(
                    PageCount(severity=Severity.HARD) if isinstance(r, PageCount) else r
                    for r in t.requirements
                ),
            )
            for t in narrow.triggers
        ),
    )
    assert [f.deliverable for f in can_migrate(walk.state, hard).unmet] == ["learning_objectives"]


def test_page_bounds_do_not_concern_a_method_without_learning_objectives() -> None:
    """ROCK mentoring holds no page-bound document: new bounds show in the diff, refuse nothing."""
    new = v2(parameters=attrs.evolve(V1.parameters, objectives_pages=(5, 6)))
    assert can_migrate(paper_approved(), new).allowed
    assert diff(V1, new).parameters_changed == ("objectives_pages",)


def test_every_reason_is_listed_at_once() -> None:
    """The verdict lists every reason, not the first one found."""
    new = attrs.evolve(
        with_spec("mentors_paper", owner=Party.MENTEE, requires=("language_plan",)),
        kind=EngagementKind.WORK_SHADOWING,
    )
    assert len(can_migrate(paper_approved(), new).unmet) == 3


# -- diff -------------------------------------------------------------------------------------


def test_diff_names_every_kind_of_change() -> None:
    """diff lists the phases, triggers, deliverables and parameters added, removed or changed."""
    new = without_preparation(without_deliverable("article"))
    new = attrs.evolve(
        new,
        triggers=(
            *new.triggers,
            TriggerSpec("reopen", ("closed",), "follow_up.review", (Party.FACILITATOR,)),
        ),
        deliverables=(
            *new.deliverables,
            DeliverableSpec("visitors_report", "visitors' report", Party.MENTOR),
        ),
        parameters=MethodParameters(max_themes=3, paper_comment_days=7),
    )
    new = attrs.evolve(
        new,
        deliverables=tuple(
            attrs.evolve(d, title="paper") if d.kind == "mentors_paper" else d
            for d in new.deliverables
        ),
    )
    new = attrs.evolve(new, triggers=tuple(t for t in new.triggers if t.name != "close"))
    found = diff(V1, new)
    assert (found.method_id, found.from_version, found.to_version) == ("rock.mentoring", 1, 2)
    assert found.phases_added == ()
    assert found.phases_removed == ("preparation",)
    assert found.triggers_added == ("reopen",)
    assert found.triggers_removed == ("close",)
    # confirm_match now leads to the visit; start_visit starts from matchmaking; the review
    # lost its article requirement.
    assert found.triggers_changed == ("confirm_match", "start_visit", "start_review")
    assert found.deliverables_added == ("visitors_report",)
    assert found.deliverables_removed == ("article",)
    assert found.deliverables_changed == ("mentors_paper",)
    assert found.parameters_changed == ("max_themes", "paper_comment_days")
    assert not found.is_empty


def test_diff_names_added_phases_and_reads_compiled_methods() -> None:
    """A phase only the newer version has is listed as added; compiled methods are read too."""
    found = diff(CompiledMethod(without_preparation()), compiled("rock.mentoring"))
    assert found.phases_added == ("preparation",)
    assert (found.from_version, found.to_version) == (2, 1)


def test_diff_refuses_two_different_methods() -> None:
    """diff of two methods (not two versions of one) raises InvalidInput naming the new id."""
    with pytest.raises(InvalidInput) as caught:
        diff(V1, METHODS["eurocities.study_visit"]())
    assert caught.value.problems[0].path == "$.new.id"


# -- bad arguments ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "path"),
    [
        (lambda: MethodRegistry().add(None), "$.method"),  # type: ignore[arg-type]
        (lambda: can_migrate(paper_approved(), None), "$.new"),  # type: ignore[arg-type]
        (lambda: can_migrate(None, v2()), "$.state"),  # type: ignore[arg-type]
        (lambda: diff(V1, None), "$.new"),  # type: ignore[arg-type]
        (lambda: diff(None, V1), "$.old"),  # type: ignore[arg-type]
        (lambda: can_migrate(paper_approved(), v2(version="2")), "$.new.version"),
        (lambda: can_migrate(paper_approved(), v2(version=0)), "$.new.version"),
        (lambda: can_migrate(paper_approved(), v2(version=True)), "$.new.version"),
        (lambda: diff(V1, v2(id="")), "$.new.id"),
        (lambda: MethodRegistry().add(v2(version=2.0)), "$.method.version"),
    ],
)
def test_bad_arguments_raise_invalid_input_naming_them(
    call: Callable[[], object], path: str
) -> None:
    """None, a text version or a version below 1 raise InvalidInput naming the argument."""
    with pytest.raises(InvalidInput) as caught:
        call()
    assert [p.path for p in caught.value.problems] == [path]


# -- the store: all or nothing ----------------------------------------------------------------


def stored_bologna(store: SqlStore, engagement_id: str = "bologna") -> Walk:
    """A walk whose engagement is Bologna's ROCK mentoring saved in ``store`` at every action."""
    walk = Walk("rock.mentoring")
    walk.engagement = bologna(store, engagement_id, at=walk.now)
    return walk


def stored(walk: Walk) -> StoredEngagement:
    """The walk's engagement, as the store-bound facade ``stored_bologna`` put there."""
    assert isinstance(walk.engagement, StoredEngagement)
    return walk.engagement


def registry_snapshot(registry: MethodRegistry) -> dict[int, CompiledMethod]:
    """The registered versions of ROCK mentoring, each with its compiled instance."""
    return {v: registry.get("rock.mentoring", v) for v in registry.versions("rock.mentoring")}


@pytest.mark.parametrize(
    "new",
    [
        pytest.param(with_spec("mentors_paper", owner=Party.MENTEE), id="refused"),
        pytest.param(v2(version="2"), id="text-version"),
        pytest.param(None, id="none"),
    ],
)
def test_refused_or_invalid_migration_changes_nothing(store: SqlStore, new: Method | None) -> None:
    """A refused or invalid migration raises and leaves registry, store and engagement as before."""
    walk = stored_bologna(store)
    walk.supply("needs_assessment")
    walk.supply("mentors_paper")
    engagement = stored(walk)
    before = (registry_snapshot(store.methods), store.load("bologna"), engagement.state)
    with pytest.raises((ActionRefused, InvalidInput)):
        engagement.migrate(new, actor=FACILITATOR, at=walk.now)  # type: ignore[arg-type]
    after = (registry_snapshot(store.methods), store.load("bologna"), engagement.state)
    assert after == before
    assert engagement.method.version == 1


def test_accepted_migration_registers_the_version(store: SqlStore) -> None:
    """An accepted migration is saved, then the version is in the store's registry."""
    walk = stored_bologna(store)
    new = v2(description="2018 edition")
    assert (new.id, 2) not in store.methods
    stored(walk).migrate(new, actor=FACILITATOR, at=walk.now)
    assert store.methods.versions("rock.mentoring") == (1, 2)
    assert StoredEngagement.load(store, "bologna").method.version == 2


def test_migration_to_a_conflicting_definition_changes_nothing(store: SqlStore) -> None:
    """Another definition already registered as v2 refuses the migration before anything is saved."""
    walk = stored_bologna(store)
    store.methods.add(v2(description="the registered v2"))
    before = (registry_snapshot(store.methods), store.load("bologna"))
    with pytest.raises(InvalidMethod):
        stored(walk).migrate(v2(description="another v2"), actor=FACILITATOR, at=walk.now)
    assert (registry_snapshot(store.methods), store.load("bologna")) == before


def test_a_second_worker_needs_the_migrated_version_registered(tmp_path: Path) -> None:
    """A worker opening the store without v2 cannot load a migrated engagement; with it, it can."""
    path = tmp_path / "store.sqlite3"
    new = v2(description="2018 edition")
    first = SqlStore.open(path)
    walk = stored_bologna(first)
    stored(walk).migrate(new, actor=FACILITATOR, at=walk.now)
    first.close()
    bare = SqlStore.open(path)
    with pytest.raises(InvalidInput, match=r"rock\.mentoring v2 is not registered"):
        StoredEngagement.load(bare, "bologna")
    bare.close()
    methods = MethodRegistry.builtin()
    methods.add(new)
    second = SqlStore.open(path, methods=methods)
    assert StoredEngagement.load(second, "bologna").method.version == 2
    second.close()


# -- property: can_migrate decides, migrate does all or nothing -------------------------------

_KINDS = tuple(V1.deliverable_specs)
_PARTIES = tuple(Party)

_edits = st.one_of(
    st.just(("drop_phase",)),
    st.tuples(st.just("max_themes"), st.integers(1, 4)),
    st.tuples(st.just("objectives_pages"), st.integers(1, 6), st.integers(0, 3)),
    st.tuples(st.just("owner"), st.sampled_from(_KINDS), st.sampled_from(_PARTIES)),
    st.tuples(
        st.just("approvers"),
        st.sampled_from(_KINDS),
        st.lists(st.sampled_from(_PARTIES), max_size=2, unique=True),
    ),
    st.tuples(st.just("requires"), st.sampled_from(_KINDS), st.sampled_from(_KINDS)),
    st.tuples(st.just("per_visit"), st.sampled_from(_KINDS)),
    st.tuples(st.just("drop_deliverable"), st.sampled_from(_KINDS)),
)


def _apply(method: Method, edit: tuple[Any, ...]) -> Method:
    name, *args = edit
    if name == "drop_phase":
        return without_preparation(method)
    if name == "max_themes":
        return v2(method, parameters=attrs.evolve(method.parameters, max_themes=args[0]))
    if name == "objectives_pages":
        low, extra = args
        bounds = (low, low + extra)
        return v2(method, parameters=attrs.evolve(method.parameters, objectives_pages=bounds))
    if name == "drop_deliverable":
        return without_deliverable(str(args[0]), method)
    kind = str(args[0])
    if kind not in method.deliverable_specs:
        return v2(method)
    spec = method.deliverable_specs[kind]
    if name == "owner":
        return with_spec(kind, method, owner=args[1])
    if name == "approvers":
        return with_spec(kind, method, approvers=tuple(args[1]), shared_first=False)
    if name == "requires":
        needed = str(args[1])
        return (
            with_spec(kind, method, requires=(*spec.requires, needed))
            if needed != kind
            else v2(method)
        )
    return with_spec(kind, method, per_visit=not spec.per_visit)


def test_can_migrate_decides_what_migrate_does(tmp_path: Path) -> None:
    """Allowed: migrate saves and the engagement loads on v2 cleanly; refused: same reasons, no change."""
    opened = SqlStore.open(tmp_path / "store.sqlite3")
    ids = itertools.count()
    steps = ("confirm_match", "start_visit", "finish_visit", "start_review", "close")

    @given(
        edits=st.lists(_edits, min_size=1, max_size=2),
        fired=st.integers(0, len(steps)),
        prepared=st.booleans(),
    )
    def check(edits: list[tuple[Any, ...]], fired: int, prepared: bool) -> None:
        new = V1
        for edit in edits:
            new = _apply(new, edit)
        try:
            ready = CompiledMethod(new)
        except InvalidMethod:
            assume(False)
            raise
        # A registry of its own per example: each example registers its own v2.
        store = SqlStore(opened.engine, methods=MethodRegistry.builtin(), create=False)
        walk = stored_bologna(store, f"e{next(ids)}")
        for step in steps[:fired]:
            walk.fire(step)
        if prepared and fired < len(steps):
            walk.prepare(steps[fired])
        engagement = stored(walk)
        verdict = can_migrate(engagement.state, ready)
        before = (registry_snapshot(store.methods), store.load(engagement.id))
        event("allowed" if verdict.allowed else "refused")
        if verdict.allowed:
            engagement.migrate(ready, actor=FACILITATOR, at=walk.now)
            loaded = StoredEngagement.load(store, engagement.id)
            assert loaded.method.version == 2
            assert method_problems(loaded.state, loaded.method) == []
            # Its gates can be judged on v2: a verdict, never a crash.
            for trigger in ready.triggers.values():
                if loaded.phase in trigger.sources:
                    loaded.check(trigger.name, actor=FACILITATOR, at=walk.now, related={})
            assert store.methods.get("rock.mentoring", 2).method == new
        else:
            with pytest.raises(ActionRefused) as caught:
                engagement.migrate(ready, actor=FACILITATOR, at=walk.now)
            assert caught.value.verdict.unmet == verdict.unmet
            assert (registry_snapshot(store.methods), store.load(engagement.id)) == before

    try:
        check()
    finally:
        opened.close()


def test_a_migration_keeps_the_engagement_in_the_deadline_queries(store: SqlStore) -> None:
    """After a migration the stored next deadline is the new version's, not cleared: the store
    computes it with the version it is saving, registered while it saves."""
    walk = stored_bologna(store)
    walk.supply("needs_assessment")
    due = store.ids(due_before=walk.now.add(years=5))
    assert due == ("bologna",)
    stored(walk).migrate(v2(description="2018 edition"), actor=FACILITATOR, at=walk.now)
    assert store.ids(due_before=walk.now.add(years=5)) == due
    assert [d.engagement_id for d in store.due_before(walk.now.add(years=5))]


def test_a_start_that_is_refused_leaves_the_registry_as_it_was(store: SqlStore) -> None:
    """Starting on an id that is taken raises and does not register the method it was given."""
    stored_bologna(store)
    before = registry_snapshot(store.methods)
    plan = Walk("rock.mentoring").plan
    with pytest.raises(ConcurrencyConflict):
        StoredEngagement.start(
            CompiledMethod(v2(description="never saved")),
            store=store,
            id="bologna",
            title=plan.title,
            organisations=plan.organisations,
            participants=plan.participants,
            actor=FACILITATOR,
            at=Walk("rock.mentoring").now,
        )
    assert registry_snapshot(store.methods) == before
    assert store.methods.versions("rock.mentoring") == (1,)


def test_adding_keeps_a_method_only_when_the_block_ends_normally() -> None:
    """``MethodRegistry.adding`` removes a method it added when the block raises, and never
    removes one that was registered before."""
    registry = MethodRegistry.builtin()
    seen: list[bool] = []

    def failing_save(method: Method) -> None:
        with registry.adding(method):
            seen.append((method.id, method.version) in registry)
            raise RuntimeError("the save failed")

    with pytest.raises(RuntimeError):
        failing_save(v2())
    assert seen == [True]
    assert (V1.id, 2) not in registry
    with pytest.raises(RuntimeError):
        failing_save(V1)
    assert (V1.id, 1) in registry
    with registry.adding(v2()) as added:
        pass
    assert registry.get(V1.id, 2) is added


def test_a_migration_reason_that_is_not_text_is_refused(store: SqlStore) -> None:
    """A reason that is not text is refused by name, and nothing is saved or registered."""
    walk = stored_bologna(store)
    before = (registry_snapshot(store.methods), store.load("bologna"))
    with pytest.raises(InvalidInput) as refused:
        stored(walk).migrate(v2(), actor=FACILITATOR, at=walk.now, reason=["2018"])  # type: ignore[arg-type]
    assert [p.path for p in refused.value.problems] == ["$.reason"]
    assert (registry_snapshot(store.methods), store.load("bologna")) == before


def test_a_failed_save_never_takes_back_a_version_another_save_kept() -> None:
    """Two saves register v2 at once: the one that succeeds keeps it, whenever the other fails
    (before or after), and a version is taken back only when every save using it failed."""

    class SaveFailed(Exception):
        """A save that raised."""

    def save(registry: MethodRegistry, *, fails: bool, meanwhile: Callable[[], None]) -> bool:
        """A save registering v2 while ``meanwhile`` runs; returns whether it succeeded."""
        try:
            with registry.adding(v2()):
                meanwhile()
                if fails:
                    raise SaveFailed
        except SaveFailed:
            return False
        return True

    registry = MethodRegistry.builtin()
    other_saved = lambda: save(registry, fails=False, meanwhile=lambda: None)  # noqa: E731
    assert not save(registry, fails=True, meanwhile=other_saved)
    assert (V1.id, 2) in registry

    other = MethodRegistry.builtin()
    still_used: list[bool] = []

    def other_failed() -> None:
        save(other, fails=True, meanwhile=lambda: None)
        still_used.append((V1.id, 2) in other)

    assert not save(other, fails=True, meanwhile=other_failed)
    assert still_used == [True]  # the first save was still running with it
    assert (V1.id, 2) not in other
