"""Per-camera rollups: many folder summaries (parts) folded into one.

A part is one folder's summary of one camera (``runs``, ``bytes``, ``n`` sized segments,
``unsized`` segments listed by name only, ``hours`` bytes per UTC hour, the folder's median
``rate`` and ``bad`` segments). A rollup has the same keys, with ``rates`` (one
``[rate, folder]`` per folded part) instead of ``rate``; the report reads both forms.
"""

from __future__ import annotations

import logging

log = logging.getLogger(__name__)


def empty() -> dict:
    """A rollup of nothing."""
    return {"runs": [], "bytes": 0, "n": 0, "unsized": 0, "hours": {}, "rates": [], "bad": []}


def fold(roll: dict, part: dict, folder: str, hours_after: float) -> None:
    """Add one part; hours starting before ``hours_after`` are dropped (rate window only)."""
    roll["runs"].extend(part.get("runs", ()))
    roll["bytes"] += part.get("bytes", 0)
    roll["n"] += part.get("n", 0)
    roll["unsized"] += part.get("unsized", 0)
    hours = roll["hours"]
    for h, b in part.get("hours", {}).items():
        if int(h) + 3600 > hours_after:
            key = str(h)
            hours[key] = hours.get(key, 0) + b
    if part.get("rate"):
        roll["rates"].append([part["rate"], folder])
    roll["rates"].extend(part.get("rates", ()))
    roll["bad"].extend(part.get("bad", ()))


def day_of(part: dict) -> int:
    """The UTC day number a part is rolled up under: that of its earliest time (-1: none)."""
    runs, bad = part.get("runs"), part.get("bad")
    if runs and not bad and "future" not in part:  # runs are sorted: the usual case
        return int(runs[0][0] // 86400)
    times = [r[0] for r in part.get("runs", ())]
    times += [b[1] for b in part.get("bad", ()) if b[1] is not None]
    times += [f[1] for f in part.get("future", ())]
    return int(min(times) // 86400) if times else -1


def merge_runs(runs: list[list[float]], slack: float) -> list[list[float]]:
    """Sort and join runs that touch or are at most ``slack`` apart."""
    out: list[list[float]] = []
    for s, e in sorted(runs):
        if out and s - out[-1][1] <= slack:
            if e > out[-1][1]:
                out[-1][1] = e
        else:
            out.append([s, e])
    return out


def finish(roll: dict, join_seconds: float) -> dict:
    """Merge the rollup's runs so it stays small; returns the rollup."""
    roll["runs"] = merge_runs(roll["runs"], join_seconds)
    return roll
