"""Broken and hostile REFI-QDA files: one clear error each, nothing written, nothing outside the output folder."""

from __future__ import annotations

import os
import time
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from themekit.cli import app
from themekit.refi import RefiError, import_qdc, import_qdpx

from ..conftest import write
from ..test_refi import INTERVIEW, make_qdpx, nvivo_project, project_qde

runner = CliRunner()
SOURCE = "Sources/aaaaaaaa-0000-4000-8000-000000000001.txt"


def import_error(tmp_path: Path, project: Path) -> str:
    """Import through the CLI; the one-line error it printed. Nothing may have been written."""
    out = tmp_path / "out"
    result = runner.invoke(app, ["import", "qdpx", str(project), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]
    assert result.output.startswith("Error [E800]: ")
    return " ".join(result.output.split())


def test_hostile_refi_not_a_zip(tmp_path):
    bad = write(tmp_path / "p.qdpx", "just some text, no archive\n")
    assert import_error(tmp_path, bad) == (
        f"Error [E800]: {bad}: is not a REFI-QDA project archive (a .qdpx file is a zip archive; this file is not one, "
        "or is damaged). Export the project again from your QDA program as a REFI-QDA project (.qdpx)."
    )
    truncated = tmp_path / "t.qdpx"
    truncated.write_bytes(nvivo_project(tmp_path).read_bytes()[:200])
    assert "is not a REFI-QDA project archive" in import_error(tmp_path, truncated)


def test_hostile_refi_codebook_given_as_project_and_back(tmp_path):
    qdc = write(tmp_path / "c.qdc", '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes/></CodeBook>')
    assert import_error(tmp_path, qdc) == (
        f"Error [E800]: {qdc}: is a REFI-QDA codebook (.qdc), not a project (.qdpx). Use 'themekit codebook import' for codebooks."
    )
    result = runner.invoke(app, ["codebook", "import", str(nvivo_project(tmp_path)), "-o", str(tmp_path / "cb.yaml")])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error [E800]: {tmp_path / 'nvivo.qdpx'}: is a zip archive (a .qdpx project?), not a REFI-QDA codebook (.qdc). "
        "Use 'themekit import qdpx' for projects."
    )
    with pytest.raises(RefiError, match=r"c.qdc: has no codes. Export a codebook that has at least one code."):
        import_qdc(qdc)
    assert not (tmp_path / "cb.yaml").exists()


def test_hostile_refi_zip_without_project(tmp_path):
    project = make_qdpx(tmp_path / "p.qdpx", "<x/>")
    with zipfile.ZipFile(tmp_path / "empty.qdpx", "w") as archive:
        archive.writestr("Sources/a.txt", "text")
    assert import_error(tmp_path, tmp_path / "empty.qdpx") == (
        f"Error [E800]: {tmp_path / 'empty.qdpx'}: has no project.qde inside, so it is not a REFI-QDA project. "
        "Export the project again from your QDA program as a REFI-QDA project (.qdpx)."
    )
    assert "project.qde is XML but not a REFI-QDA project (root element <x>" in import_error(tmp_path, project)


def test_hostile_refi_invalid_xml(tmp_path):
    project = make_qdpx(
        tmp_path / "p.qdpx",
        '<?xml version="1.0"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="x">\n  <Users>\n</Project>',
    )
    assert import_error(tmp_path, project) == (
        f"Error [E800]: {project}: project.qde is not well-formed XML (mismatched tag at line 4, column 3). "
        "The file is damaged or not a REFI-QDA export; export it again from the QDA program."
    )


@pytest.mark.parametrize(
    "doctype",
    [
        # billion laughs: entities that expand to gigabytes
        (
            '<!DOCTYPE Project [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
        ),
        # an external entity that would read a local file
        '<!DOCTYPE Project [<!ENTITY secret SYSTEM "file:///etc/passwd">]>',
        # an external DTD that would be fetched over the network
        '<!DOCTYPE Project SYSTEM "http://example.invalid/project.dtd">',
    ],
)
def test_hostile_refi_dtds_and_entities_are_refused(tmp_path, doctype):
    qde = (
        project_qde()
        .replace("<Project xmlns", doctype + "\n<Project xmlns", 1)
        .replace('name="Keyworkers (NVivo)"', 'name="&d;"' if "&c;" in doctype else 'name="x"')
    )
    project = make_qdpx(tmp_path / "p.qdpx", qde, {SOURCE: INTERVIEW})
    assert import_error(tmp_path, project) == (
        f"Error [E800]: {project}: project.qde declares a DTD or entities, which REFI-QDA files never need; refused for safety "
        "(nothing was read). Export the file again from the QDA program it came from."
    )
    qdc = write(
        tmp_path / "c.qdc",
        doctype.replace("Project", "CodeBook") + '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes/></CodeBook>',
    )
    with pytest.raises(RefiError, match="declares a DTD or entities"):
        import_qdc(qdc)


