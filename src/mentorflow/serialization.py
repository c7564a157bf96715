"""Serialisation: cattrs converters for records, deliverables, events, snapshots and methods.

Every document written carries ``schema_version``. Readers accept the current version and the
one before it (version 0: the same documents without ``schema_version``) and upgrade old ones
step by step (``UPGRADES``). A bad document raises one ``InvalidDocument`` listing every problem
with its ``$.path``; nothing else escapes. Documents are JSON text (read and written with
orjson) or the dicts JSON parsers make; never pickle. The SQL store refuses to write a document
over ``MAX_DOCUMENT_BYTES`` of UTF-8; the reader refuses unread one over ``MAX_READ_BYTES`` (four
times as much, so rows an earlier release wrote stay readable); ``Codec.written_problems``
says what the reader would refuse in a value before it is written.

Time is written so it round-trips exactly: a ``pendulum.DateTime`` in a named zone becomes
``"2017-11-24T09:00:00+01:00[Europe/Rome]"`` (ISO 8601 with its offset, then the zone name as in
RFC 9557); one with a fixed offset is plain ISO 8601. Dates and times are ISO 8601.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import attrs
import cattrs
import orjson

from mentorflow import events as ev
from mentorflow._converters import (
    EVENT_TYPES,
    WRITTEN_OFTEN,
    AnyEvent,
    make_converter,
    text_converter,
)
from mentorflow._read_errors import problems_of, version_problem
from mentorflow._time_hooks import forget_parsed
from mentorflow._write_checks import checking_converter, written_problems
from mentorflow.deliverables import CONTENT_TYPES, DeliverableContent
from mentorflow.exceptions import InvalidDocument, Problem
from mentorflow.requirements import REQUIREMENT_TYPES, Requirement
from mentorflow.state import EngagementState, slot_key

__all__ = [
    "EVENT_TYPES",
    "MAX_DOCUMENT_BYTES",
    "MAX_READ_BYTES",
    "SCHEMA_VERSION",
    "UPGRADES",
    "AnyEvent",
    "Codec",
    "default_codec",
    "document_too_large",
    "make_converter",
    "upgrade",
    "version_problem",
]

T = TypeVar("T")

#: The schema version this release writes.
SCHEMA_VERSION = 1
#: The largest document accepted, in bytes of UTF-8 JSON. A ROCK snapshot after a full walk is
#: about 40 KiB; 4 MiB leaves room for years of history while refusing runaway payloads.
MAX_DOCUMENT_BYTES = 4 * 1024 * 1024
#: The largest document the reader takes, in bytes of UTF-8: four times what is written, so that
#: every row an earlier release wrote stays readable (it counted the limit in characters, and a
#: character takes at most four bytes). Writers keep to ``MAX_DOCUMENT_BYTES``.
MAX_READ_BYTES = 4 * MAX_DOCUMENT_BYTES
#: Characters a text may hold and still be within the limit whatever they are: UTF-8 takes at
#: most four bytes a character, so only a longer text needs its bytes counted.
_SURELY_WITHIN = MAX_DOCUMENT_BYTES // 4


# -- upgrades between schema versions ----------------------------------------------------------


def _v0_to_v1(document: dict[str, Any]) -> dict[str, Any]:
    # Version 0 documents are version 1 documents written before schema_version existed.
    return {**document, "schema_version": 1}


#: One step per version: ``UPGRADES[n]`` turns a version-n document into a version-(n+1) one.
UPGRADES: Mapping[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1}
_OLDEST = SCHEMA_VERSION - 1


def upgrade(document: dict[str, Any]) -> dict[str, Any]:
    """``document`` brought to ``SCHEMA_VERSION``; raises InvalidDocument for versions not read."""
    problem = version_problem(document, _OLDEST, SCHEMA_VERSION)
    if problem is not None:
        raise InvalidDocument("document", [problem])
    version = document.get("schema_version", 0)
    while version < SCHEMA_VERSION:
        document = UPGRADES[version](document)
        version += 1
    return document


# -- size limits ----------------------------------------------------------------------------------


def document_too_large(text: str) -> bool:
    """Whether ``text`` is over ``MAX_DOCUMENT_BYTES`` in UTF-8, so the reader would refuse it.

    Cheap for the texts a store writes on every save: only a text that could be over the limit
    (more than a quarter of it in characters) is encoded to count its bytes.
    """
    return len(text) > _SURELY_WITHIN and _utf8_size(text) > MAX_DOCUMENT_BYTES


def _utf8_size(text: str) -> int:
    # surrogatepass: a lone surrogate is counted, not raised; the JSON parser refuses it after.
    return len(text.encode("utf-8", "surrogatepass"))


def _parse(data: object, what: str) -> dict[str, Any]:
    """``data`` as a JSON object, within the reader's size limit (in bytes of UTF-8)."""
    if isinstance(data, str | bytes | bytearray):
        if isinstance(data, str) and len(data) > MAX_READ_BYTES // 4:
            # The limit is in bytes; orjson reads the bytes as well as it reads the text.
            data = data.encode("utf-8", "surrogatepass")
        if len(data) > MAX_READ_BYTES:
            raise InvalidDocument(
                what, [Problem("$", f"document is larger than {MAX_READ_BYTES} bytes")]
            )
        try:
            # orjson refuses NaN, Infinity, numbers that overflow a double and nesting past
            # 1,024 levels, all as ValueError.
            data = orjson.loads(data)
        except ValueError as error:
            raise InvalidDocument(what, [Problem("$", f"not valid JSON: {error}")]) from None
    if type(data) is not dict:
        raise InvalidDocument(
            what, [Problem("$", f"expected an object, got {type(data).__name__}")]
        )
    return data


