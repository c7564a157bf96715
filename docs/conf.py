"""Sphinx configuration for the mentorflow documentation (MyST Markdown, autodoc, Mermaid)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The docs build from a checkout as well as from an installed package.
sys.path.insert(0, str(ROOT / "src"))

project = "mentorflow"
author = "mentorflow maintainers"
copyright = "mentorflow maintainers"

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "sphinxcontrib.mermaid",
]

source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "**/_*.md"]

# ```mermaid fences are drawn by sphinxcontrib-mermaid in the browser: no network at build time.
myst_fence_as_directive = ["mermaid"]
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3


autodoc_member_order = "bysource"
autodoc_typehints = "description"
autodoc_default_options = {"members": True, "show-inheritance": True}

# Offline builds: intersphinx inventories are optional, never fetched.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

html_theme = "furo"
html_title = "mentorflow"


class _EmptySectionFilter(logging.Filter):
    """Let a section's glob match nothing yet: its pages may still be being written.

    Sphinx logs this warning without a type, so ``suppress_warnings`` cannot name it.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith("toctree glob pattern")


def setup(app: object) -> dict[str, bool]:
    """Install the filter on the logger of Sphinx's toctree directive."""
    logging.getLogger("sphinx.sphinx.directives.other").addFilter(_EmptySectionFilter())
    return {"parallel_read_safe": True}
