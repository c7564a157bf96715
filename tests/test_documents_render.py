"""Rendering documents to Markdown and HTML in a shape a city can publish."""

from __future__ import annotations

import attrs
import pytest

from mentorflow import rock2017 as rock
from mentorflow import sharing_cities
from mentorflow.deliverables import CostClass, Passage, Recommendation
from mentorflow.documents import (
    GUIDING_QUESTIONS,
    REPORT_SECTIONS,
    Audience,
    Cover,
    export_json,
    load_json,
    render,
)
from mentorflow.exceptions import InvalidInput


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_visit_report_has_the_three_sections_in_order(fmt: str) -> None:
    """R-FOLLOW-1: needs, transferability, recommendations, in that order."""
    text = render(rock.visit_report(), format=fmt)
    positions = [text.index(section) for section in REPORT_SECTIONS]
    assert positions == sorted(positions)


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_guiding_questions_head_their_passages_in_their_section(fmt: str) -> None:
    """R-FOLLOW-1: each guiding question heads its answers inside the section it belongs to."""
    passages = tuple(Passage(f"answer-{q.topic}", topic=q.topic) for q in GUIDING_QUESTIONS)
    text = render(attrs.evolve(rock.visit_report(), passages=passages), format=fmt)
    starts = [text.index(section) for section in REPORT_SECTIONS] + [len(text)]
    for q in GUIDING_QUESTIONS:
        heading = text.index(q.text.replace("'", "&#39;") if fmt == "html" else q.text)
        assert starts[q.section - 1] < heading < starts[q.section]
        assert heading < text.index(f"answer-{q.topic}")


def test_unanswered_questions_are_left_out() -> None:
    """A report without answers shows no empty question headings."""
    text = render(rock.visit_report())
    assert not any(q.text in text for q in GUIDING_QUESTIONS)


def test_recommendations_are_split_by_cost_class() -> None:
    """R-FOLLOW-2: no-cost and funded recommendations are listed apart."""
    text = render(rock.visit_report())
    no_cost = text.index("No-cost recommendations")
    funded = text.index("Recommendations that need funding")
    assert no_cost < text.index("Hold monthly open office hours") < funded
    assert funded < text.index("Open a heritage lab")


def test_html_escapes_text() -> None:
    """Text from users is escaped in HTML, so a report cannot inject markup."""
    report = attrs.evolve(
        rock.visit_report(),
        recommendations=(Recommendation("<script>alert(1)</script>", CostClass.NO_COST),),
    )
    html = render(report, format="html")
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_roadmap_shows_horizons_and_lineage(fmt: str) -> None:
    """R-FOLLOW-3/4: actions by horizon; the practice that inspired each, by city name."""
    cover = Cover("Smart lampposts", city="Burgas", city_names=sharing_cities.CITY_NAMES)
    text = render(sharing_cities.burgas_roadmap(), format=fmt, cover=cover)
    assert text.index("Short term") < text.index("Medium term")
    assert "Long term" not in text  # Burgas' only long-term action is internal
    assert "London (e-vehicle charging on lampposts)" in text
    assert "Milan (environment sensors); Lisbon (environment sensors)" in text


def test_internal_version_is_marked_and_public_is_not() -> None:
    """R-FOLLOW-5: the internal version says it is not for publication."""
    road = sharing_cities.burgas_roadmap()
    assert "not for publication" in render(road, audience=Audience.INTERNAL)
    assert "not for publication" not in render(road)
    assert "Smart waste management" in render(road, audience=Audience.INTERNAL)
    assert "Smart waste management" not in render(road)


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_visitor_summary_has_seen_learned_transfer(fmt: str) -> None:
    """R-FOLLOW-6: what was seen, what was learned, how it could transfer."""
    text = render(rock.visitor_summary(), format=fmt)
    assert (
        text.index("What I saw")
        < text.index("What I learned")
        < text.index("How it could transfer")
    )


def test_mentors_paper_lists_needs_and_hypotheses() -> None:
    """R-PREP-2: the paper shows the key needs and the hypotheses to test."""
    text = render(rock.mentors_paper())
    assert "resident participation" in text
    assert "A heritage lab run with residents" in text


def test_unknown_internal_field_is_refused_with_its_path() -> None:
    """A marking that names no field is refused, naming where it is."""
    road = rock.roadmap()
    bad = attrs.evolve(
        road, actions=(attrs.evolve(road.actions[0], internal_fields=frozenset({"budget"})),)
    )
    with pytest.raises(InvalidInput) as caught:
        render(bad)
    assert [p.path for p in caught.value.problems] == ["$.actions[0].internal_fields"]
    with pytest.raises(InvalidInput):
        export_json(bad)


def test_unknown_format_is_refused() -> None:
    """Only Markdown and HTML are rendered."""
    with pytest.raises(InvalidInput) as caught:
        render(rock.roadmap(), format="pdf")
    assert caught.value.problems[0].path == "$.format"


def test_a_public_export_cannot_be_loaded_as_the_document() -> None:
    """The public export lost data on purpose, so it does not load back as the whole document."""
    with pytest.raises(InvalidInput) as caught:
        load_json(export_json(rock.roadmap(), Audience.PUBLIC))
    assert [p.path for p in caught.value.problems] == ["$.audience"]


def test_malformed_json_names_the_field() -> None:
    """Bad JSON content is refused with a $.path, never a bare KeyError."""
    with pytest.raises(InvalidInput) as caught:
        load_json('{"schema_version": 1, "kind": "roadmap", "audience": "internal", "content": {}}')
    assert all(p.path.startswith("$.content") for p in caught.value.problems)
    with pytest.raises(InvalidInput):
        load_json("[1, 2")
