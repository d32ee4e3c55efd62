"""Several coders on one study: what each coder decided per quote, their disagreements, and reconciling them.

Every coder's decisions are kept under their name (an import never touches
another coder's). Per quote (a segment a review sheet showed) and code, a
coder *gives* the code (accept, add, change to it) or *does not* (reject,
change from it, or decide other rows of the same quote and leave this code
out: a coder who decided any row of a quote is taken to have read it). A
quote only some coders decided is *missing* for the others, not "no code".

Where coders who read a quote differ on a code, the reconcile sheet lists
it: the quote, the code, each coder's decision, and a ``final_decision``
column (accept: the code is given; reject: it is not). Importing the filled
sheet (``themekit review import FILE --coder NAME``) records the final
decisions, which later runs apply over every coder's own.
"""

from __future__ import annotations

import csv
import hashlib
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

from themekit.errors import OptionError, ReviewSheetError
from themekit.review.sheets import (
    ReviewImport,
    _item_id,
    _read_sheet,
    _same_text,
    _short,
)
from themekit.store.consensus import QuoteDecisions, coder_quotes, gives
from themekit.store.db import Decision, Project

if TYPE_CHECKING:
    from themekit.runs.record import RunRecord

__all__ = ["RECONCILE_COLUMNS", "disagreements", "export_reconcile", "import_reconcile", "is_reconcile_sheet"]

#: The reconciler's column; a sheet with it is a reconcile sheet.
FINAL = "final_decision"
#: Columns of a reconcile sheet before the coders' columns, and after them.
RECONCILE_COLUMNS = ("id", "transcript", "quote", "code", "code_label")
_AFTER = (FINAL, "note")
_FINAL_WORDS = {
    "accept": "accept",
    "accepted": "accept",
    "yes": "accept",
    "give": "accept",
    "reject": "reject",
    "rejected": "reject",
    "no": "reject",
    "drop": "reject",
}


def _said(decision: Decision | None, code: str) -> str:
    """What a coder's cell on the reconcile sheet says."""
    if decision is None:
        return "not given (decided other rows of this quote)"
    if decision.decision == "change":
        what = f"change to {decision.new_code}" if decision.new_code != code else f"change from {decision.code}"
    else:
        what = decision.decision
    verdict = "given" if gives(decision, code) else "not given"
    return f"{verdict}: {what}" + (f" ({decision.note})" if decision.note else "")


def disagreements(quotes: list[QuoteDecisions]) -> list[dict[str, Any]]:
    """One row per (quote, code) the coders decided differently: the quote, the code, each coder's decision
    (``coders``: coder → cell text) and the final decision so far ('' before reconciliation)."""
    rows = []
    for q in quotes:
        for code in q.disputed():
            by = q.decided[code]
            final = q.final.get(code)
            rows.append(
                {
                    "id": _item_id(q.transcript, q.transcript_sha256, q.start, q.end, code),
                    "transcript": q.transcript,
                    "transcript_sha256": q.transcript_sha256,
                    "start": q.start,
                    "end": q.end,
                    "quote": q.quote,
                    "code": code,
                    "coders": {c: _said(by.get(c), code) for c in sorted(q.readers)},
                    FINAL: final.decision if final else "",
                    "note": final.note if final else "",
                }
            )
    return rows


def export_reconcile(project: Project, path: str | Path, *, run: RunRecord | str | int | None = None) -> int:
    """Write the reconcile sheet (``.xlsx`` or ``.csv``) of a recorded run (default: the latest): every
    disagreement between coders, with a final decision to fill (already reconciled ones show theirs).
    Returns the number of rows."""
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise OptionError(
            f"{path}: a reconcile sheet is .xlsx or .csv. Give a file name ending in one of them.", param="path"
        )
    key = project.run_key(run)
    rows = disagreements(coder_quotes(project, key))
    book_sha = next(r["codebook_sha256"] for r in project.runs() if r["id"] == key)
    labels = {c.id: c.label for c in project.codebook(book_sha)}
    coders = sorted({c for r in rows for c in r["coders"]})
    project.add_review_items(
        [
            {k: r[k] for k in ("id", "transcript", "transcript_sha256", "start", "end", "quote", "code")}
            | {"run": key, "codebook_sha256": book_sha}
            for r in rows
        ]
    )
    header = [*RECONCILE_COLUMNS, *coders, *_AFTER]
    table = [
        [
            r["id"],
            r["transcript"],
            r["quote"],
            r["code"],
            labels.get(r["code"], ""),
            *(r["coders"].get(c, "(did not decide this quote)") for c in coders),
            r[FINAL],
            r["note"],
        ]
        for r in rows
    ]
    from themekit.util.atomic import atomic_write_bytes

    atomic_write_bytes(path, _xlsx(header, table) if path.suffix.lower() == ".xlsx" else _csv(header, table))
    return len(rows)


def _safe(value: Any) -> Any:
    from themekit.util.sanitize import spreadsheet_safe, xml_safe

    return spreadsheet_safe(xml_safe(value)) if isinstance(value, str) else value


