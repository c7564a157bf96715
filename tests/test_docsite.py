"""The docs site builds with warnings as errors, covers every public module, and its diagrams are current."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGE = ROOT / "src" / "mentorflow"
#: The command CI runs; kept here so the test and the Makefile say the same thing.
BUILD = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q", str(DOCS)]


def _diagram_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "_generate_diagrams", DOCS / "_generate_diagrams.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_docs_build_without_warnings(tmp_path: Path) -> None:
    """`sphinx -W` builds the whole site: any warning (bad cross-reference, broken page) fails."""
    result = subprocess.run(
        [*BUILD, str(tmp_path / "html")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "html" / "explanation" / "methods-as-diagrams.html").is_file()


def test_committed_diagrams_match_the_methods() -> None:
    """docs/explanation/methods-as-diagrams.md is what docs/_generate_diagrams.py writes today."""
    script = _diagram_script()
    committed = script.PAGE.read_text(encoding="utf-8")
    assert committed == script.render(), "run: python docs/_generate_diagrams.py"


def test_diagram_page_has_every_built_in_method() -> None:
    """One Mermaid block per built-in method, each headed by the method's id."""
    from mentorflow.catalog import METHODS

    page = (DOCS / "explanation" / "methods-as-diagrams.md").read_text(encoding="utf-8")
    assert page.count("```mermaid\n") == len(METHODS)
    for method_id in METHODS:
        assert f"`{method_id}` version" in page


def test_every_public_module_has_a_reference_page() -> None:
    """Each public module and subpackage of mentorflow has an automodule in docs/reference."""
    documented = {
        match
        for page in (DOCS / "reference").glob("*.md")
        for match in re.findall(r"automodule:: mentorflow\.(\w+)", page.read_text(encoding="utf-8"))
    }
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    public = {name for name in modules | packages if not name.startswith("_")}
    assert public - documented == set()
