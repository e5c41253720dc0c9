"""Probe a real RTSP server (GStreamer's, from Debian's packages) started by the test."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitoring.probe import ProbeConfig, probe, probe_many

SYSTEM_PYTHON = Path("/usr/bin/python3")
# Runs under the system Python: the venv cannot import Debian's `gi` bindings.
SERVER = r"""
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer

Gst.init(None)
server = GstRtspServer.RTSPServer()
server.set_address("127.0.0.1")
server.set_service("0")
for spec in sys.argv[1:]:
    mount, width, height, fps = spec.split(":")
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f"( videotestsrc is-live=true pattern=ball ! video/x-raw,width={width},height={height},"
        f"framerate={fps}/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max={fps} "
        "! rtph264pay name=pay0 pt=96 config-interval=1 )"
    )
    factory.set_shared(True)
    server.get_mount_points().add_factory("/" + mount, factory)
server.attach(None)
print("ready", server.get_bound_port(), flush=True)
GLib.MainLoop().run()
"""


def _server_available() -> bool:
    if not SYSTEM_PYTHON.exists():
        return False
    check = (
        "import gi; gi.require_version('GstRtspServer', '1.0'); gi.require_version('Gst', '1.0')"
    )
    done = subprocess.run([str(SYSTEM_PYTHON), "-c", check], capture_output=True, timeout=30)
    return done.returncode == 0


pytestmark = pytest.mark.skipif(
    not _server_available(),
    reason="needs /usr/bin/python3 with gir1.2-gst-rtsp-server-1.0 (scripts/test.sh installs it)",
)


@pytest.fixture(scope="module")
def rtsp_port() -> Iterator[int]:
    proc = subprocess.Popen(
        [str(SYSTEM_PYTHON), "-c", SERVER, "room:640:480:15", "hall:320:240:10"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the server prints its port once it listens
        if not line.startswith("ready"):
            pytest.fail(f"RTSP server did not start: {line!r} {proc.stderr.read()[:2000]!r}")
        yield int(line.split()[1])
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
