from __future__ import annotations

import time

import pytest

from themekit import CodebookError, code
from themekit.codebook import validate_codebook

from ..conftest import TINY_CODEBOOK, write


def _problems(path):
    with pytest.raises(CodebookError) as info:
        validate_codebook(path)
    return info.value, {(p.path, p.line): p.message for p in info.value.problems}


def test_hostile_codebook_billion_laughs_is_refused_quickly(tmp_path):
    lines = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    prev = "a"
    for level in "bcdefghij":
        lines.append(f"{level}: &{level} [{', '.join(['*' + prev] * 9)}]")
        prev = level
    path = write(tmp_path / "bomb.yaml", "\n".join(lines) + "\n")
    started = time.process_time()  # CPU time: the work done, not the load on the machine
    error, _ = _problems(path)
    assert time.process_time() - started < 5
    assert "expands to over 200,000 values through YAML aliases (*name); write the values out in full" in str(error)
    many = write(tmp_path / "many.yaml", "a: &a x\nb: [" + ", ".join(["*a"] * 150) + "]\n")
    error, _ = _problems(many)
    assert "uses 150 YAML aliases (*name), more than the 100 allowed" in str(error)


def test_hostile_codebook_recursive_alias_is_refused(tmp_path):
    error, _ = _problems(write(tmp_path / "loop.yaml", "a: &a [x, *a]\nname: x\n"))
    assert "expands to over 200,000 values" in str(error)


def test_hostile_codebook_oversized_file_is_refused(tmp_path):
    path = tmp_path / "huge.yaml"
    path.write_text("name: x\n" + "# padding\n" * (2 * 2**20 + 1))
    error, _ = _problems(path)
    assert "file is over 20 MB; a codebook is never this large" in str(error)


def test_hostile_codebook_renamed_from_cycles(tmp_path):
    text = TINY_CODEBOOK.replace(
        "        keywords: [isolation, lonely, nobody to talk to]\n",
        "        keywords: [isolation, lonely, nobody to talk to]\n        renamed_from: [debt, loneliness, isolation_old]\n",
    ).replace(
        "        keywords: [debt, bailiff]\n",
        "        keywords: [debt, bailiff]\n        renamed_from: [loneliness, isolation_old]\n",
    )
    _, problems = _problems(write(tmp_path / "cycle.yaml", text))
    messages = list(problems.values())
    assert any(
        m.startswith("'debt' is still a code or theme id (line 16); renames would go round in a cycle")
        for m in messages
    )
    assert "'loneliness' is this code's own id; a code cannot be renamed from itself" in messages
    assert any(m.startswith("'loneliness' is still a code or theme id") for m in messages)
    assert any(m.startswith("'isolation_old' is also claimed by themes[0].codes[0]") for m in messages)


def test_hostile_codebook_catastrophic_regex_is_refused_and_cannot_hang_a_run(tmp_path, tiny_corpus):
    text = TINY_CODEBOOK.replace(
        '          - [{LOWER: "owe"}, {LIKE_NUM: true}]\n',
        '          - [{LOWER: "owe"}, {LIKE_NUM: true}]\n          - [{TEXT: {REGEX: "(a+)+$"}}]\n',
    )
    path = write(tmp_path / "regex.yaml", text)
    (tiny_corpus / "P03.txt").write_text("Interviewer: Go on.\n\nP03: " + "a" * 40 + "! is what I shouted.\n")
    started = time.process_time()  # CPU time: the work done, not the load on the machine
    with pytest.raises(CodebookError) as info:
        code(tiny_corpus, path, methods="rule")
    assert time.process_time() - started < 30
    assert "regular expression '(a+)+$' is refused: a repeated group that itself repeats" in str(info.value)
    ok = write(tmp_path / "ok.yaml", text.replace('"(a+)+$"', '"^debt(s|or)?$"'))
    validate_codebook(ok)


def test_hostile_codebook_unknown_keys_and_patterns(tmp_path):
    text = TINY_CODEBOOK.replace(
        '        examples: ["I had nobody to talk to."]\n', "        exmaples: [x]\n        patterns: [[{FOO: 1}]]\n"
    )
    _, problems = _problems(write(tmp_path / "bad.yaml", text))
    messages = " | ".join(problems.values())
    assert "unknown key 'exmaples'; did you mean 'examples'?" in messages
    assert "not a valid spaCy token pattern" in messages


