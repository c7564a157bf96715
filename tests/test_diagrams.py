"""Methods drawn as Mermaid and DOT: every phase, every declared edge with its gates and parties."""

from __future__ import annotations

import re

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mentorflow import catalog
from mentorflow.compiled import compile_method
from mentorflow.diagrams import WARNING_MARK, edges, gates, to_dot, to_mermaid
from mentorflow.methods import TriggerSpec
from mentorflow.model import Party
from mentorflow.requirements import Delivered, VisitLength
from mentorflow.verdicts import Severity

BUILT_IN = sorted(catalog.METHODS)


@pytest.mark.parametrize("method_id", BUILT_IN)
def test_mermaid_draws_every_declared_transition(method_id: str) -> None:
    """Each (source, trigger, dest) of the method is one Mermaid edge carrying its label."""
    compiled = catalog.compiled(method_id)
    text = to_mermaid(compiled)
    for trigger in compiled.method.triggers:
        for source in trigger.sources:
            arrow = f"{source.replace('.', '__')} --> {trigger.dest.replace('.', '__')}"
            line = f"{arrow}: {trigger.name} ("
            assert line in text, line


@pytest.mark.parametrize("method_id", BUILT_IN)
def test_dot_draws_every_phase_and_transition(method_id: str) -> None:
    """Every leaf phase is a DOT node and every declared transition an edge."""
    compiled = catalog.compiled(method_id)
    text = to_dot(compiled)
    assert text.startswith(f'digraph "{method_id}" {{')
    assert text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    for edge in edges(compiled):
        assert f"{edge.source.replace('.', '__')} -> {edge.dest.replace('.', '__')} [label=" in text


def test_hard_and_soft_gates_are_told_apart() -> None:
    """R-VISIT-1 (soft visit length) is marked ⚠; a hard delivery rule is a bare rule id."""
    trigger = TriggerSpec(
        "go",
        ("a",),
        "b",
        (Party.FACILITATOR,),
        (Delivered("agenda", "R-PREP-6"), VisitLength(), Delivered("agenda", "R-PREP-6")),
    )
    assert gates(trigger) == ("R-PREP-6", f"{WARNING_MARK}R-VISIT-1")


def test_rock_mentoring_start_visit_edge_names_gates_and_parties() -> None:
    """ROCK mentoring's start_visit edge shows R-PREP-1 (needs assessment) and who may fire it."""
    text = to_mermaid(catalog.compiled("rock.mentoring"))
    (line,) = [row for row in text.splitlines() if ": start_visit (" in row]
    assert "(facilitator, host)" in line
    assert "R-PREP-1" in line
    assert f"{WARNING_MARK}R-VISIT-6" in line


def test_generated_triggers_are_drawn_once() -> None:
    """Pause, resume and cancel appear once each, not once per active phase."""
    text = to_mermaid(catalog.compiled("rock.mentoring"))
    for trigger in ("pause", "resume", "cancel"):
        assert len(re.findall(rf": {trigger} \(", text)) == 1


def test_method_without_hold_or_cancel_draws_no_generated_nodes() -> None:
    """A method neither pausable nor cancellable has no 'any active phase' node."""
    method = attrs.evolve(catalog.study_visit(), pausable=False, cancellable=False)
    compiled = compile_method(method)
    assert "any_active_phase" not in to_mermaid(compiled)
    assert "any_active_phase" not in to_dot(compiled)


@given(st.text(alphabet='ab"\\ ', max_size=12))
def test_dot_quotes_any_title(title: str) -> None:
    """Quotes and backslashes in a title stay inside one DOT string literal."""
    method = attrs.evolve(catalog.study_visit(), title=title)
    label = to_dot(compile_method(method)).splitlines()[1]
    body = label.removeprefix("    label=").removesuffix(";")
    unescaped = re.fullmatch(r'"((?:[^"\\]|\\.)*)"', body)
    assert unescaped is not None
    assert re.sub(r"\\(.)", r"\1", unescaped.group(1)).startswith(title)


def test_soft_only_trigger_has_only_marked_gates() -> None:
    """Every gate of a trigger whose requirements are all soft carries the mark."""
    trigger = TriggerSpec(
        "go", ("a",), "b", (Party.HOST,), (Delivered("article", "R-COMM-1", Severity.SOFT),)
    )
    assert all(g.startswith(WARNING_MARK) for g in gates(trigger))
