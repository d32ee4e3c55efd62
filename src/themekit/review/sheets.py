"""The review round trip: a sheet of suggested codings out, people's decisions back into the project.

A review sheet (xlsx or csv) has one row per coding to review: the quote with
the words around it, the suggested code, its score, its probability (the
chance that a coder gives the code there; none for keyword matches) and evidence, and three
columns for the reviewer: ``decision`` (accept, reject, change, add), ``code``
(the code to give, for change and add) and ``note``. Each row carries an
``id`` that the project recorded when the sheet was written, so a decision is
anchored to the exact transcript version and characters the reviewer read.
The id hashes the transcript's name and content, the characters and the code:
two files with the same text get different ids, and a re-run the same ids.
On import every row's quote and suggested code are compared with the coding
its id names, so a shifted id column is caught, not recorded.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from themekit.errors import OptionError, ReviewSheetError
from themekit.models import STATUSES
from themekit.store.db import DECISIONS, Project
from themekit.util.tables import read_table

if TYPE_CHECKING:
    import pandas as pd

    from themekit.runs.record import RunRecord

__all__ = ["REVIEW_COLUMNS", "ReviewImport", "export_review", "import_review", "review_status"]

#: Columns of a review sheet, in order; the last three are the reviewer's.
REVIEW_COLUMNS = (
    "id",
    "transcript",
    "participant",
    "speaker",
    "before",
    "quote",
    "after",
    "suggested_code",
    "code_label",
    "score",
    "probability",
    "evidence",
    "status",
    "decision",
    "code",
    "note",
)
#: Characters of context shown before and after each quote.
CONTEXT_CHARS = 200
_SYNONYMS = {"accepted": "accept", "rejected": "reject", "changed": "change", "added": "add"}


def _item_id(transcript: str, transcript_sha256: str, start: int, end: int, code: str) -> str:
    """A review row's id: unique per transcript (name and content), characters and code; the same in every run."""
    return hashlib.sha256(f"{transcript}\x00{transcript_sha256}:{start}:{end}:{code}".encode()).hexdigest()[:16]


def _context(text: str, start: int, end: int) -> tuple[str, str]:
    before = text[max(0, start - CONTEXT_CHARS) : start]
    after = text[end : end + CONTEXT_CHARS]
    if start > CONTEXT_CHARS and " " in before:
        before = "…" + before[before.index(" ") + 1 :]
    if end + CONTEXT_CHARS < len(text) and " " in after:
        after = after[: after.rindex(" ")] + "…"
    return " ".join(before.split()), " ".join(after.split())


#: The classifier's probability in its evidence ("; p=0.39"): the sheet has it in its own column.
_RAW_PROBABILITY = re.compile(r";\s*p=\d+(?:\.\d+)?")


def sheet_evidence(evidence: str) -> str:
    """The evidence as the review sheet shows it: what the methods saw, without the classifier's "p=0.39", which
    the sheet's probability column holds."""
    return _RAW_PROBABILITY.sub("", evidence)


def review_rows(run: RunRecord, *, include_reviewed: bool = False) -> list[dict[str, Any]]:
    """One row per coding to review (status ``suggested``; every status with ``include_reviewed``)."""
    labels = {c.id: c.label for c in run.codebook}
    codebook_sha256 = run.codebook.sha256  # hashes the whole codebook: once, not per row
    rows = []
    for c in run.codings:
        if c.status != "suggested" and not include_reviewed:
            continue
        seg, t = c.segment, c.segment.transcript
        before, after = _context(t.text, seg.start, seg.end)
        rows.append(
            {
                "id": _item_id(t.id, t.sha256, seg.start, seg.end, c.code_id),
                "transcript": t.id,
                "participant": t.participant,
                "speaker": seg.speaker,
                "before": before,
                "quote": seg.text,
                "after": after,
                "suggested_code": c.code_id,
                "code_label": labels[c.code_id],
                "score": round(c.score, 3),
                "probability": None if c.probability is None else round(c.probability, 3),
                "evidence": sheet_evidence(c.evidence) + (" (negated)" if c.negated else ""),
                "status": c.status,
                "decision": "",
                "code": "",
                "note": "",
                "_item": {
                    "id": _item_id(t.id, t.sha256, seg.start, seg.end, c.code_id),
                    "transcript": t.id,
                    "transcript_sha256": t.sha256,
                    "start": seg.start,
                    "end": seg.end,
                    "code": c.code_id,
                    "quote": seg.text,
                    "codebook_sha256": codebook_sha256,
                },
            }
        )
    return rows


