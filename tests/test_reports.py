from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import docx
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from themekit import Run, code, summarize
from themekit.cli import app
from themekit.export import export_quote_docx, export_report, export_xlsx
from themekit.export.tables import sheet_name
from themekit.util.sanitize import spreadsheet_safe, xml_safe

from .conftest import HANG_GUARD, _read_only, write

runner = CliRunner()


@pytest.fixture(scope="module")
def _sample_reports(_sample_rule_folder, tmp_path_factory):
    folder = tmp_path_factory.mktemp("reports")
    run = Run.load(_sample_rule_folder)
    for fmt in ("docx", "html"):
        export_report(run, folder / f"report.{fmt}", format=fmt)
    return folder


@pytest.fixture
def sample_reports(_sample_reports):
    """The sample's report (rules only) exported once for the module with the defaults, as ``report.docx`` and
    ``report.html`` (drawing its eight charts takes seconds); read-only."""
    yield from _read_only(_sample_reports)


def test_reports_quote_docx_tables_match_the_summary(sample_rule_folder, tmp_path):
    run = Run.load(sample_rule_folder)
    result = runner.invoke(
        app,
        [
            "export",
            "docx",
            str(sample_rule_folder),
            "--out",
            str(tmp_path / "q.docx"),
            "--theme",
            "participant_barriers",
            "--per-code",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    document = docx.Document(tmp_path / "q.docx")
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[0] == ("Heading 1", "Barriers faced by participants")
    theme = {t.theme_id: t for t in summarize(run, quotes_per_code=3)}["participant_barriers"]
    coded = [c for c in theme.codes if c.quotes]
    assert [h[1] for h in headings[1:]] == [f"{c.label} ({c.n_transcripts} of 8)" for c in coded]
    assert len(document.tables) == len(coded)
    first = document.tables[0]
    assert first.style.name == "Table Grid"
    assert [cell.text for cell in first.rows[0].cells] == ["Quote", "Participant", "Position"]
    quote = coded[0].quotes[0]
    row = [cell.text for cell in first.rows[1].cells]
    assert row[0] == f"“{quote.text}”"
    assert row[1] == quote.transcript
    assert row[2].startswith(f"turn {quote.turn + 1}")
    assert len(first.rows) == 1 + len(coded[0].quotes)


def test_reports_report_docx_html_md(sample_rule_folder, sample_reports, tmp_path):
    run = Run.load(sample_rule_folder)
    document = docx.Document(sample_reports / "report.docx")
    styles = [p.style.name for p in document.paragraphs]
    assert styles[0] == "Title" and "Quote" in styles and "Heading 1" in styles
    assert len(document.inline_shapes) == 8  # per theme: frequency bars and heatmap
    methods = document.paragraphs[1].text
    assert methods.startswith("This summary draws on 8 interview transcripts with keyworkers")
    assert "(version 1.0.0, 36 codes in 4 themes)" in methods
    sentence = next(p for p in document.paragraphs if p.text.startswith(("All keyworkers", "Most keyworkers")))
    assert any(r.bold for r in sentence.runs), "key terms are bold"

    page = (sample_reports / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("data:image/png;base64,") == 8
    assert "<figcaption>Figure 1: The keyworker experience: keyworkers mentioning each code</figcaption>" in page
    assert "<blockquote>" in page and "<strong>" in page
    assert "<script" not in page and 'src="http' not in page

    export_report(run, tmp_path / "r.md", format="md", theme_id="model_strengths", charts=False)
    md = (tmp_path / "r.md").read_text()
    assert "## Strengths of the programme model" in md and "## Barriers" not in md
    assert "key terms **" in md


def _w(name: str) -> str:
    return "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}" + name


def _shown(paragraph) -> str:
    """A paragraph's text as Word shows it, field results (caption numbers) included."""
    return "".join(t.text or "" for t in paragraph._p.iter(_w("t")))


def test_reports_quote_docx_tables_are_laid_out_for_pasting(sample_rule_folder, tmp_path):
    run = Run.load(sample_rule_folder)
    export_quote_docx(run, tmp_path / "q.docx", per_code=4)
    document = docx.Document(tmp_path / "q.docx")
    text_width = 8.5 - 2 * 1.25
    for table in document.tables:
        widths = [col.width.inches for col in table.columns]
        assert abs(sum(widths) - text_width) < 0.05
        assert widths[0] >= 0.6 * text_width and widths[0] > 3 * max(widths[1:])
        assert table._tbl.tblPr.find(_w("tblLayout")).get(_w("type")) == "fixed"
        header = table.rows[0]._tr.trPr
        assert header.find(_w("tblHeader")) is not None, "the header row repeats on every page"
        assert all(row._tr.trPr.find(_w("cantSplit")) is not None for row in table.rows), "no row splits across pages"
    # a numbered caption above every table, in Word's Caption style
    captions = [_shown(p) for p in document.paragraphs if p.style.name == "Caption"]
    assert len(captions) == len(document.tables)
    assert captions[0] == "Table 1: Quotes coded Rewarding and enjoyable role"
    assert [c.split(":")[0] for c in captions] == [f"Table {n}" for n in range(1, len(captions) + 1)]
    body = document.element.body
    first_caption = next(p for p in document.paragraphs if p.style.name == "Caption")._p
    assert first_caption.getnext().tag == _w("tbl")
    assert body.xpath(".//w:fldSimple/@w:instr")[0].strip() == "SEQ Table \\* ARABIC"


def test_reports_report_charts_fit_the_page_with_readable_labels(sample_rule_folder, sample_reports, tmp_path):
    from matplotlib.text import Text

    from themekit.render.charts import CHART_HEIGHT, frequency_figure, heatmap_figure

    run = Run.load(sample_rule_folder)
    codes = [c.id for c in run.codebook.codes_of("keyworker_experience")]
    for figure in (frequency_figure(run, codes=codes), heatmap_figure(run, codes=codes)):
        width, height = figure.get_size_inches()
        # a third of a page at most, so a chart moved to the next page leaves no half page blank
        assert width <= 6.0 and height <= CHART_HEIGHT + 0.01
        figure.canvas.draw()
        sizes = {
            t.get_text(): t.get_fontsize() for t in figure.findobj(Text) if t.get_text().strip() and t.get_visible()
        }
        assert "Rewarding and enjoyable role" in sizes
        assert min(sizes.values()) >= 9, {k: v for k, v in sizes.items() if v < 9}
    document = docx.Document(sample_reports / "report.docx")
    # printed at the size drawn, so 9-point labels print at 9 points
    shape = document.inline_shapes[0]
    assert abs(shape.width.inches - 6.0) < 0.02
    assert shape.height.inches <= CHART_HEIGHT + 0.01
    captions = [_shown(p) for p in document.paragraphs if p.style.name == "Caption"]
    assert captions[:2] == [
        "Figure 1: The keyworker experience: keyworkers mentioning each code",
        "Figure 2: The keyworker experience: excerpts per code and keyworker",
    ]
    assert len(captions) == 8
    # each chart sits below its theme's paragraph, with its caption right after it
    texts = [_shown(p) for p in document.paragraphs]
    assert (
        texts.index("The keyworker experience") < texts.index(captions[0]) < texts.index("Rewarding and enjoyable role")
    )
    # themekit's own notes are left out unless asked for, then in an appendix at the end
    assert not any("Notes on transcripts" in t or "Appendix" in t for t in texts)
    result = runner.invoke(
        app, ["export", "report", str(sample_rule_folder), "-o", str(tmp_path / "a.docx"), "--appendix", "--no-charts"]
    )
    assert result.exit_code == 0, result.output
    headings = [
        (p.style.name, p.text)
        for p in docx.Document(tmp_path / "a.docx").paragraphs
        if p.style.name.startswith("Heading")
    ]
    at = headings.index(("Heading 1", "Appendix: notes on the transcripts"))
    assert headings[at + 1] == ("Heading 2", "Notes on transcripts") and at == len(headings) - 2


def test_reports_xlsx_sheet_per_theme_frozen_filtered(sample_rule_folder, tmp_path):
    run = Run.load(sample_rule_folder)
    export_xlsx(run, tmp_path / "x.xlsx")
    book = load_workbook(tmp_path / "x.xlsx")
    # cut at a word, not mid-word, within Excel's 31 characters
    assert book.sheetnames == [
        "The keyworker experience",
        "Barriers faced by participants",
        "Strengths of the programme",
        "Learning points",
    ]
    sheet = book["Barriers faced by participants"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref.startswith("A1:")
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["code", "code_label", "participant", "transcript"]
    expected = run.excerpts.query("theme == 'participant_barriers'")
    assert sheet.max_row == len(expected) + 1
    assert sheet.cell(2, header.index("text") + 1).value == expected["text"].iloc[0]


def test_reports_xlsx_sheet_names_are_cut_at_words_and_unique():
    taken: set[str] = set()
    names = [
        sheet_name(label, taken)
        for label in (
            "Barriers faced by participants in rural areas",
            "Barriers faced by participants in rural towns",
            "barriers faced by participants",
            "Why: costs/benefits?",
            "Antidisestablishmentarianism-and-friends",
        )
    ]
    assert names == [
        "Barriers faced by participants",
        "Barriers faced by (2)",
        "barriers faced by (3)",
        "Why costs benefits",
        "Antidisestablishmentarianism-an",
    ]
    assert all(len(n) <= 31 for n in names)


def test_reports_xlsx_text_wraps_and_rows_fit_it(tmp_path, tiny_codebook):
    folder = tmp_path / "t"
    long = " ".join(["I felt so lonely out there, with nobody to talk to for weeks on end."] * 6)
    write(folder / "P01.txt", f"Interviewer: How was it?\n\nP01: {long}\n")
    write(folder / "P02.txt", "Interviewer: And you?\n\nP02: I was lonely.\n")
    run = code(folder, tiny_codebook, methods="rule", unit="turn")
    export_xlsx(run, tmp_path / "x.xlsx")
    sheet = load_workbook(tmp_path / "x.xlsx")["Barriers"]
    header = [c.value for c in sheet[1]]
    text_col = header.index("text") + 1
    rows = {sheet.cell(r, header.index("transcript") + 1).value: r for r in range(2, sheet.max_row + 1)}
    long_row, short_row = rows["P01"], rows["P02"]
    assert sheet.cell(long_row, text_col).value == long
    for name in ("text", "evidence", "code_label"):
        assert sheet.cell(long_row, header.index(name) + 1).alignment.wrap_text
    # 413 characters in an 80-character column need 6 lines of 15 pt; a one-line quote keeps one line
    width = sheet.column_dimensions["K"].width
    assert width == 80
    lines = -(-len(long) // int(width))
    assert sheet.row_dimensions[long_row].height >= lines * 15
    assert sheet.row_dimensions[short_row].height < 2 * 15


def test_reports_hostile_text_is_neutralised(tmp_path, tiny_codebook):
    folder = tmp_path / "t"
    write(
        folder / "P05.txt",
        'Interviewer: Go on?\n\nP05: =HYPERLINK("http://x") I felt so lonely <script>alert(1)</script> there \x01 every day.\n',
    )
    run = code(folder, tiny_codebook, methods="rule")
    [coding] = run.codings
    export_xlsx(run, tmp_path / "x.xlsx")
    cell = load_workbook(tmp_path / "x.xlsx")["Barriers"].cell(2, 11).value
    assert cell.startswith("'=HYPERLINK")
    export_report(run, tmp_path / "r.html", format="html", charts=False)
    page = (tmp_path / "r.html").read_text()
    assert "<script>alert(1)</script>" not in page and html.escape("<script>alert(1)</script>") in page
    assert spreadsheet_safe("-1+2") == "'-1+2" and spreadsheet_safe(3.5) == 3.5
    out = run.save(tmp_path / "run")
    import pandas as pd

    assert pd.read_csv(out / "excerpts.csv")["text"].iloc[0].startswith("'=HYPERLINK")
    assert pd.read_parquet(out / "excerpts.parquet")["text"].iloc[0].startswith("=HYPERLINK")
    assert xml_safe("a\x00b\x0bc\ud800d") == "abcd"
    export_quote_docx(run, tmp_path / "q.docx")
    assert "lonely" in docx.Document(tmp_path / "q.docx").tables[0].rows[1].cells[0].text


def _pdf(docx_path, tmp_path) -> Path:
    """The Word file rendered to PDF by LibreOffice, in ``tmp_path``."""
    done = subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(docx_path),
        ],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )
    assert done.returncode == 0, done.stderr
    return tmp_path / f"{docx_path.stem}.pdf"


def _rendered_pages(docx_path, tmp_path) -> list[tuple[str, int]]:
    """The Word file rendered by LibreOffice: each PDF page's text and how many pictures it holds."""
    import unicodedata

    from pypdf import PdfReader

    reader = PdfReader(_pdf(docx_path, tmp_path))
    # pictures drawn on the page (an image's "Do" operator), not those the page's shared resources merely list
    drawn = [
        len(re.findall(rb"/Im\w*\s+Do\b", page.get_contents().get_data())) if page.get_contents() is not None else 0
        for page in reader.pages
    ]
    return [(unicodedata.normalize("NFKC", page.extract_text()), n) for page, n in zip(reader.pages, drawn)]


def _squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed (.ci/run installs it)")
def test_reports_docx_rendered_by_libreoffice_reads_as_pasted(sample_rule_folder, sample_reports, tmp_path):
    run = Run.load(sample_rule_folder)
    # quote tables long enough to run over pages
    export_quote_docx(run, tmp_path / "quotes.docx", per_code=12)
    pages = _rendered_pages(tmp_path / "quotes.docx", tmp_path)
    assert len(pages) > 5
    starts = [text.lstrip()[:40] for text, _ in pages]
    assert not [s for s in starts if s.startswith("“")], "a page starts inside a table without its header row"
    continued = [i for i, s in enumerate(starts) if s.startswith("Quote")]
    assert continued and continued[0] >= 1, "the header row repeats at the top of a page the table runs onto"
    squeezed = [_squeezed(text) for text, _ in pages]
    quotes = [q.text for theme in summarize(run, quotes_per_code=12) for c in theme.codes for q in c.quotes]
    assert len(quotes) > 100
    split = [q for q in quotes if not any(_squeezed(f"“{q}”") in page for page in squeezed)]
    assert not split, f"{len(split)} quote rows split across pages, e.g. {split[0]!r}"

    # LibreOffice opens a private copy (it may leave a lock file beside what it opens)
    pages = _rendered_pages(Path(shutil.copy(sample_reports / "report.docx", tmp_path / "report.docx")), tmp_path)
    first, pictures = pages[0]
    # the first page holds the methods, the first theme and its first chart, not a title alone
    assert "This summary draws on 8 interview transcripts" in first
    assert "Figure 1: The keyworker experience: keyworkers mentioning each code" in " ".join(first.split())
    assert pictures >= 1
    captioned = [(text.count("Figure "), pictures) for text, pictures in pages if "Figure " in text]
    assert sum(n for n, _ in captioned) == 8 == sum(pictures for _, pictures in pages)
    assert all(pictures == n for n, pictures in captioned), "a chart is on another page than its caption"
    assert not any("Notes on transcripts" in text for text, _ in pages)


_DPI = 50


def _page_images(pdf: Path, tmp_path) -> list:
    """The PDF's pages as greyscale pixel arrays at 50 dpi (pdftoppm)."""
    import numpy as np
    from PIL import Image

    done = subprocess.run(
        ["pdftoppm", "-r", str(_DPI), "-png", str(pdf), str(tmp_path / "page")],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )
    assert done.returncode == 0, done.stderr
    return [np.asarray(Image.open(p).convert("L")) for p in sorted(tmp_path.glob("page-*.png"))]


def _pictures(pdf: Path) -> list[list[tuple[float, float, float, float]]]:
    """Where each page draws its pictures: (left, top, right, bottom) in inches from the page's top left."""
    from pypdf import PdfReader

    pages = []
    for page in PdfReader(pdf).pages:
        height, boxes = float(page.mediabox.height), []

        def seen(operator, operands, cm, tm, boxes=boxes, height=height):
            if operator == b"Do":  # the unit square drawn through the current matrix
                a, _, _, d, e, f = cm
                boxes.append((e / 72, (height - f - d) / 72, (e + a) / 72, (height - f) / 72))

        page.extract_text(visitor_operand_before=seen)
        pages.append(boxes)
    return pages


def _blank_bands(document, pages) -> list[float]:
    """Of each page: its tallest blank band between the margins, top to bottom, as a share of the text height."""
    import numpy as np

    section = document.sections[0]
    top, bottom = round(section.top_margin / 914400 * _DPI), round(section.bottom_margin / 914400 * _DPI)
    blank = []
    for pixels in pages:
        rows = np.flatnonzero((pixels[top : pixels.shape[0] - bottom] < 200).any(axis=1))
        height = pixels.shape[0] - top - bottom
        blank.append(float((np.diff(np.concatenate([[-1], rows, [height]])) - 1).max() / height))
    return blank


def _charts_placed(document, pages, pictures) -> list[str]:
    """What is wrong with where the charts print: past a margin, or with ink in the last pixels of a chart's right
    edge (a label cut off where the picture ends)."""
    section = document.sections[0]
    left, right = section.left_margin / 914400, (section.page_width - section.right_margin) / 914400
    wrong = []
    for n, (pixels, boxes) in enumerate(zip(pages, pictures), start=1):
        for x0, y0, x1, y1 in boxes:
            if x0 < left - 0.01 or x1 > right + 0.01:
                wrong.append(f"page {n}: a chart from {x0:.2f} in to {x1:.2f} in, the text from {left} to {right}")
            edge = pixels[round(y0 * _DPI) + 1 : round(y1 * _DPI) - 1, round(x1 * _DPI) - 2 : round(x1 * _DPI)]
            if (edge < 200).any():
                wrong.append(f"page {n}: a chart drawn up to its right edge")
    return wrong


@pytest.mark.slow
@pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftoppm") is None,
    reason="LibreOffice or pdftoppm (poppler-utils) is not installed (.ci/run installs them)",
)
def test_reports_docx_pages_have_no_blank_half_pages_and_charts_within_the_margins(sample_reports, tmp_path):
    # LibreOffice opens a private copy (it may leave a lock file beside what it opens)
    path = Path(shutil.copy(sample_reports / "report.docx", tmp_path / "report.docx"))
    pdf = _pdf(path, tmp_path)
    pages, pictures, document = _page_images(pdf, tmp_path), _pictures(pdf), docx.Document(path)
    assert len(pages) > 8 and sum(map(len, pictures)) == 8
    # a chart Word cannot fit below the text is pushed to the next page, leaving the rest of this one blank
    blank = _blank_bands(document, pages)
    gaps = {n: f"{share:.0%}" for n, share in enumerate(blank[:-1], start=1) if share > 0.4}
    assert not gaps, f"pages more than 40% blank before the next page's content: {gaps}"
    assert not _charts_placed(document, pages, pictures)

    # long code labels and participant names: still inside the chart, and the chart inside the margins
    run = _everyone_run(tmp_path)
    export_report(run, tmp_path / "long.docx", format="docx")
    (tmp_path / "long").mkdir()
    pdf = _pdf(tmp_path / "long.docx", tmp_path / "long")
    pages, pictures = _page_images(pdf, tmp_path / "long"), _pictures(pdf)
    assert sum(map(len, pictures)) == 2
    assert not _charts_placed(docx.Document(tmp_path / "long.docx"), pages, pictures)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("chromium") is None, reason="Chromium is not installed (.ci/run installs it)")
def test_reports_html_renders_in_chromium(sample_reports, tmp_path):
    from .conftest import ROOT

    page = sample_reports / "report.html"
    shot = ROOT / "tests" / "artifacts" / "report-html.png"
    shot.parent.mkdir(exist_ok=True)
    done = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path}/chrome",
            "--window-size=1000,1400",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD,
    )
    assert done.returncode == 0, done.stderr
    assert shot.stat().st_size > 20_000


