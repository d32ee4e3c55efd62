"""Where per-transcript work runs: in this process, in a local process pool, or on a Dask cluster.

An :class:`Engine` maps a picklable function over batches and yields the
results in input order, whatever order the work finished in, so a run gives
the same result on one core, on many, or on a cluster. ``themekit code``
sends batches of transcript files; each batch is read, segmented and
rule-coded where it runs, and only the transcripts, segments and codings
come back (never the spaCy Docs), so memory holds one batch's intermediate
structures per worker at a time.
"""

from __future__ import annotations

import logging
import os
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol, TypeVar

from themekit.config.options import ENGINES
from themekit.errors import EngineError, OptionError
from themekit.util.choices import check_choice

__all__ = ["ENGINES", "Engine", "SerialEngine", "ProcessEngine", "DaskEngine", "make_engine", "default_workers"]

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """The default number of workers: the number of cores."""
    return os.cpu_count() or 1


class Engine(Protocol):
    """Maps ``func`` over ``batches``, yielding results in input order."""

    name: str
    workers: int

    def map(self, func: Callable[[T], R], batches: Iterable[T]) -> Iterator[R]: ...

    def close(self) -> None: ...


class SerialEngine:
    """Everything in this process, one batch after another."""

    name = "serial"
    workers = 1

    def map(self, func: Callable[[T], R], batches: Iterable[T]) -> Iterator[R]:
        for batch in batches:
            yield func(batch)

    def close(self) -> None:
        pass


class ProcessEngine:
    """``workers`` processes: this one and ``workers - 1`` local ones it starts (by spawning, never forking a process
    that may hold torch threads).

    A started worker first runs ``func.prepare()`` when ``func`` has one (a
    :class:`~themekit.pipeline.batch.BatchJob` imports spaCy and builds its pipeline
    there), then takes batches; this process runs a batch itself whenever the
    oldest batch sent to a worker is not back yet, so nothing waits for workers
    to start and a small corpus is not slower with workers than without.
    Results come in input order, whoever ran them. At most ``2 × workers``
    batches are sent to workers at a time. ``block_imports`` names modules the
    work never needs: in the started workers, importing them fails at once (so
    spaCy's thinc starts without torch, which otherwise costs each worker
    seconds).
    """

    name = "local"

    def __init__(self, workers: int | None = None, *, block_imports: Iterable[str] = ()) -> None:
        self.workers = max(1, workers or default_workers())
        self.block_imports = tuple(block_imports)

    def map(self, func: Callable[[T], R], batches: Iterable[T]) -> Iterator[R]:
        if self.workers == 1:
            yield from SerialEngine().map(func, batches)
            return
        import multiprocessing
        from concurrent.futures import Future, ProcessPoolExecutor
        from concurrent.futures.process import BrokenProcessPool

        context = multiprocessing.get_context("spawn")
        started = self.workers - 1
        pool = ProcessPoolExecutor(
            max_workers=started, mp_context=context, initializer=_block_imports, initargs=(self.block_imports,)
        )
        prepare = getattr(func, "prepare", None)
        warming = [pool.submit(prepare if callable(prepare) else _ready) for _ in range(started)]
        pending = iter(batches)
        window: deque = deque()  # per batch in input order: its Future when sent to a worker, (result,) when run here
        ready = sent = False  # a worker is ready; a batch was sent to one
        try:
            while True:
                ready = ready or any(f.done() for f in warming)
                while ready and sum(isinstance(e, Future) for e in window) < 2 * started:
                    batch = next(pending, _END)
                    if batch is _END:
                        break
                    window.append(pool.submit(func, batch))
                    sent = True
                head = window[0] if window else None
                if head is not None and (not isinstance(head, Future) or head.done()):
                    window.popleft()
                    yield head.result() if isinstance(head, Future) else head[0]
                    continue
                batch = next(pending, _END)
                if batch is not _END:
                    window.append((func(batch),))  # the oldest batch is not back yet: run the next one here
                    continue
                if head is None:
                    break
                window.popleft()
                yield head.result()  # nothing left to run here: wait for the worker
        except BrokenProcessPool as exc:
            raise EngineError(
                "a worker process died (out of memory?). Run again with fewer workers=, or with workers=1.",
                param="workers",
            ) from exc
        finally:
            # every result is in (or the run failed): let the workers exit without waiting for them
            processes = list((getattr(pool, "_processes", None) or {}).values())
            pool.shutdown(wait=False, cancel_futures=True)
            if not sent:  # no worker got a batch: stop them starting up beside what this process does next
                for process in processes:
                    process.terminate()

    def close(self) -> None:
        pass


