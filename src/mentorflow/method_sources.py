"""Find the method a person names: a built-in id, a JSON/TOML file, or ``module:function``."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from mentorflow.catalog import METHODS
from mentorflow.exceptions import InvalidInput, Problem
from mentorflow.methods import Method

__all__ = ["METHOD_FILE_SUFFIXES", "load_method_source"]

#: File name endings read as method files.
METHOD_FILE_SUFFIXES = (".json", ".toml")


def _refuse(spec: str, message: str) -> InvalidInput:
    return InvalidInput("method source", [Problem("$.method", f"{spec!r}: {message}")])


def _from_file(path: Path) -> Method:
    if not path.is_file():
        raise FileNotFoundError(f"no such method file: {path}")
    # Imported here: the file formats live with serialisation, which the CLI needs only for files.
    from mentorflow.serialization import load_method  # type: ignore[import-not-found]

    method: Method = load_method(path)
    return method


def _from_callable(spec: str) -> Method:
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise _refuse(spec, "expected module:function")
    # Like `python -m`, a module next to where the command runs is importable.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise _refuse(spec, f"cannot import module {module_name!r} ({error})") from None
    target = getattr(module, attribute, None)
    if target is None:
        raise _refuse(spec, f"module {module_name!r} has no attribute {attribute!r}")
    method = target() if callable(target) and not isinstance(target, Method) else target
    if not isinstance(method, Method):
        raise _refuse(spec, f"gave a {type(method).__name__}, not a Method")
    return method


def load_method_source(spec: str) -> Method:
    """The method ``spec`` names: a built-in id, a ``.json``/``.toml`` file, or ``module:function``.

    Raises FileNotFoundError for a missing file and InvalidInput (a ``$.path`` per problem) for
    anything else that does not name a method; the method itself is returned unlinted.
    """
    if spec in METHODS:
        return METHODS[spec]()
    path = Path(spec)
    if path.suffix.lower() in METHOD_FILE_SUFFIXES or path.is_file():
        return _from_file(path)
    if ":" in spec:
        return _from_callable(spec)
    raise _refuse(
        spec,
        "not a built-in method id, a .json/.toml method file or module:function; "
        f"built-in ids: {', '.join(sorted(METHODS))}",
    )
