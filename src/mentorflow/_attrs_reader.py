"""Readers for attrs classes on the fast converter: generated code with scalar checks inline.

Why: a snapshot holds a few hundred small records, and cattrs' generated reader calls one hook
per field. For strings, integers, booleans and enums that call costs more than the check it
makes. Here those checks are written into the reader itself; every other field still goes
through the converter's own hook. The checks are exactly the strict hooks' checks, so this
reader accepts what the detailed converter accepts; on any failure it raises, and the codec
then reads the document again with the detailed converter to name every problem.
"""

from __future__ import annotations

import enum
import functools
import linecache
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, Union

import attrs
import cattrs
from cattrs.errors import ForbiddenExtraKeysError

__all__ = ["enum_members", "make_attrs_reader", "optional_inner"]

#: Scalars whose check is one ``type(v) is X`` test: ``bool`` is not an ``int`` here.
_EXACT = (str, int, bool)


def optional_inner(kind: Any) -> Any:
    """``X`` for ``X | None``, else None."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (Union, types.UnionType) and len(args) == 2:
        if args[1] is type(None):
            return args[0]
        if args[0] is type(None):
            return args[1]
    return None


def _sequence_of(kind: Any) -> tuple[type, Any] | None:
    """(tuple or frozenset, item type) for ``tuple[X, ...]`` and ``frozenset[X]``, else None."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is frozenset and len(args) == 1:
        return frozenset, args[0]
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return tuple, args[0]
    return None


def _is_enum(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, enum.Enum)


@functools.cache
def enum_members(kind: type[enum.Enum]) -> dict[object, enum.Enum]:
    """``kind``'s members by value: a lookup here is several times cheaper than ``kind(value)``."""
    return {member.value: member for member in kind}


class _Source:
    """The generated reader's lines and the names its code refers to."""

    def __init__(self, cls: type, converter: cattrs.Converter, memos: Mapping[Any, Any]) -> None:
        self.converter = converter
        self.memos = memos
        self.env: dict[str, Any] = {"cls": cls}
        self.lines: list[str] = []

    def name(self, prefix: str, value: object) -> str:
        """A name in the generated code's globals bound to ``value``."""
        key = f"{prefix}{len(self.env)}"
        self.env[key] = value
        return key

    def add(self, indent: str, *lines: str) -> None:
        self.lines += [indent + line for line in lines]

    def read(self, kind: Any, var: str, indent: str) -> None:
        """Lines that check ``var`` as a ``kind`` and rebind it to the value read."""
        if kind in _EXACT:
            k = self.name("k", kind)
            self.add(indent, f"if {var}.__class__ is not {k}:", f"    {self.fail(kind, var)}")
        elif _is_enum(kind):
            e, m = self.name("e", kind), self.name("m", enum_members(kind))
            # Only str and int values are looked up, so 1.0 or True never match a member 1.
            self.add(
                indent,
                f"if {var}.__class__ is not {e}:",
                f"    if {var}.__class__ is not str and {var}.__class__ is not int:",
                f"        {self.fail(kind, var)}",
                f"    {var} = {m}[{var}]",
            )
        elif kind in self.memos:
            memo, hook = self.name("p", self.memos[kind]), self.hook(kind)
            self.add(
                indent,
                f"if {var}.__class__ is not str:",
                f"    {self.fail(kind, var)}",
                f"{var}_ = {memo}.get({var})",
                f"{var} = {var}_ if {var}_ is not None else {hook}({var}, {self.name('t', kind)})",
            )
        elif (inner := optional_inner(kind)) is not None:
            self.add(indent, f"if {var} is not None:")
            self.read(inner, var, indent + "    ")
        elif (sequence := _sequence_of(kind)) is not None:
            self.read_sequence(*sequence, var, indent)
        else:
            self.add(indent, f"{var} = {self.hook(kind)}({var}, {self.name('t', kind)})")

    def read_sequence(self, build: type, item: Any, var: str, indent: str) -> None:
        b = self.name("b", build)
        self.add(
            indent,
            f"if {var}.__class__ is not list and {var}.__class__ is not tuple:",
            f"    raise mismatch('expected a list', {var})",
        )
        if item in _EXACT:
            self.add(indent, f"for i in {var}:")
            self.read(item, "i", indent + "    ")
            self.add(indent, f"{var} = {b}({var})")
        elif _is_enum(item):
            m, hook, t = self.name("m", enum_members(item)), self.hook(item), self.name("t", item)
            # The hook reads anything but a plain str or int (a member, or a value to refuse).
            self.add(
                indent,
                f"{var} = {b}([{m}[i] if i.__class__ is str or i.__class__ is int"
                f" else {hook}(i, {t}) for i in {var}])",
            )
        else:
            hook, t = self.hook(item), self.name("t", item)
            self.add(indent, f"{var} = {b}([{hook}(i, {t}) for i in {var}]) if {var} else {b}()")

    def hook(self, kind: Any) -> str:
        return self.name("h", self.converter.get_structure_hook(kind))

    def fail(self, kind: Any, var: str) -> str:
        label = getattr(kind, "__name__", str(kind))
        return f"raise mismatch({f'expected {label}'!r}, {var})"


