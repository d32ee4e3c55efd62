"""``themekit review serve`` in a real browser: Debian's Chromium driven by Playwright against uvicorn on a free port.
Keyboard decisions (typed fast, while saves are slow), a coding made by selecting text and naming its code by label,
a stale tab, and a screenshot of the highlighted view (saved for the README)."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time

import pytest

import themekit
from themekit.store import Project
from themekit.web import create_app
from themekit.web._pages import coding_id
from themekit.web._palette import COLOURS
from themekit.web._serve import listen

from .conftest import HANG_GUARD, ROOT, write

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        shutil.which("chromium") is None, reason="Chromium is not installed (.ci/run installs it from Debian)"
    ),
]
#: Milliseconds Playwright waits for the page (its default, 30 s, is too short for a loaded machine).
BROWSER_WAIT_MS = 120_000
sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install -e '.[dev]')")

CODEBOOK = """\
schema_version: 1
name: Moving house
version: 0.1.0
themes:
  - id: hardship
    label: Hardship
    codes:
      - {id: loneliness, label: Loneliness, definition: Feeling alone., keywords: [isolation, isolated, lonely]}
      - {id: debt, label: Debt, definition: Debts and arrears., keywords: [debt, debts, bailiffs, owe]}
      - {id: housing, label: Housing conditions, definition: The home itself., keywords: [flat, damp, landlord]}
  - id: support
    label: Support
    codes:
      - {id: trust, label: Trust, definition: Trusting the keyworker., keywords: [trust, trusted]}
      - {id: family, label: Family, definition: Family members., keywords: [sister, mum, kids]}
"""


#: Seconds the live server waits before it reads each POST: a machine busy elsewhere, so saves are slower than keys.
SAVE_DELAY = {"seconds": 0.0}
#: Keys a second a fast reviewer types.
KEYS_PER_SECOND = 10
KEYS = "aararraaraaarra"


class SlowSaves:
    """The app behind a wait of ``SAVE_DELAY`` before every POST."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST" and SAVE_DELAY["seconds"]:
            await asyncio.sleep(SAVE_DELAY["seconds"])
        await self.app(scope, receive, send)


