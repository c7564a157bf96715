"""Bad input to the store and the engine's entry points: refused with a named field, never stored.

The heart of it: a save that succeeds loads back. Wrongly typed host data is refused when the
engagement is created (or the deliverable, visit or reason given), and a document larger than
the reader takes is refused when it would be written, counting bytes of UTF-8 on both sides.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import attrs
import orjson
import pendulum
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from _stores import BACKENDS, CREATED, FACILITATOR, bologna, open_store
from mentorflow import engine
from mentorflow import rock2017 as rock
from mentorflow._sqlrows import history_row
from mentorflow.catalog import compiled
from mentorflow.clock import FrozenClock
from mentorflow.events import Event
from mentorflow.exceptions import (
    ConcurrencyConflict,
    InvalidDeliverable,
    InvalidDocument,
    InvalidInput,
    Problem,
    UnknownEngagement,
)
from mentorflow.model import Organisation
from mentorflow.outbox import Relay
from mentorflow.serialization import (
    MAX_DOCUMENT_BYTES,
    MAX_READ_BYTES,
    default_codec,
    document_too_large,
)
from mentorflow.sqlstore import SqlStore
from mentorflow.state import EngagementState, evolve_state
from mentorflow.store import OutboxStatus, StoredEngagement, retry_action

LATER = pendulum.datetime(2017, 7, 1, tz="Europe/Brussels")
BOLOGNA = rock.rep("bologna")
ATHENS = rock.rep("athens")
PLAN = rock.programme()[2]
METHOD = compiled(PLAN.method_id)
codec = default_codec()
#: Each example of the size properties writes and reads a document of about 4 MiB.
SIZE_EXAMPLES = settings(max_examples=20)


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SqlStore]:
    yield from open_store(request.param, tmp_path)


@pytest.fixture(scope="module")
def sqlite_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SqlStore]:
    """One SQLite store shared by the examples of a property (each uses its own ids)."""
    store = SqlStore.open(tmp_path_factory.mktemp("inputs") / "store.sqlite3")
    yield store
    store.close()


def _counts(store: SqlStore) -> tuple[int, ...]:
    t = store.tables
    with store.engine.connect() as conn:
        return tuple(
            conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
            for table in (t.engagements, t.history, t.outbox, t.participants, t.deadlines)
        )


def _start(store: SqlStore, engagement_id: str = "bad", **changes: Any) -> StoredEngagement:
    arguments: dict[str, Any] = {
        "store": store,
        "id": engagement_id,
        "title": PLAN.title,
        "organisations": PLAN.organisations,
        "participants": PLAN.participants,
        "actor": FACILITATOR,
        "at": CREATED,
        "themes": PLAN.themes,
        "visits": PLAN.visits,
        **changes,
    }
    return StoredEngagement.start(METHOD, **arguments)


def _refusal(call: Callable[[], object], kind: type[InvalidInput]) -> InvalidInput | None:
    """The ``kind`` error ``call`` raises, or None if it runs through."""
    try:
        call()
    except kind as error:
        return error
    return None


def _paths(error: InvalidInput) -> list[str]:
    return [p.path for p in error.problems]


def _matched(store: SqlStore, engagement_id: str) -> StoredEngagement:
    engagement = bologna(store, engagement_id)
    engagement.fire("confirm_match", actor=FACILITATOR, at=LATER)
    return engagement


# -- wrongly typed host data ---------------------------------------------------------------


def test_start_refuses_every_wrongly_typed_value_and_writes_nothing(store: SqlStore) -> None:
    """A None title, a number for a name, a text for a participant: all named; nothing stored."""
    organisations = (Organisation("bologna", 5), *PLAN.organisations[1:])
    with pytest.raises(InvalidInput) as caught:
        _start(
            store,
            title=None,
            organisations=organisations,
            participants=(*PLAN.participants, "someone"),
            themes=None,
            prerequisites=(7,),
        )
    assert set(_paths(caught.value)) == {
        "$.title",
        "$.organisations[0].name",
        f"$.participants[{len(PLAN.participants)}]",
        "$.themes",
        "$.prerequisites[0]",
    }
    with pytest.raises(UnknownEngagement):
        store.load("bad")
    assert _counts(store) == (0, 0, 0, 0, 0)


def test_values_the_writer_would_change_are_refused(store: SqlStore) -> None:
    """Infinity where a text goes (written as null), a text where a list goes (as its letters)."""
    visit = attrs.evolve(PLAN.visits[0], related_event=math.inf)
    with pytest.raises(InvalidInput) as at_start:
        _start(store, visits=(visit,))
    assert [str(p) for p in at_start.value.problems] == [
        "$.visits[0].related_event: expected a string, got float"
    ]
    engagement = _matched(store, "letters")
    content = attrs.evolve(rock.needs_assessment(), barriers="fragmented ownership")
    with pytest.raises(InvalidDeliverable) as at_submit:
        engagement.submit(content, actor=BOLOGNA, at=LATER)
    assert [str(p) for p in at_submit.value.problems] == ["$.barriers: expected a list, got str"]
    assert store.load("letters").deliverable("needs_assessment") is None


#: Where a wrong value can go in the host data of ``start``: (argument, index, field).
TARGETS = [
    ("title", None, None),
    ("id", None, None),
    ("prerequisites", None, None),
    *[
        (group, 0, field.name)
        for group in ("organisations", "participants", "themes", "visits")
        for field in attrs.fields(type(getattr(PLAN, group)[0]))
    ],
]
WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=5),
    st.lists(st.one_of(st.integers(), st.text(max_size=2)), max_size=2).map(tuple),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
)
_ids = itertools.count()


@given(target=st.sampled_from(TARGETS), value=WRONG)
def test_a_started_engagement_always_loads_back(
    sqlite_store: SqlStore, target: tuple[str, int | None, str | None], value: object
) -> None:
    """Any value put anywhere in start's host data: refused with InvalidInput, or loads back equal."""
    group, index, field = target
    engagement_id = f"typed-{next(_ids)}"
    if group == "id" and isinstance(value, str):
        value = engagement_id + value  # a fresh id per example
    if index is None:
        changes = {group: value}
    else:
        records = list(getattr(PLAN, group))
        records[index] = attrs.evolve(records[index], **{str(field): value})
        changes = {group: tuple(records)}
    stored_id = changes.get("id", engagement_id)
    started: list[StoredEngagement] = []
    refused = _refusal(
        lambda: started.append(_start(sqlite_store, engagement_id, **changes)), InvalidInput
    )
    if refused is not None:
        assert refused.problems  # each names what is wrong
        if isinstance(stored_id, str):
            with pytest.raises(UnknownEngagement):
                sqlite_store.load(stored_id)
        return
    assert sqlite_store.load(started[0].id) == started[0].state


