"""``carewatch monitor retention``: exit codes, JSON schema and human output."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner, Result

from carewatch import cli
from monitoring.retention.testing import write_frigate, write_segment

NOW = "2026-03-10T12:00:00+00:00"
START = datetime(2026, 3, 8, 12, tzinfo=UTC)


def run(*args: str) -> Result:
    return CliRunner().invoke(cli.cli, ["monitor", "retention", *args], catch_exceptions=False)


def _store(tmp_path: Path) -> Path:
    store = tmp_path / "frigate"
    write_frigate(store, "door", START, 288, 600)  # two full days until NOW
    (tmp_path / "cfg.json").write_text(json.dumps({"required_days": 2}))
    return store


def test_pass_is_exit_0_with_the_documented_json(tmp_path: Path) -> None:
    store = _store(tmp_path)
    res = run(
        str(store),
        "--now",
        NOW,
        "--config",
        str(tmp_path / "cfg.json"),
        "--json",
        "--state-dir",
        str(tmp_path / "state"),
    )
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["schema"] == 1 and doc["status"] == "pass" and doc["zone"] == "Asia/Shanghai"
    (door,) = doc["cameras"]
    assert door["unbroken_since"] == START.isoformat() and door["unbroken_days"] == 2.0
    assert door["gaps"] == [] and door["fresh"] is True
    assert list(door["coverage_percent_by_day"]) == ["2026-03-09", "2026-03-10"]
    assert doc["forecast"]["status"] == "pass" and doc["index"].startswith("persistent")


def test_fail_is_exit_1_with_a_readable_table(tmp_path: Path) -> None:
    store = _store(tmp_path)
    t = START + timedelta(days=1)
    write_segment(
        store / "recordings" / f"{t:%Y-%m-%d}" / "12" / "door" / "00.00.mp4", t, 600, empty=True
    )
    res = run(str(store), "--now", NOW, "--config", str(tmp_path / "cfg.json"))
    assert res.exit_code == 1
    assert "door" in res.stdout and "zero-length file" in res.stdout
    assert "FAIL" in res.stdout


def test_unknown_and_usage_errors_are_exit_2(tmp_path: Path) -> None:
    res = run(str(tmp_path / "nowhere"), "--json")
    assert res.exit_code == 2
    assert json.loads(res.stdout)["status"] == "unknown"
    assert run(str(tmp_path), "--layout", "template").exit_code == 2
    assert run(str(tmp_path), "--layout", "template", "--template", "%Y").exit_code == 2
    assert run(str(tmp_path), "--now", "2026-03-10T12:00").exit_code == 2
    (tmp_path / "bad.json").write_text('{"required_dayz": 3}')
    assert run(str(tmp_path), "--config", str(tmp_path / "bad.json")).exit_code == 2


def test_template_layout_and_camera_filter(tmp_path: Path) -> None:
    for i in range(6):
        t = datetime(2026, 3, 10, 11, tzinfo=UTC) + timedelta(seconds=600 * i)
        write_segment(tmp_path / "ch02" / f"{t:%Y%m%d%H%M%S}.mp4", t, 600)
    res = run(
        str(tmp_path),
        "--layout",
        "template",
        "--template",
        "{camera}/%Y%m%d%H%M%S.mp4",
        "--camera",
        "ch02",
        "--camera",
        "ch09",
        "--now",
        NOW,
        "--json",
    )
    doc = json.loads(res.stdout)
    assert [c["camera"] for c in doc["cameras"]] == ["ch02", "ch09"]
    assert doc["cameras"][0]["latest"] == NOW and doc["stats"]["files_parsed"] == 6
    assert doc["cameras"][1]["reasons"] == ["no playable recordings found"]
    assert res.exit_code == 1


def test_probe_is_reachable_from_the_monitor_group_and_loads_opencv_lazily():
    import subprocess
    import sys

    code = "import sys, carewatch.cli; print('cv2' in sys.modules)"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert loaded.stdout.strip() == "False"
    from click.testing import CliRunner

    from monitoring.cli import monitor

    result = CliRunner().invoke(monitor, ["probe", "--help"])
    assert result.exit_code == 0 and "Probe camera streams" in result.output
