"""Options with a fixed vocabulary, checked in one place with one message: ``unknown coding unit 'word' (unit=);
choose from: sentence, turn, paragraph, passage``."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from themekit.errors import OptionError

__all__ = ["check_choice", "check_choices", "choice_error"]


def choice_error(unknown: Collection[str], choices: Collection[str], *, what: str, param: str | None) -> OptionError:
    """The error for values outside ``choices``: what they are, the parameter that was given, what to choose from."""
    named = ", ".join(map(repr, unknown)) or "(none)"
    given = f" ({param}=)" if param else ""
    return OptionError(f"unknown {what} {named}{given}; choose from: {', '.join(choices)}", param=param)


def check_choice(value: str, choices: Collection[str], *, what: str, param: str | None = None) -> str:
    """``value`` if it is one of ``choices``; else an :class:`~themekit.errors.OptionError` naming the choices."""
    if value not in choices:
        raise choice_error([value], choices, what=what, param=param)
    return value


def check_choices(
    values: str | Collection[str],
    choices: Collection[str],
    *,
    what: str,
    param: str | None = None,
    aliases: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """The chosen names, in the order of ``choices``, each once: ``values`` is a list or a comma-separated string of
    choices or their ``aliases``, in any case. Every unknown value is named in one error; none at all is one too."""
    aliases = aliases or {}
    raw = [v.strip() for v in (values.split(",") if isinstance(values, str) else values) if v.strip()]
    names = [aliases.get(v.lower(), v.lower()) for v in raw]
    unknown = [v for v, name in zip(raw, names) if name not in choices]
    if unknown or not names:
        raise choice_error(unknown, choices, what=what, param=param)
    return tuple(c for c in choices if c in names)
