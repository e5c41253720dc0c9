"""Reading folders by name, in this process or in a bounded pool of worker processes.

A cold scan of a large store spends most of its time listing folders: ``os.scandir`` and
building one ``DirEntry`` per file cost about as much as ``find`` itself, all of it holding
the GIL. A pool of worker processes lists folders (and summarises their names) in batches
and sends back one compact tuple per folder: the names joined in one string, their count,
the folder's summary, its subfolders and its problems. The scan keeps the walk, the index
and every decision; a worker only reads. ``read_names`` is the one listing both use, so
the answer does not depend on who listed a folder.

The pool is bounded (``list_workers`` processes), started only for a long walk, and always
stopped before the scan returns. A worker that dies makes the pool fall back to listing in
this process; a wait longer than ``list_timeout_seconds`` gives the folders still out a
problem (the report then warns: never a pass) and kills the pool.
"""

from __future__ import annotations

import concurrent.futures as cf
import errno
import logging
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

_REASONS = {
    errno.ENOENT: "folder missing",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "symlink loop",
    errno.ENOTDIR: "not a directory",
}
BATCH = 64  # folders per task: about 4,000 files, a few milliseconds of work

# (name, lstat result | why it failed | None when not stat'ed)
Sub = tuple[str, "os.stat_result | str | None"]


def why(exc: OSError) -> str:
    """A short reason for an OSError, for the report."""
    return f"{_REASONS.get(exc.errno, 'unreadable')}: {exc.strerror or exc}"


def join(rel: str, name: str) -> str:
    """``rel/name``, or ``name`` at the root."""
    return f"{rel}/{name}" if rel else name


def read_names(
    rel: str, path: str, stat_subs: bool
) -> tuple[list[str], list[Sub], list[tuple[str, str]]] | str:
    """A folder's file names, subfolders and problems; the reason when it cannot be read.

    Files are told from folders by ``d_type``, without a ``stat`` per file; symlinks are
    never followed. Subfolders are ``lstat``-ed only with ``stat_subs``.
    """
    try:
        with os.scandir(path) as it:
            ents = list(it)
    except OSError as exc:
        return why(exc)
    try:
        # The common case at C speed. Where the file system gives no d_type, is_file()
        # stats and may fail: then the per-entry loop below says which entry failed.
        names = [e.name for e in ents if e.is_file(follow_symlinks=False)]
        if len(names) == len(ents):
            return names, [], []
    except OSError:
        names = []
    else:
        ents = [e for e in ents if not e.is_file(follow_symlinks=False)]
    subs: list[Sub] = []
    problems: list[tuple[str, str]] = []
    for e in ents:
        try:
            if e.is_file(follow_symlinks=False):
                names.append(e.name)
            elif e.is_dir(follow_symlinks=False):
                st: os.stat_result | str | None = None
                if stat_subs:
                    try:
                        st = e.stat(follow_symlinks=False)
                    except OSError as exc:
                        st = why(exc)
                subs.append((e.name, st))
            elif e.is_symlink():
                problems.append((join(rel, e.name), "symlink not followed"))
        except OSError as exc:
            problems.append((join(rel, e.name), why(exc)))
    return names, subs, problems


def names_text(names: list[str]) -> str:
    """Names as the index stores a folder listed by name only."""
    return "/" + "/".join(names) if names else "{}"


# --- the worker side ----------------------------------------------------------------------

_worker: dict[str, Any] = {}


def _init(summarise: Callable, layout: Any, config: Any, now: float) -> None:
    _worker.update(summarise=summarise, layout=layout, config=config, now=now, cache={})


def _list_batch(batch: list[tuple[str, str]]) -> list[tuple]:
    """Per folder ``(rel, reason)``, ``(rel, text, count, camera, runs)`` for the usual
    folder of one camera's good names, else ``(rel, text, count, summary, subs, problems)``.
    """
    w = _worker
    out: list[tuple] = []
    for rel, path in batch:
        got = read_names(rel, path, True)
        if isinstance(got, str):
            out.append((rel, got))
            continue
        names, subs, problems = got
        summary = w["summarise"](rel, names, w["layout"], w["config"], w["now"], w["cache"])
        one = plain(summary) if not subs and not problems else None
        if one is not None:  # the compact form: a tenth of the unpickling in the scan
            out.append((rel, names_text(names), len(names), one[0], one[1]["runs"]))
        else:
            out.append((rel, names_text(names), len(names), summary, subs, problems))
    return out


