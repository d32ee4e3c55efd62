"""The review web app: server-rendered pages over one run and the project store, three JSON actions (decide, code
a selection, undo), each recorded at once in one transaction, and the review queue's cards as JSON.

Every request runs on the server's event loop thread, which owns the one connection to the project store. The
review queue's learner is built in a thread of its own (its classifier takes seconds to load), so the queue page
answers at once and its cards follow. State-changing requests and the JSON API carry the per-session token (header
``X-Themekit-Token`` or form field ``token``) or get 403; pages send a Content-Security-Policy that runs no script
but the app's own file; no route takes a path.

A decision carries ``seen``, the id of the coding's latest decision record when the page drew it: when someone
recorded something on that coding since (another tab, another coder), nothing is recorded and the answer is 409
with a message and the coding as it stands now.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import secrets
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from themekit.errors import StaleDecisionError, ThemekitError
from themekit.review.decide import (
    Recorded,
    coding_key,
    coding_record,
    current_codings,
    decide,
    register_items,
    span_record,
    undo,
)
from themekit.review.sheets import review_rows
from themekit.store.db import Project
from themekit.web._pages import (
    codebook_panel,
    coding_id,
    search,
    transcript_list,
    transcript_turns,
)
from themekit.web._pages import coding_key as key_of_coding

if TYPE_CHECKING:
    from themekit.models import Coding
    from themekit.runs.record import RunRecord

__all__ = ["COOKIE", "TOKEN_HEADER", "create_app"]

COOKIE = "themekit_coder"
TOKEN_HEADER = "x-themekit-token"
#: Decisions a coder can undo, most recent first, per coder (since the app started).
UNDO_DEPTH = 200
#: Cards the queue page shows at once, and the most one request for more cards may ask.
QUEUE_PAGE = 40
MAX_CARDS = 2000
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]
_FILES = Path(__file__).parent
log = logging.getLogger(__name__)


class _LearnerBuild:
    """One coder's review-queue learner, built in a thread of its own: what it is doing meanwhile, in words, and its
    error when it could not be built."""

    def __init__(self, project_path: Path, run: RunRecord, *, coder: str, blind: bool) -> None:
        self.learner: Any = None
        self.error: str | None = None
        self.step = "starting"
        self.started = time.monotonic()
        self.seconds: float | None = None
        self._args = (project_path, run, coder, blind)
        self.thread = threading.Thread(target=self._build, name="themekit-queue-build", daemon=True)
        self.thread.start()

    def _build(self) -> None:
        project_path, run, coder, blind = self._args
        try:
            self.step = "loading the review queue's classifier"
            from themekit.review.queue import QueueLearner

            self.step = "reading the decisions so far"
            with Project(project_path) as project:
                self.learner = QueueLearner(project, run, coder=coder, blind=blind)
        except ThemekitError as exc:
            self.error = str(exc)
        except Exception as exc:  # a bug or a broken install: said on the page, logged in full
            log.exception("building the review queue failed")
            self.error = f"The review queue could not be built: {exc}"
        self.seconds = round(time.monotonic() - self.started, 2)

    def close(self) -> None:
        self.thread.join()
        if self.learner is not None:
            self.learner.close()


class _State:
    """What the app keeps between requests: the store's connection, the codings as they stand, undo stacks,
    one learning queue per coder."""

    def __init__(self, project_path: str | Path, run: RunRecord, *, coder: str | None, blind: bool, token: str) -> None:
        self.project_path, self.run, self.coder, self.blind, self.token = Path(project_path), run, coder, blind, token
        self._project: Project | None = None
        self._codings: dict[Any, list[Coding]] = {}
        self.undo: dict[str, list[Recorded]] = {}
        self.templates: Any = None
        self.builds: dict[str, _LearnerBuild] = {}
        self.transcripts = {t.id: t for t in run.corpus}
        #: transcript id → the participant's name, as the pages show it
        self.names = {t.id: t.participant for t in run.corpus}

    @property
    def project(self) -> Project:
        if self._project is None:
            self._project = Project(self.project_path)
            register_items(self._project, self.run)
        return self._project

    def codings(self, coder: str | None) -> list[Coding]:
        """The run's codings with the decisions in force now (only ``coder``'s when blind); cached until anyone
        records a decision."""
        key = (self.project.decisions_mark(), coder if self.blind else None)
        if key not in self._codings:
            if len(self._codings) > 8:
                self._codings.clear()
            self._codings[key] = current_codings(self.run, self.project, coder=coder, blind=self.blind)
        return self._codings[key]

    def build(self, coder: str, *, again: bool = False) -> _LearnerBuild:
        """``coder``'s learner, being built or built; ``again``: one that failed is built again."""
        build = self.builds.get(coder)
        if build is None or (again and build.error is not None and not build.thread.is_alive()):
            build = self.builds[coder] = _LearnerBuild(self.project_path, self.run, coder=coder, blind=self.blind)
        return build

    def learner(self, coder: str) -> Any:
        """``coder``'s learner when it is built, else None."""
        build = self.builds.get(coder)
        return build.learner if build is not None else None

    def versions(self, coder: str | None, transcript: str | None = None) -> dict[tuple, int]:
        """Coding → the id of its latest decision record (only ``coder``'s when blind)."""
        latest = self.project.latest_records(transcript=transcript, coder=coder if self.blind else None)
        return {key: d.id for key, d in latest.items()}

    def close(self) -> None:
        for build in self.builds.values():
            build.close()
        if self._project is not None:
            self._project.close()


