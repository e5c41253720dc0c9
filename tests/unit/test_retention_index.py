"""The scan index: rescans read only what changed; deletions are audited; failures degrade."""

from __future__ import annotations

import os
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitoring.retention import RetentionConfig, check_retention
from monitoring.retention.forecast import forecast
from monitoring.retention.index import Index
from monitoring.retention.report import iso
from monitoring.retention.testing import frigate_path, write_frigate

# Folder mtimes are real, so these tests judge as of the real clock; settle 0 lets every
# folder written before the scan count as settled.
CFG = RetentionConfig(required_days=1, settle_seconds=0)
TEN = 600.0


def _now() -> datetime:
    return datetime.now(UTC)


def _base() -> datetime:
    # Whole hours, 21 hours back: 120 ten-minute segments per camera, then one more hour
    # that still ends before now whatever the minute of the clock (else it is "future").
    return _now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=21)


def test_rescan_reads_only_the_new_hour(tmp_path: Path) -> None:
    store, state, base = tmp_path / "store", tmp_path / "state", _base()
    for cam in ("door", "hall"):
        write_frigate(store, cam, base, 120, TEN)
    parsed: list[str] = []
    first = check_retention(
        store, _now(), config=CFG, state_dir=state, parse=True, parse_hook=parsed.append
    )
    assert len(parsed) == 240 and first.stats["files_statted"] == 240
    parsed.clear()
    new = write_frigate(store, "door", base + timedelta(hours=20), 6, TEN)
    again = check_retention(
        store, _now(), config=CFG, state_dir=state, parse=True, parse_hook=parsed.append
    )
    assert sorted(parsed) == sorted(str(p) for p in new)
    assert again.stats["files_statted"] == 6
    # the root, the changed day folder(s) and the new hour folders; the rest is reused
    assert again.stats["dirs_listed"] <= 5
    assert again.stats["dirs_reused"] >= first.stats["dirs_listed"] - 3
    door = again.cameras[0]
    assert door.latest == pytest.approx((base + timedelta(hours=21)).timestamp())
    # the same answer as a scan without any index
    full = check_retention(store, _now(), config=CFG, parse=True)
    assert [c.gaps for c in full.cameras] == [c.gaps for c in again.cameras]
    assert [c.unbroken_since for c in full.cameras] == [c.unbroken_since for c in again.cameras]


def test_deletions_of_young_segments_are_recorded(tmp_path: Path) -> None:
    store, state, base = tmp_path / "store", tmp_path / "state", _base()
    old = base - timedelta(days=2)
    write_frigate(store, "door", old, 6, TEN)  # older than required_days: may be purged
    paths = write_frigate(store, "door", base, 120, TEN)
    check_retention(store, _now(), config=CFG, state_dir=state)
    paths[3].unlink()  # one file
    shutil.rmtree(paths[60].parent.parent)  # a whole hour folder (10 h after base)
    shutil.rmtree(frigate_path(store, "door", old).parent.parent)  # old hour: no event
    rep = check_retention(store, _now(), config=CFG, state_dir=state)
    (door,) = rep.cameras
    got = sorted((iso(d.start), iso(d.end)) for d in door.deletions)
    t = base.timestamp()
    # Frigate's names are trusted (no header read), so a vanished file's end is its start
    # plus fallback_segment_seconds (10 s): the event marks where footage went missing.
    assert got == [(iso(t + i * TEN), iso(t + i * TEN + 10)) for i in (3, 60, 61, 62, 63, 64, 65)]
    assert door.status == "fail"  # 20 hours of a required day, and now holes
    assert "7 deletion(s) of segments younger than 1 days" in door.reasons
    # events persist: a third scan still reports them
    third = check_retention(store, _now(), config=CFG, state_dir=state)
    assert len(third.cameras[0].deletions) == 7


def test_unusable_index_is_reported_and_the_scan_still_runs(tmp_path: Path) -> None:
    write_frigate(tmp_path / "store", "door", _base(), 120, TEN)
    (tmp_path / "file").write_text("x")
    rep = check_retention(
        tmp_path / "store", _now(), config=CFG, state_dir=tmp_path / "file" / "state"
    )
    assert rep.index.startswith("disabled:")
    assert any("deletion audit not possible" in r for r in rep.reasons)
    assert rep.status in ("warn", "fail") and rep.cameras[0].latest is not None


