"""Seed 004 as written: belly leg raises' growing hold, and the bodyweight-squat question.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30

exercise_targets.hold is a growing hold's current length (NULL: the catalogue's first hold);
users.squats_ok is the answer to "are bodyweight squats pain-free?" (NULL: never asked).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add exercise_targets.hold, users.squats_ok and users.squats_asked_at."""
    with op.batch_alter_table("exercise_targets") as batch:
        batch.add_column(sa.Column("hold", sa.SmallInteger(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("squats_ok", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("squats_asked_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    """Drop the columns again."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("squats_asked_at")
        batch.drop_column("squats_ok")
    with op.batch_alter_table("exercise_targets") as batch:
        batch.drop_column("hold")
