from __future__ import annotations

import pytest

from themekit import Codebook, CodebookError
from themekit.codebook import validate_codebook

from .conftest import SAMPLE_CODEBOOK, TINY_CODEBOOK, write


def test_codebook_sample_is_valid_with_25_plus_codes():
    cb = Codebook.load(SAMPLE_CODEBOOK)
    assert len(cb) >= 25
    for code in cb:
        assert code.spec.definition
        assert code.spec.keywords, code.id
        assert code.spec.examples, code.id
    assert cb.version == "1.0.0"
    assert [t.id for t in cb.themes][:2] == ["keyworker_experience", "participant_barriers"]
    trauma = cb.code("trauma")
    assert trauma.parent_id == "mental_health" and trauma.depth == 1


def test_codebook_hash_ignores_comments_and_layout(tmp_path):
    a = write(tmp_path / "a.yaml", TINY_CODEBOOK)
    b = write(tmp_path / "b.yaml", "# a comment\n" + TINY_CODEBOOK.replace("name: Tiny study", "name:    Tiny study"))
    c = write(tmp_path / "c.yaml", TINY_CODEBOOK.replace("Debts and arrears.", "Debts, arrears."))
    assert Codebook.load(a).sha256 == Codebook.load(b).sha256
    assert Codebook.load(a).sha256 != Codebook.load(c).sha256


def test_codebook_validate_reports_every_problem_with_path_and_line(tmp_path):
    path = write(
        tmp_path / "bad.yaml",
        """\
        schema_version: 1
        name: Broken
        version: 1.0
        themes:
          - id: barriers
            label: Barriers
            codes:
              - id: loneliness
                label: Loneliness
                definition: Feeling alone.
                keywrds: [lonely]
              - id: loneliness
                label: Loneliness again
                definition: Duplicate.
                keywords: [debt, Debt, ""]
              - id: 9bad
                label: Bad id
              - id: pattern_code
                label: Pattern
                definition: Has a bad pattern.
                patterns:
                  - [{NOT_AN_ATTR: "x"}]
        """,
    )
    with pytest.raises(CodebookError) as info:
        validate_codebook(path)
    problems = {(p.path, p.line): p.message for p in info.value.problems}
    assert problems[("version", 3)].startswith("'1.0' is not a semantic version")
    assert problems[("themes[0].codes[0].keywrds", 11)] == "unknown key 'keywrds'; did you mean 'keywords'?"
    assert problems[("themes[0].codes[1].id", 12)] == "duplicate id 'loneliness' (first at line 8)"
    assert problems[("themes[0].codes[1].keywords[1]", 15)] == "'Debt' is listed twice (also keywords[0])"
    assert problems[("themes[0].codes[1].keywords[2]", 15)] == "empty keyword; remove it"
    assert "not a valid id" in problems[("themes[0].codes[2].id", 16)]
    assert problems[("themes[0].codes[2].definition", 16)] == "missing required key"
    assert "not a valid spaCy token pattern" in problems[("themes[0].codes[3].patterns[0]", 22)]
    assert len(info.value.problems) == 8
    message = str(info.value)
    assert message.startswith(f"{path}: 8 problems in the codebook")
    assert "  - themes[0].codes[1].id (line 12): duplicate id 'loneliness' (first at line 8)" in message


def test_codebook_malformed_yaml_gives_line_and_column(tmp_path):
    path = write(tmp_path / "bad.yaml", "name: x\nthemes:\n  - id: a\n   label: b\n")
    with pytest.raises(CodebookError) as info:
        validate_codebook(path)
    assert "line 4, column 4" in str(info.value)
    assert "not valid YAML" in str(info.value)


def test_codebook_tabs_are_explained(tmp_path):
    path = write(tmp_path / "tabs.yaml", "name: x\nthemes:\n\t- id: a\n")
    with pytest.raises(CodebookError) as info:
        validate_codebook(path)
    assert "indent with spaces, not tabs" in str(info.value)


def test_codebook_duplicate_yaml_keys_are_reported(tmp_path):
    path = write(tmp_path / "dup.yaml", TINY_CODEBOOK.replace("name: Tiny study\n", "name: Tiny study\nname: Other\n"))
    with pytest.raises(CodebookError) as info:
        validate_codebook(path)
    [problem] = info.value.problems
    assert (problem.path, problem.line, problem.message) == ("name", 3, "duplicate key 'name' (first at line 2)")


def test_codebook_docs_example_validates(tmp_path):
    from .conftest import ROOT

    page = (ROOT / "docs" / "reference" / "codebook.md").read_text()
    blocks = [part.split("```", 1)[0] for part in page.split("```yaml\n")[1:]]
    [block] = [b for b in blocks if "themes:" in b]
    cb = Codebook.load(write(tmp_path / "example.yaml", block))
    assert cb.code("loneliness").spec.exclude_keywords == ["rural"]


def test_codebook_codes_by_id_and_place():
    codebook = Codebook.load(SAMPLE_CODEBOOK)
    assert codebook["debt"].label == codebook.code("debt").label
    assert codebook[0] is codebook.codes[0] and "debt" in codebook and "nope" not in codebook
    with pytest.raises(KeyError, match="no code 'debts' in the codebook .*did you mean 'debt'"):
        codebook["debts"]


def test_codebook_yaml_text_is_the_file_while_it_holds_what_was_loaded(tmp_path, monkeypatch):
    import themekit.codebook.book as codebook_module

    path = write(tmp_path / "cb.yaml", "# kept\n" + TINY_CODEBOOK)
    cb = Codebook.load(path)
    calls = []
    real = codebook_module.validate_codebook
    monkeypatch.setattr(codebook_module, "validate_codebook", lambda *a, **k: calls.append(a) or real(*a, **k))
    assert cb.yaml_text() == path.read_text() and cb.yaml_text().startswith("# kept\n")
    assert calls == []  # the bytes it was loaded from: not parsed again
    path.write_text("# a new comment\n" + TINY_CODEBOOK)  # same content, other bytes: checked, still the file
    assert cb.yaml_text().startswith("# a new comment\n") and len(calls) == 1
    path.write_text(TINY_CODEBOOK.replace("Debts and arrears.", "Debts, arrears."))  # other content: the loaded one
    assert "Debts and arrears." in cb.yaml_text() and "# a new comment" not in cb.yaml_text()
