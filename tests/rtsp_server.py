"""A real RTSP server for tests and benchmarks: GStreamer's, from Debian's packages.

It runs under the system Python, because the virtual environment cannot import Debian's
``gi`` bindings. Each mount is a live H.264 encoder of a moving test pattern.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path

SYSTEM_PYTHON = Path("/usr/bin/python3")
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


def available() -> bool:
    """Whether the system Python can run GStreamer's RTSP server."""
    if not SYSTEM_PYTHON.exists():
        return False
    check = (
        "import gi; gi.require_version('GstRtspServer', '1.0'); gi.require_version('Gst', '1.0')"
    )
    done = subprocess.run([str(SYSTEM_PYTHON), "-c", check], capture_output=True, timeout=30)
    return done.returncode == 0


@contextlib.contextmanager
def rtsp_server(*mounts: str) -> Iterator[int]:
    """Serve ``name:width:height:fps`` mounts on 127.0.0.1; yield the port, stop afterwards."""
    proc = subprocess.Popen(
        [str(SYSTEM_PYTHON), "-c", SERVER, *mounts],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()  # the server prints its port once it listens
        if not line.startswith("ready"):
            raise RuntimeError(f"RTSP server did not start: {line!r} {proc.stderr.read()[:2000]!r}")
        yield int(line.split()[1])
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
