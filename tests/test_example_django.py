"""The Django example's own tests pass under Django's test runner, in a fresh interpreter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

MANAGE = Path(__file__).resolve().parent.parent / "examples" / "django_app" / "manage.py"


def test_django_app_tests_pass(tmp_path: Path) -> None:
    """`manage.py test host` runs every test of the host app against SQLite and reports OK."""
    result = subprocess.run(
        [sys.executable, "-W", "error", str(MANAGE), "test", "host", "--noinput"],
        cwd=tmp_path,
        env={**os.environ, "DJANGO_APP_DATA": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "\nOK\n" in output, output
    assert "Ran 6 tests" in output
