"""``themekit review serve``: pages, decisions, undo, the token, escaping and the CLI, through Starlette's TestClient."""

from __future__ import annotations

import csv
import re
import socket
import sys
import threading
import time
import types
from pathlib import Path
from typing import ClassVar

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

import themekit
from themekit.cli import app as cli
from themekit.review.decide import current_codings
from themekit.review.sheets import export_review, import_review
from themekit.store import Project
from themekit.web import create_app

from .conftest import HANG_GUARD, write

runner = CliRunner()
TOKEN = "test-token-123"


class FakeLearner:
    """A stand-in for themekit.review.queue.QueueLearner (its interface): rows by lowest score first. While
    ``gate`` is not set, building one waits (as loading the real classifier takes seconds)."""

    made: ClassVar[list[FakeLearner]] = []
    gate: ClassVar[threading.Event] = threading.Event()
    fail: ClassVar[Exception | None] = None

    def __init__(self, project, run, *, coder, retrain_every=10, blind=False):
        assert FakeLearner.gate.wait(HANG_GUARD), "the test never let the learner be built"
        if FakeLearner.fail is not None:
            raise FakeLearner.fail
        self.coder, self.blind, self.noted, self.closed, self.training = coder, blind, 0, False, False
        self.progress = ""
        FakeLearner.made.append(self)

    def order(self, rows):
        return sorted(rows, key=lambda r: (r["score"], r["id"]))

    def note_decision(self):
        self.noted += 1

    def status(self):
        return [
            {
                "code": "debt",
                "label": "Debt",
                "decisions": self.noted,
                "positives": 1,
                "cv_f1": 0.75,
                "cv_kappa": None,
                "ready": True,
            }
        ]

    def close(self):
        self.closed = True


@pytest.fixture(autouse=True)
def fake_queue(monkeypatch):
    module = types.ModuleType("themekit.review.queue")
    module.QueueLearner = FakeLearner
    monkeypatch.setitem(sys.modules, "themekit.review.queue", module)
    FakeLearner.made = []
    FakeLearner.fail = None
    FakeLearner.gate = threading.Event()
    FakeLearner.gate.set()


@pytest.fixture
def served(tmp_path, tiny_corpus, tiny_codebook):
    """A tiny project with one coded run (rules), its folder, and a client of the app with a fixed coder."""
    project = tmp_path / "project.db"
    run = themekit.code(tiny_corpus, tiny_codebook, methods="rule", cache_dir=None, project=project)
    run.save(tmp_path / "r1")
    app = create_app(project, themekit.Run.load(tmp_path / "r1"), coder="alex", token=TOKEN)
    with TestClient(app, base_url="http://127.0.0.1") as client:
        yield client, project, run


def chips(html: str) -> dict[tuple[str, str], str]:
    """(code, status) → the first chip's id with them, from a transcript page (in reading order)."""
    found: dict[tuple[str, str], str] = {}
    for m in re.finditer(
        r'class="chip [^"]*" tabindex="-1" data-id="(\w+)" data-code="(\w+)" data-status="(\w+)"', html
    ):
        found.setdefault((m[2], m[3]), m[1])
    return found


def post(client, url, body, token=TOKEN):
    return client.post(url, json=body, headers={"X-Themekit-Token": token} if token else {})


def seen(html: str) -> dict[str, int]:
    """Coding id → the id of its latest decision record as the page drew it (data-seen)."""
    return {m[1]: int(m[2]) for m in re.finditer(r'data-id="(\w+)"[^>]*? data-seen="(\d+)"', html)}


def queue_when_built(client, limit=40) -> dict:
    """/api/queue's answer once the learner is built (the page asks it again and again in the same way)."""
    deadline = time.monotonic() + HANG_GUARD
    while time.monotonic() < deadline:
        answer = client.get(f"/api/queue?limit={limit}", headers={"X-Themekit-Token": TOKEN})
        assert answer.status_code == 200, answer.text
        if answer.json()["ready"]:
            return answer.json()
        time.sleep(0.05)
    raise AssertionError("the review queue was never built")


def card_ids(html: str) -> list[str]:
    return re.findall(r'class="card chip suggested" tabindex="-1" data-id="(\w+)"', html)


