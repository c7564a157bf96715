"""The bridge between the host's models and mentorflow: start, check and fire, events back to models."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from host.models import Exchange
from mentorflow import (
    EventBus,
    Organisation,
    Participant,
    PhaseEntered,
    Role,
    Theme,
    Verdict,
    compiled,
)
from mentorflow.sqlstore import SqlStore
from mentorflow.store import StoredEngagement, retry_action

_stores: dict[str, SqlStore] = {}


def store() -> SqlStore:
    """The mentorflow store named by ``settings.MENTORFLOW_DB``, opened once per process."""
    path = settings.MENTORFLOW_DB
    if path not in _stores:
        _stores[path] = SqlStore.open(path)
    return _stores[path]


def close_stores() -> None:
    """Close every store opened so far (the tests open one per test)."""
    while _stores:
        _stores.popitem()[1].close()


def _events() -> EventBus:
    """Handlers that copy what the host lists from mentorflow's events into its own models."""
    bus = EventBus()

    def copy_phase(event: PhaseEntered) -> None:
        Exchange.objects.filter(engagement_id=event.engagement_id).update(phase=event.to_phase)

    bus.subscribe(PhaseEntered, copy_phase)
    return bus


def start(exchange: Exchange, *, actor: str, at: dt.datetime) -> StoredEngagement:
    """Start the mentorflow engagement for ``exchange`` from its cities and delegates."""
    delegates = list(exchange.delegates.select_related("city"))
    cities = {d.city.slug: d.city for d in delegates}
    engagement = StoredEngagement.start(
        compiled(exchange.method_id),
        store=store(),
        id=exchange.engagement_id,
        title=exchange.title,
        organisations=[
            Organisation(c.slug, c.name, c.country, c.timezone) for c in cities.values()
        ],
        participants=[Participant(d.slug, d.name, Role(d.role), d.city.slug) for d in delegates],
        themes=[
            Theme(f"t{i}", t.strip())
            for i, t in enumerate(exchange.themes.split(","), 1)
            if t.strip()
        ],
        actor=actor,
        at=at,
    )
    exchange.phase = engagement.phase
    exchange.save(update_fields=["phase"])
    return engagement


def check(exchange: Exchange, trigger: str, *, actor: str, at: dt.datetime) -> Verdict:
    """Why (not yet)? The verdict for firing ``trigger`` now."""
    return StoredEngagement.load(store(), exchange.engagement_id).check(trigger, actor=actor, at=at)


def fire(exchange: Exchange, trigger: str, *, actor: str, at: dt.datetime) -> str:
    """Fire ``trigger`` (raises TransitionRefused with the verdict); returns the new phase."""
    bus = _events()
    retry_action(
        store(), exchange.engagement_id, lambda e: e.fire(trigger, actor=actor, at=at), bus=bus
    )
    exchange.refresh_from_db(fields=["phase"])
    return exchange.phase
