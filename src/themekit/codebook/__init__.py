"""Codebooks: load and validate YAML (every problem at once, with paths and lines)."""

from themekit.codebook.book import (
    SCHEMA_VERSION,
    Code,
    Codebook,
    validate_codebook,
)

__all__ = [
    "Code",
    "Codebook",
    "SCHEMA_VERSION",
    "validate_codebook",
]
