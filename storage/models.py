"""SQLAlchemy models: users, reminders, sessions, sets, check-ins, slots, plans, live messages."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from bot.coaching.states import Phase, SessionStatus, SlotStatus
from storage.types import UTCDateTime, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Autoincrementing ids: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
IdType = BigInteger().with_variant(Integer(), "sqlite")

MON_WED_FRI = 0b0010101  # bit 0 = Monday … bit 6 = Sunday
SIGNUP_KEY_BITS = 40
# Ids that buttons carry are never reused on SQLite either, so a button from before a member
# deleted their data cannot reach a row made after (PostgreSQL sequences never reuse ids).
NO_REUSE = {"sqlite_autoincrement": True}
_PENDING = text("status = 'pending'")  # reminder_slots' pending one-offs


class Base(DeclarativeBase):
    """Declarative base with deterministic constraint names for Alembic."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
    }


class User(Base):
    """A Telegram user who talks to the bot."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    first_name: Mapped[str] = mapped_column(String(128), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    goal: Mapped[str | None] = mapped_column(String(16))
    band: Mapped[str | None] = mapped_column(String(16))
    plan_band: Mapped[str | None] = mapped_column(String(16))  # the band the plan has reached
    bands_owned: Mapped[int | None] = mapped_column(SmallInteger)  # bit mask over the bands
    squats_ok: Mapped[bool | None]  # bodyweight squats pain-free (seed 004); None: never asked
    squats_asked_at: Mapped[datetime | None]
    is_active: Mapped[bool] = mapped_column(default=True)
    blocked_at: Mapped[datetime | None]
    onboarding_step: Mapped[str | None] = mapped_column(String(16))
    onboarded_at: Mapped[datetime | None]
    awaiting: Mapped[str | None] = mapped_column(String(32))
    pain_alerts: Mapped[bool] = mapped_column(default=False, server_default=false())  # admins
    # Random per sign-up: /deletedata's buttons carry it, so they outlive no deletion.
    signup_key: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    reminders: Mapped[ReminderSettings | None] = relationship(
        back_populates="user", uselist=False, cascade="all, delete-orphan", lazy="raise"
    )


class ReminderSettings(Base):
    """When a user wants nudges, and the next slot due in UTC."""

    __tablename__ = "reminder_settings"

    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    days_mask: Mapped[int] = mapped_column(SmallInteger, default=MON_WED_FRI)
    local_time: Mapped[time] = mapped_column(Time, default=time(7, 0))
    enabled: Mapped[bool] = mapped_column(default=True)
    paused_until: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship(back_populates="reminders", lazy="raise")

    __table_args__ = (CheckConstraint("days_mask >= 0 AND days_mask < 128", name="days_mask"),)


class WorkoutSession(Base):
    """One guided warm-up: its frozen plan, where the user is, and what it waits for."""

    __tablename__ = "workout_sessions"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    routine_key: Mapped[str] = mapped_column(String(64))
    rounds: Mapped[int] = mapped_column(SmallInteger, default=1)
    band: Mapped[str | None] = mapped_column(String(16))
    timezone: Mapped[str | None] = mapped_column(String(64))  # the member's zone at the start
    status: Mapped[str] = mapped_column(String(16), default=SessionStatus.ACTIVE.value)
    plan: Mapped[dict[str, Any]] = mapped_column(default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)
    phase: Mapped[str] = mapped_column(String(16), default=Phase.STEP.value)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    timer_due_at: Mapped[datetime | None] = mapped_column(index=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    ended_at: Mapped[datetime | None]
    last_logged_at: Mapped[datetime | None]  # when the newest set was logged (for Undo)

    sets: Mapped[list[SessionSet]] = relationship(
        back_populates="session",
        cascade="all, delete-orphan",
        lazy="raise",
        order_by="SessionSet.position",
    )

    __table_args__ = (Index("ix_workout_sessions_user_status", "user_id", "status"), NO_REUSE)


class SessionSet(Base):
    """A logged set: done, fewer than the target, or skipped. One per plan position."""

    __tablename__ = "session_sets"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("workout_sessions.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    round_no: Mapped[int] = mapped_column(SmallInteger)
    step_no: Mapped[int] = mapped_column(SmallInteger)
    exercise_key: Mapped[str] = mapped_column(String(64))
    side: Mapped[str | None] = mapped_column(String(8))
    unit: Mapped[str] = mapped_column(String(16))
    target: Mapped[int] = mapped_column(Integer)
    actual: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    band: Mapped[str | None] = mapped_column(String(16))
    logged_at: Mapped[datetime] = mapped_column(default=utcnow)

    session: Mapped[WorkoutSession] = relationship(back_populates="sets", lazy="raise")

    __table_args__ = (
        UniqueConstraint("session_id", "position"),
        CheckConstraint("actual >= 0 AND actual <= 200", name="actual_range"),
    )


class PainCheckin(Base):
    """Pain after a session: 0-10, where, and which side felt weaker."""

    __tablename__ = "pain_checkins"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("workout_sessions.id", ondelete="SET NULL"), unique=True
    )
    pain: Mapped[int] = mapped_column(SmallInteger)
    areas: Mapped[str] = mapped_column(String(128), default="")
    weaker_side: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)
    # The prescription before this check-in was applied, so a re-answer recomputes from it.
    base_prescription: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # Whether the answer raised anything, and the answer to the next-morning question.
    raised: Mapped[bool] = mapped_column(default=False, server_default=false())
    morning: Mapped[str | None] = mapped_column(String(8))
    morning_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (CheckConstraint("pain >= 0 AND pain <= 10", name="pain_range"),)


class ExerciseTarget(Base):
    """A member's target for one exercise, shared by every routine that has it."""

    __tablename__ = "exercise_targets"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    exercise_key: Mapped[str] = mapped_column(String(64))
    target: Mapped[int] = mapped_column(SmallInteger)
    hold: Mapped[int | None] = mapped_column(SmallInteger)  # seconds, for a growing hold only
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (
        UniqueConstraint("user_id", "exercise_key"),
        CheckConstraint("target >= 1 AND target <= 200", name="target_range"),
    )


