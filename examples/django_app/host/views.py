"""JSON views: an exchange with its next steps, and firing a trigger (409 with the verdict when refused)."""

from __future__ import annotations

import json

import pendulum
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.http import require_GET, require_POST

from host import workflow
from host.models import Exchange
from mentorflow import ActionRefused, MentorflowError, Verdict
from mentorflow.store import StoredEngagement


def _verdict(verdict: Verdict) -> dict[str, object]:
    return {**workflow.store().codec.dump(verdict), "allowed": verdict.allowed}


@require_GET
def exchange_detail(request: HttpRequest, engagement_id: str) -> JsonResponse:
    """The exchange as the host lists it, and what mentorflow says about each next step."""
    exchange = get_object_or_404(Exchange, engagement_id=engagement_id)
    actor = request.GET.get("actor", "")
    engagement = StoredEngagement.load(workflow.store(), engagement_id)
    at = pendulum.parse(request.GET["at"]) if "at" in request.GET else workflow.store().clock.now()
    steps = engagement.next_steps(actor=actor, at=at) if actor else {}  # type: ignore[arg-type]
    return JsonResponse(
        {
            "title": exchange.title,
            "phase": exchange.phase,
            "cities": sorted({d.city.name for d in exchange.delegates.select_related("city")}),
            "next_steps": {trigger: v.allowed for trigger, v in steps.items()},
        }
    )


@require_POST
def fire(request: HttpRequest, engagement_id: str, trigger: str) -> JsonResponse:
    """Fire ``trigger`` as ``actor`` at ``at`` (JSON body); 409 with the verdict when refused."""
    exchange = get_object_or_404(Exchange, engagement_id=engagement_id)
    body = json.loads(request.body or b"{}")
    at = pendulum.parse(body["at"]) if "at" in body else workflow.store().clock.now()
    try:
        phase = workflow.fire(exchange, trigger, actor=body.get("actor", ""), at=at)  # type: ignore[arg-type]
    except ActionRefused as refusal:
        return JsonResponse({"verdict": _verdict(refusal.verdict)}, status=409)
    except MentorflowError as error:
        return JsonResponse({"error": type(error).__name__, "message": str(error)}, status=400)
    return JsonResponse({"phase": phase})
