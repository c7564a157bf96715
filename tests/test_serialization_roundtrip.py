"""Round trips: every serialised type loads back equal, with the same types, zones and tags."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
from typing import Any

import attrs
import pendulum
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mentorflow import _time_hooks, demo
from mentorflow import rock2017 as rock
from mentorflow.catalog import METHODS
from mentorflow.deliverables import CONTENT_TYPES, DeliverableContent, Indicator
from mentorflow.events import Event, EventBus
from mentorflow.exceptions import InvalidDocument, InvalidInput, MentorflowError
from mentorflow.methodfiles import dump_method, load_method
from mentorflow.methods import Method, MethodParameters
from mentorflow.model import Agenda, Organisation, Participant, Role, Theme, Visit
from mentorflow.reminders import ReminderLedger
from mentorflow.requirements import REQUIREMENT_TYPES, Anchor, Due, Requirement
from mentorflow.serialization import EVENT_TYPES, SCHEMA_VERSION, default_codec, upgrade
from mentorflow.state import DeliverableRecord, EngagementState, HistoryEntry
from mentorflow.testing.strategies import identifiers, role_labels, texts
from mentorflow.verdicts import Finding

ZONES = ["UTC", "Europe/Rome", "Europe/Lisbon", "America/New_York", "Asia/Kathmandu"]
codec = default_codec()

instants = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2090, 1, 1)).map(
    lambda d: pendulum.instance(d, tz="UTC")
)
named = st.tuples(instants, st.sampled_from(ZONES)).map(lambda p: p[0].in_timezone(p[1]))
fixed = st.tuples(instants, st.integers(-14 * 60, 14 * 60)).map(
    lambda p: p[0].in_timezone(pendulum.FixedTimezone(p[1] * 60))
)
st.register_type_strategy(pendulum.DateTime, st.one_of(named, fixed))
st.register_type_strategy(
    pendulum.Date, st.dates().map(lambda d: pendulum.Date(d.year, d.month, d.day))
)
st.register_type_strategy(
    pendulum.Time,
    st.times().map(lambda t: pendulum.Time(t.hour, t.minute, t.second, t.microsecond)),
)
finite = st.none() | st.floats(allow_nan=False, allow_infinity=False)
st.register_type_strategy(
    Indicator, st.builds(Indicator, st.text(), st.text(), baseline=finite, target=finite)
)


def same_shape(a: Any, b: Any, path: str = "$") -> None:
    """Assert ``b`` has the same types as ``a`` all the way down (StrEnum == str would hide it)."""
    if type(a) is int and type(b) is float:  # an int given for a float field reads back as float
        return
    assert type(a) is type(b), f"{path}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, pendulum.DateTime):
        assert a.isoformat() == b.isoformat(), path
        assert a.tzinfo.name == b.tzinfo.name, path  # type: ignore[union-attr]
    elif attrs.has(type(a)):
        for field in attrs.fields(type(a)):
            same_shape(getattr(a, field.name), getattr(b, field.name), f"{path}.{field.name}")
    elif isinstance(a, tuple | list):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same_shape(x, y, f"{path}[{i}]")
    elif isinstance(a, dict):
        assert a.keys() == b.keys()
        for key in a:
            same_shape(a[key], b[key], f"{path}.{key}")


def _beyond_64_bits(value: Any) -> bool:
    if type(value) is int:
        return not -(2**63) <= value < 2**64
    if attrs.has(type(value)):
        return any(_beyond_64_bits(getattr(value, f.name)) for f in attrs.fields(type(value)))
    if isinstance(value, tuple | list | frozenset):
        return any(_beyond_64_bits(v) for v in value)
    if isinstance(value, dict):
        return any(_beyond_64_bits(v) for v in value.values())
    return False


def round_trip(value: Any, load: Any) -> None:
    """``value`` loads back equal, or, holding an integer JSON readers cannot take, is refused."""
    if _beyond_64_bits(value):
        with pytest.raises(InvalidDocument, match="64-bit"):
            codec.dumps(value)
        return
    text = codec.dumps(value)
    # the text (which reuses the JSON of records written before) says what the dict says
    assert json.loads(text) == codec.dump(value)
    assert json.loads(codec.dumps(value)) == json.loads(text)  # and again, from the memo
    again = load(text)
    assert again == value
    same_shape(value, again)


@pytest.mark.parametrize(
    "cls",
    [Organisation, Participant, Theme, Visit, Agenda, Finding, HistoryEntry],
    ids=lambda c: c.__name__,
)
@settings(max_examples=40)
@given(data=st.data())
def test_records_round_trip(cls: type, data: st.DataObject) -> None:
    """load(dump(x)) == x for domain records, keeping types and time zones."""
    value = data.draw(st.from_type(cls))
    round_trip(value, lambda text: codec.load(text, cls))


@pytest.mark.parametrize("cls", list(CONTENT_TYPES.values()), ids=lambda c: c.kind)
@settings(max_examples=25)
@given(data=st.data())
def test_every_deliverable_kind_round_trips(cls: type, data: st.DataObject) -> None:
    """Every deliverable kind round-trips through its tagged union document."""
    value = data.draw(st.from_type(cls))
    round_trip(value, codec.load_content)
    assert codec.dump(value)["kind"] == cls.kind  # type: ignore[attr-defined]


@pytest.mark.parametrize("cls", EVENT_TYPES, ids=lambda c: c.__name__)
@settings(max_examples=25)
@given(data=st.data())
def test_every_event_type_round_trips(cls: type[Event], data: st.DataObject) -> None:
    """Every event type round-trips, tagged by its class name."""
    value = attrs.evolve(data.draw(st.from_type(cls)), schema_version=SCHEMA_VERSION)
    round_trip(value, codec.load_event)
    assert codec.dump(value)["type"] == cls.__name__


@settings(max_examples=15)
@given(data=st.data())
def test_deliverable_records_round_trip(data: st.DataObject) -> None:
    """A deliverable record keeps its content's kind through a round trip."""
    content: DeliverableContent = data.draw(
        st.sampled_from(list(CONTENT_TYPES.values())).flatmap(st.from_type)
    )
    drawn = data.draw(st.from_type(DeliverableRecord))
    record = attrs.evolve(drawn, kind=content.kind, content=content)
    round_trip(record, lambda text: codec.load(text, DeliverableRecord))


