"""Prescriptions per user, routine and exercise; the base of each check-in for re-answers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Autoincrementing ids: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Timestamps are stored as naive UTC (see storage.types.UTCDateTime).
Stamp = sa.DateTime


def upgrade() -> None:
    """Create the prescriptions table and add pain_checkins.base_prescription."""
    op.create_table(
        "prescriptions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("routine_key", sa.String(64), nullable=False),
        sa.Column("exercise_key", sa.String(64), nullable=False),
        sa.Column("target", sa.SmallInteger(), nullable=False),
        sa.Column("band", sa.String(16), nullable=True),
        sa.Column("rest_between_moves", sa.SmallInteger(), nullable=False),
        sa.Column("rounds", sa.SmallInteger(), nullable=False),
        sa.Column("extra_side", sa.String(8), nullable=True),
        sa.Column("updated_at", Stamp(), nullable=False),
        sa.CheckConstraint(
            "target >= 1 AND target <= 200", name=op.f("ck_prescriptions_target_range")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_prescriptions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescriptions")),
        sa.UniqueConstraint(
            "user_id",
            "routine_key",
            "exercise_key",
            name=op.f("uq_prescriptions_user_id_routine_key_exercise_key"),
        ),
    )
    with op.batch_alter_table("pain_checkins") as batch:
        batch.add_column(sa.Column("base_prescription", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("pain_checkins") as batch:
        batch.drop_column("base_prescription")
    op.drop_table("prescriptions")
