"""Deadlines across the end of summer time: Lisbon (WET/WEST) against Skopje (CET/CEST)."""

from __future__ import annotations

import pendulum
import pytest

from mentorflow.schedule import deadlines
from timekit import started

MENTORING_BOLOGNA = 2
#: The last Sunday of October 2017, when both cities leave summer time.
DST_END = pendulum.date(2017, 10, 29)


@pytest.mark.parametrize(
    ("zone", "summer", "winter"), [("Europe/Lisbon", 1, 0), ("Europe/Skopje", 2, 1)]
)
def test_visit_across_dst_end_keeps_local_midnights(zone: str, summer: int, winter: int) -> None:
    """R-PREP-2, R-FOLLOW-1: deadlines stay at local midnight on both sides of the clock change."""
    method, state = started(MENTORING_BOLOGNA, pendulum.date(2017, 10, 27), days=3, host_zone=zone)
    found = {d.key: d for d in deadlines(method, state)}
    shared, report = found["mentors_paper.shared"], found["visit_report"]
    assert shared.due.timezone_name == zone
    assert report.due.timezone_name == zone
    assert (shared.due.hour, report.due.hour) == (0, 0)
    assert shared.due.utcoffset().total_seconds() == summer * 3600  # type: ignore[union-attr]
    assert report.due.utcoffset().total_seconds() == winter * 3600  # type: ignore[union-attr]
    # 47 calendar days from 13 Oct to 29 Nov, one of them 25 hours long.
    assert report.due.date().diff(shared.due.date()).in_days() == 47
    assert report.due.diff(shared.due).in_hours() == 47 * 24 + 1


def test_the_same_local_deadline_is_an_hour_apart_in_lisbon_and_skopje() -> None:
    """R-PREP-6: the same visit dates give instants one hour apart, before and after the change."""
    dues = {}
    for zone in ("Europe/Lisbon", "Europe/Skopje"):
        method, state = started(
            MENTORING_BOLOGNA, pendulum.date(2017, 10, 27), days=3, host_zone=zone
        )
        dues[zone] = {d.key: d.due.in_tz("UTC") for d in deadlines(method, state)}
    assert dues["Europe/Lisbon"].keys() == dues["Europe/Skopje"].keys()
    for key, lisbon in dues["Europe/Lisbon"].items():
        assert lisbon.diff(dues["Europe/Skopje"][key], abs=False).in_hours() == -1, key


def test_a_visit_ending_on_the_change_day_anchors_on_the_next_local_midnight() -> None:
    """R-FOLLOW-1: a visit ending on 29 Oct anchors its report on 30 Oct 00:00 winter time."""
    method, state = started(
        MENTORING_BOLOGNA, DST_END.subtract(days=2), days=3, host_zone="Europe/Lisbon"
    )
    report = {d.key: d for d in deadlines(method, state)}["visit_report"]
    assert report.due == pendulum.datetime(2017, 10, 30, tz="Europe/Lisbon").add(days=30)
    assert report.due.in_tz("UTC") == pendulum.datetime(2017, 11, 29, tz="UTC")
