"""Stream probe on generated clips, dead sockets, non-video files and a hung probe."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from monitoring.probe import ProbeConfig, mask_url, probe, probe_many
from monitoring.probe_cli import probe_command
from tests import media

FAST = ProbeConfig(open_timeout_s=1.5, read_timeout_s=1.5, burst_max_s=2.0, deadline_slack_s=1.0)


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("clips")
    return {
        "mp4": media.normal_clip(d / "room.mp4", 30, 640, 360, fps=12.5, fourcc="mp4v"),
        "avi": media.normal_clip(d / "hall.avi", 20, 320, 240, fps=5.0, fourcc="MJPG"),
    }


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts connections and never says a word."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join(2)
    for c in conns:
        c.close()
    srv.close()


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("rtsp://admin:s3cret@10.0.0.5:554/Streaming/101", "rtsp://***@10.0.0.5:554/Streaming/101"),
        ("http://user@cam/mjpg", "http://***@cam/mjpg"),
        ("rtsp://10.0.0.5/live", "rtsp://10.0.0.5/live"),
        ("/var/clips/a@b.mp4", "/var/clips/a@b.mp4"),
    ],
)
def test_mask_url(url, masked):
    assert mask_url(url) == masked


def test_probe_mp4_file_measures_fps_and_resolution(clips):
    result = probe(str(clips["mp4"]), FAST)
    assert result.status == "ok", result.reason
    assert (result.width, result.height) == (640, 360)
    assert result.fps == pytest.approx(12.5, rel=0.02)
    assert result.fps_nominal == pytest.approx(12.5, rel=0.02)
    assert result.frames_read == FAST.burst_frames
    assert len(result.frames) == FAST.keep_frames
    assert result.frames[0].shape == (360, 640, 3)


def test_probe_mjpeg_avi_file(clips):
    result = probe(str(clips["avi"]), FAST)
    assert result.status == "ok", result.reason
    assert (result.width, result.height, result.fps) == (320, 240, 5.0)
    assert result.frames_read == 20  # the clip ends before the burst is full
    assert result.reason == "20 frames, 320x240 at 5.0 fps"


def test_file_that_is_not_video_fails_with_a_reason(tmp_path):
    bogus = tmp_path / "notes.mp4"
    bogus.write_text("this is not a video\n" * 100)
    result = probe(str(bogus), FAST)
    assert result.status == "failed"
    assert "could not open" in result.reason


def test_missing_file_fails(tmp_path):
    result = probe(str(tmp_path / "nope.mp4"), FAST)
    assert result.status == "failed" and result.frames_read == 0


@pytest.mark.parametrize("scheme", ["rtsp", "http"])
def test_silent_camera_times_out_within_the_open_timeout(silent_server, scheme):
    url = f"{scheme}://admin:pw@127.0.0.1:{silent_server}/stream"
    t0 = time.monotonic()
    result = probe(url, FAST)
    elapsed = time.monotonic() - t0
    assert result.status == "failed"
    assert "open timeout" in result.reason
    assert elapsed < FAST.open_timeout_s + 1.5
    assert "pw" not in result.url and "admin" not in result.url


def test_closed_port_fails_fast():
    result = probe(f"rtsp://127.0.0.1:{closed_port()}/live", FAST)
    assert result.status == "failed"
    assert result.elapsed_s < 1.0
    assert "could not open" in result.reason


def test_credentials_never_reach_the_log(silent_server, caplog):
    caplog.set_level(logging.DEBUG, logger="monitoring")
    probe(f"rtsp://admin:hunter2@127.0.0.1:{silent_server}/x", FAST)
    probe_many([f"rtsp://admin:hunter2@127.0.0.1:{silent_server}/y"], FAST)
    assert "/x" in caplog.text and "/y" in caplog.text
    assert "hunter2" not in caplog.text and "***@127.0.0.1" in caplog.text


def test_probe_many_runs_concurrently(clips, silent_server):
    urls = [f"rtsp://127.0.0.1:{silent_server}/cam{i}" for i in range(4)] + [str(clips["mp4"])]
    t0 = time.monotonic()
    results = probe_many(urls, FAST)
    elapsed = time.monotonic() - t0
    assert [r.status for r in results] == ["failed"] * 4 + ["ok"]
    # Four silent cameras in parallel cost one open timeout, not four.
    assert elapsed < 2 * FAST.open_timeout_s + 1


def test_a_hung_probe_is_killed_as_unknown_and_does_not_stall_the_rest(clips, silent_server):
    # The hard deadline is shorter than OpenCV's own open timeout: the probe is still
    # blocked inside OpenCV when the deadline passes, as with a call that ignores timeouts.
    cfg = ProbeConfig(open_timeout_s=20, read_timeout_s=1, probe_deadline_s=2.0, max_workers=4)
    urls = [f"rtsp://u:p@127.0.0.1:{silent_server}/hung", str(clips["mp4"]), str(clips["avi"])]
    t0 = time.monotonic()
    results = probe_many(urls, cfg)
    elapsed = time.monotonic() - t0
    assert [r.status for r in results] == ["unknown", "ok", "ok"]
    assert "timed out" in results[0].reason
    assert results[0].url == f"rtsp://***@127.0.0.1:{silent_server}/hung"
    assert elapsed < cfg.deadline_s + 2
    assert results[1].frames and results[1].frames[0].shape == (360, 640, 3)


def test_to_dict_has_no_frames(clips):
    data = probe(str(clips["mp4"]), FAST).to_dict()
    assert "frames" not in data and data["status"] == "ok" and data["width"] == 640


def test_probe_command_json_and_exit_code(clips):
    runner = CliRunner()
    ok = runner.invoke(probe_command, ["--json", "--timeout", "1", str(clips["avi"])])
    assert ok.exit_code == 0, ok.output
    rows = json.loads(ok.output)
    assert rows[0]["fps"] == 5.0 and rows[0]["image"]["status"] == "normal"
    bad = runner.invoke(
        probe_command, ["--timeout", "1", f"rtsp://a:pw@127.0.0.1:{closed_port()}/x"]
    )
    assert bad.exit_code == 1
    assert "failed" in bad.output and "pw" not in bad.output
    assert runner.invoke(probe_command, []).exit_code == 2


def test_http_mjpeg_camera_rate_is_measured_from_arrivals():
    rng = np.random.default_rng(3)
    scene = media.room_scene(320, 240)
    server = media.MjpegServer([media.normal_frame(scene, t, rng) for t in range(8)], fps=10)
    try:
        cfg = ProbeConfig(open_timeout_s=3, read_timeout_s=3, burst_frames=16, burst_max_s=4)
        result = probe(f"http://cam:pw@127.0.0.1:{server.port}/video.mjpg", cfg)
    finally:
        server.close()
    assert result.status == "ok", result.reason
    assert (result.width, result.height) == (320, 240)
    # FFmpeg's own timestamps would say 25 fps; the camera sends 10.
    assert result.fps == pytest.approx(10, rel=0.15)
