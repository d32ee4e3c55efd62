"""Do the report's quotes stand for their code? Each quote checked against a human coder's codings.

For every code of a run, the report's quotes (``--n`` per code) are checked
against human codings of the same transcripts: a quote *fits* when the coder
gave its code to the quote's segment (any overlap of the coder's span). Two
rankings side by side on the same codings: themekit's (score, closeness to
the code's other codings, the code being the segment's strongest:
:class:`themekit.analysis.summarize.QuoteRanker`) and by score alone.

Runs on the bundled sample (gold written together with it: shows regressions)
and, when ``../shared/dev-data/pdpilot-interviews`` is there, on real interviews
coded by their authors (zero-shot, codebook from the study's code system, by turn).

    python benchmarks/quotes.py [--n 3] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
from pathlib import Path

import yaml

import themekit
import themekit.analysis.summarize as summarize_module
from themekit.human.gold import map_gold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from quality_real import DATA, codebook_from_code_system, gold_from_coded_segments  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
RANKINGS = {
    "themekit (score, closeness, strongest code)": {"score": 1.0, "closeness": 1.0, "primary": 1.0},
    "score alone": {"score": 1.0, "closeness": 0.0, "primary": 0.0},
}


def quote_fit(run, gold: Path, n: int) -> dict:
    """How many of the run's quotes (``n`` per code) a human coder gave the same code."""
    mapped = map_gold(gold, run.segments, [c.id for c in run.codebook.codes], transcripts=run.corpus).codings
    coded = {(r.transcript, int(r.segment), r.code) for r in mapped.itertuples() if r.code}
    segment_at = {(r.transcript, int(r.start)): int(r.segment) for r in run.segments.itertuples()}
    fits = quotes = 0
    for theme in themekit.summarize(run, quotes_per_code=n):
        for code in theme.codes:
            for q in code.quotes:
                quotes += 1
                fits += (q.transcript, segment_at.get((q.transcript, q.start)), code.code_id) in coded
    return {"quotes": quotes, "fit": fits, "share": round(fits / max(quotes, 1), 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=3, help="quotes per code")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    studies = [
        (
            "sample (zero-shot, sentences)",
            themekit.code(ROOT / "transcripts_sample", codebook=ROOT / "codebooks" / "ati-keyworker.yaml"),
            ROOT / "transcripts_sample" / "codings" / "gold.csv",
        )
    ]
    scratch = Path(tempfile.mkdtemp())
    if DATA.is_dir():
        codebook = scratch / "codebook.yaml"
        codebook.write_text(yaml.safe_dump(codebook_from_code_system(DATA)), encoding="utf-8")
        gold = gold_from_coded_segments(DATA, scratch / "gold.csv")
        studies.append(
            (
                "real interviews (zero-shot, turns)",
                themekit.code(DATA / "transcripts", codebook=codebook, unit="turn"),
                gold,
            )
        )
    else:
        print(f"{DATA} is not here: the sample only.")
    results = {"machine": f"{platform.processor() or platform.machine()}, {platform.python_version()}", "n": args.n}
    saved = dict(summarize_module.QUOTE_WEIGHTS)
    try:
        for name, run, gold in studies:
            for ranking, weights in RANKINGS.items():
                summarize_module.QUOTE_WEIGHTS.update(weights)
                figure = quote_fit(run, gold, args.n)
                results.setdefault(name, {})[ranking] = figure
                print(
                    f"{name:40} {ranking:45} {figure['fit']:4d} of {figure['quotes']:4d} quotes fit ({figure['share']:.3f})"
                )
    finally:
        summarize_module.QUOTE_WEIGHTS.update(saved)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
