"""Retention proof on generated Frigate trees with hand-worked answers."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitoring.retention import RetentionConfig, TemplateLayout, check_retention
from monitoring.retention.report import iso
from monitoring.retention.testing import frigate_path, write_frigate, write_segment

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
# 2 required days keep trees small; every other threshold is the default.
CFG = RetentionConfig(required_days=2)
TEN = 600.0


def z(s: str) -> str:
    """An ISO instant in the report's form."""
    return datetime.fromisoformat(s).replace(tzinfo=UTC).isoformat()


def _door_with_gap(root: Path) -> None:
    # Local day 2026-03-09 (Asia/Shanghai) starts 2026-03-08T16:00Z; 10-minute segments
    # from then until now, with 04:00–05:00Z on 03-09 missing.
    start = datetime(2026, 3, 8, 16, 0, tzinfo=UTC)
    for i in range(264):
        t = start + timedelta(seconds=i * TEN)
        if not (datetime(2026, 3, 9, 4, tzinfo=UTC) <= t < datetime(2026, 3, 9, 5, tzinfo=UTC)):
            write_segment(frigate_path(root, "door", t), t, TEN)


def test_exact_gap_unbroken_since_and_days(tmp_path: Path) -> None:
    _door_with_gap(tmp_path)
    write_frigate(tmp_path, "hall", datetime(2026, 3, 8, 10, tzinfo=UTC), 300, TEN)
    rep = check_retention(tmp_path, NOW, config=CFG, parse=True)
    door, hall = rep.cameras
    assert door.camera == "door"
    assert [(iso(g.start), iso(g.end), g.seconds) for g in door.gaps] == [
        (z("2026-03-09T04:00"), z("2026-03-09T05:00"), 3600.0)
    ]
    assert iso(door.unbroken_since) == z("2026-03-09T05:00")
    assert door.unbroken_days == pytest.approx(31 / 24)
    assert iso(door.earliest) == z("2026-03-08T16:00") and iso(door.latest) == z("2026-03-10T12:00")
    # 23 of 24 hours on 03-09; 03-10 so far (20 h elapsed) fully covered.
    assert door.days == {"2026-03-09": pytest.approx(100 * 23 / 24, abs=1e-3), "2026-03-10": 100.0}
    assert door.fresh and door.status == "fail"
    assert "unbroken coverage 1.29 days" in door.reasons[0]
    assert hall.status == "pass" and hall.gaps == [] and hall.bad == []
    assert hall.unbroken_days == pytest.approx(50 / 24)
    assert rep.status == "fail"


def test_bad_segments_are_reported_and_left_out(tmp_path: Path) -> None:
    base = datetime(2026, 3, 10, 10, tzinfo=UTC)
    paths = write_frigate(tmp_path, "hall", base, 12, TEN)
    write_segment(paths[3], base + timedelta(seconds=3 * TEN), TEN, moov=False)  # truncated
    write_segment(paths[5], base + timedelta(seconds=5 * TEN), TEN, empty=True)
    write_segment(paths[7], base + timedelta(seconds=7 * TEN), TEN, payload=100_000)  # bitrate
    late = base + timedelta(seconds=9 * TEN)
    write_segment(paths[9], late, TEN, created=late + timedelta(hours=8))  # zone mix-up
    paths[10].write_text("this is not a video\n")
    os.utime(paths[10], (late.timestamp() + 2 * TEN,) * 2)
    future = NOW + timedelta(days=1)
    write_segment(frigate_path(tmp_path, "hall", future), future, TEN)
    (paths[0].parent / "thumbnail.jpg").write_bytes(b"\xff\xd8")
    rep = check_retention(tmp_path, NOW, config=CFG, parse=True)
    (hall,) = rep.cameras
    reasons = {b.path: b.reason for b in hall.bad}
    assert reasons["2026-03-10/10/hall/30.00.mp4"] == "truncated: no moov box"
    assert reasons["2026-03-10/10/hall/50.00.mp4"] == "zero-length file"
    assert "far off the median" in reasons["2026-03-10/11/hall/10.00.mp4"]
    assert reasons["2026-03-10/11/hall/30.00.mp4"] == (
        "name and mp4 creation time differ by +28800 s"
    )
    assert "not an mp4" in reasons["2026-03-10/11/hall/40.00.mp4"]
    assert any("in the future" in b.reason for b in hall.bad)
    assert [(iso(g.start), g.seconds) for g in hall.gaps] == [
        (z("2026-03-10T10:30"), 600.0),
        (z("2026-03-10T10:50"), 600.0),
        (z("2026-03-10T11:40"), 600.0),
    ]
    assert "2026-03-10/10/hall/thumbnail.jpg" in {p for p, _ in rep.problems}
    assert hall.status == "fail" and rep.status == "fail"


