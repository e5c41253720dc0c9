"""An alert names what happened with the figures behind it; the text is rendered on display."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from carewatch.db import Base, str_enum


class AlertKind(enum.StrEnum):
    """What the alert is about."""

    UNAUTHORISED_PICKUP = "unauthorised_pickup"
    RATIO_BREACH = "ratio_breach"
    CAPACITY_BREACH = "capacity_breach"
    AGE_MISMATCH = "age_mismatch"
    MISSING_CHECKOUT = "missing_checkout"
    LATE_PICKUP = "late_pickup"
    COMPLIANCE_CHANGE = "compliance_change"
    BAN_LIST_MATCH = "ban_list_match"
    ILLNESS_CLUSTER = "illness_cluster"
    SERIOUS_INCIDENT = "serious_incident"


class Severity(enum.StrEnum):
    """How urgent an alert is."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Alert(Base):
    """Something a director should see and act on."""

    __tablename__ = "alert"

    id: Mapped[int] = mapped_column(primary_key=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("facility.id"))
    kind: Mapped[AlertKind] = mapped_column(str_enum(AlertKind, 32))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity))
    created_at: Mapped[datetime]
    class_id: Mapped[int | None] = mapped_column(ForeignKey("class_room.id"))
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id"))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedup_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    __table_args__ = (Index("ix_alert_open", "facility_id", "acknowledged_at", "created_at"),)