def plain(summary: dict) -> tuple[str, dict] | None:
    """``(camera, part)`` when a names-only summary is one camera's good, present names."""
    cams = summary["cams"]
    if len(cams) != 1 or summary["bad"]:
        return None
    ((camera, part),) = cams.items()
    if "future" in part or not part["runs"]:
        return None
    return camera, part


def names_part(runs: list, count: int) -> dict:
    """The part ``summarise_names`` makes for ``count`` good names forming ``runs``."""
    return {
        "runs": runs,
        "bytes": 0,
        "n": 0,
        "unsized": count,
        "hours": {},
        "rate": None,
        "bad": [],
    }


# --- the scan side ------------------------------------------------------------------------


def worker_count(wanted: int | None) -> int:
    """Workers to start: ``wanted``, or one per CPU (at most 4) when None; 0 on one CPU.

    Always 0 where fork is missing or other threads run: workers are forked (forkserver
    and spawn re-import the caller's main script, which breaks scripts without a
    ``__main__`` guard), and forking a threaded process may copy a lock another thread
    holds. A scan run inside a threaded service therefore lists in its own process.
    """
    if "fork" not in multiprocessing.get_all_start_methods() or threading.active_count() > 1:
        return 0
    if wanted is None:
        cpus = os.cpu_count() or 1
        return min(cpus, 4) if cpus > 1 else 0
    return wanted


class Pool:
    """A bounded pool listing batches of folders; results come back as batches finish."""

    def __init__(self, workers: int, timeout: float, initargs: tuple) -> None:
        """Start ``workers`` processes (forked: see ``worker_count``)."""
        ctx = multiprocessing.get_context("fork")
        self.timeout = timeout
        self.timed_out = False
        self.out: dict[cf.Future, list[tuple[str, str, os.stat_result]]] = {}
        # Finished futures, in order: cf.wait() walks every pending future on each call.
        self._done: queue.SimpleQueue[cf.Future] = queue.SimpleQueue()
        self._ex: cf.ProcessPoolExecutor | None = cf.ProcessPoolExecutor(
            workers, mp_context=ctx, initializer=_init, initargs=initargs
        )

    @property
    def alive(self) -> bool:
        """False once the pool failed or was stopped."""
        return self._ex is not None

    def submit(self, batch: list[tuple[str, str, os.stat_result]]) -> bool:
        """Send a batch of ``(rel, path, stat)``; False when the pool cannot take it."""
        if self._ex is None:
            return False
        try:
            fut = self._ex.submit(_list_batch, [(rel, path) for rel, path, _ in batch])
        except (RuntimeError, cf.BrokenExecutor) as exc:
            log.warning("folder listing pool failed, listing in this process: %s", exc)
            self.close(kill=True)
            return False
        self.out[fut] = batch
        fut.add_done_callback(self._done.put)
        return True

    def next(self) -> tuple[list[tuple], list[tuple[str, str, os.stat_result]], str | None]:
        """One finished batch: ``(results, batch, None)``; ``([], batch, reason)`` if lost.

        A lost batch (a worker died) is for the caller to list again; a timeout loses every
        batch still out, one per call, and stops the pool.
        """
        if self._ex is not None:
            try:
                fut = self._done.get(timeout=self.timeout)
            except queue.Empty:
                log.warning("folder listing timed out after %.0f s", self.timeout)
                self.close(kill=True)
                self.timed_out = True
            else:
                batch = self.out.pop(fut)
                try:
                    return fut.result(), batch, None
                except Exception as exc:  # a dead worker, an unpicklable answer
                    log.warning("folder listing pool failed, listing in this process: %s", exc)
                    self.close(kill=True)
                    return [], batch, "lost"
        _, batch = self.out.popitem()
        if self.timed_out:
            return [], batch, f"not listed: listing timed out after {self.timeout:.0f} s"
        return [], batch, "lost"

    def close(self, kill: bool = False) -> None:
        """Stop the workers: wait for them, or with ``kill`` terminate them now."""
        ex, self._ex = self._ex, None
        if ex is None:
            return
        procs = list((getattr(ex, "_processes", None) or {}).values())
        for fut in self.out:
            fut.cancel()
        if not kill:
            ex.shutdown(wait=True, cancel_futures=True)
            return
        ex.shutdown(wait=False, cancel_futures=True)
        for p in procs:
            p.terminate()
        for p in procs:
            p.join(5)  # a worker stuck in the kernel (a hung NFS mount) cannot be waited for
