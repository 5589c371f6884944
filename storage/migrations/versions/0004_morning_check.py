"""The next-morning check and Undo: what a check-in raised, the morning's answer, the last set.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add raised, morning and morning_at to check-ins, and last_logged_at to sessions."""
    with op.batch_alter_table("pain_checkins") as batch:
        batch.add_column(
            sa.Column("raised", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.add_column(sa.Column("morning", sa.String(8), nullable=True))
        batch.add_column(sa.Column("morning_at", sa.DateTime(), nullable=True))  # naive UTC
    with op.batch_alter_table("workout_sessions") as batch:
        batch.add_column(sa.Column("last_logged_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Drop the next-morning and Undo columns."""
    with op.batch_alter_table("workout_sessions") as batch:
        batch.drop_column("last_logged_at")
    with op.batch_alter_table("pain_checkins") as batch:
        batch.drop_column("morning_at")
        batch.drop_column("morning")
        batch.drop_column("raised")
