"""The strict cattrs converters: exact JSON shapes, no extra keys, tagged unions.

Strict because cattrs' own hooks coerce (12 -> "12", "1" -> 1, "false" -> True) and a document
must read back as exactly what was written. The fast converter reads attrs records with the
generated readers of ``_attrs_reader``; the detailed one names every problem when it fails.
"""

from __future__ import annotations

import enum
import itertools
import typing
from collections.abc import Callable, Mapping
from typing import Any, Union

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
from mentorflow._read_errors import Mismatch
from mentorflow._time_hooks import (
    PARSED_BY_TYPE,
    dump_datetime,
    load_date,
    load_datetime,
    load_time,
)
from mentorflow.deliverables import CONTENT_TYPES, DeliverableContent
from mentorflow.requirements import REQUIREMENT_TYPES, Requirement
from mentorflow.state import DeliverableRecord, HistoryEntry

__all__ = ["EVENT_TYPES", "WRITTEN_OFTEN", "AnyEvent", "make_converter", "text_converter"]

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
    ev.EngagementDeleted,
    ev.ParticipantErased,
    ev.TriggerRefused,
    ev.MethodMigrated,
    reminders.DeadlineApproaching,
    reminders.DeadlineMissed,
)
AnyEvent = Union[EVENT_TYPES]  # type: ignore[valid-type]  # noqa: UP007 - built from a tuple


def _strict(kind: type, label: str) -> Callable[[object, object], Any]:
    def load(value: object, _: object) -> Any:
        if type(value) is kind:
            return value
        raise Mismatch(f"expected {label}, got {type(value).__name__}")

    return load


def _load_enum(value: object, kind: type[enum.Enum]) -> enum.Enum:
    # A table lookup: calling the enum class costs several times more on every field read.
    if type(value) is kind:
        return value  # a member, in a dict built in code
    member = enum_members(kind).get(value) if type(value) is str or type(value) is int else None
    if member is None:
        known = ", ".join(str(m.value) for m in kind)
        raise Mismatch(f"{value!r} is not a {kind.__name__} ({known})")
    return member


def _load_float(value: object, _: object) -> float:
    if type(value) is float or type(value) is int:
        return float(value)
    raise Mismatch(f"expected a number, got {type(value).__name__}")


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
                raise Mismatch(f"expected a list, got {type(value).__name__}")
            return build(_with_index_notes(value, lambda _i: (item_hook, item_type), kind))

        def load_many_fast(value: Any, _: Any) -> Any:
            # The fast converter stops at the first error; the detailed one names them all.
            if type(value) is not list and type(value) is not tuple:
                raise Mismatch(f"expected a list, got {type(value).__name__}")
            if not value:
                return build()
            if item_type is str:
                for item in value:
                    if type(item) is not str:
                        raise Mismatch("expected a string")
                return build(value)
            return build(map(item_hook, value, itertools.repeat(item_type)))

        return load_many if converter.detailed_validation else load_many_fast
    item_hooks = [(converter.get_structure_hook(a), a) for a in args]

    def load_fixed(value: Any, _: Any) -> Any:
        if type(value) is not list and type(value) is not tuple:
            raise Mismatch(f"expected a list, got {type(value).__name__}")
        if len(value) != len(item_hooks):
            raise Mismatch(f"expected a list of {len(item_hooks)} items, got {len(value)}")
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


def _mismatch(message: str, value: object) -> Mismatch:
    return Mismatch(f"{message}, got {type(value).__name__}")


def _fast_attrs_hook(cls: type, converter: cattrs.Converter) -> Callable[[Any, Any], Any]:
    return make_attrs_reader(cls, converter, _mismatch, PARSED_BY_TYPE)


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
            raise Mismatch(f"expected an object, got {type(value).__name__}")
        tag = value.get(tag_name)
        cls = by_tag.get(tag) if type(tag) is str else None
        if cls is None:
            error = Mismatch(
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
                    cls, converter, _mismatch, PARSED_BY_TYPE, tag=tag_name
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
    converter.register_unstructure_hook(pendulum.DateTime, dump_datetime)
    converter.register_structure_hook(pendulum.DateTime, load_datetime)
    converter.register_unstructure_hook(pendulum.Date, pendulum.Date.isoformat)
    converter.register_structure_hook(pendulum.Date, load_date)
    converter.register_unstructure_hook(pendulum.Time, pendulum.Time.isoformat)
    converter.register_structure_hook(pendulum.Time, load_time)
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
WRITTEN_OFTEN: tuple[type, ...] = (DeliverableRecord, HistoryEntry)


def text_converter() -> cattrs.Converter:
    """The fast converter, writing each of ``WRITTEN_OFTEN`` as JSON text kept by identity.

    Only for ``Codec.dumps``: its output is an orjson fragment, not a dict, so it never reaches
    a caller who could change it.
    """
    converter = make_converter(detailed_validation=False)
    for cls in WRITTEN_OFTEN:
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