def test_hostile_refi_unknown_code(tmp_path):
    extra = """
      <PlainTextSelection guid="55555555-0000-4000-8000-00000000000a" startPosition="0" endPosition="5">
        <Coding guid="66666666-0000-4000-8000-00000000000a"><CodeRef targetGUID="99999999-0000-4000-8000-000000000009"/></Coding>
      </PlainTextSelection>"""
    project = make_qdpx(tmp_path / "p.qdpx", project_qde(extra), {SOURCE: INTERVIEW})
    assert import_error(tmp_path, project) == (
        f"Error [E800]: {project}: 1 coding(s) refer to a code that is not in the project's codebook (CodeRef targetGUID "
        "99999999-0000-4000-8000-000000000009). The project is damaged; export it again from your QDA program."
    )


def test_hostile_refi_selection_out_of_range(tmp_path):
    n = len(INTERVIEW)
    extra = f"""
      <PlainTextSelection guid="55555555-0000-4000-8000-00000000000b" name="too far" startPosition="{n - 3}" endPosition="{n + 40}">
        <Coding guid="66666666-0000-4000-8000-00000000000b"><CodeRef targetGUID="22222222-0000-4000-8000-000000000004"/></Coding>
      </PlainTextSelection>"""
    project = make_qdpx(tmp_path / "p.qdpx", project_qde(extra), {SOURCE: INTERVIEW})
    assert import_error(tmp_path, project) == (
        f"Error [E800]: {project}: source 'Interview 1.docx', selection 'too far' runs from character {n - 3} to {n + 40}, "
        f"but the source has {n} characters. The selection is out of range of its source; the project is damaged or "
        "its sources were changed. Export it again."
    )
    bad = project_qde(extra.replace(f'startPosition="{n - 3}"', 'startPosition="ten"'))
    assert "has startPosition='ten', which is not a whole number" in import_error(
        tmp_path, make_qdpx(tmp_path / "q.qdpx", bad, {SOURCE: INTERVIEW})
    )


def test_hostile_refi_missing_and_misplaced_sources(tmp_path):
    # a source kept outside the archive is listed as missing, never read from the disk
    outside = make_qdpx(tmp_path / "o.qdpx", project_qde(source_path="absolute:///home/me/interview.txt"))
    result = import_qdpx(outside, tmp_path / "o")
    assert result.missing_sources == [
        "source 'Interview 1.docx' (kept outside the project: absolute:///home/me/interview.txt)"
    ]
    assert [p.name for p in result.transcripts] == ["README_source.txt"]
    # nothing to import at all (no codebook, no source text): one clear error, nothing written
    empty = make_qdpx(
        tmp_path / "e.qdpx",
        '<?xml version="1.0" encoding="utf-8"?><Project xmlns="urn:QDA-XML:project:1.0" name="x"><Sources>'
        '<TextSource guid="aaaaaaaa-0000-4000-8000-000000000001" name="Interview 1.docx" '
        'plainTextPath="internal://aaaaaaaa-0000-4000-8000-000000000001.txt"/></Sources></Project>',
    )
    assert import_error(tmp_path, empty) == (
        f"Error [E800]: {empty}: holds no source texts (missing: source 'Interview 1.docx' ({SOURCE.lower()})) and no "
        "codebook, so there is nothing to import. Export the project again with its sources included."
    )
    binary = make_qdpx(tmp_path / "b.qdpx", project_qde(), {SOURCE: b"\xff\xfe\x00caf\xe9"})
    assert f"source 'Interview 1.docx' ({SOURCE}) is not UTF-8 text (byte 0)" in import_error(tmp_path, binary)


