"""Image checks: classify camera frames as normal, black, frozen, covered, blurred or moved."""

from monitoring.image.checks import CameraImageChecker
from monitoring.image.config import ImageCheckConfig
from monitoring.image.findings import (
    PRIORITY,
    Baseline,
    Condition,
    Finding,
    ImageCheckResult,
    Mode,
)

__all__ = [
    "PRIORITY",
    "Baseline",
    "CameraImageChecker",
    "Condition",
    "Finding",
    "ImageCheckConfig",
    "ImageCheckResult",
    "Mode",
]
