"""The typed usage examples in tests/typing pass mypy --strict, so the public API stays typed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_usage_examples_pass_mypy_strict() -> None:
    """`mypy --strict tests/typing` reports no error against the installed sources."""
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "tests/typing"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_usage_examples_exist() -> None:
    """There is at least one usage example per area: engagements and methods."""
    names = {p.name for p in (ROOT / "tests" / "typing").glob("*.py")}
    assert {"engagement_usage.py", "method_usage.py"} <= names
