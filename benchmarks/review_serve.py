"""``themekit review serve``: server time to render a long transcript and to record a decision, and how soon the
review queue's page answers on its first visit.

Writes one synthetic interview of ``--words`` words, codes it with the rule method against a codebook of 40 codes
so it gets about ``--codings`` codings, records the run in a fresh project store, and times through Starlette's
TestClient (in process, no network): the transcript page (median of ``--repeats`` renders after a decision, so
the codings are recomputed each time) and a decision's round trip (accept or reject on a suggested coding, POST
to the JSON answer, the store's transaction included).

Then the queue, as a reviewer meets it: ``themekit review serve`` started in a process of its own (nothing
imported yet, the embedding cache empty, the decisions above in the store, so the classifier trains at once), over
HTTP: the first ``/queue`` (the page painted: its whole answer), when its cards have come (``/api/queue`` answers
with them), when the classifier's first training ends, and later ``/queue`` visits (median of 3). A themekit
without ``/api/queue`` (before the queue page answered at once) gets the first figure only, its cards in the page.

    python benchmarks/review_serve.py [--words 10000] [--codings 500] [--repeats 15] [--json out.json] [--no-queue]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
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


def _get(url: str, token: str | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"X-Themekit-Token": token} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def queue_visits(folder: Path, *, training_timeout: float) -> dict:
    """Seconds to the first /queue page, to its cards, to the classifier's first training, and later visits, against
    ``themekit review serve`` in a fresh process whose working folder (and so embedding cache) is new."""
    import themekit

    work = folder / "serve"
    work.mkdir()
    source = str(Path(themekit.__file__).resolve().parents[1])  # this themekit, wherever the server's folder is
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, *filter(None, [os.environ.get("PYTHONPATH")])])}
    server = subprocess.Popen(
        [sys.executable, "-m", "themekit", "review", "serve", str(folder / "r1"), "--project", str(folder / "p.db"),
         "--port", "0", "--coder", "bench"],
        cwd=work, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        said, found = "", None
        while not found and (line := server.stdout.readline()):  # "Reviewing run … at http://127.0.0.1:PORT/ …"
            said += line
            found = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
        if not found:
            raise SystemExit(f"themekit review serve did not start: {said}{server.stdout.read()}")
        base = found[1]
        while True:  # it prints its address before it listens: wait until it answers (its style sheet)
            try:
                _get(f"{base}/static/app.css")
                break
            except urllib.error.URLError:
                time.sleep(0.05)
        start = time.perf_counter()
        status, page = _get(f"{base}/queue")
        first = time.perf_counter() - start
        assert status == 200, page[:500]
        token = re.search(rb'name="themekit-token" content="([^"]+)"', page)[1].decode()
        report = {"queue_first_s": round(first, 3), "queue_cards_s": None, "queue_trained_s": None}
        if b'data-ready="1"' in page:
            report["queue_cards_s"] = report["queue_first_s"]
        status, _ = _get(f"{base}/api/queue?limit=0", token)
        if status == 404:  # before /api/queue: the page waited for its cards
            report["queue_cards_s"] = report["queue_first_s"]
        else:
            while report["queue_cards_s"] is None:
                answer = json.loads(_get(f"{base}/api/queue", token)[1])
                if answer["ready"]:
                    report["queue_cards_s"] = round(time.perf_counter() - start, 3)
                else:
                    time.sleep(0.05)
            while time.perf_counter() - start < training_timeout:
                answer = json.loads(_get(f"{base}/api/queue?limit=0", token)[1])
                if not answer["training"]:
                    report["queue_trained_s"] = round(time.perf_counter() - start, 3)
                    break
                time.sleep(0.2)
        later = []
        for _ in range(3):
            begun = time.perf_counter()
            _get(f"{base}/queue")
            later.append(time.perf_counter() - begun)
        report["queue_later_s"] = round(statistics.median(later), 3)
        return report
    finally:
        server.terminate()
        server.wait(60)


def main() -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=10_000)
    parser.add_argument("--codings", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--no-queue", action="store_true", help="leave out the review queue's first visit")
    parser.add_argument("--training-timeout", type=float, default=900, help="seconds to wait for the first training")
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
        queue = {} if args.no_queue else queue_visits(folder, training_timeout=args.training_timeout)
    report = {
        "words": words,
        "codings": len(run.codings),
        "codes": CODES,
        "repeats": args.repeats,
        "render_ms_median": round(statistics.median(render) * 1000, 1),
        "render_ms_unchanged": round(cached, 1),
        "render_ms_first": round(first, 1),
        "decision_ms_median": round(round_trip, 1),
        **queue,
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
    for name, key in (
        ("first /queue visit, page painted (target < 1 s)", "queue_first_s"),
        ("first /queue visit, its cards come", "queue_cards_s"),
        ("first /queue visit, the classifier's first training ends", "queue_trained_s"),
        ("later /queue visits", "queue_later_s"),
    ):
        if key in report:
            shown = "not measured" if report[key] is None else f"{report[key]:>8.2f} s"
            print(f"  {name:<55} {shown}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