def _coder(request: Request) -> str | None:
    state: _State = request.app.state.review
    if state.coder:
        return state.coder
    name = unquote(request.cookies.get(COOKIE, "")).strip()
    return name if _good_name(name) else None


def _good_name(name: str) -> bool:
    return 0 < len(name) <= 60 and name.isprintable()


def _render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    state: _State = request.app.state.review
    page = request.app.state.templates.get_template(template).render(
        request=request,
        token=state.token,
        coder=_coder(request),
        fixed_coder=bool(state.coder),
        blind=state.blind,
        run=state.run,
        codebook=codebook_panel(state.run.codebook),
        names=state.names,
        **context,
    )
    return HTMLResponse(page, status_code=status_code)


def _needs_coder(request: Request) -> Response | None:
    if _coder(request) is None:
        return RedirectResponse(
            f"/coder?next={quote(request.url.path + ('?' + request.url.query if request.url.query else ''))}", 303
        )
    return None


async def index(request: Request) -> Response:
    state: _State = request.app.state.review
    if (redirect := _needs_coder(request)) is not None:
        return redirect
    rows = transcript_list(state.run, state.codings(_coder(request)))
    return _render(request, "index.html", transcripts=rows)


async def transcript(request: Request) -> Response:
    state: _State = request.app.state.review
    if (redirect := _needs_coder(request)) is not None:
        return redirect
    t = state.transcripts.get(request.path_params["tid"])
    if t is None:
        return _render(request, "missing.html", 404, what=f"No transcript {request.path_params['tid']!r} in this run.")
    hit = None
    start, _, end = request.query_params.get("hl", "").partition("-")
    if start.isdigit() and end.isdigit() and int(start) < int(end) <= len(t.text):
        hit = (int(start), int(end))
    coder = _coder(request)
    codings = [c for c in state.codings(coder) if c.segment.transcript.id == t.id]
    turns = transcript_turns(state.run, t, codings, hit=hit, versions=state.versions(coder, t.id))
    return _render(request, "transcript.html", transcript=t, turns=turns)


async def search_page(request: Request) -> Response:
    state: _State = request.app.state.review
    if (redirect := _needs_coder(request)) is not None:
        return redirect
    query = request.query_params.get("q", "")[:200]
    hits, more = search(state.run, query)
    return _render(request, "search.html", query=query, hits=hits, more=more)


def _queue(state: _State, coder: str, build: _LearnerBuild, limit: int) -> dict[str, Any]:
    """The queue as the page shows it: its first ``limit`` cards (HTML), the summary line and the learner's status
    table, or, while the learner is built, what is being done."""
    learner = build.learner
    if learner is None:
        waited = round(time.monotonic() - build.started, 1)
        return {"ready": False, "error": build.error, "progress": f"Building the review queue: {build.step} ({waited} s)",
                "seconds": waited}  # fmt: skip
    rows = review_rows(replace(state.run, codings=state.codings(coder)))
    ordered = learner.order(rows) if limit else rows
    versions = state.versions(coder) if limit else {}
    cards = [
        {
            **r,
            "seen": versions.get(coding_key(r["_item"]), 0),
            "name": state.names.get(r["transcript"], r["transcript"]),
        }
        for r in ordered[:limit]
    ]
    macros = state.templates.get_template("_queue.html").module
    training = getattr(learner, "progress", "") or ("retraining" if learner.training else "")
    return {
        "ready": True,
        "total": len(rows),
        "training": training,
        "error": getattr(learner, "error", None),
        "seconds": build.seconds,
        "summary": str(macros.summary(len(rows), training, getattr(learner, "error", None))),
        "status": str(macros.status_table(_beside_coders(state, learner.status()))),
        "cards": str(macros.cards(cards)),
    }


