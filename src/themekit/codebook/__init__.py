"""Codebooks: load and validate YAML (every problem at once, with paths and lines)."""

from themekit.codebook.book import (
    Code,
    Codebook,
    SCHEMA_VERSION,
    validate_codebook,
)

__all__ = [
    "Code",
    "Codebook",
    "SCHEMA_VERSION",
    "validate_codebook",
]
