"""Probing many RTSP streams at once vs one probe alone, same server, same run.

Starts GStreamer's RTSP server (Debian's gir1.2-gst-rtsp-server-1.0, run by the system
Python) on a loopback port with a few live H.264 mounts, probes each mount alone (the
baseline: the slowest single probe), then probes N streams (default 32, spread over the
mounts) concurrently with ``probe_many``. Target (issue 3): N concurrent probes take at
most 2x the slowest single probe.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from monitoring.probe import ProbeConfig, probe_many  # noqa: E402
from tests.rtsp_server import rtsp_server  # noqa: E402

TARGET = 2.0


def cpu_busy() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine, from /proc/stat."""
    fields = [float(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def main() -> None:
    """Baseline single probes, then N concurrent probes; print both and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=32)
    parser.add_argument("--mounts", type=int, default=4, help="live encoders on the server")
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--fps", type=int, default=15)
    parser.add_argument("--frames", type=int, default=25, help="burst per probe")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    # Imported here, not at the top: every probe process re-imports this module, and
    # benchmarks.common pulls in SQLAlchemy and Alembic, seconds per process on a busy box.
    from benchmarks.common import machine

    os.environ.setdefault("OPENCV_LOG_LEVEL", "ERROR")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    print(machine())
    print(
        f"{args.streams} streams over {args.mounts} mounts, {args.size} at {args.fps} fps, "
        f"{args.frames} frames per probe"
    )
    cfg = ProbeConfig(
        open_timeout_s=10,
        read_timeout_s=5,
        burst_frames=args.frames,
        burst_max_s=10,
        max_workers=args.streams,
    )
    w, h = args.size.split("x")
    specs = [f"cam{i}:{w}:{h}:{args.fps}" for i in range(args.mounts)]
    with rtsp_server(*specs) as port:
        mounts = [f"rtsp://127.0.0.1:{port}/cam{i}" for i in range(args.mounts)]
        probe_many(mounts[:1], cfg)  # warm the forkserver and the first encoder
        singles, many, statuses, busy = [], [], [], []
        for _ in range(args.rounds):
            for url in mounts:
                t0 = time.monotonic()
                (r,) = probe_many([url], cfg)
                singles.append(time.monotonic() - t0)
                statuses.append(r.status)
            urls = [mounts[i % args.mounts] for i in range(args.streams)]
            t0, c0 = time.monotonic(), cpu_busy()
            results = probe_many(urls, cfg)
            many.append(time.monotonic() - t0)
            c1 = cpu_busy()
            busy.append((c1[0] - c0[0]) / max(c1[1] - c0[1], 1.0))
            statuses.extend(r.status for r in results)
            fps = [r.fps for r in results if r.fps] or [0.0]
    bad = [s for s in statuses if s != "ok"]
    slowest = max(singles)
    best, median = min(many), statistics.median(many)
    print(f"single probe (probe_many of one): slowest {slowest:.2f} s, median "
          f"{statistics.median(singles):.2f} s over {len(singles)}")  # fmt: skip
    print(f"{args.streams} concurrent probes: median {median:.2f} s, best {best:.2f} s, "
          f"worst {max(many):.2f} s over {args.rounds} rounds")  # fmt: skip
    print(f"whole machine CPU busy during the concurrent rounds: {statistics.mean(busy):.0%}")
    print(f"measured fps in the last round: median {statistics.median(fps):.1f}")
    print(f"ratio median / slowest single: {median / slowest:.2f}  (target <= {TARGET:g})")
    if bad:
        print(f"{len(bad)} probe(s) not ok: {sorted(set(bad))}")
    print("PASS" if median / slowest <= TARGET and not bad else "FAIL")


if __name__ == "__main__":
    main()
