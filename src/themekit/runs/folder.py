"""The run folder: its data files written atomically, and read back into a :class:`~themekit.runs.record.Run`.

This is the one reader of run folders. :func:`themekit.export.write_run` adds
the summary (summary.md) to what :func:`write_run_folder` writes."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from themekit._version import __version__
from themekit.codebook import Codebook
from themekit.errors import ProjectError, RunFolderError
from themekit.models import Coding, Corpus, Segment, SourceMap, Transcript, Turn
from themekit.runs.record import RunRecord
from themekit.util.atomic import built_folder, folder_lock, recover_folder
from themekit.util.gcpause import paused_gc
from themekit.util.sanitize import safe_frame

__all__ = [
    "RUN_SCHEMA_VERSION",
    "check_run_folder",
    "read_run",
    "read_run_id",
    "read_run_project",
    "run_record",
    "write_run_folder",
]

#: The data files of a run folder, in the order they are written; extra files (summary.md) follow, run.json last.
DATA_FILES = ("excerpts.csv", "excerpts.parquet", "segments.parquet", "transcripts.parquet", "codebook.yaml")

RUN_SCHEMA_VERSION = 1


def check_run_folder(out: str | Path, *, force: bool = False) -> Path:
    """Refuse to replace an existing run unless ``force``; returns the folder path."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"{out}: exists and is not a folder. Choose another out= path.", param="out")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise RunFolderError(
            f"{out}: a run folder already exists there. Choose a new out= path, or add force=True to replace it.",
            param=("out", "force"),
        )
    return out


def run_record(
    run: RunRecord, *, timings: dict[str, float] | None = None, outputs: list[str] | None = None
) -> dict[str, Any]:
    """What ``run.json`` holds: enough to reproduce and audit the run."""
    seg_counts: dict[str, int] = {}
    for s in run.units:
        seg_counts[s.transcript.id] = seg_counts.get(s.transcript.id, 0) + 1
    cb = run.codebook
    return {
        "schema_version": RUN_SCHEMA_VERSION,
        "themekit_version": __version__,
        "run_id": run.id,
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "codebook": {
            "name": cb.name,
            "version": cb.version,
            "sha256": cb.sha256,
            "path": str(cb.source) if cb.source else None,
            "codes": len(cb),
        },
        "transcripts": [
            {
                "id": t.id,
                "participant": t.participant,
                "path": str(t.source),
                "format": t.format,
                "encoding": t.encoding,
                "sha256": t.sha256,
                "words": t.word_count,
                "turns": len(t.turns),
                "participant_turns": len(t.participant_turns),
                "speakers": sorted({f"{turn.speaker} ({turn.role})" for turn in t.turns}),
                "segments": seg_counts.get(t.id, 0),
                "attributes": t.attributes,
                "warnings": list(t.warnings),
            }
            for t in run.corpus
        ],
        "failures": [{"path": str(p), "reason": reason} for p, reason in run.corpus.failures],
        "settings": run.settings,
        "counts": {
            "transcripts": len(run.corpus.transcripts),
            "failed": len(run.corpus.failures),
            "segments": len(run.units),
            "codings": len(run.codings),
            "codes_used": len({c.code_id for c in run.codings}),
        },
        "stats": run.stats,
        "timings_seconds": {k: round(v, 4) for k, v in {**run.timings, **(timings or {})}.items()},
        "outputs": outputs or [],
        # the project store the run is recorded in: the review commands and the web app open this one
        **({"project": str(Path(run.project.path).resolve())} if run.project is not None else {}),
    }


def write_run_folder(
    run: RunRecord,
    out: str | Path,
    *,
    force: bool = False,
    extra: Mapping[str, tuple[str, Callable[[], str]]] | None = None,
) -> Path:
    """Write the run's data files and run.json into ``out``, with ``extra`` files: ``{name: (timing key, make text)}``.

    Files are written into a hidden temporary folder beside ``out`` which is
    renamed into place at the end, so an interrupted run leaves no partial
    folder and an existing run is only replaced (with ``force``) once the new
    one is complete. A run coded with a project store is recorded there.
    """
    with folder_lock(out):  # the check and the swap under one lock: a second writer refuses, never replaces
        recover_folder(out)
        out = check_run_folder(out, force=force)
        with built_folder(out) as tmp, paused_gc():
            _write_files(run, tmp, extra or {})
    if run.project is not None:
        try:
            run.project.record_run(run, folder=out)
        except ProjectError as exc:  # the folder is whole: say so, and how to record it once the store can be used
            raise type(exc)(
                f"{exc.message} The run folder {out} is complete but not recorded in the project; "
                f"once the store can be used, record it with: themekit history --record {out}"
            ) from exc
    return out