# -- charts that carry information and fit their page --------------------------------------------------

_EVERYONE_CODEBOOK = """\
schema_version: 1
name: Everyone study
version: 0.1.0
participant_noun: participant
themes:
  - id: life
    label: Daily life
    codes:
      - id: money
        label: Money
        definition: Money worries.
        keywords: [money]
      - id: travel
        label: Getting to appointments across the county by bus, train or lifts from family, friends and neighbours
        definition: Travel.
        keywords: [bus]
      - id: sleep
        label: Sleep
        definition: Sleep.
        keywords: [sleep]
"""


def _everyone_run(tmp_path):
    """Three interviews in which every participant mentions every code, some codes at much greater length: money
    in four sentences each, the bus in two, sleep in one. One code's label is far too long for a chart."""
    folder = tmp_path / "everyone"
    for name in ("Participant one from the north", "Participant two from the south", "Participant three"):
        sentences = [f"Money was the worry number {i} for me, money every single week." for i in range(4)]
        sentences += ["The bus never came on time.", "I took the bus to every meeting."]
        sentences += ["Sleep was hard."]
        write(folder / f"{name}.txt", f"Interviewer: How were things?\n\nP: {' '.join(sentences)}\n")
    return code(folder, write(tmp_path / "everyone.yaml", _EVERYONE_CODEBOOK), methods="rule", cache_dir=None)


