"""A compiled method drawn as a state diagram: Mermaid or Graphviz DOT source text.

Each declared trigger is an edge labelled with its name, the parties allowed to fire it and its
gates: the rule ids of hard requirements, and the soft ones marked ``⚠``. The triggers the engine
generates (pause, resume, cancel) would add an edge from every active phase; they are drawn once,
from a single "any active phase" node, so the method's own shape stays readable.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from mentorflow.compiled import PAUSED, CompiledMethod
from mentorflow.methods import CANCELLED, Phase, TriggerSpec
from mentorflow.verdicts import Severity

if TYPE_CHECKING:
    from collections.abc import Iterator

__all__ = ["Edge", "edges", "gates", "to_dot", "to_mermaid"]

#: The node standing for every active phase, from which the generated triggers leave.
ANY_ACTIVE = "any_active_phase"
WARNING_MARK = "⚠"


@attrs.frozen
class Edge:
    """One drawn transition: a declared trigger from one source phase to its destination."""

    trigger: str
    source: str
    dest: str
    parties: tuple[str, ...]
    gates: tuple[str, ...]

    @property
    def label(self) -> str:
        """``trigger (parties) [gates]``; the text both formats put on the edge."""
        text = f"{self.trigger} ({', '.join(self.parties)})"
        return f"{text} [{', '.join(self.gates)}]" if self.gates else text


def gates(trigger: TriggerSpec) -> tuple[str, ...]:
    """The rule ids gating ``trigger``, in declaration order, once each; soft ones marked ``⚠``."""
    seen: dict[str, None] = {}
    for requirement in trigger.requirements:
        mark = WARNING_MARK if requirement.severity is Severity.SOFT else ""
        seen.setdefault(f"{mark}{requirement.rule}", None)
    return tuple(seen)


def edges(method: CompiledMethod) -> tuple[Edge, ...]:
    """Every declared transition of ``method`` (generated pause/resume/cancel left out)."""
    return tuple(
        Edge(t.name, source, t.dest, tuple(p.value for p in t.parties), gates(t))
        for t in method.method.triggers
        for source in t.sources
    )


def _children(method: CompiledMethod) -> dict[str | None, list[Phase]]:
    tree: dict[str | None, list[Phase]] = {}
    for phase in method.method.phases:
        tree.setdefault(phase.parent, []).append(phase)
    return tree


def _node(phase_name: str) -> str:
    # Neither Mermaid nor DOT accept dots in a bare identifier; sub-phases are "parent.child".
    return phase_name.replace(".", "__")


def _generated(method: CompiledMethod) -> list[tuple[str, str, str]]:
    """(trigger, source node, dest node) of the generated triggers, drawn compactly."""
    drawn = []
    if method.method.pausable:
        drawn += [("pause (facilitator, reason)", ANY_ACTIVE, PAUSED)]
        drawn += [("resume (facilitator)", PAUSED, ANY_ACTIVE)]
    if method.method.cancellable:
        drawn += [("cancel (facilitator, reason)", ANY_ACTIVE, CANCELLED)]
    return drawn


def to_mermaid(method: CompiledMethod) -> str:
    """The method as a Mermaid ``stateDiagram-v2``; sub-phases nest inside their parent."""
    tree = _children(method)
    lines = ["stateDiagram-v2", f"    %% {method.id} v{method.version}: {method.method.title}"]

    def declare(parent: str | None, indent: str) -> Iterator[str]:
        for phase in tree.get(parent, []):
            title = phase.title or phase.name
            yield f'{indent}state "{title}" as {_node(phase.name)}'
            if phase.name in tree:
                yield f"{indent}state {_node(phase.name)} {{"
                yield from declare(phase.name, indent + "    ")
                yield f"{indent}}}"

    lines += declare(None, "    ")
    lines.append(f"    [*] --> {_node(method.method.initial)}")
    lines += [f"    {_node(e.source)} --> {_node(e.dest)}: {e.label}" for e in edges(method)]
    lines += [f"    {_node(p.name)} --> [*]" for p in method.method.phases if p.terminal]
    generated = _generated(method)
    if generated:
        lines.append(f'    state "any active phase" as {ANY_ACTIVE}')
        if method.method.pausable:
            lines.append(f'    state "on hold" as {PAUSED}')
        if method.method.cancellable:
            lines.append(f'    state "Cancelled" as {CANCELLED}')
            lines.append(f"    {CANCELLED} --> [*]")
        lines += [f"    {source} --> {dest}: {label}" for label, source, dest in generated]
        nodes = sorted({n for _, source, dest in generated for n in (source, dest)})
        lines.append("    classDef generated stroke-dasharray: 4 4")
        lines.append(f"    class {', '.join(nodes)} generated")
    return "\n".join(lines) + "\n"


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(method: CompiledMethod) -> str:
    """The method as a Graphviz ``digraph``; a phase with sub-phases is a cluster around them."""
    tree = _children(method)
    lines = [
        f"digraph {_dot_text(method.id)} {{",
        f"    label={_dot_text(f'{method.method.title} ({method.id} v{method.version})')};",
        "    rankdir=LR;",
        "    node [shape=box, style=rounded];",
        "    start [shape=point];",
    ]

    def declare(parent: str | None, indent: str) -> Iterator[str]:
        for phase in tree.get(parent, []):
            title = _dot_text(phase.title or phase.name)
            if phase.name in tree:
                yield f"{indent}subgraph cluster_{_node(phase.name)} {{"
                yield f"{indent}    label={title};"
                yield from declare(phase.name, indent + "    ")
                yield f"{indent}}}"
            else:
                shape = ", peripheries=2" if phase.terminal else ""
                yield f"{indent}{_node(phase.name)} [label={title}{shape}];"

    lines += declare(None, "    ")
    lines.append(f"    start -> {_node(method.method.initial)};")
    lines += [
        f"    {_node(e.source)} -> {_node(e.dest)} [label={_dot_text(e.label)}];"
        for e in edges(method)
    ]
    generated = _generated(method)
    if generated:
        lines.append(f'    {ANY_ACTIVE} [label="any active phase", style=dashed];')
        if method.method.pausable:
            lines.append(f'    {PAUSED} [label="on hold", style=dashed];')
        if method.method.cancellable:
            lines.append(f'    {CANCELLED} [label="Cancelled", style=dashed, peripheries=2];')
        lines += [
            f"    {source} -> {dest} [label={_dot_text(label)}, style=dashed];"
            for label, source, dest in generated
        ]
    lines.append("}")
    return "\n".join(lines) + "\n"
