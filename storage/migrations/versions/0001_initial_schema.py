"""Initial schema: users, reminders, workout sessions and sets, pain check-ins, slots.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Autoincrementing ids: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
# Timestamps are stored as naive UTC (see storage.types.UTCDateTime).
Stamp = sa.DateTime


def upgrade() -> None:
    """Create every table of the first release."""
    op.create_table(
        "users",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("first_name", sa.String(128), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("goal", sa.String(16), nullable=True),
        sa.Column("band", sa.String(16), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("blocked_at", Stamp(), nullable=True),
        sa.Column("onboarding_step", sa.String(16), nullable=True),
        sa.Column("onboarded_at", Stamp(), nullable=True),
        sa.Column("awaiting", sa.String(32), nullable=True),
        sa.Column("created_at", Stamp(), nullable=False),
        sa.Column("updated_at", Stamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_table(
        "reminder_settings",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("days_mask", sa.SmallInteger(), nullable=False),
        sa.Column("local_time", sa.Time(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("paused_until", Stamp(), nullable=True),
        sa.Column("next_due_at", Stamp(), nullable=True),
        sa.Column("updated_at", Stamp(), nullable=False),
        sa.CheckConstraint(
            "days_mask >= 0 AND days_mask < 128", name=op.f("ck_reminder_settings_days_mask")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_reminder_settings_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_reminder_settings")),
    )
    op.create_index(op.f("ix_reminder_settings_next_due_at"), "reminder_settings", ["next_due_at"])
    op.create_table(
        "workout_sessions",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("routine_key", sa.String(64), nullable=False),
        sa.Column("rounds", sa.SmallInteger(), nullable=False),
        sa.Column("band", sa.String(16), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("plan", sa.JSON(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("timer_due_at", Stamp(), nullable=True),
        sa.Column("started_at", Stamp(), nullable=False),
        sa.Column("updated_at", Stamp(), nullable=False),
        sa.Column("ended_at", Stamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_workout_sessions_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workout_sessions")),
    )
    op.create_index(op.f("ix_workout_sessions_user_id"), "workout_sessions", ["user_id"])
    op.create_index(op.f("ix_workout_sessions_timer_due_at"), "workout_sessions", ["timer_due_at"])
    op.create_index("ix_workout_sessions_user_status", "workout_sessions", ["user_id", "status"])
    op.create_table(
        "session_sets",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("session_id", Id, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("round_no", sa.SmallInteger(), nullable=False),
        sa.Column("step_no", sa.SmallInteger(), nullable=False),
        sa.Column("exercise_key", sa.String(64), nullable=False),
        sa.Column("side", sa.String(8), nullable=True),
        sa.Column("unit", sa.String(16), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("actual", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("band", sa.String(16), nullable=True),
        sa.Column("logged_at", Stamp(), nullable=False),
        sa.CheckConstraint(
            "actual >= 0 AND actual <= 200", name=op.f("ck_session_sets_actual_range")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["workout_sessions.id"],
            name=op.f("fk_session_sets_session_id_workout_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_session_sets")),
        sa.UniqueConstraint(
            "session_id", "position", name=op.f("uq_session_sets_session_id_position")
        ),
    )
    op.create_index(op.f("ix_session_sets_session_id"), "session_sets", ["session_id"])
    op.create_table(
        "pain_checkins",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("session_id", Id, nullable=True),
        sa.Column("pain", sa.SmallInteger(), nullable=False),
        sa.Column("areas", sa.String(128), nullable=False),
        sa.Column("weaker_side", sa.String(8), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("created_at", Stamp(), nullable=False),
        sa.Column("updated_at", Stamp(), nullable=False),
        sa.CheckConstraint("pain >= 0 AND pain <= 10", name=op.f("ck_pain_checkins_pain_range")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["workout_sessions.id"],
            name=op.f("fk_pain_checkins_session_id_workout_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_pain_checkins_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pain_checkins")),
        sa.UniqueConstraint("session_id", name=op.f("uq_pain_checkins_session_id")),
    )
    op.create_index(op.f("ix_pain_checkins_user_id"), "pain_checkins", ["user_id"])
    op.create_table(
        "reminder_slots",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("due_at", Stamp(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("session_id", Id, nullable=True),
        sa.Column("detail", sa.String(200), nullable=True),
        sa.Column("claimed_at", Stamp(), nullable=False),
        sa.Column("sent_at", Stamp(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["workout_sessions.id"],
            name=op.f("fk_reminder_slots_session_id_workout_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_reminder_slots_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_slots")),
        sa.UniqueConstraint(
            "user_id", "kind", "due_at", name=op.f("uq_reminder_slots_user_id_kind_due_at")
        ),
    )
    op.create_index(op.f("ix_reminder_slots_user_id"), "reminder_slots", ["user_id"])
    op.create_index("ix_reminder_slots_status_due", "reminder_slots", ["status", "due_at"])


def downgrade() -> None:
    """Drop every table of the first release."""
    for table in (
        "reminder_slots",
        "pain_checkins",
        "session_sets",
        "workout_sessions",
        "reminder_settings",
        "users",
    ):
        op.drop_table(table)
