"""Image checks: classify camera frames as normal, black, frozen, covered, blurred or moved."""

from monitoring.image.checks import (
    PRIORITY,
    Baseline,
    CameraImageChecker,
    Condition,
    ImageCheckResult,
)
from monitoring.image.config import ImageCheckConfig

__all__ = [
    "PRIORITY",
    "Baseline",
    "CameraImageChecker",
    "Condition",
    "ImageCheckConfig",
    "ImageCheckResult",
]
