"""Checks on what host applications pass in: times, counts, texts, lists, and records to store.

A host may pass the engine, the store or a migration any Python value: a naive datetime, a
``True`` for a count, a generator or a set where a list is declared, a number where a name goes.
Each is checked (or materialised) here, where it comes in, and refused at its ``$.path``: what
is stored is what was checked, and it reads back equal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import typing
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

import attrs
import pendulum
from pendulum.tz.exceptions import InvalidTimezone

from mentorflow._attrs_reader import optional_inner
from mentorflow.clock import Clock
from mentorflow.exceptions import InvalidInput, Problem
from mentorflow.model import Organisation, Participant, Role, Visit
from mentorflow.serialization import default_codec

__all__ = [
    "as_count",
    "as_instant",
    "as_text",
    "count_problems",
    "items_of",
    "materialised",
    "problems_when_written",
    "resolve_time",
    "team_problems",
    "visit_problems",
]


def as_instant(at: dt.datetime, field: str = "at") -> pendulum.DateTime:
    """``at`` as a pendulum instant; a naive datetime is refused, since its zone would be a guess.

    An instant in a zone without a name the reader can load again (``pendulum.now()`` where
    ``TZ=:/etc/localtime``, a ``ZoneInfo.from_file``) is kept at its UTC offset of that moment:
    written with that zone's name it could never be read back.
    """
    if type(at) is pendulum.DateTime and _storable(at.tzinfo):
        return at  # the common case, first: pendulum instants always carry a zone
    if not isinstance(at, dt.datetime):
        raise InvalidInput(
            "time", [Problem(f"$.{field}", f"expected a datetime, got {type(at).__name__}")]
        )
    offset = at.utcoffset() if at.tzinfo is not None else None
    if offset is None:
        raise InvalidInput("time", [Problem(f"$.{field}", "must carry a time zone")])
    try:
        instant = at if isinstance(at, pendulum.DateTime) else pendulum.instance(at)
    except (AttributeError, ValueError, InvalidTimezone):
        instant = None  # pendulum could not name the zone
    if instant is not None and _storable(instant.tzinfo):
        return instant
    wall = (at.year, at.month, at.day, at.hour, at.minute, at.second, at.microsecond)
    return pendulum.instance(dt.datetime(*wall, tzinfo=dt.timezone(offset)))


#: Zone names pendulum has loaded here, so the check on every action's time is a set lookup.
_LOADABLE_ZONES: set[str] = set()


def _storable(zone: dt.tzinfo | None) -> bool:
    """Whether an instant in ``zone`` is written in a form the reader takes back."""
    # Exact types first: on every action's time, a named zone seen before costs a set lookup.
    if type(zone) is pendulum.Timezone and zone.name in _LOADABLE_ZONES:
        return True
    if isinstance(zone, pendulum.FixedTimezone):
        return True  # written as its offset
    if not isinstance(zone, pendulum.Timezone):
        return False
    name = zone.name
    if name in _LOADABLE_ZONES:
        return True
    if not isinstance(name, str):
        return False  # pendulum.now() under TZ=:/etc/localtime names its zone None
    try:
        pendulum.timezone(name)
    except (ValueError, InvalidTimezone):
        return False
    _LOADABLE_ZONES.add(name)
    return True


def as_count(value: object, field: str, *, what: str, minimum: int = 1) -> int:
    """``value`` if it is an integer of at least ``minimum``; else InvalidInput at ``$.field``.

    ``True`` is refused although Python counts it as 1: it is never meant as a number here.
    """
    if type(value) is int and value >= minimum:
        return value
    raise InvalidInput(what, count_problems(value, field, minimum=minimum))


def count_problems(value: object, field: str, *, minimum: int = 1) -> list[Problem]:
    """What ``as_count`` would refuse in ``value``, for a check that gathers every argument's."""
    if type(value) is not int:
        return [Problem(f"$.{field}", f"expected an integer, got {type(value).__name__}")]
    if value < minimum:
        return [Problem(f"$.{field}", f"must be at least {minimum}")]
    return []


def as_text(value: object, field: str, *, what: str) -> str:
    """``value`` if it is a string; else InvalidInput at ``$.field`` (ids, reasons, comments)."""
    if not isinstance(value, str):
        raise InvalidInput(
            what, [Problem(f"$.{field}", f"expected a string, got {type(value).__name__}")]
        )
    return value


def resolve_time(at: dt.datetime | None, clock: Clock | None) -> pendulum.DateTime:
    """The time of an action: ``at`` if given, else the injected clock's; never the wall clock."""
    if at is not None:
        return as_instant(at)
    if clock is not None:
        return as_instant(clock.now())
    raise InvalidInput(
        "time", [Problem("$.at", "pass the time of the action, or give the engagement a clock")]
    )


