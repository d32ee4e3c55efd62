"""The spaCy pipeline themekit uses, built without downloading anything.

By default: ``spacy.blank("en")`` with lookup lemmas from spacy-lookups-data
and the rule-based sentencizer. An installed spaCy model (for example
``en_core_web_sm``) can be named instead. Every pipeline sets each token's
``norm_`` to the Snowball stem of its lower-cased lemma, so "isolated",
"isolation" and "isolating" all share the norm ``isol`` and keyword matching
works on word families.

With the default pipeline, one component (``themekit_blank``) does the work of
spaCy's lookup lemmatizer, ``themekit_norm`` and spaCy's sentencizer at once,
with the same results: a lookup lemma depends only on the token's text, so the
lemma and norm are worked out once per distinct word form and set from arrays,
and sentence starts follow from arrays of per-word-form flags. A named spaCy
model keeps spaCy's own components and ends with ``themekit_norm``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache

import numpy as np
import snowballstemmer
import spacy
from spacy.attrs import LEMMA, LOWER, NORM, ORTH, SENT_START
from spacy.language import Language
from spacy.lookups import Table, load_lookups
from spacy.pipeline import Sentencizer
from spacy.tokens import Doc
from spacy.util import minibatch
from spacy.vocab import Vocab

from themekit.errors import ModelError

__all__ = ["BLANK", "BlankAnnotator", "load_pipeline", "pipe_texts", "shared_vocab", "stem", "uses_torch"]

BLANK = "blank"
_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball stem of a lower-cased word (cached: vocabularies are small)."""
    return _stemmer.stemWord(word.lower())


@lru_cache(maxsize=262144)
def _norm_of(strings, key: int) -> int:
    """The string hash of the stem of the string with hash ``key`` (added to ``strings``)."""
    return strings.add(stem(strings[key].lower()))


@Language.component("themekit_norm")
def themekit_norm(doc: Doc) -> Doc:
    """Each token's norm: the Snowball stem of its lower-cased lemma (its lower form when it has no lemma).

    Works on token arrays, one stem per distinct lemma, instead of a Token object per token."""
    if not len(doc):
        return doc
    keys = doc.to_array([LEMMA, LOWER])
    strings = doc.vocab.strings
    norms = np.fromiter(
        (_norm_of(strings, int(lemma) or int(lower)) for lemma, lower in keys), dtype=np.uint64, count=len(doc)
    )
    doc.from_array([NORM], norms.reshape(-1, 1))
    return doc


class BlankAnnotator:
    """Lookup lemma, norm and sentence starts of every token, from arrays.

    Gives exactly what spaCy's lookup ``lemmatizer``, then ``sentencizer`` (default
    punctuation), then ``themekit_norm`` give on a blank English pipeline: the
    lemma is the lookup table's entry for the token's text (the text itself when
    absent), the norm is the stem of the lower-cased lemma, and a sentence starts
    at the first token that is neither punctuation nor a sentence-final character
    after a sentence-final character. What a word form gets is remembered, so each
    distinct form is looked up and stemmed once per process.
    """

    def __init__(self, vocab: Vocab, table: Table, punct_chars: frozenset[str] | None = None) -> None:
        self.vocab = vocab
        self.table = table
        self.punct_chars = frozenset(Sentencizer.default_punct_chars if punct_chars is None else punct_chars)
        # orth -> row of self._rows: lemma, norm, 1 if a sentence-final character, 1 if a word (neither that nor punctuation)
        self._index: dict[int, int] = {}
        self._rows = np.zeros((1024, 4), dtype=np.uint64)

    def _learn(self, orth: int) -> int:
        strings = self.vocab.strings
        text = strings[orth]
        lemma = self.table.get(text, text)
        if not isinstance(lemma, str):
            lemma = lemma[0]
        lemma_key = strings.add(lemma)
        lexeme = self.vocab[orth]
        final = text in self.punct_chars
        word = not final and not lexeme.is_punct
        row = len(self._index)
        if row == len(self._rows):
            self._rows = np.concatenate((self._rows, np.zeros_like(self._rows)))
        self._rows[row] = (lemma_key, _norm_of(strings, lemma_key or lexeme.lower), final, word)
        self._index[orth] = row
        return row

    def __call__(self, doc: Doc) -> Doc:
        self._annotate([doc])
        return doc

    def pipe(self, docs: Iterable[Doc], *, batch_size: int = 128) -> Iterator[Doc]:
        for batch in minibatch(docs, size=batch_size):
            self._annotate(batch)
            yield from batch

    def _annotate(self, docs: list[Doc]) -> None:
        """Annotate a batch of Docs at once: one array of all their tokens."""
        docs = [doc for doc in docs if len(doc)]
        if not docs:
            return
        lengths = np.array([len(doc) for doc in docs])
        offsets = np.concatenate(([0], np.cumsum(lengths)))
        index, learn = self._index, self._learn
        orths = np.concatenate([doc.to_array(ORTH) for doc in docs]).tolist()
        known = [index[orth] if orth in index else learn(orth) for orth in orths]
        rows = self._rows[known]  # after learning: learning may grow the table
        # A word starts a sentence when a sentence-final character stands between it and the
        # previous word of its Doc (or its Doc's start); the first token of a Doc always does.
        finals_before = np.concatenate(([0], np.cumsum(rows[:, 2])))
        words = np.flatnonzero(rows[:, 3])
        doc_start = offsets[np.searchsorted(offsets, words, side="right") - 1]
        previous_end = np.maximum(np.concatenate(([0], words[:-1] + 1)), doc_start)
        sent = np.full(len(orths), -1, dtype=np.int64)
        sent[words[finals_before[words] > finals_before[previous_end]]] = 1
        sent[offsets[:-1]] = 1
        values = np.empty((len(orths), 3), dtype=np.uint64)
        values[:, :2] = rows[:, :2]
        values[:, 2] = sent.astype(np.uint64)
        for doc, start, end in zip(docs, offsets[:-1].tolist(), offsets[1:].tolist()):
            doc.from_array([LEMMA, NORM, SENT_START], values[start:end])