def export_review(
    run: RunRecord,
    path: str | Path,
    project: Project,
    *,
    include_reviewed: bool = False,
    coder: str | None = None,
    blind: bool = False,
) -> int:
    """Write the review sheet for ``run`` to ``path`` (``.xlsx`` or ``.csv``); returns the number of rows.

    The run must be recorded in ``project`` (``themekit code`` does that), so
    the rows' ids can be traced back when the sheet is imported.
    ``blind=True`` (with ``coder``) writes a sheet for double coding: every coding the machine suggested,
    whatever other coders decided, shown as suggested and with no trace of their decisions; the codings
    ``coder`` already decided are left out unless ``include_reviewed``.
    """
    path = Path(path)
    fmt = path.suffix.lower()
    if fmt not in (".xlsx", ".csv"):
        raise OptionError(
            f"{path}: a review sheet is .xlsx or .csv. Give a file name ending in one of them.", param="path"
        )
    if blind and not (coder or "").strip():
        raise OptionError(
            "a blind sheet is for one coder: give coder=NAME, the name they will import the sheet with", param="coder"
        )
    key = project.run_key(run)
    rows = review_rows(run, include_reviewed=include_reviewed or blind)
    if blind:
        rows = _blind(rows, run, project, coder.strip(), include_reviewed=include_reviewed)  # type: ignore[union-attr]
    project.add_review_items([{**r["_item"], "run": key} for r in rows])
    from themekit.util.atomic import atomic_write_bytes

    data = _xlsx_bytes(rows, run, coder=coder) if fmt == ".xlsx" else _csv_bytes(rows)
    atomic_write_bytes(path, data)
    return len(rows)


#: What a stored decision adds to a coding's evidence (``themekit.store.decisions``), to be hidden on a blind sheet.
_DECIDED = re.compile(
    r"(?:^| \| )(?:accepted|rejected|added|changed) by .+? \d{4}-\d{2}-\d{2}(?:: .*?)?(?=(?: \(negated\))?$)", re.DOTALL
)


def _blind(
    rows: list[dict[str, Any]], run: RunRecord, project: Project, coder: str, *, include_reviewed: bool
) -> list[dict[str, Any]]:
    """The rows of the machine's suggestions only, each shown as suggested and with no other coder's decision;
    without ``include_reviewed``, those ``coder`` has not decided yet."""
    machine = {
        _item_id(c.segment.transcript.id, c.segment.transcript.sha256, c.segment.start, c.segment.end, c.code_id)
        for c in run.codings
        if c.method != "human"
    }
    rows = [r for r in rows if r["id"] in machine]
    if not include_reviewed:
        mine = project.latest_decisions((r["id"] for r in rows), coder)
        rows = [r for r in rows if r["id"] not in mine]
    return [{**r, "status": "suggested", "evidence": _DECIDED.sub("", r["evidence"])} for r in rows]


def _cells(row: dict[str, Any]) -> list[Any]:
    from themekit.util.sanitize import spreadsheet_safe, xml_safe

    return [spreadsheet_safe(xml_safe(v)) if isinstance(v, str) else v for v in (row[c] for c in REVIEW_COLUMNS)]


def _csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REVIEW_COLUMNS)
    writer.writerows(_cells(r) for r in rows)
    return buffer.getvalue().encode("utf-8")


