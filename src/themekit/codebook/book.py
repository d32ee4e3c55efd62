"""Codebooks: load and validate YAML (every problem at once, with paths and lines)."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import ValidationError

from themekit.codebook.schema import SCHEMA_VERSION, CodebookSpec, CodeSpec, ThemeSpec
from themekit.errors import CodebookError, CodebookProblem, OptionError, YamlError
from themekit.util import limits
from themekit.util.saferegex import GuardedRegex, catastrophic_shape
from themekit.util.yamlfile import line_of, load_yaml, yaml_path

__all__ = ["Code", "Codebook", "SCHEMA_VERSION", "validate_codebook"]

#: More YAML aliases than this are refused: "billion laughs" bombs multiply data through aliases.
MAX_ALIASES = 100
#: A codebook whose aliases expand to more values than this is refused.
MAX_EXPANDED_NODES = 200_000
#: Deepest nesting of [ ] and { } allowed (PyYAML's scanner slows down sharply with depth).
MAX_FLOW_DEPTH = 50
#: Longest regular expression allowed in a spaCy pattern.
MAX_REGEX_CHARS = 500


@dataclass(frozen=True)
class Code:
    """A code flattened out of the theme tree, with where it sits."""

    spec: CodeSpec
    theme_id: str
    parent_id: str | None
    depth: int
    path: str

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def label(self) -> str:
        return self.spec.label


class Codebook:
    """A validated codebook: the themes → codes tree plus version and content hash."""

    def __init__(self, spec: CodebookSpec, *, source: Path | None = None) -> None:
        self.spec = spec
        self.source = source
        self.codes: tuple[Code, ...] = tuple(_flatten(spec))
        self._by_id = {c.id: c for c in self.codes}
        #: (sha256 of the source file's bytes, content hash of the codebook they hold) when loaded from a file
        self._read: tuple[str, str] | None = None

    @classmethod
    def load(cls, path: str | Path) -> Codebook:
        """Load and validate a YAML codebook; raises :class:`CodebookError` listing every problem."""
        return validate_codebook(path)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def version(self) -> str:
        return self.spec.version

    @property
    def themes(self) -> list[ThemeSpec]:
        return self.spec.themes

    @property
    def sha256(self) -> str:
        """Hash of the codebook's content (not its formatting or comments)."""
        content = self.spec.model_dump(mode="json")
        _drop_active_status(content)
        canonical = json.dumps(content, sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()

    def yaml_text(self) -> str:
        """The codebook as YAML: its file as written (comments and line endings kept) while the file still
        holds this content, else the content dumped."""
        source = self.source
        if source is not None and source.is_file():
            try:
                data = source.read_bytes()
                if self._holds_this(source, data):
                    return data.decode("utf-8")
            except (CodebookError, OSError, UnicodeDecodeError):  # edited since loading: dump the loaded content
                pass
        data = self.spec.model_dump(mode="json", exclude_defaults=True)
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

    def _holds_this(self, source: Path, data: bytes) -> bool:
        """Whether ``data``, the bytes of ``source``, hold this codebook's content: known without parsing them
        again when they are the bytes it was loaded from."""
        if self._read is not None and self._read[0] == hashlib.sha256(data).hexdigest():
            return self._read[1] == self.sha256
        return validate_codebook(source).sha256 == self.sha256

    def code(self, code_id: str) -> Code:
        return self._by_id[code_id]

    def theme(self, theme_id: str) -> ThemeSpec:
        for theme in self.spec.themes:
            if theme.id == theme_id:
                return theme
        raise KeyError(theme_id)

    def codes_of(self, theme_id: str) -> list[Code]:
        return [c for c in self.codes if c.theme_id == theme_id]

    def __iter__(self) -> Iterator[Code]:
        return iter(self.codes)

    def __getitem__(self, key: str | int) -> Code:
        """A code by its id (``codebook["debt"]``) or by its place in the codebook (``codebook[0]``)."""
        if isinstance(key, int):
            return self.codes[key]
        try:
            return self._by_id[key]
        except (KeyError, TypeError):
            close = difflib.get_close_matches(str(key), list(self._by_id), n=3)
            hint = (
                f"; did you mean {', '.join(map(repr, close))}?"
                if close
                else f"; its codes are: {', '.join(list(self._by_id)[:12])}"
            )
            raise KeyError(f"no code {key!r} in the codebook {self.name!r}{hint}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._by_id

    def id_named(self, name: str, *, param: str = "code") -> str | None:
        """The id of the code ``name`` names, as people type a code: its id, else its id or its label in any case
        and spacing; ``None`` when nothing matches. A label several codes share is refused (OptionError naming
        their ids, for ``param``)."""
        text = " ".join(str(name).split())
        if text in self._by_id:
            return text
        folded = text.casefold()
        matches = [c.id for c in self.codes if c.id.casefold() == folded] or [
            c.id for c in self.codes if " ".join(c.label.split()).casefold() == folded
        ]
        if len(matches) > 1:
            raise OptionError(
                f"{text!r} is the label of {len(matches)} codes of codebook {self.name} {self.version} "
                f"({', '.join(matches)}); give the code id, e.g. {matches[0]}",
                param=param,
            )
        return matches[0] if matches else None

    def __len__(self) -> int:
        return len(self.codes)

    def __repr__(self) -> str:
        return f"Codebook({self.name!r}, version={self.version!r}, themes={len(self.themes)}, codes={len(self)})"


def _drop_active_status(node: object) -> None:
    """Leave the default ``status: active`` out of the hash, so codebooks without statuses keep their hash."""
    if isinstance(node, dict):
        if node.get("status") == "active" and "definition" in node:
            del node["status"]
        for value in node.values():
            _drop_active_status(value)
    elif isinstance(node, list):
        for value in node:
            _drop_active_status(value)


def _flatten(spec: CodebookSpec) -> Iterator[Code]:
    def walk(codes: list[CodeSpec], theme: str, parent: str | None, depth: int, prefix: str) -> Iterator[Code]:
        for i, code in enumerate(codes):
            path = f"{prefix}.codes[{i}]"
            yield Code(code, theme, parent, depth, path)
            yield from walk(code.codes, theme, code.id, depth + 1, path)

    for t, theme in enumerate(spec.themes):
        yield from walk(theme.codes, theme.id, None, 0, f"themes[{t}]")


# ---------------------------------------------------------------------------
# validation


def _allowed_keys(path: str) -> list[str]:
    parent = path.rsplit(".", 1)[0] if "." in path else ""
    last = parent.rsplit(".", 1)[-1].split("[")[0] if parent else ""
    model = {"": CodebookSpec, "themes": ThemeSpec, "codes": CodeSpec}.get(last)
    if last == "changelog":
        from themekit.codebook.schema import ChangelogEntry

        model = ChangelogEntry
    return list(model.model_fields) if model else []


def _describe(error: dict, path: str) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        key = path.rsplit(".", 1)[-1]
        allowed = _allowed_keys(path)
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"allowed keys: {', '.join(allowed)}"
        return f"unknown key '{key}'; {hint}"
    if kind == "missing":
        return "missing required key"
    if kind == "string_pattern_mismatch":
        if path.endswith("version"):
            return f"'{error['input']}' is not a semantic version; write it as MAJOR.MINOR.PATCH, e.g. 1.0.0"
        return (
            f"'{error['input']}' is not a valid id; start with a letter and use only letters, digits, "
            "'_', '-' or '.' (at most 64 characters)"
        )
    if kind == "string_type" and path.endswith("version"):
        return f"'{error['input']}' is not a semantic version; write it as MAJOR.MINOR.PATCH, e.g. 1.0.0"
    if kind == "too_short":
        return "must not be empty"
    if kind == "literal_error" and path == "schema_version":
        return f"unsupported schema version {error['input']!r}; this themekit reads schema_version {SCHEMA_VERSION}"
    return error["msg"][0].lower() + error["msg"][1:]


def _raw_codes(raw: dict) -> Iterator[tuple[str, dict]]:
    """(YAML path, mapping) of every theme and code, however broken the rest is."""

    def walk(codes: object, prefix: str) -> Iterator[tuple[str, dict]]:
        if isinstance(codes, list):
            for i, code in enumerate(codes):
                if isinstance(code, dict):
                    yield f"{prefix}.codes[{i}]", code
                    yield from walk(code.get("codes"), f"{prefix}.codes[{i}]")

    themes = raw.get("themes")
    if isinstance(themes, list):
        for t, theme in enumerate(themes):
            if isinstance(theme, dict):
                yield f"themes[{t}]", theme
                yield from walk(theme.get("codes"), f"themes[{t}]")


def _semantic_problems(raw: dict, lines: dict[str, int]) -> list[CodebookProblem]:
    """Checks the schema cannot express: unique ids, keyword lists, spaCy patterns."""
    problems: list[CodebookProblem] = []
    seen: dict[str, str] = {}
    for path, item in _raw_codes(raw):
        identifier = item.get("id")
        if isinstance(identifier, str):
            if identifier in seen:
                first = line_of(seen[identifier], lines)
                where = f"{path}.id"
                problems.append(
                    CodebookProblem(
                        where, f"duplicate id '{identifier}' (first at line {first})", line_of(where, lines)
                    )
                )
            else:
                seen[identifier] = f"{path}.id"
        for field in ("keywords", "exclude_keywords"):
            terms: dict[str, int] = {}
            values = item.get(field)
            for k, term in enumerate(values if isinstance(values, list) else []):
                where = f"{path}.{field}[{k}]"
                if not isinstance(term, str):
                    continue  # reported by the schema
                if not term.strip():
                    problems.append(CodebookProblem(where, "empty keyword; remove it", line_of(where, lines)))
                elif term.casefold() in terms:
                    problems.append(
                        CodebookProblem(
                            where,
                            f"'{term}' is listed twice (also {field}[{terms[term.casefold()]}])",
                            line_of(where, lines),
                        )
                    )
                else:
                    terms[term.casefold()] = k
        patterns = item.get("patterns")
        if isinstance(patterns, list) and patterns:
            problems.extend(_pattern_problems(str(identifier), path, patterns, lines))
    problems.extend(_rename_problems(raw, lines, seen))
    return problems


def _rename_problems(raw: dict, lines: dict[str, int], live: dict[str, str]) -> list[CodebookProblem]:
    """``renamed_from``/``merged_from`` list ids of earlier codes; a cycle shows as an old id that is still live or claimed twice."""
    problems = []
    claimed: dict[str, str] = {}
    for path, item, key in ((p, i, k) for p, i in _raw_codes(raw) for k in ("renamed_from", "merged_from")):
        olds = item.get(key)
        for k, old in enumerate(olds if isinstance(olds, list) else []):
            where = f"{path}.{key}[{k}]"
            line = line_of(where, lines)
            if not isinstance(old, str):
                continue
            if old == item.get("id"):
                problems.append(
                    CodebookProblem(where, f"'{old}' is this code's own id; a code cannot be renamed from itself", line)
                )
            elif old in live:
                problems.append(
                    CodebookProblem(
                        where,
                        f"'{old}' is still a code or theme id (line {line_of(live[old], lines)}); renames would go round "
                        f"in a cycle. Remove the old code, or this {key} entry",
                        line,
                    )
                )
            elif old in claimed:
                problems.append(
                    CodebookProblem(
                        where,
                        f"'{old}' is also claimed by {claimed[old]}; an old id can be renamed to one code only",
                        line,
                    )
                )
            else:
                claimed[old] = path
    return problems


def _regexes(value: object) -> Iterator[str]:
    """Every REGEX operand in a token pattern, however deeply nested."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "REGEX" and isinstance(inner, str):
                yield inner
            else:
                yield from _regexes(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _regexes(inner)


def _guard_problem(regex: str) -> str | None:
    """Why the guarded engine (the ``regex`` package) cannot run ``regex``, or None."""
    import regex as regex_package

    try:
        GuardedRegex(regex)
    except (regex_package.error, ValueError, OverflowError, RecursionError) as exc:
        return f"not a valid regular expression for themekit's guarded matcher ({exc})"
    return None


def _pattern_problems(code_id: str, path: str, patterns: list, lines: dict[str, int]) -> list[CodebookProblem]:
    from spacy.matcher import Matcher

    from themekit.nlp.language import shared_vocab

    problems = []
    for p, pattern in enumerate(patterns):
        where = f"{path}.patterns[{p}]"
        if not (isinstance(pattern, list) and all(isinstance(token, dict) for token in pattern)):
            continue  # the schema reports the wrong shape
        bad = []
        for regex in _regexes(pattern):
            if len(regex) > MAX_REGEX_CHARS:
                bad.append(f"a regular expression is {len(regex)} characters long, over the {MAX_REGEX_CHARS} allowed")
            elif (why := catastrophic_shape(regex) or _guard_problem(regex)) is not None and why.startswith(
                "not a valid"
            ):
                bad.append(f"code '{code_id}': {regex!r} is {why}")
            elif why is not None:
                bad.append(
                    f"code '{code_id}': regular expression {regex!r} is refused: {why} can take forever on some words; "
                    "simplify it"
                )
        if bad:
            problems.extend(CodebookProblem(where, message, line_of(where, lines)) for message in bad)
            continue
        vocab = shared_vocab()
        try:
            Matcher(vocab, validate=True).add(code_id, [pattern])
        except (
            Exception
        ) as exc:  # only spaCy's call: it reports invalid patterns as ValueError, MatchPatternError and more
            first = str(exc).strip().splitlines()
            detail = " ".join(x.strip() for x in first if x.strip())[:300]
            problems.append(
                CodebookProblem(where, f"not a valid spaCy token pattern ({detail})", line_of(where, lines))
            )
    return problems


def read_guarded_yaml(
    path: str | Path, *, text: str | None = None
) -> tuple[object, dict[str, int], list[CodebookProblem]]:
    """Parse a codebook-like YAML file (or ``text``, named ``path`` in messages) behind the size, nesting and alias
    guards of :func:`themekit.util.yamlfile.load_yaml`.

    Returns the data, the line of every YAML path and the problems found while
    mapping lines (duplicate keys); unreadable files raise :class:`CodebookError`.
    """
    path = Path(path)
    return _parse_guarded(path, _codebook_bytes(path, text))


def _codebook_bytes(path: Path, text: str | None) -> bytes:
    """The bytes of the codebook file ``path``, or of ``text``; an unreadable file raises :class:`CodebookError`."""
    try:
        return path.read_bytes() if text is None else text.encode("utf-8")
    except OSError as exc:
        raise CodebookError(
            path, [CodebookProblem("", f"cannot read the file ({exc.strerror}); check the path")]
        ) from None


def _parse_guarded(path: Path, data: bytes) -> tuple[object, dict[str, int], list[CodebookProblem]]:
    """:func:`read_guarded_yaml` of the bytes read."""
    if len(data) > limits.MAX_CODEBOOK_BYTES:
        raise CodebookError(
            path,
            [
                CodebookProblem(
                    "", f"file is over {limits.MAX_CODEBOOK_BYTES // limits.MB} MB; a codebook is never this large"
                )
            ],
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CodebookError(
            path, [CodebookProblem("", f"not UTF-8 (byte {exc.start}); save the file as UTF-8")]
        ) from None
    try:
        document = load_yaml(text, max_depth=MAX_FLOW_DEPTH, max_aliases=MAX_ALIASES, max_expanded=MAX_EXPANDED_NODES)
    except YamlError as exc:
        if exc.kind == "syntax":
            where = f"line {exc.line}, column {exc.column}: " if exc.line else ""
            raise CodebookError(path, [CodebookProblem("", f"{where}{exc.message}", None)]) from None
        fix = {"depth": "a codebook never needs this", "aliases": "write the values out in full"}.get(
            exc.kind, "fix or quote it"
        )
        raise CodebookError(path, [CodebookProblem("", f"{exc.message}; {fix}")]) from None
    problems = [CodebookProblem(where, message, line) for where, line, message in document.duplicates]
    return document.data, document.lines, problems


def validate_codebook(path: str | Path, *, text: str | None = None) -> Codebook:
    """Load a codebook, collecting every problem before raising :class:`CodebookError`.

    With ``text``, that YAML is checked as if it were the file ``path`` (nothing is read or written); the codebook
    returned then has no source file."""
    path = Path(path)
    data = _codebook_bytes(path, text)
    raw, lines, problems = _parse_guarded(path, data)
    if not isinstance(raw, dict):
        raise CodebookError(
            path, [CodebookProblem("", "the file must be a YAML mapping with name, version and themes")]
        )
    spec = None
    try:
        spec = CodebookSpec.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            where = yaml_path(error["loc"])
            problems.append(CodebookProblem(where, _describe(error, where), line_of(where, lines)))
    problems.extend(_semantic_problems(raw, lines))
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.path))
        raise CodebookError(path, problems)
    assert spec is not None
    codebook = Codebook(spec, source=path if text is None else None)
    if text is None:
        codebook._read = (hashlib.sha256(data).hexdigest(), codebook.sha256)
    return codebook
