"""A FastAPI service embedding mentorflow on the SQL store: submit deliverables, fire, ask why not yet.

Endpoints (an engagement is created by the host's own code, here ``seed``):

- ``GET  /engagements/{id}``                      phase, version and the triggers that apply now
- ``GET  /engagements/{id}/verdicts/{trigger}``   the verdict, allowed or not (``?actor=&at=``)
- ``POST /engagements/{id}/triggers/{trigger}``   fire; a refusal is HTTP 409 with the verdict
- ``POST /engagements/{id}/deliverables``         submit a deliverable document (JSON, tagged by kind)

Errors are data too: invalid input is 422 with every problem's ``$.path``; an unknown engagement
or trigger is 404; an actor who does not take part is 403. Serve it with
``uvicorn fastapi_app:app`` (``MENTORFLOW_DB`` names the SQLite file or database URL); run this
file to see a short scripted session through FastAPI's TestClient on a SQLite file.
"""

from __future__ import annotations

import os
from typing import Any

import pendulum
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from pydantic import BaseModel

from mentorflow import (
    ActionRefused,
    InvalidInput,
    Problem,
    UnknownParticipant,
    UnknownTrigger,
    Verdict,
    compiled,
)
from mentorflow import rock2017 as rock
from mentorflow.exceptions import ConcurrencyConflict, UnknownEngagement
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement, retry_action


class FireRequest(BaseModel):
    """Who fires the trigger, when, and (for pause or cancel) why."""

    actor: str
    at: str | None = None
    reason: str | None = None
    acknowledge: dict[str, str] = {}


class SubmitRequest(BaseModel):
    """A deliverable document as mentorflow writes it (``{"kind": ..., ...}``) and who submits it."""

    actor: str
    content: dict[str, Any]
    at: str | None = None
    visit: str | None = None


def _instant(text: str | None) -> pendulum.DateTime | None:
    """An ISO 8601 time with its offset, or None; anything else is a 422 naming ``$.at``."""
    if text is None:
        return None
    try:
        moment = pendulum.parse(text)
    except ValueError:
        moment = None
    if not isinstance(moment, pendulum.DateTime):
        raise InvalidInput("request", [Problem("$.at", f"{text!r} is not an ISO 8601 time")])
    return moment


def create_app(database: str) -> FastAPI:
    """The service on the store at ``database`` (a SQLite path or a database URL)."""
    store = SqlStore.open(database)
    app = FastAPI(title="mentorflow example service")
    app.state.store = store

    def verdict_json(verdict: Verdict) -> dict[str, Any]:
        return {**store.codec.dump(verdict), "allowed": verdict.allowed}

    def error(status: int, kind: str, message: str, **extra: object) -> JSONResponse:
        return JSONResponse(
            status_code=status, content={"error": kind, "message": message, **extra}
        )

    @app.exception_handler(ActionRefused)
    def refused(_: Request, refusal: ActionRefused) -> JSONResponse:
        return JSONResponse(status_code=409, content={"verdict": verdict_json(refusal.verdict)})

    @app.exception_handler(InvalidInput)
    def invalid(_: Request, problem: InvalidInput) -> JSONResponse:
        problems = [{"path": p.path, "message": p.message} for p in problem.problems]
        return error(422, "invalid_input", f"invalid {problem.what}", problems=problems)

    @app.exception_handler(UnknownEngagement)
    def no_engagement(_: Request, missing: UnknownEngagement) -> JSONResponse:
        return error(404, "unknown_engagement", str(missing))

    @app.exception_handler(UnknownTrigger)
    def no_trigger(_: Request, missing: UnknownTrigger) -> JSONResponse:
        return error(404, "unknown_trigger", str(missing), known=list(missing.known))

    @app.exception_handler(UnknownParticipant)
    def stranger(_: Request, outsider: UnknownParticipant) -> JSONResponse:
        return error(403, "not_a_participant", str(outsider))

    @app.exception_handler(ConcurrencyConflict)
    def conflict(_: Request, clash: ConcurrencyConflict) -> JSONResponse:
        return error(409, "conflict", str(clash))

    @app.get("/engagements/{engagement_id}")
    def show(engagement_id: str) -> dict[str, Any]:
        engagement = StoredEngagement.load(store, engagement_id)
        return {
            "id": engagement.id,
            "phase": engagement.phase,
            "version": engagement.version,
            "triggers": list(engagement.available_triggers()),
        }

    @app.get("/engagements/{engagement_id}/verdicts/{trigger}")
    def verdict(
        engagement_id: str, trigger: str, actor: str, at: str | None = None
    ) -> dict[str, Any]:
        engagement = StoredEngagement.load(store, engagement_id)
        return verdict_json(
            engagement.check(trigger, actor=actor, at=_instant(at) or store.clock.now())
        )

    @app.post("/engagements/{engagement_id}/triggers/{trigger}")
    def fire(engagement_id: str, trigger: str, request: FireRequest) -> dict[str, Any]:
        at = _instant(request.at) or store.clock.now()
        # Another worker may save first: reload and judge again, a few times at most.
        outcome = retry_action(
            store,
            engagement_id,
            lambda e: e.fire(
                trigger,
                actor=request.actor,
                at=at,
                reason=request.reason,
                acknowledge=request.acknowledge or None,
            ),
        )
        after = StoredEngagement.load(store, engagement_id)
        return {
            "phase": after.phase,
            "version": after.version,
            "events": [type(event).__name__ for event in outcome.events],
            "warnings": [store.codec.dump(w) for w in outcome.warnings],
        }

    @app.post("/engagements/{engagement_id}/deliverables", status_code=201)
    def submit(engagement_id: str, request: SubmitRequest) -> dict[str, Any]:
        content = store.codec.load_content(request.content)
        at = _instant(request.at) or store.clock.now()
        retry_action(
            store,
            engagement_id,
            lambda e: e.submit(content, actor=request.actor, at=at, visit=request.visit),
        )
        return {
            "kind": content.kind,
            "version": StoredEngagement.load(store, engagement_id).version,
        }

    return app


