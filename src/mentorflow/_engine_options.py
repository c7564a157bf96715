"""The engine options a host may pass to ``SqlStore.open``, checked before any engine is made.

A store is opened once per worker, and a wrong option found only at the first request (a pool
size given as text, say, fails when the pool first grows) would take a worker down long after
its deploy. So the options are a known set, each checked for its type here, and a problem names
the option. The few options that would undo the store's own settings are refused with why.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from mentorflow._write_checks import is_number
from mentorflow.exceptions import InvalidInput, Problem

__all__ = ["checked_options"]


def _integer_from(least: int) -> Callable[[Any], bool]:
    return lambda value: type(value) is int and value >= least


def _seconds_from(least: float) -> Callable[[Any], bool]:
    return lambda value: is_number(value) and value >= least


def _flag(value: Any) -> bool:
    return isinstance(value, bool)


def _flag_or_debug(value: Any) -> bool:
    return isinstance(value, bool) or value == "debug"


def _pool_class(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, sa.pool.Pool)


def _text(value: Any) -> bool:
    return isinstance(value, str)


def _driver_arguments(value: Any) -> bool:
    return isinstance(value, Mapping) and all(isinstance(name, str) for name in value)


#: The options passed on to ``create_engine``: name -> (check, what the value must be).
TAKEN: Mapping[str, tuple[Callable[[Any], bool], str]] = {
    "pool_size": (_integer_from(0), "an integer of at least 0 (0: no limit)"),
    "max_overflow": (_integer_from(-1), "an integer of at least -1 (-1: no limit)"),
    "pool_timeout": (_seconds_from(0), "a number of seconds, at least 0"),
    "pool_recycle": (_seconds_from(-1), "a number of seconds, at least -1 (-1: never)"),
    "pool_pre_ping": (_flag, "true or false"),
    "pool_use_lifo": (_flag, "true or false"),
    "poolclass": (_pool_class, "a subclass of sqlalchemy.pool.Pool"),
    "echo": (_flag_or_debug, 'true, false or "debug"'),
    "echo_pool": (_flag_or_debug, 'true, false or "debug"'),
    "hide_parameters": (_flag, "true or false"),
    "logging_name": (_text, "a text"),
    "pool_logging_name": (_text, "a text"),
    "connect_args": (_driver_arguments, "a mapping of driver argument names to values"),
}
#: Options the store sets itself, with why a host's value is refused.
STORE_SETS = {
    "isolation_level": "the store runs its own transactions (AUTOCOMMIT would commit a save's "
    "rows one by one)",
    "execution_options": "the store compiles its statements once and runs the hot ones on the "
    "driver, so engine-wide execution options would reach only some of them",
}
#: SQLite driver arguments the store sets itself, with why.
SQLITE_SETS = {
    "timeout": "it is set by busy_timeout",
    "isolation_level": "the store issues BEGIN IMMEDIATE itself",
}


def checked_options(options: object, busy_timeout: object, *, sqlite: bool) -> dict[str, Any]:
    """A copy of ``options``; InvalidInput names every option (and ``busy_timeout``) refused."""
    problems = []
    if not is_number(busy_timeout) or busy_timeout < 0:
        problems.append(
            Problem(
                "$.busy_timeout", f"must be a number of seconds, at least 0, not {busy_timeout!r}"
            )
        )
    if options is None:
        options = {}
    if not isinstance(options, Mapping):
        problems.append(
            Problem(
                "$.engine_options",
                f"expected a mapping of option names, got {type(options).__name__}",
            )
        )
        options = {}
    for name, value in options.items():
        problem = _option_problem(name, value, sqlite=sqlite)
        if problem is not None:
            problems.append(problem)
    if problems:
        raise InvalidInput("store", problems)
    return dict(options)


def _option_problem(name: object, value: object, *, sqlite: bool) -> Problem | None:
    if not isinstance(name, str):
        return Problem("$.engine_options", f"option names are texts, not {name!r}")
    path = f"$.engine_options.{name}"
    if name in STORE_SETS:
        return Problem(path, f"not an option here: {STORE_SETS[name]}")
    if name not in TAKEN:
        return Problem(path, f"not an option the store takes; it takes {', '.join(TAKEN)}")
    check, expected = TAKEN[name]
    if not check(value):
        return Problem(path, f"must be {expected}, not {value!r}")
    if sqlite and isinstance(value, Mapping):  # the driver arguments
        for argument, why in SQLITE_SETS.items():
            if argument in value:
                return Problem(f"{path}.{argument}", f"not an option here: {why}")
    return None
