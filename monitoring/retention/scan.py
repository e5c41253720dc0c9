"""Walk a recording store with ``os.scandir``, summarise each folder, keep per-camera rollups.

Cold scan: a top-down walk. When names are trusted (no mp4 header read), folders last
modified more than ``size_check_days`` ago are listed by name only: ``d_type`` tells files
from folders without a ``stat`` per file, and a layout with ``folder_starts`` (Frigate)
turns a folder's names into start times with one table lookup per name. Those folders
prove coverage; their sizes (zero-length files, bitrate, mtime against the name) are read
later by the verify pass, newest first, within ``verify_folders_per_scan`` folders and
``verify_files_per_scan`` files per scan. Recent folders, and every folder when headers
are read, get one ``stat`` per file. With ``find_command`` set, the cold scan reads the
store from GNU ``find`` running in a second process (``findlist``) and lists here only the
folders ``find``'s stream cannot settle (parents, recent folders, unreadable ones); when
``find`` fails it lists everything here. The answer is the same either way.

Rescan: the indexed folders due this turn are ``lstat``-ed straight from their paths (no
walk): the root, folders modified within ``size_check_days``, folders not rolled up yet,
and one in ``recheck_slots`` of the old, settled rest, parents included, in turn. A folder
is listed again only when its mtime differs from the indexed one, or when it was modified
within ``settle_seconds`` of now, or when it holds segments in the future. Adding,
deleting or renaming a file changes the mtime of the folder holding it, so deletions are
noticed (in an old folder within ``recheck_slots`` rescans), and new folders are found when
their parent is listed again. What the rule does not notice is a file rewritten in place
inside a settled folder; NVRs (Frigate included: past hour folders are immutable) do not
do that.

Settled folders are folded into one rollup per camera, so a rescan reads one rollup per
camera plus the few folders that changed; a change inside a folder already folded in
rebuilds that camera's rollup from its folders' parts.
"""

from __future__ import annotations

import errno
import gc
import itertools
import logging
import operator
import os
import stat
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from monitoring.retention import findlist, listing, mp4, rollup
from monitoring.retention.config import RetentionConfig
from monitoring.retention.index import (
    FUTURE,
    NAMES_ONLY,
    PARENT,
    ROLLED,
    UNSIZED,
    DeletionEvent,
    Index,
    decode_entries,
    encode_entries,
)
from monitoring.retention.layout import BadName, Layout

log = logging.getLogger(__name__)

_UNSIZED = (None, None, None, None, None)  # an entry listed by name only
_WRITE_BATCH = 2000  # folders written to the index at a time during a cold scan
# The mtime stored for a folder to list again: never a real one, and "recent", so every
# rescan checks it until it lists cleanly.
_RETRY = 1 << 62


class ScanError(Exception):
    """The scan could not run at all; the status is unknown."""


@dataclass
class ScanStats:
    """What the scan did: counts the index test and the benchmark look at."""

    dirs_listed: int = 0
    dirs_found: int = 0  # of those, listed by find in a second process
    dirs_reused: int = 0
    files_statted: int = 0
    files_parsed: int = 0
    files_named: int = 0  # listed by name only, not sized
    dirs_verified: int = 0  # folders sized by the verify pass
    parts_decoded: int = 0  # folder summaries read back from the index
    rollups_rebuilt: int = 0


@dataclass
class ScanResult:
    """Per camera its summaries (rollup and unsettled folders), problems, deletion events."""

    root: Path
    # camera -> [(part, folder)]; camera "" holds names that belong to no camera.
    cameras: dict[str, list[tuple[dict, str]]] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    deletions: list[DeletionEvent] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)
    index_status: str = ""


_why, _join = listing.why, listing.join


def store_root(store: Path, layout: Layout) -> Path:
    """The folder the layout's paths are relative to."""
    if layout.subdir and (store / layout.subdir).is_dir():
        return store / layout.subdir
    return store


def scan(
    store: Path,
    layout: Layout,
    config: RetentionConfig,
    now: float,
    index: Index,
    *,
    parse: bool,
    on_dir: Callable[[int], None] | None = None,
    parse_hook: Callable[[str], None] | None = None,
) -> ScanResult:
    """Scan the store; raise ScanError when its root cannot be read at all."""
    root = store_root(store, layout)
    try:
        st = os.stat(root)  # the root itself may be a symlink; nothing below is followed
        if not stat.S_ISDIR(st.st_mode):
            raise ScanError(f"{root} is not a directory")
        os.scandir(root).close()
    except OSError as exc:
        raise ScanError(f"{root}: {_why(exc)}") from None
    run = _Scan(root, layout, config, now, index, parse, parse_hook, on_dir)
    # A cold scan builds some hundred thousand small containers that all live until it
    # ends, and no cycles: the collector would walk them again and again for nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        run.run(st)
    finally:
        if collecting:
            gc.enable()
    return run.result


