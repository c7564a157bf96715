"""What the store holds about one person (an access request): ``mentorflow.personal_data``.

Each history entry is in its actor's record and nobody else's, each submitted deliverable in
its submitter's, each approval in its approver's; a person is found in every engagement they
take part in and no other; an erased name reads erased; a deleted engagement holds nothing;
and the record round-trips through the library's JSON.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path

import pendulum
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from _cli import assert_one_line_error, run_cli
from _stores import BACKENDS, CREATED, FACILITATOR, bologna, open_store, start_plan
from mentorflow import rock2017 as rock
from mentorflow.engagement import Engagement
from mentorflow.exceptions import ActionRefused, InvalidInput
from mentorflow.personal_data import PersonalData, person_in, personal_data
from mentorflow.serialization import default_codec
from mentorflow.sqlstore import SqlStore

LATER = CREATED.add(months=3)
BOLOGNA, BOLOGNA_2, ATHENS = rock.rep("bologna"), rock.rep("bologna", 2), rock.rep("athens")


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from open_store(request.param, tmp_path)


def prepared(engagement: Engagement) -> None:
    """Match Bologna's mentoring; Bologna assesses its needs, Athens writes and shares the
    mentors' paper, Bologna's second representative approves it (R-PREP-1, R-PREP-2)."""
    engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
    engagement.submit(rock.needs_assessment(), actor=BOLOGNA, at=LATER)
    engagement.submit(rock.mentors_paper(), actor=ATHENS, at=LATER)
    engagement.share("mentors_paper", actor=ATHENS, at=LATER)
    engagement.approve("mentors_paper", actor=BOLOGNA_2, at=LATER, comment="Useful, thanks")


def test_a_person_s_records_in_each_engagement_they_take_part_in(store: SqlStore) -> None:
    mentoring = bologna(store)
    prepared(mentoring)
    for index in (0, 1):  # two work-shadowing visits Bologna's representatives go on
        start_plan(store, index, pendulum.date(2017, 11, 6), f"ws-{index}")
    start_plan(store, 4, pendulum.date(2017, 11, 6), "skopje")  # Bologna takes no part

    data = personal_data(store, BOLOGNA)
    assert [e.engagement_id for e in data.engagements] == [
        "rock-mentoring-bologna",
        "ws-0",
        "ws-1",
    ]
    mine = data.engagements[0]
    assert (mine.participant.name, mine.participant.organisation_id) == (
        "Bologna representative 1",
        "bologna",
    )
    assert [(a.action, a.subject) for a in mine.actions] == [("submit", "needs_assessment")]
    assert [(s.kind, s.version) for s in mine.submitted] == [("needs_assessment", 1)]
    assert mine.approvals == ()  # the second representative approved, not this one
    second = personal_data(store, BOLOGNA_2).engagements[0]
    assert [(a.kind, a.party, a.comment) for a in second.approvals] == [
        ("mentors_paper", "mentee", "Useful, thanks")
    ]
    assert [a.action for a in second.actions] == ["approve"]
    athens = personal_data(store, ATHENS)
    assert [e.engagement_id for e in athens.engagements] == ["rock-mentoring-bologna"]
    assert [a.action for a in athens.engagements[0].actions] == ["submit", "share"]
    assert personal_data(store, "nobody-1") == PersonalData("nobody-1", ())


def test_an_erased_name_reads_erased_and_a_deleted_engagement_holds_nothing(
    store: SqlStore,
) -> None:
    mentoring = bologna(store)
    other = bologna(store, "other")
    mentoring.erase_participant(BOLOGNA, actor=BOLOGNA, at=LATER)
    store.delete("other", expected_version=other.version, actor="admin", at=LATER)
    (only,) = personal_data(store, BOLOGNA).engagements
    assert only.engagement_id == mentoring.id
    assert only.participant.name == "(name erased)"
    assert [a.action for a in only.actions] == ["erase_participant"]  # they asked for it


def test_a_participant_id_that_is_not_text_is_named(store: SqlStore) -> None:
    with pytest.raises(InvalidInput) as refused:
        personal_data(store, 7)  # type: ignore[arg-type]
    assert [p.path for p in refused.value.problems] == ["$.participant_id"]


# A script of actions by several people; a run applies any selection of it in script order
# (repeats included), each only where the rules allow it then.
SCRIPT = (
    ("fire", "confirm_match", FACILITATOR),
    ("submit", "needs_assessment", BOLOGNA),
    ("submit", "needs_assessment", BOLOGNA_2),
    ("submit", "mentors_paper", ATHENS),
    ("submit", "mentors_paper", rock.rep("liverpool")),
    ("share", "mentors_paper", ATHENS),
    ("approve", "mentors_paper", BOLOGNA),
    ("approve", "mentors_paper", BOLOGNA_2),
    ("fire", "pause", FACILITATOR),
    ("fire", "resume", FACILITATOR),
    ("erase", BOLOGNA_2, FACILITATOR),
)
CONTENT = {"needs_assessment": rock.needs_assessment, "mentors_paper": rock.mentors_paper}


def run(steps: list[int]) -> Engagement:
    engagement = rock.programme()[2].start(at=CREATED)
    for index in steps:
        verb, what, actor = SCRIPT[index]
        with contextlib.suppress(ActionRefused):  # not allowed then: the run goes on
            if verb == "fire":
                reason = "elections" if what == "pause" else None
                engagement.fire(what, actor=actor, at=LATER, reason=reason)
            elif verb == "submit":
                engagement.submit(CONTENT[what](), actor=actor, at=LATER)
            elif verb == "share":
                engagement.share(what, actor=actor, at=LATER)
            elif verb == "approve":
                engagement.approve(what, actor=actor, at=LATER)
            else:
                engagement.erase_participant(what, actor=actor, at=LATER)
    return engagement


@settings(max_examples=150, deadline=None)
@given(steps=st.lists(st.integers(0, len(SCRIPT) - 1), max_size=14).map(sorted))
def test_every_record_is_in_exactly_its_person_s_export(steps: list[int]) -> None:
    state = run(steps).state
    event(f"{len(state.history)} history entries")
    if any(r.approvals for r in state.deliverables.values()):
        event("an approval given")
    people = [person_in(state, p.id) for p in state.participants]
    assert all(p is not None for p in people)
    exports = [p for p in people if p is not None]
    for entry in state.history:
        assert [e.participant.id for e in exports if entry in e.actions] == [entry.actor]
    for key, record in state.deliverables.items():
        holders = [e.participant.id for e in exports if key in {s.key for s in e.submitted}]
        assert holders == [record.submitted_by]
        for approval in record.approvals:
            givers = [
                e.participant.id
                for e in exports
                if (key, approval.at, approval.party)
                in {(a.key, a.at, a.party) for a in e.approvals}
            ]
            assert givers == [approval.participant_id]
    assert person_in(state, "nobody-1") is None
    codec = default_codec()
    record = PersonalData(BOLOGNA, tuple(exports))
    assert codec.load(codec.dumps(record), PersonalData) == record


def test_the_command_prints_a_summary_and_the_whole_record_as_json(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    store = SqlStore.open(path)
    prepared(bologna(store))
    store.close()
    summary = run_cli("personal-data", str(path), BOLOGNA_2, cwd=tmp_path)
    assert summary.returncode == 0, summary.stderr
    assert summary.stdout.splitlines() == [
        f"{BOLOGNA_2} takes part in 1 engagement(s):",
        "  rock-mentoring-bologna: Bologna representative 2 (mentee, bologna); 1 action(s), "
        "0 deliverable(s) submitted, 1 approval(s)",
    ]
    document = run_cli("personal-data", str(path), BOLOGNA_2, "--json", cwd=tmp_path)
    assert document.returncode == 0, document.stderr
    loaded = default_codec().load(json.loads(document.stdout), PersonalData)
    reopened = SqlStore.open(path, create=False)
    try:
        assert loaded == personal_data(reopened, BOLOGNA_2)
    finally:
        reopened.close()
    nobody = run_cli("personal-data", str(path), "nobody-1", cwd=tmp_path)
    assert nobody.stdout.strip() == "nothing is held about nobody-1"
    missing = run_cli("personal-data", str(tmp_path / "none.sqlite3"), BOLOGNA, cwd=tmp_path)
    assert_one_line_error(missing, "none.sqlite3")
