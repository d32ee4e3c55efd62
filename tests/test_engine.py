from __future__ import annotations

import functools
import json
import os
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import themekit
from themekit.cli import app
from themekit.errors import ThemekitError
from themekit.pipeline.engine import DaskEngine, SerialEngine, make_engine

from .conftest import SAMPLE, SAMPLE_CODEBOOK

#: Files of a run folder that must be the same bytes whoever ran it.
SAME_BYTES = (
    "excerpts.csv",
    "excerpts.parquet",
    "segments.parquet",
    "transcripts.parquet",
    "summary.md",
    "codebook.yaml",
)


def run_json(folder: Path) -> dict:
    """run.json without the fields that are about when and how fast, not what: created and timings."""
    record = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    record.pop("created")
    record.pop("timings_seconds")
    return record


def assert_same_run(a: Path, b: Path) -> None:
    for name in SAME_BYTES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert run_json(a) == run_json(b)


def sample_copy(tmp_path: Path) -> Path:
    """The sample with a duplicate-named file and an unreadable one, so failures are compared too."""
    folder = tmp_path / "corpus"
    shutil.copytree(SAMPLE, folder)
    shutil.copyfile(folder / "KW01.txt", folder / "KW01.md")
    (folder / "KW99.txt").write_bytes(b"   \n")
    return folder


def test_engine_local_workers_give_identical_run_folders(tmp_path):
    corpus = sample_copy(tmp_path)
    serial = themekit.code(corpus, SAMPLE_CODEBOOK, methods="rule", workers=1)
    pooled = themekit.code(corpus, SAMPLE_CODEBOOK, methods="rule", workers=2, batch_size=1)
    serial.save(tmp_path / "w1")
    pooled.save(tmp_path / "w2")
    assert_same_run(tmp_path / "w1", tmp_path / "w2")
    assert [t.id for t in pooled.corpus] == ["KW01", "KW02", "KW03", "KW04", "KW05", "KW06", "KW07", "KW08"]
    reasons = [reason for _, reason in pooled.corpus.failures]
    assert "has the same name as KW01.md" in reasons[0] and "KW99.txt: is empty" in reasons[1]
    assert len(serial.codings) > 500


def test_engine_batch_size_does_not_change_results(tmp_path):
    one = themekit.code(SAMPLE, SAMPLE_CODEBOOK, methods="rule", workers=1, batch_size=1)
    all_at_once = themekit.code(SAMPLE, SAMPLE_CODEBOOK, methods="rule", workers=1, batch_size=100)
    assert [(s.transcript.id, s.index, s.start, s.end) for s in one.units] == [
        (s.transcript.id, s.index, s.start, s.end) for s in all_at_once.units
    ]
    assert [(c.segment.start, c.code_id, c.evidence, c.score) for c in one.codings] == [
        (c.segment.start, c.code_id, c.evidence, c.score) for c in all_at_once.codings
    ]


def test_engine_rule_evidence_order_is_the_same_in_every_process(sample_rule_run):
    """Evidence terms differing only by case ("Debt", "debt") used to follow the hash seed."""
    evidence = [
        c.evidence
        for c in sample_rule_run.codings
        if c.code_id == "debt" and "Debt" in c.evidence and "debt," in c.evidence
    ]
    assert evidence and all(e.index("Debt") < e.index("debt,") for e in evidence)


PROBE = """\
import os
import sys
import time
from pathlib import Path


class Probe:
    \"\"\"Runs a BatchJob and reports which process ran it and which heavy modules that process had loaded.

    This process runs no batch before a started worker is ready (it waits up to half an hour, a hang guard), so the
    worker gets batches too, however slowly it starts.
    \"\"\"

    def __init__(self, job, parent, ready):
        self.job, self.parent, self.ready = job, parent, ready

    def prepare(self):
        self.job.prepare()
        Path(self.ready).touch()

    def __call__(self, batch):
        if os.getpid() == self.parent:
            deadline = time.monotonic() + 1800
            while not os.path.exists(self.ready) and time.monotonic() < deadline:
                time.sleep(0.01)
        outcomes, _ = self.job(batch)
        loaded = sorted(m for m in ("torch", "pandas", "sklearn", "sentence_transformers", "bertopic") if sys.modules.get(m))
        return os.getpid(), [(o.transcript.id, len(o.segments), len(o.codings["rule"])) for o in outcomes], loaded
"""


