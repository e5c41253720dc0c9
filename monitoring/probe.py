"""Stream probe: open a camera stream with bounded timeouts, read a burst, measure it."""

from __future__ import annotations

import logging
import math
import multiprocessing as mp
import os
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as mp_wait
from multiprocessing.process import BaseProcess
from typing import Literal

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field

log = logging.getLogger(__name__)

Status = Literal["ok", "failed", "unknown"]
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@")


def mask_url(url: str) -> str:
    """The URL with any user:password@ replaced, safe to log and store."""
    return _USERINFO.sub(r"\g<scheme>***@", url)


class ProbeConfig(BaseModel):
    """Timeouts and burst size for probing camera streams."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    open_timeout_s: float = Field(5.0, gt=0, description="Time allowed to open the stream.")
    read_timeout_s: float = Field(5.0, gt=0, description="Time allowed for one frame to arrive.")
    burst_frames: int = Field(25, ge=2, description="Frames read per probe to measure the rate.")
    burst_max_s: float = Field(
        4.0, gt=0, description="Stop reading the burst after this long, even if short of frames."
    )
    keep_frames: int = Field(
        3, ge=0, description="Decoded frames kept in the result (spread over the burst)."
    )
    deadline_slack_s: float = Field(
        3.0,
        ge=0,
        description="Extra time on top of open + burst + one read before a probe is abandoned.",
    )
    max_workers: int = Field(16, ge=1, description="Probes running at the same time.")
    probe_deadline_s: float | None = Field(
        None,
        gt=0,
        description="Hard limit for one probe in probe_many; by default open + burst + one "
        "read + slack.",
    )
    rtsp_transport: Literal["tcp", "udp"] | None = Field(
        "tcp",
        description="RTSP transport passed to FFmpeg (through OPENCV_FFMPEG_CAPTURE_OPTIONS, "
        "only when that variable is not already set); None leaves FFmpeg's default.",
    )

    @property
    def deadline_s(self) -> float:
        """How long one probe may take before it is reported unknown."""
        if self.probe_deadline_s is not None:
            return self.probe_deadline_s
        return self.open_timeout_s + self.burst_max_s + self.read_timeout_s + self.deadline_slack_s


@dataclass
class ProbeResult:
    """What a probe found: status ok/failed/unknown, the reason and the measured stream."""

    url: str  # always masked
    status: Status
    reason: str
    width: int | None = None
    height: int | None = None
    fps: float | None = None  # the real rate: stream timestamps, or arrivals for HTTP/MJPEG
    fps_wall: float | None = None  # arrival rate after the first frames (files: decode speed)
    fps_nominal: float | None = None  # what the stream header claims
    frames_read: int = 0
    open_s: float | None = None
    elapsed_s: float = 0.0
    frames: list[np.ndarray] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready view (without the frames)."""
        return {
            "url": self.url,
            "status": self.status,
            "reason": self.reason,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "fps_wall": self.fps_wall,
            "fps_nominal": self.fps_nominal,
            "frames_read": self.frames_read,
            "open_s": self.open_s,
            "elapsed_s": round(self.elapsed_s, 3),
        }


def _set_rtsp_transport(config: ProbeConfig) -> None:
    # OpenCV reads FFmpeg options only from the environment, at open time. Respect an
    # operator's own setting; otherwise prefer TCP, which survives NAT and lossy Wi-Fi.
    if config.rtsp_transport and "OPENCV_FFMPEG_CAPTURE_OPTIONS" not in os.environ:
        os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = f"rtsp_transport;{config.rtsp_transport}"


def _measured_fps(stamps_ms: Sequence[float]) -> float | None:
    """Frame rate from the stream's own timestamps (strictly increasing ones only)."""
    uniq = sorted(set(s for s in stamps_ms if s > 0 and math.isfinite(s)))
    if len(uniq) < 2 or uniq[-1] <= uniq[0]:
        return None
    return round((len(uniq) - 1) * 1000.0 / (uniq[-1] - uniq[0]), 2)


def _arrival_fps(arrivals: Sequence[float]) -> float | None:
    """Frames per second of wall-clock arrival, skipping the frames buffered while opening."""
    # FFmpeg reads a few frames while it probes the stream; they come out at once.
    tail = arrivals[3:] if len(arrivals) > 6 else arrivals
    if len(tail) < 2 or tail[-1] <= tail[0]:
        return None
    return round((len(tail) - 1) / (tail[-1] - tail[0]), 2)


def probe(url: str, config: ProbeConfig | None = None) -> ProbeResult:
    """Probe one stream in the calling thread; never raises, never logs credentials.

    Several threads calling this open their streams one at a time (OpenCV's open lock);
    use probe_many for concurrency.
    """
    cfg = config or ProbeConfig()
    safe = mask_url(url)
    start = time.monotonic()
    _set_rtsp_transport(cfg)
    params = [
        cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
        int(cfg.open_timeout_s * 1000),
        cv2.CAP_PROP_READ_TIMEOUT_MSEC,
        int(cfg.read_timeout_s * 1000),
    ]
    cap = None
    try:
        cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)
        open_s = round(time.monotonic() - start, 3)
        if not cap.isOpened():
            if open_s >= cfg.open_timeout_s * 0.9:
                reason = f"no answer within the open timeout ({cfg.open_timeout_s:g} s)"
            else:
                reason = f"could not open the stream after {open_s:.2f} s (refused, not found "
                reason += "or not video)"
            return _done(safe, "failed", reason, start, open_s=open_s)
        return _burst(cap, safe, cfg, start, open_s)
    except Exception as exc:  # OpenCV raises cv2.error for odd inputs; never crash a scan.
        return _done(safe, "unknown", f"probe error: {type(exc).__name__}", start)
    finally:
        if cap is not None:
            cap.release()


