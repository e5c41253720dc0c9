"""Listing a store with GNU ``find`` in a second process while the scan summarises it.

A cold scan spends most of its time listing folders, and ``os.scandir`` does that with the
GIL held. ``find`` lists at C speed on another core: a record per folder (depth, mtime,
path) and per symlink, each starting with ``/`` (which no file name holds), and the name
of every file, NUL separated. The scan reads the stream as it comes and summarises each
folder while ``find`` goes on. No Python process is started, so it is safe inside a
threaded service.

``find`` descends into a subfolder as soon as it meets it, so the names printed after a
subfolder's records may belong to a parent. The stream is trusted only for leaves whose
ancestors, up to the next record, hold no files: every folder with subfolders comes back
with ``names`` None for the caller to list itself (it then tells the stream which of them
hold files: ``mixed``), and so does a leaf that may have absorbed a mixed ancestor's
names. Empty leaves wait until ``find`` has finished, so that a folder it could not read
is never taken for an empty one. Anything on ``find``'s standard error that is not such a
folder, or a failed exit, raises ``FindFailed``: the caller then lists the store itself.
A silence longer than the timeout stops ``find`` and raises ``FindFailed`` with
``timed_out`` set. ``find`` never follows symlinks here and reports a folder reached twice
(a bind mount loop) on its standard error, so that case too is left to the caller.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import re
import select
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

_EXPR = [
    "(", "-type", "f", "-printf", "%f\\0", ")", "-o",
    "(", "-type", "d", "-printf", "/D%d/%T@/%P\\0", ")", "-o",
    "(", "-type", "l", "-printf", "/L%d/%P\\0", ")",
]  # fmt: skip
_ERROR = re.compile(r"^find: '(.*)': [^']*$")
_CHUNK = 1 << 20


class FindFailed(Exception):
    """``find`` could not list the store; ``timed_out`` when it fell silent."""

    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.timed_out = timed_out


class FoundStat:
    """The part of a folder's ``lstat`` the scan uses, as ``find`` printed it."""

    __slots__ = ("st_mtime_ns",)

    def __init__(self, mtime_ns: int) -> None:
        self.st_mtime_ns = mtime_ns


@dataclass(slots=True)
class Found:
    """One folder: its files' ``names`` joined by ``/``, or None when the caller must list
    it itself."""

    rel: str
    st: FoundStat
    names: str | None
    links: list[str] = field(default_factory=list)  # symlinks in it (never followed)


def _mtime_ns(text: str) -> int:
    """``%T@`` (seconds with ten decimals) as integer nanoseconds."""
    sec, _, frac = text.partition(".")
    ns = int(frac.ljust(9, "0")[:9]) if frac else 0
    return int(sec) * 1_000_000_000 + (-ns if sec.startswith("-") else ns)


