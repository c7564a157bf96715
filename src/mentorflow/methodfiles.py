"""Methods as files: read and write a ``Method`` as JSON or TOML, checked by lint on the way in.

A method file is the method's document (what ``Codec.dump`` makes) with ``schema_version`` at
the top. TOML has no null, so fields left at ``None`` are simply omitted. Writing TOML needs the
``mentorflow[toml]`` extra (``tomli-w``); reading uses the standard library's ``tomllib``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from mentorflow.exceptions import InvalidDocument, InvalidMethod, Problem
from mentorflow.lint import lint_method
from mentorflow.methods import Method
from mentorflow.serialization import MAX_DOCUMENT_BYTES, default_codec, document_too_large

__all__ = ["dump_method", "load_method"]

Format = Literal["json", "toml"]


def load_method(source: str | Path, *, format: Format | None = None) -> Method:
    """A method from a file path or from JSON/TOML text; raises InvalidMethod listing every problem.

    The format comes from ``format``, else the file's suffix, else the text (JSON starts with
    ``{``). Structure problems and lint findings are reported together, each with its ``$.path``.
    """
    text, format = _read(source, format)
    what = "method file"
    if document_too_large(text):
        raise InvalidMethod(what, [Problem("$", f"larger than {MAX_DOCUMENT_BYTES} bytes")])
    data: object
    if format == "toml":
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as error:
            raise InvalidMethod(what, [Problem("$", f"not valid TOML: {error}")]) from None
    else:
        data = text
    try:
        method = default_codec().load(data, Method)
    except InvalidDocument as error:
        raise InvalidMethod(what, error.problems) from None
    problems = lint_method(method)
    if problems:
        raise InvalidMethod(f"method {method.id!r}", problems)
    return method


def dump_method(method: Method, format: Format = "json") -> str:
    """``method`` as JSON or TOML text that ``load_method`` reads back to an equal method."""
    document = default_codec().dump(method)
    if format == "json":
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    try:
        import tomli_w
    except ImportError:  # pragma: no cover - the dev environment installs every extra
        raise ImportError("writing TOML needs tomli-w: pip install 'mentorflow[toml]'") from None
    return tomli_w.dumps(_without_nulls(document))


def _without_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def _is_file_name(source: str) -> bool:
    return "\n" not in source and source.rstrip().endswith((".json", ".toml"))


def _read(source: str | Path, format: Format | None) -> tuple[str, Format]:
    if not isinstance(source, str | Path):
        raise InvalidMethod(
            "method file",
            [Problem("$", f"expected a path or JSON/TOML text, got {type(source).__name__}")],
        )
    if format not in (None, "json", "toml"):
        raise InvalidMethod("method file", [Problem("$", f"unknown format {format!r}")])
    if isinstance(source, str) and not _is_file_name(source):
        return source, format or ("json" if source.lstrip().startswith("{") else "toml")
    path = Path(source)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InvalidMethod("method file", [Problem("$", f"cannot read {path}: {error}")]) from None
    return text, format or ("toml" if path.suffix == ".toml" else "json")