def test_submit_refuses_wrongly_typed_content_and_writes_nothing(store: SqlStore) -> None:
    """A number among a needs assessment's barriers is refused at its path, before it is stored."""
    engagement = _matched(store, "typed")
    before = _counts(store)
    content = attrs.evolve(rock.needs_assessment(), barriers=(5, "ok", None))
    with pytest.raises(InvalidDeliverable) as caught:
        engagement.submit(content, actor=BOLOGNA, at=LATER)
    assert _paths(caught.value) == ["$.barriers[0]", "$.barriers[2]"]
    assert _counts(store) == before
    assert store.load("typed").deliverable("needs_assessment") is None


def test_plan_visit_refuses_a_wrongly_typed_visit(store: SqlStore) -> None:
    """A visit whose aim is not text is refused at $.visit.aim, and nothing is written."""
    engagement = _matched(store, "visit")
    before = _counts(store)
    visit = attrs.evolve(engagement.state.visits[0], aim=None, visitors=("athens", 3))
    with pytest.raises(InvalidInput) as caught:
        engagement.plan_visit(visit, actor=FACILITATOR, at=LATER)
    assert _paths(caught.value) == ["$.visit.visitors[1]", "$.visit.aim"]
    assert _counts(store) == before


def test_a_reason_that_is_not_text_is_refused(store: SqlStore) -> None:
    """fire(reason=5) is refused at $.reason, even for a trigger that needs no reason."""
    engagement = bologna(store, "reason")
    before = _counts(store)
    with pytest.raises(InvalidInput) as caught:
        engagement.fire("confirm_match", actor=FACILITATOR, at=LATER, reason=5)  # type: ignore[arg-type]
    assert _paths(caught.value) == ["$.reason"]
    assert _counts(store) == before
    assert store.load("reason").version == 1


