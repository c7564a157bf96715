"""What the reader would refuse in a value, found before the value is written, field by field.

The fast converter writes what it is given: a text where a list is declared becomes its
characters, infinity becomes null. The checking converter refuses those instead, and what it
writes is read back by the reader itself, so the two cannot disagree.
"""

from __future__ import annotations

import enum
import itertools
import math
import typing
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import cattrs
import orjson
import pendulum

from mentorflow._attrs_reader import optional_inner
from mentorflow._converters import AnyEvent, make_converter
from mentorflow._read_errors import Mismatch, problems_of
from mentorflow.deliverables import DeliverableContent
from mentorflow.exceptions import Problem
from mentorflow.requirements import Requirement

__all__ = ["checking_converter", "is_number", "written_problems"]


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
            raise Mismatch(f"expected a list, got {type(value).__name__}")
        return build([item_hook(item) for item in value])

    return dump


def _scalar_writer(label: str, takes: Callable[[Any], bool]) -> Callable[[Any], Any]:
    def dump(value: Any) -> Any:
        if not takes(value):
            raise Mismatch(f"expected {label}, got {type(value).__name__}")
        return value

    return dump


def is_number(value: Any) -> typing.TypeGuard[int | float]:
    # Subclasses too (an IntEnum member, as an integer field takes), but not true or false.
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


#: What the checking converter writes for each scalar type, with the label of its refusal.
_SCALAR_WRITERS: Mapping[type, Callable[[Any], Any]] = {
    str: _scalar_writer("a string", lambda v: isinstance(v, str)),
    int: _scalar_writer("an integer", lambda v: isinstance(v, int) and type(v) is not bool),
    bool: _scalar_writer("true or false", lambda v: type(v) is bool),
    # orjson writes NaN and infinity as null, which an optional field would read as None.
    float: _scalar_writer("a finite number", is_number),
}


def checking_converter() -> cattrs.Converter:
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


def written_problems(converters: _Converters, value: object, kind: Any, path: str) -> list[Problem]:
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
            return [Problem(path + p.path[1:], p.message) for p in problems_of(error)]
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
        return written_problems(converters, value, inner, path)
    if kind in _TAGGED_UNIONS:  # a union member is written with its own fields
        if type(value) not in typing.get_args(kind):
            return [Problem(path, f"expected a tagged record, got {type(value).__name__}")]
        kind = type(value)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    found: list[Problem] = []
    if attrs.has(kind) and isinstance(value, kind):
        for field in attrs.fields(attrs.resolve_types(kind)):
            part = getattr(value, field.name)
            found += written_problems(converters, part, field.type, f"{path}.{field.name}")
    elif origin in (tuple, frozenset) and isinstance(value, tuple | list | frozenset | set):
        fixed = origin is tuple and args[-1] is not Ellipsis
        for i, (item, item_type) in enumerate(
            zip(value, args if fixed else itertools.repeat(args[0]), strict=False)
        ):
            found += written_problems(converters, item, item_type, f"{path}[{i}]")
    elif origin is dict and isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                found.append(Problem(f"{path}[{key!r}]", "a key must be a string"))
            found += written_problems(converters, item, args[1], f"{path}[{key!r}]")
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
