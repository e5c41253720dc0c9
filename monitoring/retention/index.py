"""The persistent scan index: folders, their per-camera parts, per-camera rollups, deletions.

``dirs`` holds one row per folder: its mtime and flags (a rescan reads only this table);
``files`` its files (name -> size, mtime, header facts; or only the names when sizes were
not read). ``parts`` holds each folder's summary
per camera. ``rollups`` holds, per camera, one rollup per UTC day (every settled part of
that day folded into one), all of a camera's days in one row, so a rescan decodes one row
per camera instead of one summary per folder, and a change in a settled folder rebuilds
only its camera's day. The covering indexes on ``dirs`` serve the rescan's query of the
folders due this turn without reading the whole table. The deletion log
lives in a second file beside it (attached as ``log``), synced, because it is a record and
not a cache. Any SQLite failure (read-only or full disk, corrupt file) disables the index
for the rest of the run instead of failing the scan; the report says so. A corrupt folder
index is removed, so the next scan rebuilds it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import marshal
import sqlite3
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

VERSION = 6
SCHEMA = """
CREATE TABLE IF NOT EXISTS dirs (
    path TEXT PRIMARY KEY, mtime_ns INTEGER NOT NULL, flags INTEGER NOT NULL,
    camera TEXT, day INTEGER, slot INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS files (path TEXT PRIMARY KEY, entries TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS ix_dirs_camera_day ON dirs (camera, day);
CREATE INDEX IF NOT EXISTS ix_dirs_slot ON dirs (slot, path, mtime_ns, flags);
CREATE INDEX IF NOT EXISTS ix_dirs_mtime ON dirs (mtime_ns, path, flags);
CREATE INDEX IF NOT EXISTS ix_dirs_unrolled ON dirs (path, mtime_ns, flags) WHERE flags & 1 = 0;
CREATE TABLE IF NOT EXISTS parts (
    path TEXT NOT NULL, camera TEXT NOT NULL, day INTEGER NOT NULL, part TEXT NOT NULL,
    PRIMARY KEY (path, camera)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ix_parts_camera_day ON parts (camera, day);
CREATE TABLE IF NOT EXISTS rollups (camera TEXT PRIMARY KEY, days BLOB NOT NULL) WITHOUT ROWID;
"""
# The deletion log, in its own file: it is an audit record, not a cache. A deletion seen
# again after a crash lost the index's update is the same event, recorded once.
LOG_SCHEMA = """
CREATE TABLE IF NOT EXISTS log.deletions (
    id INTEGER PRIMARY KEY, camera TEXT NOT NULL, start REAL NOT NULL, end REAL NOT NULL,
    noticed REAL NOT NULL, path TEXT NOT NULL, UNIQUE (camera, path, start));
"""
_OLD_TABLES = ("dirs", "files", "parts", "rollups", "meta")
SLOTS = 1024  # dirs.slot = crc32(path) % SLOTS; a rescan checks slot % N == turn % N

# Folder flags.
ROLLED = 1  # the folder's parts are folded into the rollups
FUTURE = 2  # it holds segments in the future: always listed again
UNSIZED = 4  # files listed by name only (sizes not read yet)
NAMES_ONLY = 8  # no parts stored: one camera's part, rebuilt from the names when needed
PARENT = 16  # holds subfolders: when it vanishes, its subtree goes with it


@dataclass(frozen=True, slots=True)
class DeletionEvent:
    """Segments of a camera that disappeared while younger than the required days."""

    camera: str
    start: float
    end: float
    noticed: float
    path: str


def encode_entries(entries: dict[str, list]) -> str:
    """Entries as stored: names only (``/a/b``) when no file was sized, else JSON."""
    if all(e[0] is None for e in entries.values()):
        return "".join("/" + n for n in entries)
    return json.dumps(entries, separators=(",", ":"))


def decode_entries(text: str) -> dict[str, list]:
    """The inverse of ``encode_entries``."""
    if not text:
        return {}
    if text[0] == "/":
        return {n: [None, None, None, None, None] for n in text[1:].split("/")}
    return json.loads(text)


class Index:
    """SQLite index in ``state_dir`` (one file per store and layout); memory-only without."""

    def __init__(self, state_dir: Path | None, store: Path, layout: str) -> None:
        """Open or create the index; on failure, run without one and say why."""
        self.persistent = False
        self.has_dirs = True  # until dirs() says the index is empty
        self.status = "none (no state folder given: every scan is a full scan)"
        self._db: sqlite3.Connection | None = None
        if state_dir is None:
            return
        key = hashlib.sha1(f"{store.resolve()}|{layout}".encode()).hexdigest()[:12]
        self.path = Path(state_dir) / f"retention-{key}.sqlite3"
        self.log_path = Path(state_dir) / f"retention-{key}-deletions.sqlite3"
        try:
            Path(state_dir).mkdir(parents=True, exist_ok=True)
            try:
                self._open()
            except sqlite3.DatabaseError as exc:
                if type(exc) is not sqlite3.DatabaseError:  # locked, read-only, full disk
                    raise
                self._drop_cache(exc)  # not a database, or malformed: rebuild it
                self._open()
            self.persistent = True
            self.status = f"persistent ({self.path})"
        except (sqlite3.Error, OSError) as exc:
            self._disable(exc)

    def _open(self) -> None:
        db = self._db = sqlite3.connect(self.path, isolation_level=None)
        # The folder tables are a cache of the store: synchronous=OFF spares the two fsyncs
        # of every scan's commit and checkpoint (a quarter of a rescan). A crash can lose
        # or corrupt only them, which costs one cold scan: a corrupt file is removed and
        # rebuilt. The deletion log is synced (FULL) and written only when there are events.
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("ATTACH DATABASE ? AS log", (str(self.log_path),))
        db.execute("PRAGMA log.synchronous=FULL")
        db.executescript(LOG_SCHEMA)
        if db.execute("PRAGMA user_version").fetchone()[0] != VERSION:
            # An index of an older format is only a cache: rebuild it. Deletions recorded
            # by an older version in this file move to the log.
            if db.execute(
                "SELECT 1 FROM main.sqlite_master WHERE type = 'table' AND name = 'deletions'"
            ).fetchone():
                db.execute(
                    "INSERT OR IGNORE INTO log.deletions (camera, start, end, noticed, path) "
                    "SELECT camera, start, end, noticed, path FROM main.deletions ORDER BY id"
                )
                db.execute("DROP TABLE main.deletions")
            for table in _OLD_TABLES:
                db.execute(f"DROP TABLE IF EXISTS main.{table}")
            db.execute(f"PRAGMA user_version={VERSION}")
        db.executescript(SCHEMA)
        db.execute("BEGIN")

    def _drop_cache(self, exc: BaseException) -> None:
        """Remove a corrupt folder index (never the deletion log): the next scan is cold."""
        log.warning("retention index %s is unusable (%s): rebuilding it", self.path, exc)
        if self._db is not None:
            with contextlib.suppress(sqlite3.Error):
                self._db.close()
            self._db = None
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(f"{self.path}{suffix}").unlink()

    def _disable(self, exc: BaseException) -> None:
        log.warning("retention index disabled: %s", exc)
        if type(exc) is sqlite3.DatabaseError and self._db is not None:
            self._drop_cache(exc)  # found corrupt while in use: rebuilt by the next scan
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

    def dirs(self, slots: int = 1, recent_ns: int = 0) -> dict[str, tuple[int, int]]:
        """Indexed folders to check now: path -> (mtime_ns, flags).

        With ``slots`` > 1 only the root, folders not rolled up yet, folders modified since
        ``recent_ns`` and this turn's share of the rest (one in ``slots``, in turn). Old
        parents take their turn like any old folder: a recorder adds folders under recent
        ones, and a folder restored into an old one is found within ``slots`` rescans.
        """
        if slots <= 1:
            rows = self._run("SELECT path, mtime_ns, flags FROM dirs")
        else:
            turn = self.next_turn() % slots
            due = [s for s in range(SLOTS) if s % slots == turn]
            # One indexed query each (an OR of them reads the whole table).
            rows = self._run("SELECT path, mtime_ns, flags FROM dirs WHERE path = ''")
            rows += self._run(
                "SELECT path, mtime_ns, flags FROM dirs WHERE flags & 1 = 0"  # ROLLED
            )
            rows += self._run(
                "SELECT path, mtime_ns, flags FROM dirs WHERE mtime_ns >= ?", (recent_ns,)
            )
            marks = ",".join("?" * len(due))
            sql = f"SELECT path, mtime_ns, flags FROM dirs WHERE slot IN ({marks})"
            rows += self._run(sql, due)
        out = {p: (m, f) for p, m, f in rows}
        self.has_dirs = bool(out) or bool(self._run("SELECT 1 FROM dirs LIMIT 1"))
        return out

    def next_turn(self) -> int:
        """A counter of rescans, kept in the index."""
        rows = self._run("SELECT value FROM meta WHERE key = 'turn'")
        turn = rows[0][0] + 1 if rows else 0
        self._run("INSERT OR REPLACE INTO meta VALUES ('turn', ?)", (turn,))
        return turn

    def existing(self, paths: list[str]) -> set[str]:
        """Which of ``paths`` are indexed."""
        out: set[str] = set()
        for i in range(0, len(paths), 500):
            chunk = paths[i : i + 500]
            marks = ",".join("?" * len(chunk))
            out.update(
                p for (p,) in self._run(f"SELECT path FROM dirs WHERE path IN ({marks})", chunk)
            )
        return out

    def under(self, rel: str) -> dict[str, tuple[int, int]]:
        """Every indexed folder below ``rel``."""
        rows = self._run(
            "SELECT path, mtime_ns, flags FROM dirs WHERE path >= ? AND path < ?",
            (rel + "/", rel + "0"),  # "0" sorts right after "/"
        )
        return {p: (m, f) for p, m, f in rows}

    def unsized(self, limit: int) -> dict[str, tuple[int, int]]:
        """Up to ``limit`` folders listed by name only, newest path first."""
        rows = self._run(
            "SELECT path, mtime_ns, flags FROM dirs WHERE flags & ? != 0 "
            "ORDER BY path DESC LIMIT ?",
            (UNSIZED, limit),
        )
        return {p: (m, f) for p, m, f in rows}

    def entries(self, rel: str) -> dict[str, list]:
        """The files the index holds for one folder."""
        return decode_entries(self.entries_text(rel))

    def entries_text(self, rel: str) -> str:
        """The stored entries of one folder, undecoded."""
        rows = self._run("SELECT entries FROM files WHERE path = ?", (rel,))
        return rows[0][0] if rows else ""

    def rolled_names(self, camera: str, day: int) -> list[tuple[str, str]]:
        """(path, entries text) of a camera's day folders rolled up with names only."""
        return self._run(
            "SELECT d.path, f.entries FROM dirs d JOIN files f ON f.path = d.path "
            "WHERE d.camera = ? AND d.day = ? AND d.flags & ? = ?",
            (camera, day, ROLLED | NAMES_ONLY, ROLLED | NAMES_ONLY),
        )

    def parts(self, rel: str) -> dict[str, dict]:
        """One folder's summary per camera."""
        rows = self._run("SELECT camera, part FROM parts WHERE path = ?", (rel,))
        return {c: json.loads(p) for c, p in rows}

    def put_many(self, rows: list[tuple], day: Callable[[dict], int]) -> None:
        """Store listed folders: (path, mtime_ns, flags, entries text, parts, camera, day)."""
        if not rows or self._db is None:
            return
        if self.has_dirs:
            self._run("DELETE FROM parts WHERE path = ?", [(r[0],) for r in rows], many=True)
        self._run(
            "INSERT OR REPLACE INTO dirs VALUES (?, ?, ?, ?, ?, ?)",
            [(*r[:3], *r[5:7], zlib.crc32(r[0].encode()) % SLOTS) for r in rows],
            many=True,
        )
        self._run(
            "INSERT OR REPLACE INTO files VALUES (?, ?)", [(r[0], r[3]) for r in rows], many=True
        )
        self._run(
            "INSERT INTO parts VALUES (?, ?, ?, ?)",
            [
                (r[0], cam, day(part), json.dumps(part, separators=(",", ":")))
                for r in rows
                if not r[2] & NAMES_ONLY
                for cam, part in r[4].items()
            ],
            many=True,
        )

    def set_mtimes(self, paths: list[str], mtime_ns: int) -> None:
        """Store another mtime for the given folders (one that makes a rescan list them)."""
        self._run(
            "UPDATE dirs SET mtime_ns = ? WHERE path = ?",
            [(mtime_ns, p) for p in paths],
            many=True,
        )

    def forget_all(self) -> None:
        """Drop every folder written in this run (a cold scan starting again)."""
        for table in ("dirs", "files", "parts"):
            self._run(f"DELETE FROM {table}")

    def set_flags(self, paths: list[str], flags: int) -> None:
        """Add ``flags`` to the given folders."""
        self._run(
            "UPDATE dirs SET flags = flags | ? WHERE path = ?",
            [(flags, p) for p in paths],
            many=True,
        )

    def drop_many(self, paths: list[str]) -> None:
        """Forget folders that no longer exist."""
        args = [(p,) for p in paths]
        self._run("DELETE FROM dirs WHERE path = ?", args, many=True)
        self._run("DELETE FROM files WHERE path = ?", args, many=True)
        self._run("DELETE FROM parts WHERE path = ?", args, many=True)

    def rolled_parts(self, camera: str, day: int) -> list[tuple[str, dict]]:
        """Every part of a camera's day already folded into its rollup (for a rebuild)."""
        rows = self._run(
            "SELECT p.path, p.part FROM parts p JOIN dirs d ON d.path = p.path "
            "WHERE p.camera = ? AND p.day = ? AND d.flags & ? != 0",
            (camera, day, ROLLED),
        )
        return [(path, json.loads(part)) for path, part in rows]

    def rollups(self) -> dict[tuple[str, int], dict]:
        """Every camera's rollups, keyed by (camera, UTC day number)."""
        rows = self._run("SELECT camera, days FROM rollups")
        out: dict[tuple[str, int], dict] = {}
        try:
            # marshal, not JSON: a rescan reads every camera's every day (a quarter as long).
            for camera, blob in rows:
                for day, roll in marshal.loads(blob).items():
                    out[(camera, day)] = roll
        except (ValueError, EOFError, TypeError, AttributeError) as exc:  # a damaged row
            self._disable(sqlite3.DatabaseError(f"unreadable rollup: {exc}"))
            return {}
        return out

    def put_rollups(self, rollups: dict[tuple[str, int], dict], cameras: set[str]) -> None:
        """Store the rollups of ``cameras`` (all their days); a camera without any is dropped."""
        if not cameras:
            return
        by_camera: dict[str, dict[int, dict]] = {c: {} for c in cameras}
        for (camera, day), roll in rollups.items():
            if camera in by_camera:
                by_camera[camera][day] = roll
        self._run(
            "INSERT OR REPLACE INTO rollups VALUES (?, ?)",
            [(c, marshal.dumps(days)) for c, days in by_camera.items() if days],
            many=True,
        )
        self._run(
            "DELETE FROM rollups WHERE camera = ?",
            [(c,) for c, days in by_camera.items() if not days],
            many=True,
        )

    def add_deletions(self, events: list[DeletionEvent]) -> None:
        """Record deletion events."""
        if events:
            self._run(
                "INSERT OR IGNORE INTO log.deletions (camera, start, end, noticed, path) "
                "VALUES (?,?,?,?,?)",
                [(e.camera, e.start, e.end, e.noticed, e.path) for e in events],
                many=True,
            )

    def deletions(self) -> list[DeletionEvent]:
        """Every deletion event recorded so far, oldest first."""
        rows = self._run(
            "SELECT camera, start, end, noticed, path FROM log.deletions ORDER BY noticed, start"
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
