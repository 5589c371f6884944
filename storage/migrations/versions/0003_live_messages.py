"""Live messages: what each kept-up-to-date message should show and what Telegram confirmed.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime


def upgrade() -> None:
    """Create the live_messages table."""
    op.create_table(
        "live_messages",
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=True),
        sa.Column("screen", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("shown_version", sa.Integer(), nullable=False),
        sa.Column("send_from", sa.Integer(), nullable=False),
        sa.Column("lane", sa.SmallInteger(), nullable=False),
        sa.Column("due_at", Stamp(), nullable=True),
        sa.Column("attempts", sa.SmallInteger(), nullable=False),
        sa.Column("unsure_sends", sa.SmallInteger(), nullable=False),
        sa.Column("owner", sa.String(32), nullable=True),
        sa.Column("claimed_until", Stamp(), nullable=True),
        sa.Column("updated_at", Stamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_live_messages_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_messages")),
        sa.UniqueConstraint("chat_id", "key", name=op.f("uq_live_messages_chat_id_key")),
    )
    op.create_index(op.f("ix_live_messages_due_at"), "live_messages", ["due_at"])
    op.create_index(op.f("ix_live_messages_user_id"), "live_messages", ["user_id"])


def downgrade() -> None:
    """Drop the live_messages table."""
    op.drop_index(op.f("ix_live_messages_user_id"), table_name="live_messages")
    op.drop_index(op.f("ix_live_messages_due_at"), table_name="live_messages")
    op.drop_table("live_messages")
