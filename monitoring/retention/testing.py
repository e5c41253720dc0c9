"""Generate small recording trees of fake mp4 segments: for tests, demos and benchmarks."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitoring.retention import mp4

log = logging.getLogger(__name__)


def frigate_path(root: Path, camera: str, start: datetime) -> Path:
    """Where Frigate keeps the segment of ``camera`` starting at ``start``."""
    t = start.astimezone(UTC)
    return root / "recordings" / f"{t:%Y-%m-%d}" / f"{t:%H}" / camera / f"{t:%M.%S}.mp4"


def write_segment(
    path: Path,
    start: datetime,
    seconds: float,
    *,
    moov: bool = True,
    payload: int = 64,
    created: datetime | None = None,
    empty: bool = False,
) -> Path:
    """Write one fake segment whose header says ``seconds`` long; mtime = its end."""
    path.parent.mkdir(parents=True, exist_ok=True)
    made = (created or start).timestamp()
    data = b"" if empty else mp4.build(seconds, made, moov=moov, payload=payload)
    path.write_bytes(data)
    end = start.timestamp() + seconds
    os.utime(path, (end, end))
    return path


def write_frigate(
    root: Path, camera: str, start: datetime, count: int, seconds: float = 60.0, **kw
) -> list[Path]:
    """``count`` back-to-back segments of ``seconds`` from ``start`` in Frigate's layout."""
    return [
        write_segment(
            frigate_path(root, camera, start + timedelta(seconds=i * seconds)),
            start + timedelta(seconds=i * seconds),
            seconds,
            **kw,
        )
        for i in range(count)
    ]


def settle_frigate(root: Path) -> None:
    """Set every hour and camera folder's mtime to the end of its hour, as Frigate leaves them."""
    rec = root / "recordings"
    for day in rec.iterdir():
        for hour in day.iterdir():
            start = datetime.strptime(f"{day.name} {hour.name}", "%Y-%m-%d %H")
            end = start.replace(tzinfo=UTC).timestamp() + 3600
            for cam in hour.iterdir():
                os.utime(cam, (end, end))
            os.utime(hour, (end, end))
        last = max(h.stat().st_mtime for h in day.iterdir())
        os.utime(day, (last, last))
