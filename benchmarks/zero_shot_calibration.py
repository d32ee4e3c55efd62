"""Where the semantic coder's probabilities come from, and how well they hold on real interviews.

A semantic coding's score ranks segments (0.5 is the code's threshold); its
probability says how often a coder gives the code to such a segment
(``themekit.coding.semantic.PROBABILITY_MAP``). This script fits that map, a
logistic regression of "the coder gave this code here" on the score's log-odds,
on the bundled sample's semantic codings (coded by meaning alone, by sentence
and by turn, scored against its gold codings), then measures the probabilities themekit gives on
real interviews the fit never saw: the PDPilot interviews in
``../shared/dev-data`` (codebook from the study's code system, as
``quality_real.py`` builds it), by turn and by sentence. Figures per corpus and
unit: codings, their mean probability, the share the coder gave, expected
calibration error (10 bins) and the area under the ROC curve of the
probability (0.5: it tells right from wrong codings no better than chance),
for runs with themekit's default methods (rules and meaning: a coding both
give has the semantic coder's probability).

    python benchmarks/zero_shot_calibration.py [--json results.json]

Without the real interviews it fits and reports on the sample only.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml

import themekit
from themekit.coding.classifier import expected_calibration_error
from themekit.coding.semantic import PROBABILITY_MAP
from themekit.human.gold import CodeNames, map_gold

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the benchmarks' own helpers
import quality_real  # noqa: E402
from machine import machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "transcripts_sample"
CACHE = Path(os.environ.get("THEMEKIT_BENCH_CACHE", ROOT / ".themekit" / "cache"))


def semantic_codings(run, gold: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per semantic coding (alone or with rules) of a participant segment in a transcript the coder read: its score,
    its probability, and whether the coder gave the code there."""
    mapped = map_gold(gold, run.segments, CodeNames(run.codebook), transcripts=run.corpus, turns=run.corpus.turns)
    coded = {(t, int(s), c) for t, s, c in mapped.codings.itertuples(index=False) if c}
    named = set(mapped.codings["transcript"])
    e = run.excerpts
    e = e[
        (e["role"] == "participant")
        & ~e["negated"].astype(bool)
        & e["transcript"].isin(named)
        & e["method"].astype(str).str.contains("semantic")
    ]
    agreed = np.array([(t, int(s), c) in coded for t, s, c in zip(e["transcript"], e["segment"], e["code"])], float)
    return e["score"].to_numpy(float), e["probability"].to_numpy(float), agreed


def _log_odds(score: np.ndarray) -> np.ndarray:
    p = np.clip(score, 1e-4, 1 - 1e-4)
    return np.log(p / (1 - p))


def _figures(probability: np.ndarray, agreed: np.ndarray) -> dict:
    from sklearn.metrics import roc_auc_score

    return {
        "codings": len(agreed),
        "mean_probability": round(float(probability.mean()), 3),
        "coder_gave": round(float(agreed.mean()), 3),
        "ece": round(expected_calibration_error(agreed, probability), 3),
        "auc": round(float(roc_auc_score(agreed, probability)), 3),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    from sklearn.linear_model import LogisticRegression

    cases: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    fit_on = []
    for unit in ("sentence", "turn"):
        for methods in ("semantic", "rule,semantic"):
            run = themekit.code(SAMPLE, ROOT / "codebooks" / "ati-keyworker.yaml", unit=unit, methods=methods,
                                cache_dir=CACHE, project=None)  # fmt: skip
            found = semantic_codings(run, SAMPLE / "codings" / "gold.csv")
            if methods == "semantic":  # the fit reads the semantic score alone, not combined with the rules'
                fit_on.append(found)
            else:
                cases[("sample", unit)] = found
    data = quality_real.DATA
    if (data / "coded_segments.csv").is_file():
        with tempfile.TemporaryDirectory(prefix="themekit-calibration-") as tmp:
            codebook = Path(tmp) / "codebook.yaml"
            codebook.write_text(yaml.safe_dump(quality_real.codebook_from_code_system(data), sort_keys=False))
            gold = quality_real.gold_from_coded_segments(data, Path(tmp) / "gold.csv")
            for unit in ("turn", "sentence"):
                run = themekit.code(data / "transcripts", codebook, unit=unit, interviewer_labels=["Dan"],
                                    cache_dir=CACHE, project=None)  # fmt: skip
                cases[("PDPilot (real)", unit)] = semantic_codings(run, gold)
    x = np.concatenate([_log_odds(score) for score, _, _ in fit_on])[:, None]
    y = np.concatenate([agreed for _, _, agreed in fit_on])
    model = LogisticRegression(C=1.0).fit(x, y)
    fitted = (round(float(model.coef_[0][0]), 2), round(float(model.intercept_[0]), 2))
    print(f"machine: {machine()}")
    print(
        f"fitted on the sample's {len(y)} semantic codings: PROBABILITY_MAP = {fitted} (themekit has {PROBABILITY_MAP})"
    )
    print("| corpus | unit | codings | mean probability | the coder gave | ECE | AUC |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    results = {}
    for (corpus, unit), (_, probability, agreed) in cases.items():
        r = results[f"{corpus}, {unit}"] = _figures(probability, agreed)
        print(
            f"| {corpus} | {unit} | {r['codings']} | {r['mean_probability']:.2f} | {r['coder_gave']:.2f} | "
            f"{r['ece']:.3f} | {r['auc']:.2f} |"
        )
    if args.json:
        args.json.write_text(
            json.dumps({"fitted": fitted, "themekit": list(PROBABILITY_MAP), "results": results}, indent=2) + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
