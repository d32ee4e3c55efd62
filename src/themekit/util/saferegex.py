"""User regular expressions, run under a cost bound and checked for the shapes that backtrack catastrophically.

A codebook's token patterns may hold ``{"REGEX": ...}``. spaCy runs those
with Python's ``re``, which has no time limit: ``^(a|a)+$`` on a 36-letter
word never finishes. themekit refuses the known catastrophic shapes when the
codebook loads (:func:`catastrophic_shape`) and runs every user expression
with the ``regex`` package under a per-search timeout
(:class:`GuardedRegex`): an expression that times out once is switched off
for the rest of the run (it matches nothing more) and reported, so its cost
is bounded by one timeout.
"""

from __future__ import annotations

import re
import re._parser as sre_parse  # the standard library's own regex parser
import string
from collections.abc import Sequence

__all__ = ["REGEX_TIMEOUT", "GuardedRegex", "catastrophic_shape"]

#: Seconds one search of one user regular expression in one token may take before the expression is switched off.
REGEX_TIMEOUT = 0.25
#: More unbounded repeats than this in a row over characters they can share (``\w*\w*\w*``) are refused.
MAX_ADJACENT_REPEATS = 2

_REPEATS = {sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, getattr(sre_parse, "POSSESSIVE_REPEAT", None)} - {None}
_PROBE = string.printable + "éüßøçñ€–’“”中あ\u0301"
_CATEGORY = {
    sre_parse.CATEGORY_DIGIT: str.isdigit,
    sre_parse.CATEGORY_NOT_DIGIT: lambda c: not c.isdigit(),
    sre_parse.CATEGORY_SPACE: str.isspace,
    sre_parse.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
    sre_parse.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
    sre_parse.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_"),
}


class GuardedRegex:
    """One user regular expression, searched with the ``regex`` package under :data:`REGEX_TIMEOUT` per search;
    results are cached per text. After one timeout it matches nothing more and ``timed_out`` is True."""

    def __init__(self, pattern: str, *, timeout: float | None = None) -> None:
        import regex

        self.pattern = pattern
        self.timeout = REGEX_TIMEOUT if timeout is None else timeout
        self.timed_out = False
        self._compiled = regex.compile(pattern, flags=regex.VERSION0)
        self._seen: dict[str, bool] = {}

    def search(self, text: str) -> bool:
        """Whether the expression matches somewhere in ``text`` (False once it has timed out)."""
        if self.timed_out:
            return False
        found = self._seen.get(text)
        if found is None:
            try:
                found = self._compiled.search(text, timeout=self.timeout) is not None
            except TimeoutError:
                self.timed_out = True
                return False
            if len(self._seen) < 100_000:
                self._seen[text] = found
        return found


