"""Confidentiality for exports: stable pseudonyms and redaction of identifying text.

Pseudonyms replace participant identifiers (transcript ids, participant
names and speaker labels) with "Keyworker 1", "Keyworker 2", ... in the order of the sorted
transcript ids. The mapping is kept in the run folder (``pseudonyms.csv``)
the first time it is made and reused afterwards, so every export of the run
uses the same pseudonyms; it never leaves the run folder.

Redaction blanks out terms from a list (names, places, organisations; one
per line, matched as whole words, case-insensitively) and, always, email
addresses, phone numbers and UK postcodes, replacing each with
``[redacted]`` and counting what was removed.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from pathlib import Path

from themekit.errors import RedactionListError

__all__ = ["Privacy", "PSEUDONYM_FILE", "REDACTED"]

PSEUDONYM_FILE = "pseudonyms.csv"
REDACTED = "[redacted]"

_GENERIC = frozenset({"respondent", "participant", "interviewee", "answer", "int", "resp"})
_PATTERNS = {
    "email": re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b"),
    "phone": re.compile(r"(?<![\w+])(?:\+44\s?\(?0?\)?\s?|\b0)\d(?:[\s-]?\d){8,9}\b"),
    "postcode": re.compile(r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE),
}


class Privacy:
    """What an export hides. ``counts`` says how much was redacted, by kind."""

    def __init__(self, *, terms: list[str] | None = None, pseudonyms: dict[str, str] | None = None) -> None:
        self.pseudonyms = pseudonyms or {}
        self.counts: Counter[str] = Counter()
        terms = sorted({t.strip() for t in terms or [] if t.strip()}, key=len, reverse=True)
        self._terms = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in terms) + r")(?!\w)", re.IGNORECASE)
            if terms
            else None
        )
        # identifiers found in quote text: ids and names, not generic labels such as "R" or "Respondent"
        labels = sorted(
            (x for x in self.pseudonyms if len(x) >= 3 and x.casefold() not in _GENERIC), key=len, reverse=True
        )
        self._labels = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(x) for x in labels) + r")(?!\w)") if labels else None
        )

    @classmethod
    def for_run(
        cls, run, folder: str | Path | None, *, pseudonymise: bool, redact: str | Path | None, noun: str
    ) -> Privacy:
        terms = _read_terms(Path(redact)) if redact else []
        mapping = _pseudonyms(run, Path(folder) if folder else None, noun) if pseudonymise else {}
        return cls(terms=terms, pseudonyms=mapping)

    def who(self, identifier: str) -> str:
        return self.pseudonyms.get(identifier, identifier)

    def names(self, transcripts) -> dict[str, str]:
        """Transcript id → the name an export shows: the pseudonym, else the participant's name."""
        return {t.id: self.pseudonyms.get(t.id, t.participant) for t in transcripts}

    def text(self, text: str) -> str:
        if self._terms is not None:
            text, n = self._terms.subn(REDACTED, text)
            self.counts["listed terms"] += n
        for kind, pattern in _PATTERNS.items():
            text, n = pattern.subn(REDACTED, text)
            self.counts[kind] += n
        if self._labels is not None:
            text = self._labels.sub(lambda m: self.pseudonyms[m.group(0)], text)
        return text

    def summary(self) -> str:
        found = {k: v for k, v in self.counts.items() if v}
        if not found:
            return "nothing to redact was found"
        return f"redacted {sum(found.values())}: " + ", ".join(f"{v} {k}" for k, v in sorted(found.items()))


def _read_terms(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise RedactionListError(
            f"{path}: cannot read the redaction list ({exc.strerror}). Give a text file, one term per line.",
            param="redact",
        ) from None
    except UnicodeDecodeError:
        raise RedactionListError(
            f"{path}: the redaction list is not UTF-8 text. Save it as UTF-8, one term per line.", param="redact"
        ) from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _pseudonyms(run, folder: Path | None, noun: str) -> dict[str, str]:
    """The run's mapping: read from the run folder, or made (and saved there) on first use."""
    from themekit.util.atomic import atomic_write_text

    path = folder / PSEUDONYM_FILE if folder else None
    if path is not None and path.is_file():
        with path.open(encoding="utf-8", newline="") as fh:
            return {row["identifier"]: row["pseudonym"] for row in csv.DictReader(fh)}
    title = noun[:1].upper() + noun[1:]
    mapping: dict[str, str] = {}
    for n, transcript in enumerate(sorted(run.corpus, key=lambda t: t.id), start=1):
        mapping[transcript.id] = f"{title} {n}"
        mapping.setdefault(transcript.participant, f"{title} {n}")  # the name people read, found in quote text too
        for turn in transcript.participant_turns:
            mapping.setdefault(turn.speaker, f"{title} {n}")
    if path is not None:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["identifier", "pseudonym"])
        writer.writerows(mapping.items())
        atomic_write_text(path, buffer.getvalue())
    return mapping
