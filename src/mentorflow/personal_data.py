"""What the store holds about one person: the answer to a request for access to their data.

A participant's personal data in an engagement is their participant record (name,
organisation, role), the actions they took (history entries with them as the actor), the
deliverables they submitted and the approvals they gave. Everything else in the engagement
refers to them by id only. ``person_in`` reads it from one snapshot; ``personal_data`` from every
engagement of a store the person takes part in. The content of a submitted deliverable is the
city's document, not the person's record: it is named here (kind, version, status), and the
platform decides whether to hand it over with the rest.

Together with ``Engagement.erase_participant`` (the right to erasure) and ``SqlStore.delete``
(retention), this is what a platform needs to answer a person about their data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs
import pendulum

from mentorflow._inputs import as_text
from mentorflow.model import Participant
from mentorflow.state import DeliverableStatus, EngagementState, HistoryEntry

if TYPE_CHECKING:
    from mentorflow.sqlstore import SqlStore

__all__ = [
    "ApprovalGiven",
    "DeliverableSubmitted",
    "PersonInEngagement",
    "PersonalData",
    "person_in",
    "personal_data",
]


@attrs.frozen
class DeliverableSubmitted:
    """A deliverable whose current version the person submitted."""

    key: str
    kind: str
    visit_id: str | None
    version: int
    status: DeliverableStatus
    submitted_at: pendulum.DateTime


@attrs.frozen
class ApprovalGiven:
    """An approval the person gave to a deliverable's current version."""

    key: str
    kind: str
    party: str
    at: pendulum.DateTime
    comment: str


@attrs.frozen
class PersonInEngagement:
    """One engagement's records of the person."""

    engagement_id: str
    title: str
    method_id: str
    phase: str
    participant: Participant
    #: The history entries the person is the actor of, oldest first.
    actions: tuple[HistoryEntry, ...]
    submitted: tuple[DeliverableSubmitted, ...]
    approvals: tuple[ApprovalGiven, ...]


@attrs.frozen
class PersonalData:
    """Every engagement's records of one person, in engagement id order."""

    participant_id: str
    engagements: tuple[PersonInEngagement, ...]


def person_in(state: EngagementState, participant_id: str) -> PersonInEngagement | None:
    """The engagement's records of ``participant_id``; None when they take no part in it."""
    person = state.participant(participant_id)
    if person is None:
        return None
    records = sorted(state.deliverables.items())
    return PersonInEngagement(
        engagement_id=state.id,
        title=state.title,
        method_id=state.method_id,
        phase=state.phase,
        participant=person,
        actions=tuple(entry for entry in state.history if entry.actor == participant_id),
        submitted=tuple(
            DeliverableSubmitted(key, r.kind, r.visit_id, r.version, r.status, r.submitted_at)
            for key, r in records
            if r.submitted_by == participant_id
        ),
        approvals=tuple(
            ApprovalGiven(key, r.kind, a.party, a.at, a.comment)
            for key, r in records
            for a in r.approvals
            if a.participant_id == participant_id
        ),
    )


def personal_data(store: SqlStore, participant_id: str) -> PersonalData:
    """What ``store`` holds about ``participant_id``: one entry per engagement they take part
    in (found through the participants index, never by reading every snapshot); none when the
    store holds nothing about them. Deleted engagements hold nothing. InvalidInput names a
    participant id that is not a string."""
    as_text(participant_id, "participant_id", what="personal data")
    found = (
        person_in(store.load(engagement_id), participant_id)
        for engagement_id in store.ids(participant_id=participant_id)
    )
    # A participants row always has its person in the snapshot; the check is for the type.
    return PersonalData(participant_id, tuple(p for p in found if p is not None))
