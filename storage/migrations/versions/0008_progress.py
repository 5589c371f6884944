"""Progress and the coach's view: each session's time zone, and the coach's pain alerts.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30

workout_sessions.timezone is the member's zone when the session started, so weeks and dates
stay where they happened after a move (NULL, for older sessions: the member's zone now).
users.pain_alerts is an admin's choice to get a message on a check-in with high pain;
users.signup_key is random per sign-up (0 for older rows), carried by /deletedata's buttons.
On SQLite, workout_sessions and reminder_slots are rebuilt with AUTOINCREMENT, so an id a
button carries is never given to a new row after a member deleted their data (storage.migrate
turns foreign keys off around the migration, or the rebuild would cascade). Everything is
additive: the previous version keeps working against this schema.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the columns; on SQLite, rebuild the tables whose ids buttons carry."""
    with op.batch_alter_table("workout_sessions") as batch:
        batch.add_column(sa.Column("timezone", sa.String(64), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("pain_alerts", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(
            sa.Column("signup_key", sa.BigInteger(), nullable=False, server_default="0")
        )
    if op.get_bind().dialect.name == "sqlite":
        for table in ("workout_sessions", "reminder_slots"):
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ):
                pass


def downgrade() -> None:
    """Drop the columns again."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("signup_key")
        batch.drop_column("pain_alerts")
    with op.batch_alter_table("workout_sessions") as batch:
        batch.drop_column("timezone")
