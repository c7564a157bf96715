"""Communication duties: articles and reports go from draft to published, with an event (R-COMM)."""

from __future__ import annotations

import pendulum
import pytest

from mentorflow import rock2017 as rock
from mentorflow.catalog import compiled
from mentorflow.engagement import Engagement
from mentorflow.exceptions import ActionRefused, InvalidInput
from mentorflow.publishing import DocumentPublished, PublicationStatus, draft, publish

AT = pendulum.datetime(2017, 12, 1, 10, tz="Europe/Brussels")
FACILITATOR = rock.rep(rock.FACILITATOR_ID)
METHOD = compiled("rock.mentoring")


def _after_visit() -> Engagement:
    plan = rock.programme()[2]
    e = plan.start(at=pendulum.datetime(2017, 9, 1, tz="UTC"))
    e.fire("confirm_match", actor=FACILITATOR, at=pendulum.datetime(2017, 9, 2, tz="UTC"))
    return e


def test_rapporteur_publishes_the_article_with_an_event() -> None:
    """R-COMM-1: the rapporteur's article goes from draft to published on its channels."""
    e = _after_visit()
    e.submit(rock.article("Bologna learns from Liverpool"), actor=FACILITATOR, at=AT)
    draft_pub = draft(e.state, "article")
    assert draft_pub.status is PublicationStatus.DRAFT
    change = publish(
        METHOD, e.state, draft_pub, channels=("website", "social media"), actor=FACILITATOR, at=AT
    )
    assert change.publication.status is PublicationStatus.PUBLISHED
    assert change.publication.published_at == AT
    [event] = change.events
    assert isinstance(event, DocumentPublished)
    assert (event.kind, event.channels, event.engagement_id) == (
        "article",
        ("website", "social media"),
        e.id,
    )
    received: list[DocumentPublished] = []
    e.bus.subscribe(DocumentPublished, received.append)
    e.bus.publish(change.events)
    assert received == [event]


def test_publishing_twice_is_refused() -> None:
    """A publication is published once; the second attempt is refused with a verdict."""
    e = _after_visit()
    e.submit(rock.article("x"), actor=FACILITATOR, at=AT)
    done = publish(
        METHOD, e.state, draft(e.state, "article"), channels=("website",), actor=FACILITATOR, at=AT
    )
    with pytest.raises(ActionRefused) as caught:
        publish(METHOD, e.state, done.publication, channels=("website",), actor=FACILITATOR, at=AT)
    assert caught.value.verdict.rules == ("MF-PUBLISH",)


def test_report_must_be_approved_before_it_is_public() -> None:
    """R-COMM-3: a visit report is published only once the facilitator approved it."""
    e = _after_visit()
    e.submit(rock.visit_report(), actor=rock.rep("liverpool"), at=AT)
    pub = draft(e.state, "visit_report")
    with pytest.raises(ActionRefused) as caught:
        publish(METHOD, e.state, pub, channels=("website",), actor=FACILITATOR, at=AT)
    assert caught.value.verdict.rules == ("R-COMM-3",)
    e.approve("visit_report", actor=FACILITATOR, at=AT)
    publish(METHOD, e.state, pub, channels=("website",), actor=rock.rep("liverpool"), at=AT)


def test_only_the_owner_or_facilitator_publishes() -> None:
    """R-FOLLOW-5: the mentee city or the facilitator publishes the roadmap; a mentor may not."""
    e = _after_visit()
    e.submit(rock.roadmap(), actor=rock.rep("bologna"), at=AT)
    pub = draft(e.state, "roadmap")
    with pytest.raises(ActionRefused) as caught:
        publish(METHOD, e.state, pub, channels=("city website",), actor=rock.rep("athens"), at=AT)
    assert caught.value.verdict.rules == ("R-FOLLOW-5",)
    publish(METHOD, e.state, pub, channels=("city website",), actor=rock.rep("bologna"), at=AT)


def test_a_newer_version_needs_a_new_draft() -> None:
    """A draft of version 1 is not published once version 2 replaced it."""
    e = _after_visit()
    e.submit(rock.article("one"), actor=FACILITATOR, at=AT)
    pub = draft(e.state, "article")
    e.submit(rock.article("two"), actor=FACILITATOR, at=AT)
    with pytest.raises(ActionRefused):
        publish(METHOD, e.state, pub, channels=("website",), actor=FACILITATOR, at=AT)
    assert draft(e.state, "article").version == 2


def test_bad_input_names_the_field() -> None:
    """No channel, an unknown kind or nothing to publish: each refusal says why."""
    e = _after_visit()
    with pytest.raises(InvalidInput) as caught:
        draft(e.state, "needs_assessment")
    assert caught.value.problems[0].path == "$.kind"
    with pytest.raises(ActionRefused) as refused:
        draft(e.state, "visitors_report")
    assert refused.value.verdict.rules == ("R-COMM-4",)
    e.submit(rock.article("x"), actor=FACILITATOR, at=AT)
    with pytest.raises(InvalidInput) as caught:
        publish(
            METHOD, e.state, draft(e.state, "article"), channels=(" ",), actor=FACILITATOR, at=AT
        )
    assert caught.value.problems[0].path == "$.channels"
