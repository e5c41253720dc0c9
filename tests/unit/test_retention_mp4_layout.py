"""The mp4 header check and the path layouts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitoring.retention import mp4
from monitoring.retention.layout import BadName, FrigateLayout, TemplateLayout

T = datetime(2026, 3, 10, 9, 15, 30, tzinfo=UTC).timestamp()


def _probe(tmp_path: Path, data: bytes) -> mp4.Mp4Info:
    p = tmp_path / "x.mp4"
    p.write_bytes(data)
    return mp4.probe(str(p), len(data))


@pytest.mark.parametrize(
    "kw",
    [{}, {"version": 1}, {"large_mdat": True}, {"moov_first": True}, {"timescale": 90000}],
)
def test_mvhd_duration_and_creation(tmp_path: Path, kw: dict) -> None:
    info = _probe(tmp_path, mp4.build(59.5, T, **kw))
    assert info == mp4.Mp4Info(duration=59.5, created=T)


def test_truncated_and_foreign_files(tmp_path: Path) -> None:
    assert _probe(tmp_path, mp4.build(10, T, moov=False)).problem == "truncated: no moov box"
    cut = mp4.build(10, T, moov_first=True)[:40]  # moov cut in the middle
    assert _probe(tmp_path, cut).problem == "truncated: moov box cut short"
    assert "not an mp4" in _probe(tmp_path, b"#EXTM3U\nnot a video at all\n").problem
    assert "not an mp4" in _probe(tmp_path, b"abc").problem
    assert _probe(tmp_path, mp4.build(10, None)).created is None


def test_probe_of_a_vanished_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    assert mp4.probe(str(tmp_path / "gone.mp4"), 100).problem.startswith("unreadable")


def test_frigate_names() -> None:
    lay = FrigateLayout()
    assert lay.parse("2026-03-10/09/door/15.30.mp4") == ("door", T)
    for bad in [
        "2026-03-10/09/door/15-30.mp4",
        "2026-03-10/09/15.30.mp4",
        "2026-02-30/09/door/15.30.mp4",
        "2026-03-10/25/door/15.30.mp4",
        "2026-03-10/09/door/15.30.mkv",
        "20260310/09/door/15.30.mp4",
    ]:
        with pytest.raises(BadName):
            lay.parse(bad)


def test_template_names_in_a_zone() -> None:
    lay = TemplateLayout("{camera}/%Y%m%d/{camera}_%H%M%S.mp4", zone="Asia/Shanghai")
    assert lay.parse("hall/20260310/hall_171530.mp4") == ("hall", T)
    with pytest.raises(BadName):
        lay.parse("hall/20260310/door_171530.mp4")  # camera must agree
    with pytest.raises(BadName):
        lay.parse("hall/20261310/hall_171530.mp4")
    with pytest.raises(ValueError):
        TemplateLayout("%Y/%m/%d/%H%M.mp4")  # no camera
    with pytest.raises(ValueError):
        TemplateLayout("{camera}/%Y%m%d.mp4")  # no time of day
