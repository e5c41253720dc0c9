"""The persistent scan index: one SQLite row per folder, and the deletion events.

A row holds the folder's mtime, its subfolders, its files (name -> size, mtime, header
facts) and a summary of its segments per camera, so a rescan reads only folders that
changed. Any SQLite failure (read-only or full disk, corrupt file) disables the index for
the rest of the run instead of failing the scan; the report says so.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS dirs (
    path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL,
    subdirs TEXT NOT NULL, entries TEXT NOT NULL, summary TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS deletions (
    id INTEGER PRIMARY KEY, camera TEXT NOT NULL, start REAL NOT NULL, end REAL NOT NULL,
    noticed REAL NOT NULL, path TEXT NOT NULL);
"""


@dataclass(slots=True)
class DirRow:
    """A folder as the index last saw it (entries are loaded only when needed)."""

    mtime_ns: int
    subdirs: list[str]
    summary: str


@dataclass(frozen=True, slots=True)
class DeletionEvent:
    """Segments of a camera that disappeared while younger than the required days."""

    camera: str
    start: float
    end: float
    noticed: float
    path: str


class Index:
    """SQLite index in ``state_dir`` (one file per store and layout); memory-only without."""

    def __init__(self, state_dir: Path | None, store: Path, layout: str) -> None:
        """Open or create the index; on failure, run without one and say why."""
        self.persistent = False
        self.status = "none (no state folder given: every scan is a full scan)"
        self._db: sqlite3.Connection | None = None
        if state_dir is None:
            return
        key = hashlib.sha1(f"{store.resolve()}|{layout}".encode()).hexdigest()[:12]
        self.path = Path(state_dir) / f"retention-{key}.sqlite3"
        try:
            Path(state_dir).mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None)
            self._db.executescript(SCHEMA)
            self._db.execute("BEGIN")
            self.persistent = True
            self.status = f"persistent ({self.path})"
        except (sqlite3.Error, OSError) as exc:
            self._disable(exc)

    def _disable(self, exc: BaseException) -> None:
        log.warning("retention index disabled: %s", exc)
        self.status = f"disabled: {exc}"
        self.persistent = False
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
        self._db = None

    def _run(self, sql: str, args: Any = (), many: bool = False) -> list[tuple]:
        if self._db is None:
            return []
        try:
            cur = self._db.executemany(sql, args) if many else self._db.execute(sql, args)
            return cur.fetchall()
        except sqlite3.Error as exc:
            self._disable(exc)
            return []

    def dirs(self) -> dict[str, DirRow]:
        """Every indexed folder, without its file entries."""
        rows = self._run("SELECT path, mtime_ns, subdirs, summary FROM dirs")
        return {p: DirRow(m, json.loads(s), summ) for p, m, s, summ in rows}

    def entries(self, rel: str) -> dict[str, list]:
        """The files the index holds for one folder."""
        rows = self._run("SELECT entries FROM dirs WHERE path = ?", (rel,))
        return json.loads(rows[0][0]) if rows else {}

    def put(self, rel: str, mtime_ns: int, subdirs: list[str], entries: dict, summary: str):
        """Store a freshly listed folder."""
        self._run(
            "INSERT OR REPLACE INTO dirs VALUES (?, ?, ?, ?, ?)",
            (
                rel,
                mtime_ns,
                json.dumps(subdirs),
                json.dumps(entries, separators=(",", ":")),
                summary,
            ),
        )

    def drop(self, rel: str) -> None:
        """Forget a folder that no longer exists."""
        self._run("DELETE FROM dirs WHERE path = ?", (rel,))

    def add_deletions(self, events: list[DeletionEvent]) -> None:
        """Record deletion events."""
        if events:
            self._run(
                "INSERT INTO deletions (camera, start, end, noticed, path) VALUES (?,?,?,?,?)",
                [(e.camera, e.start, e.end, e.noticed, e.path) for e in events],
                many=True,
            )

    def deletions(self) -> list[DeletionEvent]:
        """Every deletion event recorded so far, oldest first."""
        rows = self._run(
            "SELECT camera, start, end, noticed, path FROM deletions ORDER BY noticed, start"
        )
        return [DeletionEvent(*r) for r in rows]

    def close(self) -> None:
        """Commit the run and close the file."""
        if self._db is None:
            return
        try:
            self._db.execute("COMMIT")
            self._db.close()
        except sqlite3.Error as exc:
            self._disable(exc)
        self._db = None