def _write_files(run: RunRecord, tmp: Path, extra: Mapping[str, tuple[str, Callable[[], str]]]) -> None:
    """The run folder's files, written into ``tmp``."""
    timings: dict[str, float] = {}
    started = time.perf_counter()
    excerpts = run.excerpts
    _spreadsheet_safe_frame(excerpts).to_csv(tmp / "excerpts.csv", index=False, encoding="utf-8")
    excerpts.to_parquet(tmp / "excerpts.parquet", index=False)
    run.segments.to_parquet(tmp / "segments.parquet", index=False)
    _transcripts_frame(run).to_parquet(tmp / "transcripts.parquet", index=False)
    (tmp / "codebook.yaml").write_text(run.codebook.yaml_text(), encoding="utf-8", newline="")
    timings["export:excerpts"] = time.perf_counter() - started
    for name, (timing, make) in extra.items():
        started = time.perf_counter()
        (tmp / name).write_text(make(), encoding="utf-8")
        timings[timing] = time.perf_counter() - started
    record = run_record(run, timings=timings, outputs=[*DATA_FILES, *extra, "run.json"])
    (tmp / "run.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _spreadsheet_safe_frame(frame):
    """The CSV copy for spreadsheets: text that would run as a formula gets a leading apostrophe, in every column
    (code and theme labels, case attributes). The Parquet copy keeps the text exactly."""
    return safe_frame(frame)


def _transcripts_frame(run: RunRecord):
    """Each transcript's normalised text, turns and attributes: the run folder stands alone."""
    import pandas as pd

    return pd.DataFrame(
        [
            {
                "id": t.id,
                "participant": t.participant,
                "source": str(t.source),
                "sha256": t.sha256,
                "format": t.format,
                "encoding": t.encoding,
                "text": t.text,
                "turns": json.dumps([[u.speaker, u.role, u.start, u.end, u.timestamp] for u in t.turns]),
                "attributes": json.dumps(t.attributes, ensure_ascii=False),
                "warnings": json.dumps(list(t.warnings), ensure_ascii=False),
                # [[text_start, source_start, length], ...]: gold files giving source offsets are read with it
                "source_map": json.dumps(t.source_map.to_list(), separators=(",", ":")),
            }
            for t in run.corpus
        ]
    )


def _probability(value: Any) -> float | None:
    """A coding's probability as the Parquet copy holds it: a number, or missing (NaN, None) for none."""
    return None if value is None or value != value else float(value)


def read_run_id(folder: str | Path) -> str:
    """The id of the run in a run folder, from its run.json (without reading the rest)."""
    path = Path(folder) / "run.json"
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["run_id"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RunFolderError(
            f"{folder}: not a themekit run folder ({path.name} missing or unreadable: {exc}). "
            "Give a folder written by 'themekit code', a run id, or a number from 'themekit history'."
        ) from exc


def read_run_project(folder: str | Path) -> str | None:
    """The project store a run folder's run.json says the run is recorded in (``None``: none, or no readable
    run.json), without reading the rest."""
    try:
        recorded = json.loads((Path(folder) / "run.json").read_text(encoding="utf-8")).get("project")
    except (OSError, ValueError, AttributeError):
        return None
    return str(recorded) if recorded else None


def read_run(folder: str | Path) -> RunRecord:
    """Load a run folder written by :func:`write_run` back into a :class:`RunRecord`."""
    import pandas as pd

    folder = Path(folder)
    needed = ["run.json", "codebook.yaml", "transcripts.parquet", "segments.parquet", "excerpts.parquet"]
    absent = [name for name in needed if not (folder / name).is_file()]
    if absent:
        raise RunFolderError(
            f"{folder}: not a complete themekit run folder (missing {', '.join(absent)}). "
            "Give a folder written by 'themekit code' (run it again if it came from an older version)."
        )
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    codebook = Codebook.load(folder / "codebook.yaml")
    transcripts = {}
    for row in pd.read_parquet(folder / "transcripts.parquet").to_dict(orient="records"):
        turns = tuple(
            Turn(i, speaker, role, start, end, ts)
            for i, (speaker, role, start, end, ts) in enumerate(json.loads(row["turns"]))
        )
        transcripts[row["id"]] = Transcript(
            id=row["id"],
            source=Path(row["source"]),
            sha256=row["sha256"],
            format=row["format"],
            encoding=row["encoding"],
            text=row["text"],
            turns=turns,
            attributes=json.loads(row["attributes"]),
            warnings=tuple(json.loads(row["warnings"])),
            source_map=SourceMap.from_list(json.loads(row.get("source_map") or "[]")),  # runs written before it: none
            participant=row.get("participant") or row["id"],  # runs written before names: the id
        )
    segments = {}
    for tid, index, turn, start, end in pd.read_parquet(folder / "segments.parquet")[
        ["transcript", "segment", "turn", "start", "end"]
    ].itertuples(index=False):
        segments[(tid, int(index))] = Segment(transcripts[tid], int(index), int(turn), int(start), int(end))
    codings = [
        Coding(
            segments[(r.transcript, int(r.segment))],
            r.code,
            r.theme,
            r.method,
            float(r.score),
            r.evidence,
            r.status,
            bool(r.negated),
            _probability(getattr(r, "probability", None)),  # runs written before the column: none
        )
        for r in pd.read_parquet(folder / "excerpts.parquet").itertuples(index=False)
    ]
    failures = tuple((Path(f["path"]), f["reason"]) for f in record.get("failures", []))
    corpus = Corpus(
        Path(record["transcripts"][0]["path"]).parent if record["transcripts"] else folder,
        tuple(transcripts.values()),
        failures,
    )
    return RunRecord(
        corpus,
        codebook,
        list(segments.values()),
        codings,
        record.get("settings", {}),
        record.get("timings_seconds", {}),
        record.get("stats", {}),
    )
