"""Find the method a person names: a built-in id, a JSON/TOML file, or ``module:function``."""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

from mentorflow.catalog import METHODS
from mentorflow.exceptions import InvalidInput, Problem
from mentorflow.methods import Method

__all__ = ["METHOD_FILE_SUFFIXES", "import_reference", "load_method_source"]

#: File name endings read as method files.
METHOD_FILE_SUFFIXES = (".json", ".toml")


def _refuse(spec: str, message: str) -> InvalidInput:
    return InvalidInput("method", [Problem("$.method", f"{spec!r}: {message}")])


def _from_file(path: Path) -> Method:
    if not path.is_file():
        raise FileNotFoundError(f"no such method file: {path}")
    # Imported here: reading files needs the serialisation machinery, which the rest does not.
    from mentorflow.methodfiles import load_method

    return load_method(path)


def import_reference(spec: str, what: str) -> object:
    """The object ``module:name`` refers to; raises InvalidInput naming ``what`` when it cannot.

    Like ``python -m``, a module in the directory the command runs from is importable.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise InvalidInput(what, [Problem("$." + what, f"{spec!r}: expected module:name")])
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        message = f"{spec!r}: cannot import module {module_name!r} ({error})"
        raise InvalidInput(what, [Problem("$." + what, message)]) from None
    if not hasattr(module, attribute):
        message = f"{spec!r}: module {module_name!r} has no attribute {attribute!r}"
        raise InvalidInput(what, [Problem("$." + what, message)])
    target: object = getattr(module, attribute)
    return target


def _from_callable(spec: str) -> Method:
    target = import_reference(spec, "method")
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
