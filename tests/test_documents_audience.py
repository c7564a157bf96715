"""Public and internal versions of documents come from one source and never leak (R-FOLLOW-5)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import pendulum
from hypothesis import given, settings
from hypothesis import strategies as st

from mentorflow.deliverables import (
    Action,
    CostClass,
    Horizon,
    Indicator,
    LearningPoint,
    LocalRoadmap,
    MentorsPaper,
    Passage,
    PracticeRef,
    Recommendation,
    VisitorSummary,
    VisitReport,
)
from mentorflow.documents import GUIDING_QUESTIONS, Audience, export_json, load_json, render
from mentorflow.model import Side

TOPICS = ["", *(q.topic for q in GUIDING_QUESTIONS)]


class Marker:
    """Hands out unique strings and numbers, and remembers which ones are internal."""

    def __init__(self, draw: st.DrawFn) -> None:
        self.draw = draw
        self.counter = itertools.count(1)
        self.secrets: list[str] = []
        self.publics: list[str] = []

    def hidden(self) -> bool:
        return self.draw(st.booleans())

    def text(self, secret: bool) -> str:
        n = next(self.counter)
        if secret:
            value = f"QXZ{n}Q"
            self.secrets.append(value)
        else:
            value = f"p{self.draw(st.text('abcdefgh', min_size=1, max_size=4))}w{n}w"
            self.publics.append(value)
        return value

    def texts(self, secret: bool, max_size: int = 2) -> tuple[str, ...]:
        return tuple(self.text(secret) for _ in range(self.draw(st.integers(0, max_size))))

    def number(self, secret: bool) -> float | None:
        if secret:
            value = 9_000_000 + next(self.counter)
            self.secrets.append(str(value))
            return float(value)
        return self.draw(st.none() | st.integers(0, 999).map(float))

    def date(self, secret: bool) -> pendulum.Date | None:
        if secret:
            day = pendulum.date(2900, 1, 1).add(days=next(self.counter))
            self.secrets.append(day.isoformat())
            return day
        return self.draw(
            st.none()
            | st.dates(
                min_value=pendulum.date(2018, 1, 1), max_value=pendulum.date(2030, 12, 31)
            ).map(lambda d: pendulum.date(d.year, d.month, d.day))
        )


def _fields(
    m: Marker, names: tuple[str, ...], hidden: bool
) -> tuple[frozenset[str], dict[str, bool]]:
    """Which of ``names`` are marked internal, and whether each one's content is secret."""
    marked = frozenset(n for n in names if not hidden and m.hidden())
    return marked, {n: hidden or n in marked for n in names}


def _passages(m: Marker, hidden: bool) -> tuple[Passage, ...]:
    found = []
    for _ in range(m.draw(st.integers(0, 3))):
        internal = not hidden and m.hidden()
        secret = hidden or internal
        topic = m.draw(st.sampled_from([*TOPICS, "custom"]))
        if topic == "custom":
            topic = m.text(secret)
        found.append(Passage(m.text(secret), internal=internal, topic=topic))
    return tuple(found)


def _indicator(m: Marker, hidden: bool) -> Indicator:
    internal = not hidden and m.hidden()
    marked, secret = _fields(m, ("name", "unit", "baseline", "target"), hidden or internal)
    return Indicator(
        m.text(secret["name"]),
        m.text(secret["unit"]),
        m.number(secret["baseline"]),
        m.number(secret["target"]),
        internal=internal,
        internal_fields=marked,
    )


ACTION_TEXTS = ("id", "title", "owner", "funding", "objective", "expected_result", "risk")
ACTION_LISTS = ("milestones", "outputs", "stakeholders")


def _action(m: Marker, hidden: bool, indicator_names: list[str]) -> Action:
    internal = not hidden and m.hidden()
    names = (*ACTION_TEXTS, *ACTION_LISTS, "due", "inspired_by", "indicators")
    marked, secret = _fields(m, names, hidden or internal)
    texts = {n: m.text(secret[n]) for n in ACTION_TEXTS}
    lists = {n: m.texts(secret[n]) for n in ACTION_LISTS}
    if secret["indicators"]:
        indicators = m.texts(True)
    else:
        indicators = (
            tuple(m.draw(st.lists(st.sampled_from(indicator_names), max_size=2)))
            if indicator_names
            else ()
        )
    refs = tuple(
        PracticeRef(m.text(secret["inspired_by"]), m.text(secret["inspired_by"]))
        for _ in range(m.draw(st.integers(0, 2)))
    )
    return Action(
        horizon=m.draw(st.sampled_from(Horizon)),
        cost_class=m.draw(st.sampled_from(CostClass)),
        due=m.date(secret["due"]),
        indicators=indicators,
        inspired_by=refs,
        internal=internal,
        internal_fields=marked,
        **texts,
        **lists,
    )


