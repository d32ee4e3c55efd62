"""Reading Word transcripts: typed and bold labels, Teams and Otter exports, damaged or protected
files, and the fast reader against python-docx."""

from __future__ import annotations

import sys
import zipfile
from pathlib import Path

import pytest

from themekit import TranscriptError, read_transcript

from .conftest import OTTER_HEADER, ROOT, SAMPLE, speech_turns, transcript_file


def _docx(path: Path, paragraphs: list[list[tuple[str, bool]] | str]) -> Path:
    import docx

    document = docx.Document()
    for para in paragraphs:
        if isinstance(para, str):
            document.add_paragraph(para)
            continue
        p = document.add_paragraph()
        for text, bold in para:
            run = p.add_run(text)
            run.bold = bold
    document.save(path)
    return path


def test_ingest_docx_typed_labels(tmp_path):
    path = _docx(
        tmp_path / "KW20.docx",
        [
            "Interviewer: What does a good week look like?",
            "KW20: When nobody is in crisis.",
            "And the paperwork is done.",
            "Interviewer: How often is that?",
            "KW20: Rarely.",
        ],
    )
    t = read_transcript(path)
    assert t.format == "docx"
    assert t.encoding is None
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "What does a good week look like?"),
        ("KW20", "participant", "When nobody is in crisis.\nAnd the paperwork is done."),
        ("Interviewer", "interviewer", "How often is that?"),
        ("KW20", "participant", "Rarely."),
    ]


def test_ingest_docx_teams_transcript_cue_times_names_and_speech(tmp_path):
    # a Teams transcript saved as .docx: a paragraph of cue times, the speaker's name, the speech
    path = _docx(
        tmp_path / "teams.docx",
        [
            "0:0:0.0 --> 0:0:5.320", "Jane Smith", "What does a good week look like?",
            "0:0:6.0 --> 0:0:15.100", "Alex Brown", "When nobody is in crisis.",
            "0:0:16.0 --> 0:0:19.0", "Jane Smith", "How often is that?",
        ],
    )  # fmt: skip
    t = read_transcript(path)
    assert speech_turns(t) == [
        ("Jane Smith", "interviewer", "What does a good week look like?"),
        ("Alex Brown", "participant", "When nobody is in crisis."),
        ("Jane Smith", "interviewer", "How often is that?"),
    ]
    assert [turn.timestamp for turn in t.turns] == [0.0, 6.0, 16.0]


def test_ingest_docx_bold_labels(tmp_path):
    path = _docx(
        tmp_path / "KW04.docx",
        [
            [("Interviewer:", True), (" How did you start?", False)],
            [("KW04", True), (": Through a friend at the council.", False)],
            [("Interviewer:", True), (" ", False), ("And then?", False)],
            [("Keyworker Sam:", True), (" I just kept going.", False)],
        ],
    )
    t = read_transcript(path)
    assert speech_turns(t) == [
        ("Interviewer", "interviewer", "How did you start?"),
        ("KW04", "participant", "Through a friend at the council."),
        ("Interviewer", "interviewer", "And then?"),
        ("Keyworker Sam", "participant", "I just kept going."),
    ]


def test_ingest_docx_bold_sentence_is_not_a_label(tmp_path):
    path = _docx(
        tmp_path / "KW21.docx",
        [
            "Interviewer: Was it hard?",
            [("It was really hard.", True), (" But we managed.", False)],
        ],
    )
    t = read_transcript(path)
    assert [turn.speaker for turn in t.turns] == ["Interviewer"]
    assert t.turn_text(t.turns[0]) == "Was it hard?\nIt was really hard. But we managed."


def test_ingest_docx_corrupt_or_truncated(tmp_path):
    good = _docx(tmp_path / "good.docx", ["Interviewer: Hi?", "P01: Hello."])
    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(good.read_bytes()[:300])
    for path in (truncated, transcript_file(tmp_path, "notzip.docx", "this is just text, not a Word file")):
        with pytest.raises(TranscriptError) as info:
            read_transcript(path)
        msg = str(info.value)
        assert path.name in msg
        assert "not a readable Word document" in msg
        assert "re-save" in msg


def test_ingest_docx_reader_bug_is_not_reported_as_a_broken_file(tmp_path, monkeypatch):
    """Only the zip's, lxml's and python-docx's errors mean a damaged file; a mistake in themekit's own code surfaces."""
    from themekit.ingest import readers

    good = _docx(tmp_path / "good.docx", ["Interviewer: Hi?", "P01: Hello."])
    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(TranscriptError, match="not a readable Word document") as info:
        read_transcript(truncated)
    assert info.value.__cause__ is not None  # the zip or python-docx error, shown by themekit --debug

    def bug(*args, **kwargs):
        raise NameError("name 'speaker' is not defined")

    for helper in ("_bold_label", "_run_text", "_docx_paragraphs"):
        with monkeypatch.context() as patch:
            patch.setattr(readers, helper, bug)
            with pytest.raises(NameError, match="speaker"):
                read_transcript(good)
    monkeypatch.setattr(readers, "_docx_paragraphs", lambda zf: None)  # python-docx reads the file
    monkeypatch.setattr(readers, "_bold_label", bug)
    with pytest.raises(NameError, match="speaker"):
        read_transcript(good)


def test_ingest_docx_password_protected(tmp_path):
    path = tmp_path / "secret.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512)
    with pytest.raises(TranscriptError) as info:
        read_transcript(path)
    msg = str(info.value)
    assert "secret.docx" in msg
    assert "password" in msg
    assert "Remove the password" in msg


