"""Fuzzing: mutated documents either load or raise InvalidDocument naming a $.path; nothing else."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cattrs
import pendulum
import pytest
import sqlalchemy as sa

from _stores import bologna
from mentorflow import demo
from mentorflow import rock2017 as rock
from mentorflow.catalog import METHODS, compiled
from mentorflow.deliverables import DeliverableContent
from mentorflow.events import Event, EventBus
from mentorflow.exceptions import InvalidDocument, InvalidMethod, MentorflowError
from mentorflow.methodfiles import load_method
from mentorflow.model import Participant, Visit
from mentorflow.serialization import MAX_READ_BYTES, AnyEvent, default_codec, make_converter
from mentorflow.sqlstore import SqlStore
from mentorflow.state import EngagementState, HistoryEntry
from mentorflow.store import StoredEngagement
from walker import Walk

codec = default_codec()
TOTAL = 10_000
HUGE = ["x" * 200_000, 10**40, [[[[[[]]]]]] * 50, {"k" * 1000: 1}, -(2**70), 1e308]
STRANGE = [None, True, 0, -1, 1.5, "", "zzz", [], {}, "2017-13-45", "12:99", "2017-11-24T09:00:00"]
WALKS = 12  # engagements walked along random paths per run, besides the demo walk

Base = tuple[str, Any, Callable[[object], object]]


def _seed() -> int:
    # A new seed each run, so CI explores new documents; MENTORFLOW_FUZZ_SEED replays a run.
    given = os.environ.get("MENTORFLOW_FUZZ_SEED")
    return int(given) if given else int.from_bytes(os.urandom(4), "big")


SEED = _seed()


@pytest.fixture(autouse=True)
def _report_the_seed(record_property: Callable[[str, object], None]) -> None:
    """Print the run's seed: pytest shows it with any failure of this module."""
    record_property("MENTORFLOW_FUZZ_SEED", SEED)
    print(f"reproduce with MENTORFLOW_FUZZ_SEED={SEED}")


def _documents_of(state: EngagementState, events: list[Event]) -> list[Base]:
    """The documents a snapshot and its events are written as, each with its reader."""
    bases: list[Base] = [("state", codec.dump(state), codec.load_state)]
    bases += [("event", codec.dump(e), codec.load_event) for e in events]
    bases += [
        ("content", codec.dump(r.content), codec.load_content) for r in state.deliverables.values()
    ]
    bases += [
        ("history", codec.dump(h), lambda d: codec.load(d, HistoryEntry)) for h in state.history
    ]
    bases += [
        ("participant", codec.dump(p), lambda d: codec.load(d, Participant))
        for p in state.participants
    ]
    bases += [("visit", codec.dump(v), lambda d: codec.load(d, Visit)) for v in state.visits]
    return bases


def _method_documents(method_ids: list[str]) -> list[Base]:
    return [("method", codec.dump(METHODS[m]()), _load_method_document) for m in method_ids]


def _bases() -> list[Base]:
    """The documents of the demo's full ROCK mentoring walk, and two methods."""
    plan = rock.programme()[2]
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(Event, events.append)
    engagement = plan.start(at=pendulum.datetime(2017, 6, 1, tz="Europe/Brussels"), bus=bus)
    demo._walk(engagement, plan, demo._Narrator(io.StringIO()))
    bases = _documents_of(engagement.state, events)
    return bases + _method_documents(["rock.mentoring", "eurocities.study_visit"])


def _random_walk(rng: random.Random) -> list[Base]:
    """The documents of an engagement on a random built-in method, walked a random way: a
    prefix of its happy path, deliverables left out (a gate refuses), pauses, a cancellation."""
    bus = EventBus()
    events: list[Event] = []
    bus.subscribe(Event, events.append)
    method_id = rng.choice(sorted(METHODS))
    kinds = sorted(compiled(method_id).method.deliverable_specs)
    skip = rng.sample(kinds, rng.choice((0, 0, 0, 1)))
    walk = Walk(method_id, skip=skip, bus=bus)
    path = walk.path()
    actor = rock.rep(rock.FACILITATOR_ID)
    with contextlib.suppress(MentorflowError):  # a refused step ends the walk where it stands
        for step in path[: rng.randint(0, len(path))]:
            if rng.random() < 0.2:
                walk.engagement.fire("pause", actor=actor, at=walk.now, reason="fuzz")
                walk.engagement.fire("resume", actor=actor, at=walk.now)
            walk.fire(step)
        if rng.random() < 0.2:
            walk.engagement.fire("cancel", actor=actor, at=walk.now, reason="fuzz")
    return _documents_of(walk.state, events)