def _xlsx_bytes(rows: list[dict[str, Any]], run: RunRecord, *, coder: str | None = None) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    from themekit.util.sanitize import safe_workbook, xml_safe

    book = Workbook()
    sheet = book.active
    sheet.title = "review"
    sheet.append(list(REVIEW_COLUMNS))
    for row in rows:
        sheet.append(_cells(row))
    widths = {"id": 18, "before": 40, "quote": 60, "after": 40, "evidence": 40, "note": 30, "decision": 12, "code": 22}
    for k, name in enumerate(REVIEW_COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(k)].width = widths.get(name, 14)
        sheet.cell(row=1, column=k).font = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    quote_col = REVIEW_COLUMNS.index("quote") + 1
    for cells in sheet.iter_rows(min_row=2, min_col=1, max_col=len(REVIEW_COLUMNS)):
        for cell in cells:
            cell.alignment = wrap
        cells[quote_col - 1].font = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")
    last = max(2, len(rows) + 1)
    for name in ("decision", "code", "note"):
        col = get_column_letter(REVIEW_COLUMNS.index(name) + 1)
        for (cell,) in sheet[f"{col}2:{col}{last}"]:
            cell.fill = fill
    sheet.freeze_panes = "B2"
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(REVIEW_COLUMNS))}{last}"

    codes = book.create_sheet("codes")
    codes.append(["code", "label", "theme", "definition"])
    for c in run.codebook:
        codes.append([c.id, xml_safe(c.label), c.theme_id, xml_safe(c.spec.definition)])
    codes.column_dimensions["A"].width = 24
    codes.column_dimensions["D"].width = 80

    decision_col = get_column_letter(REVIEW_COLUMNS.index("decision") + 1)
    code_col = get_column_letter(REVIEW_COLUMNS.index("code") + 1)
    decisions = DataValidation(
        type="list",
        formula1=f'"{",".join(DECISIONS)}"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="decision",
        error="Choose accept, reject, change or add.",
    )
    decisions.add(f"{decision_col}2:{decision_col}{last}")
    code_list = DataValidation(
        type="list",
        formula1=f"codes!$A$2:$A${len(run.codebook) + 1}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="code",
        error="Choose a code from the 'codes' sheet.",
    )
    code_list.add(f"{code_col}2:{code_col}{last}")
    sheet.add_data_validation(decisions)
    sheet.add_data_validation(code_list)

    help_sheet = book.create_sheet("how to review")
    for line in (
        "One row per coding themekit suggested. Fill the yellow columns; leave a row blank to review it later.",
        "decision: accept (the code is right), reject (it is wrong), change (wrong code: put the right one in 'code'),",
        "          add (keep the suggestion as it is and also give the code in 'code').",
        "code: the code to give for change and add, from the 'codes' sheet. note: anything worth keeping.",
        "score: how strongly the method suggests the code (0.5 = its threshold); it ranks suggestions.",
        "probability: the chance that a coder would give the code here (of suggestions at 0.3, about 3 in 10 are",
        "          right): the classifier's learned from your coder's codings, similarity's from human codings in",
        "          general; empty for keyword matches.",
        "Do not edit or delete the 'id' column: it ties each decision to the exact words you read.",
        f"Then: themekit review import THIS_FILE --coder {coder.strip() if coder else 'YOUR_NAME'}",
    ):
        help_sheet.append([line])
    help_sheet.column_dimensions["A"].width = 120
    buffer = io.BytesIO()
    safe_workbook(book).save(buffer)  # every sheet, the codes sheet included: labels and definitions can be formulas
    return buffer.getvalue()


@dataclass
class ReviewImport:
    """What an import recorded, and the rows it could not use (row numbers as the sheet shows them)."""

    path: Path
    coder: str
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(DECISIONS, 0))
    unchanged: int = 0
    blank: int = 0
    #: rows whose ids came from a sheet exported before ids named their transcript (matched by the transcript column)
    legacy: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)
    #: a reconcile sheet's final decisions (``themekit.review.reconcile``), not one coder's review
    final: bool = False

    @property
    def recorded(self) -> int:
        return sum(self.counts.values())

    def problem_message(self) -> str:
        lines = [
            f"{self.path}: {len(self.problems)} row(s) not imported ({self.recorded} decision(s) from the other rows were "
            "recorded). Fix these rows and import the sheet again (rows already recorded are not recorded twice):"
        ]
        lines += [f"  - row {row}: {message}" for row, message in self.problems]
        return "\n".join(lines)


