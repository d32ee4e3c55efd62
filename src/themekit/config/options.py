"""How a corpus is coded: :class:`CodingOptions`, every knob of ``themekit.code`` and ``themekit code``, validated once.

The options come in sections, as ``themekit.yaml`` has them::

    CodingOptions(
        ingest=IngestOptions(strict=True),          # reading transcripts
        segment=SegmentOptions(unit="turn"),        # cutting them into units
        coding=MethodOptions(methods="rule"),       # which methods code them
        embedding=EmbeddingOptions(cache_dir=None), # the sentence embeddings
        execution=ExecutionOptions(workers=2),      # where the batches run
    )

or flat, by the names ``themekit.code`` takes them: ``CodingOptions(unit="turn", methods="rule")``. A misspelt
name is refused, and so is a value outside its vocabulary (:data:`UNITS`, :data:`METHOD_NAMES`, :data:`ENGINES`),
as an :class:`~themekit.errors.OptionError` that says what to choose from.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from themekit.config import Settings
from themekit.errors import OptionError
from themekit.models import METHODS, UNITS, Unit
from themekit.nlp.embed import DEFAULT_CACHE_DIR
from themekit.util.choices import check_choice, check_choices, choice_error
from themekit.util.limits import MAX_FILE_BYTES

__all__ = [
    "ENGINES",
    "METHOD_ALIASES",
    "METHOD_NAMES",
    "REPORT_FORMATS",
    "SCOPES",
    "UNITS",
    "CodingOptions",
    "EmbeddingOptions",
    "ExecutionOptions",
    "IngestOptions",
    "MethodOptions",
    "SegmentOptions",
    "coding_options",
    "parse_methods",
    "with_option_keywords",
]

#: The coding methods ``methods=`` and ``--method`` choose from, in the order they run.
METHOD_NAMES: tuple[str, ...] = tuple(m for m in METHODS if m != "human")
#: Other names a method may be given by.
METHOD_ALIASES = {"rules": "rule", "embedding": "semantic", "embeddings": "semantic", "classifiers": "classifier"}
#: The formats of ``themekit.export.export_report`` (``--format``).
REPORT_FORMATS: tuple[str, ...] = ("docx", "html", "md")
#: Which segments ``themekit.evaluate`` scores (``--scope``): every one of the transcripts the gold file names, or
#: only those it codes.
SCOPES: tuple[str, ...] = ("transcript", "coded")
#: Where the batches run (``engine=``, ``--engine``); an :class:`themekit.pipeline.engine.Engine` may be given too.
ENGINES: tuple[str, ...] = ("local", "dask")


def parse_methods(methods: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """Method names (a list, or comma-separated, in any case, aliases allowed) as registered, in the order they run;
    ``None`` (every method whose inputs exist) stays ``None``."""
    if methods is None:
        return None
    return check_choices(methods, METHOD_NAMES, what="coding method", param="methods", aliases=METHOD_ALIASES)


def _lower(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def _option_error(exc: ValidationError, model: type[_Options]) -> OptionError:
    """One OptionError for every problem pydantic found: a choice's own message, an unknown name with the names
    there are, else the option's path (``coding.min_score``) and what is wrong."""
    errors = exc.errors()
    problems: list[OptionError] = []
    for error in errors:
        cause = (error.get("ctx") or {}).get("error")
        where = ".".join(str(p) for p in (model.section, *error["loc"]) if p)
        if isinstance(cause, OptionError):
            problems.append(cause)
        elif error["type"] == "extra_forbidden":
            fields = model.model_fields
            problems.append(choice_error([str(error["loc"][-1])], fields, what=f"{model.section} option", param=None))
        else:
            problems.append(OptionError(f"{where}: {error['msg'].lower()}", param=str(error["loc"][-1])))
    if len(problems) == 1:
        return problems[0]
    return OptionError("; ".join(map(str, problems)), param=tuple(p for e in problems for p in e.params))


class _Options(BaseModel):
    """Frozen, no unknown keys; a wrong value is an OptionError, not a pydantic ValidationError."""

    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)
    #: The section's name in messages (``segment.unit``).
    section: ClassVar[str] = ""

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _option_error(exc, type(self)) from None

    def replaced(self, **changes: Any) -> Any:
        """A copy with ``changes``, validated again."""
        return type(self)(**{**dict(self), **changes}) if changes else self


class IngestOptions(_Options):
    """Reading transcripts: who is the interviewer, how large a file may be, a table's columns, and whether a file
    that cannot be read fails the run (``strict``) or is listed and left out."""

    section: ClassVar[str] = "ingest"

    interviewer_labels: tuple[str, ...] | None = None
    max_file_bytes: int = MAX_FILE_BYTES
    text_column: str | None = None
    speaker_column: str | None = None
    unit_column: str | None = None
    strict: bool = False

    @field_validator("interviewer_labels", mode="before")
    @classmethod
    def _labels(cls, value: Any) -> Any:
        return (value,) if isinstance(value, str) else tuple(value) if value is not None else None


class SegmentOptions(_Options):
    """Cutting turns into units: the unit, the shortest unit coded, the spaCy pipeline, and whether the
    interviewer's speech is coded too."""

    section: ClassVar[str] = "segment"

    #: ``None``: the input's own unit, a sentence of an interview or a whole survey response (see
    #: :attr:`CodingOptions.unit`)
    unit: Unit | None = None
    min_words: int = 5
    spacy_model: str = "blank"
    code_interviewer: bool = False

    @field_validator("unit", mode="before")
    @classmethod
    def _unit(cls, value: Any) -> Any:
        return None if value is None else check_choice(_lower(value), UNITS, what="coding unit", param="unit")


