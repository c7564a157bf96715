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

import datetime as dt
import enum
import functools
import itertools
import math
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, Union

import attrs
import cattrs
import cattrs.gen
import orjson
import pendulum
from cattrs.errors import (
    AttributeValidationNote,
    ClassValidationError,
    IterableValidationError,
    IterableValidationNote,
)

from mentorflow import events as ev
from mentorflow import reminders
from mentorflow._attrs_reader import enum_members, make_attrs_reader, optional_inner
from mentorflow.deliverables import CONTENT_TYPES, DeliverableContent
from mentorflow.exceptions import InvalidDocument, Problem
from mentorflow.requirements import REQUIREMENT_TYPES, Requirement
from mentorflow.state import DeliverableRecord, EngagementState, HistoryEntry, slot_key

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

#: Every event type, tagged in documents by its class name under ``"type"``.
EVENT_TYPES: tuple[type[ev.Event], ...] = (
    ev.EngagementCreated,
    ev.PhaseEntered,
    ev.EngagementMatched,
    ev.VisitPlanned,
    ev.VisitStarted,
    ev.VisitFinished,
    ev.DeliverableSubmitted,
    ev.DeliverableShared,
    ev.DeliverableApproved,
    ev.EngagementPaused,
    ev.EngagementResumed,
    ev.EngagementClosed,
    ev.EngagementCancelled,
    ev.TriggerRefused,
    ev.MethodMigrated,
    reminders.DeadlineApproaching,
    reminders.DeadlineMissed,
)
AnyEvent = Union[EVENT_TYPES]  # type: ignore[valid-type]  # noqa: UP007 - built from a tuple


class _Mismatch(ValueError):
    """A value of the wrong JSON shape; its message is shown as is."""


# -- upgrades between schema versions ----------------------------------------------------------


def _v0_to_v1(document: dict[str, Any]) -> dict[str, Any]:
    # Version 0 documents are version 1 documents written before schema_version existed.
    return {**document, "schema_version": 1}


#: One step per version: ``UPGRADES[n]`` turns a version-n document into a version-(n+1) one.
UPGRADES: Mapping[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _v0_to_v1}
_OLDEST = SCHEMA_VERSION - 1


def version_problem(document: Mapping[str, Any], oldest: int, newest: int) -> Problem | None:
    """The problem with ``document``'s ``schema_version`` (0 when absent: written before it
    existed) unless it is a whole number from ``oldest`` to ``newest``."""
    version = document.get("schema_version", 0)
    if type(version) is int and oldest <= version <= newest:
        return None
    return Problem(
        "$.schema_version",
        f"version {version!r} is not read by this release (it reads {oldest} to {newest})",
    )


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


# -- hooks ---------------------------------------------------------------------------------------


@functools.cache
def _zone(name: str) -> pendulum.Timezone:
    try:
        return pendulum.timezone(name)
    except Exception as error:
        raise _Mismatch(f"unknown time zone {name!r}") from error


def _dump_datetime(value: pendulum.DateTime) -> str:
    text = value.isoformat()
    zone = value.tzinfo
    if isinstance(zone, pendulum.Timezone) and not isinstance(zone, pendulum.FixedTimezone):
        return f"{text}[{zone.name}]"
    return text


#: What the date, time and date-time readers parsed in the current document, by text: a snapshot
#: repeats a few instants many times (an action's history entry, its events, the deliverable it
#: submitted) and its agendas repeat days and hours. Cleared at the start of every document, so
#: they hold no more than the documents being read; shared by threads safely, since a text
#: always parses to the same value.
_PARSED: list[dict[str, Any]] = []
_PARSED_LIMIT = 4096


def _read_once(
    parse: Callable[[str], T], label: str
) -> tuple[Callable[[object, object], T], dict[str, T]]:
    """A structure hook for ``label`` strings that parses each distinct text once per document,
    and the values it parsed so far, by text."""
    parsed: dict[str, T] = {}
    _PARSED.append(parsed)

    def load(value: object, _: object) -> T:
        if type(value) is not str:
            raise _Mismatch(f"expected {label} string, got {type(value).__name__}")
        hit = parsed.get(value)
        if hit is None:
            if len(parsed) >= _PARSED_LIMIT:
                parsed.clear()  # converters used directly never clear it: stay bounded anyway
            hit = parsed[value] = parse(value)
        return hit

    return load, parsed