def test_web_transcript_list_counts_codings_and_decisions(served):
    client, _, run = served
    page = client.get("/").text
    row = re.search(r">P01</a></td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>", page)
    p01 = [c for c in run.codings if c.segment.transcript.id == "P01"]
    segments = sum(1 for s in run.units if s.transcript.id == "P01")
    assert row and row.groups()[1:] == (str(segments), str(len(p01)), str(len(p01)), "0")
    assert "Feeling alone or without people to talk to." in page  # the codebook panel's definition
    assert "I had nobody to talk to." in page  # and its example


def test_web_transcript_view_shows_speakers_codings_and_codebook(served):
    client, _, run = served
    page = client.get("/t/P01").text
    assert '<span class="speaker">P01</span>' in page and '<span class="speaker">Interviewer</span>' in page
    assert set(chips(page)) == {(c.code_id, "suggested") for c in run.codings if c.segment.transcript.id == "P01"}
    # the highlighted words are the coded sentence, at its offsets into the transcript's text
    debt = next(c for c in run.codings if c.code_id == "debt" and c.segment.transcript.id == "P01")
    assert f'data-o="{debt.segment.start}"' in page and 'title="debt"' in page
    assert client.get("/t/nobody").status_code == 404


def test_web_accept_and_reject_record_decisions_by_the_coder(served):
    client, project, run = served
    ids = chips(client.get("/t/P01").text)
    answer = post(
        client, "/api/decide", {"id": ids[("loneliness", "suggested")], "decision": "accept", "note": "clear"}
    )
    assert answer.status_code == 200 and answer.json()["statuses"][ids[("loneliness", "suggested")]] == "accepted"
    assert post(client, "/api/decide", {"id": ids[("debt", "suggested")], "decision": "reject"}).status_code == 200
    with Project(project) as store:
        made = [(d.coder, d.quote[:22], d.code, d.decision, d.note) for d in store.decisions()]
    assert made == [
        ("alex", "Honestly the isolation", "loneliness", "accept", "clear"),
        ("alex", "The debts piled up and", "debt", "reject", ""),
    ]
    page = client.get("/t/P01").text
    assert ("loneliness", "accepted") in chips(page) and ("debt", "rejected") in chips(page)
    p01 = sum(1 for c in run.codings if c.segment.transcript.id == "P01")
    assert re.search(
        rf">P01</a></td>(<td>\d+</td>){{2}}<td>{p01 - 1}</td><td>{p01 - 2}</td><td>2</td>", client.get("/").text
    )


def test_web_change_add_and_span_coding(served):
    client, project, run = served
    ids = chips(client.get("/t/P01").text)
    assert (
        post(
            client, "/api/decide", {"id": ids[("debt", "suggested")], "decision": "change", "code": "trust"}
        ).status_code
        == 200
    )
    text = next(t for t in run.corpus if t.id == "P02").text
    start = text.index("people were kind")
    answer = post(
        client,
        "/api/code",
        {
            "transcript": "P02",
            "start": start - 1,
            "end": start + len("people were kind"),
            "code": "trust",
            "note": "kindness",
        },
    )
    assert answer.status_code == 200
    with Project(project) as store:
        change, add = store.decisions()
    assert (change.decision, change.code, change.new_code) == ("change", "debt", "trust")
    # the selection is trimmed of its spaces and anchored as a sheet's decision: offsets, quote, transcript hash
    assert (add.decision, add.code, add.quote, add.start) == ("add", "trust", "people were kind", start)
    assert add.transcript_sha256 == next(t for t in run.corpus if t.id == "P02").sha256
    page = client.get("/t/P01").text
    assert ("trust", "human") in chips(page) and ("debt", "rejected") in chips(page)
    assert ("trust", "human") in chips(client.get("/t/P02").text)


def test_web_bad_decisions_get_one_message(served):
    client, project, _ = served
    ids = chips(client.get("/t/P01").text)
    answer = post(client, "/api/decide", {"id": ids[("debt", "suggested")], "decision": "change", "code": "debts"})
    assert answer.status_code == 400 and "'debts' is not one" in answer.json()["error"]
    assert post(client, "/api/decide", {"id": "0" * 16, "decision": "accept"}).status_code == 404
    answer = post(client, "/api/code", {"transcript": "P01", "start": 5, "end": 10**6, "code": "debt"})
    assert answer.status_code == 400 and "are not in the transcript" in answer.json()["error"]
    with Project(project) as store:
        assert store.decisions() == []


