"""Random action sequences over every built-in method, with the engine's invariants (kit-generated).

The machine comes from ``mentorflow.testing.method_state_machine``: no phase entered with a hard
requirement unmet, every refusal gives a reason, ``check()`` agrees with ``fire()``, history
counts every accepted action, refusals and errors change nothing, events are contiguous and
deterministic. With the ``ci`` profile (300 examples) the seven methods give 2,100 sequences.
"""

from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis.stateful import run_state_machine_as_test

from mentorflow.catalog import METHODS, compiled
from mentorflow.testing import method_state_machine

STEPS = 25


@pytest.mark.parametrize("method_id", sorted(METHODS))
def test_random_sequences_keep_the_engine_promises(method_id: str) -> None:
    """Random submits, approvals, visit plans and triggers by random actors keep the invariants."""
    machine = method_state_machine(compiled(method_id))
    run_state_machine_as_test(
        machine, settings=settings(settings.default, stateful_step_count=STEPS)
    )
