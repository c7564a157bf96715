"""Erasing one participant's name from an engagement that goes on (a person's right to erasure).

A participant's name is the personal data the engagement's own records hold: the history, the
events and the approvals refer to people by their participant id only. Erasing the name keeps
the id, the organisation and the role, since the rules (who owes what, who may approve) and
the history refer to those; the engagement goes on as before. A store keeps only the latest
snapshot, so once the erasure is saved the name is nowhere in it.
"""

from __future__ import annotations

import datetime as dt

import attrs

from mentorflow._change import ROLE_RULE, Change, Recorder, actor_in, check_not_before_last
from mentorflow._inputs import as_instant, as_text
from mentorflow.events import ParticipantErased
from mentorflow.exceptions import ActionRefused, InvalidInput, Problem
from mentorflow.model import Participant, Role
from mentorflow.state import EngagementState
from mentorflow.verdicts import Finding, Verdict

__all__ = ["ERASED_NAME", "ERASE_RULE", "erase_participant", "may_erase"]

#: The name an erased participant is shown with from then on.
ERASED_NAME = "(name erased)"
#: The refusal of an erasure that was done already.
ERASE_RULE = "MF-ERASED"


def may_erase(doer: Participant, participant_id: str) -> bool:
    """Whether ``doer`` may erase ``participant_id``'s name: the facilitator, or the person."""
    return doer.role is Role.FACILITATOR or doer.id == participant_id


def erase_participant(
    state: EngagementState, participant_id: str, *, actor: str, at: dt.datetime
) -> Change:
    """Replace ``participant_id``'s name with ``ERASED_NAME``, in any phase, closed and
    cancelled engagements included. The facilitator may erase anyone's name, a participant
    their own; a name erased already is refused (``MF-ERASED``), so a retried erasure says so
    instead of recording a second one."""
    instant = as_instant(at)
    as_text(participant_id, "participant_id", what="erasure")
    person = state.participant(participant_id)
    if person is None:
        raise InvalidInput(
            "erasure",
            [Problem("$.participant_id", f"{participant_id!r} takes no part in {state.id!r}")],
        )
    doer = actor_in(state, actor)
    unmet = []
    if not may_erase(doer, participant_id):
        unmet.append(
            Finding(
                ROLE_RULE,
                f"only the facilitator or {participant_id} themselves may erase their name",
            )
        )
    if person.name == ERASED_NAME:
        unmet.append(Finding(ERASE_RULE, f"the name of {participant_id} is erased already"))
    if unmet:
        raise ActionRefused(
            Verdict(f"erase {participant_id}", state.id, state.phase, None, tuple(unmet))
        )
    check_not_before_last(state, instant)
    participants = tuple(
        attrs.evolve(p, name=ERASED_NAME) if p.id == participant_id else p
        for p in state.participants
    )
    recorder = Recorder(state, instant, actor)
    recorder.emit(ParticipantErased, participant_id=participant_id)
    return recorder.commit("erase_participant", participant_id, participants=participants)