def test_acknowledgements_must_map_text_to_text(store: SqlStore) -> None:
    """fire(acknowledge={rule: 5}) is refused at $.acknowledge; nothing is written."""
    engagement = bologna(store, "ack")
    with pytest.raises(InvalidInput) as caught:
        engagement.fire(
            "confirm_match",
            actor=FACILITATOR,
            at=LATER,
            acknowledge={"R-PREP-1": 5},  # type: ignore[dict-item]
        )
    assert _paths(caught.value) == ["$.acknowledge"]
    assert store.load("ack").version == 1


def test_an_approval_comment_that_is_not_text_is_refused(store: SqlStore) -> None:
    """approve(comment=None) is refused at $.comment; the deliverable stays unapproved."""
    engagement = _matched(store, "comment")
    engagement.submit(rock.needs_assessment(), actor=BOLOGNA, at=LATER)
    engagement.submit(rock.mentors_paper(), actor=ATHENS, at=LATER)
    engagement.share("mentors_paper", actor=ATHENS, at=LATER)
    with pytest.raises(InvalidInput) as caught:
        engagement.approve("mentors_paper", actor=BOLOGNA, at=LATER, comment=None)  # type: ignore[arg-type]
    assert _paths(caught.value) == ["$.comment"]
    assert not store.load("comment").deliverable("mentors_paper").approvals  # type: ignore[union-attr]


# -- sizes: bytes of UTF-8, at save and at read --------------------------------------------


#: Texts repeated to fill a document: one- to four-byte characters, and any text at all
#: (quotes and control characters take more room once escaped in JSON).
UNITS = st.one_of(st.sampled_from(["a", "é", "€", "😀"]), st.text(min_size=1, max_size=6))


