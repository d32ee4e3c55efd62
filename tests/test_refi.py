from __future__ import annotations

import csv
import dataclasses
import io
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import xmlschema
from typer.testing import CliRunner

import themekit
from themekit.cli import app
from themekit.refi import (
    NO_DESCRIPTION,
    PROJECT_NS,
    SCHEMAS,
    export_qdc,
    export_qdpx,
    import_qdc,
    import_qdpx,
    item_guid,
)

from .conftest import SAMPLE_CODEBOOK, TINY_CODEBOOK, copy_run, write

runner = CliRunner()
NS = {"q": PROJECT_NS, "c": "urn:QDA-XML:codebook:1.0"}
PROJECT_SCHEMA = xmlschema.XMLSchema(str(SCHEMAS["project"]))
CODEBOOK_SCHEMA = xmlschema.XMLSchema(str(SCHEMAS["codebook"]))


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def read_project(path: Path) -> tuple[ET.Element, dict[str, str]]:
    """project.qde (checked against Project.xsd) and the archive's source texts by entry name."""
    with zipfile.ZipFile(path) as archive:
        qde = archive.read("project.qde")
        texts = {n: archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("sources/")}
    PROJECT_SCHEMA.validate(io.BytesIO(qde))
    return ET.fromstring(qde), texts


def source_text(texts: dict[str, str], source: ET.Element) -> str:
    return texts["sources/" + source.get("plainTextPath").removeprefix("internal://")]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------------------
# export


def test_refi_export_qdc_nests_themes_codes_and_subcodes(tmp_path):
    book = write(
        tmp_path / "cb.yaml",
        TINY_CODEBOOK.replace(
            '        examples: ["The debts kept piling up."]\n',
            '        examples: ["The debts kept piling up."]\n'
            "        codes:\n"
            "          - id: bailiffs\n"
            "            label: Bailiffs & enforcement\n"
            "            definition: Visits or letters from bailiffs <enforcement agents>.\n",
        ),
    )
    out = export_qdc(book, tmp_path / "tiny.qdc")
    data = out.read_bytes()
    CODEBOOK_SCHEMA.validate(io.BytesIO(data))
    root = ET.fromstring(data)
    themes = root.findall("c:Codes/c:Code", NS)
    assert [(t.get("name"), t.get("isCodable")) for t in themes] == [("Barriers", "false"), ("Support", "false")]
    codes = themes[0].findall("c:Code", NS)
    assert [c.get("name") for c in codes] == ["Loneliness", "Debt"]
    assert codes[0].findtext("c:Description", namespaces=NS) == "Feeling alone or without people to talk to."
    assert codes[0].get("guid") == item_guid("Tiny study", "loneliness")
    [sub] = codes[1].findall("c:Code", NS)
    assert sub.get("name") == "Bailiffs & enforcement"
    assert sub.findtext("c:Description", namespaces=NS) == "Visits or letters from bailiffs <enforcement agents>."
    assert b"&lt;enforcement agents&gt;" in data
    export_qdc(book, tmp_path / "again.qdc")
    assert (tmp_path / "again.qdc").read_bytes() == data


def test_refi_export_qdpx_by_default_has_no_codings_and_says_so(sample_rule_folder, tmp_path):
    result = invoke("export", "qdpx", sample_rule_folder, "--out", tmp_path / "p.qdpx")
    assert result.exit_code == 0, result.output
    total = len(themekit.Run.load(sample_rule_folder).codings)
    assert (
        f"Note: no codings were exported: all {total} codings of this run are 'suggested' (machine codings nobody has "
        "reviewed yet), and only accepted or human codings are exported by default. The project holds the transcripts, "
        "codebook and cases; add --include-suggested to export the suggested codings for review in NVivo, ATLAS.ti, "
        "MAXQDA or QualCoder." in " ".join(result.output.split())
    )
    assert f"Written: {tmp_path / 'p.qdpx'} (8 transcripts, 0 codings of 0 excerpts)" in result.output
    root, texts = read_project(tmp_path / "p.qdpx")
    sources = root.findall("q:Sources/q:TextSource", NS)
    assert sorted(s.get("name") for s in sources) == [f"KW0{i}" for i in range(1, 9)]
    assert root.findall(".//q:PlainTextSelection", NS) == []
    assert len(texts) == 8 and all(s.get("plainTextPath").startswith("internal://") for s in sources)
    # cases carry the participants.csv columns as typed variables and point at their source
    kinds = {v.get("name"): v.get("typeOfVariable") for v in root.findall("q:Variables/q:Variable", NS)}
    assert kinds["organisation_type"] == "Text" and kinds["team_size"] == "Integer"
    assert kinds["years_in_role"] == "Float" and kinds["interview_date"] == "Date"
    by_guid = {s.get("guid"): s.get("name") for s in sources}
    variables = {v.get("guid"): v.get("name") for v in root.findall("q:Variables/q:Variable", NS)}
    cases = {c.get("name"): c for c in root.findall("q:Cases/q:Case", NS)}
    kw02 = cases["KW02"]
    assert by_guid[kw02.find("q:SourceRef", NS).get("targetGUID")] == "KW02"
    values = {
        variables[v.find("q:VariableRef", NS).get("targetGUID")]: v[1].text for v in kw02.findall("q:VariableValue", NS)
    }
    assert values["region"] == "Rural" and values["team_size"] == "1"
    assert kw02.find("q:VariableValue/q:IntegerValue", NS) is not None