def _generated_bases(rng: random.Random) -> list[Base]:
    """The demo walk's documents, ``WALKS`` randomly walked engagements', and random methods."""
    bases = _bases()
    for _ in range(WALKS):
        bases += _random_walk(rng)
    return bases + _method_documents(rng.sample(sorted(METHODS), 2))


def _load_method_document(document: object) -> object:
    return load_method(document if isinstance(document, str) else json.dumps(document))


def _containers(value: Any, out: list[Any]) -> list[Any]:
    if isinstance(value, dict | list) and value:
        out.append(value)
        for child in value.values() if isinstance(value, dict) else value:
            _containers(child, out)
    return out


def mutate(document: dict[str, Any], rng: random.Random) -> object:
    """A damaged copy of ``document``: a key dropped, a value retyped or huge, or the text cut."""
    choice = rng.random()
    if choice < 0.12:
        text = json.dumps(document)
        return text[: rng.randrange(len(text))]
    doc = copy.deepcopy(document)
    for _ in range(rng.choice((1, 1, 2, 3))):
        target = rng.choice(_containers(doc, []))
        keys = list(target) if isinstance(target, dict) else list(range(len(target)))
        key = rng.choice(keys)
        roll = rng.random()
        if roll < 0.3 and isinstance(target, dict):
            del target[key]
        elif roll < 0.45:
            target[key] = copy.deepcopy(rng.choice(HUGE))
        elif roll < 0.55 and isinstance(target, dict):
            target[f"{key}_typo"] = target.pop(key)
        else:
            target[key] = rng.choice(STRANGE)
    return doc


def check(load: Callable[[object], object], document: object) -> str:
    """Load ``document``; the only error allowed is the library's, with a path on every problem."""
    try:
        load(document)
    except (InvalidDocument, InvalidMethod) as error:
        assert error.problems, error  # noqa: PT017 - the check is the test
        assert all(p.path.startswith("$") for p in error.problems), error.problems  # noqa: PT017
        return "refused"
    return "loaded"


def test_ten_thousand_mutated_documents() -> None:
    """10,000 mutated documents, from the demo walk and engagements walked along random paths,
    each load or raise InvalidDocument/InvalidMethod with $.paths."""
    rng = random.Random(SEED)
    bases = _generated_bases(rng)
    # Big snapshots and methods are slow to mutate; draw them less often than small records.
    weights = [1 if name in ("state", "method") else 8 for name, _, _ in bases]
    outcomes = {"loaded": 0, "refused": 0}
    for number in range(TOTAL):
        _, document, load = rng.choices(bases, weights)[0]
        mutated = mutate(document, rng)
        try:
            outcomes[check(load, mutated)] += 1
        except Exception as error:
            raise AssertionError(
                f"seed {SEED}, document {number}: {error!r}\n{str(mutated)[:500]}"
            ) from error
    assert outcomes["refused"] > TOTAL // 2, (SEED, outcomes)  # the mutations do damage
    assert sum(outcomes.values()) == TOTAL


@pytest.mark.parametrize(
    "text",
    [
        "",
        "{",
        "[]",
        "null",
        '"x"',
        "NaN",
        '{"a": NaN}',
        "[" * 100_000,
        "1" * 5000,
        '{"schema_version": 99}',
    ],
)
def test_malformed_json_is_refused_with_a_path(text: str) -> None:
    """Truncated, non-object, NaN, deeply nested or huge-number JSON raises InvalidDocument."""
    assert check(codec.load_state, text) == "refused"


def test_oversized_documents_are_refused() -> None:
    """A document past MAX_READ_BYTES is refused before it is parsed."""
    with pytest.raises(InvalidDocument) as caught:
        codec.load_event('{"pad": "' + "x" * MAX_READ_BYTES + '"}')
    assert "larger than" in caught.value.problems[0].message


def test_unknown_phase_in_a_stored_snapshot_is_refused(tmp_path: Path) -> None:
    """A stored snapshot naming a phase its method lacks is refused at $.phase, and nothing changes."""
    store = SqlStore.open(tmp_path / "s.sqlite3")
    bologna(store)
    document = codec.dump(store.load("rock-mentoring-bologna"))
    document["phase"] = "knitting"
    e = store.tables.engagements
    with store.engine.begin() as conn:
        conn.execute(e.update().values(snapshot=json.dumps(document)))
    with pytest.raises(InvalidDocument) as caught:
        StoredEngagement.load(store, "rock-mentoring-bologna")
    assert [p.path for p in caught.value.problems] == ["$.phase"]
    store.close()


