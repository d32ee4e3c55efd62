"""``themekit review serve``: a local web app to read transcripts with their codings, code by selecting text and
decide on suggestions with the keyboard, every decision recorded at once in the project store."""

from themekit.web._app import create_app
from themekit.web._serve import open_run, serve

__all__ = ["create_app", "open_run", "serve"]