def test_hostile_codebook_deep_brackets_are_refused_quickly(tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("name: x\nthemes: " + "[" * 200_000 + "]" * 200_000 + "\n")
    started = time.process_time()  # CPU time: the work done, not the load on the machine
    error, _ = _problems(path)
    assert time.process_time() - started < 5
    assert "brackets are nested 200000 deep, more than the 50 allowed" in str(error)


@pytest.mark.parametrize(
    ("regex", "why"),
    [
        ("^(a|a)+$", "a repeated choice whose branches can match the same text"),
        ("^(a|aa)+$", "a repeated choice whose branches can match the same text"),
        ("(\\\\w|\\\\d)+", "a repeated choice whose branches can match the same text"),
        ("\\\\w*" * 10, "10 unbounded repeats in a row that can match the same characters"),
    ],
)
def test_hostile_codebook_catastrophic_shapes_are_refused_naming_code_and_pattern(tmp_path, regex, why):
    text = TINY_CODEBOOK.replace(
        '          - [{LOWER: "owe"}, {LIKE_NUM: true}]\n',
        f'          - [{{LOWER: "owe"}}, {{LIKE_NUM: true}}]\n          - [{{TEXT: {{REGEX: "{regex}"}}}}]\n',
    )
    _, problems = _problems(write(tmp_path / "regex.yaml", text))
    [(where, message)] = [(p, m) for (p, _), m in problems.items()]
    shown = regex.replace("\\\\", "\\")
    assert where == "themes[0].codes[1].patterns[1]"
    assert message.startswith(f"code 'debt': regular expression {shown!r} is refused: {why}"), message


def test_hostile_codebook_slow_regex_is_switched_off_not_hung(tmp_path, tiny_corpus, monkeypatch):
    """A pattern no static check refuses still cannot hang a run: each search has a time limit, and one that runs
    out switches the expression off for the run, with a warning naming the code and the expression."""
    from themekit.util import saferegex

    monkeypatch.setattr(saferegex, "REGEX_TIMEOUT", 0.05)
    monkeypatch.setattr(
        "themekit.codebook.book.catastrophic_shape", lambda regex: None
    )  # a shape the check does not know
    slow = "^(a|aa)+$"
    text = TINY_CODEBOOK.replace(
        '          - [{LOWER: "owe"}, {LIKE_NUM: true}]\n',
        f'          - [{{LOWER: "owe"}}, {{LIKE_NUM: true}}]\n          - [{{TEXT: {{REGEX: "{slow}"}}}}]\n',
    )
    path = write(tmp_path / "slow.yaml", text)
    validate_codebook(path)
    (tiny_corpus / "P03.txt").write_text(
        "Interviewer: Go on.\n\nP03: " + "a" * 40 + "b and I still owe 300 in debts.\n"
    )
    started = time.process_time()  # CPU time: the work done, not the load on the machine
    run = code(tiny_corpus, path, methods="rule")
    assert time.process_time() - started < 30
    assert any(c.code_id == "debt" and c.segment.transcript.id == "P03" for c in run.codings)
    assert f"code 'debt': regular expression {slow!r} took over 0.05 s on one word" in " ".join(run.stats["warnings"])


def test_hostile_codebook_guarded_regex_matches_as_spacy_would(tmp_path, tiny_corpus):
    text = TINY_CODEBOOK.replace(
        '          - [{LOWER: "owe"}, {LIKE_NUM: true}]\n',
        '          - [{LOWER: {REGEX: "^arrear", NOT_IN: ["arrearage"]}}, {TEXT: {REGEX: "^of$"}, OP: "?"}]\n',
    )
    (tiny_corpus / "P03.txt").write_text(
        "Interviewer: Go on.\n\nP03: We fell into Arrears with the gas company that winter.\n"
    )
    run = code(tiny_corpus, write(tmp_path / "arrears.yaml", text), methods="rule")
    [hit] = [c for c in run.codings if c.segment.transcript.id == "P03"]
    assert (hit.code_id, hit.evidence) == ("debt", "matched: Arrears (pattern 1)")