@settings(max_examples=20)
@given(
    moves=st.lists(
        st.sampled_from(["confirm_match", "pause", "resume", "start_visit", "cancel"]), max_size=6
    ),
    full=st.booleans(),
)
def test_snapshots_after_random_walks_round_trip(moves: list[str], full: bool) -> None:
    """A snapshot after any walk of the ROCK mentoring method loads back equal."""
    plan = rock.programme()[2]
    engagement = plan.start(at=pendulum.datetime(2017, 6, 1, tz="Europe/Brussels"), bus=EventBus())
    if full:
        demo._walk(engagement, plan, demo._Narrator(io.StringIO()))
    at = pendulum.datetime(2019, 1, 1, 12, tz="Europe/Skopje")
    for move in moves:
        with contextlib.suppress(MentorflowError):
            engagement.fire(move, actor=rock.rep(rock.FACILITATOR_ID), at=at, reason="walk")
    round_trip(engagement.state, codec.load_state)


@pytest.mark.parametrize("cls", list(REQUIREMENT_TYPES.values()), ids=lambda c: c.type)
@settings(max_examples=25)
@given(data=st.data())
def test_every_requirement_type_round_trips(cls: type, data: st.DataObject) -> None:
    """Every requirement record round-trips through its tagged union document."""
    value = data.draw(st.from_type(cls))
    round_trip(value, lambda text: codec.load(text, Requirement))
    assert codec.dump(value)["type"] == cls.type  # type: ignore[attr-defined]


def _ranges(low: int, high: int) -> st.SearchStrategy[tuple[int, int]]:
    return st.tuples(st.integers(low, high), st.integers(0, high)).map(
        lambda p: (p[0], p[0] + p[1])
    )


def _parameters() -> st.SearchStrategy[MethodParameters]:
    """Parameters that pass lint: positive counts, ranges whose low end is not above the high."""
    return st.builds(
        MethodParameters,
        max_themes=st.integers(1, 5),
        max_mentor_cities=st.integers(1, 5),
        visit_days=_ranges(0, 5),
        reps_per_mentor_city=_ranges(0, 3),
        reps_per_mentee_city=_ranges(0, 10),
        objectives_lead_months=st.integers(0, 12),
        objectives_pages=_ranges(0, 10),
        follow_up_after_months=st.integers(1, 24),
        report_after_days=st.integers(0, 90),
        paper_comment_days=st.integers(0, 60),
    )


