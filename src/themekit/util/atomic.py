"""Atomic writes: a file or a folder appears complete, or not at all.

Every file themekit writes goes through here: the content is written to a
hidden temporary sibling (``.NAME.<random>.partial``, in the same folder so the
final rename stays on one file system), optionally checked, and renamed into
place. A folder is built the same way and swapped in, so an existing one is
only replaced once its successor is complete: on Linux the two folders change
places in one atomic rename (``renameat2(RENAME_EXCHANGE)``), elsewhere the
old one is moved aside as ``.NAME.<random>.old`` first. Either way, a process
killed at any moment leaves the old folder or the new one at ``NAME``, or the
old one aside, which the next write there (or :func:`recover_folder`) puts
back. Leftovers of killed processes (``.NAME.<pid>-<random>.partial``) are
removed by the next write to ``NAME``. Nothing is ever written to the system's
temporary folder.

:func:`folder_lock` serialises the processes writing one folder: a lock file
``.NAME.lock`` beside it, held with ``flock`` for as long as a run works
towards that folder.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from themekit.errors import RunFolderError

__all__ = [
    "COMPLETED",
    "atomic_write_bytes",
    "atomic_write_text",
    "built_folder",
    "folder_lock",
    "recover_folder",
    "replace_folder",
]

#: Folders this process has swapped into place, in order: what an interrupted command has already written.
COMPLETED: list[Path] = []
_held: dict[Path, tuple[int, int]] = {}  # lock file -> (file descriptor, depth): a process may take its own lock again
_RENAME_EXCHANGE = 2


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
    """A hidden temporary folder beside ``out`` to fill; on success it replaces ``out``, on any error it is removed.

    The folder's lock is held throughout; leftovers of killed writers are cleaned first, and a folder a killed
    swap left aside is put back."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with folder_lock(out):
        recover_folder(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.{os.getpid()}-", suffix=".partial", dir=out.parent))
        try:
            yield tmp
            replace_folder(tmp, out)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise


def replace_folder(tmp: Path, out: Path) -> None:
    """Move the complete folder ``tmp`` to ``out``; an existing ``out`` is exchanged with it in one step where the
    system can, else moved aside first and put back if the move fails. Either way it is then removed."""
    if out.is_dir():
        if _exchange(tmp, out):
            COMPLETED.append(out)
            shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old folder
            return
        old = out.parent / f".{out.name}.{uuid.uuid4().hex[:8]}.old"
        os.replace(out, old)
        try:
            os.replace(tmp, out)
        except BaseException:
            os.replace(old, out)
            raise
        COMPLETED.append(out)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, out)
        COMPLETED.append(out)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic rename (Linux ``renameat2``); False where the system cannot."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd = -100
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), _RENAME_EXCHANGE)
    if done == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EXDEV, errno.EPERM):
        return False  # not supported here (file system, kernel or sandbox): the two-rename way
    raise OSError(code, os.strerror(code), str(b))


def recover_folder(out: str | Path) -> list[str]:
    """Clean up after writers of ``out`` that were killed: an old folder left aside by a killed swap is put back
    when ``out`` is missing, and temporary folders of processes that no longer run are removed. Returns what was
    done, in words."""
    out = Path(out)
    done: list[str] = []
    if not out.parent.is_dir():
        return done
    stem = re.escape(f".{out.name}.")
    aside = sorted(
        (p for p in out.parent.iterdir() if re.fullmatch(stem + r"[0-9a-f]{8}\.old", p.name)),
        key=lambda p: p.stat().st_mtime,
    )
    if aside and not out.exists():
        os.replace(aside.pop(), out)
        done.append(f"{out}: put back the earlier run that an interrupted replacement had moved aside")
    for path in out.parent.iterdir():
        m = re.fullmatch(stem + r"(\d+)-\w+\.partial", path.name)
        if (m and not _alive(int(m.group(1)))) or path in aside:
            shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
            done.append(f"{path}: removed, left by an interrupted run")
    return done


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def folder_lock(out: str | Path) -> Iterator[None]:
    """Hold ``.NAME.lock`` beside ``out`` so only one process writes ``out`` at a time; another process gets a
    :class:`RunFolderError` at once. The lock file is removed on release."""
    import fcntl

    out = Path(out)
    lock = out.parent / f".{out.name}.lock"
    if lock in _held:
        fd, depth = _held[lock]
        _held[lock] = (fd, depth + 1)
        try:
            yield
        finally:
            _held[lock] = (fd, depth)
        return
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = _locked(lock, fcntl)
    except OSError as exc:
        raise RunFolderError(
            f"{out}: cannot write here ({exc.strerror}). Choose another out= path.", param="out"
        ) from None
    if fd is None:
        raise RunFolderError(
            f"{out}: another themekit process is writing this folder (it holds {lock.name}). Wait for it to finish, "
            "or choose another out= path.",
            param="out",
        )
    _held[lock] = (fd, 1)
    try:
        yield
    finally:
        del _held[lock]
        with contextlib.suppress(OSError):
            lock.unlink()  # still locked: a process that opened it meanwhile finds it gone and opens afresh
        os.close(fd)


def _locked(lock: Path, fcntl) -> int | None:
    """A descriptor holding an exclusive lock on the file ``lock`` (None: another process holds it)."""
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666 & ~_umask())
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)  # the holder removed the file between our open and our lock: take the new one
