"""One call that scans a store and returns the retention report: the library's front door."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from monitoring.retention.config import RetentionConfig
from monitoring.retention.forecast import forecast
from monitoring.retention.index import Index
from monitoring.retention.layout import FrigateLayout, Layout
from monitoring.retention.report import RetentionReport, camera_report, worst
from monitoring.retention.scan import ScanError, scan, store_root

log = logging.getLogger(__name__)


def check_retention(
    store: Path,
    now: datetime,
    *,
    layout: Layout | None = None,
    config: RetentionConfig | None = None,
    state_dir: Path | None = None,
    cameras: Sequence[str] = (),
    parse: bool | None = None,
    on_dir: Callable[[int], None] | None = None,
    parse_hook: Callable[[str], None] | None = None,
) -> RetentionReport:
    """Scan ``store`` and judge every camera (or only ``cameras``) as of ``now``.

    ``parse`` None means ``config.parse_mp4``, and when that is None too: trust names
    under Frigate's layout, read mp4 headers under templates.
    """
    layout = layout or FrigateLayout()
    config = config or RetentionConfig()
    if parse is None:
        parse = config.parse_mp4 if config.parse_mp4 is not None else layout.name != "frigate"
    t = now.timestamp()
    rep = RetentionReport(store=str(store), layout=layout.name, now=t, zone=config.zone)
    index = Index(state_dir, store, layout.name)
    try:
        res = scan(
            store, layout, config, t, index, parse=parse, on_dir=on_dir, parse_hook=parse_hook
        )
    except ScanError as exc:
        rep.status, rep.reasons, rep.index = "unknown", [f"scan could not run: {exc}"], index.status
        index.close()
        return rep
    deletions = index.deletions() if index.persistent else res.deletions
    index.close()
    rep.index = index.status
    rep.problems = res.problems
    rep.stats = vars(res.stats).copy()
    per_cam = res.cameras
    for part, _ in per_cam.pop("", []):  # names that belong to no camera
        rep.problems.extend((p, r) for p, _, r in part["bad"])
    wanted = list(cameras) or sorted(per_cam)
    rep.cameras = [camera_report(c, per_cam.get(c, []), deletions, t, config) for c in wanted]
    total = sum(c.recorded_bytes for c in rep.cameras)
    rate = sum(c.bytes_per_day for c in rep.cameras)
    rep.forecast = forecast(store_root(store, layout), total, rate, config)
    statuses = [c.status for c in rep.cameras]
    reasons = [f"{c.camera}: {c.reasons[0]}" for c in rep.cameras if c.status != "pass"]
    if not rep.cameras:
        statuses, reasons = ["unknown"], ["no recordings found (empty store or wrong layout?)"]
    if rep.forecast.status != "pass":
        # An unknown forecast is one check that did not run: it warns, it never passes.
        statuses.append("warn")
        reasons.append(f"forecast {rep.forecast.status}: {rep.forecast.reason}")
    if rep.problems:
        statuses.append("warn")
        reasons.append(f"{len(rep.problems)} file(s) or folder(s) could not be used")
    if state_dir is not None and not index.persistent:
        statuses.append("warn")
        reasons.append(f"index {index.status}: deletion audit not possible")
    rep.status = worst(statuses)
    rep.reasons = reasons or ["every camera has unbroken, live recordings"]
    return rep
