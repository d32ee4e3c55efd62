"""Atomic writes: a file or a folder appears complete, or not at all.

Every file themekit writes goes through here: the content is written to a
hidden temporary sibling (``.NAME.<random>.partial``, in the same folder so the
final rename stays on one file system), optionally checked, and renamed into
place. A folder is built the same way and swapped in, so an existing one is
only replaced once its successor is complete.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from themekit.errors import RunFolderError

__all__ = ["atomic_write_bytes", "atomic_write_text", "built_folder", "replace_folder"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes, *, check: Callable[[Path], None] | None = None) -> Path:
    """Write ``data`` to ``path`` via a temporary sibling and a rename: never half-written.

    ``check(temporary_path)``, when given, runs on the complete temporary file
    before the rename; whatever it raises leaves ``path`` as it was.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    except OSError as exc:
        raise RunFolderError(f"{path}: cannot write here ({exc.strerror}). Choose another path.") from None
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        if check is not None:
            check(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str, *, check: Callable[[Path], None] | None = None) -> Path:
    """Write UTF-8 ``text`` (line endings as given) via a temporary sibling and a rename."""
    return atomic_write_bytes(path, text.encode("utf-8"), check=check)


@contextmanager
def built_folder(out: str | Path) -> Iterator[Path]:
    """A hidden temporary folder beside ``out`` to fill; on success it replaces ``out``, on any error it is removed."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=out.parent))
    try:
        yield tmp
        replace_folder(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def replace_folder(tmp: Path, out: Path) -> None:
    """Move the complete folder ``tmp`` to ``out``; an existing ``out`` is put back if the move fails."""
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