@dataclass(slots=True)
class _Listed:
    parts: dict[str, dict]
    flags: int
    settled: bool
    old_parts: dict[str, dict] | None = None  # a verified folder's parts before sizing


class _Scan:
    def __init__(self, root, layout, config, now, index, parse, hook, on_dir) -> None:
        self.root, self.layout, self.config, self.now, self.index = (
            root,
            layout,
            config,
            now,
            index,
        )
        self.parse, self.hook, self.on_dir = parse, hook, on_dir
        self.result = ScanResult(root=root)
        self.known: dict[str, tuple[int, int]] = {}
        self.listed: dict[str, _Listed] = {}
        self.writes: list[tuple[str, int, int, str, dict[str, dict]]] = []
        self.written = 0  # self.writes[:written] are in the index already
        self.unrolled: list[str] = []  # reused, settled, not folded in yet
        self.kept: list[str] = []  # unreadable now: report what the index knew
        self.vanished: list[str] = []
        self.dirty: set[tuple[str, int]] = set()  # (camera, day) rollups to rebuild
        self.seen: set[tuple[int, int]] = set()
        self.cache: dict = {}  # summarise_names' per-name-set cache
        days = config.size_check_days
        self.size_after = None if days is None or parse else now - days * 86400
        # New folders not listed (unreadable, timed out) are not indexed: their parents get
        # the _RETRY mtime, so the next rescan lists them again and finds them.
        self.retry: set[str] = set()
        self.files_here = 0  # regular files in the folder list() read last

    def settled(self, st: os.stat_result) -> bool:
        return self.now - st.st_mtime_ns / 1e9 > self.config.settle_seconds

    def run(self, root_st: os.stat_result) -> None:
        days = self.config.size_check_days
        recent = self.now - (days if days is not None else 1.0) * 86400
        self.known = self.index.dirs(self.config.recheck_slots, int(recent * 1e9))
        self.partial = self.config.recheck_slots > 1
        stack: list[tuple[str, str, os.stat_result]] = []
        if not self.index.has_dirs:
            if not self.walk_found(root_st):
                stack.append(("", str(self.root), root_st))
                self.walk(stack)
        else:
            self.rescan(root_st, stack)
            self.verify()
        self.finish()

    def walk(self, stack: list[tuple[str, str, os.stat_result]]) -> None:
        """List folders not in the index, top-down."""
        while stack:
            rel, path, st = stack.pop()
            if (st.st_dev, st.st_ino) in self.seen:
                self.result.problems.append(
                    (rel, "folder reached twice (bind mount or loop); skipped")
                )
                continue
            self.seen.add((st.st_dev, st.st_ino))
            self.list(rel, path, st, 0, stack)
            if self.on_dir is not None:
                self.on_dir(len(stack))

    def walk_found(self, root_st: os.stat_result) -> bool:
        """The cold walk from ``find``'s listing; False, with nothing kept, if find failed."""
        command = self.config.find_command
        if not command or self.size_after is None:
            return False
        root = str(self.root)
        prefix = root + os.sep
        timeout = self.config.list_timeout_seconds
        stats = self.result.stats
        size_after = self.size_after
        on_dir = self.on_dir
        mixed: set[str] = set()  # listed here, with subfolders and files: see findlist
        try:
            for f in findlist.folders(root, command, timeout, mixed):
                st = f.st if f.rel else root_st
                if f.names is None or st.st_mtime_ns / 1e9 >= size_after:
                    path = prefix + f.rel if f.rel else root
                    # Subfolders are find's to list: none is queued here.
                    self.list(f.rel, path, st, 0, None)  # type: ignore[arg-type]
                    if self.files_here and f.names is None:
                        mixed.add(f.rel)
                else:
                    stats.dirs_listed += 1
                    stats.dirs_found += 1
                    if f.links:
                        self.result.problems.extend((p, "symlink not followed") for p in f.links)
                    self.found_names(f.rel, st, f.names)  # type: ignore[arg-type]
                if on_dir is not None:
                    on_dir(0)
                if len(self.writes) - self.written >= _WRITE_BATCH:
                    # While find lists ahead: the index rows need not wait for the end.
                    self.index.put_many(self.writes[self.written :], rollup.day_of)
                    self.written = len(self.writes)
        except findlist.FindFailed as exc:
            if self.written:
                self.index.forget_all()  # a cold scan: nothing was indexed before it
                self.written = 0
            if exc.timed_out:  # a half-built index would pass for a whole one
                raise ScanError(str(exc)) from None
            log.warning("find could not list %s (%s); listing it in this process", root, exc)
            self.result = ScanResult(root=self.root)
            self.listed.clear()
            self.writes.clear()
            self.seen.clear()
            self.retry.clear()
            return False
        return True

    def rescan(self, root_st: os.stat_result, stack: list) -> None:
        """lstat every indexed folder; list the changed ones and any new subfolders."""
        root = str(self.root)
        # Folders are stat'ed relative to the open root: the kernel resolves three names
        # instead of the whole path (a sixth of a rescan's time goes to these calls).
        try:
            root_fd: int | None = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            root_fd = None
        try:
            self._rescan(root, root_st, root_fd, stack)
        finally:
            if root_fd is not None:
                os.close(root_fd)

    def _rescan(self, root: str, root_st: os.stat_result, root_fd: int | None, stack: list) -> None:
        prefix = root + os.sep
        isdir, lstat, fstatat = stat.S_ISDIR, os.lstat, os.stat
        now, settle = self.now, self.config.settle_seconds
        on_dir = self.on_dir
        left = len(self.known)
        reused = 0
        for rel, (mtime_ns, flags) in self.known.items():
            left -= 1
            if on_dir is not None and left % 256 == 0:
                on_dir(left)
            if rel:
                path = prefix + rel
                try:
                    if root_fd is not None:
                        st = fstatat(rel, dir_fd=root_fd, follow_symlinks=False)
                    else:
                        st = lstat(path)
                except OSError as exc:
                    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
                        self.vanished.append(rel)
                    else:
                        self.result.problems.append((rel, _why(exc)))
                        self.kept.append(rel)
                    continue
                if not isdir(st.st_mode):
                    self.vanished.append(rel)
                    continue
            else:
                path, st = root, root_st
            # The usual folder (unchanged, settled): one lstat and this comparison.
            m = st.st_mtime_ns
            if m == mtime_ns and not flags & FUTURE and now - m / 1e9 > settle:
                reused += 1
                if not flags & ROLLED:
                    self.unrolled.append(rel)
                continue
            if not self.list(rel, path, st, flags | 0x100, stack):
                self.kept.append(rel)
            if stack:
                self.walk(stack)
        self.result.stats.dirs_reused += reused

    def verify(self) -> None:
        """Size folders listed by name only, newest first, within this scan's budget.

        At most ``verify_folders_per_scan`` folders, and no new folder once
        ``verify_files_per_scan`` files were sized by the pass: a store of short segments
        (many files per folder) verifies fewer folders per scan, a rescan stays small.
        """
        budget = self.config.verify_folders_per_scan
        files = self.config.verify_files_per_scan
        if not budget or not files:
            return
        stats = self.result.stats
        files_before = stats.files_statted
        skip = len(self.listed) + len(self.kept) + len(self.vanished)
        todo = self.index.unsized(budget + skip)
        for rel, row in todo.items():
            self.known.setdefault(rel, row)
            if budget <= 0 or stats.files_statted - files_before >= files:
                break
            if rel in self.listed or rel in self.vanished or rel in self.kept:
                continue
            path = os.path.join(str(self.root), rel)
            try:
                st = os.lstat(path)
            except OSError:
                continue  # the next rescan tells vanished from unreadable
            flags = self.known[rel][1]
            old = self.parts_of(rel, flags) if flags & ROLLED else None
            if self.list(rel, path, st, flags | 0x100, [], sized=True, verifying=old):
                self.result.stats.dirs_verified += 1
                budget -= 1
                if rel in self.unrolled:
                    self.unrolled.remove(rel)

    def list(
        self,
        rel: str,
        path: str,
        st: os.stat_result,
        flags: int,
        stack: list | None,
        *,
        sized: bool = False,
        verifying: dict[str, dict] | None = None,
    ) -> bool:
        """List one folder (flags 0x100 = it is indexed), summarise it; False if unreadable."""
        self.result.stats.dirs_listed += 1
        self.files_here = 0
        was_known = bool(flags & 0x100)
        old = self.index.entries(rel) if was_known else {}
        old_sized = any(e[0] is not None for e in old.values())
        light = (
            not sized
            and self.size_after is not None
            and st.st_mtime_ns / 1e9 < self.size_after
            and not old_sized
        )
        if light:
            got = listing.read_names(rel, path)
            if isinstance(got, str):
                self.result.problems.append((rel or ".", got))
                if not flags:
                    self.retry.add(rel)
                return False
            names, subs, problems = got
            self.result.problems.extend(problems)
            self.files_here = len(names)
            text = listing.names_text(names)
            summary = summarise_names(rel, names, self.layout, self.config, self.now, self.cache)
            return self.digest(
                rel, path, st, flags, old, stack, subs, names, len(names), text, summary, True,
                verifying=verifying,
            )  # fmt: skip
        try:
            it = os.scandir(path)
        except OSError as exc:
            self.result.problems.append((rel or ".", _why(exc)))
            if not flags:
                self.retry.add(rel)
            return False
        entries: dict[str, list] = {}
        subs: list[listing.Sub] = []
        with it:
            ents = list(it)
        plain = not self.parse
        statted = 0
        for e in ents:
            try:
                # Files first: they are nearly all entries. Symlinks are never followed.
                if e.is_file(follow_symlinks=False):
                    if plain and not old:  # a new folder, names trusted: one stat a file
                        fst = e.stat(follow_symlinks=False)
                        statted += 1
                        entries[e.name] = [fst.st_size, fst.st_mtime_ns, None, None, None]
                    else:
                        entries[e.name] = self.file_entry(e, old.get(e.name))
                elif e.is_dir(follow_symlinks=False):
                    subs.append((e.name, None))
                elif e.is_symlink():
                    self.result.problems.append((_join(rel, e.name), "symlink not followed"))
            except OSError as exc:
                self.result.problems.append((_join(rel, e.name), _why(exc)))
        self.result.stats.files_statted += statted
        self.files_here = len(entries)
        text = encode_entries(entries)
        if self.parse:
            summary = summarise(rel, entries, self.layout, self.config, self.now)
        else:
            summary = summarise_sized(rel, entries, self.layout, self.config, self.now, self.cache)
        return self.digest(
            rel, path, st, flags, old, stack, subs, entries, 0, text, summary, False,
            verifying=verifying,
        )  # fmt: skip

    def found_names(self, rel: str, st: os.stat_result, joined: str) -> None:
        """A new folder whose names find printed (joined by ``/``), summarised and kept."""
        text = "/" + joined if joined else "{}"
        summary = summarise_names(
            rel, None, self.layout, self.config, self.now, self.cache, joined=joined
        )
        one = listing.plain(summary)
        if one is not None:  # one camera's good names: most folders, no list of names made
            self.result.stats.files_named += one[1]["unsized"]
            self.keep_plain(rel, st, text, *one)
            return
        names = joined.split("/") if joined else []
        path = os.path.join(str(self.root), rel)
        self.digest(rel, path, st, 0, {}, None, [], names, len(names), text, summary, True)

    def digest(
        self,
        rel: str,
        path: str,
        st: os.stat_result,
        flags: int,
        old: dict[str, list],
        stack: list,
        subs: list[listing.Sub],
        listed: list[str] | dict[str, list] | None,
        count: int,
        text: str,
        summary: dict,
        light: bool,
        *,
        verifying: dict[str, dict] | None = None,
    ) -> bool:
        """Queue new subfolders, note deletions, and keep the folder's row and parts.

        ``listed`` is the names (``light``: listed by name only, ``count`` of them) or the
        sized entries. With ``stack`` None new subfolders are not queued (find lists them).
        """
        if light and not subs and not flags:  # a new folder, by name: the cold scan's usual
            one = listing.plain(summary)
            if one is not None:
                self.result.stats.files_named += count
                self.keep_plain(rel, st, text, *one)
                return True
        was_known = bool(flags & 0x100)
        if subs and stack is not None:
            fresh = [_join(rel, name) for name, _ in subs]
            fresh = [f for f in fresh if f not in self.known]
            if fresh and was_known and self.partial:  # indexed, but not checked this turn
                indexed = self.index.existing(fresh)
                fresh = [f for f in fresh if f not in indexed]
            fresh_set = set(fresh)
            base = path if path.endswith(os.sep) else path + os.sep
            for name, sub_st in subs:  # new folders: indexed ones are visited by rescan()
                sub = _join(rel, name)
                if sub in fresh_set:
                    sub_path = f"{base}{name}"
                    if sub_st is None:
                        try:
                            sub_st = os.lstat(sub_path)
                        except OSError as exc:
                            sub_st = _why(exc)
                    if isinstance(sub_st, str):
                        self.result.problems.append((sub, sub_st))
                    else:
                        stack.append((sub, sub_path, sub_st))
        if light:
            self.result.stats.files_named += count
            entries = dict.fromkeys(listed or (), _UNSIZED) if old else {}
        else:
            entries = listed  # type: ignore[assignment]
        if old:
            _deleted(rel, old, entries, self.layout, self.config, self.now, self.result)
        parts: dict[str, dict] = dict(summary["cams"])
        if summary["bad"]:
            parts[""] = {"bad": summary["bad"]}
        new_flags = (
            (UNSIZED if light and count else 0)
            | (PARENT if subs else 0)
            | (FUTURE if any("future" in p for p in parts.values()) else 0)
        )
        if was_known and flags & ROLLED:
            if verifying is not None and _same_runs(verifying, parts):
                new_flags |= ROLLED  # only sizes were added: folded in as a delta below
            else:
                old_parts = verifying if verifying is not None else self.parts_of(rel, flags)
                self.dirty.update((c, rollup.day_of(p)) for c, p in old_parts.items())
                verifying = None
        camera = day = None
        if light and len(parts) == 1 and "" not in parts and not new_flags & FUTURE:
            # One camera's coverage from names alone: rebuilt from the names when needed,
            # so nothing but the names is written for most folders of a cold scan.
            ((camera, part),) = parts.items()
            day = rollup.day_of(part)
            new_flags |= NAMES_ONLY
        settled = self.settled(st)
        if settled and not new_flags & FUTURE:
            new_flags |= ROLLED  # folded into the rollups in finish(), in this same run
        self.writes.append((rel, st.st_mtime_ns, new_flags, text, parts, camera, day))
        self.listed[rel] = _Listed(parts, new_flags, settled, verifying)
        return True

    def keep_plain(self, rel: str, st: os.stat_result, text: str, camera: str, part: dict) -> None:
        """``digest``'s answer for a new folder of one camera's good names (no subfolder)."""
        flags = UNSIZED | NAMES_ONLY
        settled = self.now - st.st_mtime_ns / 1e9 > self.config.settle_seconds
        if settled:
            flags |= ROLLED
        parts = {camera: part}
        day = int(part["runs"][0][0] // 86400)  # rollup.day_of of a part without bad names
        self.writes.append((rel, st.st_mtime_ns, flags, text, parts, camera, day))
        self.listed[rel] = _Listed(parts, flags, settled)

    def parts_of(self, rel: str, flags: int) -> dict[str, dict]:
        """An indexed folder's parts: stored, or rebuilt from its names."""
        if flags & NAMES_ONLY:
            return self.names_parts(rel, self.index.entries_text(rel))
        return self.index.parts(rel)

    def names_parts(self, rel: str, text: str) -> dict[str, dict]:
        names = text[1:].split("/") if text.startswith("/") else []
        cfg = self.config
        return summarise_names(rel, names, self.layout, cfg, self.now, self.cache)["cams"]

    def file_entry(self, e: os.DirEntry, prev: list | None) -> list:
        """``[size, mtime_ns, duration, created, problem]`` of one file (one stat)."""
        fst = e.stat(follow_symlinks=False)
        self.result.stats.files_statted += 1
        if prev and prev[0] == fst.st_size and prev[1] == fst.st_mtime_ns:
            return prev
        if not self.parse or fst.st_size == 0:
            return [fst.st_size, fst.st_mtime_ns, None, None, None]
        self.result.stats.files_parsed += 1
        if self.hook is not None:
            self.hook(e.path)
        info = mp4.probe(e.path, fst.st_size)
        return [fst.st_size, fst.st_mtime_ns, info.duration, info.created, info.problem]

    def finish(self) -> None:
        """Write the index, fold settled folders into the rollups, collect the answer."""
        index, cfg, res = self.index, self.config, self.result
        day_of = rollup.day_of
        for rel in list(self.vanished):  # a vanished parent takes its whole subtree along
            if self.known[rel][1] & PARENT:
                for sub, row in index.under(rel).items():
                    if sub not in self.known:
                        self.known[sub] = row
                        self.vanished.append(sub)
        for rel in self.vanished:  # folders that vanished: their young segments were deleted
            _deleted(rel, index.entries(rel), {}, self.layout, cfg, self.now, res)
            if self.known[rel][1] & ROLLED:
                parts = self.parts_of(rel, self.known[rel][1])
                self.dirty.update((c, day_of(p)) for c, p in parts.items())
        if self.retry:  # a new folder that could not be listed: its parent is listed again
            parents = {rel.rpartition("/")[0] for rel in self.retry if rel}
            self.writes = [(w[0], _RETRY, *w[2:]) if w[0] in parents else w for w in self.writes]
            index.set_mtimes([w[0] for w in self.writes[: self.written] if w[0] in parents], _RETRY)
        index.put_many(self.writes[self.written :], day_of)
        index.drop_many(self.vanished)
        index.add_deletions(res.deletions)
        hours_after = self.now - (cfg.rate_window_days + 1) * 86400
        rollups = index.rollups()
        changed: set[tuple[str, int]] = set()
        for key in self.dirty:  # rebuild a camera's day from its folders' parts
            roll = rollup.empty()
            for folder, part in index.rolled_parts(*key):
                rollup.fold(roll, part, folder, hours_after)
            for folder, text in index.rolled_names(*key):
                for part in self.names_parts(folder, text).values():
                    rollup.fold(roll, part, folder, hours_after)
            rollups[key] = roll
            changed.add(key)
            res.stats.rollups_rebuilt += 1
        direct: list[tuple[str, dict[str, dict]]] = []
        newly_rolled: list[str] = []
        for rel in self.unrolled:
            parts = self.parts_of(rel, self.known[rel][1])
            res.stats.parts_decoded += len(parts)
            self.listed[rel] = _Listed(parts, 0, True)  # not ROLLED yet: set below
        for rel in self.kept:
            if not self.known[rel][1] & ROLLED:
                parts = self.parts_of(rel, self.known[rel][1])
                res.stats.parts_decoded += len(parts)
                direct.append((rel, parts))
        # In path order: the answer does not depend on which worker listed what first.
        for rel, item in sorted(self.listed.items(), key=operator.itemgetter(0)):
            if item.old_parts is not None:  # a verified folder: add what sizing found
                for cam, part in item.parts.items():
                    key = (cam, day_of(part))
                    if cam == "" or key in self.dirty:
                        continue  # no-camera names do not change; a rebuilt day has it
                    delta = dict(part, runs=[], unsized=part.get("unsized", 0))
                    delta["unsized"] -= item.old_parts.get(cam, {}).get("unsized", 0)
                    rollup.fold(rollups.setdefault(key, rollup.empty()), delta, rel, hours_after)
                    changed.add(key)
            elif item.settled and not item.flags & FUTURE:
                for cam, part in item.parts.items():
                    key = (cam, day_of(part))
                    if key in self.dirty:
                        continue  # already read back by the rebuild above
                    roll = rollups.get(key)
                    if roll is None:
                        roll = rollups[key] = rollup.empty()
                    rollup.fold(roll, part, rel, hours_after)
                    changed.add(key)
                if not item.flags & ROLLED:
                    newly_rolled.append(rel)  # reused from an earlier scan, settled since
            else:
                direct.append((rel, item.parts))
        index.set_flags(newly_rolled, ROLLED)
        for key in changed:
            if _is_empty(rollups[key]):
                del rollups[key]
            else:
                rollup.finish(rollups[key], cfg.join_seconds)
        index.put_rollups(rollups, {camera for camera, _ in changed})
        for (cam, _), roll in sorted(rollups.items()):
            res.cameras.setdefault(cam, []).append((roll, ""))
        for rel, parts in direct:
            for cam, part in parts.items():
                res.cameras.setdefault(cam, []).append((part, rel))
        res.problems.sort()
        res.index_status = index.status


def _is_empty(roll: dict) -> bool:
    return not (roll["runs"] or roll["n"] or roll["unsized"] or roll["bad"] or roll["rates"])


def _same_runs(old: dict[str, dict], new: dict[str, dict]) -> bool:
    """True when sizing a folder changed nothing in its coverage (no zero-length file)."""
    if old.keys() != new.keys():
        return False
    return all(old[c].get("runs") == new[c].get("runs") for c in old)


def _deleted(
    rel: str,
    old: dict[str, list],
    new: dict[str, list],
    layout: Layout,
    config: RetentionConfig,
    now: float,
    result: ScanResult,
) -> None:
    """Deletion events for files in ``old`` but not in ``new`` that were still young."""
    horizon = now - config.required_days * 86400
    for name, ent in old.items():
        if name in new:
            continue
        try:
            camera, start = layout.parse(_join(rel, name))
        except BadName:
            continue
        if start >= horizon:
            end = start + (ent[2] or config.fallback_segment_seconds)
            result.deletions.append(DeletionEvent(camera, start, end, now, _join(rel, name)))


def summarise_names(
    rel: str,
    names: list[str] | None,
    layout: Layout,
    config: RetentionConfig,
    now: float,
    cache: dict | None = None,
    *,
    joined: str | None = None,
) -> dict:
    """``summarise`` for files listed by name only, per folder instead of per file.

    Coverage is exactly what ``summarise`` finds for the same names without sizes; bytes,
    bitrate and mtime checks wait for the verify pass (the part counts them as unsized).
    ``cache`` maps a folder's joined names to its coverage relative to the hour: most hour
    folders of a camera hold the same names, so most folders cost one dictionary lookup.
    ``joined`` may stand for ``names``: the names joined by ``/`` (the cache key).
    """
    key = joined if joined is not None else "/".join(names or ()) if cache is not None else ""
    base_of = getattr(layout, "folder_base", None)
    got = base_of(rel) if base_of is not None and (names or joined) else None
    if names is None and (got is None or cache is None or key not in cache):
        names = joined.split("/") if joined else []
    if got is None:
        return summarise(rel, dict.fromkeys(names or (), _UNSIZED), layout, config, now)
    camera, base = got
    out: dict = {"cams": {}, "bad": []}
    relative = cache.get(key) if cache is not None else None
    if relative is None:
        assert names is not None
        offsets = layout.folder_starts(rel, names)[2]
        if None in offsets:
            for name, off in zip(names, offsets, strict=True):
                if off is None:
                    try:
                        layout.parse(_join(rel, name))
                    except BadName as exc:
                        out["bad"].append([_join(rel, name), None, str(exc)])
            good = sorted(o for o in offsets if o is not None)
            if not good:
                return out
            relative = _relative(good, config)
        else:
            relative = _relative(sorted(offsets), config)
            if cache is not None:
                if len(cache) > 4096:
                    cache.clear()
                cache[key] = relative
    runs_rel, count, last = relative
    if base + last > now + config.future_tolerance_seconds:
        if names is None:
            names = joined.split("/") if joined else []
        return summarise(rel, dict.fromkeys(names, _UNSIZED), layout, config, now)
    out["cams"][camera] = {
        "runs": [[base + a, base + b] for a, b in runs_rel],
        "bytes": 0,
        "n": 0,
        "unsized": count,
        "hours": {},
        "rate": None,
        "bad": [],
    }
    return out


def summarise_sized(
    rel: str,
    entries: dict[str, list],
    layout: Layout,
    config: RetentionConfig,
    now: float,
    cache: dict | None = None,
) -> dict:
    """``summarise`` for a sized folder without header facts, per folder where it can be.

    The usual hour folder (valid names, no empty file, sizes within the bitrate tolerance,
    mtimes within the skew of every start and end) is judged on whole-folder bounds; any
    folder where a bound fails is judged file by file by ``summarise``, so the answer is
    always exactly ``summarise``'s.
    """
    names = list(entries)
    light = summarise_names(rel, names, layout, config, now, cache) if names else None
    cams = light["cams"] if light else {}
    if len(cams) != 1 or light["bad"]:
        return summarise(rel, entries, layout, config, now)
    part = next(iter(cams.values()))
    values = list(entries.values())
    if any(v[2] is not None or v[3] is not None or v[4] for v in values):
        return summarise(rel, entries, layout, config, now)
    sizes = [v[0] for v in values]
    if None in sizes or 0 in sizes or len(part["runs"]) != 1:
        return summarise(rel, entries, layout, config, now)
    (start, end), count = part["runs"][0], len(sizes)
    nominal = (end - start) / count
    offsets = sorted(layout.folder_starts(rel, names)[2])  # type: ignore[attr-defined]
    step = int(nominal)
    # Exactly evenly spaced (every segment lasts ``nominal``), else judged per file.
    if step != nominal or offsets != list(range(offsets[0], offsets[0] + count * step, step)):
        return summarise(rel, entries, layout, config, now)
    skew = config.mtime_skew_seconds
    if skew is not None:
        mtimes = [v[1] / 1e9 for v in values]
        if not (end - nominal - skew <= min(mtimes) and max(mtimes) <= start + nominal + skew):
            return summarise(rel, entries, layout, config, now)
    median = None
    if nominal >= config.bitrate_min_seconds:
        rates = [size / nominal for size in sizes]
        median = statistics.median(rates)
        tol = config.bitrate_tolerance
        if median and not (median / tol <= min(rates) and max(rates) <= median * tol):
            return summarise(rel, entries, layout, config, now)
    total = sum(sizes)
    part.update(
        bytes=total,
        n=count,
        unsized=0,
        hours={int(start // 3600 * 3600): total},
        rate=median,
    )
    if int(start // 3600) != int((end - nominal) // 3600):  # not one hour: per file
        return summarise(rel, entries, layout, config, now)
    return light


def _relative(good: list[int], config: RetentionConfig) -> tuple[list, int, int]:
    """Runs of sorted start offsets (seconds after the hour), their count and the last."""
    deltas = list(map(operator.sub, good[1:], good[:-1]))  # names are unique: all > 0
    if not deltas:
        nominal: float = config.fallback_segment_seconds
    elif min(deltas) == max(deltas):  # evenly spaced, the usual case: no sort needed
        nominal = deltas[0]
    else:
        nominal = statistics.median(deltas)
    # A segment ends at the next start or after the nominal spacing, whichever is first,
    # so a run breaks exactly where the spacing exceeds nominal + join_seconds.
    limit = nominal + config.join_seconds
    runs: list[tuple[float, float]] = []
    first = good[0]
    if deltas and max(deltas) > limit:
        for i in [i for i, d in enumerate(deltas) if d > limit]:
            runs.append((first, good[i] + nominal))
            first = good[i + 1]
    runs.append((first, good[-1] + nominal))
    return runs, len(good), good[-1]


def summarise(
    rel: str, entries: dict[str, list], layout: Layout, config: RetentionConfig, now: float
) -> dict:
    """Per camera: runs of coverage, bytes per UTC hour, the folder's median rate, bad files."""
    by_cam: dict[str, list[tuple[float, str, list]]] = {}
    out: dict = {"cams": {}, "bad": []}
    for name, ent in entries.items():
        p = _join(rel, name)
        try:
            camera, start = layout.parse(p)
        except BadName as exc:
            out["bad"].append([p, None, str(exc)])
            continue
        by_cam.setdefault(camera, []).append((start, p, ent))
    for camera, segs in by_cam.items():
        segs.sort()
        starts = [s for s, _, _ in segs]
        deltas = [b - a for a, b in itertools.pairwise(starts) if b > a]
        nominal = statistics.median(deltas) if deltas else config.fallback_segment_seconds
        runs: list[list[float]] = []
        bad: list[list] = []
        future: list[list] = []
        hours: dict[int, int] = {}
        rates: list[tuple[float, str, float]] = []
        total = counted = unsized = 0
        for i, (start, p, (size, mtime_ns, dur, created, problem)) in enumerate(segs):
            nxt = starts[i + 1] - start if i + 1 < len(segs) else nominal
            end = start + (dur if dur is not None else min(nxt, nominal))
            if size == 0:
                bad.append([p, start, "zero-length file"])
                continue
            if problem:
                bad.append([p, start, problem])
                continue
            if start > now + config.future_tolerance_seconds:
                future.append([p, start, end])
                continue
            if created is not None and abs(created - start) > config.name_skew_seconds:
                bad.append(
                    [p, start, f"name and mp4 creation time differ by {created - start:+.0f} s"]
                )
            skew = config.mtime_skew_seconds
            if size is None:
                unsized += 1  # listed by name only: sized by the verify pass
            else:
                mtime = mtime_ns / 1e9
                if skew is not None and not (start - skew <= mtime <= end + skew):
                    bad.append([p, start, f"mtime differs from the name by {mtime - start:+.0f} s"])
                total += size
                counted += 1
                key = int(start // 3600 * 3600)
                hours[key] = hours.get(key, 0) + size
                if end - start >= config.bitrate_min_seconds:
                    rates.append((size / (end - start), p, start))
            if runs and start - runs[-1][1] <= config.join_seconds:
                runs[-1][1] = max(runs[-1][1], end)
            else:
                runs.append([start, end])
        median = statistics.median(r for r, _, _ in rates) if rates else None
        if median:
            for r, p, start in rates:
                if not median / config.bitrate_tolerance <= r <= median * config.bitrate_tolerance:
                    bad.append([p, start, f"{r:.0f} B/s is far off the median {median:.0f} B/s"])
        cam = {
            "runs": runs,
            "bytes": total,
            "n": counted,
            "unsized": unsized,
            "hours": hours,
            "rate": median,
            "bad": bad,
        }
        if future:
            cam["future"] = future
        out["cams"][camera] = cam
    return out


__all__ = ["ScanError", "ScanResult", "ScanStats", "decode_entries", "scan", "store_root"]
