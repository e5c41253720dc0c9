"""Reading a folder by name: files told from folders by ``d_type``, symlinks never followed."""

from __future__ import annotations

import errno
import logging
import os

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


def read_names(rel: str, path: str) -> tuple[list[str], list[Sub], list[tuple[str, str]]] | str:
    """A folder's file names, subfolders and problems; the reason when it cannot be read.

    Files are told from folders by ``d_type``, without a ``stat`` per file; symlinks are
    never followed; subfolders are not ``stat``-ed.
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
                subs.append((e.name, None))
            elif e.is_symlink():
                problems.append((join(rel, e.name), "symlink not followed"))
        except OSError as exc:
            problems.append((join(rel, e.name), why(exc)))
    return names, subs, problems


def names_text(names: list[str]) -> str:
    """Names as the index stores a folder listed by name only."""
    return "/" + "/".join(names) if names else "{}"


def plain(summary: dict) -> tuple[str, dict] | None:
    """``(camera, part)`` when a names-only summary is one camera's good, present names."""
    cams = summary["cams"]
    if len(cams) != 1 or summary["bad"]:
        return None
    ((camera, part),) = cams.items()
    if "future" in part or not part["runs"]:
        return None
    return camera, part
