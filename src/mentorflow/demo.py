"""The demo: the ROCK 2017-18 programme walked through match-making, preparation, visit, follow-up."""

from __future__ import annotations

import functools
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

import attrs
import pendulum

from mentorflow import rock2017 as rock
from mentorflow.catalog import compiled
from mentorflow.engagement import Engagement
from mentorflow.events import Event, EventBus, PhaseEntered
from mentorflow.exceptions import TransitionRefused
from mentorflow.model import VisitWindow
from mentorflow.sqlstore import SqlStore
from mentorflow.store import OutboxStatus, StoredEngagement

__all__ = ["main", "run"]

FACILITATOR = rock.rep(rock.FACILITATOR_ID)
#: Fixed dates for the two visits the calendar leaves "TBC" (illustrative; R-PROG-7).
FIXED_DATES = {
    "mentoring-skopje": VisitWindow(pendulum.date(2018, 1, 17), pendulum.date(2018, 1, 19)),
    "mentoring-lisbon": VisitWindow(pendulum.date(2018, 2, 14), pendulum.date(2018, 2, 16)),
}


class _Narrator:
    """Prints what happens, one line per transition and one block per refusal."""

    def __init__(self, out: TextIO) -> None:
        self.out = out

    def say(self, text: str) -> None:
        print(text, file=self.out)

    def on_phase(self, event: PhaseEntered) -> None:
        self.say(
            f"  {event.at.to_date_string()}  {event.trigger}: {event.from_phase} -> {event.to_phase}"
        )

    def attempt(
        self, engagement: Engagement, trigger: str, at: pendulum.DateTime, **kwargs: object
    ) -> bool:
        """Fire ``trigger``; on refusal print every reason and return False."""
        try:
            outcome = engagement.fire(trigger, actor=FACILITATOR, at=at, **kwargs)  # type: ignore[arg-type]
        except TransitionRefused as refusal:
            self.say(f"  {at.to_date_string()}  {trigger} refused:")
            for finding in refusal.verdict.unmet:
                self.say(f"      - {finding}")
            return False
        accepted = {a.rule: a.reason for a in engagement.history[-1].acknowledged}
        for warning in outcome.warnings:
            note = f" (acknowledged: {accepted[warning.rule]})" if warning.rule in accepted else ""
            self.say(f"      ! warning {warning}{note}")
        return True


def _visit_days(engagement: Engagement) -> tuple[pendulum.DateTime, pendulum.DateTime]:
    visit = engagement.state.visit
    assert visit is not None
    assert visit.window is not None
    host = engagement.state.organisation(visit.host)
    zone = host.timezone if host is not None else "UTC"
    start, end = visit.window.start, visit.window.end
    return (
        pendulum.datetime(start.year, start.month, start.day, 9, tz=zone),
        pendulum.datetime(end.year, end.month, end.day, 18, tz=zone),
    )


def _fix_tentative_dates(
    engagement: Engagement, narrator: _Narrator, at: pendulum.DateTime
) -> None:
    visit = engagement.state.visit
    if visit is not None and visit.window is not None and visit.window.tentative:
        fixed = attrs.evolve(visit, window=FIXED_DATES[visit.id])
        engagement.plan_visit(fixed, actor=FACILITATOR, at=at)
        narrator.say(f"  {at.to_date_string()}  dates fixed for {visit.id}: {fixed.window}")


# Each walk is a list of stages; a stage runs from the phase it starts in. The demo stops
# between two stages of one engagement, and a run on a database that already holds an
# engagement picks it up at the first stage its phase allows.
Stage = Callable[[Engagement, rock.EngagementPlan, _Narrator], None]


def _mentoring_preparation(
    engagement: Engagement, plan: rock.EngagementPlan, narrator: _Narrator
) -> None:
    mentee = plan.visits[0].host
    mentor = plan.visits[0].visitors[0]
    prep = pendulum.datetime(2017, 9, 15, tz="Europe/Brussels")
    narrator.attempt(engagement, "confirm_match", prep)
    if not narrator.attempt(engagement, "start_visit", prep):
        engagement.submit(rock.needs_assessment(), actor=rock.rep(mentee), at=prep)
        engagement.submit(rock.mentors_paper(), actor=rock.rep(mentor), at=prep)
        engagement.share("mentors_paper", actor=rock.rep(mentor), at=prep)
        engagement.approve("mentors_paper", actor=rock.rep(mentee), at=prep, comment="agreed")
        engagement.submit(rock.language_plan(), actor=rock.rep(mentee), at=prep)
        _fix_tentative_dates(engagement, narrator, prep)
        engagement.submit(rock.agenda_for(engagement.state.visit), actor=rock.rep(mentee), at=prep)  # type: ignore[arg-type]
        engagement.approve("agenda", actor=rock.rep(mentor), at=prep)
        narrator.say(
            "  ...needs assessment, mentors' paper (shared, agreed), language plan, agenda supplied"
        )


