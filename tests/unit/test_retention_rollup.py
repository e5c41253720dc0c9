"""Cold scans list old folders by name, the verify pass sizes them later, rollups per day."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitoring.retention import RetentionConfig, check_retention
from monitoring.retention.layout import FrigateLayout
from monitoring.retention.report import iso
from monitoring.retention.scan import summarise, summarise_names
from monitoring.retention.testing import (
    frigate_path,
    settle_frigate,
    write_frigate,
    write_segment,
)

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
TEN = 600.0
# Folder mtimes are set to the end of their hour (settle_frigate), so a fixed NOW works.
CFG = RetentionConfig(required_days=2, verify_folders_per_scan=0)
FULL = CFG.model_copy(update={"size_check_days": None})
GAP = datetime(2026, 3, 8, 4, tzinfo=UTC)


def _store(root: Path) -> int:
    """door: 10-minute segments from 03-07 12:00 to now, 03-08 04:00-05:00 missing."""
    start, n = datetime(2026, 3, 7, 12, tzinfo=UTC), 0
    for i in range(3 * 24 * 6):
        t = start + timedelta(seconds=i * TEN)
        if not GAP <= t < GAP + timedelta(hours=1):
            write_segment(frigate_path(root, "door", t), t, TEN)
            n += 1
    settle_frigate(root)
    return n


def _same(a, b) -> None:
    assert [(c.camera, c.gaps, c.unbroken_since, c.days, c.earliest, c.latest) for c in a] == [
        (c.camera, c.gaps, c.unbroken_since, c.days, c.earliest, c.latest) for c in b
    ]


def test_cold_scan_lists_old_folders_by_name_with_the_same_coverage(tmp_path: Path) -> None:
    total = _store(tmp_path)
    assert total == 426
    light = check_retention(tmp_path, NOW, config=CFG)
    full = check_retention(tmp_path, NOW, config=FULL)
    _same(light.cameras, full.cameras)
    (door,) = light.cameras
    assert [(iso(g.start), g.seconds) for g in door.gaps] == [(iso(GAP.timestamp()), 3600.0)]
    # Folders whose mtime (hour end) is at least one day old are listed by name: hours
    # 03-07 12:00 .. 03-09 10:00 (46 folders, 276 files); the 25 newest hours are sized.
    assert light.stats["files_named"] == 276 and light.stats["files_statted"] == 150
    assert full.stats["files_named"] == 0 and full.stats["files_statted"] == 426
    # Every segment has the same size: the estimate for unsized ones is exact.
    assert door.recorded_bytes == full.cameras[0].recorded_bytes
    size = frigate_path(tmp_path, "door", NOW - timedelta(hours=1)).stat().st_size
    # The write rate is measured on the sized 25 hours: 6 segments an hour.
    assert door.bytes_per_day == pytest.approx(6 * size * 24)


def test_verify_pass_sizes_old_folders_and_finds_what_names_hide(tmp_path: Path) -> None:
    _store(tmp_path)
    old = datetime(2026, 3, 8, 10, 20, tzinfo=UTC)
    write_segment(frigate_path(tmp_path, "door", old), old, TEN, empty=True)
    settle_frigate(tmp_path)
    state = tmp_path / "state"
    cfg = CFG.model_copy(update={"verify_folders_per_scan": 4})
    cold = check_retention(tmp_path, NOW, config=cfg, state_dir=state)
    assert cold.cameras[0].bad == [] and cold.cameras[0].gaps[1:] == []  # not seen yet
    first = check_retention(tmp_path, NOW, config=cfg, state_dir=state)
    assert first.stats["dirs_verified"] == 4 and first.cameras[0].bad == []
    # Newest first: 03-09 10:00 back to 03-08 10:00 is the 25th folder, found by the 7th.
    for _ in range(5):
        check_retention(tmp_path, NOW, config=cfg, state_dir=state)
    seventh = check_retention(tmp_path, NOW, config=cfg, state_dir=state)
    (door,) = seventh.cameras
    assert [(b.path, b.reason) for b in door.bad] == [
        ("2026-03-08/10/door/20.00.mp4", "zero-length file")
    ]
    assert seventh.stats["rollups_rebuilt"] == 1  # that camera's day, from its folders
    _same(seventh.cameras, check_retention(tmp_path, NOW, config=FULL).cameras)
    assert (
        door.recorded_bytes == check_retention(tmp_path, NOW, config=FULL).cameras[0].recorded_bytes
    )


def test_rescan_decodes_only_changed_folders_and_rebuilds_one_day(tmp_path: Path) -> None:
    _store(tmp_path)
    state = tmp_path / "state"
    cfg = CFG.model_copy(update={"recheck_slots": 1})  # every folder on every rescan
    cold = check_retention(tmp_path, NOW, config=cfg, state_dir=state)
    again = check_retention(tmp_path, NOW, config=cfg, state_dir=state)
    # Only the unsettled newest hour (and the folders above it) are listed again.
    assert again.stats["parts_decoded"] == 0 and again.stats["rollups_rebuilt"] == 0
    assert again.stats["dirs_listed"] <= 4
    _same(again.cameras, cold.cameras)
    later = NOW + timedelta(hours=1)
    write_frigate(tmp_path, "door", NOW, 6, TEN)
    settle_frigate(tmp_path)
    hour = check_retention(tmp_path, later, config=cfg, state_dir=state)
    assert hour.stats["rollups_rebuilt"] == 0 and hour.stats["parts_decoded"] <= 1
    _same(hour.cameras, check_retention(tmp_path, later, config=FULL).cameras)
    # A file deleted inside a settled, rolled-up folder: that day is rebuilt, exactly.
    gone = datetime(2026, 3, 9, 2, 30, tzinfo=UTC)
    frigate_path(tmp_path, "door", gone).unlink()
    after = check_retention(tmp_path, later, config=cfg, state_dir=state)
    assert after.stats["rollups_rebuilt"] == 1
    (door,) = after.cameras
    assert [(iso(g.start), g.seconds) for g in door.gaps] == [
        (iso(GAP.timestamp()), 3600.0),
        (iso(gone.timestamp()), 600.0),
    ]
    assert [(iso(d.start), iso(d.end)) for d in door.deletions] == [
        (iso(gone.timestamp()), iso(gone.timestamp() + 10))
    ]
    _same(after.cameras, check_retention(tmp_path, later, config=FULL).cameras)


def test_old_folders_are_rechecked_in_turn(tmp_path: Path) -> None:
    _store(tmp_path)
    state = tmp_path / "state"
    cfg = CFG.model_copy(update={"recheck_slots": 4})
    check_retention(tmp_path, NOW, config=cfg, state_dir=state)
    full = check_retention(tmp_path, NOW, config=CFG.model_copy(update={"recheck_slots": 1}))
    # Old, settled folders (parents included) are shared out over 4 turns; the root and
    # the last day's folders (mtime within size_check_days) are checked every time.
    gone = datetime(2026, 3, 9, 2, 10, tzinfo=UTC)
    frigate_path(tmp_path, "door", gone).unlink()
    seen, checked = [], 0
    for _ in range(4):
        rep = check_retention(tmp_path, NOW, config=cfg, state_dir=state)
        checked += rep.stats["dirs_reused"] + rep.stats["dirs_listed"]
        seen.append(len(rep.cameras[0].deletions))
    assert seen[-1] == 1 and seen.count(0) == seen.index(1)  # noticed once, then kept
    assert checked < 4 * full.stats["dirs_listed"]
    (door,) = rep.cameras
    assert [iso(g.start) for g in door.gaps] == [iso(GAP.timestamp()), iso(gone.timestamp())]


@pytest.mark.parametrize(
    "names",
    [
        ["00.00.mp4", "01.00.mp4", "02.00.mp4"],
        ["00.00.mp4", "00.10.mp4", "05.00.mp4", "05.10.mp4", "05.20.mp4", "59.50.mp4"],
        ["10.00.mp4", "note.txt", "12.00.mp4", "99.00.mp4"],
        ["30.00.mp4"],
    ],
)
def test_per_folder_summary_matches_the_per_file_one(names: list[str]) -> None:
    layout, cfg, now = FrigateLayout(), RetentionConfig(), NOW.timestamp()
    rel = "2026-03-10/09/door"
    fast = summarise_names(rel, names, layout, cfg, now)
    slow = summarise(rel, dict.fromkeys(names, (None,) * 5), layout, cfg, now)
    assert fast == slow


def test_folder_store_is_a_recording_source(tmp_path: Path) -> None:
    from monitoring.retention.source import FolderSource

    _store(tmp_path)
    source = FolderSource(tmp_path, NOW, config=CFG)
    assert list(source.cameras()) == ["door"]
    spans = [(iso(s.start.timestamp()), iso(s.end.timestamp())) for s in source.segments("door")]
    assert spans == [
        (z("2026-03-07T12:00"), z("2026-03-08T04:00")),
        (z("2026-03-08T05:00"), z("2026-03-10T12:00")),
    ]
    assert list(source.segments("hall")) == []


def z(s: str) -> str:
    return datetime.fromisoformat(s).replace(tzinfo=UTC).isoformat()


def _entries(sizes: dict[str, int], mtime: float) -> dict[str, list]:
    return {
        n: [s, int((mtime + i * 60) * 1e9), None, None, None]
        for i, (n, s) in enumerate(sizes.items())
    }


@pytest.mark.parametrize(
    ("sizes", "skew"),
    [
        ({f"{m:02d}.00.mp4": 1000 for m in range(60)}, 3600.0),  # the usual hour: fast
        ({f"{m:02d}.00.mp4": 1000 + m for m in range(0, 60, 2)}, None),
        ({"00.00.mp4": 1000, "01.00.mp4": 0, "02.00.mp4": 1000}, 3600.0),  # zero-length
        ({"00.00.mp4": 1000, "01.00.mp4": 90_000, "02.00.mp4": 1000}, None),  # bitrate
        ({"00.00.mp4": 1000, "01.00.mp4": 1000, "02.30.mp4": 1000}, None),  # uneven
        ({"00.00.mp4": 1000, "01.00.mp4": 1000, "02.00.mp4": 1000}, 10.0),  # mtime skew
    ],
)
def test_sized_folder_summary_matches_the_per_file_one(sizes, skew) -> None:
    from monitoring.retention.scan import summarise_sized

    layout, now = FrigateLayout(), NOW.timestamp()
    cfg = RetentionConfig(mtime_skew_seconds=skew)
    rel = "2026-03-10/09/door"
    base = datetime(2026, 3, 10, 9, 1, tzinfo=UTC).timestamp()  # each file's mtime: its end
    entries = _entries(sizes, base)
    assert summarise_sized(rel, entries, layout, cfg, now, {}) == summarise(
        rel, entries, layout, cfg, now
    )
