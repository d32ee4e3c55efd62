"""The guarded YAML loader: libyaml reads what it can, the pure-Python loader words every refusal, both agree."""

from __future__ import annotations

import datetime

import pytest
import yaml

from themekit import Codebook
from themekit.errors import YamlError
from themekit.util import yamlfile
from themekit.util.yamlfile import load_yaml

from .conftest import SAMPLE_CODEBOOK

needs_libyaml = pytest.mark.skipif(getattr(yaml, "CSafeLoader", None) is None, reason="PyYAML built without libyaml")

DOCUMENT = """\
name: x
themes:
  - id: a
    codes:
      - id: b
        keywords: [owe, debt]
        keywords: [again]
  - id: c
    base: &base {label: L}
    more:
      <<: *base
      when: 2024-02-29
"""


def _read(text: str, monkeypatch: pytest.MonkeyPatch, *, fast: bool) -> yamlfile.YamlDocument:
    with monkeypatch.context() as patch:
        if not fast:
            patch.setattr(yamlfile, "_FAST_LOADER", None)
        return load_yaml(text)


@needs_libyaml
@pytest.mark.parametrize(
    "text", [DOCUMENT, SAMPLE_CODEBOOK.read_text(encoding="utf-8")], ids=["shapes", "sample codebook"]
)
def test_yamlfile_libyaml_and_python_give_the_same_data_lines_and_duplicates(text, monkeypatch):
    fast, slow = _read(text, monkeypatch, fast=True), _read(text, monkeypatch, fast=False)
    assert fast.data == slow.data
    assert fast.lines == slow.lines
    assert fast.duplicates == slow.duplicates


def test_yamlfile_duplicates_and_lines_come_from_the_document_the_data_is_built_from():
    document = load_yaml(DOCUMENT)
    assert document.duplicates == [("themes[0].codes[0].keywords", 7, "duplicate key 'keywords' (first at line 6)")]
    assert document.line("themes[1].more.when") == 12
    assert document.data["themes"][1]["more"] == {"label": "L", "when": datetime.date(2024, 2, 29)}


@needs_libyaml
def test_yamlfile_codebook_is_read_without_the_pure_python_loader(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the pure-Python loader was used")

    monkeypatch.setattr(yaml, "SafeLoader", refuse)
    assert len(Codebook.load(SAMPLE_CODEBOOK)) == 36


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "a:\n\tb: 1\n",
            "not valid YAML (found character '\\t' that cannot start any token); indent with spaces, not tabs",
        ),
        ("a: &x [1]\nb: *x\nc: *y\n", "not valid YAML (found undefined alias 'y')"),
        (
            "a: 2024-02-30\n",
            "a value could not be read (day is out of range for month): an impossible date, a wrong !!tag, or nesting too deep",
        ),
    ],
)
def test_yamlfile_refusals_are_worded_by_the_python_loader(text, message):
    with pytest.raises(YamlError) as info:
        load_yaml(text)
    assert info.value.message == message


def test_yamlfile_deep_block_nesting_is_refused_not_a_crash():
    # libyaml's composer recurses in C: 100,000 nested "- " would overflow the stack instead of raising
    with pytest.raises(YamlError) as info:
        load_yaml("- " * 100_000 + "x\n")
    assert info.value.kind == "value" and "nesting too deep" in info.value.message


def test_yamlfile_reads_what_only_the_python_loader_accepts():
    # libyaml refuses a %YAML 1.3 directive and a lone surrogate escape; PyYAML's own loader reads them
    assert load_yaml("%YAML 1.3\n---\na: 1\n").data == {"a": 1}
    assert load_yaml('a: "\\ud800"\n').data == {"a": "\ud800"}
