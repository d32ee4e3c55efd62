"""The review web app: server-rendered pages over one run and the project store, and three JSON actions
(decide, code a selection, undo), each recorded at once in one transaction.

Every request runs on the server's event loop thread, which owns the one connection to the project store.
State-changing requests carry the per-session token (header ``X-Themekit-Token`` or form field ``token``) or get
403; pages send a Content-Security-Policy that runs no script but the app's own file; no route takes a path.
"""

from __future__ import annotations

import contextlib
import functools
import json
import secrets
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

from themekit.errors import ThemekitError
from themekit.review.decide import (
    Recorded,
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

if TYPE_CHECKING:
    from themekit.models import Coding
    from themekit.runs.record import RunRecord

__all__ = ["COOKIE", "TOKEN_HEADER", "create_app"]

COOKIE = "themekit_coder"
TOKEN_HEADER = "x-themekit-token"
#: Decisions a coder can undo, most recent first, per coder (since the app started).
UNDO_DEPTH = 200
#: Cards the queue page shows at once.
QUEUE_PAGE = 40
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]", "::1"]
_FILES = Path(__file__).parent


class _State:
    """What the app keeps between requests: the store's connection, the codings as they stand, undo stacks,
    one learning queue per coder."""

    def __init__(self, project_path: str | Path, run: RunRecord, *, coder: str | None, blind: bool, token: str) -> None:
        self.project_path, self.run, self.coder, self.blind, self.token = Path(project_path), run, coder, blind, token
        self._project: Project | None = None
        self._codings: dict[Any, list[Coding]] = {}
        self.undo: dict[str, list[Recorded]] = {}
        self.learners: dict[str, Any] = {}
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

    def learner(self, coder: str) -> Any:
        if coder not in self.learners:
            from themekit.review.queue import QueueLearner

            self.learners[coder] = QueueLearner(Project(self.project_path), self.run, coder=coder, blind=self.blind)
        return self.learners[coder]

    def close(self) -> None:
        for learner in self.learners.values():
            learner.close()
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
        quote=quote,
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
    codings = [c for c in state.codings(_coder(request)) if c.segment.transcript.id == t.id]
    return _render(request, "transcript.html", transcript=t, turns=transcript_turns(state.run, t, codings, hit=hit))


async def search_page(request: Request) -> Response:
    state: _State = request.app.state.review
    if (redirect := _needs_coder(request)) is not None:
        return redirect
    query = request.query_params.get("q", "")[:200]
    hits, more = search(state.run, query)
    return _render(request, "search.html", query=query, hits=hits, more=more)


async def queue_page(request: Request) -> Response:
    state: _State = request.app.state.review
    if (redirect := _needs_coder(request)) is not None:
        return redirect
    coder = _coder(request)
    learner = state.learner(coder)  # type: ignore[arg-type]
    rows = review_rows(replace(state.run, codings=state.codings(coder)))
    ordered = learner.order(rows)
    return _render(
        request,
        "queue.html",
        rows=ordered[:QUEUE_PAGE],
        total=len(ordered),
        status=learner.status(),
        training=learner.training,
    )


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


def _recorded(request: Request, done: Recorded) -> JSONResponse:
    state: _State = request.app.state.review
    stack = state.undo.setdefault(done.coder, [])
    stack.append(done)
    del stack[:-UNDO_DEPTH]
    if done.coder in state.learners:
        state.learners[done.coder].note_decision()
    codings = state.codings(done.coder)
    now = {coding_id(c): c.status for c in codings if c.segment.transcript.id == done.record["transcript"]}
    return JSONResponse({"ok": True, "decision": done.record["decision"], "statuses": now, "undo": len(stack)})


@_posted
async def decide_action(request: Request, state: _State, body: dict[str, Any]) -> Response:
    """Accept, reject, change or add on one coding: ``{"id", "decision", "code", "note"}``."""
    coder = _coder(request)
    if not isinstance(body.get("code") or "", str) or not isinstance(body.get("id"), str):
        return JSONResponse({"error": "id and code must be text."}, 400)
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
        )  # type: ignore[arg-type]
    except ThemekitError as exc:
        return JSONResponse({"error": str(exc)}, 400)
    return _recorded(request, done)


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
    return JSONResponse({"ok": True, "decision": row["decision"], "transcript": row["transcript"], "undo": len(stack)})


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
    app.state.review = state
    app.state.templates = env
    return app