def test_engine_local_workers_share_batches_and_start_without_torch_or_pandas(tmp_path, monkeypatch):
    from themekit.codebook import Codebook
    from themekit.pipeline.batch import BatchJob
    from themekit.pipeline.engine import ProcessEngine

    (tmp_path / "themekit_probe.py").write_text(PROBE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import themekit_probe

    job = BatchJob(Codebook.load(SAMPLE_CODEBOOK), "blank", "sentence", 5, ("participant",), coders=("rule",))
    files = sorted(f for f in SAMPLE.glob("KW0*.*") if f.suffix != ".csv") * 4  # a .csv transcript is read with pandas
    batches = [[f] for f in files]
    probe = themekit_probe.Probe(job, os.getpid(), str(tmp_path / "worker-ready"))
    results = list(ProcessEngine(2, block_imports=("torch",)).map(probe, batches))
    assert (tmp_path / "worker-ready").is_file()
    assert [r[1][0][0] for r in results] == [f.stem for f in files]  # input order, whoever ran each batch
    assert all(segments > 20 and codings > 10 for r in results for _, segments, codings in r[1])
    workers = {pid for pid, _, _ in results} - {os.getpid()}
    assert len(workers) == 1  # one started worker beside this process
    # the worker read (txt, md, docx, vtt, srt), segmented and coded with none of these loaded
    assert {tuple(loaded) for pid, _, loaded in results if pid in workers} == {()}


def test_engine_choice_errors_name_the_fix():
    with pytest.raises(ThemekitError, match="unknown engine 'spark'.*local, dask"):
        make_engine("spark")
    with pytest.raises(ThemekitError, match="workers= must be 1 or more"):
        make_engine("local", workers=0)
    with pytest.raises(ThemekitError, match="scheduler= is for engine='dask'"):
        make_engine("local", scheduler="tcp://127.0.0.1:8786")
    assert isinstance(make_engine("local", workers=1), SerialEngine)


def test_engine_cli_workers_two_writes_the_same_folder(tmp_path, tiny_corpus, tiny_codebook):
    runner = CliRunner()
    for workers in ("1", "2"):
        result = runner.invoke(
            app,
            [
                "code",
                str(tiny_corpus),
                "--codebook",
                str(tiny_codebook),
                "--out",
                str(tmp_path / f"w{workers}"),
                "--method",
                "rule",
                "--workers",
                workers,
                "--quiet",
            ],
        )
        assert result.exit_code == 0, result.output
    assert_same_run(tmp_path / "w1", tmp_path / "w2")
    assert "debt" in (tmp_path / "w2" / "excerpts.csv").read_text()


@pytest.mark.slow
def test_engine_semantic_run_with_workers_matches_serial(tmp_path, tiny_corpus, tiny_codebook):
    serial = themekit.code(tiny_corpus, tiny_codebook, workers=1, cache_dir=None)
    pooled = themekit.code(tiny_corpus, tiny_codebook, workers=2, cache_dir=None)
    serial.save(tmp_path / "w1")
    pooled.save(tmp_path / "w2")
    assert_same_run(tmp_path / "w1", tmp_path / "w2")
    assert any("semantic" in c.method for c in pooled.codings)


@pytest.mark.slow
def test_engine_cli_unreachable_scheduler_is_one_line_error(tmp_path, tiny_corpus, tiny_codebook):
    result = CliRunner().invoke(
        app,
        [
            "code",
            str(tiny_corpus),
            "--codebook",
            str(tiny_codebook),
            "--out",
            str(tmp_path / "run"),
            "--engine",
            "dask",
            "--scheduler",
            "tcp://127.0.0.1:9",
        ],
    )
    assert result.exit_code == 1
    assert "no Dask scheduler answered at tcp://127.0.0.1:9" in result.output
    assert "dask scheduler" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "run").exists()


# --- Dask: one LocalCluster for the module ---------------------------------------------------------


@pytest.fixture(scope="module")
def dask_client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def _die_once(marker: str, func, batch):
    """Kill the worker process running the first batch, the first time only."""
    if not os.path.exists(marker) and batch and Path(batch[0]).stem == "KW01":
        Path(marker).write_text(str(os.getpid()))
        os._exit(1)
    return func(batch)


class _KillingEngine(DaskEngine):
    def __init__(self, client, marker: Path) -> None:
        super().__init__(client=client)
        self.marker = marker

    def map(self, func, batches):
        return super().map(functools.partial(_die_once, str(self.marker), func), batches)


@pytest.mark.slow
def test_engine_dask_local_cluster_matches_serial(tmp_path, dask_client):
    corpus = sample_copy(tmp_path)
    themekit.code(corpus, SAMPLE_CODEBOOK, methods="rule", workers=1).save(tmp_path / "serial")
    themekit.code(corpus, SAMPLE_CODEBOOK, methods="rule", engine=DaskEngine(client=dask_client), batch_size=2).save(
        tmp_path / "dask"
    )
    assert_same_run(tmp_path / "serial", tmp_path / "dask")


@pytest.mark.slow
def test_engine_dask_run_survives_a_killed_worker(tmp_path, dask_client):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the workers need not import the tests
    marker = tmp_path / "killed"
    themekit.code(SAMPLE, SAMPLE_CODEBOOK, methods="rule", workers=1).save(tmp_path / "serial")
    run = themekit.code(
        SAMPLE, SAMPLE_CODEBOOK, methods="rule", engine=_KillingEngine(dask_client, marker), batch_size=3
    )
    run.save(tmp_path / "dask")
    assert marker.is_file()  # a worker really died mid-run
    assert int(marker.read_text()) != os.getpid()
    assert_same_run(tmp_path / "serial", tmp_path / "dask")
