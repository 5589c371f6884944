"""Progress and the coach's view: each session's time zone, and the coach's pain alerts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

workout_sessions.timezone is the member's zone when the session started, so weeks and dates
stay where they happened after a move (NULL, for older sessions: the member's zone now).
users.pain_alerts is an admin's choice to get a message on a check-in with high pain.
Both are additive: the previous version keeps working against this schema.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add workout_sessions.timezone and users.pain_alerts."""
    with op.batch_alter_table("workout_sessions") as batch:
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("pain_alerts", sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade() -> None:
    """Drop the columns again."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("pain_alerts")
    with op.batch_alter_table("workout_sessions") as batch:
        batch.drop_column("timezone")
