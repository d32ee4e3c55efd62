"""REFI-QDA: the open exchange standard of NVivo, ATLAS.ti, MAXQDA and QualCoder.

Export a codebook as ``.qdc`` and a run as a ``.qdpx`` project, so people
review the machine's codings in the program they know; import a ``.qdc``
as a themekit codebook, and a ``.qdpx`` project as transcripts, a gold file
of human codings (for ``themekit evaluate``, ``themekit agree`` and the
classifier), a codebook and case attributes::

    from themekit.refi import export_qdc, export_qdpx, import_qdc, import_qdpx
    export_qdpx("runs/r1", "project.qdpx", include_suggested=True)
    result = import_qdpx("coded-in-nvivo.qdpx", "human", codebook="codebooks/ati-keyworker.yaml")

Character positions
-------------------
A ``PlainTextSelection``'s ``startPosition`` and ``endPosition`` count
**Unicode code points** of the source's plain text (the UTF-8 file in
``sources/``, without a byte-order mark), from 0, the end exclusive: the
selected text is ``text[startPosition:endPosition]`` in Python. They are
neither UTF-8 bytes nor UTF-16 code units, so "😀" (one code point, two
UTF-16 units) moves later positions by one, an "é" written as "e" plus a
combining accent by two, and the same "é" precomposed by one.

Why code points: Project.xsd (the release of 18 March 2019, shipped in
``schemas/``) types both attributes as plain ``xsd:integer`` with no
annotation, and the standard's text speaks of character positions in the
plain text; a character of Unicode text is a code point, and that is how
the open implementation reads it: QualCoder, a REFI-QDA member, takes a
selection's text as ``fulltext[startPosition:endPosition]`` of the decoded
UTF-8 source, Python string indices, which count code points. Tools built
on UTF-16 strings (.NET, Java, JavaScript) that count code units instead
disagree only after characters outside the Basic Multilingual Plane, such
as emoji. themekit's own offsets
(``excerpts.csv`` ``start``/``end``, gold ``char_start``/``char_end``) are
Python string indices into the normalised transcript text, so exported
positions are themekit's offsets unchanged and the exported source text is
that normalised text.

On import, a source's text is written as the project holds it, and
positions are moved to the text themekit reads from that file (line endings
unified, Unicode composed, one ``Speaker: speech`` paragraph per turn), so
``gold.csv`` offsets are themekit offsets like every other file of the
project.
"""

from __future__ import annotations

from pathlib import Path

from themekit.errors import RefiError
from themekit.refi.codebook import NO_DESCRIPTION, item_guid
from themekit.refi.exporter import QdpxExport, export_qdc, export_qdpx
from themekit.refi.importer import QdpxImport, import_qdc, import_qdpx
from themekit.refi.standard import (
    CODEBOOK_NS,
    PROJECT_NS,
    THEMEKIT_NAMESPACE,
)

__all__ = [
    "CODEBOOK_NS",
    "NO_DESCRIPTION",
    "PROJECT_NS",
    "SCHEMAS",
    "THEMEKIT_NAMESPACE",
    "QdpxExport",
    "QdpxImport",
    "RefiError",
    "export_qdc",
    "export_qdpx",
    "import_qdc",
    "import_qdpx",
    "item_guid",
]

#: The official REFI-QDA XML schemas shipped with themekit: "codebook" (.qdc) and "project" (project.qde).
SCHEMAS = {
    "codebook": Path(__file__).parent / "schemas" / "Codebook.xsd",
    "project": Path(__file__).parent / "schemas" / "Project.xsd",
}
