"""fees: the fee schedule; settlement: subsidy rule versions, settled months and lines

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carewatch.db

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "fee_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column(
            "class_type",
            sa.Enum(
                "infant",
                "toddler",
                "older",
                "mixed",
                name="classtype",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column(
            "care_type",
            sa.Enum(
                "full_day",
                "half_day",
                "hourly",
                "temporary",
                name="caretype",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("billing_months", sa.Integer(), nullable=False),
        sa.Column("updated_at", carewatch.db.UTCDateTime(), nullable=False),
        sa.CheckConstraint("amount_fen >= 0", name=op.f("ck_fee_item_amount_not_negative")),
        sa.CheckConstraint(
            "billing_months BETWEEN 1 AND 12", name=op.f("ck_fee_item_billing_months_range")
        ),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facility.id"], name=op.f("fk_fee_item_facility_id_facility")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fee_item")),
        sa.UniqueConstraint(
            "facility_id",
            "class_type",
            "care_type",
            name=op.f("uq_fee_item_facility_id_class_type_care_type"),
        ),
    )
    op.create_table(
        "subsidy_policy_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("profile_id", sa.Integer(), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("effective_to", sa.Date(), nullable=True),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("created_at", carewatch.db.UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to >= effective_from",
            name=op.f("ck_subsidy_policy_version_period"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user_account.id"],
            name=op.f("fk_subsidy_policy_version_created_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["policy_profile.id"],
            name=op.f("fk_subsidy_policy_version_profile_id_policy_profile"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_policy_version")),
    )
    with op.batch_alter_table("subsidy_policy_version", schema=None) as batch_op:
        batch_op.create_index(
            "ix_subsidy_policy_version_profile", ["profile_id", "effective_from"], unique=False
        )

    op.create_table(
        "settlement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("facility_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("policy_version_id", sa.Integer(), nullable=True),
        sa.Column("rule", sa.JSON(), nullable=False),
        sa.Column("facility_details", sa.JSON(), nullable=False),
        sa.Column("service_days", sa.Integer(), nullable=False),
        sa.Column("total_fen", sa.BigInteger(), nullable=False),
        sa.Column("settled_at", carewatch.db.UTCDateTime(), nullable=False),
        sa.Column("settled_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["facility_id"], ["facility.id"], name=op.f("fk_settlement_facility_id_facility")
        ),
        sa.ForeignKeyConstraint(
            ["policy_version_id"],
            ["subsidy_policy_version.id"],
            name=op.f("fk_settlement_policy_version_id_subsidy_policy_version"),
        ),
        sa.ForeignKeyConstraint(
            ["settled_by_id"],
            ["user_account.id"],
            name=op.f("fk_settlement_settled_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement")),
        sa.UniqueConstraint("facility_id", "month", name=op.f("uq_settlement_facility_id_month")),
    )
    op.create_table(
        "settlement_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("settlement_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "claim",
                "adjustment",
                name="linekind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("pseudonym", sa.String(length=24), nullable=False),
        sa.Column("child_name", sa.String(length=60), nullable=False),
        sa.Column("class_id", sa.Integer(), nullable=True),
        sa.Column("class_name", sa.String(length=60), nullable=False),
        sa.Column("service_days", sa.Integer(), nullable=False),
        sa.Column("days_enrolled", sa.Integer(), nullable=False),
        sa.Column("days_attended", sa.Integer(), nullable=False),
        sa.Column("attended_units", sa.String(length=12), nullable=False),
        sa.Column("rate_fen", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("rule_text", sa.String(length=300), nullable=False),
        sa.Column("adjusts_month", sa.String(length=7), nullable=True),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("days", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["child_id"], ["child.id"], name=op.f("fk_settlement_line_child_id_child")
        ),
        sa.ForeignKeyConstraint(
            ["class_id"], ["class_room.id"], name=op.f("fk_settlement_line_class_id_class_room")
        ),
        sa.ForeignKeyConstraint(
            ["settlement_id"],
            ["settlement.id"],
            name=op.f("fk_settlement_line_settlement_id_settlement"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settlement_line")),
    )
    with op.batch_alter_table("settlement_line", schema=None) as batch_op:
        batch_op.create_index(
            "ix_settlement_line_settlement", ["settlement_id", "child_id"], unique=False
        )

    _lock("settlement")
    _lock("settlement_line")


def downgrade() -> None:
    """Revert this revision."""
    _unlock("settlement_line")
    _unlock("settlement")
    with op.batch_alter_table("settlement_line", schema=None) as batch_op:
        batch_op.drop_index("ix_settlement_line_settlement")

    op.drop_table("settlement_line")
    op.drop_table("settlement")
    with op.batch_alter_table("subsidy_policy_version", schema=None) as batch_op:
        batch_op.drop_index("ix_subsidy_policy_version_profile")

    op.drop_table("subsidy_policy_version")
    op.drop_table("fee_item")


# A settled month is a locked snapshot: the database refuses to change or delete it, as it
# does for the audit log; corrections become adjustment lines of a later month.
def _lock(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            f"CREATE FUNCTION {table}_locked() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN RAISE EXCEPTION '{table} is locked once settled'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_change BEFORE UPDATE OR DELETE ON {table}"
            f" FOR EACH ROW EXECUTE FUNCTION {table}_locked()"
        )
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{event.lower()} BEFORE {event} ON {table}"
                f" BEGIN SELECT RAISE(ABORT, '{table} is locked once settled'); END"
            )


def _unlock(table: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_change ON {table}")
        op.execute(f"DROP FUNCTION IF EXISTS {table}_locked()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_update")
        op.execute(f"DROP TRIGGER IF EXISTS {table}_no_delete")
