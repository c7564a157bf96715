"""Shared timing helpers: medians of repeated runs, and ratio lines against a same-run baseline."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

__all__ = ["median_seconds", "paired_seconds", "report_ratio", "report_value"]


def median_seconds(work: Callable[[], object], *, number: int, repeat: int = 7) -> float:
    """Median over ``repeat`` runs of the time one call of ``work`` takes, in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            work()
        samples.append((time.perf_counter() - start) / number)
    return statistics.median(samples)


def paired_seconds(
    work: Callable[[], object], baseline: Callable[[], object], *, number: int, repeat: int = 15
) -> tuple[float, float]:
    """Medians of ``work`` and ``baseline`` timed in alternation, so load drift hits both alike."""
    work_samples: list[float] = []
    base_samples: list[float] = []
    for _ in range(repeat):
        for fn, samples in ((baseline, base_samples), (work, work_samples)):
            start = time.perf_counter()
            for _ in range(number):
                fn()
            samples.append((time.perf_counter() - start) / number)
    return statistics.median(work_samples), statistics.median(base_samples)


def report_ratio(
    name: str, measured: float, baseline: float, *, target: float, unit: str = "µs"
) -> bool:
    """Print one ratio line; return whether the ratio meets its target (lower is better)."""
    ratio = measured / baseline
    scale = 1e6 if unit == "µs" else 1.0
    verdict = "ok" if ratio <= target else "MISSED"
    print(
        f"{name:<58} {measured * scale:10.2f} {unit} vs baseline {baseline * scale:10.2f} {unit}"
        f"  ratio {ratio:5.2f} (target <= {target:g})  {verdict}"
    )
    return ratio <= target


def report_value(name: str, value: float, unit: str, *, target: float | None = None) -> bool:
    """Print one absolute figure, with its target where it has one."""
    verdict = "" if target is None else ("  ok" if value <= target else "  MISSED")
    suffix = "" if target is None else f" (target <= {target:g} {unit})"
    print(f"{name:<58} {value:10.2f} {unit}{suffix}{verdict}")
    return target is None or value <= target
