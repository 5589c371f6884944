"""The bands a member owns, so the plan never prescribes one they do not have.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29

Members who joined before this were asked for one band: they own that one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BITS = {"yellow": 1, "green": 2, "blue": 4, "black": 8}  # as bot.coaching.profile.owned_mask


def upgrade() -> None:
    """Add users.bands_owned (a bit mask) and fill it from each member's band."""
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("bands_owned", sa.SmallInteger(), nullable=True))
    cases = " ".join(f"WHEN '{band}' THEN {bit}" for band, bit in BITS.items())
    op.execute(
        f"UPDATE users SET bands_owned = CASE band {cases} ELSE 0 END WHERE band IS NOT NULL"
    )


def downgrade() -> None:
    """Drop users.bands_owned."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("bands_owned")
