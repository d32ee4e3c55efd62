from __future__ import annotations

import pytest

from themekit import code, prevalence_word, summarize


@pytest.mark.parametrize(
    ("count", "total", "word"),
    [
        (13, 13, "all"),
        (9, 13, "most"),
        (6, 13, "many"),
        (4, 13, "some"),
        (3, 13, "several"),
        (2, 13, "a few"),
        (1, 13, "one"),
        (0, 13, "no"),
    ],
)
def test_summarize_prevalence_words(count, total, word):
    assert prevalence_word(count, total) == word


def test_summarize_counts_transcripts_not_excerpts_and_skips_negated(tiny_corpus, tiny_codebook):
    run = code(tiny_corpus, tiny_codebook, methods="rule")
    themes = {t.theme_id: t for t in summarize(run)}
    codes = {c.code_id: c for c in themes["barriers"].codes}
    lonely = codes["loneliness"]
    # P01 speaks of isolation; P02's "lonely" is vetoed by "rural" or negated ("never felt lonely")
    assert lonely.transcripts == ("P01",)
    assert lonely.prevalence == "one"
    # only P01 speaks of it, so both quotes are P01's, and they differ
    assert [q.transcript for q in lonely.quotes] == ["P01", "P01"]
    assert lonely.quotes[0].text != lonely.quotes[1].text
    assert codes["debt"].key_terms[0] in {"debts", "bailiffs", "owe 300"}
    trust = {c.code_id: c for c in themes["support"].codes}["trust"]
    assert trust.transcripts == ("P02",)
    assert trust.quotes[0].text.startswith("I trust her completely")


def test_summarize_quotes_spread_trim_and_skip_duplicates(sample_rule_run):
    from themekit.analysis.summarize import trim_quote

    spread = 0
    for theme in summarize(sample_rule_run, quotes_per_code=3):
        for summary in theme.codes:
            people = [q.transcript for q in summary.quotes]
            if summary.n_transcripts >= 3:
                assert len(set(people)) == len(people), (summary.code_id, people)
                spread += len(people) == 3
            for q in summary.quotes:
                assert len(q.text.split()) <= 61
                segment_text = sample_rule_run.corpus[q.transcript].text[q.start : q.end]
                if q.trimmed:
                    assert q.text.endswith(" …") and " ".join(segment_text.split()).startswith(q.text[:-2])
                else:
                    assert q.text == " ".join(segment_text.split())
    assert spread >= 10  # many codes have three quotes from three different keyworkers
    text, trimmed = trim_quote("One two three four five. Six seven eight nine ten eleven twelve", 9)
    assert (text, trimmed) == ("One two three four five. …", True)
    text, _ = trim_quote("alpha beta gamma delta epsilon zeta", 4)
    assert text == "alpha beta gamma delta …"


def test_summarize_cooccurrence_and_configured_prevalence(sample_rule_run):
    from themekit.config import ReportSettings

    settings = ReportSettings(prevalence=[("every", 1.0), ("over half", 0.5), ("a handful", 1)])
    themes = {t.theme_id: t for t in summarize(sample_rule_run, settings=settings)}
    transport = {c.code_id: c for c in themes["participant_barriers"].codes}["transport"]
    assert transport.prevalence in {"every", "over half", "a handful"}
    assert transport.cooccurring and transport.cooccurring[0][1] >= 1
    assert "transport" not in dict(transport.cooccurring)
    assert transport.cooccurring == tuple(sorted(transport.cooccurring, key=lambda kv: (-kv[1], kv[0])))


_JANE_WORDS = "the bailiffs and the debts and the isolation, tell me about all of that"


def _jane_study(folder):
    """Four interviews where Jane Smith asks the questions, and one where she asks none with a question mark."""
    folder.mkdir()
    for n in range(1, 5):
        (folder / f"P0{n}.txt").write_text(
            f"Jane Smith: What has been hardest?\n\nAlex {n}: The debts piled up and the bailiffs came twice in one month.\n\n"
            f"Jane Smith: And who helps?\n\nAlex {n}: I trust my keyworker completely, she never judged me.\n",
            encoding="utf-8",
        )
    (folder / "P05.txt").write_text(
        f"Jane Smith: Last time we spoke about {_JANE_WORDS}.\n\nRobin: Yes. The debts are still there and I still owe 300.\n\n"
        f"Jane Smith: Go on about {_JANE_WORDS} if you like.\n\nRobin: It is the isolation that gets me, most days.\n",
        encoding="utf-8",
    )
    return folder