def test_refi_export_qdpx_archive_is_laid_out_as_the_standard_says(sample_rule_folder, tmp_path):
    # project.qde at the top and every source file in "sources/" (lower case, as the standard and qc 1.7.8 name it)
    invoke("export", "qdpx", sample_rule_folder, "--out", tmp_path / "p.qdpx")
    with zipfile.ZipFile(tmp_path / "p.qdpx") as archive:
        names = archive.namelist()
    root, _ = read_project(tmp_path / "p.qdpx")
    paths = [s.get("plainTextPath") for s in root.findall("q:Sources/q:TextSource", NS)]
    assert len(paths) == 8 and all(p.startswith("internal://") for p in paths)
    assert names == ["project.qde", *(f"sources/{p.removeprefix('internal://')}" for p in paths)]
    assert not any(n.startswith("Sources/") for n in names)


def test_refi_export_qdpx_selections_hold_the_coded_quotes(sample_rule_folder, tmp_path):
    run = themekit.Run.load(sample_rule_folder)
    result = export_qdpx(run, tmp_path / "p.qdpx", include_suggested=True)
    kept = [c for c in run.codings if not c.negated]
    assert result.codings == len(kept) and result.negated == len(run.codings) - len(kept) > 0
    root, texts = read_project(tmp_path / "p.qdpx")
    labels = {c.get("guid"): c.get("name") for c in root.iter(f"{{{PROJECT_NS}}}Code")}
    [user] = root.findall("q:Users/q:User", NS)
    assert user.get("name") == "themekit"
    exported = set()
    for source in root.findall("q:Sources/q:TextSource", NS):
        transcript = run.corpus[source.get("name")]
        text = source_text(texts, source)
        assert text == transcript.text
        for selection in source.findall("q:PlainTextSelection", NS):
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            for coding in selection.findall("q:Coding", NS):
                assert coding.get("creatingUser") == user.get("guid")
                exported.add((transcript.id, text[start:end], labels[coding.find("q:CodeRef", NS).get("targetGUID")]))
    assert exported == {(c.segment.transcript.id, c.segment.text, run.codebook.code(c.code_id).label) for c in kept}
    first = root.find(".//q:PlainTextSelection/q:Description", NS).text
    assert "themekit rule, score" in first and "matched:" in first
    assert (
        export_qdpx(run, tmp_path / "again.qdpx", include_suggested=True).path.read_bytes()
        == (tmp_path / "p.qdpx").read_bytes()
    )


def test_refi_export_qdpx_exports_reviewed_codings_by_default(sample_rule_folder, tmp_path):
    run = themekit.Run.load(sample_rule_folder)
    negated = next(c for c in run.codings if c.negated)
    plain = [c for c in run.codings if not c.negated]
    changed = {id(plain[0]): "accepted", id(plain[1]): "rejected", id(negated): "accepted"}
    codings = [dataclasses.replace(c, status=changed.get(id(c), c.status)) for c in run.codings]
    codings.append(
        dataclasses.replace(plain[2], method="human", status="human", code_id="trust", theme_id="programme_strengths")
    )
    run = dataclasses.replace(run, codings=codings)
    result = export_qdpx(run, tmp_path / "p.qdpx")
    assert result.codings == 3
    assert (
        result.notes[0]
        == f"{len(run.codings) - 4} suggested codings were left out (add include_suggested=True to export them)"
    )
    assert "1 rejected codings were left out" in result.notes
    root, texts = read_project(tmp_path / "p.qdpx")
    users = {u.get("guid"): u.get("name") for u in root.findall("q:Users/q:User", NS)}
    assert sorted(users.values()) == ["human coder", "themekit"]
    made = {}
    for source in root.findall("q:Sources/q:TextSource", NS):
        text = source_text(texts, source)
        for selection in source.findall("q:PlainTextSelection", NS):
            for coding in selection.findall("q:Coding", NS):
                quote = text[int(selection.get("startPosition")) : int(selection.get("endPosition"))]
                made[(quote, coding.find("q:CodeRef", NS).get("targetGUID"))] = users[coding.get("creatingUser")]
    name = run.codebook.name
    assert made == {
        (plain[0].segment.text, item_guid(name, plain[0].code_id)): "themekit",
        (negated.segment.text, item_guid(name, negated.code_id)): "themekit",
        (plain[2].segment.text, item_guid(name, "trust")): "human coder",
    }


