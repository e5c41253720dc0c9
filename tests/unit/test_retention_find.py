"""A cold scan listed by GNU find answers exactly like one listed here, and degrades safely."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitoring.retention import RetentionConfig, check_retention
from monitoring.retention.findlist import FindFailed, Found, Stream
from monitoring.retention.testing import (
    frigate_path,
    settle_frigate,
    write_frigate,
    write_segment,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TEN = 600.0
FOUND = RetentionConfig(required_days=2)  # find_command "find" is the default
HERE = FOUND.model_copy(update={"find_command": None})
ROOT = Path(__file__).resolve().parents[2]


def _tree(root: Path) -> None:
    """Two cameras over three days with every kind of trouble a store holds."""
    start = datetime(2026, 3, 7, 10, tzinfo=UTC)
    for cam in ("door", "hall"):
        for i in range(3 * 24 * 6 + 6):
            t = start + timedelta(seconds=i * TEN)
            if cam == "hall" and datetime(2026, 3, 8, 4, tzinfo=UTC) <= t < datetime(
                2026, 3, 8, 6, tzinfo=UTC
            ):
                continue  # a two-hour gap
            write_segment(frigate_path(root, cam, t), t, TEN)
    old = datetime(2026, 3, 8, 9, 30, tzinfo=UTC)
    write_segment(frigate_path(root, "door", old), old, TEN, moov=False)  # truncated
    new = datetime(2026, 3, 10, 9, 20, tzinfo=UTC)
    write_segment(frigate_path(root, "door", new), new, TEN, empty=True)  # zero-length, new
    settle_frigate(root)
    folder = frigate_path(root, "door", old).parent
    day = folder.parent.parent
    settled = {p: p.stat().st_mtime for p in (folder, day)}
    (folder / "notes.txt").write_text("x")  # bad names in an old folder
    (folder / "99.00.mp4").write_bytes(b"x")
    (folder / "sub").mkdir()  # a folder inside a camera folder: files and a subfolder
    (folder / "sub" / "00.00.mp4").write_bytes(b"x")
    os.symlink("/nonexistent", folder / "05.00.mp4")  # a dangling symlink
    os.symlink(".", day / "loop")  # a symlink loop
    (day / "empty").mkdir()
    for p, mtime in settled.items():  # old folders stay old: listed by name
        os.utime(p, (mtime, mtime))


def _answer(rep) -> dict:  # type: ignore[no-untyped-def]
    out = rep.to_dict()
    out.pop("index")  # where the index lives
    out.pop("forecast")  # the free space of a shared disk moves between two scans
    out.pop("stats")  # what each scan did (dirs_found differs by design)
    return out


def test_find_listing_gives_the_answer_of_listing_here(tmp_path: Path) -> None:
    _tree(tmp_path)
    here = check_retention(tmp_path, NOW, config=HERE)
    found = check_retention(tmp_path, NOW, config=FOUND)
    assert here.stats["dirs_found"] == 0
    # find's stream gave every old leaf: 49 hours before NOW - 1 day (size_check_days)
    # × 2 cameras, less hall's 2-hour gap, less door's 09 folder (files beside a
    # subfolder: a parent) = 95. Parents, recent folders and "sub" (it may hold names of
    # door's folder) were listed here.
    assert found.stats["dirs_found"] == 95
    assert found.stats["dirs_listed"] == here.stats["dirs_listed"]
    assert _answer(found) == _answer(here)
    problems = dict(found.problems)
    assert problems["2026-03-08/loop"] == "symlink not followed"
    assert problems["2026-03-08/09/door/05.00.mp4"] == "symlink not followed"
    assert "not a minute and second" in problems["2026-03-08/09/door/99.00.mp4"]
    assert "expected <date>" in problems["2026-03-08/09/door/sub/00.00.mp4"]
    assert [g.seconds for g in found.cameras[1].gaps] == [7200.0]
    assert [b.reason for b in found.cameras[0].bad] == ["zero-length file"]
    # With an index: the cold scans, then a rescan after a deletion, agree as well.
    a = check_retention(tmp_path, NOW, config=HERE, state_dir=tmp_path / "h")
    b = check_retention(tmp_path, NOW, config=FOUND, state_dir=tmp_path / "f")
    assert _answer(a) == _answer(b) == _answer(here)
    frigate_path(tmp_path, "door", datetime(2026, 3, 9, 2, 10, tzinfo=UTC)).unlink()
    a = check_retention(tmp_path, NOW, config=HERE, state_dir=tmp_path / "h")
    b = check_retention(tmp_path, NOW, config=FOUND, state_dir=tmp_path / "f")
    assert b.stats["dirs_found"] == 0  # a rescan reads its index, not find
    assert _answer(a) == _answer(b)
    assert [d["start"] for d in b.to_dict()["cameras"][0]["deletions"]] == [
        "2026-03-09T02:10:00+00:00"
    ]


def test_files_beside_subfolders_are_never_given_to_a_subfolder(tmp_path: Path) -> None:
    # A camera folder holding segments and several subfolders: find prints the folder's
    # later names after a subfolder's, so they must not count as that subfolder's.
    start = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
    write_frigate(tmp_path, "door", start, 60)
    write_frigate(tmp_path, "hall", start, 60)
    folder = frigate_path(tmp_path, "door", start).parent
    for i in range(20):
        (folder / f"x{i:02d}").mkdir()
        (folder / f"x{i:02d}" / "00.00.mp4").write_bytes(b"x")
    settle_frigate(tmp_path)
    here = check_retention(tmp_path, NOW, config=HERE)
    found = check_retention(tmp_path, NOW, config=FOUND)
    assert found.stats["dirs_found"] > 0
    assert _answer(found) == _answer(here)
    assert len([p for p, _ in found.problems if "/x" in p]) == 20
    door = found.cameras[0]
    assert door.camera == "door" and door.earliest == start.timestamp()


def _feed(stream: Stream, data: bytes, step: int) -> list[tuple[str, str | None]]:
    """Feed ``data`` in chunks of ``step`` bytes, then the end; play the caller's part."""
    files = {"a"}  # the folders that hold files (the caller learns it by listing them)
    chunks = [data[i : i + step] for i in range(0, len(data), step)]
    out = []
    for chunk in [*chunks, b""]:
        for f in stream.feed(chunk):
            if f.names is None and f.rel in files:
                stream.mixed.add(f.rel)
            out.append((f.rel, f.names))
    return out


