"""Starting the review app: which run (a folder, a run id, a number in ``themekit history``, or the latest), where
to listen (127.0.0.1 unless told otherwise), and uvicorn serving it until Ctrl-C."""

from __future__ import annotations

import errno
import ipaddress
import secrets
import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path

from themekit.errors import OptionError, ProjectError
from themekit.store.db import Project, open_project

__all__ = ["is_loopback", "listen", "open_run", "serve"]


def _folder_of(store: Project, recorded: dict) -> Path:
    folder = recorded["folder"]
    if not folder or not (Path(folder) / "run.json").is_file():
        where = f"its folder {folder} is gone" if folder else "it was recorded without a run folder"
        raise ProjectError(
            f"{store.path}: run #{recorded['id']} ({recorded['run_id']}) cannot be shown: {where}. "
            "Give the run folder 'themekit code --out' wrote as RUN."
        )
    return Path(folder)


def open_run(store: Project, ref: str | None = None):  # -> themekit.runs.record.Run
    """The run ``ref`` names, read from its run folder: a run folder, a recorded run id, a number in
    ``themekit history``, or (``None``) the latest recorded run. The run must be recorded in ``store``."""
    from themekit.runs.folder import read_run

    runs = store.runs()
    if ref is not None and Path(ref).is_dir():
        run = read_run(ref)
        store.run_key(run)  # recorded in this project, or a message naming project=
        return run
    if ref is None:
        if not runs:
            raise ProjectError(
                f"{store.path}: no run is recorded in this project yet. Run 'themekit code' first, "
                "or give the project it was coded with as --project.",
                param="project",
            )
        return read_run(_folder_of(store, runs[-1]))
    by_id = [r for r in runs if r["run_id"] == ref]
    if not by_id and ref.isdigit():
        by_id = [r for r in runs if r["id"] == int(ref)]
    if not by_id:
        raise ProjectError(
            f"{ref}: not a run folder, nor a run id or number of 'themekit history' in {store.path}. "
            "Give the folder 'themekit code --out' wrote, or see 'themekit history'."
        )
    return read_run(_folder_of(store, by_id[-1]))


def is_loopback(host: str) -> bool:
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port``, or one message saying why it cannot be."""
    if not 0 <= port <= 65535:
        raise OptionError(f"port={port} is not a port number; give one from 1024 to 65535", param="port")
    address = host.strip("[]")
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise OptionError(
                f"port={port} on {host} is in use (another 'themekit review serve'?); "
                f"give another, e.g. port={port + 1}",
                param="port",
            ) from None
        if exc.errno in (errno.EACCES, errno.EPERM):
            raise OptionError(
                f"port={port} needs more rights than this user has; give one from 1024 to 65535", param="port"
            ) from None
        raise OptionError(
            f"cannot listen on host={host} ({exc.strerror}); give host=127.0.0.1 or an address of this machine",
            param="host",
        ) from None
    return sock


def serve(
    project: str | Path | None = None,
    run: str | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    coder: str | None = None,
    blind: bool = False,
    open_browser: bool = False,
    say: Callable[[str], None] = print,
    warn: Callable[[str], None] = print,
) -> None:
    """Serve the review app for ``run`` (default: the project's latest) until interrupted; ``say`` gets the URL."""
    import uvicorn

    from themekit.web._app import LOOPBACK_HOSTS, create_app

    with open_project(project) as store:
        loaded = open_run(store, run)
        path = store.path
    if blind and not (coder or "").strip():
        say("Blind: each coder sees only their own decisions (each browser gives its coder's name once).")
    sock = listen(host, port)
    allowed = list(LOOPBACK_HOSTS)
    if not is_loopback(host):
        warn(
            f"Listening on {host}, not only on this computer: anyone who can reach it can read the transcripts. "
            "Use this only on a network you trust."
        )
        allowed = ["*"] if host.strip("[]") in ("0.0.0.0", "::") else [*allowed, host]
    app = create_app(path, loaded, coder=coder, blind=blind, token=secrets.token_urlsafe(32), allowed_hosts=allowed)
    bound = sock.getsockname()[1]
    shown = f"[{host.strip('[]')}]" if ":" in host else host
    url = f"http://{shown}:{bound}/"
    say(
        f"Reviewing run {loaded.id} ({len(loaded.corpus)} transcripts, {len(loaded.codings)} codings) at {url}  (Ctrl-C stops)"
    )
    if open_browser:
        threading.Timer(0.5, webbrowser.open, [url]).start()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    server.run(sockets=[sock])