def test_refi_positions_count_unicode_code_points(tmp_path, tiny_codebook):
    folder = tmp_path / "t"
    write(
        folder / "P07.txt",
        "Interviewer: Any news? 😀😀\n\n"
        "P07: Zoë and I went to the café 😀 near the bus stop last week. I felt isolated and lonely every single day there.\n",
    )
    run = themekit.code(folder, tiny_codebook, methods=("rule",), cache_dir=None)
    [coding] = [c for c in run.codings if c.code_id == "loneliness"]
    export_qdpx(run, tmp_path / "p.qdpx", include_suggested=True)
    root, texts = read_project(tmp_path / "p.qdpx")
    [source] = root.findall("q:Sources/q:TextSource", NS)
    text = source_text(texts, source)
    [selection] = source.findall("q:PlainTextSelection", NS)
    start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
    assert text[start:end] == "I felt isolated and lonely every single day there."
    assert (start, end) == (coding.segment.start, coding.segment.end) == (text.index("I felt"), len(text) - 1)
    utf16_start = len(text[:start].encode("utf-16-le")) // 2
    assert utf16_start == start + 3  # three emoji before it: UTF-16 counting would be off by three
    assert len(text[:start].encode("utf-8")) > start  # and bytes would be further off


def test_refi_export_qdpx_pseudonymised_moves_positions_with_the_text(sample_rule_folder, tmp_path):
    sample_run_dir = copy_run(sample_rule_folder, tmp_path)  # pseudonymising keeps its mapping in the run folder
    result = invoke(
        "export", "qdpx", sample_run_dir, "-o", tmp_path / "p.qdpx", "--include-suggested", "--pseudonymise"
    )
    assert result.exit_code == 0, result.output
    assert "Participants pseudonymised" in result.output
    run = themekit.Run.load(sample_rule_folder)
    root, texts = read_project(tmp_path / "p.qdpx")
    sources = {s.get("name"): s for s in root.findall("q:Sources/q:TextSource", NS)}
    assert sorted(sources) == [f"Keyworker {i}" for i in range(1, 9)]
    text = source_text(texts, sources["Keyworker 1"])
    assert "KW01:" not in text and "Keyworker 1:" in text
    original = run.corpus["KW01"].text
    shift = len(text) - len(original)
    assert shift > 0  # "Keyworker 1" is longer than "KW01": later positions moved
    last = sources["Keyworker 1"].findall("q:PlainTextSelection", NS)[-1]
    start, end = int(last.get("startPosition")), int(last.get("endPosition"))
    assert text[start:end] in original and original.index(text[start:end]) == start - shift


# ---------------------------------------------------------------------------
# round trip


def test_refi_export_qdpx_drops_characters_xml_cannot_hold(tmp_path, tiny_codebook):
    write(tmp_path / "t" / "P07.txt", "Interviewer: How?\n\nP07: I felt so lonely, nobody to talk to.\n")
    run = themekit.code(tmp_path / "t", tiny_codebook, methods=("rule",), cache_dir=None)
    # a vertical tab and a lone surrogate (half of an emoji): XML 1.0 holds neither, and UTF-8 cannot encode the second
    [transcript] = run.corpus.transcripts
    odd = dataclasses.replace(transcript, attributes={"site\x0b": "North \ud83d end"})
    run = dataclasses.replace(run, corpus=dataclasses.replace(run.corpus, transcripts=(odd,)))
    export_qdpx(run, tmp_path / "p.qdpx", include_suggested=True)
    root, _ = read_project(tmp_path / "p.qdpx")
    assert [v.get("name") for v in root.findall("q:Variables/q:Variable", NS)] == ["site"]
    assert root.findtext("q:Cases/q:Case/q:VariableValue/q:TextValue", namespaces=NS) == "North  end"


