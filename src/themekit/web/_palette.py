"""Colours and patterns for many codes: each code gets a hue from a palette of 20 that stay apart, and from the
21st code on a pattern too (solid, dashed, dotted underline), so 60 codes look different; overlapping codings
stack their underlines."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["COLOURS", "PATTERNS", "code_style", "highlight_style", "swatch_style"]

#: Twenty hues far apart (after Kelly's and Tableau's lists), dark enough for a 3-pixel underline.
COLOURS = (
    (230, 25, 75),
    (60, 150, 75),
    (0, 130, 200),
    (245, 130, 48),
    (145, 30, 180),
    (70, 190, 190),
    (220, 50, 220),
    (150, 170, 20),
    (200, 140, 140),
    (0, 110, 110),
    (170, 110, 40),
    (128, 0, 0),
    (80, 160, 120),
    (128, 128, 0),
    (0, 0, 128),
    (128, 128, 128),
    (255, 190, 0),
    (100, 80, 200),
    (255, 100, 100),
    (30, 80, 30),
)
PATTERNS = ("solid", "dashed", "dotted")
#: Underlines drawn per piece of text; a piece with more codings says how many in its tooltip.
MAX_BANDS = 6
BAND = 4  # pixels per underline band (3 drawn, 1 gap)


def _rgb(index: int, alpha: float = 1.0) -> str:
    r, g, b = COLOURS[index % len(COLOURS)]
    return f"rgba({r},{g},{b},{alpha})" if alpha < 1 else f"rgb({r},{g},{b})"


def _pattern(index: int) -> str:
    return PATTERNS[(index // len(COLOURS)) % len(PATTERNS)]


def _band(index: int) -> str:
    colour, pattern = _rgb(index), _pattern(index)
    if pattern == "dashed":
        return f"repeating-linear-gradient(90deg,{colour} 0 7px,transparent 7px 10px)"
    if pattern == "dotted":
        return f"repeating-linear-gradient(90deg,{colour} 0 3px,transparent 3px 6px)"
    return f"linear-gradient({colour},{colour})"


def highlight_style(indices: Sequence[int]) -> str:
    """The inline style of a piece of text that codes ``indices`` (codebook positions) cover: a light tint of the
    first, and one underline per code, stacked."""
    shown = list(indices)[:MAX_BANDS]
    if not shown:
        return ""
    layers = [_band(k) for k in shown] + [f"linear-gradient({_rgb(shown[0], 0.16)},{_rgb(shown[0], 0.16)})"]
    sizes = ["100% 3px"] * len(shown) + ["100% 100%"]
    positions = [f"0 calc(100% - {k * BAND}px)" for k in range(len(shown))] + ["0 0"]
    return (
        f"background-image:{','.join(layers)};background-size:{','.join(sizes)};"
        f"background-position:{','.join(positions)};padding-bottom:{len(shown) * BAND}px"
    )


def swatch_style(index: int) -> str:
    """A code's swatch: its colour, with its pattern as a bottom band."""
    return f"background-color:{_rgb(index, 0.16)};background-image:{_band(index)};background-size:100% 4px;background-position:0 100%;background-repeat:no-repeat;border-color:{_rgb(index)}"


def code_style(index: int) -> dict[str, str]:
    """What a page needs to show code ``index``: colour, pattern name and swatch style."""
    return {"colour": _rgb(index), "pattern": _pattern(index), "swatch": swatch_style(index)}