def _read_sheet(
    path: Path, *, required: tuple[str, ...] = ("id", "decision", "code", "note")
) -> list[tuple[int, dict[str, str]]]:
    """(row number, {column: text}) for every data row; row numbers as a spreadsheet shows them (header = 1)."""
    fmt = path.suffix.lower()
    if not path.is_file():
        raise ReviewSheetError(f"{path}: no such review sheet. Check the path.")
    if fmt not in (".csv", ".xlsx"):
        raise ReviewSheetError(f"{path}: a review sheet is .xlsx or .csv.")
    table = read_table(path, preferred_sheet="review", error=_sheet_error)
    if not table.header:
        raise ReviewSheetError(f"{path}: the sheet is empty. Import the sheet 'themekit review export' wrote.")
    header = [h.strip().casefold() for h in table.header]
    missing = [c for c in required if c not in header]
    if missing:
        raise ReviewSheetError(
            f"{path}: missing column(s) {', '.join(missing)} in the header row (found: {', '.join(h for h in header if h) or 'none'}). "
            "Import the sheet 'themekit review export' wrote, with its header row intact."
        )
    rows = []
    for number, record in table.rows:
        cells = {name: (record[k].strip() if k < len(record) else "") for k, name in enumerate(header) if name}
        rows.append((number, cells))
    return rows


def _sheet_error(path: Path, reason: str, fix: str, *, param: str | None = None) -> ReviewSheetError:
    """What is raised for a review sheet that cannot be read."""
    end = "" if not fix or fix.endswith((".", "!", "?")) else "."
    return ReviewSheetError(f"{path}: {reason}. {fix}{end}" if fix else f"{path}: {reason}", param=param)


def import_review(path: str | Path, project: Project, *, coder: str) -> ReviewImport:
    """Record the decisions of a filled review sheet by ``coder``.

    Every row is checked; rows with problems (unknown or missing id, a quote or
    suggested code that is not the coding the id names, a decision out of
    vocabulary, a missing or unknown code, rows deciding one coding in
    contradiction) are listed in the result and nothing of them is recorded;
    the good rows are recorded together in one transaction. A decision the same
    coder already recorded for the same row is not recorded twice. Ids of
    sheets exported before ids named their transcript are matched through the
    row's transcript column and counted in ``legacy``.
    """
    path = Path(path)
    coder = coder.strip()
    if not coder:
        raise OptionError("coder= is empty. Give the reviewer's name, e.g. coder=alex.", param="coder")
    rows = _read_sheet(path)
    for _, cells in rows:
        cells["id"] = cells.get("id", "").removeprefix("'").strip()  # an id typed with a leading apostrophe
    result = ReviewImport(path, coder)
    items = project.review_items(cells["id"] for _, cells in rows if cells["id"])
    same_content = project.transcripts_by_content(i["transcript_sha256"] for i in items.values() if i["scheme"] == 1)
    codebooks: dict[str, Any] = {}
    seen: dict[str, tuple[int, tuple[str, str | None, str]]] = {}
    checked: list[tuple[int, dict[str, Any], str, str | None, str]] = []
    for number, cells in rows:
        decision = cells.get("decision", "").casefold()
        decision = _SYNONYMS.get(decision, decision)
        note = cells.get("note", "").removeprefix("'")
        if not decision and not cells.get("code", "") and not note:
            result.blank += 1
            continue
        item = _current_item(items.get(cells["id"]), cells, same_content)
        problem, new_code = _check_row(cells, decision, item, codebooks, project)
        if problem:
            result.problems.append((number, problem))
            continue
        if item["id"] in seen:  # type: ignore[index]
            earlier, verdict = seen[item["id"]]  # type: ignore[index]
            if verdict == (decision, new_code, note):
                result.problems.append(
                    (number, f"id {item['id']} is already decided on row {earlier}; keep one row per id")
                )  # type: ignore[index]
                continue
        seen.setdefault(item["id"], (number, (decision, new_code, note)))  # type: ignore[index]
        checked.append((number, item, decision, new_code, note))  # type: ignore[arg-type]
    checked = _without_conflicts(checked, result)
    _record(checked, result, project, path)
    result.problems.sort()
    return result


