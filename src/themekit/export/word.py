"""Word layout a report writer pastes as it is: numbered captions, fixed column widths, header rows that repeat,
rows that stay on one page. python-docx has no API for these, so they are written as WordprocessingML."""

from __future__ import annotations

from typing import Any

__all__ = ["add_caption", "keep_rows_whole", "repeat_header_row", "set_column_widths", "text_width_inches"]


def _el(tag: str, **attrs: str) -> Any:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    element = OxmlElement(tag)
    for name, value in attrs.items():
        element.set(qn(f"w:{name}"), value)
    return element


def text_width_inches(document: Any) -> float:
    """The width between the margins of the document's last section, in inches."""
    section = document.sections[-1]
    return (section.page_width - section.left_margin - section.right_margin) / 914400


def add_caption(document: Any, kind: str, number: int, text: str, *, keep_with_next: bool = False) -> Any:
    """A "Figure 1: text" or "Table 1: text" paragraph in Word's Caption style.

    The number is a SEQ field (Word's own caption numbering, so inserting a figure and updating fields renumbers),
    holding ``number`` as its shown result."""
    paragraph = document.add_paragraph(style="Caption")
    paragraph.add_run(f"{kind} ")
    field = _el("w:fldSimple", instr=f" SEQ {kind} \\* ARABIC ")
    run = _el("w:r")
    shown = _el("w:t")
    shown.text = str(number)
    run.append(shown)
    field.append(run)
    paragraph._p.append(field)
    paragraph.add_run(f": {text}")
    paragraph.paragraph_format.keep_with_next = keep_with_next
    return paragraph


def repeat_header_row(table: Any) -> None:
    """Mark the first row as a header row, repeated at the top of every page the table runs onto."""
    from docx.oxml.ns import qn

    props = table.rows[0]._tr.get_or_add_trPr()
    if props.find(qn("w:tblHeader")) is None:
        # schema order: ... cantSplit, trHeight, tblHeader, tblCellSpacing, jc, hidden
        later = [props.find(qn(f"w:{t}")) for t in ("tblCellSpacing", "jc", "hidden")]
        following = next((e for e in later if e is not None), None)
        header = _el("w:tblHeader", val="true")
        if following is None:
            props.append(header)
        else:
            following.addprevious(header)


def keep_rows_whole(table: Any) -> None:
    """Every row stays on one page (Word moves a row that does not fit to the next page instead of splitting it)."""
    from docx.oxml.ns import qn

    for row in table.rows:
        props = row._tr.get_or_add_trPr()
        if props.find(qn("w:cantSplit")) is None:
            # schema order: cnfStyle, divId, gridBefore, gridAfter, wBefore, wAfter, cantSplit, trHeight, tblHeader, ...
            later = [props.find(qn(f"w:{t}")) for t in ("trHeight", "tblHeader", "tblCellSpacing", "jc", "hidden")]
            following = next((e for e in later if e is not None), None)
            keep = _el("w:cantSplit", val="true")
            if following is None:
                props.append(keep)
            else:
                following.addprevious(keep)


def set_column_widths(table: Any, widths: list[float]) -> None:
    """Fixed column widths in inches: the table's width and grid, each cell's width, and a fixed layout so Word
    and LibreOffice keep them rather than spreading the columns evenly."""
    from docx.oxml.ns import qn
    from docx.shared import Inches

    table.autofit = False  # w:tblLayout type="fixed"
    tbl = table._tbl
    total = tbl.tblPr.find(qn("w:tblW"))
    if total is not None:
        total.set(qn("w:type"), "dxa")
        total.set(qn("w:w"), str(round(sum(widths) * 1440)))
    for col, width in zip(tbl.tblGrid.findall(qn("w:gridCol")), widths):
        col.set(qn("w:w"), str(round(width * 1440)))
    for row in table.rows:
        for cell, width in zip(row.cells, widths):
            cell.width = Inches(width)
