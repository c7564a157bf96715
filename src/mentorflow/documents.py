"""Publishable documents: the public and internal versions of papers, reports and roadmaps.

One source, two audiences (R-FOLLOW-5). ``redact(doc, audience)`` turns a document into plain
data for an audience; the JSON export and both templates (Markdown and autoescaped HTML) read
only that data, so nothing the public version drops can reach a public rendering. What is
internal: any ``Action``, ``Indicator``, ``Recommendation``, ``LearningPoint`` or ``Passage``
with ``internal=True``, and any field named in a record's ``internal_fields``.

Rendering needs the ``docs`` extra (Jinja2); the JSON export does not.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import re
from functools import cache
from typing import TYPE_CHECKING, Any, TypeAlias, cast

import attrs
import cattrs
import pendulum

from mentorflow.deliverables import (
    LocalRoadmap,
    MentorsPaper,
    VisitorSummary,
    VisitReport,
)
from mentorflow.exceptions import InvalidInput, Problem
from mentorflow.model import RoleLabels

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    import jinja2

__all__ = [
    "DOCUMENT_TYPES",
    "GUIDING_QUESTIONS",
    "REPORT_SECTIONS",
    "Audience",
    "Cover",
    "Document",
    "GuidingQuestion",
    "export_json",
    "load_json",
    "marking_problems",
    "redact",
    "render",
]

EXPORT_SCHEMA_VERSION = 1

Document: TypeAlias = MentorsPaper | VisitReport | LocalRoadmap | VisitorSummary

#: The document classes by deliverable kind.
DOCUMENT_TYPES: dict[str, type[Document]] = {
    cls.kind: cls for cls in (MentorsPaper, VisitReport, LocalRoadmap, VisitorSummary)
}

#: Fields that say what is internal; the public version never shows the markings themselves.
MARKINGS = frozenset({"internal", "internal_fields"})


class Audience(enum.StrEnum):
    """Who a version is for: the public one may be published, the internal one may not."""

    PUBLIC = "public"
    INTERNAL = "internal"


@attrs.frozen
class GuidingQuestion:
    """One of the Eurocities guiding questions, and the report section it belongs to (1-3)."""

    topic: str
    text: str
    section: int


#: The eight guiding questions of the Eurocities mentoring page: the visit report's default
#: headings. A ``Passage`` whose ``topic`` is a question's topic is filed under that question.
#: The questions are quoted verbatim from the seed, dashes included.
GUIDING_QUESTIONS: tuple[GuidingQuestion, ...] = (
    GuidingQuestion("gaps", "What needs to change – where are the gaps and problems?", 1),  # noqa: RUF001
    GuidingQuestion("strengths", "What are the strengths the city or region can build on?", 1),
    GuidingQuestion("goals", "What are the key goals to aim for?", 1),
    GuidingQuestion(
        "practice",
        "What is the best and next practice most relevant to the city – based on experience "  # noqa: RUF001
        "across Europe and globally?",
        2,
    ),
    GuidingQuestion(
        "transferability", "What are the key elements for replication/transferability?", 2
    ),
    GuidingQuestion("conditions", "What are the key conditions for success?", 2),
    GuidingQuestion("risks", "What are the main threats and risks to handle?", 2),
    GuidingQuestion(
        "steps",
        "What practical steps or actions will help the city / region to reach these goals?",
        3,
    ),
)

#: The three sections of a mentoring visit report (R-FOLLOW-1).
REPORT_SECTIONS: tuple[str, ...] = (
    "Needs identified before the visit",
    "Transferability of practices and lessons learned",
    "Concrete tailor-made recommendations",
)


@attrs.frozen
class Cover:
    """What a published document says about itself: title, city, date, and the programme's words."""

    title: str
    city: str = ""
    subtitle: str = ""
    date: pendulum.Date | None = None
    labels: RoleLabels = attrs.field(factory=RoleLabels)
    city_names: Mapping[str, str] = attrs.field(factory=dict, eq=False)

    def city_name(self, city_id: str) -> str:
        """A city's display name, or its id when the cover does not know it."""
        return self.city_names.get(city_id, city_id)


# -- markings ---------------------------------------------------------------------------------


def marking_problems(doc: Document) -> tuple[Problem, ...]:
    """Every ``internal_fields`` entry that names no field of its record, with its ``$.path``."""
    return tuple(_marking_problems(doc, "$"))


def _marking_problems(obj: object, path: str) -> Iterable[Problem]:
    if attrs.has(type(obj)):
        names = {f.name for f in _fields(obj)} - MARKINGS
        for name in sorted(getattr(obj, "internal_fields", frozenset())):
            if name not in names:
                yield Problem(
                    f"{path}.internal_fields", f"{name!r} is not a field of {type(obj).__name__}"
                )
        for f in _fields(obj):
            yield from _marking_problems(getattr(obj, f.name), f"{path}.{f.name}")
    elif isinstance(obj, tuple):
        for i, item in enumerate(obj):
            yield from _marking_problems(item, f"{path}[{i}]")


def _checked(doc: Document) -> None:
    if not isinstance(doc, tuple(DOCUMENT_TYPES.values())):
        known = ", ".join(c.__name__ for c in DOCUMENT_TYPES.values())
        raise InvalidInput(
            "document", [Problem("$", f"expected one of {known}, got {type(doc).__name__}")]
        )
    problems = marking_problems(doc)
    if problems:
        raise InvalidInput("internal markings", problems)


# -- the one source ---------------------------------------------------------------------------


