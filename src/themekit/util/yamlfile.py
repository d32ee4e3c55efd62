"""The one guarded YAML loader: codebooks, settings files and Markdown front matter all go through it.

Untrusted YAML can be slow or huge to parse (deeply nested brackets, alias
"billion laughs"), so cheap checks run before PyYAML builds anything; the
document is composed once to record the line of every YAML path (so messages
can say ``themes[2].codes[0].keywords (line 14)``) and to find duplicate keys,
which ``yaml.safe_load`` would silently collapse, and the data is built from
that same composed document.

Parsing uses libyaml (``yaml.CSafeLoader``, about ten times faster) when PyYAML
has it. Anything libyaml does not read through to the end, and any document
nested deeper than :data:`FAST_MAX_NESTING` (libyaml's composer recurses in C,
where Python's recursion limit does not stop it), is read again with the
pure-Python loader, so every message is the one that loader gives.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import yaml

from themekit.errors import YamlError

__all__ = ["FAST_MAX_NESTING", "YamlDocument", "alias_count", "bracket_depth", "line_of", "load_yaml", "yaml_path"]

_BRACKETS = re.compile(r"[\[\]{}]")
#: libyaml's loader, or None when PyYAML was built without it.
_FAST_LOADER = getattr(yaml, "CSafeLoader", None)
#: Deepest nesting of collections read with libyaml; deeper documents go to the pure-Python loader, whose recursion
#: limit turns them into a clear error instead of a crash.
FAST_MAX_NESTING = 100


def bracket_depth(text: str) -> int:
    """The deepest nesting of flow brackets; PyYAML's scanner slows down sharply with depth."""
    depth = deepest = 0
    for ch in _BRACKETS.findall(text):
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth = max(0, depth - 1)
    return deepest


def alias_count(text: str) -> int:
    """How many aliases (*name) the YAML text uses; parsing events only, nothing is built."""
    if "*" not in text:
        return 0
    return sum(isinstance(event, yaml.AliasEvent) for event in yaml.parse(text, Loader=yaml.SafeLoader))


@dataclass
class YamlDocument:
    """A parsed YAML document with the line (1-based) of every YAML path and its duplicate keys."""

    data: object
    lines: dict[str, int] = field(default_factory=dict)
    #: (YAML path, line, message) of every key given twice in one mapping
    duplicates: list[tuple[str, int, str]] = field(default_factory=list)

    def line(self, path: str) -> int | None:
        """The line of ``path``, or of its nearest enclosing path that has one."""
        return line_of(path, self.lines)


def load_yaml(text: str, *, max_depth: int = 50, max_aliases: int = 100, max_expanded: int = 200_000) -> YamlDocument:
    """Parse ``text`` behind the guards; :class:`~themekit.errors.YamlError` (with ``line`` where known) says why not.

    ``max_depth``: deepest nesting of ``[ ]`` and ``{ }``; ``max_aliases``: most
    aliases (``*name``); ``max_expanded``: most values once aliases are expanded.
    """
    depth = bracket_depth(text)
    if depth > max_depth:
        raise YamlError(f"brackets are nested {depth} deep, more than the {max_depth} allowed", kind="depth")
    fast = _fast_load(text, max_aliases=max_aliases, max_expanded=max_expanded)
    if fast is not None:
        return fast
    try:
        aliases = alias_count(text)
        if aliases > max_aliases:
            raise YamlError(f"uses {aliases} YAML aliases (*name), more than the {max_aliases} allowed", kind="aliases")
        document = _document(yaml.SafeLoader(text), max_expanded)
    except YamlError:
        raise
    except (ValueError, KeyError, IndexError, AttributeError, TypeError, RecursionError) as exc:
        # PyYAML's constructors refuse some scalars without a YAMLError: '2024-02-30', '!!bool maybe'
        detail = f" ({exc})" if str(exc) else ""
        raise YamlError(
            f"a value could not be read{detail}: an impossible date, a wrong !!tag, or nesting too deep", kind="value"
        ) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        lines = text.splitlines()
        bad_line = lines[mark.line] if mark and mark.line < len(lines) else ""
        hint = "; indent with spaces, not tabs" if "\t" in bad_line else ""
        raise YamlError(
            f"not valid YAML ({problem}){hint}",
            kind="syntax",
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
        ) from exc
    return document


def _document(loader: yaml.SafeLoader, max_expanded: int) -> YamlDocument:
    """Compose the loader's one document, record its lines and duplicate keys, then build its data from the same nodes."""
    try:
        node = loader.get_single_node()
        if _expanded_size(node) > max_expanded:
            raise YamlError(f"expands to over {max_expanded:,} values through YAML aliases (*name)", kind="aliases")
        document = YamlDocument(None)
        if node is not None:
            _record_lines(node, "", document)
            document.data = loader.construct_document(node)
        return document
    finally:
        loader.dispose()


def _fast_load(text: str, *, max_aliases: int, max_expanded: int) -> YamlDocument | None:
    """The document read with libyaml, or None: no libyaml, too many aliases, nesting deeper than
    :data:`FAST_MAX_NESTING`, or anything libyaml or the constructors refuse (the pure-Python loader then reads it
    and words the message). A document that expands too far through aliases is refused here as there."""
    if _FAST_LOADER is None:
        return None
    try:
        aliases = nesting = deepest = 0
        for event in yaml.parse(text, Loader=_FAST_LOADER):
            if isinstance(event, yaml.AliasEvent):
                aliases += 1
            elif isinstance(event, yaml.CollectionStartEvent):
                nesting += 1
                deepest = max(deepest, nesting)
            elif isinstance(event, yaml.CollectionEndEvent):
                nesting -= 1
        if aliases > max_aliases or deepest > FAST_MAX_NESTING:
            return None
        return _document(_FAST_LOADER(text), max_expanded)
    except YamlError:
        raise
    except Exception:  # noqa: BLE001 - every failure is read again by the pure-Python loader, which words it
        return None


def yaml_path(loc: tuple) -> str:
    """A pydantic error location as a YAML path: ``('themes', 2, 'codes')`` → ``themes[2].codes``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def line_of(path: str, lines: dict[str, int]) -> int | None:
    """The line of ``path`` in ``lines``, or of its nearest enclosing path that has one."""
    while path:
        if path in lines:
            return lines[path]
        cut = max(path.rfind("."), path.rfind("["))
        path = path[:cut] if cut > 0 else ""
    return lines.get("")


def _expanded_size(root: yaml.Node | None) -> int:
    """How many values the document holds once aliases are expanded (memoised: linear in the file)."""
    if root is None:
        return 0
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        if not done and id(node) in open_nodes:
            return 10**12  # a node that contains itself: endless
        if isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        else:
            sizes[id(node)] = 1
            continue
        if done:
            open_nodes.discard(id(node))
            sizes[id(node)] = min(1 + sum(sizes[id(c)] for c in children), 10**12)
        else:
            open_nodes.add(id(node))
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
    return sizes[id(root)]


def _record_lines(node: yaml.Node, path: str, document: YamlDocument) -> None:
    """Record the line of every YAML path below ``node``, and its duplicate keys."""
    document.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            child = f"{path}.{key}" if path else key
            line = key_node.start_mark.line + 1
            if key in seen:
                document.duplicates.append((child, line, f"duplicate key '{key}' (first at line {seen[key]})"))
                continue
            seen[key] = line
            document.lines[child] = line
            _record_lines(value_node, child, document)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _record_lines(item, f"{path}[{i}]", document)