STREAM = (
    b"/D0/100.0000000000/\0"
    b"/D1/200.5000000000/a\0a1.mp4\0"
    b"/D2/300.0000000000/a/b\0b1.mp4\0b2.mp4\0"
    b"a2.mp4\0"  # a's, printed after its subfolder b
    b"/D1/400.0000000000/c\0c1.mp4\0"
    b"/L2/c/link\0c2.mp4\0"
    b"/D1/500.0000000000/e\0"
)


@pytest.mark.parametrize("step", [1, 7, len(STREAM)])
def test_stream_gives_only_names_it_can_vouch_for(step: int) -> None:
    stream = Stream(set())
    assert _feed(stream, STREAM, step) == [
        ("", None),  # a parent (without files of its own): listed by the caller
        ("a", None),  # a parent, with files
        ("a/b", None),  # its names may end with a's: listed by the caller
        ("c", "c1.mp4/c2.mp4"),  # the names around its symlink, all its own
    ]
    assert stream.mixed == {"a"}
    (empty,) = stream.empties  # decided when find has finished
    assert empty.rel == "e" and empty.names == ""
    assert empty.st.st_mtime_ns == 500 * 10**9


def test_a_leaf_after_a_mixed_root_is_listed_by_the_caller() -> None:
    stream = Stream({""})  # the root holds files: any of them may follow c's names
    data = b"/D0/1.0000000000/\0/D1/2.0000000000/c\0c1.mp4\0top.mp4\0"
    assert [(f.rel, f.names) for f in [*stream.feed(data), *stream.feed(b"")]] == [
        ("", None),
        ("c", None),
    ]


def test_a_symlink_in_a_parent_ends_the_leaf_before_it() -> None:
    stream = Stream(set())
    data = b"/D0/1.0000000000/\0/D1/2.0000000000/c\0c1.mp4\0/L1/lnk\0top.mp4\0"
    got = [(f.rel, f.names, f.links) for f in [*stream.feed(data), *stream.feed(b"")]]
    # The root's symlink and top.mp4 are the caller's to find (it lists the root).
    assert got == [("", None, []), ("c", "c1.mp4", [])]


def test_stream_reads_nanoseconds_and_symlinks_of_a_leaf() -> None:
    stream = Stream(set())
    data = b"/D0/1773140400.1234567890/\0/L1/lnk\0a.mp4\0b.mp4\0"
    (f,) = [*stream.feed(data), *stream.feed(b"")]
    assert isinstance(f, Found)
    assert f.st.st_mtime_ns == 1773140400_123456789
    assert f.names == "a.mp4/b.mp4" and f.links == ["lnk"]


def test_stream_refuses_output_that_is_not_a_listing() -> None:
    with pytest.raises(FindFailed):
        list(Stream(set()).feed(b"find: unknown predicate '-printf'\n"))


@pytest.mark.parametrize("command", ["/nonexistent/find", "false", "true"])
def test_a_missing_or_failing_find_leaves_the_listing_here(tmp_path: Path, command: str) -> None:
    _tree(tmp_path)
    here = check_retention(tmp_path, NOW, config=HERE)
    rep = check_retention(tmp_path, NOW, config=FOUND.model_copy(update={"find_command": command}))
    assert rep.stats["dirs_found"] == 0
    assert _answer(rep) == _answer(here)