def _the_visit(
    engagement: Engagement,
    plan: rock.EngagementPlan,
    narrator: _Narrator,
    *,
    acknowledge: Mapping[str, str] | None = None,
) -> None:
    visit_start, visit_end = _visit_days(engagement)
    narrator.attempt(engagement, "start_visit", visit_start, acknowledge=acknowledge)
    narrator.attempt(engagement, "finish_visit", visit_end)


def _mentoring_follow_up(
    engagement: Engagement, plan: rock.EngagementPlan, narrator: _Narrator
) -> None:
    mentee = plan.visits[0].host
    mentor = plan.visits[0].visitors[0]
    _, visit_end = _visit_days(engagement)
    after = visit_end.add(days=20)
    if not narrator.attempt(engagement, "start_review", after):
        engagement.submit(rock.visit_report(), actor=rock.rep(mentor), at=after)
        engagement.approve("visit_report", actor=FACILITATOR, at=after)
        engagement.submit(rock.roadmap(), actor=rock.rep(mentee), at=after)
        engagement.submit(rock.article(plan.title), actor=FACILITATOR, at=after)
        narrator.say("  ...visit report (approved), roadmap and rapporteur's article supplied")
    year_later = visit_end.add(months=12, days=2)
    narrator.attempt(engagement, "start_review", year_later)
    if not narrator.attempt(engagement, "close", year_later):
        engagement.submit(rock.follow_up_review(rock.roadmap()), actor=FACILITATOR, at=year_later)
        narrator.say("  ...follow-up review of every roadmap action supplied")
    narrator.attempt(engagement, "close", year_later)


def _work_shadowing_preparation(
    engagement: Engagement, plan: rock.EngagementPlan, narrator: _Narrator
) -> None:
    host = plan.visits[0].host
    visitor = plan.visits[0].visitors[0]
    visit_start, _ = _visit_days(engagement)
    prep = visit_start.subtract(months=3)
    narrator.attempt(engagement, "confirm_match", prep)
    if not narrator.attempt(engagement, "start_visit", prep):
        engagement.submit(rock.learning_objectives(), actor=rock.rep(visitor), at=prep)
        engagement.submit(rock.visitor_questions(), actor=rock.rep(visitor), at=prep)
        engagement.submit(rock.travel_guide(host), actor=rock.rep(host), at=prep)
        engagement.submit(rock.language_plan(), actor=rock.rep(host), at=prep)
        engagement.submit(
            rock.agenda_for(plan.visits[0], work_shadowing=True), actor=rock.rep(host), at=prep
        )
        engagement.approve("agenda", actor=rock.rep(visitor), at=prep)
        narrator.say(
            "  ...learning objectives, questions, travel guide, language plan, agenda supplied"
        )


def _work_shadowing_follow_up(
    engagement: Engagement, plan: rock.EngagementPlan, narrator: _Narrator
) -> None:
    host = plan.visits[0].host
    visitor = plan.visits[0].visitors[0]
    _, visit_end = _visit_days(engagement)
    after = visit_end.add(days=14)
    if not narrator.attempt(engagement, "close", after):
        engagement.submit(rock.visitor_summary(), actor=rock.rep(visitor), at=after)
        engagement.submit(rock.host_reflection(), actor=rock.rep(host), at=after)
        engagement.submit(rock.visitors_report(), actor=rock.rep(visitor), at=after)
        engagement.submit(rock.article(plan.title), actor=FACILITATOR, at=after)
        narrator.say("  ...visitor summary, host reflection, visitors' report and article supplied")
    narrator.attempt(engagement, "close", after)


LONG_VISIT = {"R-VISIT-1": "the visit follows the four days of the related festival"}

#: Each method's walk: (the phase a stage starts in, the stage), in order.
STAGES: dict[str, tuple[tuple[str, Stage], ...]] = {
    "rock.mentoring": (
        ("matchmaking", _mentoring_preparation),
        ("preparation", _the_visit),
        ("follow_up", _mentoring_follow_up),
    ),
    "rock.work_shadowing": (
        ("matchmaking", _work_shadowing_preparation),
        # Lyon's visit follows a four-day festival: longer than R-VISIT-1's ideal.
        ("preparation", functools.partial(_the_visit, acknowledge=LONG_VISIT)),
        ("follow_up", _work_shadowing_follow_up),
    ),
}


