"""The agent's tables: the report outbox and counters, compliance state, job runs."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from carewatch.db import Base


class ReportCounter(Base):
    """A facility's counters; a row is only ever incremented, so numbers never repeat."""

    __tablename__ = "report_counter"

    facility: Mapped[str] = mapped_column(String(64), primary_key=True)
    # "seq" numbers reports; "bdseq" numbers MQTT sessions (birth and death).
    name: Mapped[str] = mapped_column(String(16), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class OutboxReport(Base):
    """A signed report waiting for the broker's acknowledgement; deleted once acknowledged."""

    __tablename__ = "report_outbox"

    # The id orders delivery: reports go out in the order they were made.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    facility: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    seq: Mapped[int] = mapped_column(BigInteger)
    made_at: Mapped[datetime]
    historical: Mapped[bool] = mapped_column(default=False)
    topic: Mapped[str] = mapped_column(String(200))
    retained: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[bytes] = mapped_column(LargeBinary)

    # AUTOINCREMENT: SQLite would otherwise hand out the ids of deleted rows again once the
    # outbox empties, and the publisher reads onwards from the last id it sent.
    __table_args__ = (UniqueConstraint("facility", "seq"), {"sqlite_autoincrement": True})


class ComplianceRuleState(Base):
    """The latest result of one rule, and since when it has had that status."""

    __tablename__ = "compliance_rule_state"

    rule_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    since: Mapped[datetime]
    evaluated_at: Mapped[datetime]
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ComplianceSnapshot(Base):
    """One evaluation of the whole catalogue, kept locally as the history behind the reports."""

    __tablename__ = "compliance_snapshot"

    id: Mapped[int] = mapped_column(primary_key=True)
    made_at: Mapped[datetime]
    overall: Mapped[str] = mapped_column(String(16))
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    report_seq: Mapped[int | None] = mapped_column(BigInteger)

    __table_args__ = (Index("ix_compliance_snapshot_made_at", "made_at"),)


class AgentJobRun(Base):
    """When a scheduled job last ran, so missed runs after downtime are noticed."""

    __tablename__ = "agent_job_run"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[datetime]
    ok: Mapped[bool] = mapped_column(default=True)
    message: Mapped[str] = mapped_column(String(500), default="")


class AgentState(Base):
    """Small named markers of the agent's progress, such as the last day reported."""

    __tablename__ = "agent_state"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime]
