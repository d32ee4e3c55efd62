"""Quote tables for notebooks: whole quotes, left-aligned and wrapped, whatever pandas' column width is set to."""

from __future__ import annotations

import pandas as pd

__all__ = ["QuoteTable"]


class QuoteTable(pd.DataFrame):
    """A DataFrame of quotes (``run.quotes()``) that Jupyter shows in full: no quote cut at pandas'
    ``display.max_colwidth`` (50 characters), text left-aligned and wrapped. The option is changed only while the
    table is drawn; it is a plain DataFrame in every other way, and selecting columns keeps the display."""

    @property
    def _constructor(self):
        return QuoteTable

    def _repr_html_(self) -> str | None:
        with pd.option_context("display.max_colwidth", None):
            styled = self.style.set_properties(**{"text-align": "left", "white-space": "pre-wrap"})
            return styled.format(precision=3).to_html()

    def __repr__(self) -> str:
        with pd.option_context("display.max_colwidth", None):
            return super().__repr__()