def test_web_post_without_the_session_token_is_forbidden(served):
    client, project, _ = served
    ids = chips(client.get("/t/P01").text)
    for token in (None, "wrong"):
        answer = post(client, "/api/decide", {"id": ids[("debt", "suggested")], "decision": "reject"}, token=token)
        assert answer.status_code == 403 and "token" in answer.json()["error"]
    assert post(client, "/api/undo", {}, token=None).status_code == 403
    assert client.post("/coder", data={"name": "eve", "next": "/"}).status_code == 403
    with Project(project) as store:
        assert store.decisions() == []


def test_web_undo_restores_the_earlier_state_and_keeps_history(served):
    client, project, run = served
    ids = chips(client.get("/t/P01").text)
    lonely = ids[("loneliness", "suggested")]
    post(client, "/api/decide", {"id": lonely, "decision": "accept"})
    post(client, "/api/decide", {"id": lonely, "decision": "reject"})
    assert post(client, "/api/undo", {}).json()["decision"] == "accept"  # back to the accept before the reject
    assert ("loneliness", "accepted") in chips(client.get("/t/P01").text)
    assert post(client, "/api/undo", {}).json()["decision"] == "withdraw"  # back to no decision at all
    assert ("loneliness", "suggested") in chips(client.get("/t/P01").text)
    assert post(client, "/api/undo", {}).status_code == 400
    with Project(project) as store:
        assert [d.decision for d in store.decisions(withdrawn=True)] == ["accept", "reject", "accept", "withdraw"]
        assert store.decisions() == []
        assert {c.status for c in current_codings(run, store) if c.code_id == "loneliness"} == {"suggested"}


def test_web_decisions_without_seen_are_all_recorded_the_last_counts(served):
    client, project, _ = served
    lonely = chips(client.get("/t/P01").text)[("loneliness", "suggested")]
    for decision in ("accept", "accept", "reject"):  # a client that does not say what it saw (not the page)
        assert post(client, "/api/decide", {"id": lonely, "decision": decision}).status_code == 200
    with Project(project) as store:
        assert [d.decision for d in store.decisions()] == ["accept", "accept", "reject"]
    assert ("loneliness", "rejected") in chips(client.get("/t/P01").text)


def test_web_stale_tab_is_told_the_coding_was_decided_since(served):
    client, project, _ = served
    first_tab = client.get("/t/P01").text
    second_tab = client.get("/t/P01").text
    lonely = chips(first_tab)[("loneliness", "suggested")]
    assert seen(first_tab)[lonely] == seen(second_tab)[lonely] == 0
    accepted = post(client, "/api/decide", {"id": lonely, "decision": "accept", "seen": seen(first_tab)[lonely]})
    assert accepted.status_code == 200 and accepted.json()["status"] == "accepted"
    now = accepted.json()["seen"]
    assert now > 0 and seen(client.get("/t/P01").text)[lonely] == now
    # the second tab still shows the coding as suggested, and rejects it
    stale = post(client, "/api/decide", {"id": lonely, "decision": "reject", "seen": seen(second_tab)[lonely]})
    assert stale.status_code == 409
    body = stale.json()
    assert "was decided since this page showed it: you accepted it at" in body["error"]
    assert "Nothing was recorded" in body["error"]
    assert (body["id"], body["status"], body["seen"], body["statuses"][lonely]) == (lonely, "accepted", now, "accepted")
    # the tab, told, decides again on what it now shows
    again = post(client, "/api/decide", {"id": lonely, "decision": "reject", "seen": body["seen"]})
    assert again.status_code == 200 and again.json()["status"] == "rejected"
    # a request sent twice (its answer lost on the way) is recorded once
    repeat = post(client, "/api/decide", {"id": lonely, "decision": "reject", "seen": body["seen"]})
    assert repeat.status_code == 200 and repeat.json()["repeat"] is True
    with Project(project) as store:
        assert [d.decision for d in store.decisions(withdrawn=True)] == ["accept", "reject"]
    # undo restores the accept, and a tab that saw the reject is told of the undo
    assert post(client, "/api/undo", {}).json()["status"] == "accepted"
    late = post(client, "/api/decide", {"id": lonely, "decision": "accept", "seen": again.json()["seen"]})
    assert late.status_code == 200 and late.json()["repeat"] is True  # the undo already made it accepted, by alex
    told = post(client, "/api/decide", {"id": lonely, "decision": "reject", "seen": again.json()["seen"]})
    assert told.status_code == 409 and "you accepted it" in told.json()["error"]
    bad = post(client, "/api/decide", {"id": lonely, "decision": "reject", "seen": "yesterday"})
    assert bad.status_code == 400 and "seen must be the id" in bad.json()["error"]