@st.composite
def roadmaps(draw: st.DrawFn) -> tuple[LocalRoadmap, Marker]:
    """A roadmap with random internal items, fields and passages, and its markers."""
    m = Marker(draw)
    marked, secret = _fields(m, ("learning_points", "indicators", "actions", "passages"), False)
    points = []
    for side in (Side.MENTEE, Side.MENTOR, *m.draw(st.lists(st.sampled_from(Side), max_size=2))):
        internal = not secret["learning_points"] and m.hidden()
        points.append(
            LearningPoint(side, m.text(internal or secret["learning_points"]), internal=internal)
        )
    indicators = [_indicator(m, secret["indicators"]) for _ in range(m.draw(st.integers(1, 3)))]
    names = [i.name for i in indicators]
    actions = [_action(m, secret["actions"], names) for _ in range(m.draw(st.integers(1, 3)))]
    road = LocalRoadmap(
        tuple(points),
        tuple(indicators),
        tuple(actions),
        _passages(m, secret["passages"]),
        internal_fields=marked,
    )
    return road, m


@st.composite
def reports(draw: st.DrawFn) -> tuple[VisitReport, Marker]:
    """A visit report with random internal recommendations, sections and passages."""
    m = Marker(draw)
    marked, secret = _fields(
        m, ("needs_identified", "transferability", "recommendations", "passages"), False
    )
    recs = []
    for _ in range(m.draw(st.integers(1, 3))):
        internal = not secret["recommendations"] and m.hidden()
        text = m.text(internal or secret["recommendations"])
        recs.append(Recommendation(text, m.draw(st.sampled_from(CostClass)), internal=internal))
    report = VisitReport(
        m.text(secret["needs_identified"]),
        m.text(secret["transferability"]),
        tuple(recs),
        _passages(m, secret["passages"]),
        internal_fields=marked,
    )
    return report, m


@st.composite
def papers(draw: st.DrawFn) -> tuple[MentorsPaper | VisitorSummary, Marker]:
    """A mentors' paper or a visitor's summary with random internal fields and passages."""
    m = Marker(draw)
    if draw(st.booleans()):
        marked, secret = _fields(m, ("key_needs", "hypotheses", "priorities", "passages"), False)
        paper = MentorsPaper(
            m.texts(secret["key_needs"]) or (m.text(secret["key_needs"]),),
            (m.text(secret["hypotheses"]),),
            m.texts(secret["priorities"]),
            _passages(m, secret["passages"]),
            internal_fields=marked,
        )
        return paper, m
    marked, secret = _fields(m, ("seen", "learned", "transfer", "presented_to", "passages"), False)
    summary = VisitorSummary(
        m.text(secret["seen"]),
        m.text(secret["learned"]),
        m.text(secret["transfer"]),
        m.texts(secret["presented_to"]),
        _passages(m, secret["passages"]),
        internal_fields=marked,
    )
    return summary, m


def _versions(doc: Any, audience: Audience) -> dict[str, str]:
    return {
        "md": render(doc, audience=audience, format="md"),
        "html": render(doc, audience=audience, format="html"),
        "json": export_json(doc, audience),
    }


def _check(doc: Any, m: Marker) -> None:
    public = _versions(doc, Audience.PUBLIC)
    internal = _versions(doc, Audience.INTERNAL)
    for name, text in public.items():
        leaked = [s for s in m.secrets if s in text]
        assert not leaked, f"public {name} shows internal {leaked}"
        missing = [p for p in m.publics if p not in text]
        assert not missing, f"public {name} lost public {missing}"
    for name, text in internal.items():
        missing = [s for s in (*m.secrets, *m.publics) if s not in text]
        assert not missing, f"internal {name} lost {missing}"


@settings(max_examples=120)
@given(roadmaps())
def test_public_roadmap_never_shows_internal_text_or_values(
    case: tuple[LocalRoadmap, Marker],
) -> None:
    """R-FOLLOW-5: no internal roadmap text or value reaches public MD/HTML/JSON; internal has all."""
    _check(*case)


@settings(max_examples=120)
@given(reports())
def test_public_report_never_shows_internal_text(case: tuple[VisitReport, Marker]) -> None:
    """R-FOLLOW-5, R-FOLLOW-1: no internal report text reaches the public versions; internal has all."""
    _check(*case)


@settings(max_examples=60)
@given(papers())
def test_public_paper_and_summary_never_show_internal_text(case: tuple[Any, Marker]) -> None:
    """R-FOLLOW-5, R-PREP-2, R-FOLLOW-6: papers and summaries keep internal parts out of public."""
    _check(*case)


@settings(max_examples=60)
@given(roadmaps() | reports() | papers())
def test_internal_export_loads_back_to_the_same_document(case: tuple[Any, Marker]) -> None:
    """The internal JSON export is lossless: loading it gives the document back."""
    doc, _ = case
    assert load_json(export_json(doc, Audience.INTERNAL)) == doc


@settings(max_examples=30)
@given(roadmaps())
def test_public_json_carries_no_markings(case: tuple[LocalRoadmap, Marker]) -> None:
    """The public JSON does not even say what was removed: no internal flags or field lists."""
    doc, _ = case
    text = export_json(doc, Audience.PUBLIC)
    assert '"internal"' not in text
    assert '"internal_fields"' not in text
    assert json.loads(text)["audience"] == "public"