def test_summarize_never_quotes_the_folders_interviewer(tmp_path, tiny_codebook):
    from themekit.api import code as api_code

    run = api_code(_jane_study(tmp_path / "study"), tiny_codebook, methods="rule", project=None)
    assert {t.role for t in run.corpus["P05"].turns if t.speaker == "Jane Smith"} == {"interviewer"}
    assert not any("Jane" in c.segment.speaker for c in run.codings)
    assert run.stats["no_interviewer"] == []
    assert any(
        w.startswith("P05: 'Jane Smith' taken as the interviewer by the folder rule") for w in run.stats["warnings"]
    )
    folder = run.save(tmp_path / "run")
    summary = (folder / "summary.md").read_text(encoding="utf-8")
    assert "I still owe 300" in summary or "The debts are still there" in summary  # Robin is quoted
    assert "tell me about all of that" not in summary
    assert "tell me about all of that" not in (folder / "excerpts.csv").read_text(encoding="utf-8")


def test_summarize_and_quote_tables_leave_out_coded_interviewer_speech(tmp_path, tiny_codebook):
    import docx
    from openpyxl import load_workbook

    from themekit import export_quote_docx, export_xlsx
    from themekit.api import code as api_code

    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "P01.txt").write_text(
        "Interviewer: Many people tell me the isolation and the bailiffs are the worst of it, is that so for you?\n\n"
        "P01: Not really. The debts are a worry but I owe 300 at most now.\n",
        encoding="utf-8",
    )
    run = api_code(folder, tiny_codebook, methods="rule", project=None, code_interviewer=True)
    asked = [c for c in run.codings if c.segment.role == "interviewer"]
    assert {c.code_id for c in asked} >= {"loneliness", "debt"}  # coded, as asked: excerpts keep it, with its role
    codes = {c.code_id: c for t in summarize(run) for c in t.codes}
    assert codes["loneliness"].transcripts == () and codes["loneliness"].quotes == ()
    assert [q.speaker for q in codes["debt"].quotes] == ["P01"]
    assert "bailiffs" not in codes["debt"].key_terms
    assert run.quotes("loneliness").empty
    saved = run.save(tmp_path / "run")
    assert "the worst of it" not in (saved / "summary.md").read_text(encoding="utf-8")
    export_quote_docx(run, tmp_path / "q.docx")
    cells = [
        cell.text
        for table in docx.Document(str(tmp_path / "q.docx")).tables
        for row in table.rows
        for cell in row.cells
    ]
    assert any("owe 300" in c for c in cells) and not any("the worst of it" in c for c in cells)
    export_xlsx(run, tmp_path / "q.xlsx")
    values = [
        str(v) for ws in load_workbook(tmp_path / "q.xlsx") for row in ws.iter_rows(values_only=True) for v in row
    ]
    assert any("owe 300" in v for v in values) and not any("the worst of it" in v for v in values)


def _hand_coded(sentences: dict[str, list[tuple[str, str, float, str]]]):
    """Codings by hand: transcript → [(sentence, code, score, status)], one segment per sentence."""
    from pathlib import Path

    from themekit import Coding, Segment, Transcript, Turn

    transcripts, codings = [], []
    for tid, rows in sentences.items():
        label = f"{tid}: "
        text = label + " ".join(r[0] for r in rows)
        transcript = Transcript(
            tid,
            Path(f"{tid}.txt"),
            "0" * 64,
            "txt",
            "utf-8",
            text,
            (Turn(0, tid, "participant", len(label), len(text)),),
        )
        transcripts.append(transcript)
        at = len(label)
        for i, (sentence, code_id, score, status) in enumerate(rows):
            segment = Segment(transcript, i, 0, at, at + len(sentence))
            codings.append(Coding(segment, code_id, "barriers", "semantic", score, "similar", status))
            at += len(sentence) + 1
    return codings


