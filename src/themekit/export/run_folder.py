"""The run folder, written atomically: nothing half-written is ever left behind."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from .._version import __version__
from ..errors import RunFolderError
from ..pipeline import Run
from .markdown import summary_markdown

__all__ = ["RUN_SCHEMA_VERSION", "atomic_write_text", "check_run_folder", "run_record", "write_run"]

RUN_SCHEMA_VERSION = 1


def check_run_folder(out: str | Path, *, force: bool = False) -> Path:
    """Refuse to replace an existing run unless ``force``; returns the folder path."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise RunFolderError(f"{out}: exists and is not a folder. Choose another --out path.")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise RunFolderError(
            f"{out}: a run folder already exists there. Choose a new --out path, or add --force to replace it."
        )
    return out


def run_record(run: Run, *, timings: dict[str, float] | None = None, outputs: list[str] | None = None) -> dict[str, Any]:
    """What ``run.json`` holds: enough to reproduce and audit the run."""
    seg_counts: dict[str, int] = {}
    for s in run.segments:
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
            "segments": len(run.segments),
            "codings": len(run.codings),
            "codes_used": len({c.code_id for c in run.codings}),
        },
        "stats": run.stats,
        "timings_seconds": {k: round(v, 4) for k, v in {**run.timings, **(timings or {})}.items()},
        "outputs": outputs or [],
    }


def write_run(run: Run, out: str | Path, *, force: bool = False) -> Path:
    """Write excerpts.csv, excerpts.parquet, summary.md and run.json into ``out``.

    Files are written into a hidden temporary folder beside ``out`` which is
    renamed into place at the end, so an interrupted run leaves no partial
    folder and an existing run is only replaced (with ``force``) once the new
    one is complete.
    """
    out = check_run_folder(out, force=force)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        excerpts = run.excerpts
        excerpts.to_csv(tmp / "excerpts.csv", index=False, encoding="utf-8")
        excerpts.to_parquet(tmp / "excerpts.parquet", index=False)
        run.segments_frame.to_parquet(tmp / "segments.parquet", index=False)
        _write_codebook(run, tmp / "codebook.yaml")
        timings["export:excerpts"] = time.perf_counter() - started
        started = time.perf_counter()
        (tmp / "summary.md").write_text(summary_markdown(run), encoding="utf-8")
        timings["summarize+export:summary"] = time.perf_counter() - started
        outputs = ["excerpts.csv", "excerpts.parquet", "segments.parquet", "codebook.yaml", "summary.md", "run.json"]
        record = run_record(run, timings=timings, outputs=outputs)
        (tmp / "run.json").write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        _swap_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _write_codebook(run: Run, path: Path) -> None:
    """The codebook as it was for this run, so the folder stands on its own."""
    import yaml

    source = run.codebook.source
    if source is not None and source.is_file():
        from ..codebook import Codebook

        try:
            if Codebook.load(source).sha256 == run.codebook.sha256:
                shutil.copyfile(source, path)
                return
        except Exception:  # edited since loading: fall back to the loaded content
            pass
    data = run.codebook.spec.model_dump(mode="json", exclude_defaults=True)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def atomic_write_text(path: Path, text: str) -> Path:
    """Write a file via a temporary sibling and a rename: never half-written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _swap_into_place(tmp: Path, out: Path) -> None:
    if out.is_dir():
        old = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.old"
        os.replace(out, old)
        try:
            os.replace(tmp, out)
        except BaseException:
            os.replace(old, out)
            raise
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)
