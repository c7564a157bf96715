"""Date, time and date-time hooks: ISO 8601 text that round-trips exactly, parsed once a text.

The format is the one ``mentorflow.serialization`` describes: a date-time in a named zone
carries the zone's name after its offset (RFC 9557), so it reads back in that zone.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import pendulum

from mentorflow._read_errors import Mismatch

__all__ = [
    "PARSED_BY_TYPE",
    "dump_datetime",
    "forget_parsed",
    "load_date",
    "load_datetime",
    "load_time",
]

T = TypeVar("T")


@functools.cache
def _zone(name: str) -> pendulum.Timezone:
    try:
        return pendulum.timezone(name)
    except Exception as error:
        raise Mismatch(f"unknown time zone {name!r}") from error


def dump_datetime(value: pendulum.DateTime) -> str:
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
            raise Mismatch(f"expected {label} string, got {type(value).__name__}")
        hit = parsed.get(value)
        if hit is None:
            if len(parsed) >= _PARSED_LIMIT:
                parsed.clear()  # converters used directly never clear it: stay bounded anyway
            hit = parsed[value] = parse(value)
        return hit

    return load, parsed


def forget_parsed() -> None:
    """Start a new document: forget the texts read so far."""
    for parsed in _PARSED:
        parsed.clear()


def _parse_datetime(value: str) -> pendulum.DateTime:
    text, bracket, rest = value.partition("[")
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise Mismatch(f"{value[:40]!r} is not an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise Mismatch("a date-time must carry its UTC offset")
    if bracket:
        if not rest.endswith("]"):
            raise Mismatch("the time zone name must end with ']'")
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
        raise Mismatch(f"{value[:40]!r} is not an ISO 8601 date (YYYY-MM-DD)") from None


def _parse_time(value: str) -> pendulum.Time:
    try:
        return pendulum.Time.fromisoformat(value)
    except ValueError:
        raise Mismatch(f"{value[:40]!r} is not an ISO 8601 time (HH:MM[:SS])") from None


load_datetime, _datetimes = _read_once(_parse_datetime, "an ISO 8601 date-time")
load_date, _dates = _read_once(_parse_date, "an ISO 8601 date")
load_time, _times = _read_once(_parse_time, "an ISO 8601 time")
#: The values each reader parsed so far, by type then text: generated readers look here first.
PARSED_BY_TYPE: Mapping[type, Mapping[str, object]] = {
    pendulum.DateTime: _datetimes,
    pendulum.Date: _dates,
    pendulum.Time: _times,
}
