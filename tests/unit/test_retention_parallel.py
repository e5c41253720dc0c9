"""Parallel folder listing answers exactly like the serial one, and degrades safely."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitoring.retention import RetentionConfig, check_retention, listing
from monitoring.retention.testing import (
    frigate_path,
    settle_frigate,
    write_frigate,
    write_segment,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TEN = 600.0
SERIAL = RetentionConfig(required_days=2, list_workers=0)
POOLED = SERIAL.model_copy(update={"list_workers": 2, "list_workers_min_folders": 0})
PARENT = os.getpid()
ROOT = Path(__file__).resolve().parents[2]
# The pool forks only in a process without other threads (see listing.worker_count), and
# tests run earlier in the same session may leave daemon threads behind (broker log
# readers, MQTT client loops). So these tests run in a fresh interpreter, started by
# test_the_pool_tests_pass_in_a_process_without_threads.
FRESH = os.environ.get("CAREWATCH_TEST_FRESH_PROCESS") == "1"
RUNNER = "test_the_pool_tests_pass_in_a_process_without_threads"


@pytest.fixture(autouse=True)
def _in_a_fresh_process(request: pytest.FixtureRequest) -> None:
    if not FRESH and request.node.name != RUNNER:
        pytest.skip(f"runs in a fresh process, started by {RUNNER}")


def test_the_pool_tests_pass_in_a_process_without_threads() -> None:
    if FRESH:
        pytest.skip("this is the fresh process")
    env = {**os.environ, "CAREWATCH_TEST_FRESH_PROCESS": "1", "PYTHONPATH": str(ROOT)}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    summary = run.stdout.strip().splitlines()[-1:] or [""]
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    # Every test of the module ran there (only this runner skipped itself).
    assert " passed" in summary[0] and "1 skipped" in summary[0], summary


class CountingPool(listing.Pool):
    """The real pool, counting the batches it was given."""

    batches = 0
    pids: set[int] = set()

    def submit(self, batch):  # type: ignore[no-untyped-def]
        """Count, then submit; note the workers' process ids."""
        CountingPool.batches += 1
        ok = super().submit(batch)
        CountingPool.pids.update((getattr(self._ex, "_processes", None) or {}).keys())
        return ok


