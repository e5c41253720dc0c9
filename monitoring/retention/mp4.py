"""A cheap mp4 header check: duration and creation time from ``moov/mvhd``, or truncation.

Only box headers are read; ``mdat`` and other large boxes are skipped with a seek, so a
parse costs a few small reads whatever the file size.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

log = logging.getLogger(__name__)

# Seconds between the mp4 epoch (1904-01-01) and the Unix epoch.
MP4_EPOCH_OFFSET = 2_082_844_800
# Top-level box types of ISO BMFF files; anything else first means "not an mp4".
_KNOWN = {b"ftyp", b"styp", b"moov", b"mdat", b"free", b"skip", b"wide", b"moof", b"uuid"}
# A moov larger than this is not a plausible header for a short segment; don't read it.
_MAX_MOOV = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Mp4Info:
    """What the header says: ``problem`` is None for a sound file."""

    duration: float | None = None
    created: float | None = None  # Unix epoch seconds, None when the field is 0
    problem: str | None = None


def _boxes(f: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield ``(type, payload offset, payload end)`` for the boxes between two offsets."""
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        head = f.read(8)
        if len(head) < 8:
            return
        size, kind = struct.unpack(">I4s", head)
        header = 8
        if size == 1:  # 64-bit size follows
            big = f.read(8)
            if len(big) < 8:
                return
            size = struct.unpack(">Q", big)[0]
            header = 16
        elif size == 0:  # box runs to the end
            size = end - pos
        if size < header:
            raise ValueError(f"box {kind!r} at {pos} has impossible size {size}")
        yield kind, pos + header, pos + size
        pos += size


def probe(path: str, size: int) -> Mp4Info:
    """Parse the top-level boxes of ``path`` (``size`` bytes long) and its ``mvhd``."""
    try:
        with open(path, "rb") as f:
            first = True
            for kind, body, end in _boxes(f, 0, size):
                if first and kind not in _KNOWN:
                    return Mp4Info(problem="not an mp4 file (no ftyp/moov box at the start)")
                first = False
                if end > size:
                    if kind == b"moov":
                        return Mp4Info(problem="truncated: moov box cut short")
                    break  # an mdat cut short: keep going only if moov came before
                if kind == b"moov":
                    if end - body > _MAX_MOOV:
                        return Mp4Info(problem="moov box implausibly large")
                    return _mvhd(f, body, end)
            if first:
                return Mp4Info(problem="not an mp4 file (too short)")
            return Mp4Info(problem="truncated: no moov box")
    except ValueError as exc:
        return Mp4Info(problem=f"not a valid mp4: {exc}")
    except OSError as exc:
        return Mp4Info(problem=f"unreadable: {exc.strerror or exc}")


def _mvhd(f: BinaryIO, body: int, end: int) -> Mp4Info:
    for kind, start, box_end in _boxes(f, body, end):
        if kind != b"mvhd":
            continue
        f.seek(start)
        data = f.read(min(box_end - start, 32))
        if len(data) < 20:
            return Mp4Info(problem="mvhd box too short")
        if data[0] == 1:
            if len(data) < 32:
                return Mp4Info(problem="mvhd box too short")
            created, _, scale, dur = struct.unpack(">QQIQ", data[4:32])
        else:
            created, _, scale, dur = struct.unpack(">IIII", data[4:20])
        if scale == 0:
            return Mp4Info(problem="mvhd timescale is 0")
        made = created - MP4_EPOCH_OFFSET if created else None
        return Mp4Info(duration=dur / scale, created=made)
    return Mp4Info(problem="moov without mvhd")


def build(
    duration: float,
    created: float | None = None,
    *,
    moov: bool = True,
    payload: int = 16,
    timescale: int = 1000,
    version: int = 0,
    large_mdat: bool = False,
    moov_first: bool = False,
) -> bytes:
    """A minimal mp4 (ftyp, mdat, moov/mvhd) with the given duration, for tests and demos."""
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2mp41")
    body = b"\0" * payload
    if large_mdat:
        mdat = struct.pack(">I4sQ", 1, b"mdat", 16 + len(body)) + body
    else:
        mdat = _box(b"mdat", body)
    made = int(created + MP4_EPOCH_OFFSET) if created is not None else 0
    dur = round(duration * timescale)
    if version == 1:
        fields = struct.pack(">B3xQQIQ", 1, made, made, timescale, dur)
    else:
        fields = struct.pack(">B3xIIII", 0, made, made, timescale, dur)
    mvhd = _box(b"mvhd", fields + b"\0" * 80)
    moov_box = _box(b"moov", mvhd)
    if not moov:
        return ftyp + mdat
    return ftyp + moov_box + mdat if moov_first else ftyp + mdat + moov_box


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload
