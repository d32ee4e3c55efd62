"""Every size and count limit themekit puts on what it reads, in one place.

Each limit guards against a file that is damaged, crafted or simply not
what it claims to be; real transcripts, codebooks and projects stay far
below them. Code reads them from this module when it runs (``limits.NAME``),
so a test can lower one by patching it here.
"""

from __future__ import annotations

__all__ = [
    "MAX_CODEBOOK_BYTES",
    "MAX_COMPRESSION_RATIO",
    "MAX_DOCX_BYTES",
    "MAX_FILE_BYTES",
    "MAX_PROJECT_BYTES",
    "MAX_PROJECT_TOTAL_BYTES",
    "MAX_ZIP_ENTRIES",
    "MB",
    "RATIO_CHECKED_FROM_BYTES",
    "RATIO_FREE_TOTAL_BYTES",
    "format_size",
]

#: One megabyte as the limits count it (2**20 bytes).
MB = 2**20

#: A transcript file larger than this is refused (``max_file_bytes=``; ``--max-file-mb`` on the command
#: line); so is one source text of a REFI-QDA project.
MAX_FILE_BYTES = 50 * MB
#: A codebook file larger than this is refused before it is parsed: a themekit YAML codebook, or a
#: REFI-QDA codebook (.qdc) to import. Imported codebooks with long memos need the room.
MAX_CODEBOOK_BYTES = 20 * MB

#: A zip archive (a Word .docx, a REFI-QDA .qdpx) with more entries than this is refused unread.
MAX_ZIP_ENTRIES = 10_000
#: An entry of a REFI-QDA archive that unpacks to more than this many times its packed size is a zip bomb.
MAX_COMPRESSION_RATIO = 100
#: Entries up to this size are not held to the compression ratio (small XML parts pack very tightly).
RATIO_CHECKED_FROM_BYTES = 1 * MB
#: A REFI-QDA archive may unpack to this much in all before everything read from it (an entry read twice counts
#: twice) is held to MAX_COMPRESSION_RATIO times the archive's packed entries.
RATIO_FREE_TOTAL_BYTES = 32 * MB
#: A Word document whose parts unpack to more than this in all is refused before it is unpacked.
MAX_DOCX_BYTES = 200 * MB
#: project.qde of a REFI-QDA project larger than this (unpacked) is refused.
MAX_PROJECT_BYTES = 200 * MB
#: Everything read from one REFI-QDA archive (project.qde and the text sources) together.
MAX_PROJECT_TOTAL_BYTES = 1024 * MB


def format_size(n: int) -> str:
    """``52428800`` → ``50 MB``; ``1572864`` → ``1.5 MB``; sizes under a megabyte in bytes (``4,000 bytes``)."""
    return f"{n / MB:,.1f} MB".replace(".0 MB", " MB") if n >= MB else f"{n:,} bytes"