_END = object()


def _ready() -> None:
    """A worker's first task when the function it runs has no ``prepare``."""


def _block_imports(names: tuple[str, ...]) -> None:
    """Worker initializer: ``import name`` raises ImportError for each of ``names`` not imported yet."""
    for name in names:
        sys.modules.setdefault(name, None)  # type: ignore[arg-type]


class DaskEngine:
    """Batches run as tasks on a Dask distributed cluster.

    With ``scheduler`` (``tcp://host:port``) the engine connects to a running
    cluster; without one it starts a LocalCluster of ``workers`` processes with
    one thread each, and closes it again in :meth:`close`. An existing
    ``client`` may be given instead. Every task may be retried ``retries``
    times, so a worker lost mid-run only costs its batches being run again.
    """

    name = "dask"

    def __init__(
        self,
        scheduler: str | None = None,
        *,
        workers: int | None = None,
        client: Any = None,
        retries: int = 3,
        timeout: float = 5.0,
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError:  # pragma: no cover - distributed is a dependency
            raise EngineError(
                "engine='dask' needs the 'distributed' package: pip install distributed", param="engine"
            ) from None
        self.retries = retries
        self._cluster = None
        self._own_client = client is None
        if client is not None:
            self.client = client
        elif scheduler:
            try:
                self.client = Client(scheduler, timeout=timeout)
            except (OSError, TimeoutError, ValueError) as exc:
                raise EngineError(
                    f"no Dask scheduler answered at {scheduler} within {timeout:g} s ({exc.__class__.__name__}). "
                    "Start one with 'dask scheduler' (and workers with 'dask worker ADDRESS'), check the address "
                    "given to scheduler=, or leave scheduler= out to start a local cluster.",
                    param="scheduler",
                ) from exc
        else:
            self._cluster = LocalCluster(
                n_workers=max(1, workers or default_workers()),
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.client = Client(self._cluster)
        self.workers = max(1, len(self.client.scheduler_info().get("workers", {})) or (workers or 1))

    def map(self, func: Callable[[T], R], batches: Iterable[T]) -> Iterator[R]:
        window: deque = deque()
        limit = 4 * self.workers
        try:
            for batch in batches:
                window.append(self.client.submit(func, batch, pure=False, retries=self.retries))
                if len(window) >= limit:
                    yield _dask_result(window.popleft())
            while window:
                yield _dask_result(window.popleft())
        finally:
            for future in window:
                future.cancel()

    def close(self) -> None:
        if self._own_client:
            self.client.close()
        if self._cluster is not None:
            self._cluster.close()


def _dask_result(future: Any) -> Any:
    try:
        return future.result()
    finally:
        future.release()


def make_engine(
    engine: str | Engine = "local",
    *,
    workers: int | None = None,
    scheduler: str | None = None,
    block_imports: Iterable[str] = (),
) -> Engine:
    """The engine for ``--engine``/``--workers``/``--scheduler``: ``local`` with one worker runs in this process.

    ``block_imports``: modules a local pool's workers refuse to import (see :class:`ProcessEngine`).
    """
    if not isinstance(engine, str):
        return engine
    check_choice(engine, ENGINES, what="engine", param="engine")
    if workers is not None and workers < 1:
        raise OptionError(f"workers= must be 1 or more, not {workers}", param="workers")
    if engine == "dask":
        return DaskEngine(scheduler, workers=workers)
    if scheduler:
        raise OptionError(
            "scheduler= is for engine='dask'; add engine='dask' or leave scheduler= out", param=("scheduler", "engine")
        )
    workers = workers or default_workers()
    return SerialEngine() if workers == 1 else ProcessEngine(workers, block_imports=block_imports)
