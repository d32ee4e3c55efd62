"""A project store's SQLite header rebuilt, when its first 100 bytes are overwritten.

Such a file leaves every page after the header whole, but SQLite, and with it the ``sqlite3`` shell's
``.recover``, refuses it as "not a database". The header holds little that cannot be told again: the page size
(the one that makes page 1 a readable schema of themekit's tables), the page count (the file's size) and the
schema version (the one whose tables these are).
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Sequence
from pathlib import Path

__all__ = ["MAGIC", "repaired_header"]

#: The first 16 bytes of every SQLite file.
MAGIC = b"SQLite format 3\x00"
#: Page sizes SQLite allows, the usual one first.
PAGE_SIZES = (4096, 1024, 2048, 8192, 16384, 32768, 65536, 512)
#: Tables every themekit store has had since its first schema.
STORE_TABLES = {"codebooks", "runs", "segments", "codings", "decisions"}


def _header(page_size: int, pages: int, user_version: int) -> bytes:
    """An SQLite file header (see sqlite.org/fileformat.html) for a file of ``pages`` pages in rollback mode."""
    head = bytearray(100)
    head[0:16] = MAGIC
    struct.pack_into(">H", head, 16, 1 if page_size == 65536 else page_size)
    head[18:24] = bytes((1, 1, 0, 64, 32, 32))  # rollback journal, no reserved bytes, fixed payload fractions
    struct.pack_into(">I", head, 24, 1)  # change counter …
    struct.pack_into(">I", head, 28, pages)  # … and the page count it vouches for (offset 92 repeats it)
    struct.pack_into(">I", head, 40, 1)  # schema cookie
    struct.pack_into(">I", head, 44, 4)  # schema format
    struct.pack_into(">I", head, 56, 1)  # UTF-8
    struct.pack_into(">I", head, 60, user_version)
    struct.pack_into(">I", head, 92, 1)
    struct.pack_into(">I", head, 96, sqlite3.sqlite_version_info[0] * 1_000_000 + sqlite3.sqlite_version_info[1] * 1000)
    return bytes(head)


def _schema(conn: sqlite3.Connection) -> list[tuple[str, str, str]]:
    return sorted(
        (kind, name, " ".join((sql or "").split()))
        for kind, name, sql in conn.execute("SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL")
    )


def _schema_version(conn: sqlite3.Connection, migrations: Sequence[str]) -> int:
    """The themekit schema version whose tables ``conn`` holds (0: none of them); ``migrations[k]`` brings
    version k to k + 1."""
    found = _schema(conn)
    probe = sqlite3.connect(":memory:")
    try:
        for version, migration in enumerate(migrations, start=1):
            probe.executescript(migration)
            if _schema(probe) == found:
                return version
    finally:
        probe.close()
    return 0


def repaired_header(path: str | Path, migrations: Sequence[str]) -> bytes | None:
    """The store's bytes with its header rebuilt, when the header is overwritten and a rebuilt one makes it a
    themekit store again (its schema whole, of a version ``migrations`` builds); ``None`` when the header is
    there, or the file is no such store."""
    try:
        data = Path(path).read_bytes()
    except OSError:
        return None
    if len(data) < 512 or data.startswith(MAGIC) or data[100] not in (0x05, 0x0D):
        return None  # page 1 holds the schema: its b-tree page header starts at byte 100
    for size in PAGE_SIZES:
        if len(data) % size:
            continue
        candidate = bytearray(_header(size, len(data) // size, 0) + data[100:])
        conn = sqlite3.connect(":memory:")
        try:
            conn.deserialize(bytes(candidate))
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = _schema_version(conn, migrations) if STORE_TABLES <= tables else 0
        except sqlite3.DatabaseError:
            continue
        finally:
            conn.close()
        if version:
            struct.pack_into(">I", candidate, 60, version)
            return bytes(candidate)
    return None