def test_summarize_quotes_stand_for_their_code_reviewed_first_never_rejected():
    from themekit.analysis.summarize import select_quotes

    codings = _hand_coded(
        {
            # the highest score, but its words are nothing like the code's other codings
            "K1": [
                (
                    "I'm supposed to be an employment keyworker, that's what it says on the job description.",
                    "wellbeing",
                    0.99,
                    "suggested",
                )
            ],
            "K2": [
                (
                    "I was close to burnout once, the stress of the caseload was exhausting and draining.",
                    "wellbeing",
                    0.80,
                    "suggested",
                )
            ],
            "K3": [
                (
                    "Clinical supervision helps with the stress, I'd be close to burnout without it.",
                    "wellbeing",
                    0.78,
                    "suggested",
                )
            ],
            "K4": [
                (
                    "The emotional stress is draining, some weeks I go home exhausted and cry in the car.",
                    "wellbeing",
                    0.76,
                    "suggested",
                )
            ],
            # a reviewer accepted this one: it comes first whatever its score
            "K5": [
                (
                    "Honestly my own wellbeing slipped for a while last winter and I needed time off.",
                    "wellbeing",
                    0.55,
                    "accepted",
                )
            ],
            # a reviewer rejected this one: never quoted, however strong
            "K6": [
                (
                    "The stress and burnout and exhaustion of the job are draining, truly draining.",
                    "wellbeing",
                    1.0,
                    "rejected",
                )
            ],
        }
    )
    quotes = [q.transcript for q in select_quotes(codings, 5, words=(5, 60))]
    assert quotes[0] == "K5"
    assert "K6" not in quotes
    # the off-topic quote, strongest by score, is not the first suggestion quoted: closer ones come before it
    assert quotes[1] == "K2"
    assert quotes.index("K1") > 1


def test_summarize_quote_whose_segment_is_better_coded_otherwise_comes_later():
    from themekit.analysis.summarize import QuoteRanker, select_quotes

    codings = _hand_coded(
        {
            "K1": [
                (
                    "Peer support from my team keeps me going, we offload to each other every week.",
                    "peer",
                    0.80,
                    "suggested",
                )
            ],
            "K2": [
                (
                    "My colleagues in the team are my peer support, we offload after hard visits.",
                    "peer",
                    0.79,
                    "suggested",
                )
            ],
            # as strong for peer support, but a participant's loneliness is what it is about
            "K3": [
                (
                    "One lady was so lonely and isolated she had not left the house in two years.",
                    "peer",
                    0.81,
                    "suggested",
                )
            ],
        }
    )
    k3 = codings[2]
    codings.append(type(k3)(k3.segment, "loneliness", "barriers", "semantic", 0.97, "similar"))
    quotes = select_quotes([c for c in codings if c.code_id == "peer"], 2, words=(5, 60), ranker=QuoteRanker(codings))
    assert [q.transcript for q in quotes] == ["K1", "K2"]


def test_summarize_sentences_keep_quoted_speech_whole(tmp_path, tiny_codebook):
    folder = tmp_path / "t"
    folder.mkdir()
    (folder / "K1.txt").write_text(
        "Interviewer: Who helps you?\n\n"
        'K1: There is a keyworker network, and you can say "has anyone dealt with this?" and someone always has. '
        "One chap said to me, \"if I go on that course, they'll say I'm fit for work.\" That stuck with me for weeks.\n",
        encoding="utf-8",
    )
    run = code(folder, tiny_codebook, methods="rule")
    sentences = run.segments["text"].tolist()
    assert (
        'There is a keyworker network, and you can say "has anyone dealt with this?" and someone always has.'
        in sentences
    )
    assert "One chap said to me, \"if I go on that course, they'll say I'm fit for work.\"" in sentences
    assert not any(s.startswith('"') for s in sentences)