def seed(app: FastAPI) -> str:
    """The host's own code starts an engagement: ROCK mentoring in Bologna, matched in September."""
    plan = next(p for p in rock.programme() if p.id == "rock-mentoring-bologna")
    june = pendulum.datetime(2017, 6, 1, tz="Europe/Brussels")
    engagement = StoredEngagement.start(
        compiled(plan.method_id),
        store=app.state.store,
        id=plan.id,
        title=plan.title,
        organisations=plan.organisations,
        participants=plan.participants,
        themes=plan.themes,
        visits=plan.visits,
        prerequisites=plan.prerequisites,
        actor=rock.rep(rock.FACILITATOR_ID),
        at=june,
    )
    return engagement.id


def session(client: TestClient, engagement_id: str) -> list[str]:
    """A short scripted session; returns one line per step."""
    codec = client.app.state.store.codec  # type: ignore[attr-defined]
    facilitator, bologna = rock.rep(rock.FACILITATOR_ID), rock.rep("bologna")
    base = f"/engagements/{engagement_id}"
    log = []
    matched = client.post(
        f"{base}/triggers/confirm_match",
        json={"actor": facilitator, "at": "2017-09-15T10:00:00+02:00"},
    )
    log.append(f"confirm_match -> {matched.status_code} {matched.json()['phase']}")
    refused = client.post(
        f"{base}/triggers/start_visit",
        json={"actor": facilitator, "at": "2017-09-15T10:00:00+02:00"},
    )
    rules = [f["rule"] for f in refused.json()["verdict"]["unmet"]]
    log.append(f"start_visit -> {refused.status_code} refused: {', '.join(rules)}")
    bad = client.post(
        f"{base}/deliverables",
        json={"actor": bologna, "content": {"kind": "needs_assessment", "needs": "many"}},
    )
    log.append(
        f"malformed needs assessment -> {bad.status_code} at {[p['path'] for p in bad.json()['problems']]}"
    )
    document = codec.dump(rock.needs_assessment())
    submitted = client.post(
        f"{base}/deliverables",
        json={"actor": bologna, "content": document, "at": "2017-09-16T10:00:00+02:00"},
    )
    log.append(f"needs assessment -> {submitted.status_code} version {submitted.json()['version']}")
    now = client.get(
        f"{base}/verdicts/start_visit",
        params={"actor": facilitator, "at": "2017-09-16T11:00:00+02:00"},
    )
    log.append(f"why not yet: {[f['rule'] for f in now.json()['unmet']]}")
    return log


def main() -> int:
    """Run the scripted session against a SQLite file in the current directory."""
    database = os.environ.get("MENTORFLOW_DB", "fastapi-example.db")
    app = create_app(database)
    engagement_id = seed(app)
    with TestClient(app) as client:
        for line in session(client, engagement_id):
            print(line)
    app.state.store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
