"""Project settings: an optional ``themekit.yaml`` in the working folder.

Everything has a default, so the file is only needed to change one::

    schema_version: 1
    embedding:
      model: /models/all-MiniLM-L6-v2   # folder or installed package
      sha256: 53aa5117...               # pin the weights
    report:
      noun: keyworker                   # "Most keyworkers (9 of 13) ..."
      plural: keyworkers                # if not just noun + "s"
      quotes_per_code: 3
      attribution: "{participant}"      # the name (QR05); also {transcript}, {speaker}, {turn}, {timestamp} (0:01:43)
      prevalence:                       # a share of cases (written with a point: 0.6, 1.0) or a
                                        # count (a whole number: 3); the first that holds wins
        - [all, 1.0]
        - [most, 0.6]
        - [many, 0.4]
        - [some, 0.25]
        - [several, 3]
        - [a few, 2]
        - [one, 1]
      count: confident                  # or all: every machine suggestion not rejected
      confident_score: 0.75             # a machine suggestion counts in prevalence from this score
    transcripts:
      text_column: words                # a table transcript's speech column (default: found by name)
      speaker_column: speaker           # its speaker column

Unknown keys are refused, with the file, YAML path and line in the message.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from themekit.errors import SettingsError, YamlError
from themekit.util.yamlfile import load_yaml, yaml_path

__all__ = [
    "CONFIG_FILE",
    "DEFAULT_PREVALENCE",
    "EmbeddingSettings",
    "ReportSettings",
    "Settings",
    "TranscriptSettings",
    "load_settings",
]

CONFIG_FILE = "themekit.yaml"

#: (word, rule) pairs tried in order; a rule is a minimum share of cases (a
#: float) or a minimum number of cases (an int). "all" needs every case; the
#: other share words need at least three cases, so 1 of 2 reads "one", not "many".
DEFAULT_PREVALENCE: tuple[tuple[str, float | int], ...] = (
    ("all", 1.0),
    ("most", 0.6),
    ("many", 0.4),
    ("some", 0.25),
    ("several", 3),
    ("a few", 2),
    ("one", 1),
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class EmbeddingSettings(_Strict):
    model: str | None = None
    sha256: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{64}$")


class ReportSettings(_Strict):
    noun: str | None = None
    plural: str | None = None
    quotes_per_code: int = Field(default=2, ge=1, le=50)
    attribution: str = "{participant}"
    quote_words: tuple[int, int] = (8, 60)
    prevalence: list[tuple[str, int | float]] | None = None
    #: which codings prevalence counts: ``confident`` (a person's, and machine suggestions scoring at least
    #: ``confident_score``) or ``all`` (every suggestion not rejected)
    count: Literal["confident", "all"] = "confident"
    confident_score: float = Field(default=0.75, ge=0.5, le=1.0)

    def noun_for(self, count: int, codebook_noun: str) -> str:
        noun = self.noun or codebook_noun
        if count == 1:
            return noun
        if self.plural:
            return self.plural
        return noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"

    def prevalence_rules(self) -> tuple[tuple[str, float | int], ...]:
        if self.prevalence is None:
            return DEFAULT_PREVALENCE
        return tuple((word, value) for word, value in self.prevalence)


class TranscriptSettings(_Strict):
    """How transcripts are read: the speech and speaker columns of table transcripts (default: found by name)."""

    text_column: str | None = Field(default=None, min_length=1)
    speaker_column: str | None = Field(default=None, min_length=1)


class Settings(_Strict):
    schema_version: int = 1
    embedding: EmbeddingSettings = EmbeddingSettings()
    report: ReportSettings = ReportSettings()
    transcripts: TranscriptSettings = TranscriptSettings()
    source: str | None = None


def load_settings(path: str | Path | None = None) -> Settings:
    """Settings from ``path``, or from ``themekit.yaml`` in the working folder if it exists, else defaults."""
    if path is None:
        if not Path(CONFIG_FILE).is_file():
            return Settings()
        path = CONFIG_FILE
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(
            f"{path}: cannot read the settings file ({exc.strerror}). Check the path given as config=.", param="config"
        ) from exc
    try:
        document = load_yaml(text, max_depth=20, max_aliases=20)
    except YamlError as exc:
        where = f" at line {exc.line}, column {exc.column}" if exc.line else ""
        raise SettingsError(f"{path}: not valid YAML{where} ({exc.message}). Fix the file or remove it.") from exc
    data = document.data or {}
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: settings must be a YAML mapping (key: value).")
    problems = [f"{where} (line {line}): {message}" for where, line, message in document.duplicates]
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            where = yaml_path(error["loc"])
            line = document.line(where)
            problems.append(f"{where}{f' (line {line})' if line else ''}: {error['msg'].lower()}")
    if problems:
        raise SettingsError(f"{path}: {'; '.join(problems)}. See the settings section of the README.")
    settings.source = str(path)
    return settings
