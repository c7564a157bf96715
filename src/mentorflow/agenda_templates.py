"""Adapting an indicative agenda to a real visit: new dates, renamed themes, sessions in and out.

The ROCK templates (``agendas.rock_mentoring_agenda``, ``rock_work_shadowing_agenda``) are
starting points, not constraints (R-VISIT-5). ``adapt`` returns a new agenda; the template is
never changed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import attrs

from mentorflow.model import Agenda, AgendaSession

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    import pendulum

__all__ = ["adapt"]


def adapt(
    agenda: Agenda,
    *,
    first_day: pendulum.Date | None = None,
    themes: Mapping[str, str] | None = None,
    drop: Callable[[AgendaSession], bool] | Iterable[str] = (),
    add: Iterable[AgendaSession] = (),
) -> Agenda:
    """A copy of ``agenda`` starting on ``first_day``, themes renamed, sessions dropped or added.

    ``drop`` is a predicate or a collection of activity titles to remove; ``add`` sessions are
    appended as given (already on their real days). Theme names are also replaced inside
    activity titles, so "Working session on topic 1" follows a renamed topic.
    """
    shift = (first_day - agenda.days[0]).in_days() if first_day is not None and agenda.days else 0
    if callable(drop):
        dropped = drop
    else:
        titles = frozenset(drop)

        def dropped(session: AgendaSession) -> bool:
            return session.activity in titles

    renames = dict(themes or {})
    sessions = []
    for session in agenda.sessions:
        if dropped(session):
            continue
        activity = session.activity
        for old, new in renames.items():
            activity = activity.replace(old, new)
        theme = renames.get(session.theme, session.theme) if session.theme is not None else None
        sessions.append(
            attrs.evolve(session, day=session.day.add(days=shift), activity=activity, theme=theme)
        )
    return Agenda((*sessions, *add))
