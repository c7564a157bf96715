"""The demo walks the ROCK 2017-18 calendar to the end."""

from __future__ import annotations

import io

from mentorflow import demo


def test_demo_closes_every_engagement_of_the_rock_calendar() -> None:
    """All six engagements of the calendar close, and refusals are printed with rule ids first."""
    out = io.StringIO()
    finals = demo.run(out)
    text = out.getvalue()
    assert len(finals) == 6
    assert set(finals.values()) == {"closed"}
    assert "start_visit refused" in text
    assert "[R-PREP-1]" in text  # needs assessment owed before the mentoring visit
    assert "[R-PROG-7]" in text  # Skopje and Lisbon start with TBC dates
    assert "acknowledged" in text  # Lyon's four-day visit warning, accepted with a reason