def test_web_stale_tab_of_another_coder(tmp_path, tiny_corpus, tiny_codebook):
    project = tmp_path / "project.db"
    run = themekit.code(tiny_corpus, tiny_codebook, methods="rule", cache_dir=None, project=project)
    run.save(tmp_path / "r1")
    with TestClient(create_app(project, run, token=TOKEN), base_url="http://127.0.0.1") as browser:

        def as_coder(name):  # each browser keeps its coder's name in a cookie
            browser.cookies.set("themekit_coder", name)
            return browser

        page = as_coder("carol").get("/t/P01").text
        debt = chips(page)[("debt", "suggested")]
        assert post(as_coder("bob"), "/api/decide", {"id": debt, "decision": "reject", "seen": 0}).status_code == 200
        stale = post(as_coder("carol"), "/api/decide", {"id": debt, "decision": "accept", "seen": seen(page)[debt]})
        assert stale.status_code == 409 and "bob rejected it at" in stale.json()["error"]
    with Project(project) as store:
        assert [(d.coder, d.decision) for d in store.decisions()] == [("bob", "reject")]


@pytest.fixture
def labelled(tmp_path, tiny_corpus):
    """The tiny corpus coded with a codebook whose labels have spaces, one label given to two codes."""
    codebook = write(
        tmp_path / "labels.yaml",
        """        schema_version: 1
        name: Labels
        version: 0.1.0
        themes:
          - id: barriers
            label: Barriers
            codes:
              - {id: loneliness, label: Loneliness, definition: Feeling alone., keywords: [isolation, lonely]}
              - {id: debt, label: Money worries, definition: Debts., keywords: [debt, bailiff]}
              - {id: arrears, label: Money worries, definition: Rent arrears., keywords: [arrears]}
          - id: support
            label: Support
            codes:
              - {id: consent, label: Informed consent, definition: Agreeing to take part., keywords: [agreed]}
              - {id: trust, label: Trust, definition: Trusting the keyworker., keywords: [trust]}
        """,
    )
    project = tmp_path / "project.db"
    run = themekit.code(tiny_corpus, codebook, methods="rule", cache_dir=None, project=project)
    run.save(tmp_path / "r1")
    with TestClient(create_app(project, run, coder="alex", token=TOKEN), base_url="http://127.0.0.1") as client:
        yield client, project, run


def test_web_code_box_takes_a_label_or_an_id_in_any_case(labelled):
    client, project, run = labelled
    page = client.get("/t/P01").text
    assert '<option value="Informed consent">consent</option>' in page  # completion offers labels and ids
    assert '<option value="consent">Informed consent</option>' in page
    ids = chips(page)
    answer = post(
        client, "/api/decide", {"id": ids[("debt", "suggested")], "decision": "change", "code": "informed  CONSENT"}
    )
    assert answer.status_code == 200
    text = next(t for t in run.corpus if t.id == "P02").text
    start = text.index("people were kind")
    span = {"transcript": "P02", "start": start, "end": start + len("people were kind")}
    assert post(client, "/api/code", {**span, "code": "TRUST"}).status_code == 200
    shared = post(client, "/api/code", {**span, "code": "money worries"})
    assert shared.status_code == 400
    assert shared.json()["error"] == (
        "'money worries' is the label of 2 codes of codebook Labels 0.1.0 (debt, arrears); give the code id, e.g. debt"
    )
    typo = post(client, "/api/code", {**span, "code": "Informed consnt"})
    assert typo.status_code == 400 and "did you mean 'Informed consent'?" in typo.json()["error"]
    with Project(project) as store:
        assert [(d.decision, d.code, d.new_code) for d in store.decisions()] == [
            ("change", "debt", "consent"),
            ("add", "trust", None),
        ]