def _csv(header: list[str], table: list[list[Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_safe(v) for v in row] for row in table)
    return buffer.getvalue().encode("utf-8")


def _xlsx(header: list[str], table: list[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = "reconcile"
    sheet.append(header)
    for row in table:
        sheet.append([_safe(v) for v in row])
    for k, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(k)].width = {"id": 18, "quote": 60, "note": 30}.get(name, 22)
        sheet.cell(row=1, column=k).font = Font(bold=True)
    for cells in sheet.iter_rows(min_row=2):
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    last = max(2, len(table) + 1)
    col = get_column_letter(header.index(FINAL) + 1)
    for (cell,) in sheet[f"{col}2:{col}{last}"]:
        cell.fill = PatternFill("solid", fgColor="FFF2CC")
    choice = DataValidation(
        type="list",
        formula1='"accept,reject"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=FINAL,
        error="Choose accept (the code is given) or reject (it is not).",
    )
    choice.add(f"{col}2:{col}{last}")
    sheet.add_data_validation(choice)
    sheet.freeze_panes = "B2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def is_reconcile_sheet(path: str | Path) -> bool:
    """Whether ``path`` is a reconcile sheet (it has a final_decision column), not a review sheet."""
    path = Path(path)
    if not path.is_file() or path.suffix.lower() not in (".csv", ".xlsx"):
        return False
    try:
        _read_sheet(path, required=("id", FINAL))
    except ReviewSheetError:
        return False
    return True


def import_reconcile(path: str | Path, project: Project, *, coder: str) -> ReviewImport:
    """Record the final decisions of a filled reconcile sheet, made by ``coder``; bad rows are listed in the
    result and left out, the good rows recorded together. A final decision already recorded is not recorded twice."""
    path = Path(path)
    coder = coder.strip()
    if not coder:
        raise OptionError("coder= is empty. Give the name of who reconciled, e.g. coder=alex.", param="coder")
    rows = _read_sheet(path, required=("id", "quote", "code", FINAL, "note"))
    result = ReviewImport(path, coder, final=True)
    items = project.review_items(cells["id"] for _, cells in rows if cells.get("id"))
    latest = project.latest_decisions(items, None, final=True)
    good = []
    for number, cells in rows:
        word = cells.get(FINAL, "").casefold()
        note = cells.get("note", "").removeprefix("'")
        if not word:
            result.blank += 1
            continue
        item = items.get(cells.get("id", ""))
        problem = _check(cells, word, item, project)
        if problem:
            result.problems.append((number, problem))
            continue
        decision = _FINAL_WORDS[word]
        if latest.get(item["id"]) == (decision, None, note):  # type: ignore[index]
            result.unchanged += 1
            continue
        good.append(
            (
                number,
                {
                    **{k: item[k] for k in ("transcript", "transcript_sha256", "start", "end", "quote", "code")},  # type: ignore[index]
                    "decision": decision,
                    "note": note,
                    "item": item["id"],
                },
            )
        )  # type: ignore[index]
    good = _without_contradictions(good, result)
    for record in good:
        result.counts[record["decision"]] += 1
    if good:
        project.add_decisions(
            good,
            coder=coder,
            source=str(path.resolve()),
            source_sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
            counts={**result.counts, "problems": len(result.problems)},
            final=True,
        )
    return result


def _without_contradictions(rows: list[tuple[int, dict[str, Any]]], result: ReviewImport) -> list[dict[str, Any]]:
    """The final decisions no other row of the sheet contradicts, each once; rows that accept and reject one code
    of one quote are all listed in ``result.problems`` and none of them is recorded."""
    by_item: dict[str, list[tuple[int, dict[str, Any]]]] = {}
    for number, record in rows:
        by_item.setdefault(record["item"], []).append((number, record))
    kept = []
    for same in by_item.values():
        if len({record["decision"] for _, record in same}) > 1:
            listed = ", ".join(str(number) for number, _ in same)
            first = same[0][1]
            for number, _ in same:
                result.problems.append(
                    (
                        number,
                        f"rows {listed} give code {first['code']!r} of the same quote in {first['transcript']} both "
                        "final decisions (accept and reject); keep the one you mean and import again",
                    )
                )
            continue
        kept.append(same[-1][1])  # the same decision twice: recorded once, with the last row's note
    return kept


def _check(cells: dict[str, str], word: str, item: dict[str, Any] | None, project: Project) -> str | None:
    """Why a reconcile row cannot be recorded, or ``None``."""
    if item is None:
        return f"id {cells.get('id', '')!r} is not from a reconcile sheet exported from this project ({project.path}); keep the id column themekit wrote"
    if word not in _FINAL_WORDS:
        return f"{FINAL} {cells.get(FINAL)!r} is not accept (the code is given) or reject (it is not)"
    if not (_same_text(cells.get("quote", ""), item["quote"]) and cells.get("code", "") in ("", item["code"])):
        return (
            f'id {item["id"]} names {item["transcript"]} "{_short(item["quote"])}" and code {item["code"]}, but this row shows '
            f'"{_short(cells.get("quote", ""))}" and code {cells.get("code") or "(none)"}: has the id column shifted? '
            "Copy the row's id back from the exported sheet"
        )
    return None
