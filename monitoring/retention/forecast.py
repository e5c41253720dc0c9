"""How many days of recordings the store can hold at the measured write rate."""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass
from pathlib import Path

from monitoring.retention.config import RetentionConfig

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Forecast:
    """The store's capacity in days of recordings, against required_days + margin."""

    status: str
    reason: str
    total_bytes: int | None = None
    free_bytes: int | None = None
    recording_bytes: int = 0
    bytes_per_day: float = 0.0
    days: float | None = None
    needed_days: int = 0


def write_rate(hours: dict[int, int], earliest: float, now: float, window_days: int) -> float:
    """Bytes per day over the last ``window_days`` (or the history, when shorter)."""
    since = now - window_days * 86400
    written = sum(b for h, b in hours.items() if h + 3600 > since)
    span = min(window_days * 86400.0, max(now - earliest, 3600.0))
    return written / span * 86400


def forecast(
    root: Path, recording_bytes: int, bytes_per_day: float, config: RetentionConfig
) -> Forecast:
    """Days = (bytes already recorded + free bytes) / bytes written per day."""
    needed = config.required_days + config.forecast_margin_days
    try:
        usage = shutil.disk_usage(root)
    except OSError as exc:
        return Forecast(
            "unknown",
            f"cannot read the store's disk usage: {exc}",
            recording_bytes=recording_bytes,
            needed_days=needed,
        )
    base = {
        "total_bytes": usage.total,
        "free_bytes": usage.free,
        "recording_bytes": recording_bytes,
        "bytes_per_day": bytes_per_day,
        "needed_days": needed,
    }
    if bytes_per_day <= 0:
        return Forecast("unknown", "no writes measured in the rate window", **base)
    days = (recording_bytes + usage.free) / bytes_per_day
    if days < needed:
        return Forecast(
            "warn",
            f"the store holds {days:.1f} days at "
            f"{bytes_per_day / 1e9:.2f} GB/day, under {needed} days "
            f"({config.required_days} required + {config.forecast_margin_days} "
            "margin)",
            days=days,
            **base,
        )
    return Forecast(
        "pass",
        f"the store holds {days:.1f} days at {bytes_per_day / 1e9:.2f} GB/day (≥ {needed})",
        days=days,
        **base,
    )
