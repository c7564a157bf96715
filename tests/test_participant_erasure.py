"""Engagement.erase_participant: one person's name goes, the engagement goes on; stored, the name
is nowhere in the store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import attrs
import pendulum
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from _stores import BACKENDS, CREATED, FACILITATOR, open_store
from mentorflow import rock2017 as rock
from mentorflow._erasure import ERASE_RULE, ERASED_NAME
from mentorflow.catalog import compiled
from mentorflow.clock import FrozenClock
from mentorflow.engagement import Engagement
from mentorflow.events import ParticipantErased
from mentorflow.exceptions import ActionRefused, InvalidInput, UnknownParticipant
from mentorflow.model import Participant
from mentorflow.outbox import Relay
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement

PLAN = rock.programme()[2]  # the ROCK mentoring of Bologna
BOLOGNA, ATHENS = rock.rep("bologna"), rock.rep("athens")
LATER = CREATED.add(days=2)


def engagement() -> Engagement:
    return PLAN.start(at=CREATED)


def test_the_facilitator_erases_a_name_and_the_engagement_goes_on() -> None:
    e = engagement()
    before = e.state
    outcome = e.erase_participant(BOLOGNA, actor=FACILITATOR, at=LATER)
    (erased,) = [p for p in e.state.participants if p.id == BOLOGNA]
    original = before.participant(BOLOGNA)
    assert original is not None
    assert erased == attrs.evolve(original, name=ERASED_NAME)  # id, role, organisation stay
    assert [p for p in e.state.participants if p.id != BOLOGNA] == [
        p for p in before.participants if p.id != BOLOGNA
    ]
    assert outcome.events == (
        ParticipantErased(
            id=f"{e.id}#{before.event_count + 1}",
            engagement_id=e.id,
            sequence=before.event_count + 1,
            at=LATER,
            actor=FACILITATOR,
            participant_id=BOLOGNA,
        ),
    )
    entry = e.history[-1]
    assert (entry.action, entry.subject, entry.actor, entry.to_phase) == (
        "erase_participant",
        BOLOGNA,
        FACILITATOR,
        before.phase,
    )
    # The erased participant still acts under their id: the rules refer to ids and roles.
    e.fire("confirm_match", actor=FACILITATOR, at=LATER)
    e.submit(rock.needs_assessment(), actor=BOLOGNA, at=LATER)
    assert e.state.deliverables["needs_assessment"].submitted_by == BOLOGNA


def test_a_participant_may_erase_their_own_name_but_not_another_s() -> None:
    e = engagement()
    e.erase_participant(ATHENS, actor=ATHENS, at=LATER)
    assert e.state.participant(ATHENS) == attrs.evolve(PLAN.participants[2], name=ERASED_NAME)
    state = e.state
    with pytest.raises(ActionRefused) as refused:
        e.erase_participant(BOLOGNA, actor=ATHENS, at=LATER)
    assert refused.value.verdict.rules == ("MF-ROLE",)
    assert e.state == state


def test_erasing_a_name_twice_is_refused_with_its_own_rule() -> None:
    e = engagement()
    e.erase_participant(BOLOGNA, actor=FACILITATOR, at=LATER)
    state = e.state
    with pytest.raises(ActionRefused) as refused:
        e.erase_participant(BOLOGNA, actor=FACILITATOR, at=LATER)
    assert refused.value.verdict.rules == (ERASE_RULE,)
    assert e.state == state


def test_closed_and_cancelled_engagements_can_still_erase() -> None:
    e = engagement()
    e.fire("cancel", actor=FACILITATOR, at=LATER, reason="the host withdrew")
    e.erase_participant(BOLOGNA, actor=FACILITATOR, at=LATER)
    assert e.state.participant(BOLOGNA).name == ERASED_NAME  # type: ignore[union-attr]
    assert e.phase == "cancelled"


@pytest.mark.parametrize(
    ("participant_id", "actor", "at", "error", "path"),
    [
        ("nobody-1", FACILITATOR, LATER, InvalidInput, "$.participant_id"),
        (7, FACILITATOR, LATER, InvalidInput, "$.participant_id"),
        (BOLOGNA, FACILITATOR, CREATED.subtract(days=1), InvalidInput, "$.at"),
        (BOLOGNA, FACILITATOR, pendulum.naive(2017, 6, 5), InvalidInput, "$.at"),
        (BOLOGNA, "nobody-1", LATER, UnknownParticipant, None),
    ],
)
def test_bad_arguments_are_named_and_nothing_changes(
    participant_id: object, actor: str, at: object, error: type[Exception], path: str | None
) -> None:
    e = engagement()
    state = e.state
    with pytest.raises(error) as refused:
        e.erase_participant(participant_id, actor=actor, at=at)  # type: ignore[arg-type]
    if path is not None:
        assert isinstance(refused.value, InvalidInput)
        assert [p.path for p in refused.value.problems] == [path]
    assert e.state == state


@settings(max_examples=40, deadline=None)
@given(
    who=st.sampled_from([p.id for p in PLAN.participants]),
    by_self=st.booleans(),
    hours=st.integers(0, 24 * 400),
)
def test_an_erasure_changes_one_name_and_nothing_else(who: str, by_self: bool, hours: int) -> None:
    """Whoever is erased, by the facilitator or by themselves, at any later time: the new
    snapshot is the old one with that one name replaced, one history entry and one event more."""
    e = engagement()
    before = e.state
    e.erase_participant(who, actor=who if by_self else FACILITATOR, at=CREATED.add(hours=hours))
    after = e.state
    renamed = tuple(
        Participant(p.id, ERASED_NAME, p.role, p.organisation_id) if p.id == who else p
        for p in before.participants
    )
    assert attrs.evolve(after, history=before.history, event_count=before.event_count) == (
        attrs.evolve(before, participants=renamed)
    )
    assert after.history[:-1] == before.history
    assert after.event_count == before.event_count + 1


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from open_store(request.param, tmp_path)


def test_once_saved_the_name_is_nowhere_in_the_store(store: SqlStore) -> None:
    """The snapshot, the history, the outbox and the participants table hold the erased
    participant's name nowhere; the other participants' names are still there."""
    unique = attrs.evolve(PLAN.participants[0], name="Giulia Qzxrossi")
    participants = (unique, *PLAN.participants[1:])
    e = StoredEngagement.start(
        compiled(PLAN.method_id),
        store=store,
        id="erasing",
        title=PLAN.title,
        organisations=PLAN.organisations,
        participants=participants,
        actor=FACILITATOR,
        at=CREATED,
        themes=PLAN.themes,
        visits=PLAN.visits,
    )
    e.fire("confirm_match", actor=FACILITATOR, at=CREATED)
    Relay(store, lambda event: None, clock=FrozenClock(LATER)).run_once()
    assert "Qzxrossi" in _everything(store)
    e.erase_participant(unique.id, actor=unique.id, at=LATER)
    assert StoredEngagement.load(store, "erasing").state == e.state
    text = _everything(store)
    assert "Qzxrossi" not in text
    assert PLAN.participants[1].name in text  # the others are kept
    assert [type(entry.event) for entry in store.outbox("erasing")][-1] is ParticipantErased


def _everything(store: SqlStore) -> str:
    """Every text column of every store table, read raw."""
    t = store.tables
    parts = []
    with store.engine.connect() as conn:
        for table in (t.engagements, t.history, t.outbox, t.participants, t.deadlines):
            for row in conn.execute(sa.select(table)).all():
                parts += [str(value) for value in row]
    return "\n".join(parts)
