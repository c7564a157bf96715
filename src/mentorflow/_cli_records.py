"""The command line's commands that change or hand over what the store holds: delete an
engagement, erase a person's name, answer a person's request for their data, copy a whole
store, roll a new method version out.

Like ``_cli_store`` (whose ``opened`` they use), these import the SQL store only when they run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mentorflow._cli_store import opened, verdict_document
from mentorflow.exceptions import ActionRefused, InvalidInput, Problem
from mentorflow.method_sources import load_method_source
from mentorflow.versions import MethodRegistry

if TYPE_CHECKING:
    import pendulum

    from mentorflow.personal_data import PersonalData
    from mentorflow.rollout import Rollout
    from mentorflow.sqlstore import SqlStore

__all__ = [
    "copy_store",
    "delete_engagement",
    "erase_person",
    "personal_data_of",
    "render_personal_data",
    "roll_out_method",
    "rollout_document",
]


# -- delete ----------------------------------------------------------------------------------


def delete_engagement(
    database: str,
    engagement_id: str,
    *,
    actor: str,
    version: int | None,
    reason: str | None,
) -> dict[str, Any]:
    """Delete the engagement (``SqlStore.delete``) at ``version``, or at the version it is at
    now; returns the deletion event as the library's JSON document."""
    from mentorflow.serialization import default_codec

    with opened(database) as store:
        expected = version if version is not None else store.load(engagement_id).version
        deletion = store.delete(
            engagement_id, expected_version=expected, actor=actor, reason=reason
        )
    return default_codec().dump(deletion)


# -- copy ------------------------------------------------------------------------------------


def copy_store(source: str, target: str) -> dict[str, Any]:
    """Copy the store at ``source`` into a new or empty store at ``target`` (created and
    migrated if need be); returns the rows each table got, and both places with any password
    in their URLs masked."""
    from mentorflow.sqlstore import SqlStore

    with opened(source) as origin:
        destination = SqlStore.open(target)
        try:
            counts = origin.copy_to(destination)
        finally:
            destination.close()
    return {"source": _shown(source), "target": _shown(target), "rows": counts}


def _shown(database: str) -> str:
    """A database as it may be printed: a URL's password masked."""
    if "://" not in database:
        return database
    from sqlalchemy import make_url

    return make_url(database).render_as_string(hide_password=True)


# -- erase -----------------------------------------------------------------------------------


def erase_person(database: str, participant_id: str, *, actor: str) -> list[dict[str, str]]:
    """Erase ``participant_id``'s name in every engagement they take part in, each saved on its
    own (retried on a conflict); one entry per engagement, ``erased`` or ``already erased``.
    InvalidInput, before anything is erased, when they take part in none or when ``actor`` may
    not erase the name in one of them."""
    from mentorflow._erasure import ERASE_RULE
    from mentorflow.store import StoredEngagement, retry_action

    with opened(database) as store:
        engagements = store.ids(participant_id=participant_id)
        if not engagements:
            raise InvalidInput(
                "erasure",
                [Problem("$.participant_id", f"{participant_id!r} takes part in no engagement")],
            )
        _refuse_unless_allowed_everywhere(store, engagements, participant_id, actor)
        done = []
        for engagement_id in engagements:

            def erase(engagement: StoredEngagement) -> object:
                return engagement.erase_participant(participant_id, actor=actor)

            try:
                retry_action(store, engagement_id, erase, clock=store.clock)
                outcome = "erased"
            except ActionRefused as refused:
                if refused.verdict.rules != (ERASE_RULE,):
                    raise
                outcome = "already erased"
            done.append({"engagement_id": engagement_id, "outcome": outcome})
    return done


def _refuse_unless_allowed_everywhere(
    store: SqlStore, engagements: tuple[str, ...], participant_id: str, actor: str
) -> None:
    """Every engagement where ``actor`` may not erase the name, as one refusal: the saves are
    one per engagement, so an erasure that would stop half-way is refused before the first."""
    from mentorflow._erasure import may_erase

    problems = []
    for engagement_id in engagements:
        doer = store.load(engagement_id).participant(actor)
        if doer is None:
            problems.append(Problem("$.actor", f"{actor!r} takes no part in {engagement_id!r}"))
        elif not may_erase(doer, participant_id):
            problems.append(
                Problem(
                    "$.actor",
                    f"{actor!r} is not the facilitator of {engagement_id!r}, nor the person",
                )
            )
    if problems:
        raise InvalidInput("erasure", problems)


# -- roll-out --------------------------------------------------------------------------------


def roll_out_method(
    database: str,
    new: str,
    *,
    actor: str,
    in_use: list[str],
    at: pendulum.DateTime | None,
    reason: str | None,
    dry_run: bool,
) -> Rollout:
    """``rollout.roll_out`` of the method ``new`` names (a built-in id, a method file or
    ``module:function``), with the versions ``in_use`` registered beside the built-ins."""
    from mentorflow.rollout import roll_out

    methods = MethodRegistry.builtin()
    for spec in in_use:
        methods.add(load_method_source(spec))
    with opened(database, methods) as store:
        return roll_out(
            store, load_method_source(new), actor=actor, at=at, reason=reason, dry_run=dry_run
        )


def rollout_document(rollout: Rollout) -> dict[str, Any]:
    """A roll-out for ``--json``: the counts, then each engagement with its verdict."""
    return {
        "method_id": rollout.method_id,
        "to_version": rollout.to_version,
        "dry_run": rollout.dry_run,
        "complete": rollout.complete,
        "counts": rollout.counts(),
        "engagements": [
            {
                "engagement_id": entry.engagement_id,
                "from_version": entry.from_version,
                "status": entry.status.value,
                "detail": entry.detail,
                "verdict": verdict_document(entry.verdict) if entry.verdict else None,
            }
            for entry in rollout.entries
        ],
    }


# -- personal data ---------------------------------------------------------------------------


def personal_data_of(database: str, participant_id: str) -> PersonalData:
    """What the store at ``database`` holds about ``participant_id``."""
    from mentorflow.personal_data import personal_data

    with opened(database) as store:
        return personal_data(store, participant_id)


def render_personal_data(data: PersonalData) -> list[str]:
    """A summary for people: each engagement with what it holds of the person."""
    if not data.engagements:
        return [f"nothing is held about {data.participant_id}"]
    lines = [f"{data.participant_id} takes part in {len(data.engagements)} engagement(s):"]
    for e in data.engagements:
        who = e.participant
        lines.append(
            f"  {e.engagement_id}: {who.name} ({who.role.value}, {who.organisation_id}); "
            f"{len(e.actions)} action(s), {len(e.submitted)} deliverable(s) submitted, "
            f"{len(e.approvals)} approval(s)"
        )
    return lines