class Stream:
    """Turns ``find``'s output, fed in chunks of any size, into ``Found`` folders.

    ``mixed`` is the caller's: before asking for more it adds every folder it was given
    to list itself (``names`` None) that holds files.
    """

    def __init__(self, mixed: set[str]) -> None:
        """An empty stream; ``mixed`` is read whenever a folder is decided."""
        self.mixed = mixed
        self.empties: list[Found] = []  # empty leaves, decided once find has finished
        self.started = False
        self._ancestors: list[str] = []  # rel of the folder being listed at each depth
        self._pending: _Pending | None = None
        self._buf = b""
        self._enc = (sys.getfilesystemencoding(), sys.getfilesystemencodeerrors())

    def feed(self, data: bytes) -> Iterator[Found]:
        """The folders decided by this chunk; an empty chunk ends the stream."""
        if not data:
            block, self._buf = self._buf.removesuffix(b"\0"), b""
            if block and not self.started:
                block = self._start(block)
            yield from self._records(block)
            if self._pending is not None:
                f = self._close(0)
                self._pending = None
                if f is not None:
                    yield f
            return
        buf = self._buf + data
        if not self.started:
            if len(buf) < 3:
                self._buf = buf
                return
            buf = self._start(buf)
        cut = buf.rfind(b"\0/")
        if cut < 0:
            self._buf = buf
            return
        self._buf = buf[cut + 2 :]
        yield from self._records(buf[:cut])

    def _start(self, buf: bytes) -> bytes:
        if not buf.startswith(b"/D0"):
            raise FindFailed("find printed an unexpected listing")
        self.started = True
        return buf[1:]

    def _records(self, block: bytes) -> Iterator[Found]:
        """Records (their leading ``/`` cut off), each followed by the names after it."""
        if not block:
            return
        close, ancestors = self._close, self._ancestors
        for rec in block.decode(*self._enc).split("\0/"):
            head, _, body = rec.partition("\0")
            kind = head[:1]
            if kind == "D":
                depth_s, mtime, rel = head[1:].split("/", 2)
                depth = int(depth_s)
                if self._pending is not None:
                    f = close(depth)
                    if f is not None:
                        yield f
                del ancestors[depth:]
                ancestors.append(rel)
                # Ten decimals: the digits are tenths of nanoseconds.
                ns = int(mtime.replace(".", "")) // 10 if mtime[-11:-10] == "." else None
                st = FoundStat(_mtime_ns(mtime) if ns is None else ns)
                self._pending = _Pending(depth, Found(rel, st, None), body)
            elif kind == "L":
                depth_s, rel = head[1:].split("/", 1)
                depth = int(depth_s)
                p = self._pending
                if p is not None and depth == p.depth + 1:  # in the pending folder
                    p.found.links.append(rel)
                    if body:
                        p.body = f"{p.body}\0{body}" if p.body else body
                elif p is not None:  # in a parent, which the caller lists itself
                    f = close(depth)
                    if f is not None:
                        yield f
                    del ancestors[depth:]
                    self._pending = None  # names up to the next folder are the parent's
            else:
                raise FindFailed("find printed an unexpected listing")

    def _close(self, next_depth: int) -> Found | None:
        """Decide the pending folder once the next record shows whether find went into it;
        None while an empty one waits for the end."""
        p = self._pending
        assert p is not None
        f = p.found
        if next_depth == p.depth + 1:
            f.links = []  # a parent: the caller lists it (and its symlinks) itself
            return f
        # Names printed since this folder's record may be a mixed ancestor's later files.
        mixed = self.mixed
        if mixed and any(a in mixed for a in self._ancestors[max(next_depth - 1, 0) : p.depth]):
            f.links = []
            return f
        f.names = p.body.replace("\0", "/")
        if f.names:
            return f
        self.empties.append(f)
        return None


class _Pending:
    __slots__ = ("body", "depth", "found")

    def __init__(self, depth: int, found: Found, body: str) -> None:
        self.depth, self.found, self.body = depth, found, body


def folders(root: str, command: str, timeout: float, mixed: set[str]) -> Iterator[Found]:
    """Every folder under ``root`` (itself included) in ``find``'s order; see the module."""
    env = {**os.environ, "LC_ALL": "C"}
    try:
        proc = subprocess.Popen(
            [command, "-H", root, *_EXPR],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
        )
    except OSError as exc:
        raise FindFailed(f"{command}: {exc.strerror or exc}") from None
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.extend(proc.stderr), daemon=True)  # type: ignore[arg-type]
    reader.start()
    stream = Stream(mixed)
    try:
        fd = proc.stdout.fileno()  # type: ignore[union-attr]
        with contextlib.suppress(AttributeError, OSError):  # fewer, larger reads
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _CHUNK)
        while True:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                raise FindFailed(f"listing timed out after {timeout:.0f} s", timed_out=True)
            data = os.read(fd, _CHUNK)
            yield from stream.feed(data)
            if not data:
                break
        proc.wait()
        reader.join()
        unread = _unreadable(root, errors, {f.rel for f in stream.empties})
        if proc.returncode != 0 and not unread:
            raise FindFailed(f"{command} failed with exit status {proc.returncode}")
        if not stream.started:
            raise FindFailed(f"{command} listed nothing")
        for f in stream.empties:
            if f.rel in unread:
                f.names, f.links = None, []
            yield f
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        reader.join(5)  # the error pipe ends with the process; close it after its reader
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


def _unreadable(root: str, errors: list[bytes], empties: set[str]) -> set[str]:
    """The empty-looking folders ``find`` could not read; FindFailed on any other message."""
    prefix = root.rstrip("/") + "/"
    out: set[str] = set()
    for raw in errors:
        line = raw.decode(errors="replace").rstrip("\n")
        m = _ERROR.match(line)
        path = m.group(1) if m else None
        rel = None
        if path == root:
            rel = ""
        elif path is not None and path.startswith(prefix):
            rel = path[len(prefix) :]
        if rel is None or rel not in empties:
            raise FindFailed(line or "find wrote an empty error line")
        out.add(rel)
    return out
