"""The mentorflow command line, end to end in a subprocess: output, exit status, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from _cli import assert_one_line_error, run_cli
from mentorflow import catalog
from mentorflow.methodfiles import dump_method

BAD_METHOD_MODULE = textwrap.dedent(
    """
    import attrs
    from mentorflow.catalog import study_visit

    def broken():
        return attrs.evolve(study_visit(), initial="nowhere", deliverables=())

    def not_a_method():
        return 42

    GOOD = study_visit()
    """
)


@pytest.fixture
def methods_module(tmp_path: Path) -> Path:
    """A directory holding ``my_methods.py`` with a broken method, a non-method and a good one."""
    (tmp_path / "my_methods.py").write_text(BAD_METHOD_MODULE, encoding="utf-8")
    return tmp_path


def test_demo_walks_every_engagement_to_closed(tmp_path: Path) -> None:
    """`demo` prints the walk and exits 0 once every ROCK 2017-18 engagement is closed."""
    result = run_cli("demo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "closed" in result.stdout
    assert "events published" in result.stdout


def test_demo_json_gives_final_phases(tmp_path: Path) -> None:
    """`demo --json` prints only a JSON map of engagement id to final phase."""
    result = run_cli("demo", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    finals = json.loads(result.stdout)
    assert finals
    assert set(finals.values()) == {"closed"}


def test_demo_keeps_the_programme_in_the_sqlite_file_it_is_given(tmp_path: Path) -> None:
    """`demo --db FILE` leaves the six engagements in FILE, where `status` finds them closed."""
    database = tmp_path / "rock.sqlite3"
    assert run_cli("demo", "--db", str(database), "--json", cwd=tmp_path).returncode == 0
    result = run_cli("status", str(database), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["engagements"] == 6
    assert sum(row["count"] for row in report["by_phase"] if row["phase"] == "closed") == 6


def test_console_script_is_installed(tmp_path: Path) -> None:
    """The `mentorflow` console script runs the same app as `python -m mentorflow.cli`."""
    script = Path(sys.executable).parent / "mentorflow"
    result = subprocess.run(
        [str(script), "diagram", "eurocities.study_visit"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("stateDiagram-v2")


def test_lint_clean_built_in_method(tmp_path: Path) -> None:
    """A built-in method lints clean: exit 0, one 'no problems' line."""
    result = run_cli("lint", "rock.mentoring", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "rock.mentoring v1: no problems"


def test_lint_reports_every_problem_with_its_path(methods_module: Path) -> None:
    """A broken method: exit 1, each lint problem on its own line with its $.path."""
    result = run_cli("lint", "my_methods:broken", cwd=methods_module)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert "my_methods:broken: $.initial: unknown phase 'nowhere'" in lines
    assert any("$.triggers[" in line and "requires deliverable" in line for line in lines)
    assert all(line.startswith("my_methods:broken: $.") for line in lines)
    assert "Traceback" not in result.stderr


def test_lint_json_lists_problems(methods_module: Path) -> None:
    """`lint --json` gives ok=false and every problem as {path, message}."""
    result = run_cli("lint", "my_methods:broken", "--json", cwd=methods_module)
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert {"path": "$.initial", "message": "unknown phase 'nowhere'"} in report["problems"]


def test_lint_accepts_a_method_object(methods_module: Path) -> None:
    """module:NAME may name a Method itself rather than a function returning one."""
    result = run_cli("lint", "my_methods:GOOD", "--json", cwd=methods_module)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "method": "eurocities.study_visit v1",
        "ok": True,
        "problems": [],
    }


def test_lint_missing_file_is_one_line_error(tmp_path: Path) -> None:
    """A method file that does not exist: one error line naming it, exit 2."""
    assert_one_line_error(
        run_cli("lint", "nowhere/method.toml", cwd=tmp_path), "nowhere/method.toml"
    )


def test_lint_non_method_callable_is_one_line_error(methods_module: Path) -> None:
    """module:function returning something else than a Method is refused in one line."""
    assert_one_line_error(run_cli("lint", "my_methods:not_a_method", cwd=methods_module), "int")


def test_lint_unimportable_module_is_one_line_error(tmp_path: Path) -> None:
    """An unimportable module: one line, exit 2, no traceback."""
    assert_one_line_error(
        run_cli("lint", "no_such_module_xyz:f", cwd=tmp_path), "no_such_module_xyz"
    )


@pytest.mark.parametrize("fmt", ["mermaid", "dot"])
def test_diagram_of_every_built_in_method(fmt: str, tmp_path: Path) -> None:
    """`diagram ID --format F` prints the diagram of each built-in method."""
    for method_id in catalog.METHODS:
        result = run_cli("diagram", method_id, "--format", fmt, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        head = "stateDiagram-v2" if fmt == "mermaid" else f'digraph "{method_id}"'
        assert result.stdout.startswith(head)
        assert "confirm_match (facilitator)" in result.stdout


def test_diagram_writes_to_a_file(tmp_path: Path) -> None:
    """`diagram -o FILE` writes the diagram there and prints nothing."""
    result = run_cli("diagram", "rock.mentoring", "-o", "rock.mmd", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert (tmp_path / "rock.mmd").read_text(encoding="utf-8").startswith("stateDiagram-v2")


def test_diagram_unknown_method_id_is_one_line_error(tmp_path: Path) -> None:
    """An unknown method id: one line naming it and the known ids, exit 2."""
    assert_one_line_error(
        run_cli("diagram", "rock.nope", cwd=tmp_path), "rock.nope", "rock.mentoring"
    )


def test_diagram_of_a_broken_method_is_one_line_error(methods_module: Path) -> None:
    """A method that fails lint cannot be drawn: one line with its first problem path."""
    assert_one_line_error(run_cli("diagram", "my_methods:broken", cwd=methods_module), "$.initial")


def test_diagram_unknown_format_is_a_usage_error(tmp_path: Path) -> None:
    """An unknown --format is refused by the argument parser with status 2 and no traceback."""
    result = run_cli("diagram", "rock.mentoring", "--format", "png", cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


@pytest.fixture
def method_files(tmp_path: Path) -> Path:
    """A directory with a good JSON and TOML method file, a malformed one and a truncated one."""
    good = dump_method(catalog.study_visit(), "json")
    (tmp_path / "good.json").write_text(good, encoding="utf-8")
    (tmp_path / "good.toml").write_text(
        dump_method(catalog.study_visit(), "toml"), encoding="utf-8"
    )
    document = json.loads(good)
    document["triggers"][0]["parties"] = ["pope"]
    (tmp_path / "bad.json").write_text(json.dumps(document), encoding="utf-8")
    (tmp_path / "truncated.json").write_text(good[:200], encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("name", ["good.json", "good.toml"])
def test_lint_clean_method_file(method_files: Path, name: str) -> None:
    """A method file written by dump_method lints clean, in JSON and in TOML."""
    result = run_cli("lint", name, cwd=method_files)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "eurocities.study_visit v1: no problems"


def test_lint_malformed_method_file_names_the_path(method_files: Path) -> None:
    """An unknown party in a method file: exit 1 and the problem at $.triggers[0].parties[0]."""
    result = run_cli("lint", "bad.json", "--json", cwd=method_files)
    assert result.returncode == 1
    paths = [p["path"] for p in json.loads(result.stdout)["problems"]]
    assert paths == ["$.triggers[0].parties[0]"]


def test_lint_truncated_method_file(method_files: Path) -> None:
    """Truncated JSON is a lint problem at $ (not a traceback), exit 1."""
    result = run_cli("lint", "truncated.json", cwd=method_files)
    assert result.returncode == 1
    assert result.stdout.startswith("truncated.json: $: not valid JSON")
    assert "Traceback" not in result.stderr


def test_diagram_of_a_method_file(method_files: Path) -> None:
    """`diagram FILE` draws the method a file holds."""
    result = run_cli("diagram", "good.toml", "--format", "dot", cwd=method_files)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith('digraph "eurocities.study_visit"')


def test_diagram_of_a_malformed_file_is_one_line_error(method_files: Path) -> None:
    """A malformed method file cannot be drawn: one line with the problem's path, exit 2."""
    assert_one_line_error(
        run_cli("diagram", "bad.json", cwd=method_files), "$.triggers[0].parties[0]"
    )
