"""Word quote tables: time to export 1,000 quotes (and, beside it, python-docx alone writing the same table rows).

    python benchmarks/docx_export.py [--quotes 1000] [--repeat 5]

The sample is coded once; quotes per code are raised until the run yields at
least the asked number (repeating the sample's transcripts under new names
if it has too few coded segments). Medians of --repeat runs are printed.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import docx

import themekit
from themekit.export import export_quote_docx

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quotes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        corpus_dir = tmp / "corpus"
        corpus_dir.mkdir()
        copies = 3
        for k in range(copies):
            for f in (ROOT / "transcripts_sample").iterdir():
                if f.suffix in {".txt", ".md", ".docx", ".vtt", ".srt"} or (
                    f.suffix == ".csv" and f.stem.startswith("KW")
                ):
                    shutil.copy(f, corpus_dir / f"{f.stem}_{k}{f.suffix}")
        run = themekit.code(
            corpus_dir,
            ROOT / "codebooks" / "ati-keyworker.yaml",
            methods="rule,semantic",
            cache_dir=tmp / "cache",
            project=None,
        )
        per_code = 1
        while (
            sum(len(c.quotes) for t in themekit.summarize(run, quotes_per_code=per_code) for c in t.codes) < args.quotes
        ):
            per_code += 1
        quotes = [q for t in themekit.summarize(run, quotes_per_code=per_code) for c in t.codes for q in c.quotes]
        themekit_times, bare_times = [], []
        for _ in range(args.repeat):
            started = time.perf_counter()
            export_quote_docx(run, tmp / "quotes.docx", per_code=per_code)
            themekit_times.append(time.perf_counter() - started)
            started = time.perf_counter()
            document = docx.Document()
            table = document.add_table(rows=1, cols=3)
            for q in quotes:
                cells = table.add_row().cells
                cells[0].text, cells[1].text, cells[2].text = q.text, q.transcript, f"turn {q.turn + 1}"
            document.save(tmp / "bare.docx")
            bare_times.append(time.perf_counter() - started)
    print(
        f"machine: {platform.machine()}, Python {platform.python_version()}; {len(quotes)} quotes ({per_code} per code)"
    )
    print(
        f"themekit export docx (summary + tables): median {statistics.median(themekit_times):.2f} s over {args.repeat} runs"
    )
    print(f"python-docx alone, same rows:            median {statistics.median(bare_times):.2f} s")


if __name__ == "__main__":
    main()