def test_forecast_days(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    usage = shutil._ntuple_diskusage(total=1000 * 10**9, used=600 * 10**9, free=400 * 10**9)
    monkeypatch.setattr("monitoring.retention.forecast.shutil.disk_usage", lambda p: usage)
    cfg = RetentionConfig()
    f = forecast(tmp_path, 500 * 10**9, 10 * 10**9, cfg)
    assert f.status == "warn" and f.days == pytest.approx(90.0) and f.needed_days == 97
    assert forecast(tmp_path, 600 * 10**9, 10 * 10**9, cfg).status == "pass"
    assert forecast(tmp_path, 0, 0, cfg).status == "unknown"

    def broken(p):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr("monitoring.retention.forecast.shutil.disk_usage", broken)
    assert forecast(tmp_path, 1, 1, cfg).status == "unknown"


def test_unreadable_folder_is_a_problem_not_a_deletion(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, state, base = tmp_path / "store", tmp_path / "state", _base()
    paths = write_frigate(store, "door", base, 120, TEN)
    check_retention(store, _now(), config=CFG, state_dir=state)
    day = paths[0].parent.parent.parent  # the day folder
    day.touch()  # changed: it must be listed again, and that fails
    real = os.scandir

    def flaky(path):
        if Path(path) == day:
            raise PermissionError(13, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr("monitoring.retention.scan.os.scandir", flaky)
    rep = check_retention(store, _now(), config=CFG, state_dir=state)
    assert rep.cameras == [] or rep.cameras[0].deletions == []
    assert any("permission denied" in r for _, r in rep.problems)
    assert rep.status in ("warn", "fail", "unknown")


def test_a_corrupt_index_is_rebuilt_and_the_deletion_log_kept(tmp_path: Path) -> None:
    store, state, base = tmp_path / "store", tmp_path / "state", _base()
    paths = write_frigate(store, "door", base, 120, TEN)
    check_retention(store, _now(), config=CFG, state_dir=state)
    paths[3].unlink()
    assert len(check_retention(store, _now(), config=CFG, state_dir=state).cameras[0].deletions)
    path = Index(state, store, "frigate").path
    path.write_bytes(b"this is not an SQLite file" * 100)  # a crash mid-write, say
    rep = check_retention(store, _now(), config=CFG, state_dir=state)
    assert rep.index.startswith("persistent") and rep.stats["dirs_reused"] == 0  # cold
    (door,) = rep.cameras
    assert [iso(d.start) for d in door.deletions] == [iso(base.timestamp() + 3 * TEN)]
    again = check_retention(store, _now(), config=CFG, state_dir=state)
    assert again.stats["dirs_reused"] > 0 and len(again.cameras[0].deletions) == 1


def test_deletions_of_an_older_index_move_to_the_log(tmp_path: Path) -> None:
    store, state, base = tmp_path / "store", tmp_path / "state", _base()
    write_frigate(store, "door", base, 120, TEN)
    state.mkdir()
    path = Index(state, store, "frigate").path
    path.unlink()
    for suffix in ("-deletions",):
        Path(str(path).replace(".sqlite3", f"{suffix}.sqlite3")).unlink()
    old = sqlite3.connect(path)  # the format before the log had its own file
    old.execute(
        "CREATE TABLE deletions (id INTEGER PRIMARY KEY, camera TEXT NOT NULL, "
        "start REAL NOT NULL, end REAL NOT NULL, noticed REAL NOT NULL, path TEXT NOT NULL)"
    )
    t = base.timestamp()
    old.execute("INSERT INTO deletions VALUES (1, 'door', ?, ?, ?, 'x/10.00.mp4')", (t, t + 10, t))
    old.execute("PRAGMA user_version=4")
    old.commit()
    old.close()
    rep = check_retention(store, _now(), config=CFG, state_dir=state)
    assert [(d.start, d.path) for d in rep.cameras[0].deletions] == [(t, "x/10.00.mp4")]
    assert len(check_retention(store, _now(), config=CFG, state_dir=state).cameras[0].deletions)


def test_a_folder_restored_into_an_old_one_is_found_in_turn(tmp_path: Path) -> None:
    store, state, base = tmp_path / "store", tmp_path / "state", _base()
    old = base - timedelta(days=3)
    write_frigate(store, "door", old, 12, TEN)
    write_frigate(store, "door", base, 120, TEN)
    hour = frigate_path(store, "door", old).parent.parent
    past = old.timestamp() + 3600
    for p in (hour, hour / "door", hour.parent):
        os.utime(p, (past, past))  # old, settled folders
    cfg = CFG.model_copy(update={"required_days": 5, "recheck_slots": 4})
    check_retention(store, _now(), config=cfg, state_dir=state)
    write_frigate(store, "hall", old, 6, TEN)  # restored into the old hour folder
    os.utime(hour, (past + 1, past + 1))
    for p in (hour / "hall", hour.parent):
        os.utime(p, (past, past))
    found = [
        "hall"
        in {c.camera for c in check_retention(store, _now(), config=cfg, state_dir=state).cameras}
        for _ in range(4)
    ]
    assert found[-1] and found == sorted(found)  # within recheck_slots rescans, then kept


def test_a_new_folder_that_could_not_be_listed_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, state, base = tmp_path / "store", tmp_path / "state", _base()
    write_frigate(store, "door", base, 120, TEN)
    write_frigate(store, "hall", base + timedelta(hours=2), 6, TEN)
    hall = frigate_path(store, "hall", base + timedelta(hours=2)).parent
    real = os.scandir

    def flaky(path):  # type: ignore[no-untyped-def]
        if Path(path) == hall:
            raise OSError(5, "Input/output error", str(path))
        return real(path)

    monkeypatch.setattr("monitoring.retention.scan.os.scandir", flaky)
    for _ in range(2):  # reported on every scan while it stays unreadable
        rep = check_retention(store, _now(), config=CFG, state_dir=state)
        assert [c.camera for c in rep.cameras] == ["door"] and rep.status != "pass"
        assert any(p.endswith("/hall") and "Input/output error" in r for p, r in rep.problems)
    monkeypatch.undo()
    rep = check_retention(store, _now(), config=CFG, state_dir=state)
    assert rep.problems == [] and [c.camera for c in rep.cameras] == ["door", "hall"]
    full = check_retention(store, _now(), config=CFG)
    assert [c.gaps for c in rep.cameras] == [c.gaps for c in full.cameras]
    assert rep.cameras[1].earliest == full.cameras[1].earliest