def test_a_hung_listing_times_out_into_unknown(tmp_path: Path) -> None:
    _tree(tmp_path)
    hung = tmp_path / "hung-find"  # stands for a store on a mount that stopped answering
    pid = tmp_path / "pid"
    hung.write_text(f"#!/bin/sh\necho $$ > {pid}\nexec sleep 60\n")
    hung.chmod(0o755)
    cfg = FOUND.model_copy(update={"find_command": str(hung), "list_timeout_seconds": 1.0})
    t = time.monotonic()
    rep = check_retention(tmp_path, NOW, config=cfg)
    assert time.monotonic() - t < 10
    assert rep.status == "unknown"
    assert "listing timed out after 1 s" in rep.reasons[0]
    assert not Path(f"/proc/{pid.read_text().strip()}").exists()  # stopped and reaped


def test_a_listing_that_hangs_half_way_leaves_no_half_built_index(tmp_path: Path) -> None:
    store = tmp_path / "store"
    _tree(store)
    # Stands for a mount that stops answering after find printed 2,500 folders (more than
    # one batch of index rows): old leaves of a camera that is not in the store.
    settled = NOW.timestamp() - 3600  # a root untouched for an hour: reused as it is
    os.utime(store / "recordings", (settled, settled))
    root_ns = (store / "recordings").stat().st_mtime_ns  # find prints the real root
    records = b"/D0/%d.%09d0/\0" % divmod(root_ns, 10**9) + b"".join(
        b"/D1/1772900000.0000000000/x%04d\0" % i + b"00.00.mp4\0" for i in range(2500)
    )
    hung = tmp_path / "half-find"
    hung.write_text(
        f"#!{sys.executable}\nimport sys, time\nsys.stdout.buffer.write({records!r})\n"
        "sys.stdout.flush()\ntime.sleep(60)\n"
    )
    hung.chmod(0o755)
    cfg = FOUND.model_copy(update={"find_command": str(hung), "list_timeout_seconds": 1.0})
    state = tmp_path / "state"
    rep = check_retention(store, NOW, config=cfg, state_dir=state)
    assert rep.status == "unknown" and "timed out" in rep.reasons[0]
    # The next scan starts cold and gives the whole answer.
    again = check_retention(store, NOW, config=FOUND, state_dir=state)
    assert again.stats["dirs_found"] > 0 and again.stats["dirs_reused"] == 0
    assert _answer(again) == _answer(check_retention(store, NOW, config=HERE))


def test_find_listing_runs_beside_other_threads(tmp_path: Path) -> None:
    _tree(tmp_path)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        rep = check_retention(tmp_path, NOW, config=FOUND)
    finally:
        stop.set()
        other.join()
    assert rep.stats["dirs_found"] > 0  # no fork of this process: safe in a service


_CHILD = """
import json, sys
from datetime import datetime
from pathlib import Path
from monitoring.retention import RetentionConfig, check_retention
now = datetime.fromisoformat(sys.argv[2])
out = {}
for name, cmd in (("found", "find"), ("here", None)):
    rep = check_retention(Path(sys.argv[1]), now,
                          config=RetentionConfig(required_days=2, find_command=cmd))
    d = rep.to_dict()
    d.pop("index"); d.pop("forecast"); d.pop("stats")
    out[name] = {"answer": d, "problems": rep.problems, "found": rep.stats["dirs_found"],
                 "status": rep.status}
print(json.dumps(out))
"""


def test_a_folder_find_cannot_read_is_a_problem_as_here(tmp_path: Path) -> None:
    _tree(tmp_path)
    hour = tmp_path / "recordings" / "2026-03-08" / "07" / "hall"
    hour.chmod(0)
    cmd = [sys.executable, "-c", _CHILD, str(tmp_path), NOW.isoformat()]
    if os.geteuid() == 0:  # root reads anything: drop the capabilities that allow it
        setpriv = shutil.which("setpriv")
        assert setpriv, "setpriv (util-linux) is needed to test permissions as root"
        cmd = [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *cmd]
    try:
        run = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
    finally:
        hour.chmod(0o755)
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout)
    found, here = got["found"], got["here"]
    assert found["found"] > 0 and here["found"] == 0
    assert found["answer"] == here["answer"]
    assert found["problems"] == here["problems"]
    assert ["2026-03-08/07/hall", "permission denied: Permission denied"] in found["problems"]
    assert found["status"] != "pass"


def test_verify_pass_keeps_to_its_file_budget(tmp_path: Path) -> None:
    start = datetime(2026, 3, 7, 10, tzinfo=UTC)
    write_frigate(tmp_path, "door", start, 3 * 24 * 60, 60.0)  # 60 files an hour folder
    settle_frigate(tmp_path)
    state = tmp_path / "state"
    cfg = FOUND.model_copy(update={"verify_files_per_scan": 120})
    check_retention(tmp_path, NOW, config=cfg, state_dir=state)
    rep = check_retention(tmp_path, NOW, config=cfg, state_dir=state)
    assert rep.stats["dirs_verified"] == 2  # 60 + 60 files: no third folder
    off = cfg.model_copy(update={"verify_files_per_scan": 0})
    assert check_retention(tmp_path, NOW, config=off, state_dir=state).stats["dirs_verified"] == 0
