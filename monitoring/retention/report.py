"""Result dataclasses, the per-camera verdicts and the JSON form (schema in the CLI help).

Per-day coverage is over local days in ``RetentionConfig.zone`` (default Asia/Shanghai);
today's percent is over the part of today that has passed.
"""

from __future__ import annotations

import functools
import itertools
import json
import logging
import statistics
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from monitoring.retention.config import RetentionConfig
from monitoring.retention.forecast import Forecast, write_rate
from monitoring.retention.index import DeletionEvent

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
_RANK = {"pass": 0, "warn": 1, "fail": 2, "unknown": 3}


def iso(t: float | None) -> str | None:
    """An epoch as an ISO 8601 UTC instant."""
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat()


def worst(statuses: list[str]) -> str:
    """The most severe status (unknown beats fail: a check that did not run never passes)."""
    return max(statuses, key=_RANK.__getitem__, default="unknown")


@dataclass(slots=True)
class Gap:
    """A hole in a camera's recordings longer than the tolerance."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        """Length of the gap."""
        return self.end - self.start


@dataclass(slots=True)
class BadSegment:
    """A file that was left out of coverage or whose facts disagree, and why."""

    path: str
    start: float | None
    reason: str


@dataclass(slots=True)
class CameraReport:
    """Everything the retention proof says about one camera."""

    camera: str
    status: str = "unknown"
    reasons: list[str] = field(default_factory=list)
    earliest: float | None = None
    latest: float | None = None
    unbroken_since: float | None = None
    unbroken_days: float = 0.0
    fresh: bool = False
    gaps: list[Gap] = field(default_factory=list)
    days: dict[str, float] = field(default_factory=dict)
    bad: list[BadSegment] = field(default_factory=list)
    deletions: list[DeletionEvent] = field(default_factory=list)
    recorded_bytes: int = 0
    bytes_per_day: float = 0.0


@dataclass(slots=True)
class RetentionReport:
    """The whole scan: overall status, per-camera reports, forecast, and how it ran."""

    store: str
    layout: str
    now: float
    zone: str
    status: str = "unknown"
    reasons: list[str] = field(default_factory=list)
    cameras: list[CameraReport] = field(default_factory=list)
    forecast: Forecast | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)
    index: str = ""
    stats: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The documented JSON form (times ISO 8601 UTC, day keys local dates)."""
        cams = []
        for c in self.cameras:
            cams.append(
                {
                    "camera": c.camera,
                    "status": c.status,
                    "reasons": c.reasons,
                    "earliest": iso(c.earliest),
                    "latest": iso(c.latest),
                    "unbroken_since": iso(c.unbroken_since),
                    "unbroken_days": round(c.unbroken_days, 3),
                    "fresh": c.fresh,
                    "gaps": [
                        {"start": iso(g.start), "end": iso(g.end), "seconds": g.seconds}
                        for g in c.gaps
                    ],
                    "coverage_percent_by_day": c.days,
                    "bad_segments": [
                        {"path": b.path, "start": iso(b.start), "reason": b.reason} for b in c.bad
                    ],
                    "deletions": [
                        {
                            "start": iso(d.start),
                            "end": iso(d.end),
                            "noticed": iso(d.noticed),
                            "path": d.path,
                        }
                        for d in c.deletions
                    ],
                    "recorded_bytes": c.recorded_bytes,
                    "bytes_per_day": round(c.bytes_per_day),
                }
            )
        return {
            "schema": SCHEMA_VERSION,
            "store": self.store,
            "layout": self.layout,
            "now": iso(self.now),
            "zone": self.zone,
            "status": self.status,
            "reasons": self.reasons,
            "cameras": cams,
            "forecast": asdict(self.forecast) if self.forecast else None,
            "problems": [{"path": p, "reason": r} for p, r in self.problems],
            "index": self.index,
            "stats": self.stats,
        }

    def to_json(self) -> str:
        """``to_dict`` as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False)


def _merge(runs: list[list[float]], slack: float) -> list[list[float]]:
    out: list[list[float]] = []
    for s, e in sorted(runs):
        if out and s - out[-1][1] <= slack:
            out[-1][1] = max(out[-1][1], e)
        else:
            out.append([s, e])
    return out


@functools.lru_cache(maxsize=8)
def _day_bounds(now: float, zone: str, days: int) -> tuple[tuple[str, float, float], ...]:
    """``(ISO date, start, end)`` of the last ``days`` local days, oldest first; the end of
    today is ``now``. The same for every camera of a report: computed once."""
    tz = ZoneInfo(zone)
    today = datetime.fromtimestamp(now, tz).date()
    out = []
    for back in range(days - 1, -1, -1):
        day = today - timedelta(days=back)
        ds = datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()
        nxt = day + timedelta(days=1)
        de = min(datetime(nxt.year, nxt.month, nxt.day, tzinfo=tz).timestamp(), now)
        out.append((day.isoformat(), ds, de))
    return tuple(out)


def _days(runs: list[list[float]], now: float, config: RetentionConfig) -> dict[str, float]:
    """Percent of each local day covered, for the last ``required_days`` days.

    ``runs`` are merged (sorted, disjoint), so one sweep serves every day.
    """
    out: dict[str, float] = {}
    first, n = 0, len(runs)
    for name, ds, de in _day_bounds(now, config.zone, config.required_days):
        while first < n and runs[first][1] <= ds:
            first += 1  # ends before this day, so before every later day too
        if first < n and runs[first][0] <= ds and runs[first][1] >= de:
            out[name] = 100.0 if de > ds else 0.0  # one run covers the whole day: the usual
            continue
        covered = 0.0
        i = first
        while i < n and runs[i][0] < de:
            s, e = runs[i]
            covered += max(0.0, min(e, de) - max(s, ds))
            i += 1
        out[name] = round(100.0 * covered / (de - ds), 3) if de > ds else 0.0
    return out


def camera_report(
    camera: str,
    parts: list[tuple[dict, str]],
    deletions: list[DeletionEvent],
    now: float,
    config: RetentionConfig,
) -> CameraReport:
    """Combine a camera's folder summaries (or rollups) into its report and verdict."""
    rep = CameraReport(camera)
    raw: list[list[float]] = []
    hours: dict[int, int] = {}
    rates: list[tuple[float, str]] = []
    sized = unsized = 0
    for part, folder in parts:  # about 90 rollups per camera: the usual part is plain
        raw.extend(part["runs"])
        if part["bad"]:
            rep.bad.extend(BadSegment(*b) for b in part["bad"])
        if "future" in part:
            rep.bad.extend(
                BadSegment(p, s, f"starts in the future ({s - now:+.0f} s from now: clock skew)")
                for p, s, _ in part["future"]
            )
        rep.recorded_bytes += part["bytes"]
        sized += part.get("n", 0)
        unsized += part.get("unsized", 0)
        if part["hours"]:
            for h, b in part["hours"].items():
                hours[int(h)] = hours.get(int(h), 0) + b
        if part.get("rate"):
            rates.append((part["rate"], folder))
        if part.get("rates"):
            rates.extend((r, f) for r, f in part["rates"])
    if rates:  # folders whose own median is far off the camera's (segments within a folder
        # were already judged against the folder's median when it was summarised)
        med = statistics.median(r for r, _ in rates)
        tol = config.bitrate_tolerance
        rep.bad.extend(
            BadSegment(f, None, f"folder median {r:.0f} B/s is far off the camera's {med:.0f} B/s")
            for r, f in rates
            if not med / tol <= r <= med * tol
        )
    if unsized and sized:
        # Segments listed by name only (not sized yet) are counted at the camera's mean
        # segment size, so the forecast sees the whole store.
        rep.recorded_bytes += round(unsized * rep.recorded_bytes / sized)
    rep.bad.sort(key=lambda b: (b.start or 0, b.path))
    rep.deletions = [d for d in deletions if d.camera == camera]
    runs = _merge(raw, config.join_seconds)
    if runs:
        rep.earliest, rep.latest = runs[0][0], runs[-1][1]
        rep.gaps = [
            Gap(a[1], b[0])
            for a, b in itertools.pairwise(runs)
            if b[0] - a[1] > config.gap_tolerance_seconds
        ]
        tolerant = _merge(runs, config.gap_tolerance_seconds)
        rep.fresh = now - rep.latest <= config.freshness_seconds
        if rep.fresh:
            rep.unbroken_since = tolerant[-1][0]
            rep.unbroken_days = max(0.0, (now - rep.unbroken_since) / 86400)
        # Only sized segments carry bytes: measure over the sized part of the window.
        sized_from = max(rep.earliest, min(hours)) if hours else rep.earliest
        rep.bytes_per_day = write_rate(hours, sized_from, now, config.rate_window_days)
    rep.days = _days(runs, now, config)
    _verdict(rep, now, config)
    return rep


def _verdict(rep: CameraReport, now: float, config: RetentionConfig) -> None:
    fails, warns = [], []
    if rep.latest is None:
        fails.append("no playable recordings found")
    else:
        if not rep.fresh:
            fails.append(
                f"not recording: the newest segment ended {now - rep.latest:.0f} s "
                f"ago (freshness {config.freshness_seconds:.0f} s)"
            )
        if rep.unbroken_days < config.required_days:
            since = iso(rep.unbroken_since) or "nowhere (not live)"
            fails.append(
                f"unbroken coverage {rep.unbroken_days:.2f} days since {since}, "
                f"under the required {config.required_days}"
            )
    if rep.bad:
        warns.append(f"{len(rep.bad)} bad segment(s)")
    if rep.deletions:
        warns.append(
            f"{len(rep.deletions)} deletion(s) of segments younger than {config.required_days} days"
        )
    rep.status = "fail" if fails else "warn" if warns else "pass"
    rep.reasons = fails + warns or [f"unbroken for {rep.unbroken_days:.1f} days, live"]
