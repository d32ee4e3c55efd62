"""The sentence-embedding model adapted to a study's own talk, without anybody's codings.

A study's interviews have their own vocabulary (a product's name, a
technique, a local service) that a general sentence encoder reads as
anything else. :func:`adapted_embedder` fine-tunes a copy of the run's
model on the corpus' own sentences with SimCSE's unsupervised objective
(Gao, Yao and Chen, 2021): each sentence is encoded twice, with different
dropout, and the two encodings are pulled together and away from the other
sentences of the batch. No label is used, so the corpus being coded can
teach it; nothing is downloaded.

The classifier can learn its features from the adapted model
(``adapt_encoder=True``, ``themekit code --adapt-encoder``), where
cross-validation says it ranks the coder's excerpts at least as well as the
model as it is; the semantic
coder, and the codebook's reading of each segment that the classifier's
ranking adds, keep the model as it is. On the real interviews of the
benchmarks, coded by turn, this raised learned macro F1 by 0.02-0.03 at 2 to
7 folds; coded by sentence it was level (see ``benchmarks/README.md``).

The adapted model is kept in the cache folder, keyed by the base model's
weights, the settings below and the sentences, so a re-run of the same
corpus reads it back instead of training again; training is seeded. At most
``MAX_SENTENCES`` sentences are learned from (a seeded sample of a larger
corpus), which bounds the time: 73 s for 1,086 sentences on two cores.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import random
import shutil
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from themekit.nlp.embed import SentenceTransformerEmbedder

__all__ = ["MAX_SENTENCES", "Adapted", "adapted_embedder", "training_sentences"]

#: Passes over the sentences.
EPOCHS = 1
#: Sentences per batch: each is told apart from the others of its batch.
BATCH = 32
#: AdamW's learning rate (SimCSE's for small models).
LEARNING_RATE = 3e-5
#: Cosine similarities are multiplied by this before the softmax over the batch (a temperature of 0.05).
SCALE = 20.0
#: Word pieces of a sentence read while training.
MAX_TOKENS = 128
#: Shorter sentences ("Yeah.", "Okay, right.") teach nothing and are left out.
MIN_WORDS = 4
#: The most sentences learned from: a seeded sample of a larger corpus.
MAX_SENTENCES = 3000
#: The seed of the sample, the order of the batches and the dropout.
SEED = 0
#: The folder under the cache folder that keeps adapted models.
FOLDER = "adapted"


@dataclass(frozen=True)
class Adapted:
    """An adapted model: its embedder, the base model's identity, how many sentences it learned from, whether it
    was read back from the cache, and the seconds its training took (0 when read back)."""

    embedder: SentenceTransformerEmbedder
    base: str
    sentences: int
    cached: bool
    seconds: float

    def record(self) -> dict:
        """What run.json says of it."""
        return {
            "identity": self.embedder.identity,
            "adapted_from": self.base,
            "sentences": self.sentences,
            "cached": self.cached,
            "seconds": round(self.seconds, 1),
            "method": f"SimCSE, {EPOCHS} epoch, batches of {BATCH}, learning rate {LEARNING_RATE:g}, seed {SEED}",
        }


def training_sentences(sentences: Sequence[str]) -> list[str]:
    """The sentences learned from: distinct, of at least ``MIN_WORDS`` words, at most ``MAX_SENTENCES`` of them
    (a seeded sample), in a fixed order."""
    distinct = sorted({" ".join(s.split()) for s in sentences if len(s.split()) >= MIN_WORDS})
    if len(distinct) > MAX_SENTENCES:
        distinct = sorted(random.Random(SEED).sample(distinct, MAX_SENTENCES))
    return distinct


def _key(base: SentenceTransformerEmbedder, sentences: list[str]) -> str:
    digest = hashlib.sha256()
    settings = (EPOCHS, BATCH, LEARNING_RATE, SCALE, MAX_TOKENS, MIN_WORDS, MAX_SENTENCES, SEED)
    digest.update(f"{base.weights_sha256}|{settings}".encode())
    for sentence in sentences:
        digest.update(b"\n" + sentence.encode("utf-8"))
    return digest.hexdigest()


def adapted_embedder(
    base: SentenceTransformerEmbedder,
    sentences: Sequence[str],
    cache_dir: str | os.PathLike | None,
    *,
    progress: Callable[[str, int, int], None] | None = None,
) -> Adapted:
    """``base`` fine-tuned on ``sentences`` (see the module's documentation), read back from ``cache_dir`` when it
    was trained on the same sentences before. Without a cache folder it is trained into a temporary folder, removed
    when the process ends. ``progress("adapt", 1, batches)`` is called per batch trained."""
    chosen = training_sentences(sentences)
    key = _key(base, chosen)
    if cache_dir is not None:
        folder = Path(cache_dir) / FOLDER / f"{base.model_dir.name}-{key[:16]}"
    else:
        scratch = tempfile.mkdtemp(prefix="themekit-adapted-")
        atexit.register(shutil.rmtree, scratch, True)
        folder = Path(scratch) / f"{base.model_dir.name}-{key[:16]}"
    if (folder / "config.json").is_file():
        return Adapted(SentenceTransformerEmbedder(folder), base.identity, len(chosen), True, 0.0)
    started = time.perf_counter()
    _train(base, chosen, folder, progress)
    return Adapted(
        SentenceTransformerEmbedder(folder), base.identity, len(chosen), False, time.perf_counter() - started
    )


def _train(
    base: SentenceTransformerEmbedder,
    sentences: list[str],
    folder: Path,
    progress: Callable[[str, int, int], None] | None,
) -> None:
    """Fine-tune a fresh copy of ``base`` and save it to ``folder`` whole or not at all (written beside it, then
    renamed)."""
    import torch
    import torch.nn.functional as functional
    from sentence_transformers import SentenceTransformer

    base._load()  # the same offline, quiet loading as the embedder's, which also checks the folder
    torch.manual_seed(SEED)
    model = SentenceTransformer(str(base.model_dir), device="cpu", local_files_only=True)
    model.max_seq_length = min(MAX_TOKENS, model.max_seq_length or MAX_TOKENS)
    shuffle, batches = random.Random(SEED), []
    for _ in range(EPOCHS):
        order = list(sentences)
        shuffle.shuffle(order)
        # a sentence alone in its batch has nothing to be told apart from
        batches += [order[k : k + BATCH] for k in range(0, len(order), BATCH) if len(order[k : k + BATCH]) >= 2]
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    model.train()
    for batch in batches:
        first = model(model.preprocess(batch))["sentence_embedding"]
        second = model(model.preprocess(batch))["sentence_embedding"]  # the same sentences, other dropout
        similarity = functional.normalize(first, dim=-1) @ functional.normalize(second, dim=-1).T
        loss = functional.cross_entropy(similarity * SCALE, torch.arange(len(batch)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if progress is not None:
            progress("adapt", 1, len(batches))
    model.eval()
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    try:
        model.save(str(partial))
        try:
            partial.rename(folder)
        except OSError:  # trained at the same time by another run: keep theirs
            if not (folder / "config.json").is_file():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