def test_hostile_refi_zip_entries_cannot_escape_the_output_folder(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    traversal = make_qdpx(
        work / "t.qdpx", project_qde(source_path="internal://../../../escaped.txt"), {"../../../escaped.txt": INTERVIEW}
    )
    assert import_error(work, traversal) == (
        f"Error [E800]: {traversal}: source 'Interview 1.docx' points at \"internal://../../../escaped.txt\", outside the "
        "archive's sources folder; refused. Export the project again from your QDA program."
    )
    # a genuine project whose archive also carries entries named to land elsewhere: they are never touched
    project = make_qdpx(
        work / "p.qdpx",
        project_qde(),
        {SOURCE: INTERVIEW, "../escaped.txt": "x", "/tmp/absolute.txt": "x", "Sources/../../escaped2.txt": "x"},
    )
    result = import_qdpx(project, work / "out")
    everything = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")}
    assert {p for p in everything if "escaped" in p or "absolute" in p} == set()
    assert {p.name for p in result.transcripts} == {"Interview 1.txt", "README_source.txt"}
    assert all(p.parent == work / "out" for p in result.transcripts)


def test_hostile_refi_zip_bomb_is_refused_unread(tmp_path):
    bomb = make_qdpx(tmp_path / "p.qdpx", project_qde(), {SOURCE: "a" * (4 * 2**20)})
    assert import_error(tmp_path, bomb) == (
        f"Error [E800]: {bomb}: source 'Interview 1.docx' ({SOURCE}) would unpack to "
        f"{4 * 2**20 // zipfile.ZipFile(bomb).getinfo(SOURCE).compress_size:,} times its packed size, a sign of a zip "
        "bomb; refused unread. Check where the file came from and export the project again."
    )


def test_hostile_refi_size_and_count_limits(tmp_path, monkeypatch):
    big = make_qdpx(tmp_path / "big.qdpx", project_qde(), {SOURCE: os.urandom(3 * 2**20 // 2).hex()})
    monkeypatch.setattr("themekit.util.limits.MAX_FILE_BYTES", 2**20)
    assert import_error(tmp_path, big) == (
        f"Error [E800]: {big}: source 'Interview 1.docx' ({SOURCE}) unpacks to 3 MB, over the 1 MB allowed; refused unread. "
        "Split the project, or check the file is a genuine export."
    )
    monkeypatch.setattr("themekit.util.limits.MAX_ZIP_ENTRIES", 3)
    many = make_qdpx(tmp_path / "many.qdpx", project_qde(), {SOURCE: INTERVIEW, "a": "", "b": "", "c": ""})
    assert import_error(tmp_path, many) == (
        f"Error [E800]: {many}: has 5 entries, more than the 3 a project needs; refused unread. Check the file."
    )
    monkeypatch.setattr("themekit.util.limits.MAX_ZIP_ENTRIES", 10_000)
    monkeypatch.setattr("themekit.util.limits.MAX_PROJECT_TOTAL_BYTES", 4000)
    assert "unpacks to more than 4,000 bytes of project and text; refused" in import_error(
        tmp_path, nvivo_project(tmp_path)
    )


def test_hostile_refi_duplicate_entries_and_broken_codings(tmp_path):
    project = tmp_path / "dup.qdpx"
    with zipfile.ZipFile(project, "w") as archive:
        archive.writestr("project.qde", project_qde())
        archive.writestr(SOURCE, INTERVIEW)
        with pytest.warns(UserWarning):
            archive.writestr(SOURCE, "something else entirely")
    assert f"holds the entry {SOURCE} 2 times" in import_error(tmp_path, project)
    no_ref = project_qde().replace('<CodeRef targetGUID="22222222-0000-4000-8000-000000000003"/>', "")
    broken = make_qdpx(tmp_path / "b.qdpx", no_ref, {SOURCE: INTERVIEW})
    assert "source 'Interview 1.docx', selection 'debts' has a Coding without a CodeRef" in import_error(
        tmp_path, broken
    )


def test_hostile_refi_deeply_nested_codes(tmp_path):
    depth = 80
    codes = (
        "".join(f'<Code guid="00000000-0000-4000-8000-{i:012d}" name="c{i}" isCodable="true">' for i in range(depth))
        + "</Code>" * depth
    )
    qdc = write(tmp_path / "deep.qdc", f'<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes>{codes}</Codes></CodeBook>')
    result = runner.invoke(app, ["codebook", "import", str(qdc), "-o", str(tmp_path / "cb.yaml")])
    assert result.exit_code == 1
    assert result.output.strip() == (
        f"Error [E800]: {qdc}: the codebook nests codes more than 50 levels deep. Flatten the code tree in the QDA program and export again."
    )
    shared = write(
        tmp_path / "twice.qdc",
        '<CodeBook xmlns="urn:QDA-XML:codebook:1.0"><Codes><Code guid="{00000000-0000-4000-8000-000000000001}" name="A" isCodable="true"/>'
        '<Code guid="00000000-0000-4000-8000-000000000001" name="B" isCodable="true"/></Codes></CodeBook>',
    )
    with pytest.raises(RefiError, match="codes 'A' and 'B' share the guid 00000000-0000-4000-8000-000000000001"):
        import_qdc(shared)


def test_hostile_refi_small_entry_read_many_times_is_refused_fast(tmp_path):
    """A 7 KB project naming one tightly packed 1 MiB source (just under the per-entry ratio check) as 950 sources
    would unpack to ~1 GB: everything read together is held to the ratio, so it is refused after 32 MB."""
    sources = "".join(
        f'<TextSource guid="bbbbbbbb-0000-4000-8000-{n:012d}" name="S{n}" plainTextPath="internal://aaaaaaaa-0000-4000-8000-000000000001.txt"/>'
        for n in range(950)
    )
    qde = f'<?xml version="1.0" encoding="utf-8"?>\n<Project xmlns="urn:QDA-XML:project:1.0" name="bomb"><Sources>{sources}</Sources></Project>'
    bomb = make_qdpx(tmp_path / "bomb.qdpx", qde, {SOURCE: "P01: " + "a" * (2**20 - 6) + "\n"})
    assert bomb.stat().st_size < 8 * 1024
    started = time.process_time()  # CPU time: the work done, not the load on the machine
    message = import_error(tmp_path, bomb)
    assert time.process_time() - started < 10
    assert message.startswith(f"Error [E800]: {bomb}: would unpack to more than ")
    assert "times its packed size in all" in message and "a sign of a zip bomb; refused" in message