def _current_item(
    item: dict[str, Any] | None, cells: dict[str, str], same_content: dict[str, set[str]]
) -> dict[str, Any] | None:
    """The review item a row's id names; an id from a sheet written before ids named their transcript is given
    the row's transcript (when that transcript has the same content) and today's id."""
    if item is None or item["scheme"] != 1:
        return item
    name = cells.get("transcript", "")
    if name and name != item["transcript"] and name in same_content.get(item["transcript_sha256"], ()):
        item = {**item, "transcript": name}
    new_id = _item_id(item["transcript"], item["transcript_sha256"], item["start"], item["end"], item["code"])
    return {**item, "id": new_id, "scheme": 2, "legacy": item["id"]}


def _record(
    checked: list[tuple[int, dict[str, Any], str, str | None, str]], result: ReviewImport, project: Project, path: Path
) -> None:
    """Record the checked rows that differ from the coder's latest decision on the same item, in one transaction."""
    latest = project.latest_decisions((item["id"] for _, item, *_ in checked), result.coder)
    good: list[dict[str, Any]] = []
    legacy: dict[str, dict[str, Any]] = {}
    for _, item, decision, new_code, note in checked:
        if "legacy" in item:
            result.legacy += 1
            legacy[item["id"]] = {
                k: item[k]
                for k in (
                    "id",
                    "run",
                    "transcript",
                    "transcript_sha256",
                    "start",
                    "end",
                    "code",
                    "quote",
                    "codebook_sha256",
                )
            }
        record = {k: item[k] for k in ("transcript", "transcript_sha256", "start", "end", "quote", "code")}
        if decision == "add":
            # "add": the suggestion stands as it is, and the reviewer's code is given too
            record, new_code = {**record, "code": new_code}, None
        if latest.get(item["id"]) == (decision, new_code, note):
            result.unchanged += 1
            continue
        good.append({**record, "decision": decision, "new_code": new_code, "note": note, "item": item["id"]})
        result.counts[decision] += 1
    if legacy:
        project.add_review_items(legacy.values())
    if good:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        project.add_decisions(
            good,
            coder=result.coder,
            source=str(path.resolve()),
            source_sha256=digest,
            counts={**result.counts, "problems": len(result.problems)},
        )


def _without_conflicts(
    checked: list[tuple[int, dict[str, Any], str, str | None, str]], result: ReviewImport
) -> list[tuple[int, dict[str, Any], str, str | None, str]]:
    """The rows no other row contradicts; rows that give and take away one code of one quote are all listed."""
    verdicts: dict[tuple[str, int, int, str], dict[int, bool]] = {}
    for number, item, decision, new_code, _ in checked:
        where = (item["transcript"], item["start"], item["end"])
        given = {
            "accept": [(item["code"], True)],
            "reject": [(item["code"], False)],
            "change": [(item["code"], False), (new_code, True)],
            "add": [(new_code, True)],
        }[decision]
        for code, keep in given:
            verdicts.setdefault((*where, code), {})[number] = keep  # type: ignore[index]
    bad: dict[int, str] = {}
    for (transcript, _, _, code), rows in verdicts.items():
        if len(set(rows.values())) > 1:
            listed = ", ".join(str(n) for n in sorted(rows))
            for number in rows:
                bad.setdefault(
                    number,
                    f"rows {listed} decide code {code!r} of the same quote in {transcript} both ways "
                    "(one gives it, another takes it away); keep the one you mean and import again",
                )
    result.problems.extend(bad.items())
    return [row for row in checked if row[0] not in bad]


#: The most characters an Excel cell holds: a longer quote comes back from a workbook cut to this length.
EXCEL_CELL_LIMIT = 32_767


def _same_text(cell: str, text: str) -> bool:
    """Whether a sheet's cell shows ``text`` (as exported: apostrophe before formula-like text, spacing aside; a
    quote longer than a workbook cell holds, as its first ``EXCEL_CELL_LIMIT`` characters)."""
    shown = " ".join(cell.split())
    forms = (" ".join(text.split()), " ".join(_spreadsheet_cell(text).split()))
    if len(text) > EXCEL_CELL_LIMIT and len(cell) >= 0.9 * EXCEL_CELL_LIMIT:  # cut by the workbook, then trimmed
        return any(form.startswith(shown) for form in forms)
    return shown in forms


