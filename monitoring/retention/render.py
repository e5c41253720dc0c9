"""The human form of a retention report: a rich table on stdout."""

from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from monitoring.retention.config import RetentionConfig
from monitoring.retention.report import RetentionReport

log = logging.getLogger(__name__)

_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "unknown": "magenta"}
# Long lists are cut in the human form; --json always has everything.
_SHOW = 10


def render(rep: RetentionReport, config: RetentionConfig) -> None:
    """Print the report as a table, then gaps, bad segments and the forecast."""
    from rich.console import Console
    from rich.table import Table

    zone = ZoneInfo(config.zone)
    console = Console()

    def t(x: float | None) -> str:
        return "-" if x is None else f"{datetime.fromtimestamp(x, zone):%Y-%m-%d %H:%M}"

    def short(x: float | None) -> str:
        return "-" if x is None else f"{datetime.fromtimestamp(x, zone):%m-%d %H:%M}"

    table = Table(
        box=None,
        pad_edge=False,
        title=f"Retention of {rep.store} ({rep.layout}, times {config.zone})",
    )
    for col in (
        "camera",
        "status",
        "earliest",
        "latest",
        "since",
        "days",
        "gaps",
        "bad",
        "live",
    ):
        # Times without the year and no reason column: the table must fit 80 columns.
        width = (
            min(20, max([len(c.camera) for c in rep.cameras] + [6])) if col == "camera" else None
        )
        table.add_column(col, no_wrap=True, min_width=width, overflow="fold")
    for c in rep.cameras:
        s = _STYLE[c.status]
        table.add_row(
            c.camera,
            f"[{s}]{c.status}[/]",
            "-" if c.earliest is None else f"{datetime.fromtimestamp(c.earliest, zone):%m-%d}",
            short(c.latest),
            short(c.unbroken_since),
            f"{c.unbroken_days:.1f}",
            str(len(c.gaps)),
            str(len(c.bad)),
            "yes" if c.fresh else "no",
        )
    if rep.cameras:
        console.print(table)
    for c in rep.cameras:
        console.print(f"{c.camera}: [{_STYLE[c.status]}]{c.status}[/]: " + "; ".join(c.reasons))
        for g in c.gaps[-_SHOW:]:
            console.print(f"  {c.camera}: gap {t(g.start)} – {t(g.end)} ({g.seconds:.0f} s)")
        for b in c.bad[:_SHOW]:
            console.print(f"  {c.camera}: bad {b.path}: {b.reason}", markup=False)
        for d in c.deletions[:_SHOW]:
            console.print(
                f"  {c.camera}: deleted {t(d.start)} – {t(d.end)} (noticed {t(d.noticed)})"
            )
    for p, r in rep.problems[:_SHOW]:
        console.print(f"  problem: {p}: {r}", markup=False)
    if rep.forecast:
        console.print(f"forecast: {rep.forecast.status}: {rep.forecast.reason}")
    console.print(f"index: {rep.index}", markup=False)
    s = _STYLE[rep.status]
    console.print(f"[{s}]{rep.status.upper()}[/]: " + "; ".join(rep.reasons))