def test_mutated_stored_snapshots_never_write(tmp_path: Path) -> None:
    """A mutated snapshot row loads or is refused; a refused one leaves history and outbox untouched."""
    rng = random.Random(SEED)
    store = SqlStore.open(tmp_path / "s.sqlite3")
    engagement = bologna(store)
    engagement.fire(
        "confirm_match",
        actor=rock.rep(rock.FACILITATOR_ID),
        at=pendulum.datetime(2017, 7, 1, tz="UTC"),
    )
    good = codec.dump(store.load(engagement.id))
    t = store.tables

    def counts() -> tuple[int, int]:
        with store.engine.connect() as conn:
            history = conn.execute(sa.select(sa.func.count()).select_from(t.history)).scalar_one()
            outbox = conn.execute(sa.select(sa.func.count()).select_from(t.outbox)).scalar_one()
        return history, outbox

    before = counts()
    for _ in range(200):
        mutated = mutate(good, rng)
        text = mutated if isinstance(mutated, str) else json.dumps(mutated)
        with store.engine.begin() as conn:
            conn.execute(t.engagements.update().values(snapshot=text))
        try:
            loaded = StoredEngagement.load(store, engagement.id)
        except InvalidDocument as error:
            assert all(p.path.startswith("$") for p in error.problems), SEED  # noqa: PT017
            assert counts() == before, SEED
            continue
        assert loaded.id == engagement.id, SEED
    store.close()


def _scalar_leaves(value: Any, path: str) -> list[tuple[str, list[Any], Any]]:
    """(path, path as keys, value) of every string, integer and boolean in a document."""
    found: list[tuple[str, list[Any], Any]] = []

    def walk(node: Any, text: str, keys: list[Any]) -> None:
        if isinstance(node, dict):
            for key, child in node.items():
                walk(child, f"{text}.{key}", [*keys, key])
        elif isinstance(node, list):
            for index, child in enumerate(node):
                walk(child, f"{text}[{index}]", [*keys, index])
        elif isinstance(node, str | int) and not isinstance(node, float):
            found.append((text, keys, node))

    walk(value, path, [])
    return found


def _retyped(value: str | int) -> object:
    """The value as another JSON type that a lax reader would coerce back."""
    if isinstance(value, bool):
        return str(value).lower()  # "true" / "false"
    if isinstance(value, int):
        return str(value)
    return int(value) if value.isdigit() else 7


def test_no_scalar_is_coerced_to_its_field_type() -> None:
    """Every string, integer and boolean of a snapshot and its events, given as another JSON
    type, is refused at its own path: the reader never turns 12 into "12" or "false" into True."""
    for name, document, load in _bases():
        if name == "method":
            continue  # method files have their own loader and error type, checked elsewhere
        for path, keys, value in _scalar_leaves(document, "$"):
            if keys == ["schema_version"]:
                continue  # checked by the version tests: a string version is "not read"
            mutated = copy.deepcopy(document)
            parent = mutated
            for key in keys[:-1]:
                parent = parent[key]
            parent[keys[-1]] = _retyped(value)
            with pytest.raises(InvalidDocument) as caught:
                load(mutated)
            # mapping keys are written $.deliverables['key'] in problems
            paths = [re.sub(r"\['([^']*)'\]", r".\1", p.path) for p in caught.value.problems]
            assert any(p.startswith(path) or path.startswith(p) for p in paths), (path, paths)


KINDS: dict[str, Any] = {
    "state": EngagementState,
    "event": AnyEvent,
    "content": DeliverableContent,
    "history": HistoryEntry,
    "participant": Participant,
    "visit": Visit,
}
REFUSED = object()


def _read(converter: cattrs.Converter, document: dict[str, Any], kind: Any) -> object:
    try:
        return converter.structure(document, kind)
    except Exception:
        return REFUSED


def test_fast_reader_accepts_exactly_what_the_detailed_reader_accepts() -> None:
    """On 4,000 mutated documents the fast reader (generated code) and the detailed reader
    (cattrs with every path) both refuse, or both read the same value."""
    rng = random.Random(SEED + 1)
    fast = make_converter(detailed_validation=False)
    detailed = make_converter(detailed_validation=True)
    bases = [(name, document) for name, document, _ in _generated_bases(rng) if name in KINDS]
    outcomes = {"both read": 0, "both refused": 0}
    for number in range(4_000):
        name, document = rng.choice(bases)
        mutated = mutate(document, rng)
        if not isinstance(mutated, dict):
            continue  # cut text never reaches a converter
        kind = KINDS[name]
        if name not in ("state", "event"):  # only these carry a schema_version field
            mutated.pop("schema_version", None)
        by_fast, by_detailed = _read(fast, mutated, kind), _read(detailed, mutated, kind)
        assert by_fast == by_detailed, (SEED, number, name, str(mutated)[:300])
        outcomes["both refused" if by_fast is REFUSED else "both read"] += 1
    assert min(outcomes.values()) > 300, (
        SEED,
        outcomes,
    )  # both sides of the contract were exercised
