"""Tests of the matching subpackage's public names."""

from __future__ import annotations

import pkgutil

import mentorflow.matching as matching


def test_all_is_sorted() -> None:
    """The curated __all__ is in plain alphabetical order."""
    assert matching.__all__ == sorted(matching.__all__)


def test_all_covers_every_public_name_of_every_module() -> None:
    """Every name a module lists in its own __all__ is re-exported by the subpackage."""
    exported = set(matching.__all__)
    for info in pkgutil.iter_modules(matching.__path__):
        if info.name.startswith("_"):
            continue
        module = __import__(f"mentorflow.matching.{info.name}", fromlist=["__all__"])
        missing = set(module.__all__) - exported
        assert not missing, (info.name, missing)