@st.composite
def methods(draw: st.DrawFn) -> Method:
    """A valid method: a built-in one with its phases renamed and its id, titles, parameters,
    labels and deliverable deadlines drawn afresh (it passes lint, so files load it)."""
    base = METHODS[draw(st.sampled_from(sorted(METHODS)))]()
    prefix = draw(st.sampled_from(("", "p-", "stage-"))) + draw(st.sampled_from(("", "x", "2")))
    name = {p.name: f"{prefix}{p.name}" for p in base.phases}
    phases = tuple(
        attrs.evolve(
            p,
            name=name[p.name],
            parent=None if p.parent is None else name[p.parent],
            title=draw(st.one_of(st.just(""), texts())),
        )
        for p in base.phases
    )
    triggers = tuple(
        attrs.evolve(
            t,
            sources=tuple(name[s] for s in t.sources),
            dest=name[t.dest],
            title=draw(st.one_of(st.just(""), texts())),
            needs_reason=draw(st.booleans()),
        )
        for t in base.triggers
    )
    dues = st.one_of(
        st.none(),
        st.builds(Due, st.sampled_from(Anchor), st.integers(-12, 24), st.integers(-60, 60)),
    )
    deliverables = tuple(
        attrs.evolve(d, title=draw(texts()), due=draw(dues)) for d in base.deliverables
    )
    return attrs.evolve(
        base,
        id=f"{draw(identifiers())}.{draw(identifiers())}",
        version=draw(st.integers(1, 10**6)),
        title=draw(texts()),
        phases=phases,
        initial=name[base.initial],
        triggers=triggers,
        deliverables=deliverables,
        parameters=draw(_parameters()),
        labels=draw(role_labels()),
        description=draw(st.one_of(st.just(""), texts(200))),
    )


@settings(max_examples=30)
@given(method=methods(), fmt=st.sampled_from(["json", "toml"]))
def test_generated_methods_round_trip(method: Method, fmt: str) -> None:
    """load(dump(m)) == m for generated methods, as a document and as a JSON or TOML file."""
    text = codec.dumps(method)
    # codec.dump keeps pairs such as visit_days as tuples (JSON-ready), the text has lists
    assert json.loads(text) == json.loads(json.dumps(codec.dump(method)))
    assert codec.load(text, Method) == method
    again = load_method(dump_method(method, fmt))  # type: ignore[arg-type]
    assert again == method
    same_shape(method, again)


@pytest.mark.parametrize("method_id", sorted(METHODS))
@pytest.mark.parametrize("fmt", ["json", "toml"])
def test_catalog_methods_round_trip_as_files(method_id: str, fmt: str) -> None:
    """Every built-in method written as JSON or TOML reads back equal."""
    method = METHODS[method_id]()
    again = load_method(dump_method(method, fmt))  # type: ignore[arg-type]
    assert again == method
    same_shape(method, again)
    assert codec.load(codec.dumps(method), Method) == method


def test_method_file_from_a_path(tmp_path: Any) -> None:
    """load_method reads a path and picks the format from the suffix."""
    method = METHODS["rock.mentoring"]()
    (tmp_path / "m.toml").write_text(dump_method(method, "toml"))
    assert load_method(tmp_path / "m.toml") == method
    assert load_method(str(tmp_path / "m.toml")) == method


def test_bad_method_file_lists_every_problem() -> None:
    """A method file with structure errors names each one with its path (InvalidMethod)."""
    from mentorflow.exceptions import InvalidMethod

    text = dump_method(METHODS["rock.mentoring"](), "json")
    broken = text.replace('"version": 1', '"version": "one"').replace(
        '"kind": "mentoring"', '"kind": "knitting"'
    )
    with pytest.raises(InvalidMethod) as caught:
        load_method(broken)
    paths = {p.path for p in caught.value.problems}
    assert {"$.version", "$.kind"} <= paths


def test_datetime_keeps_its_zone_name() -> None:
    """A DateTime is written with its offset and zone name and comes back in the same zone."""
    at = pendulum.datetime(2017, 11, 24, 9, tz="Europe/Rome")
    assert codec.converter.unstructure(at) == "2017-11-24T09:00:00+01:00[Europe/Rome]"
    again = codec.converter.structure("2017-11-24T09:00:00+01:00[Europe/Rome]", pendulum.DateTime)
    assert again.timezone_name == "Europe/Rome"
    assert again == at


