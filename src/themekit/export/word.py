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


#: The row properties (``w:trPr``) Word reads, in the order its schema requires them.
_ROW_PROPERTIES = ("cnfStyle", "divId", "gridBefore", "gridAfter", "wBefore", "wAfter", "cantSplit", "trHeight",
                   "tblHeader", "tblCellSpacing", "jc", "hidden")  # fmt: skip


def _set_row_property(row: Any, name: str) -> None:
    """Switch on the row property ``name`` (``w:<name> w:val="true"``), in its place in the schema's order."""
    from docx.oxml.ns import qn

    props = row._tr.get_or_add_trPr()
    if props.find(qn(f"w:{name}")) is not None:
        return
    later = [props.find(qn(f"w:{t}")) for t in _ROW_PROPERTIES[_ROW_PROPERTIES.index(name) + 1 :]]
    following = next((e for e in later if e is not None), None)
    element = _el(f"w:{name}", val="true")
    if following is None:
        props.append(element)
    else:
        following.addprevious(element)


def repeat_header_row(table: Any) -> None:
    """Mark the first row as a header row, repeated at the top of every page the table runs onto."""
    _set_row_property(table.rows[0], "tblHeader")


def keep_rows_whole(table: Any) -> None:
    """Every row stays on one page (Word moves a row that does not fit to the next page instead of splitting it)."""
    for row in table.rows:
        _set_row_property(row, "cantSplit")


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
