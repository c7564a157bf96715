"""Every rule of the domain catalogue that a built-in method enforces is cited by some test."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import pytest

from mentorflow.catalog import METHODS
from mentorflow.requirements import TeamComposition

ROOT = Path(__file__).resolve().parent.parent
RULE_ID = re.compile(r"\bR-[A-Z]+-\d+\b")


def _catalogue() -> Path | None:
    """../shared/domain-rules.md next to the repository, or the file DOMAIN_RULES names."""
    named = os.environ.get("DOMAIN_RULES")
    path = Path(named) if named else ROOT.parent / "shared" / "domain-rules.md"
    return path if path.is_file() else None


def enforced_rules() -> set[str]:
    """Rule ids the built-in methods (and the engine, for R-PROG-5) enforce."""
    found = {"R-PROG-5"}  # plan_visit refuses a visit without aim or outcome
    for factory in METHODS.values():
        method = factory()
        for trigger in method.triggers:
            for requirement in trigger.requirements:
                found.add(requirement.rule)
                if isinstance(requirement, TeamComposition):
                    found |= {requirement.reps_rule, "R-ROLE-2"}
        found |= {d.requires_rule for d in method.deliverables if d.requires_rule}
    return {r for r in found if RULE_ID.fullmatch(r)}


def cited_rules() -> set[str]:
    """Rule ids named in the docstrings of the test suite."""
    cited: set[str] = set()
    for path in (ROOT / "tests").rglob("test_*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
                cited |= set(RULE_ID.findall(ast.get_docstring(node) or ""))
    return cited


def test_enforced_rules_are_found() -> None:
    """The scan of the catalog finds the rules the methods are known to enforce."""
    rules = enforced_rules()
    assert {
        "R-PREP-1",
        "R-PREP-2",
        "R-PROG-2",
        "R-PROG-3",
        "R-PROG-4",
        "R-VISIT-1",
        "R-ROLE-2",
    } <= rules


def test_every_enforced_rule_is_cited_by_a_test() -> None:
    """Each catalogued rule the built-in methods enforce is cited in a test docstring."""
    catalogue = _catalogue()
    if catalogue is None:
        pytest.skip(
            "../shared/domain-rules.md is not next to this checkout (set DOMAIN_RULES to its path)"
        )
    documented = set(RULE_ID.findall(catalogue.read_text(encoding="utf-8")))
    enforced = enforced_rules() & documented
    assert enforced, "no enforced rule found in the catalogue"
    assert sorted(enforced - cited_rules()) == []


def test_unknown_rule_ids_are_not_invented() -> None:
    """Rules the catalog enforces all exist in the domain catalogue (no invented ids)."""
    catalogue = _catalogue()
    if catalogue is None:
        pytest.skip(
            "../shared/domain-rules.md is not next to this checkout (set DOMAIN_RULES to its path)"
        )
    documented = set(RULE_ID.findall(catalogue.read_text(encoding="utf-8")))
    assert sorted(enforced_rules() - documented) == []