def _drawn_outside(figure) -> list[str]:
    """The edges of a chart (drawn at its own size) that something drawn on it reaches past."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(figure).draw()
    drawn, (width, height) = figure.get_tightbbox(), figure.get_size_inches()
    edges = {"left": drawn.x0 < 0, "bottom": drawn.y0 < 0, "right": drawn.x1 > width, "top": drawn.y1 > height}
    return [side for side, past in edges.items() if past]


def _edge_ink(png: bytes, border: int = 3) -> list[str]:
    """The edges of a chart PNG with anything drawn within ``border`` pixels of them (a label cut at the edge)."""
    import io

    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    edges = {
        "left": pixels[:, :border],
        "right": pixels[:, -border:],
        "top": pixels[:border],
        "bottom": pixels[-border:],
    }
    return [side for side, band in edges.items() if (band < 200).any()]


def test_reports_bars_show_share_of_talk_when_everyone_mentions_every_code(tmp_path):
    from themekit.render.charts import bars_measure, frequency_figure

    run = _everyone_run(tmp_path)
    assert run.matrix(values="present").to_numpy().min() == 1, "every participant mentions every code"
    chosen = bars_measure(run)
    assert (chosen.measure, chosen.mentions, chosen.total) == ("talk", (3, 3, 3), 3)
    ax = frequency_figure(run, noun="participants").axes[0]
    widths = [round(p.get_width(), 1) for p in ax.patches]
    assert len(set(widths)) == 3, f"identical bars tell nothing: {widths}"
    # money takes 4 sentences of 7 in each interview, the bus 2, sleep 1: the bars' order by length of talk
    assert widths[0] > widths[1] > widths[2] > 0
    assert ax.get_xlabel() == "share of participants’ words coded (%)"
    assert [t.get_text() for t in ax.texts][0].endswith("%")

    export_report(run, tmp_path / "r.docx", format="docx")
    document = docx.Document(tmp_path / "r.docx")
    captions = [_shown(p) for p in document.paragraphs if p.style.name == "Caption"]
    assert captions[0] == (
        "Figure 1: Daily life: share of participants’ words coded with each code "
        "(every code is mentioned by all 3 participants)"
    )
    export_report(run, tmp_path / "r.html", format="html")
    assert "share of participants’ words coded with each code" in (tmp_path / "r.html").read_text()


def test_reports_bars_keep_participant_counts_while_they_differ(sample_rule_folder):
    from themekit.render.charts import bars_measure, frequency_figure
    from themekit.render.plot import frequency_measure

    # the sample coded by rules: 5 of the first theme's 11 codes are mentioned by all 8 keyworkers
    run = Run.load(sample_rule_folder)
    codes = [c.id for c in run.codebook.codes_of("keyworker_experience")]
    chosen = bars_measure(run, codes)
    assert chosen.measure == "participants" and chosen.mentions.count(8) == 5
    ax = frequency_figure(run, codes=codes, noun="keyworkers").axes[0]
    assert [p.get_width() for p in ax.patches] == list(chosen.mentions)
    assert ax.get_xlabel() == "keyworkers mentioning the code (of 8)"
    assert max(t.get_position()[0] for t in ax.get_xticklabels() if t.get_text()) == 8, "no tick past 8 of 8"
    # the rule: counts that are all the same, or half or more at everyone, switch to share of talk
    assert frequency_measure([6, 6, 6, 6, 6, 6], 6) == "talk"
    assert frequency_measure([2, 2], 6) == "talk"
    assert frequency_measure([8, 8, 7, 3], 8) == "talk"
    assert frequency_measure([8, 7, 7, 3], 8) == "participants"
    assert frequency_measure([0, 0], 8) == "participants"  # nothing coded: nothing to tell apart either way


@pytest.mark.slow
def test_reports_bars_of_the_sample_are_not_all_alike(sample_run):
    from themekit.render.charts import bars_measure, frequency_figure

    # coded by all three methods, 22 of the sample’s 36 codes are mentioned by all 8 keyworkers
    mentioned = sample_run.matrix(values="present").sum(axis=1)
    assert (mentioned == 8).sum() >= 18, mentioned.to_dict()
    talk = 0
    for theme in sample_run.codebook.themes:
        codes = [c.id for c in sample_run.codebook.codes_of(theme.id)]
        ax = frequency_figure(sample_run, codes=codes, noun="keyworkers").axes[0]
        widths = [round(p.get_width(), 3) for p in ax.patches]
        assert len(set(widths)) > 1, f"{theme.id}: every bar is {widths[0]}"
        if bars_measure(sample_run, codes).measure == "talk":
            talk += 1
            assert ax.get_xlabel().startswith("share of keyworkers’ words")
    assert talk >= 2


def test_reports_heatmap_colour_bar_and_labels_fit_inside_the_chart(sample_rule_folder, tmp_path):
    from themekit.render.charts import CHART_FONT_PT, frequency_figure, heatmap_figure

    run = Run.load(sample_rule_folder)
    for theme in run.codebook.themes:
        codes = [c.id for c in run.codebook.codes_of(theme.id)]
        figure = heatmap_figure(run, codes=codes)
        cells, bar = figure.axes
        assert bar.get_ylabel() == "excerpts (segments coded)" or bar.get_xlabel() == "excerpts (segments coded)"
        assert not _drawn_outside(figure), theme.id
        label = bar.yaxis.label if bar.get_ylabel() else bar.xaxis.label
        assert figure.bbox.contains(*label.get_window_extent().min) and figure.bbox.contains(
            *label.get_window_extent().max
        )
        # not squashed: the colour bar runs the full height (or width) of the cells
        along = (lambda b: b.height) if bar.get_ylabel() else (lambda b: b.width)
        assert along(bar.get_window_extent()) >= 0.95 * along(cells.get_window_extent()), theme.id
        assert min(t.get_fontsize() for t in bar.get_yticklabels() + bar.get_xticklabels()) >= CHART_FONT_PT

    # a code label far too long for a chart, and long participant names
    run = _everyone_run(tmp_path)
    for figure in (heatmap_figure(run), frequency_figure(run)):
        assert not _drawn_outside(figure)
        labels = [t.get_text() for t in figure.axes[0].get_yticklabels()]
        assert labels[0] == "Money" and labels[2] == "Sleep"
        assert labels[1].startswith("Getting to appointments across") and labels[1].endswith("…")
        assert labels[1].count("\n") == 1, "wrapped onto two lines, then cut"
        width = figure.get_size_inches()[0] * figure.dpi
        assert max(t.get_window_extent().width for t in figure.axes[0].get_yticklabels()) < 0.5 * width


def test_reports_chart_images_have_nothing_cut_at_their_edges(sample_reports, tmp_path):
    run = _everyone_run(tmp_path)
    export_report(run, tmp_path / "long.docx", format="docx")
    for path in (sample_reports / "report.docx", tmp_path / "long.docx"):
        document = docx.Document(path)
        images = [part.blob for part in document.part.package.parts if part.content_type == "image/png"]
        assert images
        for png in images:
            assert not _edge_ink(png), f"{path.name}: a chart drawn up to its edge (a label cut off?)"


def test_reports_docs_show_the_word_report_and_the_html_page():
    from .conftest import ROOT

    guide = (ROOT / "docs" / "guide" / "exports.md").read_text()
    script = ROOT / "benchmarks" / "report_images.py"
    assert "python benchmarks/report_images.py" in guide and script.exists()
    for name in ("report-word.png", "report-html.png"):
        image = ROOT / "docs" / name
        assert f"](../{name})" in guide and f'"{name}"' in script.read_text()
        assert 20_000 < image.stat().st_size < 300_000, f"{name}: keep the docs' pictures small"
