"""Topic suggestions: BERTopic over what the codebook leaves uncoded, turned into draft codes.

The corpus is coded first (the same methods, model and embedding cache as
``themekit code``); the participant segments no code was given to (or every
segment, with ``all_segments=True``) are clustered with BERTopic and each
topic becomes a draft code in the codebook's own schema: an id and label from
its key terms, ``status: draft``, a definition stub, keywords and the most
representative quotes as examples, plus how big the topic is, how many
transcripts it spans and which existing codes it overlaps.

BERTopic runs with a deterministic, corpus-sized pipeline instead of its
default UMAP + HDBSCAN: PCA (exact SVD) reduces the cached sentence
embeddings and Ward's hierarchical clustering cuts them into a number of
topics that grows with the corpus (about √n / 2, at most 20); topics smaller
than about 1% of the segments are left as outliers rather than suggested.
Every step is seeded or exact, so the same corpus, codebook and settings
give byte-identical ``suggestions.yaml`` in any process, and nothing in it
needs UMAP's slow, machine-dependent optimisation.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from themekit.analysis.summarize import trim_quote
from themekit.codebook import Codebook
from themekit.coding.semantic import references
from themekit.config import Settings, load_settings
from themekit.config.options import CodingOptions, coding_options, with_option_keywords
from themekit.errors import OptionError, OutputError, TooFewSegmentsError
from themekit.models import Corpus, Segment
from themekit.nlp.embed import (
    EmbeddingCache,
    ReportingEmbedder,
    SentenceTransformerEmbedder,
    embed_texts,
)
from themekit.nlp.language import stem
from themekit.pipeline.steps import code, resolve_embedder
from themekit.runs.record import RunRecord
from themekit.util.atomic import atomic_write_text
from themekit.util.progress import (
    ProgressCallback,
    TqdmProgress,
    in_notebook,
    quiet_tqdm_import,
)
from themekit.util.sanitize import safe_frame

__all__ = [
    "FILLERS",
    "GENERIC",
    "MIN_COHERENCE",
    "MIN_CONTENT_WORDS",
    "MIN_DRAFT_TRANSCRIPTS",
    "MIN_SEGMENTS",
    "DraftCode",
    "LemmaAnalyzer",
    "Overlap",
    "Suggestions",
    "coherence",
    "content_words",
    "stop_words",
    "suggest_topics",
]

#: Fewer segments than this are too few to cluster into topics.
MIN_SEGMENTS = 30
#: Most topics suggested when the number is chosen automatically.
MAX_TOPICS = 20
#: A topic overlaps a code when its centre is this similar to one of the code's references ...
OVERLAP_SIMILARITY = 0.5
#: ... or when this share of its segments is coded with the code.
OVERLAP_SHARE = 0.25
#: Dimensions kept by PCA before clustering.
PCA_DIMENSIONS = 50
#: Quotes that are this similar to an example already chosen are skipped.
NEAR_DUPLICATE = 0.92
#: Words people say in interviews that name no topic.
FILLERS = frozenset(
    """yeah yes yep no oh ok okay um uh erm er hmm like just really actually basically literally know think mean
    sort kind thing things stuff bit lot lots got get gets getting go going gonna goes went did does doing done
    said say says saying want wanted wanna need needed make makes made way ll ve re don didn doesn isn wasn
    aren weren couldn wouldn shouldn won ain im ive youre dont cant wont thats theres theyre also still even
    maybe probably quite pretty right well good time times day days week weeks year years people person honest
    honestly laughs laughing laughter sighs pause pauses inaudible crosstalk unclear unintelligible mm mhm hm
    ah eh em uhm umm yah ya nah sure guess suppose literally obviously definitely absolutely totally exactly
    anyway whatever stuff somebody something anything everything nothing lot great nice big little huge massive
    half sort kinda sorta bloody gosh god alright cool fine use using used try trying tried take taking come came
    let able look looking see seeing thank thanks coming saw seen tell happen ask bye hello hi super""".split()
)
#: Words that say when, how many or who, not what about: numbers, time spans, dates and words for a person
#: ("two and a half years", "eighteen months ago", "one gentleman"). They name no topic either.
_GENERIC_WORDS = """zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million
    first second third fourth fifth sixth last next half quarter dozen couple odd
    minute hour month decade ago today tomorrow yesterday morning afternoon evening night tonight weekend
    monday tuesday wednesday thursday friday saturday sunday january february march april june july august
    september october november december fortnight spring summer autumn winter early late
    gentleman lady lad guy bloke fella chap man woman girl boy folk everybody everyone anybody anyone nobody
    feel felt feeling sense thinking thought reckon imagine wonder remember mention mentioned talk talking
    start started end ended different same whole certain particular main biggest"""
GENERIC = frozenset(_GENERIC_WORDS.split())
#: A segment with fewer distinct content words than this is small talk ("Erm, it's a big part of it.") and is not clustered.
MIN_CONTENT_WORDS = 2
#: Fewer segments than this left once small talk is set aside are too few to cluster.
MIN_SAID = 10
#: A topic whose segments are less similar than this on average (see :func:`coherence`) gives no draft.
MIN_COHERENCE = 0.2
#: A draft spans at least this many interviews (fewer when the corpus holds fewer).
MIN_DRAFT_TRANSCRIPTS = 3
#: A key term is said in at least this many of the topic's interviews (fewer when the topic spans fewer).
MIN_TERM_TRANSCRIPTS = 2
_WORD = re.compile(r"(?u)\b[a-zA-Z][a-zA-Z'’]*[a-zA-Z]\b")


class LemmaAnalyzer:
    """CountVectorizer analyzer: lower-cased lemmas (``counsellors`` → ``counsellor``, spaCy's lookup table) of
    content words only — stop words, fillers, :data:`GENERIC` words and adverbs (``genuinely``, ``completely``)
    dropped — and two-word terms only of words said side by side (so no "great half" is made by dropping the
    words between "great" and "half")."""

    def __init__(self, stop_words: frozenset[str]) -> None:
        self.stop_words = stop_words
        self._lexicon: _Lexicon | None = None

    @property
    def lexicon(self) -> _Lexicon:
        if self._lexicon is None:
            self._lexicon = _lexicon()
        return self._lexicon

    def lemma(self, word: str) -> str:
        found = self.lexicon.lemmas.get(word)
        if found is not None:
            return found
        if len(word) > 4 and word.endswith("ies"):
            return word[:-3] + "y"
        if len(word) > 4 and word.endswith(("sses", "shes", "ches", "xes")):
            return word[:-2]  # "glasses" → "glass", "approaches" → "approach"
        if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            return word[:-1]  # a plural the table does not list: "employers" → "employer"
        return word

    def content(self, text: str) -> list[str | None]:
        """Each word of ``text`` in order: its lemma if it is a content word, else None."""
        raw = [w.lower().replace("’", "'").split("'")[0] for w in _WORD.findall(text)]
        adverbs = self.lexicon.adverbs
        return [
            lemma if _topical(lemma, r, self.stop_words) and lemma not in adverbs and r not in adverbs else None
            for lemma, r in ((self.lemma(r), r) for r in raw)
        ]

    def __call__(self, text: str) -> list[str]:
        keep = self.content(text)
        terms = [w for w in keep if w]
        terms += [f"{a} {b}" for a, b in itertools.pairwise(keep) if a and b and a != b]
        return terms


def _topical(lemma: str, word: str, stop_words: frozenset[str]) -> bool:
    """Whether a word can name a topic: not a stop word or filler, not a redaction (a run of the letter x), not one letter."""
    return len(lemma) > 1 and lemma not in stop_words and word not in stop_words and set(word) != {"x"}


@dataclass(frozen=True)
class _Lexicon:
    """What spaCy's English lookup tables say of a word: its lemma, whether it is only ever an adverb, whether a noun."""

    lemmas: dict[str, str]
    adverbs: frozenset[str]
    nouns: frozenset[str]


@functools.lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    """English lemmas and word classes from spacy-lookups-data (no model): nouns from its lemma lookup table, verb
    forms from its verb exceptions ("took" → "take") and -ed rules checked against its verb list ("needed" →
    "need"; -ing words stay, as many are nouns: housing, training); adverbs are words its index lists only as
    adverbs ("genuinely", "regularly"). Empty if the package is missing."""
    try:
        from spacy.lookups import load_lookups

        lookups = load_lookups("en", ["lemma_lookup", "lemma_exc", "lemma_index", "lemma_rules"])
    except (ImportError, ValueError, KeyError):
        return _Lexicon({}, frozenset(), frozenset())
    index = lookups.get_table("lemma_index")
    table = dict(lookups.get_table("lemma_lookup").items())
    verbs = set(index.get("verb", []))
    for form, lemmas in lookups.get_table("lemma_exc").get("verb", {}).items():
        table[form] = lemmas[0]
    rules = [(old, new) for old, new in lookups.get_table("lemma_rules").get("verb", []) if old == "ed"]
    other = set(index.get("noun", [])) | verbs | set(index.get("adj", []))
    adverbs = frozenset(w for w in index.get("adv", []) if w not in other)
    return _Lexicon(_VerbForms(table, verbs, rules), adverbs, frozenset(index.get("noun", [])))


class _VerbForms(dict):
    """The lemma table, and for a word it lacks ending in -ed, the verb a suffix rule gives, if a verb."""

    def __init__(self, table: dict[str, str], verbs: set[str], rules: list[tuple[str, str]]) -> None:
        super().__init__(table)
        self.verbs, self.rules = verbs, rules

    def get(self, word: str, default: Any = None) -> Any:  # type: ignore[override]
        if word in self:
            return self[word]
        for old, new in self.rules:
            if word.endswith(old) and (word[: -len(old)] + new) in self.verbs:
                return word[: -len(old)] + new
        return default


@functools.lru_cache(maxsize=1)
def stop_words() -> frozenset[str]:
    """What key terms leave out: English stop words (scikit-learn's list), :data:`FILLERS` and :data:`GENERIC`."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS | FILLERS | GENERIC)


def content_words(analyzer: LemmaAnalyzer, text: str) -> int:
    """How many distinct content words (lemmas) ``text`` holds."""
    return len({w for w in analyzer.content(text) if w})


@dataclass(frozen=True)
class Overlap:
    """An existing code a topic resembles: by meaning (``similarity``) and by shared segments (``shared``)."""

    code_id: str
    label: str
    similarity: float
    shared: float


@dataclass(frozen=True)
class DraftCode:
    """A topic written as a draft code, with what a researcher needs to judge it."""

    id: str
    label: str
    definition: str
    keywords: tuple[str, ...]
    examples: tuple[str, ...]
    example_sources: tuple[str, ...]
    topic: int
    size: int
    transcripts: int
    key_terms: tuple[tuple[str, float], ...]
    overlaps: tuple[Overlap, ...] = ()
    #: mean pairwise cosine similarity of its segments' embeddings (0-1: how much they say the same thing)
    coherence: float = 0.0

    def code_spec(self) -> dict[str, Any]:
        """The draft in the codebook's schema (what ``codebook merge`` adds)."""
        return {
            "id": self.id,
            "label": self.label,
            "status": "draft",
            "definition": self.definition,
            "keywords": list(self.keywords),
            "examples": list(self.examples),
        }


@dataclass
class Suggestions:
    """Draft codes plus the fitted BERTopic model and the segments it clustered.

    ``model`` is a ``bertopic.BERTopic``: ``model.get_topic_info()``,
    ``model.visualize_barchart()`` and the rest work on it as usual.
    ``topics[i]`` is the topic of ``segments[i]`` (-1: outlier).
    """

    drafts: list[DraftCode]
    model: Any
    segments: list[Segment]
    topics: list[int]
    embeddings: np.ndarray = field(repr=False)
    codebook: Codebook
    source: dict[str, Any]
    timings: dict[str, float] = field(default_factory=dict)
    cache_stats: dict[str, int] | None = None

    @property
    def frame(self) -> pd.DataFrame:
        """One row per clustered segment: transcript, offsets, topic, draft id and text."""
        draft_of = {d.topic: d.id for d in self.drafts}
        return pd.DataFrame(
            {
                "transcript": [s.transcript.id for s in self.segments],
                "segment": [s.index for s in self.segments],
                "start": [s.start for s in self.segments],
                "end": [s.end for s in self.segments],
                "topic": self.topics,
                "draft": [draft_of.get(t, "") for t in self.topics],
                "text": [s.text for s in self.segments],
            }
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "drafts": [
                {
                    **d.code_spec(),
                    "topic": {
                        "number": d.topic,
                        "size": d.size,
                        "transcripts": d.transcripts,
                        "coherence": d.coherence,
                        "key_terms": [term for term, _ in d.key_terms],
                        "example_sources": list(d.example_sources),
                        "overlaps": [
                            {"code": o.code_id, "label": o.label, "similarity": o.similarity, "shared": o.shared}
                            for o in d.overlaps
                        ],
                    },
                }
                for d in self.drafts
            ],
        }

    def to_yaml(self) -> str:
        """``suggestions.yaml``: byte-identical for the same corpus, codebook and settings."""
        head = (
            f"# Topic suggestions for the codebook {self.codebook.name!r} {self.codebook.version}.\n"
            "# Each draft is a code in the codebook's schema; edit freely, then add the ones worth keeping with\n"
            "#   themekit codebook merge CODEBOOK suggestions.yaml --pick ID[,ID...] --theme THEME\n"
            "# The 'topic' block (size, transcripts, overlaps) is for reading and is not merged.\n"
        )
        return head + yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)

    def to_markdown(self) -> str:
        """``suggestions.md``: the drafts for reading, largest topic first."""
        src = self.source
        noun = self.codebook.spec.participant_noun
        lines = [
            f"# Topic suggestions: {self.codebook.name} {self.codebook.version}",
            "",
            (
                f"{src['clustered']} {'participant' if src['scope'] == 'all' else 'uncoded participant'} segments from "
                f"{src['transcripts']} transcripts were clustered into {len(self.drafts)} topics "
                f"({src['outliers']} segments fit no topic; {src.get('not_drafted', 0)} were in topics of fewer than "
                f"{src.get('min_transcripts', 1)} interviews, of filler alone or incoherent, which give no draft)."
            ),
            "",
        ]
        lines += _small_talk_and_dropped(src)
        for d in self.drafts:
            lines += [
                f"## {d.label} (`{d.id}`)",
                "",
                f"{d.size} segments from {d.transcripts} {noun if d.transcripts == 1 else noun + 's'}; "
                f"coherence {d.coherence:.2f} (mean similarity of its segments). "
                f"Key terms: {', '.join(f'**{t}**' for t, _ in d.key_terms[:8])}.",
                "",
            ]
            if d.overlaps:
                described = "; ".join(
                    f"`{o.code_id}` ({o.label}): similarity {o.similarity:.2f}, {o.shared:.0%} of segments shared"
                    for o in d.overlaps
                )
                lines += [f"Overlaps: {described}.", ""]
            else:
                lines += ["Overlaps no existing code.", ""]
            for quote, source in zip(d.examples, d.example_sources):
                lines += [f"> {quote} ({source})", ""]
        return "\n".join(lines).rstrip() + "\n"

    def save(self, out: str | Path, *, force: bool = False) -> Path:
        """Write ``suggestions.yaml``, ``suggestions.md`` and ``topics.csv`` into ``out``."""
        folder = Path(out)
        targets = {
            "suggestions.yaml": self.to_yaml(),
            "suggestions.md": self.to_markdown(),
            "topics.csv": safe_frame(self.frame).to_csv(index=False, lineterminator="\n"),
        }
        if folder.exists() and not folder.is_dir():
            raise OutputError(f"{folder}: exists and is not a folder. Choose another out=.", param="out")
        existing = [name for name in targets if (folder / name).exists()]
        if existing and not force:
            raise OutputError(
                f"{folder}: already holds {', '.join(existing)}. Choose another out=, or add force=True to replace them.",
                param=("out", "force"),
            )
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in targets.items():
            atomic_write_text(folder / name, text)
        return folder


