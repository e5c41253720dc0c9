"""cctv: image-check state per camera (baselines and streaks kept between probes)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import carewatch.db

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "cctv_image_state",
        sa.Column("camera_id", sa.Integer(), nullable=False),
        sa.Column("at", carewatch.db.UTCDateTime(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["camera_id"],
            ["cctv_camera.id"],
            name=op.f("fk_cctv_image_state_camera_id_cctv_camera"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("camera_id", name=op.f("pk_cctv_image_state")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("cctv_image_state")
