"""Tests of stable work-shadowing host allocation and blocking-pair reports."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mentorflow.matching import InvalidMatchingInput, allocate_hosts, blocking_pairs

VISITORS = {"bologna": ["turin", "lyon"], "lisbon": ["lyon", "eindhoven"], "skopje": ["lyon"]}
HOSTS = {"turin": ["bologna"], "lyon": ["skopje", "lisbon", "bologna"], "eindhoven": ["lisbon"]}


def test_allocation_is_stable_and_respects_capacity() -> None:
    """Each host takes at most its capacity and no visitor-host pair blocks the allocation."""
    allocation = allocate_hosts(VISITORS, HOSTS, {"turin": 1, "lyon": 1, "eindhoven": 1})
    assert allocation.hosts == {"bologna": "turin", "lisbon": "eindhoven", "skopje": "lyon"}
    assert allocation.stable


def test_blocking_pairs_are_reported_for_an_edited_allocation() -> None:
    """A hand-edited allocation reports every pair that would rather be together."""
    edited = {"bologna": "lyon", "lisbon": "eindhoven", "skopje": None}
    found = blocking_pairs(edited, VISITORS, HOSTS, {"turin": 1, "lyon": 1, "eindhoven": 1})
    assert found == (("bologna", "turin"), ("lisbon", "lyon"), ("skopje", "lyon"))


def test_unknown_host_in_preferences_is_refused() -> None:
    """A visitor ranking an unknown host is refused naming the visitor's field."""
    with pytest.raises(InvalidMatchingInput, match=r"\$\.visitor_prefs\.bologna"):
        allocate_hosts({"bologna": ["paris"]}, {}, {})


@st.composite
def _markets(draw: st.DrawFn) -> tuple[dict[str, list[str]], dict[str, list[str]], dict[str, int]]:
    visitors = [f"v{i}" for i in range(draw(st.integers(1, 5)))]
    hosts = [f"h{j}" for j in range(draw(st.integers(1, 4)))]
    v_prefs = {v: draw(st.permutations(hosts)) for v in visitors}
    h_prefs = {h: draw(st.permutations(visitors)) for h in hosts}
    v_prefs = {v: r[: draw(st.integers(0, len(r)))] for v, r in v_prefs.items()}
    caps = {h: draw(st.integers(1, 2)) for h in hosts}
    return v_prefs, h_prefs, caps


@given(_markets())
def test_allocations_are_always_stable(
    market: tuple[dict[str, list[str]], dict[str, list[str]], dict[str, int]],
) -> None:
    """For any ranked preferences the allocation has no blocking pair and keeps capacities."""
    v_prefs, h_prefs, caps = market
    allocation = allocate_hosts(v_prefs, h_prefs, caps)
    assert allocation.blocking == ()
    for host, cap in caps.items():
        assert sum(1 for h in allocation.hosts.values() if h == host) <= cap
    for visitor, host in allocation.hosts.items():
        assert host is None or host in v_prefs[visitor]
