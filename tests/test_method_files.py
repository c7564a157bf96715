"""Method files: what ``load_method`` refuses, always as ``InvalidMethod`` with a ``$.path``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mentorflow.catalog import rock_mentoring
from mentorflow.exceptions import InvalidMethod
from mentorflow.methodfiles import dump_method, load_method
from mentorflow.serialization import MAX_DOCUMENT_BYTES


@pytest.mark.parametrize("source", [None, 123, b"{}", ["a.json"]])
def test_a_source_that_is_neither_a_path_nor_text_is_refused(source: Any) -> None:
    """Bytes, numbers, None or a list are refused as a method file, naming what was given."""
    with pytest.raises(InvalidMethod) as refused:
        load_method(source)
    assert refused.value.problems[0].path == "$"
    assert type(source).__name__ in refused.value.problems[0].message


def test_an_unknown_format_is_refused() -> None:
    """A format other than json or toml is refused instead of being read as TOML."""
    with pytest.raises(InvalidMethod, match="unknown format 'yaml'"):
        load_method(dump_method(rock_mentoring()), format="yaml")  # type: ignore[arg-type]


def test_the_size_limit_counts_bytes_not_characters(tmp_path: Path) -> None:
    """A file of fewer characters than the limit but more UTF-8 bytes is refused for its size."""
    text = dump_method(rock_mentoring())
    padding = "é" * ((MAX_DOCUMENT_BYTES - len(text)) // 2 + 10)  # 2 bytes each
    oversized = text.replace('"title": "', f'"title": "{padding}', 1)
    assert len(oversized) <= MAX_DOCUMENT_BYTES < len(oversized.encode("utf-8"))
    path = tmp_path / "big.json"
    path.write_text(oversized, encoding="utf-8")
    with pytest.raises(InvalidMethod, match=f"larger than {MAX_DOCUMENT_BYTES} bytes"):
        load_method(path)