def _lemma_table() -> Table:
    try:
        return load_lookups(lang="en", tables=["lemma_lookup"]).get_table("lemma_lookup")
    except (ValueError, KeyError, OSError) as exc:  # spacy-lookups-data missing (ValueError), or its files unreadable
        raise ModelError(
            f"the lookup lemmatizer could not load its tables ({exc}). "
            "Install them with: pip install spacy-lookups-data"
        ) from exc


@Language.factory("themekit_blank")
def make_blank_annotator(nlp: Language, name: str) -> BlankAnnotator:
    return BlankAnnotator(nlp.vocab, _lemma_table())


@lru_cache(maxsize=4)
def load_pipeline(model: str = BLANK) -> Language:
    """The pipeline for ``model`` ("blank" or an installed spaCy package name)."""
    if model == BLANK:
        nlp = spacy.blank("en")
        nlp.add_pipe("themekit_blank")
        return nlp
    try:
        nlp = spacy.load(model, exclude=["ner", "parser", "textcat"])
    except OSError:
        raise ModelError(
            f"spaCy model '{model}' is not installed. Install it as a package, "
            f"or use the default pipeline with spacy_model='{BLANK}'",
            param="spacy_model",
        ) from None
    if "sentencizer" not in nlp.pipe_names and "senter" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer")
    nlp.add_pipe("themekit_norm", last=True)
    return nlp


@lru_cache(maxsize=1)
def shared_vocab() -> Vocab:
    return spacy.blank("en").vocab


def uses_torch(nlp: Language) -> bool:
    """Whether any component of ``nlp`` runs a PyTorch model (a transformer pipeline); the default one does not."""
    from thinc.api import PyTorchShim

    for _, component in nlp.pipeline:
        model = getattr(component, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        if any(isinstance(shim, PyTorchShim) for node in model.walk() for shim in node.shims):
            return True
    return False


def pipe_texts(nlp: Language, texts: Iterable[str], *, batch_size: int = 64) -> Iterator[Doc]:
    """``nlp.pipe(texts)``, except that a text longer than ``nlp.max_length`` (a turn of a million characters) is
    processed in pieces cut at line, sentence or word ends and joined into one Doc whose text is the whole text,
    so character offsets stay true and no spaCy length error ends the run."""
    limit = nlp.max_length
    pending: list[str] = []
    for text in texts:
        if len(text) < limit:
            pending.append(text)
            continue
        yield from nlp.pipe(pending, batch_size=batch_size)
        pending = []
        pieces = list(nlp.pipe(_pieces(text, limit // 2), batch_size=1))
        yield Doc.from_docs(pieces, ensure_whitespace=False)  # its text is the pieces' texts joined: the whole text
    yield from nlp.pipe(pending, batch_size=batch_size)


def _pieces(text: str, size: int) -> Iterator[str]:
    """``text`` in consecutive pieces of at most ``size`` characters, cut after a newline, a sentence end or a
    space where there is one in the piece's second half, else at ``size``."""
    start = 0
    while len(text) - start > size:
        end = start + size
        cut = -1
        for mark in ("\n", ". ", "? ", "! ", " "):
            found = text.rfind(mark, start + size // 2, end)
            if found >= 0:
                cut = found + len(mark)
                break
        if cut < 0:
            cut = end
        yield text[start:cut]
        start = cut
    yield text[start:]