def _small_talk_and_dropped(src: dict[str, Any]) -> list[str]:
    """What ``suggestions.md`` says of the segments and topics left out before any draft: small talk, incoherent topics."""
    lines = []
    if src.get("small_talk"):
        said = (
            f"{src['small_talk']} more segments were small talk (fewer than {MIN_CONTENT_WORDS} content words once "
            "fillers, hedges, numbers and time words are left out) and were not clustered."
        )
        lines += [said, ""]
    dropped = src.get("dropped") or []
    if dropped:
        floor = src.get("settings", {}).get("min_coherence", MIN_COHERENCE)
        listed = "; ".join(
            f"{', '.join(d['key_terms'][:3])} ({d['size']} segments, coherence {d['coherence']:.2f})" for d in dropped
        )
        said = (
            f"{len(dropped)} {'topic was' if len(dropped) == 1 else 'topics were'} dropped as incoherent: their segments "
            f"say unrelated things (coherence below {floor:.2f}): {listed}."
        )
        lines += [said, ""]
    return lines


class WardTopics:
    """Clusterer for BERTopic: Ward's hierarchical clustering cut into ``n_topics`` groups.

    Groups smaller than ``min_size`` get the label -1 (outliers). Deterministic;
    labels are numbered in order of first appearance.
    """

    def __init__(self, n_topics: int, min_size: int) -> None:
        self.n_topics = n_topics
        self.min_size = min_size

    def fit(self, X: np.ndarray, y: Any = None) -> WardTopics:
        from scipy.cluster.hierarchy import fcluster, linkage

        X = np.asarray(X, dtype=np.float64)
        if len(X) < 2:
            self.labels_ = np.zeros(len(X), dtype=int)
            return self
        groups = fcluster(linkage(X, method="ward"), self.n_topics, criterion="maxclust")
        sizes = np.bincount(groups)
        numbering: dict[int, int] = {}
        labels = np.full(len(X), -1, dtype=int)
        for i, g in enumerate(groups):
            if sizes[g] >= self.min_size:
                labels[i] = numbering.setdefault(int(g), len(numbering))
        self.labels_ = labels
        self._centres = {k: X[labels == k].mean(axis=0) for k in range(len(numbering))}
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Nearest topic centre, for ``BERTopic.transform`` on new documents."""
        if not self._centres:
            return np.full(len(X), -1, dtype=int)
        keys = sorted(self._centres)
        centres = np.stack([self._centres[k] for k in keys])
        distances = ((np.asarray(X)[:, None, :] - centres[None, :, :]) ** 2).sum(axis=2)
        return np.asarray(keys)[distances.argmin(axis=1)]


def auto_topics(n: int) -> int:
    """How many topics to cut ``n`` segments into: about √n / 2, between 2 and ``MAX_TOPICS``."""
    return int(min(MAX_TOPICS, max(2, round(math.sqrt(n) / 2))))


def auto_min_size(n: int) -> int:
    """Smallest topic worth suggesting: 1% of the segments, at least 5 (3 under 100 segments: a study's few
    uncoded segments still show a topic three people raise)."""
    return max(3, min(5, n // 20), n // 100)


@with_option_keywords
def suggest_topics(
    corpus: Corpus | str | Path,
    codebook: Codebook | str | Path,
    *,
    all_segments: bool = False,
    n_topics: int | None = None,
    min_topic_size: int | None = None,
    examples: int = 5,
    seed: int = 0,
    min_coherence: float = MIN_COHERENCE,
    options: CodingOptions | None = None,
    gold: str | Path | None = None,
    project: Any = None,
    config: Settings | str | Path | None = None,
    progress: ProgressCallback | None = None,
    **option_values: Any,
) -> Suggestions:
    """Draft codes for what ``codebook`` misses in ``corpus``.

    The corpus is coded as :func:`themekit.code` codes it, with ``options`` or the coding options given by name
    (``methods=``, ``unit=``, ...; default: as ``themekit code``), but without a project's decisions unless
    ``project`` is given; then the participant segments left uncoded (every segment with
    ``all_segments=True``) are clustered by BERTopic into ``n_topics`` topics
    (default: chosen from the corpus size); segments of fewer than
    :data:`MIN_CONTENT_WORDS` content words are small talk and not clustered;
    topics under ``min_topic_size`` segments, or less coherent than
    ``min_coherence``, are left out. Embeddings come from the same model and cache as
    coding, so after a coding run nothing is embedded again. ``progress(stage, advance, total)`` is told of
    coding, embedding and clustering as they run (see :mod:`themekit.util.progress`).
    """
    if examples < 1:
        raise OptionError("examples= must be at least 1.", param="examples")
    if n_topics is not None and n_topics < 1:
        raise OptionError("the number of topics (n_topics=) must be at least 1.", param="n_topics")
    config = config if isinstance(config, Settings) else load_settings(config)
    options = coding_options(options, **option_values).with_settings(config)
    if progress is None and in_notebook():
        bars = TqdmProgress()  # in Jupyter: live bars, gone when done
        try:
            return suggest_topics(corpus, codebook, all_segments=all_segments, n_topics=n_topics, min_topic_size=min_topic_size,
                                  examples=examples, seed=seed, min_coherence=min_coherence, options=options, gold=gold,
                                  project=project, config=config, progress=bars)  # fmt: skip
        finally:
            bars.close()
    timings: dict[str, float] = {}
    started = time.perf_counter()
    # suggestions read the machine's codings, not a project's decisions (unless one is given)
    run = code(corpus, codebook, options=options, gold=gold, project=project, config=config, progress=progress)
    codebook = run.codebook
    timings["code"] = time.perf_counter() - started
    coded, pool, small_talk = _clustering_pool(run, all_segments=all_segments)

    started = time.perf_counter()
    embedding = options.embedding
    embedder = resolve_embedder(embedding.model, embedding.sha256, tuple(s.text for s in run.units))
    if progress is not None:
        embedder = ReportingEmbedder(embedder, progress)
    cache = EmbeddingCache(embedding.cache_dir, embedder.identity) if embedding.cache_dir else None
    vectors = embed_texts([s.text for s in pool], embedder, cache)
    refs = [r for c in codebook for r in references(c)]
    ref_vectors = embed_texts([r.text for r in refs], embedder, cache) if refs else np.zeros((0, vectors.shape[1]))
    timings["embed"] = time.perf_counter() - started

    started = time.perf_counter()
    k = n_topics or auto_topics(len(pool))
    min_size = min_topic_size or auto_min_size(len(pool))
    if progress is not None:
        progress("cluster", 0, 1)
    model = _fit_bertopic([s.text for s in pool], vectors, k, min_size, seed, getattr(embedder, "wrapped", embedder))
    topics = [int(t) for t in model.topics_]
    if progress is not None:
        progress("cluster", 1, 1)
    timings["cluster"] = time.perf_counter() - started

    drafts, dropped = _drafts(model, pool, topics, vectors, codebook, refs, ref_vectors, coded, examples,
                              min_coherence=min_coherence, embed=lambda terms: embed_texts(terms, embedder, cache))  # fmt: skip
    settings = {
        "methods": list(run.settings["methods"]),
        "unit": options.unit,
        "topics": k,
        "min_topic_size": min_size,
        "examples": examples,
        "seed": seed,
        "min_coherence": min_coherence,
        "embedding": embedder.identity,
    }
    source = _source(run, pool, topics, all_segments=all_segments, settings=settings)
    source["small_talk"] = small_talk
    drafted = {d.topic for d in drafts}
    # segments of topics too narrow (fewer interviews than min_transcripts), of filler alone or incoherent: no draft
    source["not_drafted"] = sum(1 for t in topics if t != -1 and t not in drafted)
    source["dropped"] = dropped
    stats = {"hits": cache.hits, "misses": cache.misses} if cache else None
    return Suggestions(drafts, model, pool, topics, vectors, codebook, source, timings, stats)


def _clustering_pool(
    run: RunRecord, *, all_segments: bool
) -> tuple[dict[tuple[str, int], set[str]], list[Segment], int]:
    """The codes of each coded segment (by transcript id and index), the segments to cluster (the uncoded ones, or
    all; small talk of fewer than :data:`MIN_CONTENT_WORDS` content words left out) and how many were small talk."""
    coded: dict[tuple[str, int], set[str]] = {}
    for coding in run.codings:
        coded.setdefault((coding.segment.transcript.id, coding.segment.index), set()).add(coding.code_id)
    pool = [s for s in run.units if all_segments or (s.transcript.id, s.index) not in coded]
    what = "participant segments" if all_segments else "uncoded participant segments"
    hint = "Add transcripts" + ("" if all_segments else ", or cluster every participant segment (all_segments=True)")
    if len(pool) < MIN_SEGMENTS:
        raise TooFewSegmentsError(
            f"{run.corpus.root}: {len(pool)} {what} ({len(run.units)} in all); topic suggestions need at least "
            f"{MIN_SEGMENTS}. {hint}.",
            param="all_segments",
        )
    analyzer = LemmaAnalyzer(stop_words())
    said = [s for s in pool if content_words(analyzer, s.text) >= MIN_CONTENT_WORDS]
    if len(said) < MIN_SAID:
        raise TooFewSegmentsError(
            f"{run.corpus.root}: {len(pool)} {what}, but only {len(said)} say more than small talk (at least "
            f"{MIN_CONTENT_WORDS} content words); topic suggestions need at least {MIN_SAID} such. {hint}.",
            param="all_segments",
        )
    return coded, said, len(pool) - len(said)


def _source(
    run: RunRecord, pool: list[Segment], topics: list[int], *, all_segments: bool, settings: dict[str, Any]
) -> dict[str, Any]:
    """What the suggestions were made from: the codebook, the corpus, what was clustered, and the settings."""
    codebook = run.codebook
    return {
        "codebook": {"name": codebook.name, "version": codebook.version, "sha256": codebook.sha256},
        "transcripts": len(run.corpus.transcripts),
        "segments": len(run.units),
        "scope": "all" if all_segments else "uncoded",
        "clustered": len(pool),
        "outliers": sum(1 for t in topics if t == -1),
        "min_transcripts": min(MIN_DRAFT_TRANSCRIPTS, len({s.transcript.id for s in pool})),
        "settings": settings,
    }


def _fit_bertopic(texts: list[str], vectors: np.ndarray, k: int, min_size: int, seed: int, embedder: Any) -> Any:
    with quiet_tqdm_import():
        from bertopic import BERTopic
        from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.decomposition import PCA
    from sklearn.feature_extraction.text import CountVectorizer

    dimensions = max(1, min(PCA_DIMENSIONS, len(texts) - 1, vectors.shape[1]))
    model = BERTopic(
        embedding_model=embedder._load() if isinstance(embedder, SentenceTransformerEmbedder) else None,
        umap_model=PCA(n_components=dimensions, svd_solver="full", random_state=seed),
        hdbscan_model=WardTopics(k, min_size),
        vectorizer_model=CountVectorizer(analyzer=LemmaAnalyzer(stop_words())),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=30,
        calculate_probabilities=False,
        verbose=False,
    )
    model.fit(texts, embeddings=vectors)
    return model


def _slug(term: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", term.lower()).strip("_")


def _unique_id(terms: list[str], taken: set[str]) -> str:
    base = ("draft_" + "_".join(_slug(t) for t in terms[:2] if _slug(t)))[:58].rstrip("_") or "draft"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _key_terms(model: Any, topic: int, said_in: dict[str, set[str]], need: int) -> list[tuple[str, float]]:
    """The topic's c-TF-IDF terms said in at least ``need`` of its interviews (``said_in``: term → interviews),
    weighted by the share of its interviews that say them (a term one talkative person repeats sinks), skipping
    any that repeat a word of a higher-ranked term."""
    spans = max((len(v) for v in said_in.values()), default=1)
    ranked = sorted(
        ((term, weight * len(said_in.get(term, ())) / spans) for term, weight in model.get_topic(topic) or []),
        key=lambda tw: -tw[1],
    )
    kept: list[tuple[str, float]] = []
    seen: set[str] = set()
    for term, weight in ranked:
        words = {stem(w) for w in term.split()}  # "highlighting" repeats "highlight", "importance" "important"
        if not term or weight <= 0 or words & seen or len(said_in.get(term, ())) < need:
            continue
        seen |= words
        kept.append((term, round(float(weight), 4)))
    return kept[:10]


def _label_terms(
    terms: list[str], nouns: frozenset[str], centre: np.ndarray, embed: Callable[[list[str]], np.ndarray] | None
) -> list[str]:
    """The 2-3 terms a draft is named by: of its eight strongest key terms, the three whose meaning is nearest the
    topic's (unit) ``centre`` (KeyBERT's idea, with the embedding model already loaded), or without ``embed``
    those ending in a noun first ("Housing, rent" rather than "Expensive, housing"); in that order."""
    top = terms[:8]
    if embed is None or len(top) < 2:
        return sorted(top, key=lambda t: t.split()[-1] not in nouns)[:3]
    sims = embed(top) @ centre
    order = sorted(range(len(top)), key=lambda j: (-round(float(sims[j]), 6), j))
    return [top[j] for j in order[:3]]


def _said_in(model: Any, members: list[int], pool: list[Segment]) -> dict[str, set[str]]:
    """Each term of the topic's segments (as the topic model's analyzer reads them) → the interviews saying it."""
    analyze = model.vectorizer_model.build_analyzer()
    said: dict[str, set[str]] = {}
    for i in members:
        for term in set(analyze(pool[i].text)):
            said.setdefault(term, set()).add(pool[i].transcript.id)
    return said


def coherence(vectors: np.ndarray) -> float:
    """Mean pairwise cosine similarity of unit ``vectors`` (a topic's segments): 1 when all say the same thing,
    near 0 for unrelated ones. From the sum vector: sum of all pairs = |Σv|² - n."""
    n = len(vectors)
    if n < 2:
        return 1.0
    total = vectors.astype(np.float64).sum(axis=0)
    return round(float((total @ total - n) / (n * (n - 1))), 3)


def _examples(
    members: list[int], centre: np.ndarray, pool: list[Segment], vectors: np.ndarray, n: int
) -> list[tuple[str, str]]:
    """The ``n`` segments nearest the topic's (unit) ``centre``, one per transcript first, no near duplicates."""
    sims = vectors[members] @ centre
    order = sorted(
        range(len(members)),
        key=lambda j: (-round(float(sims[j]), 6), pool[members[j]].transcript.id, pool[members[j]].index),
    )
    readable = [members[j] for j in order if len(pool[members[j]].text.split()) >= 8] or [members[j] for j in order]
    chosen: list[int] = []
    for spread in (True, False):
        for i in readable:
            if len(chosen) >= n:
                break
            if i in chosen or (spread and any(pool[c].transcript.id == pool[i].transcript.id for c in chosen)):
                continue
            if chosen and float(np.max(vectors[chosen] @ vectors[i])) > NEAR_DUPLICATE:
                continue
            chosen.append(i)
    return [(_tidy(trim_quote(pool[i].text, 60)[0]), pool[i].transcript.id) for i in chosen]


def _tidy(quote: str) -> str:
    """Drop a quotation mark left unmatched where the segment starts or ends inside reported speech."""
    for mark in ('"', "“", "”"):
        if quote.count(mark) % 2 == 1:
            quote = quote.strip().removeprefix(mark).removesuffix(mark).strip()
    return quote


def _overlaps(
    members: list[int], centre: np.ndarray, pool: list[Segment], refs: list, ref_vectors: np.ndarray,
    coded: dict[tuple[str, int], set[str]], labels: dict[str, str],
) -> list[Overlap]:  # fmt: skip
    """The existing codes a topic resembles by meaning or shares segments with, closest first."""
    if not len(refs):
        return []
    best: dict[str, float] = {}
    for ref, sim in zip(refs, ref_vectors @ centre):
        best[ref.code_id] = max(best.get(ref.code_id, -1.0), float(sim))
    counts: dict[str, int] = {}
    for i in members:
        for code_id in coded.get((pool[i].transcript.id, pool[i].index), ()):
            counts[code_id] = counts.get(code_id, 0) + 1
    overlaps = []
    for code_id, sim in best.items():
        shared = counts.get(code_id, 0) / len(members)
        if sim >= OVERLAP_SIMILARITY or shared >= OVERLAP_SHARE:
            overlaps.append(Overlap(code_id, labels[code_id], round(sim, 2), round(shared, 2)))
    overlaps.sort(key=lambda o: (-o.shared, -o.similarity, o.code_id))
    return overlaps


def _drafts(
    model: Any,
    pool: list[Segment],
    topics: list[int],
    vectors: np.ndarray,
    codebook: Codebook,
    refs: list,
    ref_vectors: np.ndarray,
    coded: dict[tuple[str, int], set[str]],
    n_examples: int,
    *,
    min_coherence: float = MIN_COHERENCE,
    embed: Callable[[list[str]], np.ndarray] | None = None,
) -> tuple[list[DraftCode], list[dict[str, Any]]]:
    """One draft per topic that spans enough interviews (:data:`MIN_DRAFT_TRANSCRIPTS`, or every interview of a
    smaller corpus), has a key term and a coherence of at least ``min_coherence``, largest first; its key terms,
    label and id from terms said in several of its interviews. Topics of filler and back-channel alone ("Yeah,
    exactly.") give no draft. ``embed`` (texts → unit vectors) names each draft by the key terms nearest its centre.
    Also returns the topics dropped for low coherence (what they were, for the report)."""
    taken = {c.id for c in codebook} | {old for c in codebook for old in (*c.spec.renamed_from, *c.spec.merged_from)}
    labels = {c.id: c.label for c in codebook}
    nouns = _lexicon().nouns
    wide = min(MIN_DRAFT_TRANSCRIPTS, len({s.transcript.id for s in pool}))
    by_topic: dict[int, list[int]] = {}
    for i, t in enumerate(topics):
        if t != -1:
            by_topic.setdefault(t, []).append(i)
    drafts, dropped = [], []
    for topic in sorted(by_topic, key=lambda t: (-len(by_topic[t]), t)):
        members = by_topic[topic]
        spans = len({pool[i].transcript.id for i in members})
        if spans < wide:
            continue
        terms = _key_terms(model, topic, _said_in(model, members, pool), min(MIN_TERM_TRANSCRIPTS, spans))
        if not terms:
            continue  # all filler and back-channel ("Yeah, exactly."): nothing a researcher would name
        together = coherence(vectors[members])
        if together < min_coherence:  # its segments say unrelated things: a bin, not a topic
            dropped.append({"size": len(members), "transcripts": spans, "coherence": together,
                            "key_terms": [t for t, _ in terms[:5]]})  # fmt: skip
            continue
        centre = vectors[members].mean(axis=0)
        centre /= np.linalg.norm(centre) or 1.0
        chosen = _examples(members, centre, pool, vectors, n_examples)
        named = _label_terms([t for t, _ in terms], nouns, centre, embed)
        drafts.append(
            DraftCode(
                id=_unique_id(named, taken),
                label=", ".join(named).capitalize(),
                definition=_definition(codebook.spec.participant_noun, named),
                keywords=tuple(t for t, _ in terms[:5]),
                examples=tuple(q for q, _ in chosen),
                example_sources=tuple(s for _, s in chosen),
                topic=topic,
                size=len(members),
                transcripts=spans,
                key_terms=tuple(terms),
                overlaps=tuple(_overlaps(members, centre, pool, refs, ref_vectors, coded, labels)[:3]),
                coherence=together,
            )
        )
    return drafts, dropped


def _definition(noun: str, named: list[str]) -> str:
    about = ", ".join(named[:2]) + (f" and {named[2]}" if len(named) > 2 else "")
    return (
        f"DRAFT from topic suggestions: {noun} talk about {about}. "
        "Replace with a definition (what the code means, when to apply it) before coding with it."
    )
