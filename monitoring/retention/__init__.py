"""Retention proof: scan a recording store and prove (or disprove) 90 days of recordings.

Stdlib only (plus pydantic for the configuration); no Flask, no paho, no database. Start at
``check_retention``.
"""

from monitoring.retention.check import check_retention
from monitoring.retention.config import RetentionConfig
from monitoring.retention.layout import (
    BadName,
    FrigateLayout,
    Layout,
    RecordingSource,
    Segment,
    TemplateLayout,
)
from monitoring.retention.report import CameraReport, Gap, RetentionReport

__all__ = [
    "BadName",
    "CameraReport",
    "FrigateLayout",
    "Gap",
    "Layout",
    "RecordingSource",
    "RetentionConfig",
    "RetentionReport",
    "Segment",
    "TemplateLayout",
    "check_retention",
]
