"""Fitted models on disk, keyed by everything a fit depends on.

A classifier's fit is a pure function of its inputs: the feature matrices,
the labels, the cross-validation splits, the model's settings and the
scikit-learn version. :class:`FitCache` keys each fit by the sha256 of those
and keeps what the fit gave (plain arrays in a ``.npz`` file, no pickles), so
re-running a study with the same human codings reads each code's model back
instead of training it again, and gives the same codings to the last digit.
Any change to the transcripts, the codebook, the human codings or the
settings changes the key, and that code is trained afresh.
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from themekit.util.atomic import atomic_write_bytes

__all__ = ["FitCache", "digest_arrays"]


def digest_arrays(parts: Iterable[Any]) -> str:
    """The sha256 of a sequence of arrays, sparse matrices, strings and numbers, each with its shape and type."""
    digest = hashlib.sha256()
    for part in parts:
        if hasattr(part, "indptr"):  # a scipy CSR/CSC matrix: its three arrays and its shape
            part = part.tocsr()
            digest.update(f"sparse{part.shape}".encode())
            for array in (part.data, part.indices, part.indptr):
                digest.update(_array_bytes(array))
        elif isinstance(part, np.ndarray):
            digest.update(_array_bytes(part))
        else:
            digest.update(repr(part).encode())
        digest.update(b"\x00")
    return digest.hexdigest()


def _array_bytes(array: np.ndarray) -> bytes:
    array = np.ascontiguousarray(array)
    return f"{array.dtype.str}{array.shape}".encode() + array.tobytes()


class FitCache:
    """Fits as named arrays in ``directory``, one ``<key>.npz`` each; ``hits`` and ``misses`` count look-ups."""

    def __init__(self, directory: str | os.PathLike) -> None:
        self.directory = Path(directory)
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> dict[str, np.ndarray | None] | None:
        """The arrays stored under ``key`` (an array stored as ``None`` comes back as ``None``), or ``None``."""
        path = self.directory / f"{key}.npz"
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays: dict[str, np.ndarray | None] = {name: stored[name] for name in stored.files}
        except (OSError, ValueError, zipfile.BadZipFile):  # none yet, or a damaged entry: the fit (re)writes it
            self.misses += 1
            return None
        for name in [n for n in arrays if n.endswith("__none")]:
            del arrays[name]
            arrays[name.removesuffix("__none")] = None
        self.hits += 1
        return arrays

    def put(self, key: str, arrays: dict[str, np.ndarray | None]) -> None:
        """Store ``arrays`` under ``key``, atomically; a cache that cannot be written is left alone."""
        stored = {(f"{name}__none" if value is None else name): (np.zeros(0) if value is None else value)
                  for name, value in arrays.items()}  # fmt: skip
        buffer = io.BytesIO()
        np.savez(buffer, **stored)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.directory / f"{key}.npz", buffer.getvalue())
        except OSError:
            pass  # a read-only or full disk costs the next run a fit, nothing else

    def stats(self) -> dict[str, Any]:
        """Where the fits are and how the look-ups went, as run.json reports them."""
        return {"path": str(self.directory), "hits": self.hits, "misses": self.misses}