def _burst(
    cap: cv2.VideoCapture, safe: str, cfg: ProbeConfig, start: float, open_s: float
) -> ProbeResult:
    nominal = cap.get(cv2.CAP_PROP_FPS)
    frames: list[np.ndarray] = []
    stamps: list[float] = []
    arrivals: list[float] = []
    shape = None
    burst_start = time.monotonic()
    while len(stamps) < cfg.burst_frames and time.monotonic() - burst_start < cfg.burst_max_s:
        ok, frame = cap.read()
        if not ok or frame is None:
            break
        arrivals.append(time.monotonic())
        shape = frame.shape
        stamps.append(cap.get(cv2.CAP_PROP_POS_MSEC))
        frames.append(frame)
    n = len(stamps)
    result = _done(safe, "ok", "", start, open_s=open_s)
    result.frames_read = n
    result.fps_nominal = round(nominal, 2) if nominal and nominal > 0 else None
    if n == 0:
        result.status = "failed"
        result.reason = (
            f"opened but no frame arrived within the read timeout ({cfg.read_timeout_s:g} s)"
        )
        return result
    result.height, result.width = int(shape[0]), int(shape[1])
    result.fps_wall = _arrival_fps(arrivals)
    if safe.lower().startswith(("http://", "https://")):
        # MJPEG over HTTP has no timestamps: FFmpeg invents them at a default 25 fps, so
        # the rate at which frames arrive is the only real measure.
        result.fps = result.fps_wall
    else:
        result.fps = _measured_fps(stamps) or result.fps_wall
    if cfg.keep_frames:
        picks = sorted(
            {round(i * (n - 1) / max(cfg.keep_frames - 1, 1)) for i in range(cfg.keep_frames)}
        )
        result.frames = [frames[i] for i in picks]
    if n < 2:
        result.reason = f"only {n} frame before the stream ended or stalled"
    else:
        result.reason = f"{n} frames, {result.width}x{result.height} at {result.fps} fps"
    return result


def _done(
    safe: str, status: Status, reason: str, start: float, open_s: float | None = None
) -> ProbeResult:
    result = ProbeResult(url=safe, status=status, reason=reason, open_s=open_s)
    result.elapsed_s = time.monotonic() - start
    if status != "ok":
        log.info("probe %s: %s (%s)", safe, status, reason)
    return result


def _child(conn: Connection, url: str, config: dict[str, object]) -> None:
    """Run one probe in a worker process and send the result back to the parent."""
    try:
        conn.send(probe(url, ProbeConfig(**config)))
    finally:
        conn.close()


def probe_many(urls: Sequence[str], config: ProbeConfig | None = None) -> list[ProbeResult]:
    """Probe many streams concurrently; a probe that overruns its deadline is 'unknown'.

    Each probe runs in its own process (forked from a forkserver that has imported
    OpenCV once), at most max_workers at a time. Not threads: OpenCV's FFmpeg backend
    holds one process-wide lock for the whole of open(), network waits included, so
    threads would open cameras one after another and one silent camera would delay all
    the others by its open timeout. A process that overruns its deadline (OpenCV stuck
    in a call that ignores its timeouts) is killed, so it cannot stall the batch or
    leak into the next one.
    """
    cfg = config or ProbeConfig()
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["cv2", "monitoring.probe"])
    results: list[ProbeResult | None] = [None] * len(urls)
    running: dict[Connection, tuple[int, BaseProcess, float]] = {}
    waiting = list(reversed(range(len(urls))))
    settings = cfg.model_dump()

    def finish(conn: Connection, result: ProbeResult) -> None:
        i, proc, _ = running.pop(conn)
        results[i] = result
        if result.status != "ok":  # the worker's own log records stay in the worker
            log.info("probe %s: %s (%s)", result.url, result.status, result.reason)
        conn.close()
        if proc.is_alive():
            proc.kill()
        proc.join()

    while waiting or running:
        while waiting and len(running) < cfg.max_workers:
            i = waiting.pop()
            parent, child = ctx.Pipe(duplex=False)
            proc = ctx.Process(
                target=_child, args=(child, urls[i], settings), daemon=True, name=f"probe-{i}"
            )
            proc.start()
            child.close()
            running[parent] = (i, proc, time.monotonic())
        next_deadline = min(t0 for _, _, t0 in running.values()) + cfg.deadline_s
        ready = mp_wait(list(running), timeout=max(0.0, next_deadline - time.monotonic()))
        for conn in ready:
            i, proc, t0 = running[conn]  # type: ignore[index]
            try:
                result = conn.recv()  # type: ignore[union-attr]
            except (EOFError, OSError):
                proc.join(1)
                result = ProbeResult(
                    url=mask_url(urls[i]),
                    status="unknown",
                    reason=f"probe process died (exit code {proc.exitcode})",
                    elapsed_s=time.monotonic() - t0,
                )
            finish(conn, result)  # type: ignore[arg-type]
        now = time.monotonic()
        for conn, (i, _, t0) in list(running.items()):
            if now - t0 >= cfg.deadline_s:
                safe = mask_url(urls[i])
                finish(
                    conn,
                    ProbeResult(
                        url=safe,
                        status="unknown",
                        reason=f"probe timed out: no result within {cfg.deadline_s:g} s",
                        elapsed_s=now - t0,
                    ),
                )
    return [r for r in results if r is not None]
