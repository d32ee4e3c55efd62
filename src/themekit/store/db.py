"""The project store: one SQLite file recording runs, codebook versions and human decisions.

Every write is one transaction (``BEGIN IMMEDIATE`` … ``COMMIT``) in WAL mode,
so a process killed at any moment leaves the store as it was before the
transaction or after it, never in between; a second process waits for the
first (``busy_timeout``) and, past the wait, stops with a clear message.
Before its first write a process runs SQLite's ``quick_check``: nothing is
ever written into a damaged store. A full disk, a read-only file or folder
and a damaged file each end in one message naming the fix.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import re
import shutil
import sqlite3
import stat
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from themekit.errors import (
    ProjectBusyError,
    ProjectDamagedError,
    ProjectDiskFullError,
    ProjectError,
    ProjectStorageError,
)
from themekit.models import STATUSES
from themekit.store.header import repaired_header

if TYPE_CHECKING:
    from themekit.codebook import Codebook
    from themekit.runs.record import RunRecord

__all__ = [
    "DECISIONS",
    "DEFAULT_PROJECT",
    "SCHEMA_VERSION",
    "WITHDRAW",
    "Decision",
    "Project",
    "find_project",
    "open_project",
    "project_of_run",
]

#: Where ``themekit`` keeps the project store unless ``--project`` says otherwise.
DEFAULT_PROJECT = Path(".themekit/project.db")
#: What a reviewer can decide about a coding.
DECISIONS = ("accept", "reject", "change", "add")
#: The record that withdraws a coder's earlier decisions on one coding (undo): history keeps both, and every
#: reader of the decisions (:meth:`Project.decisions`) sees neither.
WITHDRAW = "withdraw"

#: Forward migrations: ``MIGRATIONS[k]`` brings schema version k to k + 1.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE codebooks (
        sha256 TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        version TEXT NOT NULL,
        yaml TEXT NOT NULL,
        source TEXT,
        first_seen TEXT NOT NULL
    );
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        run_id TEXT NOT NULL,
        created TEXT NOT NULL,
        folder TEXT,
        codebook_sha256 TEXT NOT NULL REFERENCES codebooks (sha256),
        settings TEXT NOT NULL,
        counts TEXT NOT NULL,
        warnings TEXT NOT NULL
    );
    CREATE TABLE run_transcripts (
        run INTEGER NOT NULL REFERENCES runs (id),
        transcript TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        source TEXT NOT NULL,
        PRIMARY KEY (run, transcript)
    );
    CREATE TABLE segments (
        run INTEGER NOT NULL REFERENCES runs (id),
        transcript TEXT NOT NULL,
        segment INTEGER NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        PRIMARY KEY (run, transcript, segment)
    );
    CREATE TABLE codings (
        run INTEGER NOT NULL REFERENCES runs (id),
        transcript TEXT NOT NULL,
        segment INTEGER NOT NULL,
        code TEXT NOT NULL,
        method TEXT NOT NULL,
        score REAL NOT NULL,
        evidence TEXT NOT NULL,
        status TEXT NOT NULL,
        negated INTEGER NOT NULL
    );
    CREATE INDEX codings_run ON codings (run);
    CREATE TABLE review_items (
        id TEXT PRIMARY KEY,
        run INTEGER NOT NULL REFERENCES runs (id),
        transcript TEXT NOT NULL,
        transcript_sha256 TEXT NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        code TEXT NOT NULL,
        quote TEXT NOT NULL,
        codebook_sha256 TEXT NOT NULL REFERENCES codebooks (sha256)
    );
    CREATE TABLE imports (
        id INTEGER PRIMARY KEY,
        file TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        coder TEXT NOT NULL,
        at TEXT NOT NULL,
        counts TEXT NOT NULL
    );
    CREATE TABLE decisions (
        id INTEGER PRIMARY KEY,
        transcript TEXT NOT NULL,
        transcript_sha256 TEXT NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        quote TEXT NOT NULL,
        code TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject', 'change', 'add')),
        new_code TEXT,
        coder TEXT NOT NULL,
        at TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        item TEXT REFERENCES review_items (id),
        import INTEGER REFERENCES imports (id)
    );
    CREATE INDEX decisions_transcript ON decisions (transcript);
    """,
    # 2: review ids name their transcript (scheme 2); ids of sheets written before stay readable (scheme 1);
    # a review import looks decisions up by item
    """
    ALTER TABLE review_items ADD COLUMN scheme INTEGER NOT NULL DEFAULT 1;
    CREATE INDEX decisions_item ON decisions (item, coder);
    """,
    # 3: several coders: a reconciled decision (final = 1) settles what coders decided differently
    """
    ALTER TABLE decisions ADD COLUMN final INTEGER NOT NULL DEFAULT 0;
    """,
    # 4: a decision can be withdrawn (undo in 'themekit review serve'): a 'withdraw' row cancels its coder's earlier
    # decisions on the same coding; SQLite changes a CHECK constraint only by rebuilding the table
    """
    CREATE TABLE decisions_4 (
        id INTEGER PRIMARY KEY,
        transcript TEXT NOT NULL,
        transcript_sha256 TEXT NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        quote TEXT NOT NULL,
        code TEXT NOT NULL,
        decision TEXT NOT NULL CHECK (decision IN ('accept', 'reject', 'change', 'add', 'withdraw')),
        new_code TEXT,
        coder TEXT NOT NULL,
        at TEXT NOT NULL,
        note TEXT NOT NULL DEFAULT '',
        item TEXT REFERENCES review_items (id),
        import INTEGER REFERENCES imports (id),
        final INTEGER NOT NULL DEFAULT 0
    );
    INSERT INTO decisions_4 SELECT id, transcript, transcript_sha256, start, "end", quote, code, decision, new_code,
        coder, at, note, item, import, final FROM decisions;
    DROP TABLE decisions;
    ALTER TABLE decisions_4 RENAME TO decisions;
    CREATE INDEX decisions_transcript ON decisions (transcript);
    CREATE INDEX decisions_item ON decisions (item, coder);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class Decision:
    """One human decision about a coding, anchored to the transcript's hash and character offsets.

    ``change`` moves the coding from ``code`` to ``new_code``; ``add`` gives
    ``code`` to a span the machine did not code (or codes differently).
    """

    id: int
    transcript: str
    transcript_sha256: str
    start: int
    end: int
    quote: str
    code: str
    decision: str
    new_code: str | None
    coder: str
    at: str
    note: str = ""
    #: a reconciled decision: settles what the coders decided differently (``themekit review reconcile``)
    final: bool = False


_DECISION_COLUMNS = (
    'id, transcript, transcript_sha256, start, "end", quote, code, decision, new_code, coder, at, note, final'
)


def _decision(r: sqlite3.Row) -> Decision:
    return Decision(r["id"], r["transcript"], r["transcript_sha256"], r["start"], r["end"], r["quote"], r["code"],
                    r["decision"], r["new_code"], r["coder"], r["at"], r["note"], bool(r["final"]))  # fmt: skip


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Project:
    """The project store at ``path`` (created on first use); see :func:`open_project`.

    ``read_only``: the command only reads. A store the user may not write (a read-only file or folder) is then
    opened read-only, where a writer is refused with how to make it writable; a damaged store is read as far as
    it can be, each problem kept in :attr:`warnings`, where a writer is refused before it writes anything; a
    store whose header is overwritten is read through a header rebuilt in memory."""

    def __init__(self, path: str | Path = DEFAULT_PROJECT, *, wait: float = 30.0, read_only: bool = False) -> None:
        self.path = Path(path)
        self.wait = wait
        #: opened by a command that only reads: a read-only file is opened read-only, and a damaged store is read
        #: as far as it can be, each problem kept in ``warnings`` instead of stopping the command
        self.read_only = read_only
        #: what a reader should know about what it was shown (a damaged store, a store read as it stands)
        self.warnings: list[str] = []
        self._checked = False
        self._damage: str | None = None
        if self.path.exists() and not self.path.is_file():
            raise ProjectError(
                f"{self.path}: is not a file. Give project= the path of a project database file.", param="project"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            if exc.errno == errno.ENOSPC:
                raise self._disk_full(exc, "creating the project's folder") from None
            raise ProjectError(
                f"{self.path}: cannot create the project's folder ({exc.strerror}). Give project= a path in a writable folder.",
                param="project",
            ) from None
        self._locked = _read_only_reason(self.path)
        if self._locked and not read_only:
            raise self._read_only(self._locked, "this command")
        try:
            # read-only, nobody writes it: read it as it stands unless its -wal file holds changes, so SQLite
            # leaves no -wal and -shm files beside it
            self._open(("ro" if _wal_content(self.path) else "immutable") if self._locked else "rw")
        except ProjectStorageError as exc:
            # a full disk (no room for SQLite's -shm file) still lets a reader see the store as it stands on disk
            if not (read_only and isinstance(exc, ProjectDiskFullError) and not _wal_content(self.path)):
                raise
            self._open("immutable")
            self.warnings.append(
                f"{self.path}: the disk is full, so the store was read as it stands on disk; free space on "
                f"{self.path.resolve().parent} before recording anything in it."
            )

    def _open(self, how: str) -> None:
        """Connect (``how``: "rw", "ro" for a read-only file or folder, "immutable" where SQLite may create
        nothing beside it), bring the schema up to date and, for a reader, look the store over once."""
        try:
            self._conn = self._connect(how)
        except sqlite3.Error as exc:
            raise self.fault(exc, "opening the project") from exc
        try:
            if how == "rw":
                self._conn.execute("PRAGMA foreign_keys = ON")
                self._conn.execute("PRAGMA journal_mode = WAL")
                self._conn.execute("PRAGMA synchronous = FULL")
            self._migrate()
            if self.read_only:
                self._look_over()
        except ProjectError:
            self._conn.close()
            raise
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            if not _not_a_database(exc):
                raise self.fault(exc, "opening the project") from exc
            repaired = repaired_header(self.path, MIGRATIONS)
            if repaired is None:
                raise ProjectError(
                    f"{self.path}: not a themekit project database ({exc}). "
                    "Give project= another path, or move this file away and run again to start a new project.",
                    param="project",
                ) from exc
            if not self.read_only:
                raise self._header_damaged() from exc
            # a reader is shown the store through a header rebuilt in memory; the file is not touched
            self._conn = sqlite3.connect(":memory:", isolation_level=None)
            self._conn.deserialize(repaired)
            self._locked = self._locked or "its header is damaged"
            self.warnings.append(str(self._header_damaged()))
            self._look_over()

    def _connect(self, how: str) -> sqlite3.Connection:
        if how == "rw":
            return sqlite3.connect(self.path, timeout=self.wait, isolation_level=None)
        flags = "mode=ro" + ("&immutable=1" if how == "immutable" else "")
        uri = f"{self.path.resolve().as_uri()}?{flags}"
        return sqlite3.connect(uri, uri=True, timeout=self.wait, isolation_level=None)

    def _look_over(self) -> None:
        """For a reader: SQLite's quick_check once; a damaged store is read as far as it can be, with a warning."""
        try:
            verdict = [row[0] for row in self._conn.execute("PRAGMA quick_check(5)").fetchall()]
        except sqlite3.DatabaseError as exc:
            if _is_busy(exc) or not _is_damage(exc):
                raise
            verdict = [str(exc)]
        if verdict == ["ok"]:
            return
        self._damage = "; ".join(verdict)
        self.warnings.append(
            f"{self.path}: the project store is damaged ({_short(self._damage)}); shown here is what can still be "
            f"read. {self._recover_hint()}"
        )

    def _recover_hint(self) -> str:
        return (
            f"Save what can be read into a new store with 'themekit project recover {self.path} --out recovered.db' "
            "and give project= recovered.db from then on (or restore the store from a backup)."
        )

    def _header_damaged(self) -> ProjectDamagedError:
        return ProjectDamagedError(
            f"{self.path}: the project store's header (its first 100 bytes) is overwritten, but the data after it "
            f"is whole and can be recovered: run 'themekit project recover {self.path} --out recovered.db' and give "
            "project= recovered.db from then on. themekit writes nothing into this file; commands that only read it "
            "(history, review status) show it as it is.",
            param="project",
        )

    # -- connection ---------------------------------------------------------------------------

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Project({str(self.path)!r})"

    def _busy(self) -> ProjectBusyError:
        return ProjectBusyError(
            f"{self.path}: another themekit process is writing to this project and did not finish within "
            f"{self.wait:.0f} s. Wait for it to finish and run again, or use a different project=.",
            param="project",
        )

    def fault(self, exc: sqlite3.Error, doing: str) -> ProjectError:
        """The message for an SQLite error met while ``doing`` something: busy, disk full, read-only, a disk that
        fails, damaged."""
        text = str(exc).lower()
        name = getattr(exc, "sqlite_errorname", "") or ""
        if _is_busy(exc):
            return self._busy()
        if name == "SQLITE_FULL" or "disk is full" in text or "database or disk is full" in text:
            return self._disk_full(exc, doing)
        if name.startswith("SQLITE_IOERR") or "disk i/o error" in text:
            # SQLite says "disk I/O error" when it cannot grow its -shm file on a full disk
            if name == "SQLITE_IOERR_SHMSIZE" or _free_bytes(self.path) < LOW_SPACE:
                return self._disk_full(exc, doing)
            return ProjectStorageError(
                f"{self.path}: the disk failed while {doing} ({exc}); nothing of it was recorded. Check the disk or "
                f"network drive holding {self.path.resolve().parent} and run again; the store itself is not known "
                "to be damaged.",
                param="project",
            )
        if name.startswith("SQLITE_READONLY") or "readonly" in text or "read-only" in text or "unable to open" in text:
            return self._read_only(f"SQLite says: {exc}", doing)
        return ProjectDamagedError(
            f"{self.path}: the project store is damaged ({_short(str(exc))}); themekit writes nothing into it, and "
            f"commands that only read it (history, review status) show what can still be read. {self._recover_hint()}",
            param="project",
        )

    def _disk_full(self, exc: BaseException, doing: str) -> ProjectDiskFullError:
        folder = self.path.resolve().parent
        return ProjectDiskFullError(
            f"{self.path}: disk full while {doing} ({exc}): free space on {folder} and run again; nothing was "
            "lost, the store is as it was before this command.",
            param="project",
        )

    def _read_only(self, why: str, doing: str) -> ProjectStorageError:
        folder = self.path.resolve().parent
        return ProjectStorageError(
            f"{self.path}: the project store is read-only ({why}), and {doing} writes to it; nothing was changed. "
            f"Make it writable (chmod u+w {self.path} {folder}: SQLite keeps its -wal and -shm files beside it), or "
            "copy the project to a writable folder and give project= the copy. Commands that only read it (history, "
            "review status) work as it is.",
            param="project",
        )

    def _check_whole(self) -> None:
        """SQLite's quick_check, once per process before its first write: never write into a damaged store."""
        if self._checked:
            return
        if self._locked:
            raise self._read_only(self._locked, "this command")
        if self._damage is not None:
            raise self.fault(sqlite3.DatabaseError(self._damage), "checking the store")
        try:
            verdict = [row[0] for row in self._conn.execute("PRAGMA quick_check(5)").fetchall()]
        except sqlite3.DatabaseError as exc:
            raise self.fault(exc, "checking the store") from exc
        if verdict != ["ok"]:
            raise self.fault(sqlite3.DatabaseError("; ".join(verdict)), "checking the store")
        self._checked = True

    @contextmanager
    def transaction(self, doing: str = "writing to the project") -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it lands, or none of it; SQLite's faults become one message each."""
        self._check_whole()
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self.fault(exc, doing) from exc
        try:
            yield self._conn
            self._conn.execute("COMMIT")
        except BaseException as exc:
            # SQLite rolls back by itself on some faults (a full disk): roll back only what is still open
            if self._conn.in_transaction:
                try:
                    self._conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            if isinstance(exc, sqlite3.Error):
                raise self.fault(exc, doing) from exc
            raise

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """The rows of a query; a reader of a damaged store gets the rows before the damage, with a warning."""
        rows: list[sqlite3.Row] = []
        try:
            cursor = self._conn.execute(sql, tuple(params))
            cursor.row_factory = sqlite3.Row
            if self._damage is None:
                return cursor.fetchall()
            for row in cursor:
                rows.append(row)
            return rows
        except sqlite3.DatabaseError as exc:
            if self._damage is None or not rows or not _is_damage(exc):
                raise self.fault(exc, "reading the project") from exc
            table = re.search(r"\bFROM\s+(\w+)", sql, re.IGNORECASE)
            note = (
                f"{self.path}: reading {table.group(1) if table else 'the store'} stopped at a damaged page after "
                f"{len(rows)} row(s); what lies after it is not shown."
            )
            if note not in self.warnings:
                self.warnings.append(note)
            return rows

    def _migrate(self) -> None:
        version = self._conn.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ProjectError(
                f"{self.path}: written by a newer themekit (project schema {version}, this themekit knows up to "
                f"{SCHEMA_VERSION}). Upgrade themekit to use this project."
            )
        if version < SCHEMA_VERSION and self._locked:
            raise self._read_only(self._locked, f"updating it from project schema {version} to {SCHEMA_VERSION}")
        for target in range(version, SCHEMA_VERSION):
            with self.transaction("updating the project's schema") as conn:
                # re-read inside the lock: another process may have migrated meanwhile
                if conn.execute("PRAGMA user_version").fetchone()[0] != target:
                    continue
                for statement in MIGRATIONS[target].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {target + 1}")

    @property
    def schema_version(self) -> int:
        return self._query("PRAGMA user_version")[0][0]

    # -- codebooks ----------------------------------------------------------------------------

    def record_codebook(self, codebook: Codebook) -> list[str]:
        """Keep a snapshot of ``codebook``; returns warnings when its content changed but its version did not."""
        from themekit.codebook.diff import diff_codebooks

        sha = codebook.sha256
        same_version = self._query(
            "SELECT sha256, yaml FROM codebooks WHERE name = ? AND version = ? AND sha256 != ? ORDER BY first_seen",
            (codebook.name, codebook.version, sha),
        )
        warnings = []
        for row in same_version[:1]:
            changes = diff_codebooks(codebook_from_yaml(row["yaml"]), codebook)
            warnings.append(
                f"codebook {codebook.name!r} version {codebook.version} differs from the one this project first saw "
                f"under that version ({changes.summary() or 'formatting only'}). Record the change with "
                f"'themekit codebook bump {codebook.source or 'CODEBOOK'} --minor -m \"what changed\"'."
            )
        with self.transaction("recording the codebook") as conn:
            _store_codebook(conn, codebook)
        return warnings

    def codebook(self, sha256: str) -> Codebook:
        rows = self._query("SELECT yaml FROM codebooks WHERE sha256 = ?", (sha256,))
        if not rows:
            raise ProjectError(f"{self.path}: no codebook with hash {sha256[:12]} is recorded in this project.")
        return codebook_from_yaml(rows[0]["yaml"])

    def other_codebooks(self, codebook: Codebook) -> list[Codebook]:
        """Every other codebook version the project has seen, oldest first: how decisions made under them find
        the codes of ``codebook`` (renamed and merged codes)."""
        return [self.codebook(row["sha256"]) for row in self.codebooks() if row["sha256"] != codebook.sha256]

    def codebooks(self) -> list[dict[str, Any]]:
        """Every codebook version the project has seen, oldest first."""
        return [
            dict(r)
            for r in self._query(
                "SELECT sha256, name, version, source, first_seen FROM codebooks ORDER BY first_seen, rowid"
            )
        ]

    # -- runs ---------------------------------------------------------------------------------

    def record_run(self, run: RunRecord, *, folder: str | Path | None = None) -> int:
        """Record a completed run (settings, codebook, transcript hashes, segments, codings) in one transaction."""
        counts = _status_counts(run)
        with self.transaction("recording the run") as conn:
            _store_codebook(conn, run.codebook)
            cursor = conn.execute(
                "INSERT INTO runs (run_id, created, folder, codebook_sha256, settings, counts, warnings) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    run.id,
                    _now(),
                    str(Path(folder).resolve()) if folder is not None else None,
                    run.codebook.sha256,
                    json.dumps(run.settings, sort_keys=True, default=str),
                    json.dumps(counts, sort_keys=True),
                    json.dumps(run.stats.get("warnings", [])),
                ),
            )
            key = cursor.lastrowid
            conn.executemany(
                "INSERT INTO run_transcripts (run, transcript, sha256, source) VALUES (?, ?, ?, ?)",
                [(key, t.id, t.sha256, str(t.source)) for t in run.corpus],
            )
            conn.executemany(
                'INSERT INTO segments (run, transcript, segment, start, "end") VALUES (?, ?, ?, ?, ?)',
                [(key, s.transcript.id, s.index, s.start, s.end) for s in run.units],
            )
            conn.executemany(
                "INSERT INTO codings (run, transcript, segment, code, method, score, evidence, status, negated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        key,
                        c.segment.transcript.id,
                        c.segment.index,
                        c.code_id,
                        c.method,
                        c.score,
                        c.evidence,
                        c.status,
                        int(c.negated),
                    )
                    for c in run.codings
                ],
            )
        return int(key)  # type: ignore[arg-type]

    def runs(self) -> list[dict[str, Any]]:
        """Every recorded run, oldest first, with its codebook version and headline counts."""
        rows = self._query(
            "SELECT runs.id, run_id, created, folder, name AS codebook, version AS codebook_version, "
            "codebook_sha256, counts, warnings FROM runs JOIN codebooks ON codebooks.sha256 = runs.codebook_sha256 "
            "ORDER BY runs.id"
        )
        out = []
        for row in rows:
            item = dict(row)
            item["counts"] = json.loads(item["counts"])
            item["warnings"] = json.loads(item["warnings"])
            out.append(item)
        return out

    def last_run(self) -> int | None:
        return self._query("SELECT max(id) FROM runs")[0][0]

    def run_key(self, run: RunRecord | str | int | None) -> int:
        """The store's key of ``run`` (a RunRecord, its id, a key, or ``None`` for the latest)."""
        if run is None:
            key = self.last_run()
            if key is None:
                raise ProjectError(f"{self.path}: no run is recorded in this project yet. Run 'themekit code' first.")
            return key
        if isinstance(run, int):
            return run
        run_id = run if isinstance(run, str) else run.id
        rows = self._query("SELECT max(id) FROM runs WHERE run_id = ?", (run_id,))[0]
        if rows[0] is None:
            raise ProjectError(
                f"{self.path}: run {run_id} is not recorded in this project. Code it with this project (project=), "
                "or give the project= it was coded with.",
                param="project",
            )
        return rows[0]

    # -- decisions ----------------------------------------------------------------------------

    def decisions(self, *, withdrawn: bool = False) -> list[Decision]:
        """Every decision in force, oldest first (a coder's later decision on the same coding wins over their earlier
        one; how several coders' decisions combine: :func:`themekit.store.decisions.apply_decisions`).

        A ``withdraw`` record cancels its coder's earlier decisions on the same coding (transcript, its hash,
        characters and code): neither it nor they are returned. ``withdrawn=True``: the whole history, as recorded."""
        every = [_decision(r) for r in self._query(f"SELECT {_DECISION_COLUMNS} FROM decisions ORDER BY id")]
        if withdrawn:
            return every
        live: dict[int, Decision] = {}
        by_coding: dict[tuple[Any, ...], list[int]] = {}
        for d in every:
            key = (d.coder, d.final, d.transcript, d.transcript_sha256, d.start, d.end, d.code)
            if d.decision == WITHDRAW:
                for k in by_coding.pop(key, []):
                    live.pop(k, None)
                continue
            live[d.id] = d
            by_coding.setdefault(key, []).append(d.id)
        return list(live.values())

    def latest_records(
        self, *, transcript: str | None = None, coder: str | None = None
    ) -> dict[tuple[str, str, int, int, str], Decision]:
        """The latest record on each coding that has one, withdraw records and reconciled ones included: (transcript,
        its sha256, start, end, code) → that record. Its ``id`` changes whenever anyone records something on the
        coding, so it tells whether a coding was decided since it was last read. ``transcript``, ``coder``: only
        that transcript's codings, only that coder's records."""
        where, params = [], []
        if transcript is not None:
            where.append("transcript = ?")
            params.append(transcript)
        if coder is not None:
            where.append("coder = ?")
            params.append(coder)
        sql = (
            f"SELECT {_DECISION_COLUMNS} FROM decisions WHERE id IN (SELECT MAX(id) FROM decisions"
            f"{' WHERE ' + ' AND '.join(where) if where else ''} "
            'GROUP BY transcript, transcript_sha256, start, "end", code)'
        )
        return {
            (d.transcript, d.transcript_sha256, d.start, d.end, d.code): d
            for d in map(_decision, self._query(sql, params))
        }

    def decisions_mark(self) -> tuple[int, int]:
        """(how many decisions, the latest one's id): changes whenever a decision is recorded, read in one query."""
        row = self._query("SELECT COUNT(*) AS n, COALESCE(MAX(id), 0) AS last FROM decisions")[0]
        return int(row["n"]), int(row["last"])

    def add_decisions(
        self,
        decisions: Iterable[dict[str, Any]],
        *,
        coder: str,
        source: str = "",
        source_sha256: str = "",
        counts: dict[str, Any] | None = None,
        final: bool = False,
    ) -> int:
        """Record decisions (dicts with transcript, transcript_sha256, start, end, quote, code, decision,
        new_code, note, item) by ``coder`` in one transaction; returns how many were recorded.
        ``final``: reconciled decisions, which settle what coders decided differently."""
        rows = list(decisions)
        at = _now()
        with self.transaction("recording the decisions") as conn:
            import_id = conn.execute(
                "INSERT INTO imports (file, sha256, coder, at, counts) VALUES (?, ?, ?, ?, ?)",
                (source, source_sha256, coder, at, json.dumps(counts or {}, sort_keys=True)),
            ).lastrowid
            conn.executemany(
                'INSERT INTO decisions (transcript, transcript_sha256, start, "end", quote, code, decision, new_code, '
                "coder, at, note, item, import, final) VALUES (:transcript, :transcript_sha256, :start, :end, :quote, :code, "
                ":decision, :new_code, :coder, :at, :note, :item, :import, :final)",
                [
                    {
                        "new_code": None,
                        "note": "",
                        "item": None,
                        **row,
                        "coder": coder,
                        "at": at,
                        "import": import_id,
                        "final": int(final),
                    }
                    for row in rows
                ],
            )
        return len(rows)

    def latest_decisions(
        self, items: Iterable[str], coder: str | None, *, final: bool = False
    ) -> dict[str, tuple[str, str | None, str]]:
        """The latest (decision, new_code, note) of ``coder`` on each review item of ``items`` that has one;
        ``final``: the latest reconciled decision instead (by anyone, when ``coder`` is ``None``)."""
        wanted = sorted(set(items))
        latest: dict[str, tuple[str, str | None, str]] = {}
        for k in range(0, len(wanted), 500):
            chunk = wanted[k : k + 500]
            for row in self._query(
                f"SELECT item, decision, new_code, note FROM decisions WHERE item IN ({','.join('?' * len(chunk))}) "
                f"AND final = ?{'' if coder is None else ' AND coder = ?'} ORDER BY id",
                [*chunk, int(final), *([] if coder is None else [coder])],
            ):
                if row[1] == WITHDRAW:
                    latest.pop(row[0], None)
                else:
                    latest[row[0]] = (row[1], row[2], row[3])
        return latest

    # -- review items ---------------------------------------------------------------------------

    def add_review_items(self, items: Iterable[dict[str, Any]]) -> None:
        with self.transaction("recording the review sheet's rows") as conn:
            conn.executemany(
                'INSERT OR IGNORE INTO review_items (id, run, transcript, transcript_sha256, start, "end", code, quote, '
                "codebook_sha256, scheme) VALUES (:id, :run, :transcript, :transcript_sha256, :start, :end, :code, :quote, "
                ":codebook_sha256, 2)",
                list(items),
            )

    def review_items(self, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        wanted = sorted(set(ids))
        found: dict[str, dict[str, Any]] = {}
        for k in range(0, len(wanted), 500):
            chunk = wanted[k : k + 500]
            marks = ",".join("?" * len(chunk))
            for row in self._query(
                f'SELECT id, run, transcript, transcript_sha256, start, "end", code, quote, codebook_sha256, scheme '
                f"FROM review_items WHERE id IN ({marks})",
                chunk,
            ):
                found[row["id"]] = dict(row)
        return found

    def run_codings(self, run: RunRecord | str | int | None = None) -> list[dict[str, Any]]:
        """The codings recorded for a run (default: the latest), with their segment spans."""
        key = self.run_key(run)
        return [
            dict(r)
            for r in self._query(
                'SELECT c.transcript, c.segment, s.start, s."end", c.code, c.method, c.score, c.status, t.sha256 AS transcript_sha256 '
                "FROM codings c JOIN segments s ON s.run = c.run AND s.transcript = c.transcript AND s.segment = c.segment "
                "JOIN run_transcripts t ON t.run = c.run AND t.transcript = c.transcript WHERE c.run = ? ORDER BY c.rowid",
                (key,),
            )
        ]

    def run_transcripts(self, run: RunRecord | str | int | None = None) -> dict[str, str]:
        """The transcripts a recorded run (default: the latest) coded: name → sha256 of the text it coded."""
        key = self.run_key(run)
        return {r[0]: r[1] for r in self._query("SELECT transcript, sha256 FROM run_transcripts WHERE run = ?", (key,))}

    def integrity_check(self) -> str:
        return self._query("PRAGMA integrity_check")[0][0]

    def transcripts_by_content(self, sha256s: Iterable[str]) -> dict[str, set[str]]:
        """Transcript sha256 → every name it was recorded under in this project's runs."""
        wanted = sorted(set(sha256s))
        names: dict[str, set[str]] = {}
        for k in range(0, len(wanted), 500):
            chunk = wanted[k : k + 500]
            for row in self._query(
                f"SELECT DISTINCT sha256, transcript FROM run_transcripts WHERE sha256 IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                names.setdefault(row[0], set()).add(row[1])
        return names


def _is_busy(exc: sqlite3.Error) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _is_damage(exc: sqlite3.Error) -> bool:
    """Whether SQLite's error says the file is damaged (not busy, full, read-only or failing)."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    return name.startswith(("SQLITE_CORRUPT", "SQLITE_NOTADB")) or "malformed" in text or "not a database" in text


def _not_a_database(exc: sqlite3.Error) -> bool:
    return (getattr(exc, "sqlite_errorname", "") or "").startswith("SQLITE_NOTADB") or "not a database" in str(exc)


#: Below this much free space an SQLite I/O error is a full disk (SQLite's -shm file alone grows by 32 KiB).
LOW_SPACE = 1024 * 1024


def _free_bytes(path: Path) -> int:
    """Free space on the disk holding ``path``'s folder (-1 when it cannot be told)."""
    try:
        return shutil.disk_usage(path.resolve().parent).free
    except OSError:
        return -1


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _wal_content(path: Path) -> bool:
    """Whether the store's -wal file holds changes not yet in the file itself."""
    wal = path.with_name(path.name + "-wal")
    return wal.is_file() and wal.stat().st_size > 0


def _read_only_reason(path: Path) -> str | None:
    """Why the store may not be written, or ``None``: the user cannot write the file or its folder, or either is
    marked read-only (write permission for no one, as ``chmod 444`` leaves it; a mark themekit keeps even for
    root, whom the system would let write)."""
    folder = path.resolve().parent
    if path.exists():
        mode = path.stat().st_mode
        if not os.access(path, os.W_OK) or not mode & 0o222:
            return f"file mode {stat.S_IMODE(mode):04o}"
    if folder.exists():
        mode = folder.stat().st_mode
        if not os.access(folder, os.W_OK) or not mode & 0o222:
            return f"its folder {folder} is read-only"
    return None


def _status_counts(run: RunRecord) -> dict[str, int]:
    counts = {"transcripts": len(run.corpus.transcripts), "segments": len(run.units), "codings": len(run.codings)}
    for status in STATUSES:
        counts[status] = sum(1 for c in run.codings if c.status == status)
    return counts


def _store_codebook(conn: sqlite3.Connection, codebook: Codebook) -> None:
    """Keep the codebook's snapshot (once per content hash) inside the caller's transaction."""
    conn.execute(
        "INSERT OR IGNORE INTO codebooks (sha256, name, version, yaml, source, first_seen) VALUES (?, ?, ?, ?, ?, ?)",
        (codebook.sha256, codebook.name, codebook.version, codebook.yaml_text(), str(codebook.source or ""), _now()),
    )


def codebook_from_yaml(text: str) -> Codebook:
    """A codebook from a stored snapshot."""
    from themekit.codebook import validate_codebook

    return validate_codebook("codebook.yaml", text=text)


#: Folders (separated by os.pathsep) that the search for a project store does not enter, as GIT_CEILING_DIRECTORIES.
CEILING_ENV = "THEMEKIT_CEILING_DIRECTORIES"


def _upwards(start: Path) -> list[Path]:
    """``start`` and its parents, stopping below any ceiling folder."""
    ceilings = {Path(p).resolve() for p in os.environ.get(CEILING_ENV, "").split(os.pathsep) if p}
    folders = []
    for folder in (start, *start.parents):
        if folder in ceilings:
            break
        folders.append(folder)
    return folders


def find_project(beside: str | Path | None = None, *, cwd: str | Path | None = None) -> Path:
    """The project store to use when none is named, found as git finds its repository: the first
    ``.themekit/project.db`` in the working folder or a folder above it; else the first beside ``beside`` (the
    transcripts) or above it; else a new one in the working folder."""
    here = Path.cwd() if cwd is None else Path(cwd).resolve()
    starts = [here]
    if beside is not None:
        place = Path(beside).resolve()
        starts.append(place if place.is_dir() else place.parent)
    for start in starts:
        for folder in _upwards(start):
            if (folder / DEFAULT_PROJECT).is_file():
                return folder / DEFAULT_PROJECT
    return here / DEFAULT_PROJECT


def project_of_run(run_folder: str | Path, project: str | Path | None = None) -> Path:
    """The project store a run folder's commands use: ``project`` when one is named (not the default); else the
    store the run was recorded in (run.json's ``project``), wherever the command is run from; else the one
    :func:`find_project` finds from the working folder or the run folder. A store that is not there is refused,
    never created empty: a run's decisions live in the store it was recorded in."""
    if project is not None and Path(project) != DEFAULT_PROJECT:
        return Path(project)
    from themekit.runs.folder import read_run_project

    recorded = read_run_project(run_folder)
    if recorded and Path(recorded).is_file():
        return Path(recorded)
    found = find_project(run_folder)
    if found.is_file():
        return found
    where = f"it was recorded in {recorded}, which is not there" if recorded else "no project store was found"
    raise ProjectError(
        f"{run_folder}: {where} (looked in the working folder, beside the run folder and above them). "
        "Give the project the run was coded with as --project PATH, or code the transcripts again.",
        param="project",
    )


def open_project(
    path: str | Path | None = None,
    *,
    wait: float = 30.0,
    beside: str | Path | None = None,
    read_only: bool = False,
) -> Project:
    """Open (or create) the project store at ``path``; without one (or with the default ``.themekit/project.db``),
    the store :func:`find_project` finds from the working folder or ``beside`` (the transcripts). ``read_only``:
    for a command that only reads (see :class:`Project`)."""
    if path is None or Path(path) == DEFAULT_PROJECT:
        path = find_project(beside)
    return Project(path, wait=wait, read_only=read_only)
