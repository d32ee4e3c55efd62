"""Live progress: every long stage reports as it runs, in the terminal (rich) and in notebooks (tqdm), with no
warnings, and not at all under --quiet."""

from __future__ import annotations

import io
import sys
import time
import warnings
from types import SimpleNamespace

import numpy as np

from themekit.nlp.embed import ReportingEmbedder


class _Fake:
    identity = "fake:1"
    description = "a fake embedder"

    def encode(self, texts):
        return np.array([[float(len(t)), 1.0] for t in texts], dtype=np.float32)


def test_progress_embedding_reports_each_batch_with_a_growing_total():
    calls = []
    embedder = ReportingEmbedder(_Fake(), lambda *a: calls.append(a), batch=256)
    texts = [f"text {i}" for i in range(600)]
    vectors = embedder.encode(texts)
    assert np.array_equal(vectors, _Fake().encode(texts))  # the same vectors, encoded in steps
    assert calls == [("embed", 256, 600), ("embed", 256, 600), ("embed", 88, 600)]
    embedder.encode(["one more"])
    assert calls[-1] == ("embed", 1, 601)
    assert embedder.identity == "fake:1"  # the cache keys vectors by the wrapped model


def test_progress_coder_context_hands_coders_a_reporting_embedder(tmp_path):
    from themekit.coding import CoderContext
    from themekit.nlp.language import load_pipeline

    calls = []
    context = CoderContext(
        load_pipeline("blank"), embedder=_Fake, cache_dir=tmp_path, progress=lambda *a: calls.append(a)
    )
    embedder, cache = context.embedding()
    cache.embed(["a", "b", "a"], embedder)
    assert calls == [("embed", 2, 2)]  # only texts not in the cache are embedded, and counted
    cache.embed(["a", "b"], embedder)
    assert calls == [("embed", 2, 2)]
    quiet = CoderContext(load_pipeline("blank"), embedder=_Fake)
    assert isinstance(quiet.embedding()[0], _Fake)
    quiet.report("classifier", 1, 3)  # no callback: nothing happens


def test_progress_tqdm_bars_show_time_left_and_raise_no_warning(monkeypatch):
    from themekit.util import progress

    monkeypatch.setattr(progress, "in_notebook", lambda: True)  # Jupyter, without ipywidgets installed
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    shown = io.StringIO()
    bars = progress.TqdmProgress(delay=0, file=shown)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # tqdm's "IProgress not found" would fail here
        bars("embed", 10, 100)
        bars("embed", 40, 200)
        assert (bars.bar.n, bars.bar.total) == (50, 200)
        bars("code:semantic", 0, 1)  # one bar at a time: the stage that reported last
        bars("embed", 25, 200)
        assert (bars.stage, bars.bar.n, bars.bar.total) == ("embed", 75, 200)
        bars.close()
    text = shown.getvalue()
    assert "embedding:" in text and "/200 [00:00<" in text  # tqdm's [elapsed<remaining]
    assert "coding: semantic" in text


def test_progress_importing_tqdm_auto_in_jupyter_without_ipywidgets_warns_nothing(monkeypatch):
    import importlib

    from themekit.util.progress import quiet_tqdm_import

    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    # what tqdm.autonotebook takes for a Jupyter kernel
    monkeypatch.setitem(sys.modules, "ipykernel.zmqshell", SimpleNamespace())
    monkeypatch.setitem(sys.modules, "IPython", SimpleNamespace(get_ipython=lambda: SimpleNamespace()))

    def imported(quiet: bool) -> list[str]:
        for name in ("tqdm.auto", "tqdm.autonotebook", "tqdm.notebook"):
            monkeypatch.delitem(sys.modules, name, raising=False)
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            if quiet:
                with quiet_tqdm_import():
                    importlib.import_module("tqdm.auto")
            else:
                importlib.import_module("tqdm.auto")
        return [str(w.message) for w in seen if "IProgress" in str(w.message)]

    assert imported(quiet=False)  # what a notebook printed in red before
    assert imported(quiet=True) == []


def test_progress_cli_bars_appear_after_the_delay_and_never_when_quiet():
    from themekit.cli.app import _Progress

    quiet = _Progress(enabled=False, delay=0)
    quiet("embed", 5, 10)
    assert quiet.bar is None and quiet.timer is None
    bars = _Progress(enabled=True, delay=0.05)
    bars("segment", 8, 8)
    bars("code:semantic", 0, 1)
    assert bars.bar is None  # not yet: short runs show no bar
    time.sleep(0.3)
    bars("embed", 64, 1000)
    try:
        shown = {t.description: (t.completed, t.total) for t in bars.bar.tasks}
        assert shown == {"reading and segmenting": (8, 8), "coding: semantic": (0, 1), "embedding": (64, 1000)}
        assert any(type(c).__name__ == "TimeRemainingColumn" for c in bars.bar.columns)
    finally:
        bars.close()


def _run(trained_on, gold="transcripts/gold.csv"):
    transcripts = [SimpleNamespace(id="P01", sha256="aaa"), SimpleNamespace(id="P02", sha256="bbb")]
    learned = {
        "debt": {"positives": 4, "negatives": 6, "trained": True},
        "trust": {"positives": 2, "negatives": 8, "trained": False},
    }
    return SimpleNamespace(
        settings={"gold": {"path": gold}} if gold else {},
        stats={"classifier": learned, "classifier_trained_on": trained_on},
        codebook=[object()] * 3,
        corpus=transcripts,
    ), learned


def test_progress_terminal_says_what_the_classifier_learned_from():
    from themekit.cli import coding

    class Corpus(list):
        @property
        def transcripts(self):
            return list(self)

    run, learned = _run({"P01": "aaa", "P02": "changed", "X9": None})
    run.corpus = Corpus(run.corpus)
    line = coding._classifier_line(run, learned)
    assert line.startswith(
        "Classifier trained on transcripts/gold.csv: 6 human codings of 10 excerpts, models for 1 of 3 codes"
    )
    assert "it learned from 1 of the 2 transcripts it coded (P01)" in line  # P02 was edited since: not the same text
    run.stats["classifier_trained_on"] = {"X9": None}
    assert "Note" not in coding._classifier_line(run, learned)
    run.settings = {}
    assert "Classifier trained on the project's review decisions" in coding._classifier_line(run, learned)