def items_of(value: object, name: str, problems: list[Problem]) -> tuple[object, ...]:
    """``value`` as a tuple of materialised items if it is a collection (not a text or mapping);
    else a problem at ``$.name`` and ()."""
    if _is_collection(value):
        # Iterated once: a generator or a Django QuerySet gives its items here, not twice.
        return tuple(materialised(item) for item in value)
    problems.append(Problem(f"$.{name}", f"expected a list, got {type(value).__name__}"))
    return ()


def _is_collection(value: object) -> typing.TypeGuard[Iterable[object]]:
    """Whether host data may stand for a list: any iterable but a text or a mapping (whose
    letters or keys would be taken silently)."""
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping)


_T = TypeVar("_T")


def _may_hold_record(kind: Any) -> bool:
    """Whether a value declared ``kind`` may be or contain a record (in a union or a list)."""
    return (
        kind is Any
        or (isinstance(kind, type) and attrs.has(kind))
        or any(_may_hold_record(arg) for arg in typing.get_args(kind))
    )


@functools.cache
def _fields_to_walk(cls: type) -> tuple[tuple[str, type | None, bool], ...]:
    """The fields of ``cls`` that ``materialised`` looks at (none if it is not a record):
    each with ``tuple`` or ``frozenset`` if declared a list of either kind (else None), and
    whether it may hold records. Text, number and date fields are left out: that keeps the
    walk of a large valid record cheap."""
    if not attrs.has(cls):
        return ()
    walked = []
    for field in attrs.fields(attrs.resolve_types(cls)):
        kind = optional_inner(field.type) or field.type
        origin = typing.get_origin(kind)
        collection = origin if origin in (tuple, frozenset) else None
        if collection is not None or _may_hold_record(kind):
            walked.append((field.name, collection, _may_hold_record(kind)))
    return tuple(walked)


def materialised(value: _T) -> _T:
    """``value`` with every list field of its records (a set, a dict's keys or values, a
    generator) made the declared tuple or frozenset, each iterated once; ``value`` itself when
    nothing changes. As the writer takes any iterable, earlier releases stored these; they are
    materialised here so that what is checked is what is stored and loads back equal."""
    changes: dict[str, object] = {}
    record: type = type(value)
    for name, collection, holds_records in _fields_to_walk(record):
        part = getattr(value, name)
        if collection is not None and _is_collection(part):
            if type(part) is collection and not holds_records:
                continue  # already as declared, items that are not records: nothing to do
            items = tuple(materialised(item) for item in part)
            if type(part) is collection and all(a is b for a, b in zip(part, items, strict=True)):
                continue  # already as declared: keep it, without building a copy
            made: object = items
            if collection is frozenset:
                with contextlib.suppress(TypeError):  # unhashable: the writer check names it
                    made = frozenset(items)
            changes[name] = made
        elif holds_records:
            inner = materialised(part)
            if inner is not part:
                changes[name] = inner
    return attrs.evolve(value, **changes) if changes else value  # type: ignore[misc]


def problems_when_written(value: object, kind: Any, where: str) -> list[Problem]:
    """What the store's reader would refuse in ``value`` once written, at paths under ``where``."""
    return default_codec().written_problems(value, kind, where)


def team_problems(
    organisations: Sequence[Organisation],
    participants: Sequence[Participant],
    visits: Sequence[Visit],
) -> Iterable[Problem]:
    org_ids = [o.id for o in organisations]
    for i, org in enumerate(organisations):
        if org_ids.count(org.id) > 1:
            yield Problem(f"$.organisations[{i}].id", f"duplicate organisation {org.id!r}")
        try:
            pendulum.timezone(org.timezone)
        except Exception:
            yield Problem(f"$.organisations[{i}].timezone", f"unknown time zone {org.timezone!r}")
    person_ids = [p.id for p in participants]
    for i, person in enumerate(participants):
        if person_ids.count(person.id) > 1:
            yield Problem(f"$.participants[{i}].id", f"duplicate participant {person.id!r}")
        if person.organisation_id not in org_ids:
            yield Problem(
                f"$.participants[{i}].organisation_id",
                f"unknown organisation {person.organisation_id!r}",
            )
        if not isinstance(person.role, Role):
            yield Problem(f"$.participants[{i}].role", f"unknown role {person.role!r}")
    visit_ids = [v.id for v in visits]
    for i, visit in enumerate(visits):
        yield from visit_problems(f"$.visits[{i}]", visit, org_ids)
        if visit_ids.count(visit.id) > 1:
            yield Problem(f"$.visits[{i}].id", f"duplicate visit {visit.id!r}")


def visit_problems(where: str, visit: Visit, org_ids: Sequence[str]) -> Iterable[Problem]:
    if visit.host not in org_ids:
        yield Problem(f"{where}.host", f"unknown organisation {visit.host!r}")
    for j, visitor in enumerate(visit.visitors):
        if visitor not in org_ids:
            yield Problem(f"{where}.visitors[{j}]", f"unknown organisation {visitor!r}")
    if visit.window is not None and visit.window.end < visit.window.start:
        yield Problem(f"{where}.window.end", "is before the visit's start")