def test_web_search_links_into_the_transcript_at_the_match(served):
    client, _, run = served
    page = client.get("/search", params={"q": "BAILIFFS came"}).text
    text = next(t for t in run.corpus if t.id == "P01").text
    at = text.index("bailiffs came")
    assert f'href="/t/P01?hl={at}-{at + len("bailiffs came")}#hit"' in page and "<mark>bailiffs came</mark>" in page
    view = client.get(f"/t/P01?hl={at}-{at + 13}").text
    assert re.search(rf'<span class="t[^"]* hit" data-o="{at}" id="hit"[^>]*>bailiffs came</span>', view)


def test_web_queue_orders_by_the_learner_and_shows_its_status(served):
    client, _, run = served
    built = queue_when_built(client)
    ids = card_ids(built["cards"])
    assert len(ids) == len(run.codings) and built["total"] == len(run.codings)
    assert "0.75" in built["status"] and "not yet" not in built["status"] and "yes" in built["status"]
    learner = FakeLearner.made[0]
    assert learner.coder == "alex"
    post(client, "/api/decide", {"id": ids[0], "decision": "accept"})
    assert learner.noted == 1
    page = client.get("/queue").text  # the learner is built: the page holds its cards at once
    assert len(card_ids(page)) == len(run.codings) - 1 and ids[0] not in card_ids(page)
    assert len(FakeLearner.made) == 1  # built once per coder


def test_web_queue_page_answers_while_the_learner_is_built_then_the_cards_come(served):
    client, _, run = served
    FakeLearner.gate.clear()  # building the learner waits until the test lets it
    page = client.get("/queue")
    assert page.status_code == 200 and card_ids(page.text) == []
    assert 'id="queue" data-ready="0"' in page.text and "Building the review queue" in page.text
    building = client.get("/api/queue", headers={"X-Themekit-Token": TOKEN}).json()
    assert building["ready"] is False and building["progress"].startswith("Building the review queue: ")
    assert "cards" not in building and FakeLearner.made == []
    FakeLearner.gate.set()
    built = queue_when_built(client)
    assert len(card_ids(built["cards"])) == len(run.codings) and "suggestion(s) to review" in built["summary"]
    assert 'data-ready="1"' in client.get("/queue").text


