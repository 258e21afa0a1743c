"""``open_archive(url)``: the archive a URL names.

- ``sqlite:///relative/path.db`` and ``sqlite:////absolute/path.db`` (SQLAlchemy's convention:
  the path is what follows the third slash), the default backend; parent folders are created.
- ``sqlite://:memory:`` (or ``sqlite:///:memory:``): an in-memory archive, for tests.
- ``postgresql://user@host:port/database`` (or ``postgres://``): PostgreSQL, through psycopg.
"""

from __future__ import annotations

from typing import Final

from ground.archive.base import Archive
from ground.archive.postgres import PostgresArchive
from ground.archive.sqlite import MEMORY, SqliteArchive

DEFAULT_URL: Final = "sqlite:///var/lupex/archive.db"
"""Where the archive lives unless configured: ``var/lupex/archive.db`` under the working folder."""

_MEMORY_URLS: Final = frozenset({"sqlite://:memory:", "sqlite:///:memory:", "sqlite://"})


def open_archive(url: str = DEFAULT_URL) -> Archive:
    """Open (and create if needed) the archive at ``url``; see the module docstring."""
    if url in _MEMORY_URLS:
        return SqliteArchive(MEMORY)
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if not path:
            msg = f"no file in archive URL {url!r}"
            raise ValueError(msg)
        return SqliteArchive(path)
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresArchive(url)
    msg = (
        f"unsupported archive URL {url!r}: use sqlite:///path/file.db, sqlite://:memory: or "
        "postgresql://user@host:port/database"
    )
    raise ValueError(msg)
