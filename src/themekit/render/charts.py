"""Charts for reports (matplotlib, PNG): codes by participant, and code frequencies."""

from __future__ import annotations

import io

import numpy as np

from themekit.run import Run

__all__ = ["code_matrix", "frequency_chart", "heatmap_chart"]


def code_matrix(run: Run):
    """Codes (rows, codebook order) x transcripts (columns): excerpts per cell, negated and rejected left out."""
    import pandas as pd

    frame = run.excerpts
    frame = frame[~frame["negated"] & (frame["status"] != "rejected")]
    codes = [c.id for c in run.codebook]
    transcripts = [t.id for t in run.corpus]
    counts = frame.groupby(["code", "transcript"]).size()
    matrix = pd.DataFrame(0, index=codes, columns=transcripts, dtype=int)
    for (code, tid), n in counts.items():
        if code in matrix.index and tid in matrix.columns:
            matrix.loc[code, tid] = int(n)
    return matrix


def _png(fig) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=130, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buffer.getvalue()


def heatmap_chart(run: Run, *, rename: dict[str, str] | None = None) -> bytes:
    """A heatmap of excerpts per code and participant, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = code_matrix(run)
    labels = [run.codebook.code(c).label for c in matrix.index]
    fig, ax = plt.subplots(figsize=(1.2 + 0.55 * len(matrix.columns), 0.8 + 0.28 * len(matrix.index)))
    image = ax.imshow(matrix.to_numpy(), aspect="auto", cmap="Blues")
    columns = [(rename or {}).get(c, c) for c in matrix.columns]
    ax.set_xticks(range(len(columns)), columns, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    values = matrix.to_numpy()
    for (i, j), v in np.ndenumerate(values):
        if v:
            ax.text(j, i, str(v), ha="center", va="center", fontsize=7, color="white" if v > values.max() / 2 else "black")
    ax.set_title("Excerpts per code and participant")
    fig.colorbar(image, ax=ax, shrink=0.6)
    return _png(fig)


def frequency_chart(run: Run) -> bytes:
    """Horizontal bars: participants mentioning each code, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = code_matrix(run)
    people = (matrix > 0).sum(axis=1)
    labels = [run.codebook.code(c).label for c in matrix.index]
    fig, ax = plt.subplots(figsize=(7, 0.8 + 0.28 * len(labels)))
    ax.barh(range(len(labels)), people.to_numpy(), color="#3b6ea5")
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, max(1, len(matrix.columns)))
    ax.set_xlabel(f"participants mentioning the code (of {len(matrix.columns)})")
    ax.set_title("Code frequency")
    return _png(fig)
