"""compliance_alert: alerts for a compliance rule whose status changed

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_KINDS = [
    "unauthorised_pickup",
    "ratio_breach",
    "capacity_breach",
    "age_mismatch",
    "missing_checkout",
    "late_pickup",
]
_NEW = "compliance_change"
_NAME = "ck_alert_alertkind"


def _condition(kinds: list[str]) -> str:
    return "kind IN (" + ", ".join(f"'{k}'" for k in kinds) + ")"


def _replace(kinds: list[str]) -> None:
    # SQLite cannot alter a CHECK constraint: batch mode rebuilds the table with the new
    # one. PostgreSQL drops and re-creates it in place.
    with op.batch_alter_table("alert", schema=None) as batch_op:
        batch_op.drop_constraint(op.f(_NAME), type_="check")
        batch_op.create_check_constraint(op.f(_NAME), _condition(kinds))


def upgrade() -> None:
    """Apply this revision."""
    _replace([*_KINDS, _NEW])


def downgrade() -> None:
    """Revert this revision (alerts of the new kind are removed first)."""
    op.execute(f"DELETE FROM alert WHERE kind = '{_NEW}'")
    _replace(_KINDS)