def make_attrs_reader(
    cls: type,
    converter: cattrs.Converter,
    mismatch: Callable[[str, object], Exception],
    memos: Mapping[Any, Mapping[str, Any]],
    *,
    tag: str | None = None,
) -> Callable[[Any, Any], Any]:
    """A structure hook for ``cls`` that stops at the first problem.

    ``mismatch(message, value)`` makes the error raised for a value of the wrong type; unknown
    keys raise cattrs' ``ForbiddenExtraKeysError``. ``memos`` maps a type to the values its
    hook already parsed, by text, so a hit skips the call. ``tag`` names a key the reader
    expects and skips: a tagged union's, read by the caller to pick ``cls``.
    """
    fields = [f for f in attrs.fields(attrs.resolve_types(cls)) if f.init]
    required = sum(f.default is attrs.NOTHING for f in fields) + (tag is not None)
    source = _Source(cls, converter, memos)
    source.env.update(
        mismatch=mismatch,
        extra=ForbiddenExtraKeysError,
        allowed={f.name for f in fields} | ({tag} if tag else set()),
        absent=attrs.NOTHING,
    )
    # Unknown keys are found by counting the known ones read: cheaper than a set per object.
    source.add("", "def read(o, _):", f"    c = {required}")
    arguments = []
    for n, field in enumerate(fields):
        var = f"v{n}"
        if field.default is attrs.NOTHING:
            source.add("    ", f"{var} = o[{field.name!r}]")
            source.read(field.type, var, "    ")
        else:
            source.add(
                "    ",
                f"{var} = o.get({field.name!r}, absent)",
                f"if {var} is absent:",
                f"    {var} = {_default(field, source)}",
                "else:",
                "    c += 1",
            )
            source.read(field.type, var, "        ")
        arguments.append(f"{field.alias}={var}" if field.kw_only else var)
    source.add(
        "    ",
        "if len(o) != c:",
        "    raise extra('', cls, set(o) - allowed)",
        f"return cls({', '.join(arguments)})",
    )
    return _compile(cls, "\n".join(source.lines), source.env)


def _default(field: attrs.Attribute[Any], source: _Source) -> str:
    """An expression for ``field``'s default, as attrs would compute it."""
    default: Any = field.default
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]  # attrs' Factory is a class
        if default.takes_self:
            raise TypeError(f"{field.name}: a default that takes self is not read here")
        return f"{source.name('f', default.factory)}()"
    return source.name("d", default)


def _compile(cls: type, source: str, env: dict[str, Any]) -> Callable[[Any, Any], Any]:
    filename = f"<mentorflow reader {cls.__module__}.{cls.__qualname__}>"
    # Kept in linecache so tracebacks and profilers show the generated lines.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    namespace: dict[str, Any] = {}
    exec(compile(source, filename, "exec"), env, namespace)
    reader: Callable[[Any, Any], Any] = namespace["read"]
    return reader
