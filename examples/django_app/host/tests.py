"""The host app with mentorflow, under Django's test runner: views, models and events together."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pendulum
from django.test import TestCase

from host import workflow
from host.models import City, Delegate, Exchange

SEPTEMBER = pendulum.datetime(2024, 9, 10, 10, tz="Europe/Brussels")


class ExchangeWorkflowTests(TestCase):
    """An exchange between Lisbon (mentor) and Ghent (mentee), facilitated by Eurocities."""

    def setUp(self) -> None:
        data = Path(tempfile.mkdtemp(prefix="mentorflow-django-"))
        self.addCleanup(shutil.rmtree, data, ignore_errors=True)
        override = self.settings(MENTORFLOW_DB=str(data / "mentorflow.db"))
        override.enable()
        self.addCleanup(override.disable)
        self.addCleanup(workflow.close_stores)
        lisbon = City.objects.create(
            slug="lisbon", name="Lisbon", country="PT", timezone="Europe/Lisbon"
        )
        ghent = City.objects.create(
            slug="ghent", name="Ghent", country="BE", timezone="Europe/Brussels"
        )
        network = City.objects.create(
            slug="eurocities", name="Eurocities", timezone="Europe/Brussels"
        )
        self.exchange = Exchange.objects.create(
            engagement_id="ghent-lisbon", title="Ghent learns from Lisbon", themes="housing"
        )
        for slug, city, role in (
            ("ana", lisbon, "mentor"),
            ("bert", ghent, "mentee"),
            ("eva", network, "facilitator"),
        ):
            Delegate.objects.create(
                slug=slug, name=slug.title(), city=city, role=role, exchange=self.exchange
            )
        workflow.start(self.exchange, actor="eva", at=SEPTEMBER)

    def fire(self, trigger: str, actor: str) -> tuple[int, dict[str, object]]:
        response = self.client.post(
            f"/exchanges/ghent-lisbon/fire/{trigger}/",
            data=json.dumps({"actor": actor, "at": SEPTEMBER.add(days=1).isoformat()}),
            content_type="application/json",
        )
        return response.status_code, response.json()

    def test_start_copies_the_phase_into_the_host_model(self) -> None:
        """Starting the engagement records its first phase on the Exchange row."""
        assert Exchange.objects.get().phase == "matchmaking"

    def test_confirmed_match_reaches_the_model_through_an_event(self) -> None:
        """R-MATCH-2: the facilitator confirms; the PhaseEntered handler updates Exchange.phase."""
        status, body = self.fire("confirm_match", "eva")
        assert (status, body) == (200, {"phase": "preparation"})
        assert Exchange.objects.get().phase == "preparation"

    def test_refused_transition_is_409_with_the_verdict(self) -> None:
        """R-PROG-5: starting a visit that is not planned is refused, the verdict sent as JSON."""
        self.fire("confirm_match", "eva")
        status, body = self.fire("start_visit", "eva")
        assert status == 409
        verdict = body["verdict"]
        assert isinstance(verdict, dict)
        assert not verdict["allowed"]
        assert "R-PROG-5" in [finding["rule"] for finding in verdict["unmet"]]
        assert Exchange.objects.get().phase == "preparation"

    def test_only_the_facilitator_confirms(self) -> None:
        """A mentor may not confirm the match: 409, and the phase stays put."""
        status, _ = self.fire("confirm_match", "ana")
        assert status == 409
        assert Exchange.objects.get().phase == "matchmaking"

    def test_detail_shows_host_data_and_next_steps(self) -> None:
        """The detail view joins the host's cities with mentorflow's next steps for an actor."""
        response = self.client.get(
            "/exchanges/ghent-lisbon/", {"actor": "eva", "at": SEPTEMBER.isoformat()}
        )
        body = response.json()
        assert body["cities"] == ["Eurocities", "Ghent", "Lisbon"]
        assert body["next_steps"]["confirm_match"]

    def test_unknown_exchange_is_404(self) -> None:
        """An exchange the host does not know is a plain 404."""
        assert self.client.get("/exchanges/nowhere/").status_code == 404
