"""Typed usage of methods: declare one, lint it, compile it, draw it."""

from __future__ import annotations

from typing import assert_type

from mentorflow import (
    METHODS,
    CompiledMethod,
    EngagementKind,
    InvalidMethod,
    Method,
    Party,
    Phase,
    Problem,
    TriggerSpec,
    compile_method,
    lint_method,
)
from mentorflow.diagrams import to_dot, to_mermaid
from mentorflow.method_sources import load_method_source
from mentorflow.requirements import Delivered


def tiny_method() -> Method:
    """Two phases and one gated trigger."""
    return Method(
        id="tiny",
        version=1,
        title="Tiny",
        kind=EngagementKind.STUDY_VISIT,
        phases=(Phase("open"), Phase("done", terminal=True)),
        initial="open",
        triggers=(
            TriggerSpec(
                "finish",
                ("open",),
                "done",
                (Party.FACILITATOR,),
                (Delivered("article", "R-COMM-1"),),
            ),
        ),
    )


def checked(method: Method) -> CompiledMethod | tuple[Problem, ...]:
    """The compiled method, or every lint problem with its path."""
    problems = lint_method(method)
    assert_type(problems, tuple[Problem, ...])
    if problems:
        return problems
    try:
        return compile_method(method)
    except InvalidMethod as error:
        return error.problems


def drawings(method_id: str) -> tuple[str, str]:
    """Mermaid and DOT text of a built-in method."""
    assert method_id in METHODS
    compiled = compile_method(load_method_source(method_id))
    return to_mermaid(compiled), to_dot(compiled)
