"""Saving what can be read of a damaged project store into a new one (``themekit project recover``).

Two kinds of damage are met in practice. A header overwritten (the file's first 100 bytes zeroed by a failing
copy or a program that wrote in the wrong place) leaves every page after it whole: it is rebuilt
(:func:`themekit.store.header.repaired_header`). Pages overwritten in the middle lose the rows they held;
:func:`recover` copies every table row by row, stepping over each stretch SQLite cannot read, into a new store
of the current schema.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from themekit.errors import ProjectError
from themekit.store.db import MIGRATIONS, Project
from themekit.store.header import MAGIC, repaired_header

__all__ = ["Recovered", "recover"]

#: The largest rowid SQLite gives.
_MAX_ROWID = 2**63 - 1


@dataclass
class Recovered:
    """What :func:`recover` saved: rows per table, the damaged stretches it stepped over, and how it read."""

    source: Path
    out: Path
    #: the header was overwritten and rebuilt
    header_rebuilt: bool = False
    #: rows saved, per table
    rows: dict[str, int] = field(default_factory=dict)
    #: stretches of rows SQLite could not read, per table (their rows are lost)
    damaged: dict[str, int] = field(default_factory=dict)
    #: rows read but refused by the new store (a NOT NULL or CHECK broken by damage inside the row)
    refused: dict[str, int] = field(default_factory=dict)
    #: tables that could not be read at all
    unreadable: list[str] = field(default_factory=list)
    #: changes in the store's -wal file that were not read (its header was rebuilt)
    wal_left: bool = False
    #: SQLite's integrity check of the new store
    check: str = ""

    @property
    def complete(self) -> bool:
        """Whether everything the store held was saved."""
        return not (any(self.damaged.values()) or any(self.refused.values()) or self.unreadable or self.wal_left)


def _source(path: Path) -> tuple[sqlite3.Connection, bool]:
    """A read-only connection to the damaged store, through a rebuilt header when its own is overwritten."""
    with path.open("rb") as handle:
        whole = handle.read(16) == MAGIC
    if whole:
        return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True), False
    repaired = repaired_header(path, MIGRATIONS)
    if repaired is None:
        raise ProjectError(
            f"{path}: not a themekit project store, and no header rebuilt for it shows themekit's tables; nothing "
            "can be recovered from it by themekit. Restore it from a backup.",
            param="project",
        )
    conn = sqlite3.connect(":memory:")
    conn.deserialize(repaired)
    return conn, True


def _first_row(conn: sqlite3.Connection, query: str, start: int) -> tuple[bool, tuple | None]:
    """Whether the first row of ``query`` (rowid first, from rowid ``start`` on) can be read, and that row."""
    try:
        return True, conn.execute(query + " LIMIT 1", (start,)).fetchone()
    except sqlite3.DatabaseError:
        return False, None


def _next_readable(conn: sqlite3.Connection, query: str, start: int) -> tuple | None:
    """The first row from rowid ``start`` on that can be read, found by doubling steps over the damaged stretch,
    then halving back to its end; ``None`` when no row past it can be read."""
    bad, step = start - 1, 1
    while start - 1 + step <= _MAX_ROWID:
        ok, _ = _first_row(conn, query, start - 1 + step)
        if ok:
            good = start - 1 + step
            while good - bad > 1:
                middle = (bad + good) // 2
                if _first_row(conn, query, middle)[0]:
                    good = middle
                else:
                    bad = middle
            return _first_row(conn, query, good)[1]
        bad, step = start - 1 + step, step * 2
    return None


def _rows(conn: sqlite3.Connection, table: str, columns: list[str], stretches: list[int]) -> Iterator[tuple]:
    """Every row of ``table`` that can be read, rowid first, in rowid order; each damaged stretch stepped over
    is counted in ``stretches``."""
    names = ", ".join(f'"{c}"' for c in columns)
    # "rowid >= n" seeks n itself, where "rowid > n - 1" would seek n - 1, perhaps on the damaged page
    query = f'SELECT rowid, {names} FROM "{table}" WHERE rowid >= ? ORDER BY rowid'
    start = -_MAX_ROWID - 1
    while True:
        try:
            for row in conn.execute(query, (start,)):
                start = row[0] + 1
                yield row
            return
        except sqlite3.DatabaseError:
            # the scan stops on the damage, or on the row after the last it gave (sqlite3 steps one row ahead):
            # the first row that reads on its own is given, and the scan goes on after it
            row = _next_readable(conn, query, start)
            if row is None:
                stretches[0] += 1
                return
            if row[0] != start:
                stretches[0] += 1
            start = row[0] + 1
            yield row


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]


def recover(path: str | Path, out: str | Path) -> Recovered:
    """Save what can be read of the store at ``path`` into a new store at ``out`` (of the current schema): a
    header overwritten is rebuilt, damaged stretches of rows are stepped over and counted. The store at
    ``path`` is only read; ``out`` is written whole or not at all."""
    path, out = Path(path), Path(out)
    if not path.is_file():
        raise ProjectError(f"{path}: no such project store. Give the damaged store's path.", param="project")
    if out.exists():
        raise ProjectError(f"{out}: already exists; give --out a new file for the recovered store.", param="out")
    source, rebuilt = _source(path)
    result = Recovered(path, out, header_rebuilt=rebuilt)
    wal = path.with_name(path.name + "-wal")
    result.wal_left = rebuilt and wal.is_file() and wal.stat().st_size > 0
    partial = out.with_name(f".{out.name}.partial")
    for leftover in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        leftover.unlink(missing_ok=True)
    Project(partial).close()
    target = sqlite3.connect(partial, isolation_level=None)
    try:
        target.execute("PRAGMA foreign_keys = OFF")  # a row whose parent was on a lost page is kept all the same
        target.execute("BEGIN")
        tables = [r[0] for r in target.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY rowid")]
        for table in tables:
            wanted = _columns(target, table)
            try:
                have = set(_columns(source, table))
            except sqlite3.DatabaseError:
                have = set()
            columns = [c for c in wanted if c in have]
            if not columns:
                result.unreadable.append(table)
                continue
            stretches, saved, refused = [0], 0, 0
            names = ", ".join(f'"{c}"' for c in columns)
            insert = f'INSERT INTO "{table}" (rowid, {names}) VALUES ({", ".join("?" * (len(columns) + 1))})'
            for row in _rows(source, table, columns, stretches):
                try:
                    target.execute(insert, row)
                    saved += 1
                except sqlite3.DatabaseError:
                    refused += 1
            result.rows[table], result.damaged[table], result.refused[table] = saved, stretches[0], refused
        target.execute("COMMIT")
        result.check = "; ".join(row[0] for row in target.execute("PRAGMA integrity_check(5)"))
    except BaseException:
        target.close()
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    target.close()
    os.replace(partial, out)
    return result
