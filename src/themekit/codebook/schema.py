"""The codebook's YAML schema (pydantic, unknown keys forbidden)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["SCHEMA_VERSION", "ChangelogEntry", "CodeSpec", "ThemeSpec", "CodebookSpec"]

SCHEMA_VERSION = 1
_ID = r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$"
_SEMVER = r"^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ChangelogEntry(_Strict):
    version: str = Field(pattern=_SEMVER)
    date: dt.date | None = None
    changes: list[str] = Field(min_length=1)

    @field_validator("changes", mode="before")
    @classmethod
    def _one_change(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class CodeSpec(_Strict):
    id: str = Field(pattern=_ID)
    label: str = Field(min_length=1)
    #: "draft" marks a code added from topic suggestions and not yet refined; drafts are coded like any other.
    status: Literal["active", "draft"] = "active"
    definition: str = Field(min_length=1)
    include: list[str] = []
    exclude: list[str] = []
    keywords: list[str] = []
    exclude_keywords: list[str] = []
    patterns: list[list[dict[str, Any]]] = []
    examples: list[str] = []
    threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    #: ids this code had in earlier codebook versions: stored decisions on them move to this code
    renamed_from: list[str] = []
    #: ids of earlier codes folded into this one: stored decisions on them move to this code
    merged_from: list[str] = []
    codes: list[CodeSpec] = []


class ThemeSpec(_Strict):
    id: str = Field(pattern=_ID)
    label: str = Field(min_length=1)
    description: str = ""
    codes: list[CodeSpec] = Field(min_length=1)


class CodebookSpec(_Strict):
    schema_version: Literal[1] = SCHEMA_VERSION
    name: str = Field(min_length=1)
    version: str = Field(pattern=_SEMVER)
    description: str = ""
    participant_noun: str = "participant"
    changelog: list[ChangelogEntry] = []
    themes: list[ThemeSpec] = Field(min_length=1)