def _gone(pids: set[int]) -> bool:
    """True once none of ``pids`` is a running process (killed ones are reaped promptly)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        alive = set()
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().split(") ")[-1][0] != "Z":
                        alive.add(pid)
            except FileNotFoundError:
                pass
        if not alive:
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> type[CountingPool]:
    CountingPool.batches = 0
    CountingPool.pids = set()
    monkeypatch.setattr(listing, "Pool", CountingPool)
    return CountingPool


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
    (folder / "sub").mkdir()  # a folder inside a camera folder
    (folder / "sub" / "00.00.mp4").write_bytes(b"x")
    os.symlink("/nonexistent", folder / "05.00.mp4")  # a dangling symlink
    os.symlink(".", day / "loop")  # a symlink loop
    (day / "empty").mkdir()
    for p, mtime in settled.items():  # old folders stay old: listed by name, by workers
        os.utime(p, (mtime, mtime))


def _answer(rep) -> dict:  # type: ignore[no-untyped-def]
    out = rep.to_dict()
    out.pop("index")  # where the index lives
    out.pop("forecast")  # the free space of a shared disk moves between two scans
    return out


def test_parallel_listing_gives_the_serial_answer(tmp_path: Path, counted) -> None:  # type: ignore[no-untyped-def]
    _tree(tmp_path)
    serial = check_retention(tmp_path, NOW, config=SERIAL)
    assert counted.batches == 0
    pooled = check_retention(tmp_path, NOW, config=POOLED)
    assert counted.batches > 0  # the workers listed the old folders
    assert _answer(pooled) == _answer(serial)
    problems = dict(serial.problems)
    assert problems["2026-03-08/loop"] == "symlink not followed"
    assert problems["2026-03-08/09/door/05.00.mp4"] == "symlink not followed"
    assert "not a minute and second" in problems["2026-03-08/09/door/99.00.mp4"]
    assert "expected <date>" in problems["2026-03-08/09/door/sub/00.00.mp4"]
    hall = serial.cameras[1]
    assert [(g.seconds) for g in hall.gaps] == [7200.0]
    assert [b.reason for b in serial.cameras[0].bad] == ["zero-length file"]
    # With an index: the cold scans, then a rescan after a deletion, agree as well.
    s_state, p_state = tmp_path / "s", tmp_path / "p"
    a = check_retention(tmp_path, NOW, config=SERIAL, state_dir=s_state)
    b = check_retention(tmp_path, NOW, config=POOLED, state_dir=p_state)
    assert _answer(a) == _answer(b) == _answer(serial)
    gone = datetime(2026, 3, 9, 2, 10, tzinfo=UTC)
    frigate_path(tmp_path, "door", gone).unlink()
    a = check_retention(tmp_path, NOW, config=SERIAL, state_dir=s_state)
    b = check_retention(tmp_path, NOW, config=POOLED, state_dir=p_state)
    assert _answer(a) == _answer(b)
    assert _gone(counted.pids)


def test_unreadable_folder_in_a_worker_is_a_problem(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted
) -> None:  # type: ignore[no-untyped-def]
    _tree(tmp_path)
    hour = tmp_path / "recordings" / "2026-03-08" / "07" / "hall"
    real = os.scandir

    def flaky(path):  # type: ignore[no-untyped-def]
        if Path(path) == hour:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    # Workers are forked: they list through the same patched function.
    monkeypatch.setattr("monitoring.retention.listing.os.scandir", flaky)
    serial = check_retention(tmp_path, NOW, config=SERIAL)
    pooled = check_retention(tmp_path, NOW, config=POOLED)
    assert counted.batches > 0
    assert _answer(pooled) == _answer(serial)
    assert ("2026-03-08/07/hall", "permission denied: Permission denied") in pooled.problems
    assert pooled.status != "pass"


def test_a_hung_worker_times_out_into_problems_never_a_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted
) -> None:  # type: ignore[no-untyped-def]
    _tree(tmp_path)
    real = listing.read_names

    def stuck(rel, path, stat_subs):  # type: ignore[no-untyped-def]
        if os.getpid() != PARENT and rel.startswith("2026-03-08/1"):
            time.sleep(60)  # a hung mount: the worker never answers
        return real(rel, path, stat_subs)

    monkeypatch.setattr(listing, "read_names", stuck)
    cfg = POOLED.model_copy(update={"list_timeout_seconds": 1.0})
    t = time.monotonic()
    rep = check_retention(tmp_path, NOW, config=cfg)
    assert time.monotonic() - t < 30
    assert rep.status != "pass"
    late = [p for p, r in rep.problems if r == "not listed: listing timed out after 1 s"]
    assert late  # the folders still out when the pool was stopped
    assert counted.pids and _gone(counted.pids)  # the workers were stopped


def test_a_dead_worker_falls_back_to_listing_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, counted
) -> None:  # type: ignore[no-untyped-def]
    _tree(tmp_path)
    real = listing.read_names

    def dying(rel, path, stat_subs):  # type: ignore[no-untyped-def]
        if os.getpid() != PARENT and rel == "2026-03-09/03/door":
            os._exit(1)  # killed (out of memory, say)
        return real(rel, path, stat_subs)

    monkeypatch.setattr(listing, "read_names", dying)
    serial = check_retention(tmp_path, NOW, config=SERIAL)
    pooled = check_retention(tmp_path, NOW, config=POOLED)
    assert counted.batches > 0
    assert _answer(pooled) == _answer(serial)
    assert _gone(counted.pids)


def test_no_workers_where_other_threads_run() -> None:
    assert listing.worker_count(3) == 3 and listing.worker_count(0) == 0
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert listing.worker_count(3) == 0 and listing.worker_count(None) == 0
    finally:
        stop.set()
        other.join()


def test_small_stores_and_rescans_start_no_pool(tmp_path: Path, counted) -> None:  # type: ignore[no-untyped-def]
    _tree(tmp_path)
    cfg = SERIAL.model_copy(update={"list_workers": 2})  # default threshold: 1,000 folders
    check_retention(tmp_path, NOW, config=cfg, state_dir=tmp_path / "state")
    check_retention(tmp_path, NOW, config=cfg, state_dir=tmp_path / "state")
    assert counted.batches == 0


def test_verify_pass_keeps_to_its_file_budget(tmp_path: Path) -> None:
    start = datetime(2026, 3, 7, 10, tzinfo=UTC)
    write_frigate(tmp_path, "door", start, 3 * 24 * 60, 60.0)  # 60 files an hour folder
    settle_frigate(tmp_path)
    state = tmp_path / "state"
    cfg = SERIAL.model_copy(update={"verify_files_per_scan": 120})
    check_retention(tmp_path, NOW, config=cfg, state_dir=state)
    rep = check_retention(tmp_path, NOW, config=cfg, state_dir=state)
    assert rep.stats["dirs_verified"] == 2  # 60 + 60 files: no third folder
    off = cfg.model_copy(update={"verify_files_per_scan": 0})
    assert check_retention(tmp_path, NOW, config=off, state_dir=state).stats["dirs_verified"] == 0


def test_a_pool_lost_between_batches_leaves_the_rest_to_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _tree(tmp_path)

    class Failing(CountingPool):
        def submit(self, batch):  # type: ignore[no-untyped-def]
            """The third batch finds the pool gone (its workers were killed)."""
            if CountingPool.batches == 2:
                self.close(kill=True)
            return super().submit(batch)

    CountingPool.batches, CountingPool.pids = 0, set()
    monkeypatch.setattr(listing, "Pool", Failing)
    serial = check_retention(tmp_path, NOW, config=SERIAL)
    pooled = check_retention(tmp_path, NOW, config=POOLED)
    assert CountingPool.batches >= 3
    assert _answer(pooled) == _answer(serial)  # nothing lost, nothing "reached twice"
    assert _gone(CountingPool.pids)
