"""Where a SQLite URL's database lives on disk, or that it lives only in memory.

One answer for every part of the store that must know: the switch to WAL mode, the refusal to
create a missing file when ``create=False``, and the relays' lock file next to the database.
"""

from __future__ import annotations

import os
from urllib.parse import unquote

import sqlalchemy as sa

__all__ = ["sqlite_file"]


def sqlite_file(url: sa.URL) -> str | None:
    """The real path of the database file ``url`` names; ``None`` for an in-memory database.

    Reads the forms SQLAlchemy's SQLite dialect takes: a plain path, ``:memory:`` or nothing,
    and with ``?uri=true`` a percent-encoded ``file:`` URI, where ``mode=memory`` means memory.
    The path is resolved (``realpath``), so two spellings of one file give the same answer.
    """
    database = url.database or ""
    if url.query.get("uri") and database.startswith("file:"):
        path, _, options = database.removeprefix("file:").partition("?")
        if "mode=memory" in options.split("&"):
            return None
        database = unquote(path)
    if database in ("", ":memory:") or url.query.get("mode") == "memory":
        return None
    return os.path.realpath(database)
