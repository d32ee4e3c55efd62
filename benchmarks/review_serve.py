"""``themekit review serve``: server time to render a long transcript and to record a decision.

Writes one synthetic interview of ``--words`` words, codes it with the rule method against a codebook of 40 codes
so it gets about ``--codings`` codings, records the run in a fresh project store, and times through Starlette's
TestClient (in process, no network): the transcript page (median of ``--repeats`` renders after a decision, so
the codings are recomputed each time) and a decision's round trip (accept or reject on a suggested coding, POST
to the JSON answer, the store's transaction included).

    python benchmarks/review_serve.py [--words 10000] [--codings 500] [--repeats 15] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import tempfile
import time
from pathlib import Path

CODES = 40
FILLER = (
    "we talked about the week and what came next for the family and the house and the job "
    "it was hard to say how long it would take but people were there when it mattered"
).split()


def codebook(codes: int) -> str:
    lines = ["schema_version: 1", "name: Benchmark", "version: 1.0.0", "themes:"]
    for theme in range(4):
        lines += [f"  - id: theme{theme}", f"    label: Theme {theme}", "    codes:"]
        for k in range(theme, codes, 4):
            lines.append(
                f"      - {{id: code{k:02d}, label: Code {k}, definition: Talk of topic {k}., keywords: [topic{k:02d}]}}"
            )
    return "\n".join(lines) + "\n"


def transcript(words: int, codings: int, codes: int, rng: random.Random) -> str:
    """Turns of about 60 words, sentences of 12; ``codings`` sentences name a code's keyword (some two)."""
    sentences = -(-words // 12)
    coded = set(rng.sample(range(sentences), min(codings, sentences)))
    turns, sentence, k = [], [], 0
    for s in range(sentences):
        text = [rng.choice(FILLER) for _ in range(12)]
        if s in coded:
            text[rng.randrange(12)] = f"topic{rng.randrange(codes):02d}"
        sentence.append(" ".join(text).capitalize() + ".")
        if len(sentence) == 5:
            who = "Interviewer" if k % 4 == 3 else "P01"
            turns.append(f"[{k // 60:02d}:{k % 60:02d}:00] {who}: {' '.join(sentence)}")
            sentence, k = [], k + 1
    if sentence:
        turns.append(f"P01: {' '.join(sentence)}")
    return "\n\n".join(turns) + "\n"


def timed(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--codings", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    from starlette.testclient import TestClient

    import themekit
    from themekit.web import create_app

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "t").mkdir()
        # interviewer turns are not coded: ask for a third more so the participant's turns carry about --codings
        (folder / "t" / "P01.txt").write_text(
            transcript(args.words, args.codings * 4 // 3, CODES, random.Random(17)), encoding="utf-8"
        )
        (folder / "codebook.yaml").write_text(codebook(CODES), encoding="utf-8")
        run = themekit.code(
            folder / "t", folder / "codebook.yaml", methods="rule", cache_dir=None, project=folder / "p.db"
        )
        run.save(folder / "r1")
        words = run.corpus.transcripts[0].word_count
        client = TestClient(create_app(folder / "p.db", run, coder="bench", token="t"), base_url="http://127.0.0.1")
        with client:
            first = timed(lambda: client.get("/t/P01"), 1)
            page = client.get("/t/P01").text
            ids = re.findall(r'data-id="(\w+)" data-code="\w+" data-status="suggested"', page)
            decide = iter(ids)

            def one_decision() -> None:
                answer = client.post(
                    "/api/decide",
                    json={"id": next(decide), "decision": random.choice(("accept", "reject"))},
                    headers={"X-Themekit-Token": "t"},
                )
                assert answer.status_code == 200, answer.text

            def render_after_a_decision() -> None:
                one_decision()
                start = time.perf_counter()
                client.get("/t/P01").raise_for_status()
                render.append(time.perf_counter() - start)

            round_trip = timed(one_decision, args.repeats)
            render: list[float] = []
            for _ in range(args.repeats):
                render_after_a_decision()
            cached = timed(lambda: client.get("/t/P01"), args.repeats)
    report = {
        "words": words,
        "codings": len(run.codings),
        "codes": CODES,
        "repeats": args.repeats,
        "render_ms_median": round(statistics.median(render) * 1000, 1),
        "render_ms_unchanged": round(cached, 1),
        "render_ms_first": round(first, 1),
        "decision_ms_median": round(round_trip, 1),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
    }
    rows = [
        ("transcript page, after a decision (target < 300 ms)", report["render_ms_median"]),
        ("transcript page, nothing changed", report["render_ms_unchanged"]),
        ("transcript page, first (store opened)", report["render_ms_first"]),
        ("decision round trip (target < 100 ms)", report["decision_ms_median"]),
    ]
    print(f"{words} words, {len(run.codings)} codings, {CODES} codes; medians of {args.repeats}; {report['machine']}")
    for name, value in rows:
        print(f"  {name:<55} {value:>8.1f} ms")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
