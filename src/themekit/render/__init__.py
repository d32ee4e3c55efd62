"""Rendering a run for people: Jupyter views, matplotlib charts, the Markdown summary."""
