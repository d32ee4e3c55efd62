"""Edits to a codebook file that keep its comments and layout: merging draft codes, bumping versions.

The YAML is edited round-trip with ruamel.yaml, so a researcher's comments,
key order and quoting survive. Every edit is validated as a whole codebook
before it replaces the file, and the replacement is atomic: a failed merge
leaves the original untouched. A bump or merge holds the codebook's edit lock
(a hidden ``.NAME.lock`` file beside it) from reading to writing, so two at
once take turns and neither update is lost.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from themekit.codebook.book import (
    read_guarded_yaml,
    validate_codebook,
)
from themekit.codebook.schema import CodeSpec
from themekit.errors import (
    CodebookEditError,
    CodebookError,
    CodebookProblem,
    OptionError,
    SuggestionsError,
)
from themekit.util.atomic import atomic_write_text
from themekit.util.choices import choice_error
from themekit.util.yamlfile import line_of, yaml_path

__all__ = ["BumpResult", "MergeResult", "bump_codebook", "bump_version", "merge_drafts", "read_drafts"]

_SEMVER = re.compile(r"^(\d+)\.(\d+)\.(\d+)(?:[-+][0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class MergeResult:
    path: Path
    old_version: str
    new_version: str
    theme: str
    added: tuple[str, ...]
    new_theme: bool


@dataclass(frozen=True)
class BumpResult:
    path: Path
    old_version: str
    new_version: str
    note: str


def bump_version(version: str, part: str = "minor") -> str:
    """``1.2.3`` → ``1.3.0`` (minor), ``2.0.0`` (major) or ``1.2.4`` (patch); pre-release tags are dropped."""
    match = _SEMVER.match(version)
    if not match:
        raise CodebookEditError(f"version {version!r} is not MAJOR.MINOR.PATCH. Fix the codebook's version: line.")
    major, minor, patch = (int(x) for x in match.groups())
    if part == "major":
        return f"{major + 1}.0.0"
    if part == "minor":
        return f"{major}.{minor + 1}.0"
    if part == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise choice_error([part], ("major", "minor", "patch"), what="version part", param="part")


def read_drafts(path: str | Path) -> list[dict[str, Any]]:
    """The draft codes of a ``suggestions.yaml`` (or any file with a ``drafts:`` list), checked against the schema."""
    path = Path(path)
    raw, lines, problems = read_guarded_yaml(path)
    drafts = raw.get("drafts") if isinstance(raw, dict) else None
    if not isinstance(drafts, list):
        raise SuggestionsError(f"{path}: has no 'drafts:' list. Give the suggestions.yaml written by themekit suggest.")
    checked = []
    for i, draft in enumerate(drafts):
        if not isinstance(draft, dict):
            problems.append(
                CodebookProblem(
                    f"drafts[{i}]", "must be a mapping with id, label and definition", line_of(f"drafts[{i}]", lines)
                )
            )
            continue
        spec = {k: v for k, v in draft.items() if k != "topic"}
        try:
            CodeSpec.model_validate(spec)
        except ValidationError as exc:
            for error in exc.errors():
                where = yaml_path(("drafts", i, *error["loc"]))
                problems.append(CodebookProblem(where, error["msg"], line_of(where, lines)))
            continue
        checked.append(spec)
    if problems:
        raise CodebookError(path, problems)
    return checked


def _yaml():
    from ruamel.yaml import YAML

    rt = YAML(typ="rt")
    rt.preserve_quotes = True
    rt.width = 1 << 16  # never re-wrap the researcher's lines
    rt.indent(mapping=2, sequence=4, offset=2)
    return rt


#: Seconds a bump or merge waits for another one editing the same codebook.
LOCK_WAIT = 60.0


@contextmanager
def _editing(path: Path, *, wait: float = LOCK_WAIT) -> Iterator[None]:
    """Hold ``path``'s edit lock (``.NAME.lock`` beside it): concurrent bumps and merges of one codebook take turns."""
    from filelock import FileLock, Timeout

    lock = FileLock(str(path.parent / f".{path.name}.lock"), timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        raise CodebookEditError(
            f"{path}: another themekit is editing this codebook (bump or merge) and did not finish within {wait:.0f} s. "
            "Wait for it to finish and run again."
        ) from None
    except OSError as exc:
        raise CodebookEditError(
            f"{path}: cannot take the codebook's edit lock ({exc.strerror or exc}). Make the codebook's folder writable, "
            "or give the codebook's path in a writable folder."
        ) from None
    try:
        yield
    finally:
        lock.release()


def merge_drafts(
    codebook: str | Path,
    suggestions: str | Path,
    pick: list[str],
    *,
    theme: str,
    theme_label: str | None = None,
    out: str | Path | None = None,
    today: dt.date | None = None,
) -> MergeResult:
    """Add the drafts ``pick`` from ``suggestions`` to ``theme`` of ``codebook``; bump its minor version.

    A theme id that does not exist yet is created when ``theme_label`` is
    given. A changelog entry lists what was added. The result is written to
    ``out`` (default: the codebook file itself) only if it validates.
    """
    with _editing(Path(codebook)):
        return _merge_drafts(
            Path(codebook), suggestions, pick, theme=theme, theme_label=theme_label, out=out, today=today
        )


def _merge_drafts(
    path: Path,
    suggestions: str | Path,
    pick: list[str],
    *,
    theme: str,
    theme_label: str | None,
    out: str | Path | None,
    today: dt.date | None,
) -> MergeResult:
    current = validate_codebook(path)
    drafts = {d["id"]: d for d in read_drafts(suggestions)}
    if not pick:
        raise OptionError(
            f"no drafts picked. Give pick= with ids from {suggestions}: {', '.join(drafts) or '(none)'}.", param="pick"
        )
    unknown = [p for p in pick if p not in drafts]
    if unknown:
        raise OptionError(
            f"{suggestions}: no draft {', '.join(repr(u) for u in unknown)}. Drafts in the file: {', '.join(drafts) or '(none)'}.",
            param="pick",
        )
    taken = {c.id for c in current} | {old for c in current for old in (*c.spec.renamed_from, *c.spec.merged_from)}
    clashes = [p for p in pick if p in taken]
    if clashes:
        raise CodebookEditError(
            f"{path}: already has a code {', '.join(repr(c) for c in clashes)}. "
            f"Give the draft another id in {suggestions} and merge again."
        )
    if len(set(pick)) != len(pick):
        raise OptionError("pick= names a draft twice. Name each draft once.", param="pick")

    rt = _yaml()
    data = rt.load(path.read_text(encoding="utf-8"))
    themes = data["themes"]
    target = next((t for t in themes if t.get("id") == theme), None)
    if target is None and not theme_label:
        raise OptionError(
            f"{path}: no theme {theme!r}. Themes: {', '.join(t.id for t in current.themes)}. "
            f"Pick one, or add theme_label=LABEL to create the theme {theme!r}.",
            param=("theme", "theme_label"),
        )
    created = target is None
    if created:
        from ruamel.yaml.comments import CommentedMap

        target = CommentedMap([("id", theme), ("label", theme_label), ("codes", [])])
        themes.append(target)
    for code_id in pick:
        target["codes"].append(_commented(drafts[code_id]))
    labels = ", ".join(f"{p} ({drafts[p]['label']})" for p in pick)
    change = f"Added draft code{'s' if len(pick) > 1 else ''} from topic suggestions under {theme}: {labels}."
    old, new = _bump_in_place(data, "minor", change, today)
    target_path = _write_validated(rt, data, path, out)
    return MergeResult(target_path, old, new, theme, tuple(pick), created)


def _commented(draft: dict[str, Any]):
    from ruamel.yaml.comments import CommentedMap

    order = [
        "id",
        "label",
        "status",
        "definition",
        "include",
        "exclude",
        "keywords",
        "exclude_keywords",
        "patterns",
        "examples",
        "threshold",
    ]
    keys = [k for k in order if k in draft] + [k for k in draft if k not in order]
    return CommentedMap((k, draft[k]) for k in keys)


def _bump_in_place(data: Any, part: str, change: str, today: dt.date | None) -> tuple[str, str]:
    """Bump ``data``'s version and append a changelog entry; returns (old, new) versions."""
    old = str(data["version"])
    new = bump_version(old, part)
    data["version"] = new
    if "changelog" not in data or data["changelog"] is None:
        data["changelog"] = []
    data["changelog"].append({"version": new, "date": today or dt.date.today(), "changes": [change]})
    return old, new


def _write_validated(rt: Any, data: Any, path: Path, out: str | Path | None) -> Path:
    """Dump the edited YAML, validate it as a whole codebook, then write it atomically (nothing is written on error)."""
    buffer = io.StringIO()
    rt.dump(data, buffer)
    text = buffer.getvalue()
    target_path = Path(out) if out is not None else path
    validate_codebook(path, text=text)  # raises CodebookError naming the problem
    atomic_write_text(target_path, text)
    return target_path


def bump_codebook(
    codebook: str | Path, part: str, note: str, *, out: str | Path | None = None, today: dt.date | None = None
) -> BumpResult:
    """Bump ``codebook``'s version (``major``, ``minor`` or ``patch``) with a changelog entry ``note``.

    Comments and layout are kept; the file (or ``out``) is replaced only once the result validates. Concurrent
    bumps and merges of one codebook take turns (see :func:`_editing`).
    """
    path = Path(codebook)
    with _editing(path):
        validate_codebook(path)
        if not note.strip():
            raise OptionError("the changelog note is empty. Say what changed with note=.", param="note")
        rt = _yaml()
        data = rt.load(path.read_text(encoding="utf-8"))
        old, new = _bump_in_place(data, part, note.strip(), today)
        return BumpResult(_write_validated(rt, data, path, out), old, new, note.strip())