class RoutinePlan(Base):
    """What stays per routine in a member's plan: rest between moves, rounds, an extra side."""

    __tablename__ = "routine_plans"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("users.id", ondelete="CASCADE"))
    routine_key: Mapped[str] = mapped_column(String(64))
    rest_between_moves: Mapped[int] = mapped_column(SmallInteger)
    rounds: Mapped[int] = mapped_column(SmallInteger)
    extra_side: Mapped[str | None] = mapped_column(String(8))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "routine_key"),)


class ReminderSlot(Base):
    """A reminder or follow-up slot, claimed once before sending so it is never duplicated."""

    __tablename__ = "reminder_slots"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default=SlotStatus.CLAIMED.value)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("workout_sessions.id", ondelete="SET NULL")
    )
    detail: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        UniqueConstraint("user_id", "kind", "due_at"),
        # Pending one-offs only: an index over every status misleads the planner (see 0009).
        Index(
            "ix_reminder_slots_pending_due",
            "due_at",
            postgresql_where=_PENDING,
            sqlite_where=_PENDING,
        ),
        NO_REUSE,
    )


class LiveMessage(Base):
    """A message the bot keeps up to date: what it should show, and what Telegram confirmed.

    `version` counts the screens written; `shown_version` is the last one Telegram accepted.
    A row with `due_at` set still has to be sent or edited (at `due_at`, by lane order).
    """

    __tablename__ = "live_messages"

    id: Mapped[int] = mapped_column(IdType, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    key: Mapped[str] = mapped_column(String(32))
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    screen: Mapped[dict[str, Any]] = mapped_column(default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    shown_version: Mapped[int] = mapped_column(Integer, default=0)
    # The first version meant for the current message (a move to a new message starts anew).
    send_from: Mapped[int] = mapped_column(Integer, default=0)
    lane: Mapped[int] = mapped_column(SmallInteger, default=0)
    due_at: Mapped[datetime | None] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    # Sends that timed out: Telegram may have delivered them, so at most one is retried.
    unsure_sends: Mapped[int] = mapped_column(SmallInteger, default=0)
    # The process sending it as a new message right now, until claimed_until: no other may.
    owner: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    __table_args__ = (UniqueConstraint("chat_id", "key"),)
