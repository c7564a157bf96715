"""The FastAPI example against SQLite through its test client: 409 refusals, 422 problems, 404s."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from fastapi.testclient import TestClient

from mentorflow import rock2017 as rock

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "fastapi_app.py"
FACILITATOR = rock.rep(rock.FACILITATOR_ID)
SEPTEMBER = "2017-09-15T10:00:00+02:00"


def _example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fastapi_app", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # pydantic resolves the request models' annotations through the module's entry here.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


app_module = _example()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The service on a fresh SQLite file, with the Bologna engagement seeded and matched."""
    app = app_module.create_app(str(tmp_path / "service.db"))
    engagement_id = app_module.seed(app)
    with TestClient(app) as test_client:
        response = test_client.post(
            f"/engagements/{engagement_id}/triggers/confirm_match",
            json={"actor": FACILITATOR, "at": SEPTEMBER},
        )
        assert response.status_code == 200, response.text
        yield test_client
    app.state.store.close()


BASE = "/engagements/rock-mentoring-bologna"


def test_refused_transition_is_409_with_the_verdict(client: TestClient) -> None:
    """R-PREP-1: starting the visit before the needs assessment is HTTP 409 carrying the verdict."""
    before = client.get(BASE).json()
    response = client.post(
        f"{BASE}/triggers/start_visit", json={"actor": FACILITATOR, "at": SEPTEMBER}
    )
    assert response.status_code == 409
    verdict = response.json()["verdict"]
    assert verdict["allowed"] is False
    assert verdict["action"] == "start_visit"
    assert "R-PREP-1" in [f["rule"] for f in verdict["unmet"]]
    assert client.get(BASE).json() == before


def test_verdict_endpoint_says_why_not_yet(client: TestClient) -> None:
    """GET .../verdicts/start_visit lists every unmet rule with who owes it."""
    response = client.get(
        f"{BASE}/verdicts/start_visit", params={"actor": FACILITATOR, "at": SEPTEMBER}
    )
    assert response.status_code == 200
    unmet = {f["rule"]: f for f in response.json()["unmet"]}
    assert unmet["R-PREP-1"]["owed_by"] == "replicator city"
    assert {"R-PREP-2", "R-PREP-6", "R-PREP-7"} <= set(unmet)


def test_submitted_deliverable_is_stored_and_lifts_its_rule(client: TestClient) -> None:
    """Submitting the needs assessment bumps the version; R-PREP-1 leaves the verdict."""
    document = client.app.state.store.codec.dump(rock.needs_assessment())  # type: ignore[attr-defined]
    response = client.post(
        f"{BASE}/deliverables",
        json={"actor": rock.rep("bologna"), "content": document, "at": "2017-09-16T09:00:00+02:00"},
    )
    assert response.status_code == 201, response.text
    assert response.json() == {"kind": "needs_assessment", "version": 3}
    verdict = client.get(
        f"{BASE}/verdicts/start_visit",
        params={"actor": FACILITATOR, "at": "2017-09-16T10:00:00+02:00"},
    )
    assert "R-PREP-1" not in [f["rule"] for f in verdict.json()["unmet"]]


def test_malformed_deliverable_is_422_with_paths(client: TestClient) -> None:
    """A deliverable document of the wrong shape is 422 naming $.needs; nothing is stored."""
    response = client.post(
        f"{BASE}/deliverables",
        json={
            "actor": rock.rep("bologna"),
            "content": {"kind": "needs_assessment", "needs": "many"},
        },
    )
    assert response.status_code == 422
    assert [p["path"] for p in response.json()["problems"]] == ["$.needs"]
    assert client.get(BASE).json()["version"] == 2


def test_successful_fire_moves_the_phase(client: TestClient) -> None:
    """Pausing with a reason is allowed for the facilitator and reported with its events."""
    response = client.post(
        f"{BASE}/triggers/pause",
        json={"actor": FACILITATOR, "at": SEPTEMBER, "reason": "elections"},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["phase"].startswith("paused")
    assert "EngagementPaused" in body["events"]


@pytest.mark.parametrize(
    ("method", "path", "status", "error"),
    [
        ("get", "/engagements/nope", 404, "unknown_engagement"),
        ("post", f"{BASE}/triggers/fly", 404, "unknown_trigger"),
    ],
)
def test_unknown_things_are_404(
    client: TestClient, method: str, path: str, status: int, error: str
) -> None:
    """An unknown engagement or trigger is 404 with an error code, not a 500."""
    kwargs = {"json": {"actor": FACILITATOR, "at": SEPTEMBER}} if method == "post" else {}
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status
    assert response.json()["error"] == error


def test_outsider_is_403(client: TestClient) -> None:
    """An actor who does not take part in the engagement is 403."""
    response = client.post(
        f"{BASE}/triggers/start_visit", json={"actor": "nobody", "at": SEPTEMBER}
    )
    assert response.status_code == 403
    assert response.json()["error"] == "not_a_participant"


def test_bad_time_is_422(client: TestClient) -> None:
    """A time that is not ISO 8601 is 422 naming $.at."""
    response = client.post(
        f"{BASE}/triggers/start_visit", json={"actor": FACILITATOR, "at": "soon"}
    )
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == "$.at"


def test_scripted_session_runs(tmp_path: Path) -> None:
    """The example's own session: refused with 409, then a stored needs assessment."""
    app = app_module.create_app(str(tmp_path / "session.db"))
    with TestClient(app) as test_client:
        log = app_module.session(test_client, app_module.seed(app))
    app.state.store.close()
    assert log[1].startswith("start_visit -> 409 refused: R-PREP-1")
    assert log[3] == "needs assessment -> 201 version 3"