@pytest.fixture
def live(tmp_path, monkeypatch):
    """A coded project served by uvicorn in a thread; yields (base URL, project path, run)."""
    monkeypatch.chdir(tmp_path)  # the review queue's embedding cache goes under the working folder
    SAVE_DELAY["seconds"] = 0.0
    write(
        tmp_path / "t" / "P01.txt",
        """\
        [00:00:05] Interviewer: How have things been since you moved into the flat?

        [00:00:12] P01: Honestly the isolation in the damp flat was the worst part, and my sister was far away. I felt isolated and lonely every day.

        [00:01:40] Interviewer: And money?

        [00:01:44] P01: The debts piled up and I still owe 300 to the landlord. The bailiffs came twice, my kids saw it. I trust my keyworker, she trusted me back and my mum helped.
        """,
    )
    write(
        tmp_path / "t" / "P02.txt",
        """\
        Interviewer: What helped you most?

        P02: People at the group were kind to me. My sister rang every week.
        """,
    )
    said = [
        "The damp came back every winter.", "My sister drove me to the office.", "I trust the new keyworker.",
        "The bailiffs wrote again in May.", "I felt lonely in the new flat.", "My mum sent money when she could.",
        "The landlord never fixed the boiler.", "I still owe the council for the rent.", "My kids stayed with my sister.",
        "I trusted the advice I got there.", "The isolation got worse in the winter.", "The debt letters kept coming.",
        "The flat was too small for us.", "My mum came to stay for a week.", "I was isolated out in the village.",
        "The landlord asked for more rent.", "The debts were cleared last spring.", "I trust her with the forms.",
    ]  # fmt: skip
    write(tmp_path / "t" / "P03.txt", "Interviewer: Tell me about the year.\n\nP03: " + " ".join(said) + "\n")
    codebook = write(tmp_path / "codebook.yaml", CODEBOOK)
    project = tmp_path / "project.db"
    run = themekit.code(tmp_path / "t", codebook, methods="rule", cache_dir=None, project=project)
    run.save(tmp_path / "r1")
    import uvicorn

    sock = listen("127.0.0.1", 0)
    server = uvicorn.Server(uvicorn.Config(SlowSaves(create_app(project, run, coder="alex")), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + HANG_GUARD
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", project, run
    server.should_exit = True
    thread.join(10)


@pytest.fixture
def page():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page(viewport={"width": 1280, "height": 820})
        tab.set_default_timeout(BROWSER_WAIT_MS)
        yield tab
        browser.close()


def decisions(project):
    with Project(project) as store:
        return [(d.decision, d.code, d.new_code, d.quote) for d in store.decisions()]


def type_fast(page, keys):
    """``keys`` pressed at ``KEYS_PER_SECOND``, whatever the page is doing."""
    for key in keys:
        page.keyboard.press(key)
        page.wait_for_timeout(1000 / KEYS_PER_SECOND)


def all_saved(page, count):
    """Wait until the page says ``count`` decisions are saved and none waits."""
    page.wait_for_function(
        "n => { const s = document.getElementById('saves'); return s.dataset.waiting === '0' && +s.dataset.saved === n; }",
        arg=count,
    )


def shown(page, selector):
    """(coding id, code) of each card or chip the page shows, in order."""
    return page.eval_on_selector_all(selector, "els => els.map(el => [el.dataset.id, el.dataset.code])")


def select_words(page, words: str) -> None:
    """Select ``words`` in the transcript shown, as a person drags over them."""
    page.evaluate(
        """words => {
        const piece = [...document.querySelectorAll('span.t')].find(s => s.textContent.includes(words));
        const node = piece.firstChild, at = node.textContent.indexOf(words);
        const range = document.createRange();
        range.setStart(node, at); range.setEnd(node, at + words.length);
        getSelection().removeAllRanges(); getSelection().addRange(range);
    }""",
        words,
    )


def expected(run, targets, keys):
    """The decisions ``keys`` make on ``targets`` (coding ids) in order, as the store lists them."""
    quotes = {coding_id(c): c.segment.text for c in run.codings}
    verb = {"a": "accept", "r": "reject"}
    return [(verb[k], code, None, quotes[cid]) for (cid, code), k in zip(targets, keys, strict=True)]


def test_web_browser_keys_typed_fast_on_a_transcript_are_all_saved_in_order(live, page):
    url, project, run = live
    SAVE_DELAY["seconds"] = 0.3  # each save takes three keys' time
    page.goto(f"{url}/t/P03")
    page.wait_for_selector(".chip.focus")
    chips = shown(page, "main .chip.suggested")
    assert len(chips) >= len(KEYS)
    type_fast(page, KEYS)
    all_saved(page, len(KEYS))
    assert decisions(project) == expected(run, chips[: len(KEYS)], KEYS)
    assert page.locator("main .chip.accepted").count() == KEYS.count("a")
    assert page.locator("main .chip.rejected").count() == KEYS.count("r")
    assert "All 15 decision(s) saved" in page.inner_text("#saves")


def test_web_browser_keys_typed_fast_on_the_queue_are_all_saved_in_order(live, page, monkeypatch):
    url, project, run = live
    monkeypatch.setattr("themekit.web._app.QUEUE_PAGE", 8)  # more cards come while the keys are typed
    SAVE_DELAY["seconds"] = 0.3
    page.goto(f"{url}/queue")
    page.wait_for_selector("li.card.focus")  # the cards came once the learner was built
    first = shown(page, "ol.queue li.card[data-id]")
    assert len(first) == 8 < len(KEYS)
    type_fast(page, KEYS)
    all_saved(page, len(KEYS))
    cards = shown(page, "ol.queue li.card[data-id]")
    assert cards[:8] == first and len(cards) > len(KEYS)
    # each key decided the card shown when it was pressed: the cards in the order they are shown, each once
    assert decisions(project) == expected(run, cards[: len(KEYS)], KEYS)
    assert page.locator("li.card.decided").count() == len(KEYS)
    assert page.locator("li.card.focus").get_attribute("data-id") == cards[len(KEYS)][0]  # the next card is shown


def test_web_browser_a_failed_save_is_shown_and_tried_again(live, page):
    url, project, run = live
    page.goto(f"{url}/t/P03")
    page.wait_for_selector(".chip.focus")
    chips = shown(page, "main .chip.suggested")
    page.route("**/api/decide", lambda route: route.abort())  # the server cannot be reached
    type_fast(page, "ar")
    page.wait_for_selector("#saves.bad")
    assert "Not saved yet" in page.inner_text("#saves") and decisions(project) == []
    page.unroute("**/api/decide")  # it can again: the two decisions are saved, in order
    all_saved(page, 2)
    assert decisions(project) == expected(run, chips[:2], "ar")


def test_web_browser_a_stale_tab_is_told_and_shows_the_coding_as_it_stands(live, page):
    url, project, _ = live
    other = page.context.browser.new_page()  # a second window
    other.set_default_timeout(BROWSER_WAIT_MS)
    for tab in (page, other):
        tab.goto(f"{url}/t/P01")
        tab.wait_for_selector(".chip.focus")
    first = page.locator(".chip.focus").get_attribute("data-id")
    assert other.locator(".chip.focus").get_attribute("data-id") == first
    page.keyboard.press("a")
    all_saved(page, 1)
    other.keyboard.press("r")  # the second tab still shows the coding as suggested
    other.wait_for_selector("#toast.bad")
    assert "was decided since this page showed it: you accepted it" in other.inner_text("#toast")
    chip = other.locator(f'.chip[data-id="{first}"]')
    assert "accepted" in chip.get_attribute("class") and "stale" in chip.get_attribute("class")
    assert [d[0] for d in decisions(project)] == ["accept"]
    assert other.get_attribute("#saves", "data-failed") == "1"


def test_web_browser_keyboard_decisions_and_a_selection_land_in_the_store(live, page):
    url, project, _ = live
    page.goto(f"{url}/t/P01")
    first = page.locator(".chip.focus")
    first_code = first.get_attribute("data-code")
    page.keyboard.press("a")
    page.wait_for_selector(".chip.accepted")
    second_code = page.locator(".chip.focus").get_attribute("data-code")
    page.keyboard.press("r")
    page.wait_for_selector(".chip.rejected")
    assert [d[:2] for d in decisions(project)] == [("accept", first_code), ("reject", second_code)]

    page.goto(f"{url}/t/P02")
    select_words(page, "kind to me")
    page.keyboard.press("s")
    page.fill("#picker-input", "housing CONDITIONS")  # a code's label, in any case, as well as its id
    page.fill("#picker-note", "kindness counts")
    page.press("#picker-note", "Enter")
    page.wait_for_selector('.chip.human[data-code="housing"]')  # the transcript is drawn again in place
    added = decisions(project)[-1]
    assert added == ("add", "housing", None, "kind to me")

    page.keyboard.press("u")  # undo: alex's latest decision, the selection's coding, is withdrawn
    page.wait_for_selector('.chip.human[data-code="housing"]', state="detached")
    with Project(project) as store:
        assert [d.decision for d in store.decisions(withdrawn=True)][-1] == "withdraw"
    assert ("add", "housing", None, "kind to me") not in decisions(project)

    select_words(page, "kind to me")
    page.keyboard.press("s")
    page.fill("#picker-input", "Housng")  # neither a label nor an id: said, nothing recorded
    page.press("#picker-input", "Enter")
    page.wait_for_selector("#toast.bad")
    assert "'Housng' is not one; did you mean 'housing'" in page.inner_text("#toast")
    assert decisions(project)[-1][0] == "reject"


def test_web_browser_screenshot_shows_many_highlight_colours(live, page):
    url, _, run = live
    page.goto(f"{url}/t/P01")
    page.wait_for_selector("span.t.hl")
    docs = ROOT / "docs"
    docs.mkdir(exist_ok=True)
    shot = docs / "review-serve.png"
    page.screenshot(path=str(shot))
    from PIL import Image

    image = Image.open(shot).convert("RGB")
    counts = {rgb: n for n, rgb in image.getcolors(maxcolors=1 << 24)}
    codes = {c.code_id for c in run.codings if c.segment.transcript.id == "P01"}
    order = [c.id for c in run.codebook]
    shown = [code for code in codes if counts.get(COLOURS[order.index(code)], 0) >= 30]  # each code's underline colour
    assert len(codes) >= 4 and sorted(shown) == sorted(codes), (codes, shown)


def test_web_browser_killed_mid_request_leaves_the_server_serving_and_the_store_whole(live, page):
    import socket
    import urllib.request

    url, project, _ = live
    host, port = url.removeprefix("http://").split(":")
    # a browser killed while it sends a decision: the request stops half way and the connection drops
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(b"POST /api/decide HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 500\r\n\r\n{\"id\": \"")  # fmt: skip
    # and a browser killed with the page open
    page.goto(f"{url}/t/P01")
    page.context.browser.close()
    with urllib.request.urlopen(f"{url}/t/P01", timeout=120) as response:
        assert response.status == 200 and b"P01" in response.read()
    assert decisions(project) == []  # nothing half-made was recorded
