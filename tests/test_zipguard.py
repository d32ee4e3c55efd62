"""The zip guard: bounded reading of zip entries, shared by the Word reader and the REFI-QDA importer."""

from __future__ import annotations

import io
import zipfile

import pytest

from themekit.util.zipguard import ZipGuard, ZipLimitError


def _zip(entries: dict[str, bytes]) -> zipfile.ZipFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return zipfile.ZipFile(io.BytesIO(buffer.getvalue()))


def test_zipguard_reads_entries_within_the_limits():
    archive = _zip({"a.txt": b"alpha", "b.txt": b"beta" * 1000})
    guard = ZipGuard(archive, max_entries=2, max_total_bytes=5000, max_ratio=100)
    assert guard.read(archive.getinfo("a.txt")) == b"alpha"
    assert guard.read(archive.getinfo("b.txt"), limit=4000) == b"beta" * 1000
    assert guard.read_total == 4005


def test_zipguard_refuses_too_many_entries_unread():
    with pytest.raises(ZipLimitError) as info:
        ZipGuard(_zip({"a": b"", "b": b"", "c": b""}), max_entries=2, max_total_bytes=10)
    assert (info.value.kind, info.value.found, info.value.limit) == ("entries", 3, 2)
    assert info.value.problem == "has 3 entries, more than the 2 allowed; refused unread"


def test_zipguard_refuses_an_entry_by_its_header():
    archive = _zip({"big.txt": b"x" * 3000})
    guard = ZipGuard(archive, max_entries=10, max_total_bytes=10_000)
    with pytest.raises(ZipLimitError) as info:
        guard.read(archive.getinfo("big.txt"), limit=2000, what="the source")
    assert info.value.kind == "size"
    assert (
        info.value.problem
        == "the source (big.txt) unpacks to 3,000 bytes, over the 2,000 bytes allowed; refused unread"
    )
    assert guard.read_total == 0


def test_zipguard_refuses_a_zip_bomb_by_its_compression_ratio():
    archive = _zip({"bomb.txt": b"a" * (4 * 2**20), "small.txt": b"a" * 2**20})
    guard = ZipGuard(archive, max_entries=10, max_total_bytes=2**30, max_ratio=100)
    with pytest.raises(ZipLimitError) as info:
        guard.read(archive.getinfo("bomb.txt"))
    assert info.value.kind == "ratio"
    assert info.value.problem.startswith("bomb.txt would unpack to ")
    assert info.value.problem.endswith(" times its packed size, a sign of a zip bomb; refused unread")
    # entries up to 1 MB pack as tightly as they like; without max_ratio nothing is ratio-checked
    assert len(guard.read(archive.getinfo("small.txt"))) == 2**20
    unchecked = ZipGuard(archive, max_entries=10, max_total_bytes=2**30)
    assert len(unchecked.read(archive.getinfo("bomb.txt"))) == 4 * 2**20


def test_zipguard_counts_every_read_towards_the_total():
    archive = _zip({"a.txt": b"a" * 600, "b.txt": b"b" * 600})
    guard = ZipGuard(archive, max_entries=10, max_total_bytes=1000)
    guard.read(archive.getinfo("a.txt"))
    with pytest.raises(ZipLimitError) as info:
        guard.read(archive.getinfo("b.txt"))
    assert info.value.kind == "total"
    assert info.value.problem == "unpacks to more than 1,000 bytes in all; refused"
    with pytest.raises(
        ZipLimitError, match="unpacks to 1,200 bytes, more than the 1,000 bytes allowed; refused unread"
    ):
        guard.check_declared_total()


class _LyingArchive:
    """An archive whose one entry's header says 10 bytes while it unpacks to a megabyte."""

    def __init__(self) -> None:
        self.info = zipfile.ZipInfo("liar.txt")
        self.info.file_size = 10
        self.info.compress_size = 10

    def infolist(self) -> list[zipfile.ZipInfo]:
        return [self.info]

    def open(self, info: zipfile.ZipInfo) -> io.BytesIO:
        return io.BytesIO(b"x" * 2**20)


def test_zipguard_stops_reading_an_entry_that_unpacks_beyond_its_header():
    archive = _LyingArchive()
    guard = ZipGuard(archive, max_entries=10, max_total_bytes=10_000)  # type: ignore[arg-type]
    with pytest.raises(ZipLimitError) as info:
        guard.read(archive.info, limit=100)
    assert info.value.kind == "overrun"
    assert info.value.found == 101  # read one byte past the limit, no further
    assert info.value.problem == "liar.txt unpacks to more than its header says and over the 100 bytes allowed; refused"
    with pytest.raises(ZipLimitError) as info:
        guard.read(archive.info)
    assert info.value.kind == "total"
    assert guard.read_total == 0