def _spreadsheet_cell(text: str) -> str:
    from themekit.util.sanitize import spreadsheet_safe, xml_safe

    return spreadsheet_safe(xml_safe(text))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 50 else text[:47] + "…"


def _check_row(
    cells: dict[str, str],
    decision: str,
    item: dict[str, Any] | None,
    codebooks: dict[str, Any],
    project: Project,
) -> tuple[str | None, str | None]:
    """(why the row cannot be recorded, or None; the code it gives for change and add, else None).

    ``codebooks`` holds the codebooks read so far, by hash.
    """
    code = cells.get("code", "")
    if not cells["id"]:
        return "no id. Keep the id column themekit wrote; copy the row's id back from the exported sheet", None
    if item is None:
        return f"id {cells['id']!r} is not from a review sheet exported from this project ({project.path})", None
    if not decision:
        return f"code or note given but no decision. Choose one of: {', '.join(DECISIONS)}", None
    if decision not in DECISIONS:
        return f"decision {cells.get('decision')!r} is not one of: {', '.join(DECISIONS)}", None
    quote, suggested = cells.get("quote", ""), cells.get("suggested_code", "")
    if (quote or suggested) and not (_same_text(quote, item["quote"]) and suggested in ("", item["code"])):
        return (
            f'id {cells["id"]} names {item["transcript"]} "{_short(item["quote"])}" coded {item["code"]}, but this row '
            f'shows "{_short(quote)}" coded {suggested or "(none)"}: has the id column shifted? Copy the row\'s id back '
            "from the exported sheet; nothing from this row is recorded"
        ), None
    book = codebooks.get(item["codebook_sha256"])
    if book is None:
        book = codebooks[item["codebook_sha256"]] = project.codebook(item["codebook_sha256"])
    if decision not in ("change", "add"):
        if code and code != item["code"]:
            return f"decision {decision} with code {code!r}: to give a different code use change", None
        return None, None
    known = {c.id for c in book}
    if not code:
        return f"decision {decision} needs the code to give in the 'code' column", None
    if code not in known:
        near = difflib.get_close_matches(code, sorted(known), n=3)
        hint = f"; did you mean {', '.join(near)}?" if near else "; see the 'codes' sheet"
        return f"code {code!r} is not in codebook {book.name} {book.version}{hint}", None
    if code == item["code"]:
        return f"{decision} to the suggested code {code!r} itself; use accept", None
    return None, code


def review_status(project: Project, run: RunRecord | str | int | None = None) -> pd.DataFrame:
    """Per code of a recorded run (default: the latest): codings, how many are reviewed, and how."""
    import pandas as pd

    codings = project.run_codings(run)
    decided: dict[tuple[str, str, int, int, str], str] = {}
    changed_to: dict[tuple[str, str, int, int, str], int] = {}
    for d in project.decisions():
        key = (d.transcript, d.transcript_sha256, d.start, d.end, d.code)
        decided[key] = d.decision
        if d.decision == "change" and d.new_code:
            changed_to[(d.transcript, d.transcript_sha256, d.start, d.end, d.new_code)] = 1
    records: dict[str, dict[str, int]] = {}
    for c in codings:
        row = records.setdefault(c["code"], {"codings": 0, "suggested": 0, "accepted": 0, "rejected": 0, "human": 0})
        row["codings"] += 1
        verdict = decided.get((c["transcript"], c["transcript_sha256"], c["start"], c["end"], c["code"]))
        status = {"accept": "accepted", "reject": "rejected", "change": "rejected", "add": "human"}.get(
            verdict or "", c["status"]
        )
        row[status] += 1
    frame = pd.DataFrame.from_dict(records, orient="index", columns=["codings", *STATUSES])
    frame.index.name = "code"
    frame = frame.fillna(0).astype("int64")
    frame["reviewed_pct"] = (
        (100 * (frame["codings"] - frame["suggested"]) / frame["codings"].where(frame["codings"] > 0))
        .round(1)
        .fillna(0.0)
    )
    return frame.sort_values(["reviewed_pct", "codings"], ascending=[True, False])