def test_summarize_prevalence_counts_confident_codings_and_says_what_it_rests_on(tiny_run):
    from themekit.config import ReportSettings

    def codes(settings=None):
        return {c.code_id: c for t in summarize(tiny_run, settings=settings) for c in t.codes}

    confident = codes()
    # debt: P01 0.95 and P02 0.85 count; P03's 0.70 suggestion does not; P02's rejected 0.99 never
    assert confident["debt"].transcripts == ("P01", "P02")
    assert (confident["debt"].unconfident, confident["debt"].basis) == (1, "machine")
    # loneliness: P01 holds an accepted coding; P03's 0.70 suggestion is not counted
    assert confident["loneliness"].transcripts == ("P01",)
    assert confident["loneliness"].basis == "reviewed"
    # trust: P02's is a person's coding, P01's a suggestion
    assert (confident["trust"].transcripts, confident["trust"].reviewed) == (("P01", "P02"), ("P02",))
    assert confident["trust"].basis == "mixed"
    every = codes(ReportSettings(count="all"))
    assert every["debt"].transcripts == ("P01", "P02", "P03") and every["debt"].unconfident == 0
    assert every["loneliness"].basis == "mixed"


def test_report_prevalence_sentences_say_when_they_rest_on_machine_suggestions(tiny_run, sample_rule_run):
    from themekit.export.report import report_blocks

    def sentences(run):
        blocks = report_blocks(run, charts=False)
        return blocks[1].runs[0][0], [b.runs[0][0] for b in blocks if b.kind == "para" and b.runs][1:]

    methods, paras = sentences(tiny_run)
    assert "machine suggestions only when they score at least 0.75" in methods
    assert "2 suggestions scoring under 0.75 are not counted." in methods  # P03 debt, P03 loneliness
    assert "A few participants (2 of 3) mentioned this (machine suggestions, not yet reviewed): 2 excerpts" in paras
    assert any("(reviewed for 1 of them; the rest machine suggestions)" in p for p in paras)
    methods, paras = sentences(sample_rule_run)
    assert "No coding has been reviewed yet: every count below rests on machine suggestions." in methods
    assert not any("not yet reviewed)" in p for p in paras)


def test_report_charts_count_what_the_prevalence_sentences_count(tiny_run, monkeypatch):
    import themekit.render.charts as charts
    from themekit.export.report import report_blocks

    seen = {}

    def frequency_chart(run, *, codes=None, noun="participants"):
        for code_id in codes:
            seen[code_id] = sorted({c.segment.transcript.id for c in run.codings if c.code_id == code_id and c.counts})
        return b""

    monkeypatch.setattr(charts, "frequency_chart", frequency_chart)
    monkeypatch.setattr(charts, "heatmap_chart", lambda run, **kw: b"")
    report_blocks(tiny_run)
    summary = {c.code_id: list(c.transcripts) for t in summarize(tiny_run) for c in t.codes}
    assert seen["debt"] == summary["debt"] == ["P01", "P02"]  # P03's 0.70 suggestion is in neither
    assert seen == summary


def test_report_methods_paragraph_names_only_the_methods_that_coded(tmp_path, tiny_corpus):
    from themekit.config import ReportSettings
    from themekit.export.report import methods_paragraph

    codebook = tmp_path / "one.yaml"
    codebook.write_text(
        "schema_version: 1\nname: One\nversion: 1.0.0\nthemes:\n  - id: money\n    label: Money\n    codes:\n"
        "      - id: debt\n        label: Debt\n        definition: Owing money, arrears and bailiffs.\n",
        encoding="utf-8",
    )
    run = code(tiny_corpus, codebook, methods="rule,semantic", cache_dir=None, project=None)
    text = methods_paragraph(run, ReportSettings())
    assert "(version 1.0.0, 1 code in 1 theme)" in text
    assert "coded using semantic similarity" in text and "keywords" not in text  # no keywords: the rules gave nothing


def test_summarize_quotes_full_of_hesitations_come_after_readable_ones():
    from themekit.analysis.summarize import select_quotes

    codings = _hand_coded(
        {
            "K1": [
                (
                    "Uh, well, for me, uh, the bus, uh, it's, uh, it's just too, um, expensive to get to town.",
                    "bus",
                    0.99,
                    "suggested",
                )
            ],
            "K2": [("The bus into town costs more than I can spend in a week on food.", "bus", 0.70, "suggested")],
            "K3": [("There was a (unintelligible) bus but it stopped running last year.", "bus", 0.95, "suggested")],
        }
    )
    quotes = [q.transcript for q in select_quotes(codings, 3, words=(5, 60))]
    assert quotes[0] == "K2"  # the one readable quote first, though the others score higher
    assert set(quotes[1:]) == {"K1", "K3"}