def redact(doc: Document, audience: Audience) -> dict[str, Any]:
    """The document as plain JSON-ready data for ``audience``; public data has no internal part."""
    _checked(doc)
    data: dict[str, Any] = _plain(doc, Audience(audience))
    if audience is Audience.PUBLIC and isinstance(doc, LocalRoadmap):
        _drop_hidden_indicator_names(doc, data)
    return data


def _fields(obj: object) -> tuple[attrs.Attribute[Any], ...]:
    return tuple(attrs.fields(cast("type[attrs.AttrsInstance]", type(obj))))


def _hidden(obj: object) -> bool:
    return getattr(obj, "internal", False) is True


def _plain(obj: object, audience: Audience) -> Any:
    public = audience is Audience.PUBLIC
    if attrs.has(type(obj)):
        hidden: frozenset[str] = (
            getattr(obj, "internal_fields", frozenset()) if public else frozenset()
        )
        return {
            f.name: _plain(getattr(obj, f.name), audience)
            for f in _fields(obj)
            if not (public and (f.name in MARKINGS or f.name in hidden))
        }
    if isinstance(obj, tuple):
        return [_plain(item, audience) for item in obj if not (public and _hidden(item))]
    if isinstance(obj, frozenset):
        return sorted(obj)
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, dt.date):
        return obj.isoformat()
    return obj


def _drop_hidden_indicator_names(doc: LocalRoadmap, data: dict[str, Any]) -> None:
    # An action names its indicators; the name of an internal indicator is internal text too.
    hide_all = "indicators" in doc.internal_fields
    secret = {
        i.name for i in doc.indicators if hide_all or i.internal or "name" in i.internal_fields
    }
    if "actions" not in data:
        return
    for action in data["actions"]:
        if "indicators" in action:
            action["indicators"] = [name for name in action["indicators"] if name not in secret]


# -- JSON -------------------------------------------------------------------------------------


def export_json(doc: Document, audience: Audience = Audience.PUBLIC) -> str:
    """The document as JSON for ``audience``; the internal export loads back with ``load_json``."""
    envelope = {
        "schema_version": EXPORT_SCHEMA_VERSION,
        "kind": doc.kind,
        "audience": Audience(audience).value,
        "content": redact(doc, audience),
    }
    return json.dumps(envelope, ensure_ascii=False, indent=2, sort_keys=True)


@cache
def _converter() -> cattrs.Converter:
    converter = cattrs.Converter()
    converter.register_structure_hook(
        pendulum.Date, lambda value, _: pendulum.Date.fromisoformat(value)
    )
    return converter


def load_json(text: str) -> Document:
    """A document back from an internal JSON export; a public export is refused, it lost data."""
    try:
        envelope = json.loads(text)
    except json.JSONDecodeError as error:
        raise InvalidInput("document JSON", [Problem("$", f"not JSON: {error.msg}")]) from None
    if not isinstance(envelope, dict):
        raise InvalidInput("document JSON", [Problem("$", "expected an object")])
    problems = []
    kind = str(envelope.get("kind"))
    if kind not in DOCUMENT_TYPES:
        problems.append(Problem("$.kind", f"expected one of {', '.join(sorted(DOCUMENT_TYPES))}"))
    if envelope.get("audience") != Audience.INTERNAL.value:
        problems.append(Problem("$.audience", "only an internal export holds the whole document"))
    if envelope.get("schema_version") != EXPORT_SCHEMA_VERSION:
        problems.append(Problem("$.schema_version", f"expected {EXPORT_SCHEMA_VERSION}"))
    if problems:
        raise InvalidInput("document JSON", problems)
    try:
        doc: Document = _converter().structure(envelope.get("content"), DOCUMENT_TYPES[kind])
    except Exception as error:
        messages = (
            cattrs.transform_error(error, path="$.content")
            if isinstance(error, cattrs.BaseValidationError)
            else [str(error)]
        )
        raise InvalidInput("document JSON", [Problem("$.content", m) for m in messages]) from None
    return doc


# -- rendering --------------------------------------------------------------------------------


def _number(value: float | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@cache
def _environment() -> jinja2.Environment:
    try:
        import jinja2
    except ImportError:  # pragma: no cover - exercised only without the extra
        raise InvalidInput(
            "rendering",
            [Problem("$.format", "rendering needs Jinja2: pip install 'mentorflow[docs]'")],
        ) from None
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("mentorflow", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["number"] = _number
    return env


def render(
    doc: Document,
    *,
    audience: Audience = Audience.PUBLIC,
    format: str = "md",
    cover: Cover | None = None,
) -> str:
    """The document as Markdown (``format="md"``) or HTML (``"html"``) for ``audience``."""
    if format not in ("md", "html"):
        raise InvalidInput(
            "rendering", [Problem("$.format", f"expected 'md' or 'html', got {format!r}")]
        )
    audience = Audience(audience)
    data = redact(doc, audience)
    cover = cover or Cover(title=_default_title(doc))
    template = _environment().get_template(f"{doc.kind}.{format}.j2")
    text = template.render(
        doc=data,
        cover=cover,
        audience=audience.value,
        internal=audience is Audience.INTERNAL,
        questions=GUIDING_QUESTIONS,
        sections=REPORT_SECTIONS,
        question_topics={q.topic for q in GUIDING_QUESTIONS},
    )
    # Optional blocks leave runs of blank lines behind; one blank line is all Markdown needs.
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def _default_title(doc: Document) -> str:
    return {
        MentorsPaper.kind: "Mentors' paper",
        VisitReport.kind: "Mentoring visit report",
        LocalRoadmap.kind: "Local roadmap",
        VisitorSummary.kind: "Work-shadowing visitor's summary",
    }[doc.kind]
