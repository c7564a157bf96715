"""Exact reduction of the team MILP: pair columns that cannot be in a better plan are left out.

Why: at 1,000 mentee x 300 mentor cities the model has ~67,000 pair columns, and HiGHS spends
most of its time on them although almost every one is far from worth choosing. One LP solve
tells which: for any nonnegative row duals ``y`` and every feasible point ``x``,

    gain . x  <=  U + sum_k d_k x_k        with d = gain - A^T y  (reduced gains) and
    U = y . b + sum_k max(d_k * upper_k, d_k * lower_k)

so a plan that uses a column with ``d_k < -G`` is worth less than ``U - G``. The MILP is solved
over the columns with ``d_k >= -G`` only (pins always stay). Every gain is an integer, so when
its optimum ``z`` satisfies ``U - G <= z + 1`` no plan using a left-out column beats it, and ``z``
is the optimum of the whole model. Otherwise ``G`` grows to ``U - z`` and the MILP is solved once
more, which then always passes the test.

The bound holds for any ``y >= 0``, however the LP solver rounds; ``U`` is recomputed here from
``y`` rather than taken from the solver's objective.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csc_array

__all__ = ["FIRST_GAP", "Kept", "dual_bound", "solve_reduced"]

#: The first gap tried, in objective points: above the LP gap of most large instances measured
#: (0 to 14 points at 1,000 x 300), small enough to leave out about six columns in seven.
FIRST_GAP = 16.0
#: Slack for floating-point error in ``U`` and ``d`` (sums of a few thousand doubles ~1e5).
_SLACK = 1e-3

T = TypeVar("T")
#: Solves the MILP over the columns a mask keeps: (optimal value, solution), or None when that
#: smaller model is infeasible.
Kept = Callable[[np.ndarray], "tuple[float, T] | None"]


def dual_bound(
    gain: np.ndarray, matrix: csc_array, row_upper: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> tuple[np.ndarray, float] | None:
    """(reduced gains, bound U) from the LP relaxation's duals; None when the LP has no optimum."""
    result = linprog(
        -gain, A_ub=matrix, b_ub=row_upper, bounds=np.c_[lower, upper], method="highs-ipm"
    )
    if result.status != 0:
        return None
    duals = np.maximum(-result.ineqlin.marginals, 0.0)
    reduced = gain - matrix.T @ duals
    bound = float(duals @ row_upper + np.where(reduced > 0, reduced * upper, reduced * lower).sum())
    return reduced, bound


def solve_reduced(
    gain: np.ndarray,
    matrix: csc_array,
    row_upper: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    removable: np.ndarray,
    solve_kept: Kept[T],
) -> T | None:
    """The MILP's optimum over all columns, found on as few of the ``removable`` ones as the
    bound allows; None when the reduction cannot be used (the caller solves in full).

    ``solve_kept(keep)`` solves the MILP over the columns ``keep`` marks and returns its
    optimal value and whatever the caller needs of the solution, or None when infeasible.
    """
    found = dual_bound(gain, matrix, row_upper, lower, upper)
    if found is None:
        return None
    reduced, bound = found
    gap = FIRST_GAP
    while True:
        keep = ~removable | (reduced >= -gap)
        solved = solve_kept(keep)
        if solved is None:
            return None
        value, solution = solved
        if bound - gap + _SLACK <= value + 1 or keep.all():
            return solution
        gap = bound - value
