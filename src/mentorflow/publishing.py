"""Communication duties: publishing articles, reports and roadmaps, as pure functions with events.

The rapporteur writes an article on each visit and spreads it (R-COMM-1); visit reports are made
available publicly (R-COMM-3); visitors write a short report (R-COMM-4); roadmaps are published
in their public version (R-FOLLOW-5). A ``Publication`` is the publishing state of one
deliverable version: a draft until ``publish`` returns it published, with its channels and time,
and a ``DocumentPublished`` event for the host to fan out.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

import attrs

from mentorflow._inputs import as_instant
from mentorflow.events import Event
from mentorflow.exceptions import ActionRefused, InvalidInput, Problem, UnknownParticipant
from mentorflow.model import Party, Role, belongs_to
from mentorflow.state import DeliverableStatus, slot_key
from mentorflow.verdicts import Finding, Verdict

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    import pendulum

    from mentorflow.compiled import CompiledMethod
    from mentorflow.state import EngagementState

__all__ = [
    "PUBLISHABLE",
    "DocumentPublished",
    "Publication",
    "PublicationChange",
    "PublicationStatus",
    "draft",
    "publish",
]

PUBLISH_RULE = "MF-PUBLISH"

#: The deliverables a programme publishes, with the rule that asks for it.
PUBLISHABLE: dict[str, str] = {
    "article": "R-COMM-1",
    "visit_report": "R-COMM-3",
    "visitors_report": "R-COMM-4",
    "roadmap": "R-FOLLOW-5",
}


class PublicationStatus(enum.StrEnum):
    """Where a publication stands."""

    DRAFT = "draft"
    PUBLISHED = "published"


@attrs.frozen
class Publication:
    """The publishing state of one version of a deliverable."""

    engagement_id: str
    kind: str
    visit_id: str | None
    version: int
    status: PublicationStatus = PublicationStatus.DRAFT
    channels: tuple[str, ...] = ()
    published_at: pendulum.DateTime | None = None
    published_by: str | None = None
    languages: tuple[str, ...] = ("en",)


@attrs.frozen(kw_only=True)
class DocumentPublished(Event):
    """A deliverable was published on some channels (the public version, for roadmaps)."""

    kind: str
    visit_id: str | None
    version: int
    channels: tuple[str, ...]
    languages: tuple[str, ...]


@attrs.frozen
class PublicationChange:
    """What ``publish`` produced: the published record and its event."""

    publication: Publication
    events: tuple[DocumentPublished, ...]


def draft(state: EngagementState, kind: str, *, visit: str | None = None) -> Publication:
    """A draft publication of the deliverable's latest version; raises if it cannot be published."""
    if kind not in PUBLISHABLE:
        known = ", ".join(sorted(PUBLISHABLE))
        raise InvalidInput(
            "publication", [Problem("$.kind", f"{kind!r} is not published ({known})")]
        )
    record = state.deliverable(kind, visit)
    if record is None:
        finding = Finding(
            PUBLISHABLE[kind],
            f"{kind} is not submitted, so there is nothing to publish",
            deliverable=kind,
        )
        raise ActionRefused(Verdict(f"draft {kind}", state.id, state.phase, None, (finding,)))
    return Publication(state.id, kind, record.visit_id, record.version)


def publish(
    method: CompiledMethod,
    state: EngagementState,
    publication: Publication,
    *,
    channels: Sequence[str],
    actor: str,
    at: dt.datetime,
    languages: Sequence[str] = ("en",),
) -> PublicationChange:
    """Publish a draft on ``channels``; refused with every reason when it may not be published.

    Refused when it is already published, when a newer version replaced the one drafted, when a
    deliverable that needs approval is not approved yet, or when the actor is neither the
    facilitator (the rapporteur, R-COMM-1) nor the party that owes the deliverable.
    """
    instant = as_instant(at)
    problems = (
        [Problem("$.channels", "name at least one channel")]
        if not [c for c in channels if c.strip()]
        else []
    )
    problems += [
        Problem(f"$.languages[{i}]", "must not be empty")
        for i, lang in enumerate(languages)
        if not lang.strip()
    ]
    if problems:
        raise InvalidInput("publication", problems)
    person = state.participant(actor)
    if person is None:
        raise UnknownParticipant(actor, state.id)
    kind = publication.kind
    rule = PUBLISHABLE.get(kind, PUBLISH_RULE)
    record = state.deliverable(kind, publication.visit_id)
    spec = method.method.deliverable_specs.get(kind)
    unmet = []
    if publication.engagement_id != state.id:
        unmet.append(
            Finding(
                PUBLISH_RULE, f"the publication belongs to engagement {publication.engagement_id!r}"
            )
        )
    if publication.status is PublicationStatus.PUBLISHED:
        unmet.append(
            Finding(PUBLISH_RULE, f"{kind} version {publication.version} is already published")
        )
    if record is None or spec is None:
        unmet.append(Finding(rule, f"{kind} is not submitted", deliverable=kind))
    else:
        if record.version != publication.version:
            unmet.append(
                Finding(
                    PUBLISH_RULE,
                    f"{kind} has a newer version ({record.version}); draft it again",
                    deliverable=kind,
                )
            )
        if spec.approvers and record.status is not DeliverableStatus.APPROVED:
            unmet.append(
                Finding(
                    rule, f"{spec.title} must be approved before it is published", deliverable=kind
                )
            )
        visit = next((v for v in state.visits if v.id == record.visit_id), state.visit)
        if person.role is not Role.FACILITATOR and not belongs_to(person, spec.owner, visit):
            owner = (
                "the facilitator"
                if spec.owner is Party.FACILITATOR
                else f"the facilitator or the {spec.owner.value}"
            )
            unmet.append(Finding(rule, f"only {owner} may publish the {spec.title}"))
    if unmet:
        raise ActionRefused(Verdict(f"publish {kind}", state.id, state.phase, None, tuple(unmet)))
    published = attrs.evolve(
        publication,
        status=PublicationStatus.PUBLISHED,
        channels=tuple(channels),
        published_at=instant,
        published_by=actor,
        languages=tuple(languages),
    )
    event = DocumentPublished(
        # Publications live beside the engagement's stored events: their ids name the slot and
        # version instead of taking a sequence number the engine will hand out later.
        id=f"{state.id}#publish/{slot_key(kind, publication.visit_id)}/v{publication.version}",
        engagement_id=state.id,
        sequence=state.event_count,
        at=instant,
        actor=actor,
        kind=kind,
        visit_id=publication.visit_id,
        version=publication.version,
        channels=published.channels,
        languages=published.languages,
    )
    return PublicationChange(published, (event,))
