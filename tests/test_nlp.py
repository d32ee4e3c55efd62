"""The default pipeline's one-pass annotator gives what spaCy's own components give."""

from __future__ import annotations

from pathlib import Path

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st

from themekit.ingest import read_corpus
from themekit.nlp.language import load_pipeline
from themekit.nlp.segment import segment_corpus

SAMPLE = Path(__file__).resolve().parent.parent / "transcripts_sample"


def _spacy_components():
    """The pipeline themekit used before: spaCy's lookup lemmatizer, sentencizer, then themekit_norm."""
    nlp = spacy.blank("en")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("themekit_norm")
    return nlp


REFERENCE = _spacy_components()


def _annotations(doc):
    return [(t.text, t.lemma_, t.norm_, t.is_sent_start) for t in doc], [s.text for s in doc.sents] if len(doc) else []


def test_nlp_blank_annotator_matches_spacy_components_on_sample():
    texts = [t.turn_text(turn) for t in read_corpus(SAMPLE) for turn in t.turns]
    assert len(texts) > 100
    nlp = load_pipeline()
    assert nlp.pipe_names == ["themekit_blank"]
    for expected, got in zip(REFERENCE.pipe(texts), nlp.pipe(texts, batch_size=7), strict=True):
        assert _annotations(got) == _annotations(expected)


def test_nlp_blank_annotator_lemma_norm_and_sentences():
    doc = load_pipeline()('I was feeling isolated... "Really?" [laughs] Yes! ok')
    assert [t.lemma_ for t in doc][:4] == ["I", "be", "feel", "isolate"]
    assert [t.norm_ for t in doc][:4] == ["i", "be", "feel", "isol"]
    # as spaCy's sentencizer: "..." is not a sentence-final character, "?" is, and a sentence starts at a word
    assert [s.text for s in doc.sents] == ['I was feeling isolated... "Really?" [', "laughs] Yes!", "ok"]


def test_nlp_segments_same_as_with_spacy_components():
    corpus = read_corpus(SAMPLE)
    for unit in ("sentence", "paragraph"):
        ours = segment_corpus(corpus, load_pipeline(), unit=unit, min_words=4)
        theirs = segment_corpus(corpus, REFERENCE, unit=unit, min_words=4)
        assert [(s.transcript.id, s.turn_index, s.start, s.end) for s in ours.segments] == [
            (s.transcript.id, s.turn_index, s.start, s.end) for s in theirs.segments
        ]


_PIECES = st.sampled_from(
    [
        "I",
        "was",
        "Was",
        "feelings",
        "isolated",
        "don't",
        "isn't",
        "can't",
        "ok",
        "Mr.",
        "U.S.",
        "e.g.",
        "2.5",
        "£40",
        ".",
        "!",
        "?",
        "...",
        "…",
        "?!",
        ",",
        ";",
        "-",
        "—",
        '"',
        "“",
        "”",
        "'",
        "’",
        "(",
        ")",
        "[",
        "]",
        "laughs",
        "。",
        "؟",
        " ",
        "  ",
        "\n",
        "\n\n",
        "\t",
        "😀",
        "café",
        "NHS",
        "keyworker",
        "housing",
    ]
)


@pytest.mark.slow  # a property-based search
@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_PIECES, max_size=30).map("".join), min_size=1, max_size=6), st.integers(1, 4))
def test_nlp_blank_annotator_matches_spacy_components_on_any_text(texts, batch_size):
    nlp = load_pipeline()
    got = list(nlp.pipe(texts, batch_size=batch_size))
    for expected, doc, text in zip(REFERENCE.pipe(texts), got, texts, strict=True):
        assert doc.text == text
        assert _annotations(doc) == _annotations(expected)
        assert _annotations(nlp(text)) == _annotations(expected)


def test_nlp_missing_lookup_tables_say_what_to_install(monkeypatch):
    import themekit.nlp.language as nlp_module
    from themekit.errors import ThemekitError

    def no_tables(**_):
        raise ValueError("no lookups package")

    monkeypatch.setattr(nlp_module, "load_lookups", no_tables)
    load_pipeline.cache_clear()
    try:
        with pytest.raises(ThemekitError, match="pip install spacy-lookups-data"):
            load_pipeline()
    finally:
        load_pipeline.cache_clear()


class _TorchComponent:
    """A pipeline component running a PyTorch model, as a transformer pipeline's components do."""

    def __init__(self) -> None:
        import torch
        from thinc.api import PyTorchWrapper

        self.model = PyTorchWrapper(torch.nn.Linear(2, 2))

    def __call__(self, doc):
        return doc


def test_nlp_uses_torch_only_for_pipelines_running_pytorch_models():
    from spacy.language import Language

    from themekit.nlp.language import uses_torch

    if "themekit_test_torch" not in Language.factories:
        Language.factory("themekit_test_torch", func=lambda nlp, name: _TorchComponent())
    assert uses_torch(load_pipeline()) is False
    assert uses_torch(_spacy_components()) is False
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("themekit_test_torch")
    assert uses_torch(nlp) is True