def _forget_parsed() -> None:
    for parsed in _PARSED:
        parsed.clear()


def _parse_datetime(value: str) -> pendulum.DateTime:
    text, bracket, rest = value.partition("[")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _Mismatch(f"{value[:40]!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise _Mismatch("a date-time must carry its UTC offset")
    if bracket:
        if not rest.endswith("]"):
            raise _Mismatch("the time zone name must end with ']'")
        zone: dt.tzinfo = _zone(rest[:-1])
        parsed = parsed.astimezone(zone)
    else:
        offset = parsed.utcoffset()
        assert offset is not None  # the tzinfo check above
        zone = pendulum.FixedTimezone(int(offset.total_seconds()))
    return pendulum.DateTime(
        parsed.year,
        parsed.month,
        parsed.day,
        parsed.hour,
        parsed.minute,
        parsed.second,
        parsed.microsecond,
        tzinfo=zone,
        fold=parsed.fold,
    )


def _parse_date(value: str) -> pendulum.Date:
    try:
        return pendulum.Date.fromisoformat(value)
    except ValueError:
        raise _Mismatch(f"{value[:40]!r} is not an ISO 8601 date (YYYY-MM-DD)") from None


def _parse_time(value: str) -> pendulum.Time:
    try:
        return pendulum.Time.fromisoformat(value)
    except ValueError:
        raise _Mismatch(f"{value[:40]!r} is not an ISO 8601 time (HH:MM[:SS])") from None


_load_datetime, _datetimes = _read_once(_parse_datetime, "an ISO 8601 date-time")
_load_date, _dates = _read_once(_parse_date, "an ISO 8601 date")
_load_time, _times = _read_once(_parse_time, "an ISO 8601 time")
_MEMOS: Mapping[type, Mapping[str, object]] = {
    pendulum.DateTime: _datetimes,
    pendulum.Date: _dates,
    pendulum.Time: _times,
}


def _strict(kind: type, label: str) -> Callable[[object, object], Any]:
    def load(value: object, _: object) -> Any:
        if type(value) is kind:
            return value
        raise _Mismatch(f"expected {label}, got {type(value).__name__}")

    return load


def _load_enum(value: object, kind: type[enum.Enum]) -> enum.Enum:
    # A table lookup: calling the enum class costs several times more on every field read.
    if type(value) is kind:
        return value  # a member, in a dict built in code
    member = enum_members(kind).get(value) if type(value) is str or type(value) is int else None
    if member is None:
        known = ", ".join(str(m.value) for m in kind)
        raise _Mismatch(f"{value!r} is not a {kind.__name__} ({known})")
    return member


def _load_float(value: object, _: object) -> float:
    if type(value) is float or type(value) is int:
        return float(value)
    raise _Mismatch(f"expected a number, got {type(value).__name__}")


def _with_index_notes(
    items: Any, hooks: Callable[[int], tuple[Callable[[Any, Any], Any], Any]], kind: Any
) -> list[Any]:
    out: list[Any] = []
    errors: list[Exception] = []
    for i, item in enumerate(items):
        hook, item_type = hooks(i)
        try:
            out.append(hook(item, item_type))
        except Exception as error:
            error.add_note(IterableValidationNote(f"Structuring {kind} @ index {i}", i, item_type))
            errors.append(error)
    if errors:
        raise IterableValidationError(f"While structuring {kind!r}", errors, kind)
    return out


def _sequence_hook(kind: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin is frozenset or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):
        item_type = args[0]
        item_hook = converter.get_structure_hook(item_type)
        build: type = frozenset if origin is frozenset else tuple

        def load_many(value: Any, _: Any) -> Any:
            if type(value) is not list and type(value) is not tuple:
                raise _Mismatch(f"expected a list, got {type(value).__name__}")
            return build(_with_index_notes(value, lambda _i: (item_hook, item_type), kind))

        def load_many_fast(value: Any, _: Any) -> Any:
            # The fast converter stops at the first error; the detailed one names them all.
            if type(value) is not list and type(value) is not tuple:
                raise _Mismatch(f"expected a list, got {type(value).__name__}")
            if not value:
                return build()
            if item_type is str:
                for item in value:
                    if type(item) is not str:
                        raise _Mismatch("expected a string")
                return build(value)
            return build(map(item_hook, value, itertools.repeat(item_type)))

        return load_many if converter.detailed_validation else load_many_fast
    item_hooks = [(converter.get_structure_hook(a), a) for a in args]

    def load_fixed(value: Any, _: Any) -> Any:
        if type(value) is not list and type(value) is not tuple:
            raise _Mismatch(f"expected a list, got {type(value).__name__}")
        if len(value) != len(item_hooks):
            raise _Mismatch(f"expected a list of {len(item_hooks)} items, got {len(value)}")
        return tuple(_with_index_notes(value, item_hooks.__getitem__, kind))

    return load_fixed


def _is_optional(kind: Any) -> bool:
    return optional_inner(kind) is not None


def _optional_hook(kind: Any, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    # cattrs resolves the inner type's hook on every call; here it is resolved once.
    inner = optional_inner(kind)
    inner_hook = converter.get_structure_hook(inner)

    def load_optional(value: Any, _: Any) -> Any:
        return None if value is None else inner_hook(value, inner)

    return load_optional


def _mismatch(message: str, value: object) -> _Mismatch:
    return _Mismatch(f"{message}, got {type(value).__name__}")


def _fast_attrs_hook(cls: type, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    return make_attrs_reader(cls, converter, _mismatch, _MEMOS)


def _is_frozenset(kind: Any) -> bool:
    return typing.get_origin(kind) is frozenset


def _is_sequence(kind: Any) -> bool:
    return typing.get_origin(kind) in (tuple, frozenset)


def _tagged_union(
    converter: cattrs.Converter, union: Any, tag_name: str, by_tag: Mapping[str, type]
) -> None:
    """Write members of ``union`` with their tag first; read the tag to pick the class."""
    tag_of = {cls: tag for tag, cls in by_tag.items()}
    known = ", ".join(sorted(by_tag))
    # The fast converter reads the tagged object as it is, with readers that skip the tag;
    # made on first use, so members may hold the union itself.
    readers: dict[str, Callable[[Any, Any], Any]] = {}

    def dump(value: Any) -> dict[str, Any]:
        cls = type(value)
        return {tag_name: tag_of[cls], **converter.unstructure(value, cls)}

    def load(value: Any, _: Any) -> Any:
        if type(value) is not dict:
            raise _Mismatch(f"expected an object, got {type(value).__name__}")
        tag = value.get(tag_name)
        cls = by_tag.get(tag) if type(tag) is str else None
        if cls is None:
            error = _Mismatch(
                f"missing {tag_name}"
                if tag is None
                else f"unknown {tag_name} {tag!r} (known: {known})"
            )
            error.add_note(AttributeValidationNote(f"Structuring @ {tag_name}", tag_name, str))
            raise ClassValidationError(f"While structuring {union!r}", [error], dict)
        if not converter.detailed_validation:
            assert type(tag) is str  # by_tag found it
            reader = readers.get(tag)
            if reader is None:
                reader = readers[tag] = make_attrs_reader(
                    cls, converter, _mismatch, _MEMOS, tag=tag_name
                )
            return reader(value, cls)
        body = {k: v for k, v in value.items() if k != tag_name}
        return converter.structure(body, cls)

    converter.register_unstructure_hook(union, dump)
    converter.register_structure_hook(union, load)


def make_converter(*, detailed_validation: bool = True) -> cattrs.Converter:
    """A new converter for every mentorflow type; strict about JSON shapes and extra keys.

    With ``detailed_validation`` (the default) a bad document raises cattrs' grouped errors with
    every path; without it, structuring is faster and stops at the first error.
    """
    converter = cattrs.Converter(
        forbid_extra_keys=True,
        detailed_validation=detailed_validation,
        prefer_attrib_converters=False,
    )
    # Class hooks, not predicates: cattrs dispatches str, int and float by class before it tries
    # any predicate, and its own hooks coerce (12 -> "12", "1" -> 1, "false" -> True).
    for kind, label in ((str, "a string"), (int, "an integer"), (bool, "true or false")):
        converter.register_structure_hook(kind, _strict(kind, label))
    converter.register_structure_hook(float, _load_float)
    # Enum bases come before str and int in a StrEnum's or IntEnum's MRO, so these win.
    for base in (enum.Enum, enum.StrEnum, enum.IntEnum):
        converter.register_structure_hook(base, _load_enum)
    converter.register_unstructure_hook(pendulum.DateTime, _dump_datetime)
    converter.register_structure_hook(pendulum.DateTime, _load_datetime)
    converter.register_unstructure_hook(pendulum.Date, pendulum.Date.isoformat)
    converter.register_structure_hook(pendulum.Date, _load_date)
    converter.register_unstructure_hook(pendulum.Time, pendulum.Time.isoformat)
    converter.register_structure_hook(pendulum.Time, _load_time)
    converter.register_unstructure_hook_func(
        _is_frozenset,
        lambda value: sorted(converter.unstructure(v) for v in value),
    )
    converter.register_structure_hook_factory(_is_sequence, _sequence_hook)
    converter.register_structure_hook_factory(_is_optional, _optional_hook)
    if not detailed_validation:
        converter.register_structure_hook_factory(attrs.has, _fast_attrs_hook)
    converter.register_unstructure_hook(enum.Enum, lambda value: value.value)
    _tagged_union(converter, DeliverableContent, "kind", CONTENT_TYPES)
    _tagged_union(converter, Requirement, "type", REQUIREMENT_TYPES)
    _tagged_union(converter, AnyEvent, "type", {cls.__name__: cls for cls in EVENT_TYPES})
    return converter


class _IdentityMemo:
    """Values computed from immutable objects, kept by identity for the last ``size`` objects."""

    __slots__ = ("_items", "_size")

    def __init__(self, size: int) -> None:
        self._items: dict[int, tuple[object, orjson.Fragment]] = {}
        self._size = size

    def get(self, obj: object) -> orjson.Fragment | None:
        hit = self._items.get(id(obj))
        return hit[1] if hit is not None and hit[0] is obj else None

    def put(self, obj: object, value: orjson.Fragment) -> orjson.Fragment:
        if len(self._items) >= self._size:
            self._items.pop(next(iter(self._items)))
        self._items[id(obj)] = (obj, value)  # the object is kept, so its id is not reused
        return value


#: Records written again and again unchanged: a snapshot is written on every save, and keeps the
#: same (frozen) deliverable records and history entries from one action to the next.
_WRITTEN_OFTEN: tuple[type, ...] = (DeliverableRecord, HistoryEntry)


def _text_converter() -> cattrs.Converter:
    """The fast converter, writing each of ``_WRITTEN_OFTEN`` as JSON text kept by identity.

    Only for ``Codec.dumps``: its output is an orjson fragment, not a dict, so it never reaches
    a caller who could change it.
    """
    converter = make_converter(detailed_validation=False)
    for cls in _WRITTEN_OFTEN:
        plain: Callable[[Any], dict[str, Any]] = cattrs.gen.make_dict_unstructure_fn(cls, converter)
        memo = _IdentityMemo(16_384)

        def dump_as_text(
            value: Any, plain: Callable[[Any], dict[str, Any]] = plain, memo: _IdentityMemo = memo
        ) -> orjson.Fragment:
            hit = memo.get(value)
            if hit is None:
                hit = memo.put(value, orjson.Fragment(orjson.dumps(plain(value))))
            return hit

        converter.register_unstructure_hook(cls, dump_as_text)
    return converter


# -- problems --------------------------------------------------------------------------------


def _format(error: BaseException, kind: type | None) -> str:
    if isinstance(error, _Mismatch):
        return str(error)
    if isinstance(error, AttributeError | TypeError) and kind is not None and attrs.has(kind):
        return f"expected an object ({kind.__name__})"
    return cattrs.v.format_exception(error, kind)


def _problems(error: Exception) -> list[Problem]:
    if isinstance(error, InvalidDocument):
        return list(error.problems)
    lines = cattrs.transform_error(error, "$", _format)
    problems = []
    for line in lines:
        message, _, path = line.rpartition(" @ ")
        problems.append(Problem(path or "$", message or line))
    return problems or [Problem("$", str(error))]


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


# -- values the reader would refuse ---------------------------------------------------------------


def _is_list_of_any_length(kind: Any) -> bool:
    args = typing.get_args(kind)
    origin = typing.get_origin(kind)
    return origin is frozenset or (origin is tuple and len(args) == 2 and args[1] is Ellipsis)


def _listed_hook(kind: Any, converter: cattrs.Converter) -> Callable[[Any], Any]:
    item_hook = converter.get_unstructure_hook(typing.get_args(kind)[0])
    build: Callable[[list[Any]], list[Any]] = (
        sorted if typing.get_origin(kind) is frozenset else list
    )

    def dump(value: Any) -> list[Any]:
        if not isinstance(value, tuple | list | frozenset | set):
            raise _Mismatch(f"expected a list, got {type(value).__name__}")
        return build([item_hook(item) for item in value])

    return dump


def _scalar_writer(label: str, takes: Callable[[Any], bool]) -> Callable[[Any], Any]:
    def dump(value: Any) -> Any:
        if not takes(value):
            raise _Mismatch(f"expected {label}, got {type(value).__name__}")
        return value

    return dump


def _is_number(value: Any) -> bool:
    # Subclasses too (an IntEnum member, as an integer field takes), but not true or false.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


#: What the checking converter writes for each scalar type, with the label of its refusal.
_SCALAR_WRITERS: Mapping[type, Callable[[Any], Any]] = {
    str: _scalar_writer("a string", lambda v: isinstance(v, str)),
    int: _scalar_writer("an integer", lambda v: isinstance(v, int) and type(v) is not bool),
    bool: _scalar_writer("true or false", lambda v: type(v) is bool),
    # orjson writes NaN and infinity as null, which an optional field would read as None.
    float: _scalar_writer("a finite number", _is_number),
}


def _checking_converter() -> cattrs.Converter:
    """The fast converter, writing only what reads back as the value given.

    The writer passes scalars through and takes any iterable where a list is declared: a text
    becomes its characters, a mapping its keys, infinity becomes null. Here each of those
    raises, so that ``_unwritable`` names the field.
    """
    converter = make_converter(detailed_validation=False)
    converter.register_unstructure_hook_factory(_is_list_of_any_length, _listed_hook)
    for kind, writer in _SCALAR_WRITERS.items():
        converter.register_unstructure_hook(kind, writer)
    return converter


#: How a value the writer cannot take is named in a problem, by the type declared for it.
_LABELS: Mapping[Any, str] = {
    str: "a string",
    int: "an integer",
    bool: "true or false",
    float: "a number",
    pendulum.DateTime: "a date-time",
    pendulum.Date: "a date",
    pendulum.Time: "a time",
}
_TAGGED_UNIONS = (AnyEvent, DeliverableContent, Requirement)


#: The converters ``written_problems`` uses: checking (to write), fast and detailed (to read).
_Converters = tuple[cattrs.Converter, cattrs.Converter, cattrs.Converter]


def _written_problems(
    converters: _Converters, value: object, kind: Any, path: str
) -> list[Problem]:
    """What the reader says of ``value`` (declared a ``kind``) written as JSON, paths under ``path``."""
    checking, fast, detailed = converters
    try:
        document = orjson.loads(orjson.dumps(checking.unstructure(value, kind)))
    except Exception as error:
        return _unwritable(converters, value, kind, path, error)
    try:
        fast.structure(document, kind)
    except Exception:
        try:
            detailed.structure(document, kind)
        except Exception as error:
            return [Problem(path + p.path[1:], p.message) for p in _problems(error)]
    return []


def _unwritable(
    converters: _Converters,
    value: object,
    kind: Any,
    path: str,
    error: Exception,
) -> list[Problem]:
    """The problems of a ``value`` the writer refused (with ``error``), part by part: only its
    records, lists and mappings are looked into."""
    inner = optional_inner(kind)
    if inner is not None:
        return _written_problems(converters, value, inner, path)
    if kind in _TAGGED_UNIONS:  # a union member is written with its own fields
        if type(value) not in typing.get_args(kind):
            return [Problem(path, f"expected a tagged record, got {type(value).__name__}")]
        kind = type(value)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    found: list[Problem] = []
    if attrs.has(kind) and isinstance(value, kind):
        for field in attrs.fields(attrs.resolve_types(kind)):
            part = getattr(value, field.name)
            found += _written_problems(converters, part, field.type, f"{path}.{field.name}")
    elif origin in (tuple, frozenset) and isinstance(value, tuple | list | frozenset | set):
        fixed = origin is tuple and args[-1] is not Ellipsis
        for i, (item, item_type) in enumerate(
            zip(value, args if fixed else itertools.repeat(args[0]), strict=False)
        ):
            found += _written_problems(converters, item, item_type, f"{path}[{i}]")
    elif origin is dict and isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                found.append(Problem(f"{path}[{key!r}]", "a key must be a string"))
            found += _written_problems(converters, item, args[1], f"{path}[{key!r}]")
    if found:
        return found
    if isinstance(kind, type) and isinstance(value, kind):  # the right type, yet not writable
        return [Problem(path, f"cannot be written: {error}")]
    return [Problem(path, f"expected {_label(kind)}, got {type(value).__name__}")]


def _label(kind: Any) -> str:
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return f"a {kind.__name__} ({', '.join(str(m.value) for m in kind)})"
    if typing.get_origin(kind) in (tuple, frozenset):
        return "a list"
    if typing.get_origin(kind) is dict:
        return "an object"
    label = _LABELS.get(kind)
    return label if label is not None else str(getattr(kind, "__name__", kind))


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
        self._text = _text_converter()
        self._checking = _checking_converter()
        #: The converter used for writing; configure a copy, not this one.
        self.converter = self._fast

    # -- writing --

    def dump(self, value: object, kind: Any = None) -> dict[str, Any]:
        """``value`` as a JSON-ready dict with ``schema_version``; union members keep their tag."""
        return _document(self._fast, value, kind)

    def dumps(self, value: object, kind: Any = None) -> str:
        """``value`` as compact JSON text."""
        converter = self._fast if type(value) in _WRITTEN_OFTEN else self._text
        try:
            return orjson.dumps(_document(converter, value, kind)).decode()
        except TypeError as error:  # lone surrogates, keys that are not strings
            raise InvalidDocument(type(value).__name__, [Problem("$", str(error))]) from None

    def written_problems(self, value: object, kind: Any = None) -> list[Problem]:
        """Every problem the reader would find in ``value`` once written, each at its ``$.path``.

        Empty when the written document reads back: a check for values from the caller before
        they are stored (a ``None`` title, a number where a name goes). The size limit is not
        checked here; a store checks the size of what it writes (``document_too_large``).
        """
        kind = kind if kind is not None else _union_of(type(value))
        return _written_problems((self._checking, self._fast, self._detailed), value, kind, "$")

    # -- reading --

    def load(self, data: object, kind: type[T]) -> T:
        """A ``kind`` from a document (JSON text or dict); raises InvalidDocument with every problem."""
        return self._load(data, kind)  # type: ignore[no-any-return]

    def _load(self, data: object, kind: Any, what: str | None = None) -> Any:
        what = what or str(getattr(kind, "__name__", "document"))
        document = upgrade(_parse(data, what))
        if not _carries_version(kind):
            document = {k: v for k, v in document.items() if k != _SCHEMA_FIELD}
        _forget_parsed()
        try:
            return self._fast.structure(document, kind)
        except Exception:
            pass
        try:
            return self._detailed.structure(document, kind)
        except Exception as error:
            raise InvalidDocument(what, _problems(error)) from None

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
