"""hub: facilities, reports, gaps, alerts, rejections

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import carewatch.db

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""

    op.create_table(
        "hub_facility",
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("public_key", sa.String(length=100), nullable=False),
        sa.Column("registered_at", carewatch.db.UTCDateTime(), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("status_since", carewatch.db.UTCDateTime(), nullable=True),
        sa.Column("last_bdseq", sa.BigInteger(), nullable=True),
        sa.Column("backlog", sa.BigInteger(), nullable=True),
        sa.Column("agent_version", sa.String(length=64), nullable=True),
        sa.Column("last_seen", carewatch.db.UTCDateTime(), nullable=True),
        sa.Column("last_report_at", carewatch.db.UTCDateTime(), nullable=True),
        sa.Column("highest_seq", sa.BigInteger(), nullable=False),
        sa.Column("reports", sa.BigInteger(), nullable=False),
        sa.Column("duplicates", sa.BigInteger(), nullable=False),
        sa.Column("compliance_seq", sa.BigInteger(), nullable=True),
        sa.Column("compliance_overall", sa.String(length=16), nullable=True),
        sa.Column("compliance_made_at", carewatch.db.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_hub_facility")),
    )
    op.create_table(
        "hub_rejection",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", carewatch.db.UTCDateTime(), nullable=False),
        sa.Column("topic", sa.String(length=300), nullable=False),
        sa.Column("facility", sa.String(length=64), nullable=True),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_rejection")),
    )
    with op.batch_alter_table("hub_rejection", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hub_rejection_facility"), ["facility"], unique=False)

    op.create_table(
        "hub_alert",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("facility", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("rule", sa.String(length=64), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("at", carewatch.db.UTCDateTime(), nullable=False),
        sa.Column("message", sa.String(length=500), nullable=False),
        sa.Column("open", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility"], ["hub_facility.code"], name=op.f("fk_hub_alert_facility_hub_facility")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_alert")),
        sa.UniqueConstraint("facility", "seq", name=op.f("uq_hub_alert_facility_seq")),
    )
    with op.batch_alter_table("hub_alert", schema=None) as batch_op:
        batch_op.create_index("ix_hub_alert_facility_rule", ["facility", "rule"], unique=False)

    op.create_table(
        "hub_gap",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("facility", sa.String(length=64), nullable=False),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("missing", sa.BigInteger(), nullable=False),
        sa.Column("detected_at", carewatch.db.UTCDateTime(), nullable=False),
        sa.Column("closed_at", carewatch.db.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["facility"], ["hub_facility.code"], name=op.f("fk_hub_gap_facility_hub_facility")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_gap")),
    )
    with op.batch_alter_table("hub_gap", schema=None) as batch_op:
        batch_op.create_index(
            "ix_hub_gap_facility_first_seq", ["facility", "first_seq"], unique=False
        )

    op.create_table(
        "hub_report",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("facility", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("made_at", carewatch.db.UTCDateTime(), nullable=False),
        sa.Column("received_at", carewatch.db.UTCDateTime(), nullable=False),
        sa.Column("historical", sa.Boolean(), nullable=False),
        sa.Column("body", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("sig", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["facility"], ["hub_facility.code"], name=op.f("fk_hub_report_facility_hub_facility")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hub_report")),
        sa.UniqueConstraint("facility", "seq", name=op.f("uq_hub_report_facility_seq")),
    )


def downgrade() -> None:
    """Revert this revision."""

    op.drop_table("hub_report")
    with op.batch_alter_table("hub_gap", schema=None) as batch_op:
        batch_op.drop_index("ix_hub_gap_facility_first_seq")

    op.drop_table("hub_gap")
    with op.batch_alter_table("hub_alert", schema=None) as batch_op:
        batch_op.drop_index("ix_hub_alert_facility_rule")

    op.drop_table("hub_alert")
    with op.batch_alter_table("hub_rejection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hub_rejection_facility"))

    op.drop_table("hub_rejection")
    op.drop_table("hub_facility")
