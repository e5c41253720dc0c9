"""The hub's tables: facilities and their keys, reports, gaps, alerts and rejected messages.

The hub has its own declarative base and metadata (not ``carewatch.db.Base``, whose tables
belong to a facility's database) and its own Alembic history in ``migrations/``. Every
table is prefixed ``hub_`` so that a hub may share a PostgreSQL database with other
software without a clash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from carewatch.db import NAMING_CONVENTION, UTCDateTime

# Integer ids on SQLite (so they are rowid aliases), 64-bit on PostgreSQL.
BigId = BigInteger().with_variant(Integer, "sqlite")
JsonDoc = JSON().with_variant(JSONB(), "postgresql")


class HubBase(DeclarativeBase):
    """Declarative base of the hub's tables, with the kernel's naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime()}


class HubFacility(HubBase):
    """A registered facility: its key, whether it is online, and where its sequence is."""

    __tablename__ = "hub_facility"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    public_key: Mapped[str] = mapped_column(String(100))
    registered_at: Mapped[datetime]
    online: Mapped[bool] = mapped_column(default=False)
    # Since when the facility has been online or offline; None until its first state.
    status_since: Mapped[datetime | None] = mapped_column(default=None)
    last_bdseq: Mapped[int | None] = mapped_column(BigInteger, default=None)
    backlog: Mapped[int | None] = mapped_column(BigInteger, default=None)
    agent_version: Mapped[str | None] = mapped_column(String(64), default=None)
    last_seen: Mapped[datetime | None] = mapped_column(default=None)
    last_report_at: Mapped[datetime | None] = mapped_column(default=None)
    highest_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    reports: Mapped[int] = mapped_column(BigInteger, default=0)
    duplicates: Mapped[int] = mapped_column(BigInteger, default=0)
    # The latest compliance snapshot by sequence number (a late one never overrides it).
    compliance_seq: Mapped[int | None] = mapped_column(BigInteger, default=None)
    compliance_overall: Mapped[str | None] = mapped_column(String(16), default=None)
    compliance_made_at: Mapped[datetime | None] = mapped_column(default=None)


class HubReport(HubBase):
    """One verified report, stored once per (facility, seq)."""

    __tablename__ = "hub_report"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    facility: Mapped[str] = mapped_column(ForeignKey("hub_facility.code"))
    seq: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))
    made_at: Mapped[datetime]
    received_at: Mapped[datetime]
    historical: Mapped[bool] = mapped_column(default=False)
    body: Mapped[dict[str, Any]] = mapped_column(JsonDoc)
    # Kept so that anyone can check the report against the facility's key again later.
    sig: Mapped[str] = mapped_column(String(100))

    __table_args__ = (UniqueConstraint("facility", "seq"),)


class HubGap(HubBase):
    """Sequence numbers skipped at detection; closed once every missing report has arrived."""

    __tablename__ = "hub_gap"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    facility: Mapped[str] = mapped_column(ForeignKey("hub_facility.code"))
    first_seq: Mapped[int] = mapped_column(BigInteger)
    last_seq: Mapped[int] = mapped_column(BigInteger)
    missing: Mapped[int] = mapped_column(BigInteger)
    detected_at: Mapped[datetime]
    closed_at: Mapped[datetime | None] = mapped_column(default=None)

    __table_args__ = (Index("ix_hub_gap_facility_first_seq", "facility", "first_seq"),)


class HubAlert(HubBase):
    """An ``alerts`` report; open while it is the latest of its rule and not back to pass."""

    __tablename__ = "hub_alert"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    facility: Mapped[str] = mapped_column(ForeignKey("hub_facility.code"))
    seq: Mapped[int] = mapped_column(BigInteger)
    rule: Mapped[str] = mapped_column(String(64))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    message: Mapped[str] = mapped_column(String(500))
    open: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (
        UniqueConstraint("facility", "seq"),
        Index("ix_hub_alert_facility_rule", "facility", "rule"),
    )


class HubRejection(HubBase):
    """A message the hub refused, with why; the payload itself is not kept, only its hash."""

    __tablename__ = "hub_rejection"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    topic: Mapped[str] = mapped_column(String(300))
    # The facility the topic names, registered or not (no foreign key on purpose).
    facility: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    code: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