def _beside_coders(state: _State, status: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The learner's status per code with, when two or more coders decided this run's quotes, their own kappa
    (``coders_kappa``) and whether the machine's is within ``TAKE_OVER_MARGIN`` of it (``take_over``)."""
    from themekit.analysis.agree import agree_project
    from themekit.analysis.evaluate import TAKE_OVER_MARGIN

    try:
        agreement = agree_project(state.project, run=state.run.id)
    except ThemekitError:  # fewer than two coders: nothing to set beside
        return status
    kappas = agreement.per_code.set_index("code")["kappa"].to_dict()
    rows = []
    for row in status:
        coders = kappas.get(row["code"])
        coders = None if coders is None or coders != coders else float(coders)  # NaN: not measurable
        machine = row["cv_kappa"]
        close = coders is not None and machine is not None and machine >= coders - TAKE_OVER_MARGIN
        rows.append({**row, "coders_kappa": coders, "take_over": close})
    return rows


async def queue_page(request: Request) -> Response:
    """The queue page answers at once: its cards are drawn in it when the learner is built, else they follow
    (``/api/queue``) while the page shows what is being built."""
    state: _State = request.app.state.review
    if (redirect := _needs_coder(request)) is not None:
        return redirect
    coder = _coder(request)
    build = state.build(coder, again=True)  # type: ignore[arg-type]
    queue = _queue(state, coder, build, QUEUE_PAGE)  # type: ignore[arg-type]
    return _render(request, "queue.html", queue=queue, page_size=QUEUE_PAGE)


async def queue_api(request: Request) -> Response:
    """``GET /api/queue?limit=N``: the queue's first N cards (default 40; 0: only the summary and status), or what
    is being built: ``{"ready": false, "progress": ...}``."""
    state: _State = request.app.state.review
    given = request.headers.get(TOKEN_HEADER, "")
    if not secrets.compare_digest(given, state.token):
        return JSONResponse(
            {"error": "This request does not carry this themekit session's token. Reload the page."}, 403
        )
    coder = _coder(request)
    if coder is None:
        return JSONResponse({"error": "Give your name first (reload the page)."}, 400)
    raw = request.query_params.get("limit", str(QUEUE_PAGE))
    if not raw.isdigit() or int(raw) > MAX_CARDS:
        return JSONResponse({"error": f"limit={raw[:20]!r}: give a number of cards from 0 to {MAX_CARDS}."}, 400)
    return JSONResponse(_queue(state, coder, state.build(coder), int(raw)))


async def coder_page(request: Request) -> Response:
    state: _State = request.app.state.review
    target = _safe_next(request.query_params.get("next", "/"))
    if request.method == "POST":
        form = await request.form()
        if not secrets.compare_digest(str(form.get("token", "")), state.token):
            return Response("Forbidden: this form is not from this themekit session. Reload the page.", 403)
        name = " ".join(str(form.get("name", "")).split())
        if not _good_name(name):
            return _render(request, "coder.html", 400, next=target, problem="Give a name of 1 to 60 characters.")
        response = RedirectResponse(_safe_next(str(form.get("next", "/"))), 303)
        response.set_cookie(COOKIE, quote(name), max_age=365 * 24 * 3600, httponly=True, samesite="strict")
        return response
    return _render(request, "coder.html", next=target, problem="")


def _safe_next(target: str) -> str:
    """A page of this app to go to after the name form: a local path, never another site."""
    return target if target.startswith("/") and not target.startswith("//") and "\\" not in target else "/"


def _forbidden(request: Request, body: dict[str, Any]) -> JSONResponse | None:
    state: _State = request.app.state.review
    given = request.headers.get(TOKEN_HEADER) or str(body.get("token", ""))
    if not secrets.compare_digest(given, state.token):
        return JSONResponse(
            {"error": "This request does not carry this themekit session's token. Reload the page."}, 403
        )
    if _coder(request) is None:
        return JSONResponse({"error": "Give your name first (reload the page)."}, 400)
    return None


#: The largest request body the app reads: a decision is a few hundred bytes.
MAX_BODY_BYTES = 64 * 1024


class _TooLarge(Exception):
    pass


async def _body(request: Request) -> dict[str, Any]:
    """The request's JSON object (``{}`` for anything else); a body over ``MAX_BODY_BYTES`` is not read."""
    if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
        raise _TooLarge
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY_BYTES:
            raise _TooLarge
    try:
        body = json.loads(data or b"{}")
    except (ValueError, RecursionError):
        return {}
    return body if isinstance(body, dict) else {}


def _posted(
    action: Callable[[Request, _State, dict[str, Any]], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """A state-changing request: its JSON body read, refused (403) without the session's token or (400) a coder."""

    @functools.wraps(action)
    async def checked(request: Request) -> Response:
        state: _State = request.app.state.review
        header = request.headers.get(TOKEN_HEADER)
        if header is not None and not secrets.compare_digest(header, state.token):
            return JSONResponse({"error": "This request does not carry this themekit session's token."}, 403)
        try:
            body = await _body(request)
        except _TooLarge:
            return JSONResponse({"error": f"A request of more than {MAX_BODY_BYTES} bytes is not read."}, 413)
        if (refused := _forbidden(request, body)) is not None:
            return refused
        return await action(request, request.app.state.review, body)

    return checked


def _coding_now(state: _State, coder: str, item_id: str) -> dict[str, Any]:
    """A coding as it stands now: its status (``gone`` when the run no longer has it) and its latest record's id."""
    coding = next((c for c in state.codings(coder) if coding_id(c) == item_id), None)
    if coding is None:
        return {"id": item_id, "status": "gone", "seen": 0}
    key = key_of_coding(coding)
    return {"id": item_id, "status": coding.status, "seen": state.versions(coder, key[0]).get(key, 0)}


def _statuses(state: _State, coder: str, transcript: str) -> dict[str, str]:
    return {coding_id(c): c.status for c in state.codings(coder) if c.segment.transcript.id == transcript}


def _recorded(request: Request, done: Recorded, coding: Coding | None = None) -> JSONResponse:
    """The answer to a decision recorded: what it was, the transcript's codings as they stand now, and (for a
    decision on a coding) that coding's status and latest record's id."""
    state: _State = request.app.state.review
    stack = state.undo.setdefault(done.coder, [])
    if not done.repeat:
        stack.append(done)
        del stack[:-UNDO_DEPTH]
        if (learner := state.learner(done.coder)) is not None:
            learner.note_decision()
    now = _statuses(state, done.coder, done.record["transcript"])
    answer = {"ok": True, "decision": done.record["decision"], "statuses": now, "undo": len(stack),
              "repeat": done.repeat}  # fmt: skip
    if coding is not None:
        answer.update(_coding_now(state, done.coder, coding_id(coding)))
    return JSONResponse(answer)


@_posted
async def decide_action(request: Request, state: _State, body: dict[str, Any]) -> Response:
    """Accept, reject, change or add on one coding: ``{"id", "decision", "code", "note", "seen"}``; ``code`` is a
    code's id or label; ``seen`` (optional) the id of the coding's latest record when the page drew it."""
    coder: str = _coder(request)  # type: ignore[assignment]
    if not isinstance(body.get("code") or "", str) or not isinstance(body.get("id"), str):
        return JSONResponse({"error": "id and code must be text."}, 400)
    seen = body.get("seen")
    if seen is not None and (type(seen) is not int or seen < 0):  # noqa: E721 (true is no record id)
        return JSONResponse(
            {"error": "seen must be the id of the coding's latest record (0: none). Reload the page."}, 400
        )
    coding = next((c for c in state.codings(coder) if coding_id(c) == body.get("id")), None)
    if coding is None:
        return JSONResponse({"error": "That coding is not in this run as it stands now. Reload the page."}, 404)
    try:
        done = decide(
            state.project,
            state.run.codebook,
            coding_record(coding, state.run.codebook),
            str(body.get("decision", "")),
            coder=coder,
            new_code=body.get("code") or None,
            note=str(body.get("note", ""))[:2000],
            seen=seen,
            blind=state.blind,
        )
    except StaleDecisionError as exc:
        answer = {"error": str(exc), "stale": True, "statuses": _statuses(state, coder, coding.segment.transcript.id)}
        answer.update(_coding_now(state, coder, coding_id(coding)))
        return JSONResponse(answer, 409)
    except ThemekitError as exc:
        return JSONResponse({"error": str(exc)}, 400)
    return _recorded(request, done, coding)


@_posted
async def code_action(request: Request, state: _State, body: dict[str, Any]) -> Response:
    """A human coding of selected text: ``{"transcript", "start", "end", "code", "note"}``."""
    t = state.transcripts.get(str(body.get("transcript", "")))
    start, end, code = body.get("start"), body.get("end"), str(body.get("code", ""))
    if t is None or type(start) is not int or type(end) is not int:  # noqa: E721 (true is no offset)
        return JSONResponse({"error": "Select text in a transcript of this run, then choose a code."}, 400)
    try:
        record = span_record(t, start, end, code, participant_only=not state.run.settings.get("code_interviewer"))
        done = decide(
            state.project,
            state.run.codebook,
            record,
            "add",
            coder=_coder(request),
            new_code=code,  # type: ignore[arg-type]
            note=str(body.get("note", ""))[:2000],
        )
    except ThemekitError as exc:
        return JSONResponse({"error": str(exc)}, 400)
    return _recorded(request, done)


@_posted
async def undo_action(request: Request, state: _State, body: dict[str, Any]) -> Response:
    """Undo the coder's latest decision made in this app: records the state before it again."""
    stack = state.undo.get(_coder(request), [])  # type: ignore[arg-type]
    if not stack:
        return JSONResponse({"error": "Nothing to undo: no decision of yours since the app started."}, 400)
    row = undo(state.project, stack.pop())
    coder: str = _coder(request)  # type: ignore[assignment]
    answer = {"ok": True, "decision": row["decision"], "transcript": row["transcript"], "code": row["code"],
              "undo": len(stack), "statuses": _statuses(state, coder, row["transcript"])}  # fmt: skip
    if row.get("item"):  # a decision on a suggested coding: the page shows that coding as it is again
        answer.update(_coding_now(state, coder, row["item"]))
    return JSONResponse(answer)


def _asset(name: str, media_type: str) -> Route:
    body = (_FILES / "static" / name).read_bytes()

    async def serve(request: Request) -> Response:
        return Response(body, media_type=media_type, headers={"cache-control": "no-cache"})

    return Route(f"/static/{name}", serve, name=name)


class _Headers:
    """Security headers on every response: CSP, no sniffing, no referrer, no framing."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def send_with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                    (b"x-frame-options", b"DENY"),
                ]
            await send(message)

        await self.app(scope, receive, send_with_headers)


def create_app(
    project_path: str | Path,
    run: RunRecord,
    *,
    coder: str | None = None,
    blind: bool = False,
    token: str | None = None,
    allowed_hosts: list[str] | None = None,
) -> Starlette:
    """The review app for ``run`` (recorded in the project store at ``project_path``).

    ``coder``: everyone's name is this one (else each browser gives a name once, kept in a cookie); ``blind``: a
    coder sees only their own decisions; ``token``: the per-session token every state-changing request must carry
    (default: a new random one); ``allowed_hosts``: the Host names the app answers (default: loopback names).
    """
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_FILES / "templates"), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.globals["quote"] = quote
    state = _State(
        project_path, run, coder=(coder or "").strip() or None, blind=blind, token=token or secrets.token_urlsafe(32)
    )
    routes = [
        Route("/", index),
        Route("/t/{tid:path}", transcript),
        Route("/search", search_page),
        Route("/queue", queue_page),
        Route("/coder", coder_page, methods=["GET", "POST"]),
        Route("/api/decide", decide_action, methods=["POST"]),
        Route("/api/code", code_action, methods=["POST"]),
        Route("/api/undo", undo_action, methods=["POST"]),
        Route("/api/queue", queue_api),
        _asset("app.js", "text/javascript"),
        _asset("app.css", "text/css"),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette):  # type: ignore[no-untyped-def]
        yield
        state.close()

    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or LOOPBACK_HOSTS),
            Middleware(_Headers),
        ],
        lifespan=lifespan,
    )
    state.templates = env
    app.state.review = state
    app.state.templates = env
    return app