def test_stale_camera_fails(tmp_path: Path) -> None:
    write_frigate(tmp_path, "door", NOW - timedelta(days=3), 60 * 24 * 3 // 10 - 6, TEN)
    (door,) = check_retention(tmp_path, NOW, config=CFG).cameras
    assert not door.fresh and door.unbroken_since is None and door.status == "fail"
    assert door.reasons[0].startswith("not recording: the newest segment ended 3600 s ago")


def test_named_camera_without_recordings_fails(tmp_path: Path) -> None:
    write_frigate(tmp_path, "door", NOW - timedelta(hours=1), 6, TEN)
    rep = check_retention(tmp_path, NOW, config=CFG, cameras=["kitchen"])
    assert [c.camera for c in rep.cameras] == ["kitchen"]
    assert rep.cameras[0].reasons == ["no playable recordings found"] and rep.status == "fail"


def _loop(tmp_path: Path) -> Path:
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    return tmp_path / "a"


@pytest.mark.parametrize(
    ("make", "why"),
    [
        (lambda p: p / "missing", "folder missing"),
        (lambda p: p / "f" if (p / "f").write_text("x") else None, "is not a directory"),
        (_loop, "symlink loop"),
        (lambda p: p, "no recordings found"),
    ],
)
def test_stores_that_cannot_be_scanned_are_unknown(tmp_path: Path, make, why: str) -> None:
    rep = check_retention(make(tmp_path), NOW, config=CFG)
    assert rep.status == "unknown" and why in rep.reasons[0]


def test_permission_denied_is_unknown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests may run as root, where chmod 000 does not deny anything.
    def deny(path):
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr("monitoring.retention.scan.os.scandir", deny)
    rep = check_retention(tmp_path, NOW, config=CFG)
    assert rep.status == "unknown" and "permission denied" in rep.reasons[0]


def test_symlink_loop_inside_the_store_is_skipped(tmp_path: Path) -> None:
    write_frigate(tmp_path, "door", NOW - timedelta(hours=1), 6, TEN)
    (tmp_path / "recordings" / "2026-03-10" / "loop").symlink_to(tmp_path / "recordings")
    rep = check_retention(tmp_path, NOW, config=CFG)
    assert ("2026-03-10/loop", "symlink not followed") in rep.problems
    assert rep.status == "fail"  # 1 hour of 2 days; the loop neither crashed nor hung


def test_template_layout_reads_headers(tmp_path: Path) -> None:
    lay = TemplateLayout("{camera}/%Y%m%d/%H%M%S.mp4", zone="Asia/Shanghai")
    for i in range(6):
        t = NOW - timedelta(hours=1) + timedelta(seconds=i * TEN)
        local = t.astimezone(lay.zone)
        # Durations from the header: 590 s segments leave 10 s holes, under the tolerance.
        write_segment(tmp_path / "ch01" / f"{local:%Y%m%d}" / f"{local:%H%M%S}.mp4", t, 590)
    rep = check_retention(tmp_path, NOW, layout=lay, config=RetentionConfig(required_days=1))
    (ch,) = rep.cameras
    assert ch.camera == "ch01" and ch.gaps == [] and rep.stats["files_parsed"] == 6
    assert iso(ch.latest) == z("2026-03-10T11:59:50")
    assert ch.days["2026-03-10"] == pytest.approx(100 * 3540 / (20 * 3600), abs=1e-3)


def test_mtime_far_from_the_name_is_reported(tmp_path: Path) -> None:
    paths = write_frigate(tmp_path, "door", NOW - timedelta(hours=1), 6, TEN)
    skewed = (NOW - timedelta(days=1)).timestamp()  # 23 h 20 min before its 11:20 start
    os.utime(paths[2], (skewed, skewed))
    (door,) = check_retention(tmp_path, NOW, config=CFG).cameras
    assert [(b.path, b.reason) for b in door.bad] == [
        (
            "2026-03-10/11/door/20.00.mp4",
            "mtime differs from the name by -84000 s",
        )  # 23 h 20 min early
    ]
    assert door.gaps == []  # the segment still counts: only its timestamps disagree
    off = check_retention(tmp_path, NOW, config=RetentionConfig(mtime_skew_seconds=None))
    assert off.cameras[0].bad == []
