"""The CCTV registry (cameras, zones, their links) and the stored probe and retention results."""

from __future__ import annotations

import enum
import logging
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from carewatch.db import Base, str_enum
from monitoring.urls import mask_url

log = logging.getLogger(__name__)


class ZoneKind(enum.StrEnum):
    """What a zone of the facility is used for."""

    ENTRANCE = "entrance"
    ACTIVITY_ROOM = "activity_room"
    SLEEPING_ROOM = "sleeping_room"
    DINING = "dining"
    OUTDOOR_PLAY = "outdoor_play"
    KITCHEN = "kitchen"
    CORRIDOR = "corridor"
    OTHER = "other"


class StoreLayout(enum.StrEnum):
    """How a camera's recording store names its segments."""

    FRIGATE = "frigate"
    TEMPLATE = "template"


camera_zone = Table(
    "cctv_camera_zone",
    Base.metadata,
    Column("camera_id", ForeignKey("cctv_camera.id", ondelete="CASCADE"), primary_key=True),
    Column("zone_id", ForeignKey("cctv_zone.id", ondelete="CASCADE"), primary_key=True),
)


class Zone(Base):
    """An area of the facility that cameras watch; required zones must be covered."""

    __tablename__ = "cctv_zone"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    kind: Mapped[ZoneKind] = mapped_column(str_enum(ZoneKind))
    required: Mapped[bool] = mapped_column(default=True)
    # A plain column: monitoring may not import the web app's models. The foreign key is
    # declared by name only, so the class table need not be importable from here.
    class_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("class_room.id", ondelete="SET NULL")
    )

    cameras: Mapped[list[Camera]] = relationship(
        secondary=camera_zone, back_populates="zones", order_by="Camera.name"
    )


class Camera(Base):
    """A camera: its stream (credentials kept here only), NVR channel and recording store."""

    __tablename__ = "cctv_camera"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    stream_url: Mapped[str] = mapped_column(String(500))
    nvr_channel: Mapped[str] = mapped_column(String(40), default="")
    store_path: Mapped[str] = mapped_column(String(500), default="")
    store_layout: Mapped[StoreLayout] = mapped_column(
        str_enum(StoreLayout), default=StoreLayout.FRIGATE
    )
    store_template: Mapped[str] = mapped_column(String(200), default="")
    # The camera's name inside the store (Frigate's camera name); empty means ``name``.
    store_camera: Mapped[str] = mapped_column(String(60), default="")
    enabled: Mapped[bool] = mapped_column(default=True)
    reference_frame: Mapped[bytes | None] = mapped_column(LargeBinary)  # JPEG
    reference_at: Mapped[datetime | None]

    zones: Mapped[list[Zone]] = relationship(
        secondary=camera_zone, back_populates="cameras", order_by="Zone.name"
    )

    @property
    def masked_url(self) -> str:
        """The stream URL with user:password hidden, for pages, logs and the API."""
        return mask_url(self.stream_url)

    @property
    def recording_name(self) -> str:
        """The camera's name in its recording store."""
        return self.store_camera or self.name


class ProbeState(Base):
    """The latest probe of a camera: stream status, image verdict, health and a thumbnail."""

    __tablename__ = "cctv_probe_state"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cctv_camera.id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # ok | failed | unknown (the stream)
    reason: Mapped[str] = mapped_column(String(500), default="")
    health: Mapped[str] = mapped_column(String(16))  # healthy | unhealthy | unknown
    health_reason: Mapped[str] = mapped_column(String(500), default="")
    fps: Mapped[float | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    frames_read: Mapped[int] = mapped_column(default=0)
    image_status: Mapped[str | None] = mapped_column(String(16))
    image: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    thumbnail: Mapped[bytes | None] = mapped_column(LargeBinary)  # JPEG of the newest frame


class ProbeHistory(Base):
    """Past probes of a camera (bounded per camera), without frames."""

    __tablename__ = "cctv_probe_history"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    camera_id: Mapped[int] = mapped_column(ForeignKey("cctv_camera.id", ondelete="CASCADE"))
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    health: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(500), default="")
    fps: Mapped[float | None]
    width: Mapped[int | None]
    height: Mapped[int | None]
    image_status: Mapped[str | None] = mapped_column(String(16))

    __table_args__ = (Index("ix_cctv_probe_history_camera_at", "camera_id", "at"),)


class RetentionState(Base):
    """The latest retention proof of a camera, with its store's forecast."""

    __tablename__ = "cctv_retention_state"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cctv_camera.id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))  # pass | warn | fail | unknown
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    earliest: Mapped[datetime | None]
    latest: Mapped[datetime | None]
    unbroken_since: Mapped[datetime | None]
    unbroken_days: Mapped[float] = mapped_column(default=0.0)
    fresh: Mapped[bool] = mapped_column(default=False)
    # {local date: percent} for the last required_days days.
    days: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    gaps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    bad_segments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    deletions: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    forecast: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    recorded_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_per_day: Mapped[float] = mapped_column(default=0.0)


class ImageState(Base):
    """What the image checks learned about a camera, carried from one probe to the next.

    ``data`` is the checker's JSON state (baselines per colour/black-and-white mode, the
    consecutive-probe streaks) and the reference view it was learned against; a new
    reference view makes it void.
    """

    __tablename__ = "cctv_image_state"

    camera_id: Mapped[int] = mapped_column(
        ForeignKey("cctv_camera.id", ondelete="CASCADE"), primary_key=True
    )
    at: Mapped[datetime]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
