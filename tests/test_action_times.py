"""Action times in zones without a loadable name are stored at their offset, so they read back."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import zoneinfo
from pathlib import Path

import pendulum
import pytest

from _stores import FACILITATOR, bologna
from mentorflow.engine import as_instant
from mentorflow.exceptions import InvalidInput
from mentorflow.sqlstore import SqlStore

ROME = Path("/usr/share/zoneinfo/Europe/Rome")


@pytest.mark.skipif(not ROME.exists(), reason="no system zoneinfo database to read a file from")
def test_an_action_at_a_zone_read_from_a_file_is_stored_and_loads(tmp_path: Path) -> None:
    """A ``ZoneInfo.from_file`` zone has no name: the action's time is kept at its offset, the
    engagement saves, and it loads back with the same instant."""
    with ROME.open("rb") as data:
        unnamed = zoneinfo.ZoneInfo.from_file(data)
    at = dt.datetime(2017, 7, 3, 10, 30, tzinfo=unnamed)
    store = SqlStore.open(tmp_path / "store.sqlite3")
    engagement = bologna(store)
    engagement.fire("pause", actor=FACILITATOR, at=at, reason="summer")
    stored = store.load(engagement.id).history[-1].at
    assert stored == at
    assert stored.utcoffset() == dt.timedelta(hours=2)


def test_an_instant_in_a_named_zone_is_kept_as_it_is() -> None:
    """An instant whose zone the reader can load is returned unchanged, zone and all."""
    at = pendulum.datetime(2017, 7, 3, 10, 30, tz="Europe/Rome")
    assert as_instant(at) is at


@pytest.mark.parametrize("zone", ["Europe/Rome", "UTC", pendulum.fixed_timezone(7200)])
def test_zones_seen_before_still_refuse_a_naive_time(zone: str | pendulum.FixedTimezone) -> None:
    """The check remembers the zones it found storable (one lookup per action): a naive time is
    still refused after an instant in such a zone was taken, however often."""
    seen = pendulum.datetime(2017, 7, 3, 10, 30, tz=zone)
    for _ in range(2):
        assert as_instant(seen) is seen
        with pytest.raises(InvalidInput, match="must carry a time zone"):
            as_instant(pendulum.naive(2017, 7, 3, 10, 30))
        with pytest.raises(InvalidInput, match="must carry a time zone"):
            as_instant(dt.datetime(2017, 7, 3, 10, 30))
    kept = as_instant(dt.datetime(2017, 7, 3, 10, 30, tzinfo=zoneinfo.ZoneInfo("Europe/Rome")))
    assert kept.timezone_name == "Europe/Rome"


_NOW_IN_A_CONTAINER = """
import sys
import pendulum
sys.path.insert(0, sys.argv[2])
from _stores import FACILITATOR, bologna
from mentorflow.sqlstore import SqlStore
store = SqlStore.open(sys.argv[1])
engagement = bologna(store)
now = pendulum.now()
engagement.fire("pause", actor=FACILITATOR, at=now, reason="now")
assert store.load(engagement.id).history[-1].at == now
print(repr(now.tzinfo), "loaded")
"""


@pytest.mark.skipif(not Path("/etc/localtime").exists(), reason="no /etc/localtime to point TZ at")
def test_now_under_a_container_time_zone_setting_is_stored_and_loads(tmp_path: Path) -> None:
    """With ``TZ=:/etc/localtime`` (common in containers) ``pendulum.now()`` has a zone named
    None; an action at that time saves and the engagement loads back."""
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            _NOW_IN_A_CONTAINER,
            str(tmp_path / "store.sqlite3"),
            str(Path(__file__).parent),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TZ": ":/etc/localtime"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Timezone('None')"), result.stdout  # the case at hand
    assert result.stdout.rstrip().endswith("loaded")