def _walk(
    engagement: Engagement,
    plan: rock.EngagementPlan,
    narrator: _Narrator,
    *,
    stop_after: int | None = None,
) -> None:
    """Run the stages from the first one the engagement's phase allows (up to ``stop_after``)."""
    stages = STAGES[plan.method_id]
    top = engagement.phase.split(".")[0]
    begin = next((i for i, (phase, _) in enumerate(stages) if phase == top), len(stages))
    for number in range(begin, len(stages) if stop_after is None else stop_after):
        stages[number][1](engagement, plan, narrator)


def _start(
    plan: rock.EngagementPlan, store: SqlStore | None, at: pendulum.DateTime, bus: EventBus
) -> Engagement:
    if store is None:
        return plan.start(at=at, bus=bus)
    return StoredEngagement.start(
        compiled(plan.method_id),
        store=store,
        id=plan.id,
        title=plan.title,
        organisations=plan.organisations,
        participants=plan.participants,
        actor=FACILITATOR,
        at=at,
        themes=plan.themes,
        visits=plan.visits,
        prerequisites=plan.prerequisites,
        bus=bus,
    )


def _start_or_load(
    plan: rock.EngagementPlan, store: SqlStore | None, bus: EventBus, narrator: _Narrator
) -> Engagement:
    """A new engagement, or the one an earlier run left in the database, to go on with."""
    if store is not None and plan.id in store.ids():
        stored = StoredEngagement.load(store, plan.id, bus=bus)
        narrator.say(f"  already stored: {stored.phase} at version {stored.version}")
        return stored
    return _start(plan, store, pendulum.datetime(2017, 6, 1, tz="Europe/Brussels"), bus)


def _restart(
    store: SqlStore, path: Path, stopped: Engagement, bus: EventBus, narrator: _Narrator
) -> tuple[SqlStore, Engagement]:
    """Close the store as a stopped process would, open the file again and load the engagement
    it stopped in the middle of, to continue it from the stored snapshot."""
    store.close()
    reopened = SqlStore.open(path)
    again = StoredEngagement.load(reopened, stopped.id, bus=bus)
    assert (again.phase, again.version) == (stopped.phase, stopped.version)
    narrator.say(
        f"\n-- restart: stopped half-way through {stopped.id}, reopened {path.name}; loaded it "
        f"in {again.phase} at version {again.version} with {len(again.history)} history "
        "entries, and it goes on from there"
    )
    return reopened, again


def run(
    out: TextIO = sys.stdout,
    *,
    database: str | Path | None = None,
    in_memory: bool = False,
    stop_half_way: bool = False,
) -> dict[str, str]:
    """Walk every engagement of the ROCK 2017-18 calendar; return each one's phase at the end.

    By default the engagements live in a SQLite file (``database``, else a fresh temporary
    file), and the demo restarts half-way through the middle engagement, between its
    preparation and its visit: it closes the store, opens the file again, loads that engagement
    and continues it. ``stop_half_way=True`` stops there instead, as a process that is killed
    would; running again on the same ``database`` loads what is stored and goes on.
    Engagements the database already holds are loaded, not started again: a closed one is
    reported as it is. ``in_memory=True`` runs without a store.
    """
    narrator = _Narrator(out)
    bus = EventBus()
    bus.subscribe(PhaseEntered, narrator.on_phase)
    events: list[Event] = []
    bus.subscribe(Event, events.append)
    finals: dict[str, str] = {}
    store: SqlStore | None = None
    path = (
        Path(database)
        if database
        else Path(tempfile.mkdtemp(prefix="mentorflow-demo-")) / "demo.sqlite3"
    )
    if not in_memory:
        store = SqlStore.open(path)
        narrator.say(f"engagements are stored in {path}")
    plans = rock.programme()
    for number, plan in enumerate(plans):
        narrator.say(f"\n{plan.title}  [{plan.method_id}]")
        engagement = _start_or_load(plan, store, bus, narrator)
        if store is not None and number == len(plans) // 2 and engagement.phase == "matchmaking":
            _walk(engagement, plan, narrator, stop_after=1)
            if stop_half_way:
                narrator.say(
                    f"\n-- stopped half-way through {plan.id} ({engagement.phase}, version "
                    f"{engagement.version}); run again with the same database to continue"
                )
                finals[plan.id] = engagement.phase
                store.close()
                return finals
            store, engagement = _restart(store, path, engagement, bus, narrator)
        _walk(engagement, plan, narrator)
        narrator.say(f"  => {engagement.phase} after {engagement.version} actions")
        finals[plan.id] = engagement.phase
    narrator.say(f"\n{len(finals)} engagements, {len(events)} events published")
    if store is not None:
        pending = len(store.outbox(status=OutboxStatus.PENDING))
        narrator.say(f"{pending} events wait in the outbox for a relay")
        store.close()
    return finals


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo and print the walk; exit status 0 when every engagement closed."""
    finals = run()
    return 0 if all(phase == "closed" for phase in finals.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
