"""The report pictures in the docs: the sample's Word report as LibreOffice prints it, and its HTML page in Chromium.

    python benchmarks/report_images.py [--out docs]

Codes the bundled sample as the quick start does with learned coding added (rules, semantic similarity and the
classifier trained on ``transcripts_sample/codings/gold.csv``), exports the report as Word and HTML, and writes

- ``report-word.png``: pages 1 and 2 of the Word report side by side (LibreOffice's PDF, rasterised by pdftoppm);
- ``report-html.png``: the top of the HTML report in headless Chromium.

Both are reduced to 64 colours so each stays well under 300 KB. Needs ``soffice`` (LibreOffice), ``pdftoppm``
(poppler-utils) and ``chromium``, as ``.ci/run`` installs them.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

from PIL import Image

import themekit
from themekit.export import export_report

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "transcripts_sample"


def _small(image: Image.Image, path: Path) -> int:
    """``image`` written as a 64-colour PNG; its size in bytes."""
    image.convert("RGB").quantize(colors=64, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path.stat().st_size


def word_pages(report: Path, out: Path, tmp: Path, *, dpi: int = 70) -> int:
    """Pages 1 and 2 of the Word ``report`` side by side, with a grey frame round each page, into ``out``."""
    subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp}/lo", "--convert-to", "pdf", "--outdir",
         str(tmp), str(report)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    prefix = tmp / "page"
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-f", "1", "-l", "2", "-png", str(tmp / f"{report.stem}.pdf"), str(prefix)],
        check=True,
        timeout=300,
    )
    pages = [Image.open(p).convert("RGB") for p in sorted(tmp.glob("page-*.png"))]
    gap = 16
    width, height = pages[0].size
    sheet = Image.new("RGB", (len(pages) * (width + gap) + gap, height + 2 * gap), "#e6e6e6")
    for n, page in enumerate(pages):
        sheet.paste(page, (gap + n * (width + gap), gap))
    return _small(sheet, out)


def html_top(report: Path, out: Path, tmp: Path) -> int:
    """The top of the HTML ``report`` (its first theme and both charts) in headless Chromium, into ``out``."""
    shot = tmp / "html.png"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
         f"--user-data-dir={tmp}/chrome", "--window-size=900,1700", f"--screenshot={shot}", report.as_uri()],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return _small(Image.open(shot), out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the two PNGs (default: docs)")
    args = parser.parse_args()
    missing = [p for p in ("soffice", "pdftoppm", "chromium") if shutil.which(p) is None]
    if missing:
        raise SystemExit(f"report_images.py needs {', '.join(missing)} (apt-get install as .ci/run does)")
    run = themekit.code(SAMPLE, ROOT / "codebooks" / "ati-keyworker.yaml", gold=SAMPLE / "codings" / "gold.csv")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for fmt in ("docx", "html"):
            export_report(run, tmp / f"report.{fmt}", format=fmt)
        for name, size in (
            ("report-word.png", word_pages(tmp / "report.docx", args.out / "report-word.png", tmp)),
            ("report-html.png", html_top(tmp / "report.html", args.out / "report-html.png", tmp)),
        ):
            print(f"{args.out / name}: {size / 1024:.0f} KB")


if __name__ == "__main__":
    main()