# -- the codec ---------------------------------------------------------------------------------


_SCHEMA_FIELD = "schema_version"


def _document(converter: cattrs.Converter, value: object, kind: Any) -> dict[str, Any]:
    kind = kind if kind is not None else _union_of(type(value))
    document: dict[str, Any] = converter.unstructure(value, kind)
    if _SCHEMA_FIELD not in document:
        document = {_SCHEMA_FIELD: SCHEMA_VERSION, **document}
    return document


def _carries_version(kind: Any) -> bool:
    return kind is AnyEvent or (attrs.has(kind) and hasattr(attrs.fields(kind), _SCHEMA_FIELD))


class Codec:
    """Dumps and loads mentorflow objects as versioned JSON documents.

    Holds two converters made by ``make_converter``: a fast one for the common case and a
    detailed one, used only when a document fails, to name every problem with its path.
    """

    __slots__ = ("_checking", "_detailed", "_fast", "_text", "converter")

    def __init__(self) -> None:
        self._fast = make_converter(detailed_validation=False)
        self._detailed = make_converter(detailed_validation=True)
        self._text = text_converter()
        self._checking = checking_converter()
        #: The converter used for writing; configure a copy, not this one.
        self.converter = self._fast

    # -- writing --

    def dump(self, value: object, kind: Any = None) -> dict[str, Any]:
        """``value`` as a JSON-ready dict with ``schema_version``; union members keep their tag."""
        return _document(self._fast, value, kind)

    def dumps(self, value: object, kind: Any = None) -> str:
        """``value`` as compact JSON text."""
        converter = self._fast if type(value) in WRITTEN_OFTEN else self._text
        try:
            return orjson.dumps(_document(converter, value, kind)).decode()
        except TypeError as error:  # lone surrogates, keys that are not strings
            raise InvalidDocument(type(value).__name__, [Problem("$", str(error))]) from None

    def written_problems(self, value: object, kind: Any = None, path: str = "$") -> list[Problem]:
        """Every problem the reader would find in ``value`` once written, each at its path under
        ``path`` (``$.field``, or ``$.visits[0].field`` for a value inside a larger input).

        Empty when the written document reads back: a check for values from the caller before
        they are stored (a ``None`` title, a number where a name goes). The size limit is not
        checked here; a store checks the size of what it writes (``document_too_large``).
        """
        kind = kind if kind is not None else _union_of(type(value))
        return written_problems((self._checking, self._fast, self._detailed), value, kind, path)

    # -- reading --

    def load(self, data: object, kind: type[T]) -> T:
        """A ``kind`` from a document (JSON text or dict); raises InvalidDocument with every problem."""
        return self._load(data, kind)  # type: ignore[no-any-return]

    def _load(self, data: object, kind: Any, what: str | None = None) -> Any:
        what = what or str(getattr(kind, "__name__", "document"))
        document = upgrade(_parse(data, what))
        if not _carries_version(kind):
            document = {k: v for k, v in document.items() if k != _SCHEMA_FIELD}
        forget_parsed()
        try:
            return self._fast.structure(document, kind)
        except Exception:
            pass
        try:
            return self._detailed.structure(document, kind)
        except Exception as error:
            raise InvalidDocument(what, problems_of(error)) from None

    def load_event(self, data: object) -> ev.Event:
        """An event of any type from its tagged document."""
        return self._load(data, AnyEvent, "event")  # type: ignore[no-any-return]

    def load_content(self, data: object) -> DeliverableContent:
        """Deliverable content of any kind from its tagged document."""
        return self._load(data, DeliverableContent, "deliverable content")  # type: ignore[no-any-return]

    def load_state(self, data: object) -> EngagementState:
        """An engagement snapshot; checks that its parts agree with one another."""
        state = self.load(data, EngagementState)
        problems = list(snapshot_problems(state))
        if problems:
            raise InvalidDocument("EngagementState", problems)
        return state


def _union_of(kind: type) -> Any:
    if issubclass(kind, ev.Event):
        return AnyEvent
    if getattr(kind, "kind", None) in CONTENT_TYPES and CONTENT_TYPES[kind.kind] is kind:  # type: ignore[attr-defined]
        return DeliverableContent
    if getattr(kind, "type", None) in REQUIREMENT_TYPES:
        return Requirement
    return kind


def snapshot_problems(state: EngagementState) -> list[Problem]:
    """Ways a well-typed snapshot contradicts itself (history numbering, deliverable slots)."""
    problems = []
    if not state.phase:
        problems.append(Problem("$.phase", "must not be empty"))
    for i, entry in enumerate(state.history):
        if entry.sequence != i + 1:
            problems.append(Problem(f"$.history[{i}].sequence", f"expected {i + 1}"))
    if not 0 <= state.current_visit <= len(state.visits):
        problems.append(Problem("$.current_visit", "points past the planned visits"))
    if state.event_count < sum(len(h.event_ids) for h in state.history):
        problems.append(Problem("$.event_count", "is less than the events the history names"))
    for key, record in state.deliverables.items():
        if key != slot_key(record.kind, record.visit_id):
            problems.append(Problem(f"$.deliverables.{key}", "key does not match kind and visit"))
        if getattr(record.content, "kind", None) != record.kind:
            problems.append(
                Problem(f"$.deliverables.{key}.content.kind", "differs from the record's kind")
            )
    return problems


@functools.cache
def default_codec() -> Codec:
    """The shared codec, made once per process; its converters are not changed after creation."""
    return Codec()