def test_refi_round_trip_keeps_every_code_source_and_span(sample_rule_folder, tmp_path):
    run = themekit.Run.load(sample_rule_folder)
    export_qdpx(run, tmp_path / "p.qdpx", include_suggested=True)
    result = invoke("import", "qdpx", tmp_path / "p.qdpx", "--out", tmp_path / "back", "--codebook", SAMPLE_CODEBOOK)
    assert result.exit_code == 0, result.output
    kept = [c for c in run.codings if not c.negated]
    assert (
        f"Imported 8 transcripts and {len(kept)} codings by 1 coder (themekit) → {tmp_path / 'back'}" in result.output
    )
    assert f"codebook.yaml: 36 codes (36 keep their ids from {SAMPLE_CODEBOOK})" in " ".join(result.output.split())
    back = tmp_path / "back"
    # sources: each transcript's text, read back by themekit to the same offsets
    corpus = themekit.read_corpus(back)
    assert sorted(t.id for t in corpus) == sorted(t.id for t in run.corpus)
    for t in corpus:
        assert (back / f"{t.id}.txt").read_text(encoding="utf-8") == run.corpus[t.id].text
        assert len(t.text) == len(run.corpus[t.id].text)
        assert t.attributes["organisation_type"] == run.corpus[t.id].attributes["organisation_type"]
    # spans and codes
    gold = read_csv(back / "gold.csv")
    assert list(gold[0]) == ["transcript", "char_start", "char_end", "code", "coder", "text"]
    assert {(r["transcript"], int(r["char_start"]), int(r["char_end"]), r["code"]) for r in gold} == {
        (c.segment.transcript.id, c.segment.start, c.segment.end, c.code_id) for c in kept
    }
    assert all(r["coder"] == "themekit" for r in gold)
    row = next(r for r in gold if r["transcript"] == "KW03")
    assert row["text"] == corpus["KW03"].text[int(row["char_start"]) : int(row["char_end"])]
    # the codebook: every code with its label, definition and id
    codebook = themekit.Codebook.load(back / "codebook.yaml")
    assert [(c.id, c.label, c.spec.definition, c.theme_id) for c in codebook] == [
        (c.id, c.label, c.spec.definition, c.theme_id) for c in run.codebook
    ]
    assert all(c.spec.keywords == [] for c in codebook)
    # gold.csv scores the run it came from perfectly
    scores = themekit.evaluate(run, back / "gold.csv")
    assert scores.overall["micro"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert not (back / "coders").exists()


def test_refi_round_trip_without_codebook_derives_ids_from_names(sample_rule_folder, tmp_path):
    run = themekit.Run.load(sample_rule_folder)
    export_qdpx(run, tmp_path / "p.qdpx", include_suggested=True)
    result = import_qdpx(tmp_path / "p.qdpx", tmp_path / "back")
    codebook = themekit.Codebook.load(result.codebook)
    assert [c.label for c in codebook] == [c.label for c in run.codebook]
    assert codebook.code("loneliness_and_social_networks").label == "Loneliness and social networks"
    assert [t.id for t in codebook.themes][:2] == ["the_keyworker_experience", "barriers_faced_by_participants"]
    by_label = {c.label: c.id for c in codebook}
    gold = read_csv(result.gold)
    assert {(r["transcript"], int(r["char_start"]), r["code"]) for r in gold} == {
        (c.segment.transcript.id, c.segment.start, by_label[run.codebook.code(c.code_id).label])
        for c in run.codings
        if not c.negated
    }
    assert result.matched_codes == 0


def test_refi_codebook_round_trip_and_cli(tmp_path):
    assert invoke("export", "qdc", SAMPLE_CODEBOOK, "-o", tmp_path / "cb.qdc").output.strip() == (
        f"Written: {tmp_path / 'cb.qdc'} (36 codes under 4 themes)"
    )
    result = invoke("codebook", "import", tmp_path / "cb.qdc", "--out", tmp_path / "cb.yaml")
    assert result.exit_code == 0, result.output
    assert f"Written: {tmp_path / 'cb.yaml'} — 4 themes, 36 codes (checked: valid)." in result.output
    assert "Note: keywords are empty: rule coding finds nothing until you add some" in result.output
    original = themekit.Codebook.load(SAMPLE_CODEBOOK)
    imported = themekit.Codebook.load(tmp_path / "cb.yaml")
    assert [(t.label, t.description) for t in imported.themes] == [(t.label, t.description) for t in original.themes]
    assert [(c.label, c.spec.definition, c.depth) for c in imported] == [
        (c.label, c.spec.definition, c.depth) for c in original
    ]
    again = invoke("codebook", "import", tmp_path / "cb.qdc", "--out", tmp_path / "cb.yaml")
    assert again.exit_code == 1
    assert (
        again.output.strip()
        == f"Error [E301]: {tmp_path / 'cb.yaml'}: already exists. Choose another --out file, or add --force to replace it."
    )
    assert invoke("codebook", "import", tmp_path / "cb.qdc", "--out", tmp_path / "cb.yaml", "--force").exit_code == 0


# ---------------------------------------------------------------------------
# import of what other programs write


NVIVO_QDC = """<?xml version="1.0" encoding="utf-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="NVivo 14">
  <Codes>
    <Code guid="{0A1B2C3D-0000-4000-8000-000000000001}" name="Barriers" isCodable="true">
      <Description>Things in the way.</Description>
      <Code guid="0a1b2c3d-0000-4000-8000-000000000002" name="Loneliness &amp; isolation" isCodable="true">
        <Description>  Feeling alone.  </Description>
        <Code guid="0a1b2c3d-0000-4000-8000-000000000003" name="Rural isolation" isCodable="true"/>
      </Code>
      <Code guid="0a1b2c3d-0000-4000-8000-000000000004" name="Schulden – Geld" isCodable="true"/>
    </Code>
    <Code guid="0a1b2c3d-0000-4000-8000-000000000005" name="2nd job" isCodable="true"><Description>Work on the side.</Description></Code>
    <Code guid="0a1b2c3d-0000-4000-8000-000000000006" name="Barriers" isCodable="true"/>
    <Code guid="0a1b2c3d-0000-4000-8000-000000000007" name="信任" isCodable="true"/>
  </Codes>
</CodeBook>
"""


def test_refi_import_qdc_from_another_program(tmp_path):
    source = write(tmp_path / "nvivo.qdc", NVIVO_QDC)
    codebook = import_qdc(source, tmp_path / "cb.yaml")
    assert themekit.validate_codebook(tmp_path / "cb.yaml").sha256 == codebook.sha256 == import_qdc(source).sha256
    [barriers, imported] = codebook.themes
    assert (barriers.id, barriers.label, barriers.description) == ("barriers", "Barriers", "Things in the way.")
    assert (imported.id, imported.label) == ("imported", "Imported codes")
    rows = [(c.id, c.label, c.spec.definition, c.theme_id, c.parent_id) for c in codebook]
    assert rows == [
        ("loneliness_isolation", "Loneliness & isolation", "Feeling alone.", "barriers", None),
        ("rural_isolation", "Rural isolation", NO_DESCRIPTION, "barriers", "loneliness_isolation"),
        ("schulden_geld", "Schulden – Geld", NO_DESCRIPTION, "barriers", None),
        ("c_2nd_job", "2nd job", "Work on the side.", "imported", None),
        ("barriers_2", "Barriers", NO_DESCRIPTION, "imported", None),
        ("code", "信任", NO_DESCRIPTION, "imported", None),
    ]
    text = (tmp_path / "cb.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Imported from nvivo.qdc by themekit")
    assert "schema_version: 1" in text and "(made by NVivo 14)" in text
    result = invoke("codebook", "import", source, "-o", tmp_path / "cli.yaml")
    assert "Note: 4 codes had no description; write a definition for each, semantic coding reads them." in result.output


def make_qdpx(path: Path, qde: str, files: dict[str, bytes | str] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("project.qde", qde)
        for name, data in (files or {}).items():
            archive.writestr(name, data)
    return path


INTERVIEW = (
    "Interviewer: How was it? 😀\r\n"
    "\r\n"
    "P01:   I felt so lonely 😀 every day.\r\n"
    "The cafe\u0301 closed and the debts piled up.\r\n"
)
NOTES = "Interviewer: And then?\n\nR: We moved on, honestly.\n"


def _at(text: str, quote: str) -> str:
    start = text.index(quote)
    return f'startPosition="{start}" endPosition="{start + len(quote)}"'


def project_qde(
    extra_selection: str = "",
    codes: str | None = None,
    source_path: str = "internal://aaaaaaaa-0000-4000-8000-000000000001.txt",
) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Keyworkers (NVivo)" origin="NVivo 14">
  <Users>
    <User guid="11111111-0000-4000-8000-000000000001" name="Alice"/>
    <User guid="11111111-0000-4000-8000-000000000002" name="Bob"/>
  </Users>
  <CodeBook><Codes>{
        codes
        if codes is not None
        else '''
    <Code guid="22222222-0000-4000-8000-000000000001" name="Barriers" isCodable="true">
      <Code guid="22222222-0000-4000-8000-000000000002" name="Loneliness" isCodable="true"><Description>Feeling alone.</Description></Code>
      <Code guid="22222222-0000-4000-8000-000000000003" name="Debt" isCodable="true"/>
    </Code>
    <Code guid="22222222-0000-4000-8000-000000000004" name="Trust" isCodable="true"/>'''
    }
  </Codes></CodeBook>
  <Variables>
    <Variable guid="33333333-0000-4000-8000-000000000001" name="age" typeOfVariable="Integer"/>
    <Variable guid="33333333-0000-4000-8000-000000000002" name="region" typeOfVariable="Text"/>
  </Variables>
  <Cases>
    <Case guid="44444444-0000-4000-8000-000000000001" name="Participant 1">
      <VariableValue><VariableRef targetGUID="33333333-0000-4000-8000-000000000001"/><IntegerValue>34</IntegerValue></VariableValue>
      <VariableValue><VariableRef targetGUID="33333333-0000-4000-8000-000000000002"/><TextValue>Rural</TextValue></VariableValue>
      <SourceRef targetGUID="AAAAAAAA-0000-4000-8000-000000000001"/>
    </Case>
  </Cases>
  <Sources>
    <TextSource guid="{{aaaaaaaa-0000-4000-8000-000000000001}}" name="Interview 1.docx" plainTextPath="{source_path}">
      <PlainTextSelection guid="55555555-0000-4000-8000-000000000001" name="lonely" {
        _at(INTERVIEW, "I felt so lonely 😀 every day.")
    }>
        <Coding guid="66666666-0000-4000-8000-000000000001" creatingUser="11111111-0000-4000-8000-000000000001">
          <CodeRef targetGUID="22222222-0000-4000-8000-000000000002"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="55555555-0000-4000-8000-000000000002" name="lonely, bob" {
        _at(INTERVIEW, "I felt so lonely")
    } creatingUser="11111111-0000-4000-8000-000000000002">
        <Coding guid="66666666-0000-4000-8000-000000000002"><CodeRef targetGUID="22222222-0000-4000-8000-000000000002"/></Coding>
        <Coding guid="66666666-0000-4000-8000-000000000003"><CodeRef targetGUID="22222222-0000-4000-8000-000000000004"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="55555555-0000-4000-8000-000000000003" name="debts" {
        _at(INTERVIEW, "the debts piled up")
    }>
        <Coding guid="66666666-0000-4000-8000-000000000004" creatingUser="11111111-0000-4000-8000-000000000001">
          <CodeRef targetGUID="22222222-0000-4000-8000-000000000003"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="55555555-0000-4000-8000-000000000004" name="cafe" {
        _at(INTERVIEW, "cafe" + chr(0x301) + " closed")
    }>
        <Coding guid="66666666-0000-4000-8000-000000000005" creatingUser="11111111-0000-4000-8000-000000000001">
          <CodeRef targetGUID="22222222-0000-4000-8000-000000000001"/></Coding>
      </PlainTextSelection>
      <PlainTextSelection guid="55555555-0000-4000-8000-000000000005" name="question" {_at(INTERVIEW, "How was it?")}>
        <Coding guid="66666666-0000-4000-8000-000000000006" creatingUser="11111111-0000-4000-8000-000000000002">
          <CodeRef targetGUID="22222222-0000-4000-8000-000000000004"/></Coding>
      </PlainTextSelection>{extra_selection}
    </TextSource>
    <TextSource guid="aaaaaaaa-0000-4000-8000-000000000002" name="../../notes/README">
      <PlainTextContent>{NOTES}</PlainTextContent>
      <PlainTextSelection guid="55555555-0000-4000-8000-000000000006" {
        _at(NOTES, "We moved on")
    } creatingUser="11111111-0000-4000-8000-000000000001">
        <Coding guid="66666666-0000-4000-8000-000000000007"><CodeRef targetGUID="22222222-0000-4000-8000-000000000004"/></Coding>
      </PlainTextSelection>
    </TextSource>
    <PictureSource guid="aaaaaaaa-0000-4000-8000-000000000003" name="photo" path="internal://x.png"/>
  </Sources>
</Project>
"""


def nvivo_project(tmp_path: Path) -> Path:
    return make_qdpx(
        tmp_path / "nvivo.qdpx",
        project_qde(),
        {"Sources/aaaaaaaa-0000-4000-8000-000000000001.txt": INTERVIEW.encode("utf-8"), "Sources/x.png": b"\x89PNG"},
    )


def test_refi_import_qdpx_from_another_program(tmp_path):
    result = invoke("import", "qdpx", nvivo_project(tmp_path), "--out", tmp_path / "human")
    assert result.exit_code == 0, result.output
    out = tmp_path / "human"
    assert sorted(p.name for p in out.iterdir()) == [
        "Interview 1.txt",
        "README_source.txt",
        "codebook.yaml",
        "coders",
        "gold.csv",
        "participants.csv",
    ]
    said = " ".join(result.output.split())
    assert f"Imported 2 transcripts and 6 codings by 2 coders (Alice, Bob) → {out}" in said
    assert "Note: only text sources are imported; left out: 1 PictureSource." in said
    assert "Note: 1 codings of interviewer speech were left out (themekit codes and scores participant speech)." in said
    assert (
        "Note: 1 codings overlapped another of the same code and were joined in gold.csv (coders/ keeps each coder's own)."
        in said
    )
    assert f"One file per coder: themekit agree {out / 'coders' / 'Alice.csv'} {out / 'coders' / 'Bob.csv'}" in said
    # the source is kept as the project holds it; offsets are into the text themekit reads from it
    assert (out / "Interview 1.txt").read_bytes() == INTERVIEW.encode("utf-8")
    transcript = themekit.read_transcript(out / "Interview 1.txt")
    assert "café" in transcript.text and "\r" not in transcript.text
    gold = read_csv(out / "gold.csv")
    rows = [(r["transcript"], r["code"], r["coder"], r["text"]) for r in gold]
    assert rows == [
        ("Interview 1", "trust", "Bob", "I felt so lonely"),
        ("Interview 1", "loneliness", "Alice; Bob", "I felt so lonely 😀 every day."),
        ("Interview 1", "barriers_general", "Alice", "café closed"),
        ("Interview 1", "debt", "Alice", "the debts piled up"),
        ("README_source", "trust", "Alice", "We moved on"),
    ]
    for r in gold:
        text = themekit.read_transcript(out / f"{r['transcript']}.txt").text
        assert text[int(r["char_start"]) : int(r["char_end"])] == r["text"]
    bob = read_csv(out / "coders" / "Bob.csv")
    assert [(r["code"], r["text"]) for r in bob] == [("loneliness", "I felt so lonely"), ("trust", "I felt so lonely")]
    # the codebook, with a code for codings made on the theme itself
    codebook = themekit.Codebook.load(out / "codebook.yaml")
    assert [(c.id, c.label, c.theme_id) for c in codebook] == [
        ("barriers_general", "Barriers (general)", "barriers"),
        ("loneliness", "Loneliness", "barriers"),
        ("debt", "Debt", "barriers"),
        ("trust", "Trust", "imported"),
    ]
    # case variables, joined on the transcript names
    assert read_csv(out / "participants.csv") == [
        {"transcript": "Interview 1", "case": "Participant 1", "age": "34", "region": "Rural"},
        {"transcript": "README_source", "case": "", "age": "", "region": ""},
    ]
    corpus = themekit.read_corpus(out)
    assert corpus["Interview 1"].attributes["region"] == "Rural"
    # the folder works with the other commands as it is
    agreement = themekit.agree(sorted((out / "coders").iterdir()))
    assert agreement.coders == ["Alice", "Bob"]
    run = themekit.code(out, out / "codebook.yaml", methods=("rule",), cache_dir=None)
    assert themekit.evaluate(run, out / "gold.csv").overall["segments_scored"] >= 2


def test_refi_import_qdpx_reads_the_sources_folder_in_any_case(tmp_path):
    for folder in ("sources", "SOURCES"):
        project = make_qdpx(
            tmp_path / f"{folder}.qdpx",
            project_qde(),
            {f"{folder}/aaaaaaaa-0000-4000-8000-000000000001.txt": INTERVIEW},
        )
        result = import_qdpx(project, tmp_path / folder)
        assert [p.name for p in result.transcripts] == ["Interview 1.txt", "README_source.txt"]
        assert result.missing_sources == []


ATLAS_LIKE = """<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="Test project" origin="ATLAS.ti">
  <CodeBook><Codes>
    <Code guid="22222222-0000-4000-8000-000000000001" name="Barriers" isCodable="true">
      <Code guid="22222222-0000-4000-8000-000000000002" name="Loneliness" isCodable="true"/>
    </Code>
    <Code guid="22222222-0000-4000-8000-000000000004" name="Trust" isCodable="true"/>
  </Codes></CodeBook>
  <Sources>
    <TextSource guid="aaaaaaaa-0000-4000-8000-000000000001" name="Interview A" plainTextPath="internal://aaaaaaaa-0000-4000-8000-000000000001.txt">
      <PlainTextSelection guid="55555555-0000-4000-8000-000000000001" startPosition="0" endPosition="5">
        <Coding guid="66666666-0000-4000-8000-000000000001"><CodeRef targetGUID="22222222-0000-4000-8000-000000000002"/></Coding>
      </PlainTextSelection>
    </TextSource>
    <TextSource guid="aaaaaaaa-0000-4000-8000-000000000002" name="Interview B" plainTextPath="internal://aaaaaaaa-0000-4000-8000-000000000002.txt"/>
  </Sources>
</Project>
"""


def test_refi_import_qdpx_without_its_sources_imports_the_codebook_and_lists_them(tmp_path):
    # like ATLAS.ti's REFI-QDA test project: project.qde names its sources, the archive holds none of them
    project = make_qdpx(tmp_path / "atlas.qdpx", ATLAS_LIKE)
    out = tmp_path / "atlas"
    result = invoke("import", "qdpx", project, "--out", out)
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert (
        "Note: 2 sources named in the project are not in the archive, so their text and codings were not imported "
        "(the codebook and code tree were): source 'Interview A' (sources/aaaaaaaa-0000-4000-8000-000000000001.txt); "
        "source 'Interview B' (sources/aaaaaaaa-0000-4000-8000-000000000002.txt)."
    ) in said
    assert f"Imported 0 transcripts and 0 codings → {out}" in said
    assert "codebook.yaml: 2 codes" in said
    codebook = themekit.Codebook.load(out / "codebook.yaml")
    assert [(c.label, c.theme_id) for c in codebook] == [("Loneliness", "barriers"), ("Trust", "imported")]
    assert not (out / "gold.csv").exists()
    api = import_qdpx(project, tmp_path / "again")
    assert api.missing_sources == [
        "source 'Interview A' (sources/aaaaaaaa-0000-4000-8000-000000000001.txt)",
        "source 'Interview B' (sources/aaaaaaaa-0000-4000-8000-000000000002.txt)",
    ]
    # the sources that are there are still imported, with their codings
    partial = import_qdpx(make_qdpx(tmp_path / "p.qdpx", project_qde()), tmp_path / "partial")
    assert [p.name for p in partial.transcripts] == ["README_source.txt"]
    assert partial.codings == 1 and partial.missing_sources == [
        "source 'Interview 1.docx' (sources/aaaaaaaa-0000-4000-8000-000000000001.txt)"
    ]


def test_refi_import_qdpx_refuses_a_non_empty_folder_unless_forced(tmp_path):
    project = nvivo_project(tmp_path)
    write(tmp_path / "human" / "mine.txt", "my notes\n")
    result = invoke("import", "qdpx", project, "-o", tmp_path / "human")
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error [E301]: {tmp_path / 'human'}: the folder is not empty. Choose a new --out folder, or add --force to replace it."
    )
    assert (tmp_path / "human" / "mine.txt").is_file()
    assert invoke("import", "qdpx", project, "-o", tmp_path / "human", "--force").exit_code == 0
    assert not (tmp_path / "human" / "mine.txt").exists() and (tmp_path / "human" / "gold.csv").is_file()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_refi_import_qdpx_keeps_ids_of_a_given_codebook_by_name(tmp_path, tiny_codebook):
    result = import_qdpx(nvivo_project(tmp_path), tmp_path / "human", codebook=tiny_codebook)
    codebook = themekit.Codebook.load(result.codebook)
    assert {c.label: c.id for c in codebook}["Loneliness"] == "loneliness"
    assert {c.label: c.id for c in codebook}["Trust"] == "trust"
    assert result.matched_codes == 3  # Loneliness, Debt and Trust are labels of the tiny codebook
    assert [t.id for t in codebook.themes] == ["barriers", "imported"]