def test_version_0_documents_are_upgraded() -> None:
    """A document without schema_version (v0) is read as the same v1 document."""
    participant = Participant("a", "A", Role.MENTOR, "bologna")  # type: ignore[attr-defined]
    document = codec.dump(participant)
    assert document["schema_version"] == SCHEMA_VERSION
    del document["schema_version"]
    assert upgrade(document)["schema_version"] == 1
    assert codec.load(document, Participant) == participant


@pytest.mark.parametrize("version", [2, -1, "1", None, 1.0])
def test_unread_schema_versions_are_refused(version: object) -> None:
    """A schema version this release does not read raises InvalidDocument at $.schema_version."""
    document = codec.dump(Organisation("x", "X"))
    document["schema_version"] = version
    with pytest.raises(InvalidDocument) as caught:
        codec.load(document, Organisation)
    assert [p.path for p in caught.value.problems] == ["$.schema_version"]


@given(st.frozensets(st.text(min_size=1, max_size=20), max_size=10))
def test_reminder_ledger_reads_the_current_and_the_previous_version(ids: frozenset[str]) -> None:
    """A reminder ledger of version 1 (current) or 0 (no schema_version, or 0) reads back equal."""
    ledger = ReminderLedger(ids)
    current = ledger.to_dict()
    assert current["schema_version"] == 1
    previous = {k: v for k, v in current.items() if k != "schema_version"}
    assert ReminderLedger.from_dict(current) == ledger
    assert ReminderLedger.from_dict(previous) == ledger
    assert ReminderLedger.from_dict({**previous, "schema_version": 0}) == ledger


@pytest.mark.parametrize("version", [2, -1, "1", None, 1.0, True])
def test_reminder_ledger_refuses_unread_versions(version: object) -> None:
    """A reminder ledger of a version this release does not read raises InvalidDocument at
    $.schema_version."""
    with pytest.raises(InvalidDocument) as caught:
        ReminderLedger.from_dict({"schema_version": version, "settled": ["a/x/1/missed"]})
    assert [p.path for p in caught.value.problems] == ["$.schema_version"]


def test_snapshot_problems_are_found() -> None:
    """A well-typed snapshot whose history numbering is wrong is refused with its path."""
    plan = rock.programme()[2]
    state: EngagementState = plan.start(at=pendulum.datetime(2017, 6, 1, tz="UTC")).state
    document = codec.dump(state)
    document["history"][0]["sequence"] = 7
    with pytest.raises(InvalidDocument) as caught:
        codec.load_state(document)
    assert caught.value.problems[0].path == "$.history[0].sequence"


@pytest.mark.parametrize("field", ["baseline", "target"])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_indicators_refuse_numbers_json_cannot_hold(field: str, value: float) -> None:
    """NaN and infinity are refused when the indicator is made, naming the field, so a record
    never reaches the writer with a number it would have to drop (R-FOLLOW-3 indicators)."""
    with pytest.raises(InvalidInput) as caught:
        Indicator("visitors", **{field: value})
    assert [p.path for p in caught.value.problems] == [f"$.{field}"]


def test_every_snapshot_of_a_walk_is_written_as_its_dict_says() -> None:
    """Saves reuse the JSON of unchanged records (by identity); after every action of a full ROCK
    walk the written text still equals the snapshot's dict and loads back to the snapshot."""
    plan = rock.programme()[2]
    bus = EventBus()
    engagement = plan.start(at=pendulum.datetime(2017, 6, 1, tz="Europe/Brussels"), bus=bus)
    written: dict[int, tuple[str, dict[str, Any], EngagementState]] = {}

    def write(_: Event) -> None:  # handler errors are caught by the bus, so only record here
        state = engagement.state
        written.setdefault(state.version, (codec.dumps(state), codec.dump(state), state))

    bus.subscribe(Event, write)
    demo._walk(engagement, plan, demo._Narrator(io.StringIO()))
    assert len(written) > 15
    for text, document, state in written.values():
        assert json.loads(text) == document
        assert codec.load_state(text) == state


def test_the_instants_memo_stays_bounded_when_converters_are_used_directly() -> None:
    """``Codec.converter`` used on its own never starts a new document; reading 10,000 distinct
    instants through it still keeps the memo bounded, and every value is right."""
    start = pendulum.datetime(2017, 1, 1, tz="Europe/Rome")
    for minutes in range(10_000):
        at = start.add(minutes=minutes)
        assert codec.converter.structure(codec.converter.unstructure(at), pendulum.DateTime) == at
    assert all(len(parsed) <= _time_hooks._PARSED_LIMIT for parsed in _time_hooks._PARSED)