def _filler(unit: str, room: int) -> str:
    """``unit`` repeated to take about ``room`` bytes inside a JSON string."""
    written = len(orjson.dumps(unit)) - 2
    return unit * max(0, room // written)


def _too_large_to_write(state: EngagementState) -> bool:
    """Whether the snapshot a store would write for ``state`` is over MAX_DOCUMENT_BYTES."""
    return document_too_large(codec.dumps(evolve_state(state, history=())))


@SIZE_EXAMPLES
@given(unit=UNITS, delta=st.integers(-12, 12))
def test_a_title_is_saved_exactly_when_it_would_load(
    sqlite_store: SqlStore, unit: str, delta: int
) -> None:
    """Titles filling the snapshot to around MAX_DOCUMENT_BYTES: refused exactly when over it
    (nothing written), and what is saved loads back."""
    engagement_id = f"sized-{next(_ids)}"
    empty = engine.start(
        METHOD,
        id=engagement_id,
        title="",
        organisations=PLAN.organisations,
        participants=PLAN.participants,
        actor=FACILITATOR,
        at=CREATED,
    )
    base = len(codec.dumps(evolve_state(empty.state, history=())).encode())
    title = _filler(unit, MAX_DOCUMENT_BYTES + delta - base)
    too_large = _too_large_to_write(attrs.evolve(empty.state, title=title))
    refused = _refusal(
        lambda: _start(sqlite_store, engagement_id, title=title, themes=(), visits=()),
        InvalidDocument,
    )
    assert (refused is not None) == too_large
    if refused is not None:
        assert _paths(refused) == ["$.title"]
        with pytest.raises(UnknownEngagement):
            sqlite_store.load(engagement_id)
        return
    assert sqlite_store.load(engagement_id).title == title


@SIZE_EXAMPLES
@given(unit=UNITS, delta=st.integers(-12, 12))
def test_a_deliverable_is_saved_exactly_when_it_would_load(
    sqlite_store: SqlStore, unit: str, delta: int
) -> None:
    """A barrier text filling the snapshot to around the limit: refused exactly when over it,
    and what is saved loads back."""
    engagement_id = f"barrier-{next(_ids)}"
    engagement = _matched(sqlite_store, engagement_id)
    empty = attrs.evolve(rock.needs_assessment(), barriers=("",))
    change = engine.submit(METHOD, engagement.state, empty, actor=BOLOGNA, at=LATER)
    base = len(codec.dumps(evolve_state(change.state, history=())).encode())
    content = attrs.evolve(empty, barriers=(_filler(unit, MAX_DOCUMENT_BYTES + delta - base),))
    full = engine.submit(METHOD, engagement.state, content, actor=BOLOGNA, at=LATER)
    too_large = _too_large_to_write(full.state)
    refused = _refusal(lambda: engagement.submit(content, actor=BOLOGNA, at=LATER), InvalidDocument)
    assert (refused is not None) == too_large
    if refused is not None:
        assert _paths(refused) == ["$.deliverables.needs_assessment.content.barriers[0]"]
        assert sqlite_store.load(engagement_id).version == 2  # nothing of it written
        return
    assert sqlite_store.load(engagement_id) == engagement.state


def test_an_oversized_deliverable_is_refused_and_the_engagement_stays_readable(
    store: SqlStore,
) -> None:
    """A 5 MiB barrier: InvalidDocument naming the snapshot and the field; nothing written."""
    engagement = _matched(store, "big")
    before = _counts(store)
    content = attrs.evolve(rock.needs_assessment(), barriers=("x" * 5 * 1024 * 1024,))
    with pytest.raises(InvalidDocument) as caught:
        engagement.submit(content, actor=BOLOGNA, at=LATER)
    assert caught.value.what == "snapshot of 'big'"
    assert _paths(caught.value) == ["$.deliverables.needs_assessment.content.barriers[0]"]
    assert _counts(store) == before
    assert store.load("big") == engagement.state
    engagement.submit(rock.needs_assessment(), actor=BOLOGNA, at=LATER)  # still works
    assert store.load("big").version == 3


def test_an_oversized_reason_is_refused_in_the_history_entry_and_event(store: SqlStore) -> None:
    """A 5 MiB pause reason is refused (the history entry and event that hold it are too big)."""
    engagement = bologna(store, "reason")
    before = _counts(store)
    with pytest.raises(InvalidDocument) as caught:
        engagement.fire("pause", actor=FACILITATOR, at=LATER, reason="é" * 3 * 1024 * 1024)
    assert caught.value.what in ("history entry 2 of 'reason'", "event 'reason#2'")
    assert _counts(store) == before


@SIZE_EXAMPLES
@given(unit=st.sampled_from(["a", "é", "€", "😀"]), delta=st.integers(-8, 8))
def test_the_reader_limit_counts_bytes_of_utf8(unit: str, delta: int) -> None:
    """A document is refused for its size exactly when its UTF-8 bytes exceed MAX_READ_BYTES."""
    head, tail = '{"pad": "', '"}'
    text = head + _filler(unit, MAX_READ_BYTES + delta - len(head) - len(tail)) + tail
    with pytest.raises(InvalidDocument) as caught:  # refused either way: pad is no event field
        codec.load_event(text)
    size_refused = [p for p in caught.value.problems if "larger than" in p.message]
    assert bool(size_refused) == (len(text.encode()) > MAX_READ_BYTES)


def test_a_row_an_earlier_release_could_write_stays_readable(sqlite_store: SqlStore) -> None:
    """Earlier releases counted the limit in characters: a snapshot of 2.2 M "é" (4.4 MB of
    UTF-8) was written and read then, and loads now, though a save now refuses to write it."""
    engagement = _matched(sqlite_store, "legacy")
    content = attrs.evolve(rock.needs_assessment(), barriers=("é" * 2_200_000,))
    with pytest.raises(InvalidDocument):
        engagement.submit(content, actor=BOLOGNA, at=LATER)
    change = engine.submit(METHOD, engagement.state, content, actor=BOLOGNA, at=LATER)
    legacy = codec.dumps(evolve_state(change.state, history=()))
    assert len(legacy) <= MAX_DOCUMENT_BYTES < len(legacy.encode())
    e = sqlite_store.tables.engagements
    with sqlite_store.engine.begin() as conn:  # the row as the earlier release wrote it
        conn.execute(
            e.update()
            .where(e.c.id == "legacy")
            .values(snapshot=legacy, version=change.state.version)
        )
        sqlite_store.enqueue(conn, ())
        conn.execute(
            sqlite_store.tables.history.insert().values(
                history_row(sqlite_store.codec, "legacy", change.state.history[-1])
            )
        )
    loaded = sqlite_store.load("legacy")
    assert loaded.deliverables == change.state.deliverables


# -- conflicts and the outbox --------------------------------------------------------------


def test_creating_a_taken_id_says_so_with_the_stored_version(store: SqlStore) -> None:
    """A create under a taken id: ConcurrencyConflict with the stored version, "the id is taken"."""
    _matched(store, "taken")
    with pytest.raises(ConcurrencyConflict) as caught:
        bologna(store, "taken")
    conflict = caught.value
    assert (conflict.engagement_id, conflict.expected_version, conflict.found_version) == (
        "taken",
        0,
        2,
    )
    assert (
        str(conflict) == "cannot create engagement 'taken': the id is taken (stored at version 2)"
    )
    assert store.load("taken").version == 2


def _corrupt_payload(store: SqlStore, event_id: str) -> None:
    o = store.tables.outbox
    with store.engine.begin() as conn:
        conn.execute(
            o.update()
            .where(o.c.event_id == event_id)
            .values(payload='{"type": "PhaseEntered", "tr')
        )


def test_a_corrupt_payload_does_not_hide_the_other_dead_letters(store: SqlStore) -> None:
    """One unreadable payload: every entry is still listed; the others can be replayed."""
    bologna(store, "a")
    bologna(store, "b")
    _corrupt_payload(store, "a#1")

    def handler(event: Event) -> None:
        raise RuntimeError("host down")

    Relay(store, handler, clock=FrozenClock(LATER), max_attempts=1).run_once()
    dead = store.outbox(status=OutboxStatus.DEAD)
    assert [e.event_id for e in dead] == ["a#1", "b#1"]
    corrupt, readable = dead
    assert [p.path for p in corrupt.unreadable] == ["$"]
    assert "InvalidDocument" in (corrupt.last_error or "")
    with pytest.raises(InvalidDocument) as caught:
        _ = corrupt.event
    assert caught.value.what == "event 'a#1'"
    assert readable.unreadable == ()
    assert readable.event.id == "b#1"
    assert [e.event_id for e in store.outbox()] == ["a#1", "b#1"]
    store.replay(readable.event_id)
    delivered: list[str] = []
    Relay(store, lambda e: delivered.append(e.id), clock=FrozenClock(LATER)).run_once()
    assert delivered == ["b#1"]


def test_an_unreadable_event_is_called_an_event() -> None:
    """The reader's error for an event names it "event", not the union type it is read as."""
    with pytest.raises(InvalidDocument) as caught:
        codec.load_event('{"type": "PhaseEntered", "tr')
    assert caught.value.what == "event"


# -- the store's own arguments -------------------------------------------------------------


@pytest.mark.parametrize(
    ("arguments", "path"),
    [
        ({"change": None, "expected_version": 1}, "$.change"),
        ({"expected_version": "1"}, "$.expected_version"),
        ({"expected_version": 1.0}, "$.expected_version"),
        ({"expected_version": None}, "$.expected_version"),
        ({"expected_version": True}, "$.expected_version"),
        ({"expected_version": -1}, "$.expected_version"),
        ({"expected_version": 1, "previous": "x"}, "$.previous"),
    ],
)
def test_save_refuses_bad_arguments_and_writes_nothing(
    store: SqlStore, arguments: dict[str, Any], path: str
) -> None:
    """save(None), a version of the wrong type (True too) or a bad previous: InvalidInput at the field."""
    engagement = bologna(store, "args")
    change = engine.fire(METHOD, engagement.state, "confirm_match", actor=FACILITATOR, at=LATER)
    before = _counts(store)
    with pytest.raises(InvalidInput) as caught:
        store.save(**{"change": change, **arguments})
    assert _paths(caught.value) == [path]
    assert _counts(store) == before


def test_ids_must_be_strings(store: SqlStore) -> None:
    """load, history, outbox and replay refuse an id that is not a string, naming the argument."""
    for call, path in (
        (lambda: store.load(["x"]), "$.engagement_id"),  # type: ignore[arg-type]
        (lambda: store.history(1), "$.engagement_id"),  # type: ignore[arg-type]
        (lambda: store.outbox(1), "$.engagement_id"),  # type: ignore[arg-type]
        (lambda: store.replay(None), "$.event_id"),  # type: ignore[arg-type]
        (lambda: store.ids(phase=1), "$.phase"),  # type: ignore[arg-type]
    ):
        with pytest.raises(InvalidInput) as caught:
            call()
        assert _paths(caught.value) == [path]


@pytest.mark.parametrize(
    "instant",
    ["2018-01-01", dt.date(2018, 1, 1), dt.datetime(2018, 1, 1)],  # the last one naive on purpose
    ids=["text", "date", "naive"],
)
def test_deadline_queries_take_only_aware_datetimes(store: SqlStore, instant: Any) -> None:
    """ids(due_before=) and due_before() refuse text, dates and naive datetimes alike, as at= does."""
    bologna(store)
    with pytest.raises(InvalidInput) as by_id:
        store.ids(due_before=instant)
    with pytest.raises(InvalidInput) as due:
        store.due_before(instant)
    with pytest.raises(InvalidInput) as plan:
        store.due_query_plan(instant)
    with pytest.raises(InvalidInput) as action:
        engine.as_instant(instant)
    assert _paths(by_id.value) == ["$.due_before"]
    assert _paths(due.value) == _paths(plan.value) == ["$.instant"]
    assert [p.message for p in by_id.value.problems] == [p.message for p in action.value.problems]
    aware = pendulum.datetime(2018, 1, 1, tz="UTC")
    assert store.ids(due_before=aware) == ("rock-mentoring-bologna",)
    assert store.due_before(aware)


@pytest.mark.parametrize("limit", ["a", -1, 0, True, 2.0])
def test_due_before_limit_must_be_a_positive_integer(store: SqlStore, limit: Any) -> None:
    """due_before(limit=) refuses text, floats, booleans and limits below 1 at $.limit."""
    with pytest.raises(InvalidInput) as caught:
        store.due_before(LATER, limit=limit)
    assert _paths(caught.value) == ["$.limit"]


def test_outbox_refuses_an_unknown_status(store: SqlStore) -> None:
    """outbox(status="bogus") is refused, naming the statuses there are, not answered with ()."""
    with pytest.raises(InvalidInput) as caught:
        store.outbox(status="bogus")
    assert _paths(caught.value) == ["$.status"]
    assert "pending, delivered, dead" in caught.value.problems[0].message


@pytest.mark.parametrize("attempts", ["3", 0, 2.5, True])
def test_retry_action_attempts_must_be_a_positive_integer(store: SqlStore, attempts: Any) -> None:
    """retry_action(attempts="3") and the like are refused at $.attempts before anything runs."""
    bologna(store)
    ran: list[int] = []
    with pytest.raises(InvalidInput) as caught:
        retry_action(store, "rock-mentoring-bologna", lambda e: ran.append(1), attempts=attempts)
    assert _paths(caught.value) == ["$.attempts"]
    assert ran == []


# -- collections as hosts pass them ---------------------------------------------------------------


class _QuerySetLike:
    """Iterable but not a Sequence, as a Django ``values_list(flat=True)`` QuerySet."""

    def __init__(self, items: tuple[object, ...]) -> None:
        self._items = items

    def __iter__(self) -> Iterator[object]:
        return iter(self._items)


#: Ways a host hands over a collection; each one was stored by earlier releases.
COLLECTION_KINDS: dict[str, Callable[[tuple[Any, ...]], object]] = {
    "list": list,
    "tuple": tuple,
    "set": set,
    "frozenset": frozenset,
    "dict keys": lambda items: dict.fromkeys(items).keys(),
    "dict values": lambda items: dict(enumerate(items)).values(),
    "generator": lambda items: (item for item in items),
    "query set": _QuerySetLike,
}
GROUPS = {
    "organisations": PLAN.organisations,
    "participants": PLAN.participants,
    "themes": PLAN.themes,
    "visits": PLAN.visits,
    "prerequisites": ("needs assessment", "site visit"),
}


@settings(max_examples=40)
@given(
    kinds=st.fixed_dictionaries(
        {group: st.sampled_from(sorted(COLLECTION_KINDS)) for group in GROUPS}
    ),
    visitors_kind=st.sampled_from(sorted(COLLECTION_KINDS)),
)
def test_start_takes_any_collection_kind_and_loads_back(
    sqlite_store: SqlStore, kinds: dict[str, str], visitors_kind: str
) -> None:
    """Sets, dict views, generators or query sets for start's lists (and a visit's visitors):
    every item stored once, and the engagement loads back equal."""
    changes = {group: COLLECTION_KINDS[kinds[group]](items) for group, items in GROUPS.items()}
    visit = PLAN.visits[0]
    if kinds["visits"] in ("set", "frozenset", "dict keys"):  # a set of visits hashes each one
        visitors_kind = "frozenset" if visitors_kind == "set" else "tuple"
    visitors = COLLECTION_KINDS[visitors_kind](visit.visitors)
    changes["visits"] = COLLECTION_KINDS[kinds["visits"]]((attrs.evolve(visit, visitors=visitors),))
    engagement = _start(sqlite_store, f"kinds-{next(_ids)}", **changes)
    loaded = sqlite_store.load(engagement.id)
    assert loaded == engagement.state
    for group, items in GROUPS.items():
        stored = getattr(loaded, group)
        assert type(stored) is tuple
        if group != "visits":
            assert sorted(map(repr, stored)) == sorted(map(repr, items))
    [stored_visit] = loaded.visits
    assert type(stored_visit.visitors) is tuple
    assert attrs.evolve(stored_visit, visitors=tuple(sorted(stored_visit.visitors))) == (
        attrs.evolve(visit, visitors=tuple(sorted(visit.visitors)))
    )


def test_a_generator_of_organisations_is_read_once(store: SqlStore) -> None:
    """A generator of organisations gives all of them to the engagement, not none."""
    engagement = _start(store, "generated", organisations=(o for o in PLAN.organisations))
    assert store.load("generated").organisations == PLAN.organisations
    assert engagement.state.organisations == PLAN.organisations


def test_plan_visit_takes_visitors_as_a_dict_view(store: SqlStore) -> None:
    """Visit(visitors=d.keys()) is planned and loads back with the visitors as a tuple."""
    engagement = _matched(store, "view")
    planned = engagement.state.visits[0]
    visitors = dict.fromkeys(planned.visitors).keys()
    engagement.plan_visit(attrs.evolve(planned, visitors=visitors), actor=FACILITATOR, at=LATER)
    loaded = store.load("view")
    assert loaded == engagement.state
    assert loaded.visits[0].visitors == planned.visitors


def test_submit_takes_barriers_as_a_set_and_stores_a_tuple(store: SqlStore) -> None:
    """Content whose list field is a set or dict view is stored as a tuple that loads back equal."""
    engagement = _matched(store, "barriers")
    barriers = {"fragmented ownership": 1, "low trust": 2}.keys()
    content = attrs.evolve(rock.needs_assessment(), barriers=barriers)
    engagement.submit(content, actor=BOLOGNA, at=LATER)
    record = store.load("barriers").deliverable("needs_assessment")
    assert record is not None
    assert record.content == attrs.evolve(content, barriers=tuple(barriers))
    assert store.load("barriers") == engagement.state


class _Level(enum.IntEnum):
    LOW = 2


def test_an_int_enum_baseline_is_a_number() -> None:
    """An IntEnum member as an indicator's baseline is taken, as an integer field takes it."""
    roadmap = rock.roadmap()
    indicator = attrs.evolve(roadmap.indicators[0], baseline=_Level.LOW)
    content = attrs.evolve(roadmap, indicators=(indicator, *roadmap.indicators[1:]))
    assert codec.written_problems(content) == []
    assert codec.load_content(codec.dumps(content)) == content
    assert codec.written_problems(attrs.evolve(indicator, baseline=True)) == [
        Problem("$.baseline", "expected a number, got bool")
    ]
