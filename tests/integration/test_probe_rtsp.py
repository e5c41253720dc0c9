"""Probe a real RTSP server (GStreamer's, from Debian's packages) started by the test."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from monitoring.probe import ProbeConfig, probe, probe_many
from tests.rtsp_server import available, rtsp_server

pytestmark = pytest.mark.skipif(
    not available(),
    reason="needs /usr/bin/python3 with gir1.2-gst-rtsp-server-1.0 (scripts/test.sh installs it)",
)


@pytest.fixture(scope="module")
def rtsp_port() -> Iterator[int]:
    with rtsp_server("room:640:480:15", "hall:320:240:10") as port:
        yield port


CFG = ProbeConfig(open_timeout_s=8, read_timeout_s=5, burst_frames=30, burst_max_s=6)


def test_probe_rtsp_stream_measures_fps_and_resolution(rtsp_port):
    result = probe(f"rtsp://viewer:secret@127.0.0.1:{rtsp_port}/room", CFG)
    assert result.status == "ok", result.reason
    assert (result.width, result.height) == (640, 480)
    assert result.fps == pytest.approx(15, rel=0.1)
    assert result.frames_read == 30
    assert result.url == f"rtsp://***@127.0.0.1:{rtsp_port}/room"


def test_probe_many_rtsp_streams_concurrently(rtsp_port):
    urls = [f"rtsp://127.0.0.1:{rtsp_port}/{m}" for m in ("room", "hall", "room", "hall")]
    urls.append(f"rtsp://127.0.0.1:{rtsp_port}/no-such-mount")
    single = probe(urls[1], CFG).elapsed_s
    t0 = time.monotonic()
    results = probe_many(urls, CFG)
    elapsed = time.monotonic() - t0
    assert [r.status for r in results] == ["ok", "ok", "ok", "ok", "failed"]
    assert [(r.width, r.height) for r in results[:2]] == [(640, 480), (320, 240)]
    # Four live encodes share two cores with the probes: allow the server to lag a little.
    assert results[1].fps == pytest.approx(10, rel=0.25)
    # One after another would take five probes plus the missing mount's wait.
    assert elapsed < 3 * single + 4, (elapsed, single)
