"""Pending slots get their own index; other slots are found by member.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30

ix_reminder_slots_status_due (status, due_at) served one query, the pending one-off slots due
by now. Its due_at part also tempted PostgreSQL's planner on the check "was this member nudged
today?": today's slots lie past the statistics' newest due_at, so the planner guessed a handful
and read every slot of the day for each batch of 500 members (a 100,000-member slot spent 30 s
there). A partial index over pending slots alone serves the one query and offers nothing to the
other, which goes by member. Dropping an index is additive: the previous version still works.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = sa.text("status = 'pending'")


def upgrade() -> None:
    """Index pending slots by due time; drop the index over every status."""
    op.create_index(
        "ix_reminder_slots_pending_due", "reminder_slots", ["due_at"],
        postgresql_where=PENDING, sqlite_where=PENDING,
    )  # fmt: skip
    op.drop_index("ix_reminder_slots_status_due", table_name="reminder_slots")


def downgrade() -> None:
    """Bring back the index over every status."""
    op.create_index("ix_reminder_slots_status_due", "reminder_slots", ["status", "due_at"])
    op.drop_index("ix_reminder_slots_pending_due", table_name="reminder_slots")
