"""The spaCy pipeline themekit uses, built without downloading anything.

By default: ``spacy.blank("en")`` with lookup lemmas from spacy-lookups-data
and the rule-based sentencizer. An installed spaCy model (for example
``en_core_web_sm``) can be named instead. Every pipeline ends with the
``themekit_norm`` component, which sets each token's ``norm_`` to the Snowball
stem of its lower-cased lemma, so "isolated", "isolation" and "isolating" all
share the norm ``isol`` and keyword matching works on word families.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import snowballstemmer
import spacy
from spacy.attrs import LEMMA, LOWER, NORM
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab

from .errors import ThemekitError

__all__ = ["BLANK", "load_pipeline", "shared_vocab", "stem"]

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


@lru_cache(maxsize=4)
def load_pipeline(model: str = BLANK) -> Language:
    """The pipeline for ``model`` ("blank" or an installed spaCy package name)."""
    if model == BLANK:
        nlp = spacy.blank("en")
        try:
            nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
            nlp.initialize()
        except Exception as exc:  # missing spacy-lookups-data
            raise ThemekitError(
                f"the lookup lemmatizer could not load its tables ({exc}). "
                "Install them with: pip install spacy-lookups-data"
            ) from None
    else:
        try:
            nlp = spacy.load(model, exclude=["ner", "parser", "textcat"])
        except OSError:
            raise ThemekitError(
                f"spaCy model '{model}' is not installed. Install it as a package, "
                f"or use the default pipeline with --spacy-model {BLANK}"
            ) from None
    if "sentencizer" not in nlp.pipe_names and "senter" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer")
    nlp.add_pipe("themekit_norm", last=True)
    return nlp


@lru_cache(maxsize=1)
def shared_vocab() -> Vocab:
    return spacy.blank("en").vocab