def catastrophic_shape(pattern: str) -> str | None:
    """Why ``pattern`` could backtrack catastrophically, or None: a repeated group that itself repeats
    (``(a+)+``), a repeated choice whose branches can match the same text (``(a|aa)+``, ``(\\w|\\d)+``), or
    more than :data:`MAX_ADJACENT_REPEATS` unbounded repeats in a row over characters they share (``\\w*\\w*\\w*``).
    """
    try:
        return _walk(sre_parse.parse(pattern)) or _repeated_choice(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        return f"not a valid regular expression ({exc})"


def _walk(items) -> str | None:
    run: list[frozenset[str]] = []
    longest = 0
    for op, av in items:
        if op in _REPEATS:
            low, high, body = av
            if high > 1 and _has_repeat(body):
                return "a repeated group that itself repeats (like (a+)+)"
            if high == sre_parse.MAXREPEAT:
                chars = _first_chars(body)
                run = [*run, chars] if run and all(prev & chars for prev in run) else [chars]
                longest = max(longest, len(run))
            elif low > 0:
                run = []
            found = _walk(body)
        elif op == sre_parse.SUBPATTERN:
            found = _walk(av[-1])
            run = []
        elif op == sre_parse.BRANCH:
            found = next((f for f in map(_walk, av[1]) if f), None)
            run = []
        elif op in (sre_parse.AT, sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            continue  # zero-width: the repeats either side still share their characters
        else:
            found = None
            run = []
        if found:
            return found
    if longest > MAX_ADJACENT_REPEATS:
        return f"{longest} unbounded repeats in a row that can match the same characters (like \\w*\\w*\\w*)"
    return None


def _has_repeat(items) -> bool:
    for op, av in items:
        if op in _REPEATS and av[1] > 1:
            return True
        if op == sre_parse.SUBPATTERN and _has_repeat(av[-1]):
            return True
        if op == sre_parse.BRANCH and any(_has_repeat(b) for b in av[1]):
            return True
    return False


_REPEAT_AFTER = re.compile(r"[*+]|\{\d*,\d*\}|\{\d+\}")
_GROUP_PREFIX = re.compile(r"\?(?:[:>]|P<\w+>|<\w+>|[aiLmsux-]+:)")


def _repeated_choice(pattern: str) -> str | None:
    """A repeated group whose alternatives can start with the same character, read from the pattern as written
    (Python's parser folds ``(a|a)`` and ``(\\w|\\d)`` into forms that hide the choice)."""
    for content, repeat in _groups(pattern):
        m = _REPEAT_AFTER.match(repeat)
        if not m or m.group() in ("{1}", "{0}", "{0,1}", "{,1}"):
            continue
        if content.startswith("?"):
            prefix = _GROUP_PREFIX.match(content)
            if not prefix:
                continue  # a lookaround or conditional: zero-width
            content = content[prefix.end() :]
        branches = _top_level_split(content)
        if len(branches) < 2:
            continue
        firsts = [_first_chars(sre_parse.parse(b)) for b in branches]
        if any(a & b for i, a in enumerate(firsts) for b in firsts[i + 1 :]):
            return "a repeated choice whose branches can match the same text (like (a|aa)+ or (\\w|\\d)+)"
    return None


def _groups(pattern: str) -> list[tuple[str, str]]:
    """(content, the text after the closing bracket) of every group in ``pattern``."""
    found: list[tuple[str, str]] = []
    stack: list[int] = []
    i, in_class = 0, False
    while i < len(pattern):
        c = pattern[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            if pattern[i + 1 : i + 2] == "]" or pattern[i + 1 : i + 3] == "^]":
                i += 2 if pattern[i + 1] == "]" else 3
                continue
        elif c == "(":
            stack.append(i)
        elif c == ")" and stack:
            start = stack.pop()
            found.append((pattern[start + 1 : i], pattern[i + 1 : i + 12]))
        i += 1
    return found


def _top_level_split(content: str) -> list[str]:
    """``content`` split at the ``|`` that are outside brackets and character classes."""
    parts, depth, in_class, i, last = [], 0, False, 0, 0
    while i < len(content):
        c = content[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
        elif c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
        elif c == "|" and depth == 0:
            parts.append(content[last:i])
            last = i + 1
        i += 1
    return [*parts, content[last:]]


def _first_chars(items: Sequence) -> frozenset[str]:
    """The probe characters a match of ``items`` can start with (an approximation over :data:`_PROBE`)."""
    chars: set[str] = set()
    for op, av in items:
        if op == sre_parse.LITERAL:
            return frozenset(chars | {chr(av)})
        if op == sre_parse.NOT_LITERAL:
            return frozenset(chars | {c for c in _PROBE if ord(c) != av})
        if op == sre_parse.ANY:
            return frozenset(_PROBE)
        if op == sre_parse.IN:
            return frozenset(chars | {c for c in _PROBE if _in_set(c, av)})
        if op == sre_parse.SUBPATTERN:
            return frozenset(chars | _first_chars(av[-1]))
        if op == sre_parse.BRANCH:
            return frozenset(chars.union(*(_first_chars(b) for b in av[1])))
        if op in _REPEATS:
            chars |= _first_chars(av[2])
            if av[0] > 0:
                return frozenset(chars)
            continue
        if op in (sre_parse.AT, sre_parse.ASSERT, sre_parse.ASSERT_NOT):
            continue
        return frozenset(_PROBE)  # anything else (a back-reference): assume it can start anywhere
    return frozenset(chars)


def _in_set(c: str, items) -> bool:
    negate = False
    hit = False
    for op, av in items:
        if op == sre_parse.NEGATE:
            negate = True
        elif op == sre_parse.LITERAL:
            hit = hit or ord(c) == av
        elif op == sre_parse.RANGE:
            hit = hit or av[0] <= ord(c) <= av[1]
        elif op == sre_parse.CATEGORY:
            hit = hit or _CATEGORY.get(av, lambda _c: True)(c)
        else:
            hit = True
    return hit != negate
