"""A folder store seen through the ``RecordingSource`` protocol."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from monitoring.retention.check import check_retention
from monitoring.retention.config import RetentionConfig
from monitoring.retention.layout import FrigateLayout, Layout, Segment
from monitoring.retention.report import RetentionReport

log = logging.getLogger(__name__)


class FolderSource:
    """A recording folder scanned once (with the index when ``state_dir`` is given).

    The scan keeps coverage runs, not files, so each ``Segment`` is one unbroken run of
    a camera's files (``path`` the store, ``size`` 0 unless known, ``end`` set).
    """

    def __init__(
        self,
        store: Path,
        now: datetime,
        *,
        layout: Layout | None = None,
        config: RetentionConfig | None = None,
        state_dir: Path | None = None,
    ) -> None:
        """Remember where and how to scan; nothing is read until asked."""
        self.store, self.now, self.state_dir = store, now, state_dir
        self.layout = layout or FrigateLayout()
        self.config = config or RetentionConfig()
        self._report: RetentionReport | None = None
        self._runs: dict[str, list[tuple[float, float]]] = {}

    def report(self) -> RetentionReport:
        """The folder scan's report (scanned on first use)."""
        if self._report is None:
            self._report = check_retention(
                self.store,
                self.now,
                layout=self.layout,
                config=self.config,
                state_dir=self.state_dir,
            )
        return self._report

    def cameras(self) -> Iterable[str]:
        """The cameras found in the store."""
        return [c.camera for c in self.report().cameras]

    def segments(self, camera: str) -> Iterable[Segment]:
        """One segment per unbroken run (gaps are the holes between them)."""
        for cam in self.report().cameras:
            if cam.camera != camera or cam.earliest is None:
                continue
            edges = [cam.earliest]
            for g in cam.gaps:
                edges += [g.start, g.end]
            edges.append(cam.latest)
            return [
                Segment(
                    camera=camera,
                    start=datetime.fromtimestamp(a, UTC),
                    path=str(self.store),
                    size=0,
                    end=datetime.fromtimestamp(b, UTC),
                    duration=b - a,
                )
                for a, b in zip(edges[::2], edges[1::2], strict=True)
            ]
        return []
