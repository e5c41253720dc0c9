"""child admission: children's health exams and vaccination records

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carewatch.db

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "child_health_exam",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "admission",
                "routine",
                "return",
                name="childexamkind",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("exam_date", sa.Date(), nullable=False),
        sa.Column("institution", sa.String(length=120), nullable=False),
        sa.Column(
            "result",
            sa.Enum(
                "fit",
                "fit_with_notes",
                "not_fit",
                name="childexamresult",
                native_enum=False,
                create_constraint=True,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("notes", sa.String(length=500), nullable=False),
        sa.Column("scan", sa.LargeBinary(), nullable=True),
        sa.Column("scan_type", sa.String(length=40), nullable=False),
        sa.Column("recorded_at", carewatch.db.UTCDateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["child_id"], ["child.id"], name=op.f("fk_child_health_exam_child_id_child")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_child_health_exam_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_health_exam")),
    )
    with op.batch_alter_table("child_health_exam", schema=None) as batch_op:
        batch_op.create_index("ix_child_health_exam_child", ["child_id", "exam_date"], unique=False)

    op.create_table(
        "child_vaccination",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("vaccine", sa.String(length=20), nullable=False),
        sa.Column("dose", sa.Integer(), nullable=False),
        sa.Column("given_on", sa.Date(), nullable=False),
        sa.Column("place", sa.String(length=120), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("verified_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_at", carewatch.db.UTCDateTime(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["child_id"], ["child.id"], name=op.f("fk_child_vaccination_child_id_child")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_child_vaccination_recorded_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["verified_by_id"],
            ["user_account.id"],
            name=op.f("fk_child_vaccination_verified_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_vaccination")),
        sa.UniqueConstraint(
            "child_id", "vaccine", "dose", name=op.f("uq_child_vaccination_child_id_vaccine_dose")
        ),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("child_vaccination")
    with op.batch_alter_table("child_health_exam", schema=None) as batch_op:
        batch_op.drop_index("ix_child_health_exam_child")

    op.drop_table("child_health_exam")
