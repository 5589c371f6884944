"""Targets per exercise and one plan band per member, shared by every routine.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Until now each routine kept its own copy of an exercise's target and its own band, so a deload
in one routine missed the others. Existing rows are merged: where two routines disagree, the
lower target and the lighter band are kept (the safer value); rest, rounds and the extra side
stay per routine.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

Id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Stamp = sa.DateTime  # naive UTC
LIGHTEST_FIRST = (
    "CASE band WHEN 'yellow' THEN 0 WHEN 'green' THEN 1 WHEN 'blue' THEN 2 "
    "WHEN 'black' THEN 3 ELSE 4 END"
)


def _owned_table(name: str, *columns: sa.schema.SchemaItem, unique: tuple[str, ...]) -> None:
    """Create a per-member table with an id, a user id and an update time."""
    op.create_table(
        name,
        sa.Column("id", Id, autoincrement=True, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        *columns,
        sa.Column("updated_at", Stamp(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f(f"fk_{name}_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint(*unique, name=op.f(f"uq_{name}_{'_'.join(unique)}")),
    )


def upgrade() -> None:
    """Create exercise_targets, routine_plans and users.plan_band; merge and drop prescriptions."""
    _owned_table(
        "exercise_targets",
        sa.Column("exercise_key", sa.String(64), nullable=False),
        sa.Column("target", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint(
            "target >= 1 AND target <= 200", name=op.f("ck_exercise_targets_target_range")
        ),
        unique=("user_id", "exercise_key"),
    )
    _owned_table(
        "routine_plans",
        sa.Column("routine_key", sa.String(64), nullable=False),
        sa.Column("rest_between_moves", sa.SmallInteger(), nullable=False),
        sa.Column("rounds", sa.SmallInteger(), nullable=False),
        sa.Column("extra_side", sa.String(8), nullable=True),
        unique=("user_id", "routine_key"),
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("plan_band", sa.String(16), nullable=True))
    op.execute(
        "INSERT INTO exercise_targets (user_id, exercise_key, target, updated_at) "
        "SELECT user_id, exercise_key, MIN(target), MAX(updated_at) FROM prescriptions "
        "GROUP BY user_id, exercise_key"
    )
    op.execute(
        "INSERT INTO routine_plans (user_id, routine_key, rest_between_moves, rounds, extra_side, "
        "updated_at) SELECT user_id, routine_key, MAX(rest_between_moves), MIN(rounds), "
        "MAX(extra_side), MAX(updated_at) FROM prescriptions GROUP BY user_id, routine_key"
    )
    op.execute(
        "UPDATE users SET plan_band = (SELECT band FROM prescriptions p "
        "WHERE p.user_id = users.id AND band IS NOT NULL "
        f"ORDER BY {LIGHTEST_FIRST} LIMIT 1)"
    )
    op.drop_table("prescriptions")


def downgrade() -> None:
    """Recreate the per-routine table (empty: plans restart from the catalogue) and drop ours."""
    _owned_table(
        "prescriptions",
        sa.Column("routine_key", sa.String(64), nullable=False),
        sa.Column("exercise_key", sa.String(64), nullable=False),
        sa.Column("target", sa.SmallInteger(), nullable=False),
        sa.Column("band", sa.String(16), nullable=True),
        sa.Column("rest_between_moves", sa.SmallInteger(), nullable=False),
        sa.Column("rounds", sa.SmallInteger(), nullable=False),
        sa.Column("extra_side", sa.String(8), nullable=True),
        sa.CheckConstraint(
            "target >= 1 AND target <= 200", name=op.f("ck_prescriptions_target_range")
        ),
        unique=("user_id", "routine_key", "exercise_key"),
    )
    with op.batch_alter_table("users") as batch:
        batch.drop_column("plan_band")
    op.drop_table("routine_plans")
    op.drop_table("exercise_targets")