def _rich_docx(path: Path) -> Path:
    """A Word file with what a transcript may hold beyond plain runs: links, tabs, breaks, tables, bold switched off."""
    import docx
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    document = docx.Document()
    p = document.add_paragraph()
    p.add_run("Interviewer").bold = True
    p.add_run(":\tWhere did you\u00a0hear of it?")
    p = document.add_paragraph()
    p._p.append(parse_xml(f'<w:r {w}><w:rPr><w:b w:val="on"/></w:rPr><w:t xml:space="preserve">KW30: </w:t></w:r>'))
    p._p.append(
        parse_xml(f"<w:hyperlink {w}><w:r><w:t>the council site</w:t></w:r><w:r><w:t>, page</w:t></w:r></w:hyperlink>")
    )
    p._p.append(
        parse_xml(
            f'<w:r {w}><w:t xml:space="preserve"> two</w:t><w:br/><w:t>next</w:t><w:br w:type="page"/><w:cr/>'
            '<w:noBreakHyphen/><w:ptab w:relativeTo="margin" w:alignment="right" w:leader="none"/><w:t/></w:r>'
        )
    )
    p = document.add_paragraph()
    p._p.append(parse_xml(f'<w:r {w}><w:rPr><w:b w:val="false"/></w:rPr><w:t>Interviewer: not bold</w:t></w:r>'))
    p._p.append(parse_xml(f'<w:r {w}><w:rPr><w:b w:val="0"/></w:rPr><w:t xml:space="preserve">   </w:t></w:r>'))
    document.add_table(rows=1, cols=1).cell(0, 0).text = "KW30: text in a table"
    p = document.add_paragraph()
    for text, bold in (("  ", None), ("KW30", True), (": fine, ", False), ("thanks", True)):
        p.add_run(text).bold = bold
    document.add_paragraph("")
    document.add_paragraph("Interviewer: Anything else?")
    document.save(path)
    return path


def test_ingest_docx_fast_reader_matches_python_docx(tmp_path, monkeypatch):
    """themekit reads Word files with lxml; python-docx is the reference for every paragraph, run and bold value."""
    import docx

    from themekit.ingest import readers
    from themekit.util import limits
    from themekit.util.zipguard import ZipGuard

    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from corpus import render
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    generated = tmp_path / "P005.docx"
    generated.write_bytes(render("P005", [("Interviewer", "How is it going?"), ("P005", "Fine, thanks.")], "docx"))
    files = [
        SAMPLE / "KW04.docx",
        SAMPLE / "KW05.docx",
        _rich_docx(tmp_path / "KW30.docx"),
        generated,
        _docx(
            tmp_path / "KW04.docx", [[("Interviewer:", True), (" How?", False)], [("KW04", True), (": Well.", False)]]
        ),
        _docx(tmp_path / "KW21.docx", ["Interviewer: Was it hard?", [("It was really hard.", True), (" But.", False)]]),
    ]
    for path in files:
        with zipfile.ZipFile(path) as zf:
            fast = readers._docx_paragraphs(
                ZipGuard(zf, max_entries=limits.MAX_ZIP_ENTRIES, max_total_bytes=limits.MAX_DOCX_BYTES)
            )
        reference = docx.Document(str(path)).paragraphs
        assert fast is not None, path
        assert [(p.text, [(r.text, r.bold) for r in p.runs]) for p in fast] == [
            (p.text, [(r.text, r.bold) for r in p.runs]) for p in reference
        ], path
    read_fast = [read_transcript(path) for path in files]
    monkeypatch.setattr(readers, "_docx_paragraphs", lambda guard: None)  # python-docx reads every file
    read_reference = [read_transcript(path) for path in files]
    assert [(t.text, t.turns) for t in read_fast] == [(t.text, t.turns) for t in read_reference]
    # as python-docx gives it: a label's rest is its paragraph's runs (a link is not a run), breaks become spaces
    assert "\n\nKW30: two next -\n\nInterviewer: not bold\n\nKW30: fine, thanks\n\n" in read_fast[2].text
    assert [turn.speaker for turn in read_fast[2].turns] == [
        "Interviewer",
        "KW30",
        "Interviewer",
        "KW30",
        "Interviewer",
    ]


def test_ingest_docx_bad_bold_value_is_unreadable(tmp_path):
    import docx
    from docx.oxml import parse_xml

    w = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    document = docx.Document()
    document.add_paragraph()._p.append(
        parse_xml(f'<w:r {w}><w:rPr><w:b w:val="maybe"/></w:rPr><w:t>KW31: hi</w:t></w:r>')
    )
    document.save(tmp_path / "KW31.docx")
    with pytest.raises(TranscriptError, match=r"KW31.docx.*not a readable Word document.*re-save"):
        read_transcript(tmp_path / "KW31.docx")


def test_ingest_otter_docx_header_is_read_as_attributes_not_speech(tmp_path):
    body = [
        [("Jane Smith", True), ("  0:01", False)],
        "How did the first month go?",
        [("Alex Green", True), ("  0:09", False)],
        "It went well, I liked working with the team.",
        "Transcribed by https://otter.ai",
    ]
    header: list = [[(line, True)] if line.isupper() else line for line in OTTER_HEADER]
    path = _docx(tmp_path / "I01.docx", header + body)
    t = read_transcript(path)
    assert t.attributes["keywords"] == "mentors, paperwork, rota, canteen"
    assert t.attributes["speakers"] == "Jane Smith, Alex Green"
    assert t.attributes["title"] == "Centre visit interview"
    assert speech_turns(t) == [
        ("Jane Smith", "interviewer", "How did the first month go?"),
        ("Alex Green", "participant", "It went well, I liked working with the team."),
    ]
    for word in ("mentors", "canteen", "SUMMARY", "SPEAKERS", "otter.ai", "41:07"):
        assert word not in t.text
    assert not any("preamble" in w for w in t.warnings)
