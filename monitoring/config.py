"""The numbers behind camera health, coverage and the stored results, with their defaults.

Every threshold is here (or in the probe, image and retention configurations it holds);
the retention defaults follow policy/RULES.md (recordings kept at least 90 days).
Environment overrides: ``CAREWATCH_MONITOR_<FIELD>`` (e.g. ``CAREWATCH_MONITOR_MIN_FPS``).
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from monitoring.image.config import ImageCheckConfig
from monitoring.retention.config import RetentionConfig

log = logging.getLogger(__name__)


class HealthConfig(BaseModel):
    """When a probed camera counts as healthy, and for how long that answer holds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    probe_fresh_seconds: float = Field(
        900.0,
        gt=0,
        description="A probe older than this says nothing about now: the camera is unknown.",
    )
    min_fps: float = Field(
        5.0, ge=0, description="A stream slower than this many frames per second is unhealthy."
    )
    min_width: int = Field(320, ge=0, description="Narrowest picture (pixels) that is healthy.")
    min_height: int = Field(240, ge=0, description="Lowest picture (pixels) that is healthy.")
    retention_fresh_seconds: float = Field(
        2 * 86400.0,
        gt=0,
        description="A retention scan older than this is not evidence any more: unknown.",
    )
    history_per_camera: int = Field(
        500, ge=1, description="Past probes kept per camera (the oldest are deleted)."
    )
    thumbnail_width: int = Field(320, ge=32, description="Width of the stored thumbnail.")
    thumbnail_quality: int = Field(70, ge=10, le=100, description="JPEG quality of thumbnails.")


class MonitoringConfig(BaseSettings):
    """Everything the monitoring services need; nested sections keep their own defaults."""

    model_config = SettingsConfigDict(
        env_prefix="CAREWATCH_MONITOR_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    health: HealthConfig = HealthConfig()
    retention: RetentionConfig = RetentionConfig()
    image: ImageCheckConfig = ImageCheckConfig()
    probe_open_timeout_s: float = Field(5.0, gt=0, description="Open timeout of a probe.")
    probe_read_timeout_s: float = Field(5.0, gt=0, description="Read timeout of a probe.")
    probe_burst_frames: int = Field(25, ge=2, description="Frames read per probe.")
    probe_workers: int = Field(16, ge=1, description="Probes running at the same time.")


def load_config() -> MonitoringConfig:
    """The configuration from defaults and ``CAREWATCH_MONITOR_*`` variables."""
    return MonitoringConfig()
