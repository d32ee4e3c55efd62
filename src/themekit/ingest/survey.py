"""Survey answers as units: one table of open-ended responses read as one transcript-like unit per row.

A survey export has one row per response: an id (``ResponseId``), the answer,
and other columns (the question, the respondent's group …). Each row with an
answer becomes a :class:`~themekit.models.Transcript` named by its id, whose
one participant turn is the answer and whose attributes are the row's other
columns, so coding, review, agreement and exports treat a response as they
treat an interview. Each response's hash is its answer's, so editing one
answer leaves the decisions on every other answer where they were.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from themekit.errors import CorpusError, OptionError
from themekit.ingest.readers import (
    _TEXT_COLUMNS,
    _find_column,
    _named_column,
    _table,
)
from themekit.ingest.text import Block, build_turns, normalise_text
from themekit.models import Corpus, Transcript
from themekit.util.limits import MAX_FILE_BYTES

__all__ = ["RESPONDENT", "read_responses"]

#: The speaker of every survey answer.
RESPONDENT = "respondent"
#: Answer columns found by name when ``text_column`` is not given (after the transcript tables' names).
_ANSWER_COLUMNS = ("answer", "response", "responses", "comment", "comments")
#: How many bad rows a message lists before it says "and N more".
_SHOWN = 10


def read_responses(
    path: str | Path, *, unit_column: str, text_column: str | None = None, max_bytes: int = MAX_FILE_BYTES
) -> Corpus:
    """A table of survey responses (.csv in any common encoding, or .xlsx) as a corpus of one unit per row.

    ``unit_column`` names each response's id; ``text_column`` its answer (default: a column named text, answer,
    response, comment …). Rows with an empty answer are left out; rows without an id are refused in one message
    listing them; an id already used by an earlier row is a warning, and that answer is coded under the id with
    ``-2`` (``-3`` …) added, so no answer is lost."""
    path = Path(path)
    if not path.is_file() or path.suffix.lower() not in (".csv", ".xlsx"):
        raise OptionError(
            f"{path}: unit_column= reads one table of responses; give its .csv or .xlsx file (not a folder)",
            param="unit_column",
        )
    if path.stat().st_size > max_bytes:
        raise CorpusError(
            f"{path}: is {path.stat().st_size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit. "
            "Split it, or raise the limit with max_file_bytes="
        )
    table = _table(path.read_bytes(), path)
    encoding, notes, names = table.encoding, table.notes, table.columns
    unit_col = _named_column(path, names, unit_column, "unit_column", "response ids")
    text_col = (
        _named_column(path, names, text_column, "text_column", "answers")
        if text_column
        else _find_column(names, (*_TEXT_COLUMNS, *_ANSWER_COLUMNS))
    )
    if text_col is None:
        raise OptionError(
            f"{path}: no answer column found (columns are: {', '.join(names)}); give it as text_column=",
            param="text_column",
        )
    others = [c for c in names if c not in (unit_col, text_col)]
    transcripts, problems, seen = [], [], {}
    for number, record in table.records():
        uid, answer = record[unit_col].strip(), normalise_text(record[text_col]).strip()
        if not answer:
            continue
        if not uid:
            problems.append(f"row {number}: no id in column '{unit_col}'")
            continue
        warnings = [] if transcripts else list(notes)  # how the file was decoded, said once (with the first)
        if uid in seen:
            first, uid = uid, _free_id(uid, seen)
            warnings.append(
                f"row {number}: id '{first}' is already on row {seen[first]}; this answer is coded as '{uid}' "
                f"(give each answer its own id in column '{unit_col}' to name it yourself)"
            )
        seen[uid] = number
        text, turns, _ = build_turns(
            [Block(RESPONDENT, [answer])], fallback_speaker=RESPONDENT, interviewer_labels=frozenset()
        )
        attributes = {c.strip(): record[c].strip() for c in others if record[c].strip()}
        transcripts.append(
            Transcript(
                id=uid,
                source=path,
                sha256=hashlib.sha256(text.encode()).hexdigest(),
                format=path.suffix.lower().lstrip("."),
                encoding=encoding,
                text=text,
                turns=turns,
                attributes=attributes,
                warnings=tuple(warnings),
            )
        )
    if problems:
        more = f"\n  … and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        raise CorpusError(
            f"{path}: {len(problems)} row(s) have no id in column '{unit_col}'. Each response needs an id: "
            "with one row per respondent and question, give one file per question or a column naming each answer:\n"
            + "\n".join(f"  - {p}" for p in problems[:_SHOWN])
            + more,
            param="unit_column",
        )
    if not transcripts:
        raise CorpusError(
            f"{path}: no row has an answer in column '{text_col}'. Give the answers' column as text_column=",
            param="text_column",
        )
    return Corpus(root=path, transcripts=tuple(transcripts))


def _free_id(uid: str, taken: dict[str, int]) -> str:
    """``uid`` with the first suffix ``-2``, ``-3`` … no other response has."""
    n = 2
    while f"{uid}-{n}" in taken:
        n += 1
    return f"{uid}-{n}"
