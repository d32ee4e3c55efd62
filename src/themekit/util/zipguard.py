"""Reading zip archives (Word documents, REFI-QDA projects) without trusting their headers.

A :class:`ZipGuard` refuses an archive with too many entries, and reads one
entry at a time: refused unread when its header says it is too large or packed
suspiciously tightly, and read in chunks that stop just past what is allowed,
so an entry that unpacks to more than its header says cannot overrun the
limit either. Everything read from one archive counts towards a total.
Limits it breaks raise :class:`ZipLimitError`; callers put its ``problem``
into their own error, with the file and the fix. Errors of the archive
itself (damaged, encrypted) are zipfile's and reach the caller as they are.
"""

from __future__ import annotations

import zipfile

from themekit.errors import ZipLimitError
from themekit.util import limits
from themekit.util.limits import format_size

__all__ = ["ZipGuard", "ZipLimitError"]

_CHUNK = limits.MB


class ZipGuard:
    """Bounded reading of an open zip archive's entries.

    ``max_total_bytes`` bounds everything :meth:`read` returns together (and
    each entry, unless a smaller limit is given); ``max_ratio`` (optional)
    bounds how many times its packed size an entry above
    :data:`~themekit.util.limits.RATIO_CHECKED_FROM_BYTES` may unpack to, and
    how many times the archive's packed entries everything read together may
    come to past :data:`~themekit.util.limits.RATIO_FREE_TOTAL_BYTES` (small
    entries, or one entry read many times, cannot add up to a bomb).
    """

    def __init__(
        self, archive: zipfile.ZipFile, *, max_entries: int, max_total_bytes: int, max_ratio: int | None = None
    ) -> None:
        self.archive = archive
        self.infos = archive.infolist()
        if len(self.infos) > max_entries:
            raise ZipLimitError(
                "entries",
                f"has {len(self.infos):,} entries, more than the {max_entries:,} allowed; refused unread",
                found=len(self.infos),
                limit=max_entries,
            )
        self.max_total_bytes = max_total_bytes
        self.max_ratio = max_ratio
        self.read_total = 0
        packed = sum(max(info.compress_size, 1) for info in self.infos)
        #: what everything read may come to before the archive counts as a zip bomb (``None``: no ratio is kept)
        self.ratio_total = None if max_ratio is None else max(limits.RATIO_FREE_TOTAL_BYTES, max_ratio * packed)

    def check_declared_total(self) -> None:
        """Refuse the archive when its entries' headers add up to more than the total: for readers that unpack it all."""
        declared = sum(info.file_size for info in self.infos)
        if declared > self.max_total_bytes:
            raise ZipLimitError(
                "total",
                f"unpacks to {format_size(declared)}, more than the {format_size(self.max_total_bytes)} allowed; refused unread",
                found=declared,
                limit=self.max_total_bytes,
            )

    def read(self, info: zipfile.ZipInfo, *, limit: int | None = None, what: str = "") -> bytes:
        """One entry's bytes, at most ``limit`` (default: the total); ``what`` names it in messages (``source 'x' (Sources/x.txt)``)."""
        limit = self.max_total_bytes if limit is None else limit
        label = f"{what} ({info.filename})" if what else info.filename
        self._check_header(info, limit, label)
        remaining = self.max_total_bytes - self.read_total
        bomb = self.ratio_total - self.read_total if self.ratio_total is not None else remaining
        if min(info.file_size, limit) > bomb and bomb < remaining:
            self._refuse_total_ratio(info.file_size)
        cap = min(limit, remaining, bomb)
        data = _read_at_most(self.archive, info, cap + 1)
        if len(data) > cap:
            if cap == bomb and bomb < min(limit, remaining):
                self._refuse_total_ratio(len(data))
            if cap == remaining:
                raise ZipLimitError(
                    "total",
                    f"unpacks to more than {format_size(self.max_total_bytes)} in all; refused",
                    found=self.read_total + len(data),
                    limit=self.max_total_bytes,
                )
            raise ZipLimitError(
                "overrun",
                f"{label} unpacks to more than its header says and over the {format_size(limit)} allowed; refused",
                found=len(data),
                limit=limit,
            )
        self.read_total += len(data)
        return data

    def _refuse_total_ratio(self, more: int) -> None:
        packed = max(sum(info.compress_size for info in self.infos), 1)
        raise ZipLimitError(
            "total_ratio",
            f"would unpack to more than {(self.read_total + more) // packed:,} times its packed size in all "
            f"({format_size(packed)} packed; an entry read again counts again), a sign of a zip bomb; refused",
            found=self.read_total + more,
            limit=self.ratio_total or 0,
        )

    def _check_header(self, info: zipfile.ZipInfo, limit: int, label: str) -> None:
        if info.file_size > limit:
            raise ZipLimitError(
                "size",
                f"{label} unpacks to {format_size(info.file_size)}, over the {format_size(limit)} allowed; refused unread",
                found=info.file_size,
                limit=limit,
            )
        packed = max(info.compress_size, 1)
        if (
            self.max_ratio is not None
            and info.file_size > limits.RATIO_CHECKED_FROM_BYTES
            and info.file_size > self.max_ratio * packed
        ):
            raise ZipLimitError(
                "ratio",
                f"{label} would unpack to {info.file_size // packed:,} times its packed size, a sign of a zip bomb; refused unread",
                found=info.file_size // packed,
                limit=self.max_ratio,
            )


def _read_at_most(archive: zipfile.ZipFile, info: zipfile.ZipInfo, size: int) -> bytes:
    """Up to ``size`` bytes of an entry, unpacked a chunk at a time; the whole entry when it is smaller."""
    chunks: list[bytes] = []
    got = 0
    with archive.open(info) as fh:
        while got < size:
            chunk = fh.read(min(_CHUNK, size - got))
            if not chunk:
                break
            chunks.append(chunk)
            got += len(chunk)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
