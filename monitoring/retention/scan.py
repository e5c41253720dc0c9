"""Walk a recording store with ``os.scandir`` and summarise each folder, using the index.

Re-listing rule: a folder is listed again only when its mtime differs from the indexed
one, or when it was modified within ``settle_seconds`` of now, or when its summary holds
segments in the future. Adding, deleting or renaming a file changes the mtime of the
folder holding it, so deletions are always noticed; subfolders of an unchanged folder are
still visited (one ``lstat`` each) because their own contents may have changed. What the
rule does not notice is a file rewritten in place inside a settled folder; NVRs (Frigate
included: past hour folders are immutable) do not do that.
"""

from __future__ import annotations

import errno
import itertools
import json
import logging
import os
import stat
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from monitoring.retention import mp4
from monitoring.retention.config import RetentionConfig
from monitoring.retention.index import DeletionEvent, Index
from monitoring.retention.layout import BadName, Layout

log = logging.getLogger(__name__)

_REASONS = {
    errno.ENOENT: "folder missing",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.ELOOP: "symlink loop",
    errno.ENOTDIR: "not a directory",
}


class ScanError(Exception):
    """The scan could not run at all; the status is unknown."""


@dataclass
class ScanStats:
    """What the scan did: counts the index test and the benchmark look at."""

    dirs_listed: int = 0
    dirs_reused: int = 0
    files_statted: int = 0
    files_parsed: int = 0


@dataclass
class ScanResult:
    """Per-folder summaries (JSON text), walk problems and deletion events of one scan."""

    root: Path
    summaries: dict[str, str] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)
    deletions: list[DeletionEvent] = field(default_factory=list)
    stats: ScanStats = field(default_factory=ScanStats)
    index_status: str = ""


def _why(exc: OSError) -> str:
    return f"{_REASONS.get(exc.errno, 'unreadable')}: {exc.strerror or exc}"


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
    result = ScanResult(root=root)
    known = index.dirs()
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[str, str, os.stat_result]] = [("", str(root), st)]
    while stack:
        rel, path, st = stack.pop()
        if (st.st_dev, st.st_ino) in seen:
            result.problems.append((rel, "folder reached twice (bind mount or loop); skipped"))
            continue
        seen.add((st.st_dev, st.st_ino))
        old = known.pop(rel, None)
        settled = now - st.st_mtime_ns / 1e9 > config.settle_seconds
        if (
            old is not None
            and old.mtime_ns == st.st_mtime_ns
            and settled
            and ('"future"' not in old.summary)
        ):
            result.stats.dirs_reused += 1
            result.summaries[rel] = old.summary
            for name in old.subdirs:
                sub = f"{rel}/{name}" if rel else name
                try:
                    sst = os.lstat(os.path.join(path, name))
                except OSError:
                    continue  # gone while the parent looks unchanged: dropped below
                if stat.S_ISDIR(sst.st_mode):
                    stack.append((sub, os.path.join(path, name), sst))
        elif not _list(
            rel,
            path,
            st,
            old is not None,
            layout,
            config,
            now,
            index,
            result,
            parse,
            parse_hook,
            stack,
        ):
            # An unreadable folder is a problem, not a deletion: forget nothing under it.
            prefix = f"{rel}/" if rel else ""
            for k in [k for k in known if k.startswith(prefix)]:
                del known[k]
        if on_dir is not None:
            on_dir(len(stack))
    for rel in known:  # folders that vanished: their young segments were deleted
        _deleted(rel, index.entries(rel), {}, layout, config, now, result)
        index.drop(rel)
    index.add_deletions(result.deletions)
    result.index_status = index.status
    return result


def _list(
    rel: str,
    path: str,
    st: os.stat_result,
    was_known: bool,
    layout: Layout,
    config: RetentionConfig,
    now: float,
    index: Index,
    result: ScanResult,
    parse: bool,
    hook: Callable[[str], None] | None,
    stack: list[tuple[str, str, os.stat_result]],
) -> bool:
    """List one folder, reuse what the index knows of unchanged files, summarise it."""
    result.stats.dirs_listed += 1
    old = index.entries(rel) if was_known else {}
    entries: dict[str, list] = {}
    subdirs: list[str] = []
    try:
        it = os.scandir(path)
    except OSError as exc:
        result.problems.append((rel or ".", _why(exc)))
        return False
    with it:
        for e in it:
            try:
                # Files first: they are nearly all entries. Symlinks are never followed.
                if e.is_file(follow_symlinks=False):
                    fst = e.stat(follow_symlinks=False)
                    result.stats.files_statted += 1
                    prev = old.get(e.name)
                    if prev and prev[0] == fst.st_size and prev[1] == fst.st_mtime_ns:
                        entries[e.name] = prev
                        continue
                    info = mp4.Mp4Info()
                    if parse and fst.st_size > 0:
                        result.stats.files_parsed += 1
                        if hook is not None:
                            hook(e.path)
                        info = mp4.probe(e.path, fst.st_size)
                    entries[e.name] = [
                        fst.st_size,
                        fst.st_mtime_ns,
                        info.duration,
                        info.created,
                        info.problem,
                    ]
                elif e.is_dir(follow_symlinks=False):
                    subdirs.append(e.name)
                    stack.append((_join(rel, e.name), e.path, e.stat(follow_symlinks=False)))
                elif e.is_symlink():
                    result.problems.append((_join(rel, e.name), "symlink not followed"))
            except OSError as exc:
                result.problems.append((_join(rel, e.name), _why(exc)))
    _deleted(rel, old, entries, layout, config, now, result)
    summary = json.dumps(summarise(rel, entries, layout, config, now), separators=(",", ":"))
    index.put(rel, st.st_mtime_ns, subdirs, entries, summary)
    result.summaries[rel] = summary
    return True


def _join(rel: str, name: str) -> str:
    return f"{rel}/{name}" if rel else name


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
        total = 0
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
            mtime = mtime_ns / 1e9
            if skew is not None and not (start - skew <= mtime <= end + skew):
                bad.append([p, start, f"mtime differs from the name by {mtime - start:+.0f} s"])
            total += size
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
        cam = {"runs": runs, "bytes": total, "hours": hours, "rate": median, "bad": bad}
        if future:
            cam["future"] = future
        out["cams"][camera] = cam
    return out
