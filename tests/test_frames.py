"""DataFrames, the framework matrix, quotes, co-occurrence, HTML views and plots for notebooks.

Most tests read ``tiny_run`` (tests/conftest.py): a run built by hand from a tiny inline corpus, so every
count in these tests is a hand count:

    P01 (works_alone=yes): s0 loneliness | s1 debt + loneliness | s2 trust
    P02 (works_alone=no):  s0 loneliness (negated) | s1 debt + trust | s2 debt (rejected)
    P03 (no attribute):    s0 loneliness + debt
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import themekit
from themekit import (
    Corpus,
    Run,
    ThemekitError,
    Transcript,
    Turn,
)
from themekit.errors import OptionError

from .conftest import TINY_SENTENCES as SENTENCES


def test_frames_excerpts_columns_are_categoricals_in_codebook_order(tiny_run):
    frame = tiny_run.excerpts
    for column in ("code", "theme", "speaker", "transcript", "method", "status", "role"):
        assert isinstance(frame[column].dtype, pd.CategoricalDtype), column
    assert list(frame["code"].cat.categories) == ["loneliness", "debt", "trust"]
    assert list(frame["theme"].cat.categories) == ["barriers", "support"]
    assert list(frame["transcript"].cat.categories) == ["P01", "P02", "P03"]
    assert list(frame["status"].cat.categories) == ["suggested", "accepted", "rejected", "human"]
    assert frame["score"].dtype == "float64" and frame["start"].dtype == "int64" and frame["negated"].dtype == bool
    only_debt = Run(
        tiny_run.corpus, tiny_run.codebook, tiny_run.units, [c for c in tiny_run.codings if c.code_id == "debt"], {}
    )
    counts = only_debt.excerpts["code"].value_counts(sort=False)
    assert counts.to_dict() == {"loneliness": 0, "debt": 4, "trust": 0}


def test_frames_segments_have_categorical_transcript_speaker_role(tiny_run):
    segments = tiny_run.segments
    assert len(segments) == 7
    for column in ("transcript", "speaker", "role"):
        assert isinstance(segments[column].dtype, pd.CategoricalDtype), column
    assert list(segments["transcript"].cat.categories) == ["P01", "P02", "P03"]
    assert segments.groupby("transcript", observed=False).size().tolist() == [3, 3, 1]


def test_frames_excerpts_csv_is_unchanged_by_categoricals(tiny_run, tmp_path):
    from themekit.runs.folder import _spreadsheet_safe_frame

    out = tiny_run.save(tmp_path / "run")
    frame = tiny_run.excerpts
    plain = frame.astype({c: object for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)})
    expected = _spreadsheet_safe_frame(plain).to_csv(index=False)
    assert (out / "excerpts.csv").read_text(encoding="utf-8") == expected
    loaded = Run.load(out)
    assert loaded.excerpts.drop(columns="run_id").equals(frame.drop(columns="run_id"))
    assert list(loaded.excerpts["code"].cat.categories) == ["loneliness", "debt", "trust"]


def test_frames_corpus_turns_and_attributes_have_types(tiny_run):
    turns = tiny_run.corpus.turns
    assert list(turns.columns) == [
        "transcript",
        "turn",
        "speaker",
        "role",
        "start",
        "end",
        "timestamp",
        "words",
        "text",
    ]
    assert len(turns) == 6
    assert isinstance(turns["speaker"].dtype, pd.CategoricalDtype) and isinstance(
        turns["role"].dtype, pd.CategoricalDtype
    )
    assert turns["words"].dtype == "int64"
    first = turns[(turns["transcript"] == "P03") & (turns["role"] == "participant")].iloc[0]
    assert first["text"] == SENTENCES["P03"][0] and first["words"] == 14
    attributes = tiny_run.corpus.attributes
    assert attributes.index.name == "transcript" and list(attributes.index) == ["P01", "P02", "P03"]
    assert str(attributes["team_size"].dtype) == "Int64"
    assert attributes.loc["P02", "team_size"] == 4 and pd.isna(attributes.loc["P03", "team_size"])
    assert list(attributes["works_alone"].cat.categories) == ["no", "yes"]


def test_frames_matrix_counts_segments_per_participant(tiny_run):
    matrix = tiny_run.matrix()
    assert list(matrix.index) == ["loneliness", "debt", "trust"]
    assert list(matrix.columns) == ["P01", "P02", "P03"]
    # negated (P02 s0) and rejected (P02 s2) codings are not counted
    assert matrix.to_dict(orient="index") == {
        "loneliness": {"P01": 2, "P02": 0, "P03": 1},
        "debt": {"P01": 1, "P02": 1, "P03": 1},
        "trust": {"P01": 1, "P02": 1, "P03": 0},
    }
    present = tiny_run.matrix(values="present")
    assert present.loc["loneliness"].tolist() == [1, 0, 1]


def test_frames_matrix_groups_by_attribute_and_joins(tiny_run):
    grouped = tiny_run.matrix(by="works_alone")
    assert list(grouped.columns) == ["no", "yes", "(not given)"]
    assert grouped.loc["loneliness"].tolist() == [0, 2, 1]
    assert grouped.loc["debt"].tolist() == [1, 1, 1]
    people = tiny_run.matrix(by="works_alone", values="present")
    assert people.loc["loneliness"].tolist() == [0, 1, 1]
    joined = tiny_run.matrix().T.join(tiny_run.corpus.attributes)
    assert joined.loc["P01", "works_alone"] == "yes" and joined.loc["P01", "loneliness"] == 2
    with pytest.raises(ThemekitError, match=r"no case attribute 'age'.*works_alone, team_size"):
        tiny_run.matrix(by="age")
    with pytest.raises(
        ThemekitError, match=r"unknown matrix values 'words' \(values=\); choose from: segments, present"
    ):
        tiny_run.matrix(values="words")


def test_frames_cooccurrence_is_symmetric_with_hand_counts(tiny_run):
    table = tiny_run.cooccurrence()
    assert (table.to_numpy() == table.to_numpy().T).all()
    assert table.loc["loneliness", "loneliness"] == 3
    assert table.loc["debt", "debt"] == 3
    assert table.loc["trust", "trust"] == 2
    assert table.loc["loneliness", "debt"] == 2
    assert table.loc["debt", "trust"] == 1
    assert table.loc["loneliness", "trust"] == 0
    people = tiny_run.cooccurrence(by="participant")
    assert (
        people.loc["loneliness", "trust"] == 1 and people.loc["debt", "trust"] == 2 and people.loc["debt", "debt"] == 3
    )


def test_frames_talk_share_is_the_coded_share_of_participant_words(tiny_run):
    from themekit.analysis.frames import excerpt_counts, talk_share

    # words of the seven participant segments: 11 15 13 | 12 13 10 | 14 = 88; the interviewer's question is left out
    share = talk_share(tiny_run)
    assert list(share.index) == ["loneliness", "debt", "trust"]
    # loneliness: P01 s0 + s1, P03 s0 (P02's is negated); debt: P01 s1, P02 s1, P03 s0 (P02 s2 rejected)
    assert share.to_dict() == pytest.approx({"loneliness": 40 / 88, "debt": 42 / 88, "trust": 26 / 88})
    assert excerpt_counts(tiny_run).to_dict() == {"loneliness": 3, "debt": 3, "trust": 2}


def test_frames_quotes_are_the_reports_quotes(tiny_run):
    quotes = tiny_run.quotes("debt", n=2)
    assert list(quotes.columns) == [
        "quote",
        "participant",
        "score",
        "transcript",
        "speaker",
        "turn",
        "start",
        "end",
        "time",
        "seconds",
        "trimmed",
    ]
    [theme] = [t for t in themekit.summarize(tiny_run, quotes_per_code=2) if t.theme_id == "barriers"]
    [debt] = [c for c in theme.codes if c.code_id == "debt"]
    assert quotes["quote"].tolist() == [q.text for q in debt.quotes]
    # the strongest first; then P03's "Lonely and in debt", closer to the code's other codings than P02's bailiff
    # letters, whose stronger code is trust; the rejected 0.99 coding of P02 is never offered
    assert quotes["transcript"].tolist() == ["P01", "P03"]
    assert quotes.loc[0, "quote"] == SENTENCES["P01"][1]
    assert quotes["score"].dtype == "float64"
    assert tiny_run.quotes("Debt").equals(tiny_run.quotes("debt"))  # by label, any case
    with pytest.raises(ThemekitError, match=r"no code 'lonliness'.*did you mean 'loneliness'"):
        tiny_run.quotes("lonliness")


def test_display_transcript_escapes_text_and_shows_codes_on_hover(tiny_run, shown):
    html = shown(tiny_run.transcript("P02"))
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; nobody" in html
    assert 'title="Debt (debt): rule 0.85; Trust (trust): rule 0.75"' in html
    assert 'title="Loneliness (loneliness): rule 0.50, negated"' in html
    # the rejected coding is not highlighted: that sentence is plain text
    assert "The debt advice line was closed" in html.split("</mark>")[-1]
    plain = shown(tiny_run.corpus["P02"])
    assert "<mark" not in plain and "&lt;script&gt;" in plain
    with pytest.raises(ThemekitError, match="no transcript 'P9' in this run"):
        tiny_run.transcript("P9")


def test_display_transcript_is_cut_with_a_note(shown):
    sentence = "Word " * 40
    text = "\n".join(f"P1: {sentence}" for _ in range(400))
    turns, at = [], 0
    for i in range(400):
        turns.append(Turn(i, "P1", "participant", at + 4, at + 4 + len(sentence)))
        at += 4 + len(sentence) + 1
    transcript = Transcript("long", Path("long.txt"), "0" * 64, "txt", "utf-8", text, tuple(turns))
    html = shown(transcript)
    assert "Shown: 150 of 400 turns" in html
    assert len(html) < 60_000


def test_display_corpus_codebook_run_and_summary_views(tiny_run, shown):
    corpus = shown(tiny_run.corpus)
    assert "3 transcripts" in corpus and "works_alone=yes, team_size=1" in corpus
    codebook = shown(tiny_run.codebook)
    assert "Tiny study" in codebook and "Feeling alone or without people to talk to." in codebook
    assert codebook.index("Loneliness") < codebook.index("Debt") < codebook.index("Trust")
    run = shown(tiny_run)
    assert "3 transcripts, 7 segments, 10 codings" in run
    assert (
        '<td style="border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top">2 of 3 (a few)</td>'
        in run
    )
    summary = themekit.summarize(tiny_run)
    assert isinstance(summary, list)
    html = shown(summary)
    assert "Loneliness" in html and "a few (2 of 3)" in html and SENTENCES["P01"][1] in html


def test_plot_heatmap_and_frequencies_return_figures(tiny_run):
    from matplotlib.figure import Figure

    heat = tiny_run.plot.heatmap()
    assert isinstance(heat, Figure)
    ax = heat.axes[0]
    assert ax.get_xlabel() == "participant" and ax.get_ylabel() == "code"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["P01", "P02", "P03"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Loneliness", "Debt", "Trust"]
    assert ax.collections[0].get_array().tolist() == [[2, 0, 1], [1, 1, 1], [1, 1, 0]]
    grouped = tiny_run.plot.heatmap(by="works_alone", values="present").axes[0]
    assert grouped.get_xlabel() == "works_alone"
    bars = tiny_run.plot.frequencies()
    ax = bars.axes[0]
    assert ax.get_xlabel() == "participants mentioning the code (of 3)"
    assert [p.get_width() for p in ax.patches] == [2, 3, 2]
    assert [t.get_text() for t in ax.texts] == ["2", "3", "2"], "each bar's value is written at its end"
    # the other measures, asked for by name
    talk = tiny_run.plot.frequencies(measure="talk").axes[0]
    assert talk.get_xlabel() == "share of participants’ words coded (%)"
    assert [round(p.get_width(), 2) for p in talk.patches] == [round(100 * n / 88, 2) for n in (40, 42, 26)]
    assert [t.get_text() for t in talk.texts] == ["45.5%", "47.7%", "29.5%"]
    excerpts = tiny_run.plot.frequencies(measure="excerpts").axes[0]
    assert [p.get_width() for p in excerpts.patches] == [3, 3, 2]
    with pytest.raises(OptionError, match=r"unknown frequency measure 'words' \(measure=\); choose from: auto"):
        tiny_run.plot.frequencies(measure="words")
    together = tiny_run.plot.cooccurrence().axes[0]
    image = together.collections[0]
    assert image.get_array().data.tolist() == [[3, 2, 0], [2, 3, 1], [0, 1, 2]]
    # a code with itself is greyed out and left out of the colour scale: the largest pair sets it
    assert image.get_array().mask.tolist() == [[True, False, False], [False, True, False], [False, False, True]]
    assert image.norm.vmax == 2


def test_api_exports_the_notebook_functions():
    from themekit import cli  # noqa: F401  (the CLI calls the same functions)
    from themekit.export import export_quote_docx, export_report, export_xlsx

    for name in (
        "read_corpus",
        "Codebook",
        "code",
        "Run",
        "suggest_topics",
        "summarize",
        "evaluate",
        "agree",
        "export_report",
        "export_quote_docx",
        "export_xlsx",
        "write_run",
        "summary_markdown",
        "export_qdpx",
    ):
        assert name in themekit.__all__, name
    assert themekit.export_report is export_report
    assert themekit.export_quote_docx is export_quote_docx
    assert themekit.export_xlsx is export_xlsx
    assert callable(themekit.Run.load) and callable(themekit.Codebook.load)


def test_display_transcript_lists_its_codes_in_a_legend(tiny_run, shown):
    html = shown(tiny_run.transcript("P01"))
    legend = html.split("Codes here", 1)[1].split("</div>", 1)[0]
    assert "loneliness (2)" in legend and "debt (1)" in legend and "trust (1)" in legend
    assert legend.index("loneliness") < legend.index("debt") < legend.index("trust")


def test_display_corpus_lists_at_most_50_transcripts(tmp_path, shown):
    transcripts = tuple(
        Transcript(
            f"T{i:03d}",
            Path(f"T{i:03d}.txt"),
            "0" * 64,
            "txt",
            "utf-8",
            "T: hello there",
            (Turn(0, "T", "participant", 3, 14),),
        )
        for i in range(120)
    )
    html = shown(Corpus(tmp_path, transcripts))
    assert "120 transcripts" in html and "T049" in html and "T050" not in html
    assert "… 70 more transcripts not shown" in html


def test_frames_quotes_show_whole_in_jupyter(tiny_run):
    long = "Honestly " + "the isolation was the worst part of it and " * 4 + "nobody came."
    table = tiny_run.quotes("debt", n=2)[["quote", "participant", "score"]]
    table.loc[0, "quote"] = long
    html = table._repr_html_()
    assert long in html and "..." not in html and "…" not in html  # pandas would cut it at 50 characters
    import pandas as pd

    assert pd.get_option("display.max_colwidth") == 50  # the user's setting is left as it was
    assert "..." in pd.DataFrame(table)._repr_html_()


def test_display_transcript_gives_each_code_present_its_own_colour():
    from themekit.render.display import distinct_colours

    colours = distinct_colours(36)
    assert len(set(colours)) == 36


def test_display_transcript_legend_colours_match_its_highlights(tiny_run, shown):
    import re

    html = shown(tiny_run.transcript("P02"))
    legend = dict(re.findall(r'<span style="background:([^;]+);padding:0 3px;white-space:nowrap">(\w+) \(', html))
    assert len(legend) == len(set(legend.values())) >= 2  # one colour per code shown