def test_web_queue_that_cannot_be_built_says_why_and_is_built_again_on_the_next_visit(served):
    client, _, run = served
    FakeLearner.fail = themekit.OptionError("the embedding model 'nope' cannot be found")
    assert client.get("/queue").status_code == 200
    deadline = time.monotonic() + HANG_GUARD
    while (answer := client.get("/api/queue", headers={"X-Themekit-Token": TOKEN})).json()["error"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert answer.status_code == 200 and answer.json()["ready"] is False
    assert answer.json()["error"] == "the embedding model 'nope' cannot be found"
    FakeLearner.fail = None
    client.get("/queue")  # the next visit builds it again
    assert len(card_ids(queue_when_built(client)["cards"])) == len(run.codings)


def test_web_queue_api_refuses_bad_requests_with_a_message(served):
    client, _, _ = served
    assert client.get("/api/queue").status_code == 403
    for limit in ("x", "-1", "99999"):
        answer = client.get(f"/api/queue?limit={limit}", headers={"X-Themekit-Token": TOKEN})
        assert answer.status_code == 400 and "give a number of cards" in answer.json()["error"]
    assert card_ids(queue_when_built(client, limit=0)["cards"]) == []  # the summary and the status only


def test_web_hostile_text_is_escaped(tmp_path, tiny_codebook):
    folder = tmp_path / "hostile"
    write(
        folder / "H01.txt",
        """\
        Interviewer: Tell me <b>about</b> it.

        H01: <script>alert(1)</script> the debt was awful. =HYPERLINK("http://evil.example","x") and the bailiffs came.
        """,
    )
    project = tmp_path / "project.db"
    run = themekit.code(folder, tiny_codebook, methods="rule", cache_dir=None, project=project)
    run.save(tmp_path / "r1")
    with TestClient(
        create_app(project, run, coder="<img src=x onerror=alert(2)>", token=TOKEN), base_url="http://127.0.0.1"
    ) as client:
        for page in (
            client.get("/t/H01"),
            client.get("/search", params={"q": "<script>"}),
            client.get("/queue"),
            client.get("/"),
        ):
            assert "<script>alert" not in page.text and "<img src=x" not in page.text and "<b>about" not in page.text
            assert "script-src 'self'" in page.headers["content-security-policy"]
        view = client.get("/t/H01").text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in view and "=HYPERLINK(&#34;http://evil.example&#34;" in view
        ids = chips(view)
        assert post(client, "/api/decide", {"id": ids[("debt", "suggested")], "decision": "accept"}).status_code == 200
    with Project(project) as store:
        assert store.decisions()[0].quote.startswith("<script>alert(1)</script> the debt")


def test_web_name_is_asked_once_and_blind_hides_other_coders(tmp_path, tiny_corpus, tiny_codebook):
    project = tmp_path / "project.db"
    run = themekit.code(tiny_corpus, tiny_codebook, methods="rule", cache_dir=None, project=project)
    run.save(tmp_path / "r1")
    with TestClient(create_app(project, run, blind=True, token=TOKEN), base_url="http://127.0.0.1") as client:
        first = client.get("/t/P01", follow_redirects=False)
        assert first.status_code == 303 and first.headers["location"] == "/coder?next=/t/P01"
        assert (
            client.post(
                "/coder", data={"name": "bob", "token": TOKEN, "next": "//evil.example"}, follow_redirects=False
            ).headers["location"]
            == "/"
        )
        ids = chips(client.get("/t/P01").text)
        post(client, "/api/decide", {"id": ids[("debt", "suggested")], "decision": "reject"})
        assert ("debt", "rejected") in chips(client.get("/t/P01").text)
        client.post("/coder", data={"name": "carol", "token": TOKEN, "next": "/"})
        page = client.get("/t/P01").text
        assert "coding as <b>carol</b>" in page and ("debt", "suggested") in chips(page)  # bob's decision is hidden
    with Project(project) as store:
        assert [(d.coder, d.decision) for d in store.decisions()] == [("bob", "reject")]


def test_web_unknown_host_is_refused(served):
    client, _, _ = served
    assert client.get("/", headers={"host": "evil.example"}).status_code == 400


def _fill(sheet: Path, out: Path, wanted: dict[tuple[str, str], tuple[str, str]]) -> Path:
    with sheet.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for (start, code), (decision, new_code) in wanted.items():
            if row["quote"].startswith(start) and row["suggested_code"] == code:
                row.update(decision=decision, code=new_code)
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return out


def test_web_decisions_change_the_next_run_as_a_sheets_do(tmp_path, tiny_corpus, tiny_codebook):
    def code(project):
        return themekit.code(tiny_corpus, tiny_codebook, methods="rule", cache_dir=None, project=project)

    app_project, sheet_project = tmp_path / "app.db", tmp_path / "sheet.db"
    first = code(app_project)
    first.save(tmp_path / "r1")
    with TestClient(create_app(app_project, first, coder="alex", token=TOKEN), base_url="http://127.0.0.1") as client:
        p01, p02 = chips(client.get("/t/P01").text), chips(client.get("/t/P02").text)
        post(client, "/api/decide", {"id": p01[("loneliness", "suggested")], "decision": "accept"})
        post(client, "/api/decide", {"id": p01[("debt", "suggested")], "decision": "reject"})
        post(client, "/api/decide", {"id": p02[("trust", "suggested")], "decision": "add", "code": "loneliness"})
        lonely = [k for k in p02 if k[0] == "loneliness"]
        post(client, "/api/decide", {"id": p02[lonely[0]], "decision": "change", "code": "trust"})
    with Project(sheet_project) as store:
        sheet_run = code(sheet_project)
        sheet_run.save(tmp_path / "r2")
        export_review(sheet_run, tmp_path / "review.csv", store)
        filled = _fill(
            tmp_path / "review.csv",
            tmp_path / "filled.csv",
            {
                ("Honestly the isolation", "loneliness"): ("accept", ""),
                ("The debts piled", "debt"): ("reject", ""),
                ("I trust her", "trust"): ("add", "loneliness"),
                (
                    next(
                        c.segment.text
                        for c in first.codings
                        if c.segment.transcript.id == "P02" and c.code_id == "loneliness"
                    )[:20],
                    "loneliness",
                ): ("change", "trust"),
            },
        )
        assert import_review(filled, store, coder="alex").recorded == 4
    columns = ["transcript", "start", "end", "code", "status", "method"]
    by_app, by_sheet = code(app_project).excerpts[columns], code(sheet_project).excerpts[columns]
    assert by_app.to_dict("records") == by_sheet.to_dict("records")
    assert set(by_app["status"]) == {"accepted", "rejected", "human", "suggested"}


def test_web_cli_serve_says_what_is_wrong(tmp_path, tiny_corpus, tiny_codebook):
    empty = runner.invoke(cli, ["review", "serve", "--project", str(tmp_path / "none.db")])
    assert empty.exit_code == 1 and "no run is recorded in this project yet" in empty.output
    project = tmp_path / "project.db"
    themekit.code(tiny_corpus, tiny_codebook, methods="rule", cache_dir=None, project=project).save(tmp_path / "r1")
    unknown = runner.invoke(cli, ["review", "serve", "r9", "--project", str(project)])
    assert (
        unknown.exit_code == 1
        and "r9: not a run folder, nor a run id or number of 'themekit history'" in unknown.output
    )
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        taken = runner.invoke(
            cli, ["review", "serve", str(tmp_path / "r1"), "--project", str(project), "--port", str(port)]
        )
    assert (
        taken.exit_code == 1
        and f"--port {port} on 127.0.0.1 is in use" in taken.output
        and "Traceback" not in taken.output
    )


def test_web_hostile_requests_get_a_message_not_a_server_error(served):
    client, project, run = served
    ids = chips(client.get("/t/P01").text)
    coding = ids[("debt", "suggested")]
    answer = post(client, "/api/decide", {"id": coding, "decision": "change", "code": {"x": 1}})
    assert answer.status_code == 400 and "must be text" in answer.json()["error"]
    nested = client.post(
        "/api/decide", content=b"[" * 50_000, headers={"X-Themekit-Token": TOKEN, "content-type": "application/json"}
    )
    assert nested.status_code == 400  # read as no object: refused with a message, never a 500
    huge = client.post("/api/decide", content=b" " * (1 << 20), headers={"X-Themekit-Token": TOKEN})
    assert huge.status_code == 413
    wrong = client.post("/api/decide", content=b" " * (1 << 20), headers={"X-Themekit-Token": "wrong"})
    assert wrong.status_code == 403  # the token is checked before the body is read
    text = next(t for t in run.corpus if t.id == "P02").text
    start = text.index("people were kind")
    flag = post(client, "/api/code", {"transcript": "P02", "start": True, "end": start + 5, "code": "trust"})
    assert flag.status_code == 400  # true is no character offset
    interviewer = next(t for t in next(t for t in run.corpus if t.id == "P02").turns if t.role == "interviewer")
    asked = post(
        client, "/api/code", {"transcript": "P02", "start": interviewer.start, "end": interviewer.end, "code": "trust"}
    )
    assert asked.status_code == 400 and "interviewer's speech" in asked.json()["error"]
    with Project(project) as store:
        assert store.decisions() == []


def test_web_queue_sets_the_machines_kappa_beside_the_coders_own(served, monkeypatch):
    from themekit.review.decide import coding_record, decide
    from themekit.store import Project

    client, project, run = served
    store = Project(project)
    for coding in run.codings:
        record = {**coding_record(coding, run.codebook), "item": None}
        decide(store, run.codebook, record, "accept", coder="alex")
        # bea agrees with alex on debt except once, and rejects every other code
        agrees = coding.code_id == "debt" and coding.segment.transcript.id != "P03"
        decide(store, run.codebook, record, "accept" if agrees else "reject", coder="bea")
    store.close()
    from themekit.analysis.agree import agree_project

    agreement = agree_project(project, run=run.id).per_code.set_index("code")["kappa"]
    machine = round(float(agreement["debt"]) - 0.05, 2)  # within 0.1 of the coders' own
    base = FakeLearner.status
    monkeypatch.setattr(FakeLearner, "status", lambda self: [{**base(self)[0], "cv_kappa": machine}])
    status = queue_when_built(client, limit=0)["status"]
    assert "coders&#39; kappa" in status or "coders' kappa" in status
    assert f"<td>{float(agreement['debt']):.2f}</td>" in status
    assert '<td class="take-over">yes</td>' in status