class MethodOptions(_Options):
    """Which methods code (``None``: every method whose inputs exist) and the lowest score kept (0-1, 0.5 being
    each method's own threshold)."""

    section: ClassVar[str] = "coding"

    methods: tuple[str, ...] | None = None
    min_score: float = Field(default=0.5, ge=0.0, le=1.0)

    @field_validator("methods", mode="before")
    @classmethod
    def _methods(cls, value: Any) -> Any:
        return parse_methods(value)


class EmbeddingOptions(_Options):
    """The sentence embeddings: the model (a folder or an installed package; ``None``: the first known one
    installed), the sha256 its weights must have, the cache folder (``None``: no cache), and whether the classifier
    learns from the model adapted to the corpus' own sentences (``adapt_encoder``, see :mod:`themekit.nlp.adapt`)."""

    section: ClassVar[str] = "embedding"

    model: str | Path | None = None
    sha256: str | None = None
    cache_dir: str | Path | None = DEFAULT_CACHE_DIR
    adapt: bool = False


class ExecutionOptions(_Options):
    """Where the batches run: ``engine`` (a name of :data:`ENGINES` or an Engine), its ``workers`` and ``scheduler``,
    and how many transcripts a batch holds (``None``: chosen from the corpus size)."""

    section: ClassVar[str] = "execution"

    engine: Any = "local"
    workers: int | None = None
    scheduler: str | None = None
    batch_size: int | None = None

    @field_validator("engine", mode="before")
    @classmethod
    def _engine(cls, value: Any) -> Any:
        return check_choice(_lower(value), ENGINES, what="engine", param="engine") if isinstance(value, str) else value


#: Option names as ``themekit.code`` takes them → (section, field), where the two differ.
_RENAMED = {
    "embedding_model": ("embedding", "model"),
    "embedding_sha256": ("embedding", "sha256"),
    "adapt_encoder": ("embedding", "adapt"),
}


class CodingOptions(_Options):
    """Every option of a coding run, in sections (see the module's documentation)."""

    section: ClassVar[str] = ""

    ingest: IngestOptions = IngestOptions()
    segment: SegmentOptions = SegmentOptions()
    coding: MethodOptions = MethodOptions()
    embedding: EmbeddingOptions = EmbeddingOptions()
    execution: ExecutionOptions = ExecutionOptions()

    @model_validator(mode="before")
    @classmethod
    def _flat(cls, data: Any) -> Any:
        """Options given flat (``unit="turn"``) put in their sections."""
        if not isinstance(data, dict):
            return data
        sections: dict[str, Any] = {}
        for name, value in data.items():
            if name in cls.model_fields:
                if not isinstance(value, (BaseModel, dict)):
                    sections[name] = value  # refused by pydantic, as a section must be
                    continue
                sections[name] = {**sections.get(name, {}), **dict(value)}
                continue
            section, key = _where(name)
            sections.setdefault(section, {})[key] = value
        return sections

    def replaced(self, **changes: Any) -> CodingOptions:
        """A copy with ``changes``, given flat (``unit="turn"``) or by section, validated again."""
        if not changes:
            return self
        sections = {name: dict(getattr(self, name)) for name in type(self).model_fields}
        for name, value in _flat_changes(changes).items():
            section, key = _where(name)
            sections[section][key] = value
        return CodingOptions(**sections)

    def with_settings(self, settings: Settings) -> CodingOptions:
        """The options, with the embedding model and weights hash and the table columns of ``settings``
        (``themekit.yaml``) where they name none."""
        return self.replaced(
            embedding_model=self.embedding.model or settings.embedding.model,
            embedding_sha256=self.embedding.sha256 or settings.embedding.sha256,
            text_column=self.ingest.text_column or settings.transcripts.text_column,
            speaker_column=self.ingest.speaker_column or settings.transcripts.speaker_column,
        )

    @property
    def unit(self) -> Unit:
        """The unit coded: the one chosen, else a whole response for survey answers (``unit_column``), else a
        sentence."""
        if self.segment.unit is not None:
            return self.segment.unit
        return "turn" if self.ingest.unit_column is not None else "sentence"

    @classmethod
    def names(cls) -> dict[str, tuple[str, str]]:
        """Every option's flat name → (section, field), in section order."""
        return _names()


def _names() -> dict[str, tuple[str, str]]:
    renamed = {where: flat for flat, where in _RENAMED.items()}
    return {
        renamed.get((section, key), key): (section, key)
        for section, info in CodingOptions.model_fields.items()
        for key in info.annotation.model_fields  # type: ignore[union-attr]
    }


def _where(name: str) -> tuple[str, str]:
    """The section and field of a flat option name; an unknown name is refused with the names there are."""
    names = _names()
    check_choice(name, names, what="coding option")
    return names[name]


def _flat_changes(changes: dict[str, Any]) -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for name, value in changes.items():
        if name in CodingOptions.model_fields:
            flat.update({_flat_name(name, key): v for key, v in dict(value).items()})
        else:
            flat[name] = value
    return flat


def _flat_name(section: str, key: str) -> str:
    return next(flat for flat, where in _names().items() if where == (section, key))


def coding_options(options: CodingOptions | None = None, **changes: Any) -> CodingOptions:
    """``options`` (default: every default) with ``changes`` given by name, checked: what ``themekit.code`` runs with."""
    return (options or CodingOptions()).replaced(**changes)


F = TypeVar("F", bound=Callable[..., Any])


def with_option_keywords(func: F) -> F:
    """``func``'s signature, as ``help()`` and notebooks show it, with its ``**options`` written out as every
    :class:`CodingOptions` name and default."""
    signature = inspect.signature(func)
    params = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    taken = {p.name for p in params}
    defaults = CodingOptions()
    for name, (section, key) in _names().items():
        if name not in taken:
            default = getattr(getattr(defaults, section), key)
            params.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default))
    func.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    return func
