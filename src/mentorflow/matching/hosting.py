"""Stable allocation of work-shadowing visitors to hosts from ranked preferences.

Visiting (mentee) cities rank the mentor cities they would like to shadow; host cities rank the
visitors; each host takes at most its capacity. The allocation comes from the ``matching``
package's hospital/resident algorithm (visitor-optimal by default), and :func:`blocking_pairs`
checks any allocation, e.g. one a facilitator edited, for pairs that would both rather be together.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import attrs
from matching.games import HospitalResident

from mentorflow.matching._checks import Checks

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from mentorflow.matching.parameters import Pair

__all__ = ["HostAllocation", "allocate_hosts", "blocking_pairs"]


@attrs.frozen
class HostAllocation:
    """Visitor → host (``None`` when unplaced), and the blocking pairs, empty when stable."""

    hosts: Mapping[str, str | None]
    blocking: tuple[Pair, ...]

    @property
    def stable(self) -> bool:
        """Whether no visitor and host would both rather be together."""
        return not self.blocking


def _check(
    visitor_prefs: Mapping[str, Sequence[str]],
    host_prefs: Mapping[str, Sequence[str]],
    capacities: Mapping[str, int],
) -> None:
    checks = Checks("work-shadowing preferences")
    for visitor, ranked in sorted(visitor_prefs.items()):
        for host in ranked:
            checks.require(host in host_prefs, f"$.visitor_prefs.{visitor}", f"unknown {host!r}")
    for host, ranked in sorted(host_prefs.items()):
        checks.require(host in capacities, f"$.capacities.{host}", "is missing")
        for visitor in ranked:
            checks.require(visitor in visitor_prefs, f"$.host_prefs.{host}", f"unknown {visitor!r}")
    checks.raise_if_any()


def blocking_pairs(
    hosts: Mapping[str, str | None],
    visitor_prefs: Mapping[str, Sequence[str]],
    host_prefs: Mapping[str, Sequence[str]],
    capacities: Mapping[str, int],
) -> tuple[Pair, ...]:
    """Every mutually acceptable (visitor, host) pair where each prefers the other to its lot."""
    _check(visitor_prefs, host_prefs, capacities)
    found = []
    for visitor, ranked in sorted(visitor_prefs.items()):
        current = hosts.get(visitor)
        better = ranked[: ranked.index(current)] if current in ranked else list(ranked)
        for host in better:
            if visitor not in host_prefs[host]:
                continue
            guests = [v for v, h in hosts.items() if h == host]
            order = host_prefs[host]
            worst = max((order.index(g) for g in guests if g in order), default=-1)
            if len(guests) < capacities[host] or order.index(visitor) < worst:
                found.append((visitor, host))
    return tuple(found)


def allocate_hosts(
    visitor_prefs: Mapping[str, Sequence[str]],
    host_prefs: Mapping[str, Sequence[str]],
    capacities: Mapping[str, int],
) -> HostAllocation:
    """A stable, visitor-optimal allocation; only mutually acceptable pairs are considered."""
    _check(visitor_prefs, host_prefs, capacities)
    mutual_v = {v: [h for h in r if v in host_prefs[h]] for v, r in sorted(visitor_prefs.items())}
    mutual_h = {h: [v for v in r if h in visitor_prefs[v]] for h, r in sorted(host_prefs.items())}
    hosts: dict[str, str | None] = dict.fromkeys(mutual_v)
    ranked_v = {v: r for v, r in mutual_v.items() if r}
    ranked_h = {h: r for h, r in mutual_h.items() if r}
    if ranked_v and ranked_h:
        with warnings.catch_warnings():
            # the package warns about players who rank nobody; they are simply unplaced
            warnings.simplefilter("ignore")
            game = HospitalResident.create_from_dictionaries(
                ranked_v, ranked_h, {h: capacities[h] for h in ranked_h}
            )
            result = game.solve(optimal="resident")
        for host, residents in result.items():
            for resident in residents:
                hosts[resident.name] = host.name
    return HostAllocation(hosts, blocking_pairs(hosts, visitor_prefs, host_prefs, capacities))
