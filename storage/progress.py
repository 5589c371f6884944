"""Members' plans and pain check-ins: load and save a plan, record answers.

A member's plan is stored as one target per exercise (shared by every routine that has it), the
band the plan has reached (`users.plan_band`), and per routine its rest, rounds and extra side;
what was never stored comes from the catalogue. Check-ins are one row per session (unique
session_id): the first answer is inserted with ON CONFLICT DO NOTHING, so of two concurrent taps
exactly one creates it, and the caller holds the user row's lock so a re-answer is never
interleaved.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, NamedTuple, Protocol

from sqlalchemy import ColumnElement, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import BindParameter

from bot.coaching.catalogue import Catalogue
from bot.coaching.profile import BANDS, owned_bands
from bot.coaching.progression import (
    Prescription,
    RoutinePrescription,
    default_routine,
    fit_owned,
    member_band,
    prescription_for,
)
from bot.coaching.states import SessionStatus
from storage.db import dialect_insert, for_dialect, run
from storage.models import (
    ExerciseTarget,
    PainCheckin,
    RoutinePlan,
    SessionSet,
    User,
    WorkoutSession,
)

ACTIVE = SessionStatus.ACTIVE


async def load_prescription(
    session: AsyncSession, user_id: int, catalogue: Catalogue, band: str | None
) -> Prescription:
    """Return the member's plan for every routine: shared targets and band, per-routine rests.

    `band` is the member's own band, used until the plan has reached one of its own.
    """
    user = await session.get(User, user_id)
    targets, plans = await _stored(session, [user_id])
    return _assemble(catalogue, reached_band(user, band), targets[user_id], plans[user_id])


async def load_prescriptions(
    session: AsyncSession, members: Sequence[tuple[int, str | None]], catalogue: Catalogue
) -> dict[int, Prescription]:
    """Return the plans of several members, given as (id, reached_band), at once (two queries
    for all of them)."""
    targets, plans = await _stored(session, [user_id for user_id, _band in members])
    return {
        user_id: _assemble(catalogue, band, targets[user_id], plans[user_id])
        for user_id, band in members
    }


class StoredTarget(NamedTuple):
    """A stored target of one of a member's exercises (exercise_targets)."""

    user_id: int
    exercise_key: str
    target: int
    hold: int | None


class StoredPlan(NamedTuple):
    """What is stored of one of a member's routines (routine_plans)."""

    user_id: int
    routine_key: str
    rest_between_moves: int
    rounds: int
    extra_side: str | None


_MEMBERS: BindParameter[int] = bindparam("b_members", expanding=True)
_TARGET_ROWS = select(*(ExerciseTarget.__table__.c[name] for name in StoredTarget._fields)).where(
    ExerciseTarget.user_id.in_(_MEMBERS)
)
_PLAN_ROWS = select(*(RoutinePlan.__table__.c[name] for name in StoredPlan._fields)).where(
    RoutinePlan.user_id.in_(_MEMBERS)
)


async def _stored(
    session: AsyncSession, ids: Sequence[int]
) -> tuple[dict[int, list[StoredTarget]], dict[int, list[StoredPlan]]]:
    """Return the stored targets and routine plans of these members, by member (plain rows)."""
    targets: dict[int, list[StoredTarget]] = {i: [] for i in ids}
    plans: dict[int, list[StoredPlan]] = {i: [] for i in ids}
    if ids:
        for row in await run(session, _TARGET_ROWS, {"b_members": list(ids)}):
            targets[row[0]].append(StoredTarget(*row))
        for row in await run(session, _PLAN_ROWS, {"b_members": list(ids)}):
            plans[row[0]].append(StoredPlan(*row))
    return targets, plans


class Banded(Protocol):
    """A member row as far as the band their plan reached goes."""

    @property
    def plan_band(self) -> str | None:
        """The band the plan has reached, if any."""

    @property
    def bands_owned(self) -> int | None:
        """The bands the member owns (a bit mask)."""


def reached_band(user: Banded | None, band: str | None) -> str | None:
    """Return the band a plan is on: the plan's own, else `band`, and one the member owns."""
    if user is None:
        return band
    reached = user.plan_band if user.plan_band in BANDS else band
    return fit_owned(reached, owned_bands(user.bands_owned))


def _assemble(
    catalogue: Catalogue,
    reached: str | None,
    target_rows: Sequence[StoredTarget],
    plan_rows: Sequence[StoredPlan],
) -> Prescription:
    """Return a plan from its stored rows; what was never stored comes from the catalogue."""
    if not target_rows and not plan_rows:  # nothing stored yet: the band's starting plan
        return prescription_for(catalogue, reached)
    targets = {row.exercise_key: row.target for row in target_rows}
    holds = {row.exercise_key: row.hold for row in target_rows if row.hold is not None}
    plans = {row.routine_key: row for row in plan_rows}
    stored = []
    for key in catalogue.routines:
        default = default_routine(catalogue, key, reached)
        plan = plans.get(key)
        stored.append(
            RoutinePrescription(
                routine=key,
                band=default.band,
                rest_between_moves=plan.rest_between_moves if plan else default.rest_between_moves,
                rounds=plan.rounds if plan else default.rounds,
                targets={e: targets.get(e, value) for e, value in default.targets.items()},
                extra_side=plan.extra_side if plan else None,
                holds={e: holds.get(e, value) for e, value in default.holds.items()},
            )
        )
    return prescription_for(catalogue, reached, stored)


async def save_routines(
    session: AsyncSession,
    user_id: int,
    catalogue: Catalogue,
    prescription: Prescription,
    routines: Iterable[str],
    now: datetime,
) -> None:
    """Store the given routines: rests and rounds, their exercises' targets and holds, the band."""
    keys = sorted(set(routines))
    if not keys:
        return
    targets: dict[str, int] = {}
    holds: dict[str, int] = {}
    plans = []
    for key in keys:
        rx = prescription.routine(key)
        targets.update(rx.targets)
        holds.update(rx.holds)
        plans.append({"user_id": user_id, "routine_key": key, "updated_at": now,
                      "rest_between_moves": rx.rest_between_moves, "rounds": rx.rounds,
                      "extra_side": rx.extra_side})  # fmt: skip
    await _upsert(session, RoutinePlan, plans, ["user_id", "routine_key"])
    rows = [
        {"user_id": user_id, "exercise_key": exercise, "target": target,
         "hold": holds.get(exercise), "updated_at": now}
        for exercise, target in sorted(targets.items())
    ]  # fmt: skip
    await _upsert(session, ExerciseTarget, rows, ["user_id", "exercise_key"])
    band = member_band(catalogue, Prescription({k: prescription.routine(k) for k in keys}))
    if band is not None:  # only routines without a band cap say which band the plan reached
        await session.execute(
            update(User)
            .where(User.id == user_id)
            .values(plan_band=band)
            .execution_options(synchronize_session=False)
        )


async def _upsert(
    session: AsyncSession, model: Any, rows: list[dict[str, Any]], key: list[str]
) -> None:
    """Insert or update many rows with one prepared statement (key columns never change)."""
    statement = for_dialect(session, _upsert_statement, model, tuple(key), tuple(rows[0]))
    await run(session, statement, rows)


def _upsert_statement(
    dialect: str, model: Any, key: tuple[str, ...], names: tuple[str, ...]
) -> Any:
    """Return the INSERT … ON CONFLICT DO UPDATE of one table's rows."""
    insert = dialect_insert(dialect, model)
    changed = {name: insert.excluded[name] for name in names if name not in key}
    return insert.on_conflict_do_update(index_elements=list(key), set_=changed)


async def last_trained(session: AsyncSession, user_id: int) -> datetime | None:
    """Return when the user last logged a set, in any session."""
    return await session.scalar(
        select(func.max(SessionSet.logged_at))
        .join(WorkoutSession, WorkoutSession.id == SessionSet.session_id)
        .where(WorkoutSession.user_id == user_id)
    )


# ---------------------------------------------------------------- check-ins


async def lock_user(session: AsyncSession, user_id: int) -> User | None:
    """Return the user row, locked until the transaction ends (serialises their check-ins)."""
    return await session.get(User, user_id, with_for_update=True, populate_existing=True)


async def get_checkin(session: AsyncSession, session_id: int) -> PainCheckin | None:
    """Return the check-in of a session, if any."""
    result = await session.execute(
        select(PainCheckin)
        .where(PainCheckin.session_id == session_id)
        .execution_options(populate_existing=True)
    )
    return result.scalar_one_or_none()


async def newest_session_id(session: AsyncSession, user_id: int) -> int | None:
    """Return the id of the user's most recent session, whatever its status."""
    return (await run(session, _NEWEST, {"b_user": user_id})).scalar()  # type: ignore[no-any-return]


_NEWEST = select(func.max(WorkoutSession.id)).where(WorkoutSession.user_id == bindparam("b_user"))


def _open(user_id: int | BindParameter[int]) -> ColumnElement[bool]:
    """Return the condition on sessions a new check-in may apply to: ended, and newer than the
    last one checked in on."""
    checked = select(func.max(PainCheckin.session_id)).where(PainCheckin.user_id == user_id)
    return and_(
        WorkoutSession.user_id == user_id,
        WorkoutSession.status != ACTIVE,
        WorkoutSession.id > func.coalesce(checked.scalar_subquery(), 0),
    )


async def open_session(session: AsyncSession, user_id: int) -> WorkoutSession | None:
    """Return the session a new check-in applies to: the newest ended one after the last check-in.

    Older sessions are out of reach once a newer one has a check-in, because the prescription
    has moved on from what they were built on.
    """
    result = await session.execute(
        select(WorkoutSession).where(_open(user_id)).order_by(WorkoutSession.id.desc()).limit(1)
        .execution_options(populate_existing=True)
    )  # fmt: skip
    return result.scalar_one_or_none()


async def open_session_id(session: AsyncSession, user_id: int) -> int | None:
    """Return the id of the session a new check-in applies to (see open_session)."""
    return (await run(session, _OPEN_ID, {"b_user": user_id})).scalar()  # type: ignore[no-any-return]


_OPEN_ID = select(func.max(WorkoutSession.id)).where(_open(bindparam("b_user")))


async def side_history(
    session: AsyncSession, user_id: int, exclude_session: int, limit: int
) -> list[str | None]:
    """Return the weaker side of the user's latest check-ins, oldest first, skipping one session."""
    rows = await run(session, _SIDES, {"b_user": user_id, "b_session": exclude_session,
                                       "b_limit": limit})  # fmt: skip
    return list(reversed([side for (side,) in rows]))


_SIDES = (
    select(PainCheckin.weaker_side)
    .where(
        PainCheckin.user_id == bindparam("b_user"),
        (PainCheckin.session_id != bindparam("b_session")) | PainCheckin.session_id.is_(None),
    )
    .order_by(PainCheckin.created_at.desc(), PainCheckin.id.desc())
    .limit(bindparam("b_limit"))
)


async def record_checkin(
    session: AsyncSession,
    *,
    user_id: int,
    session_id: int,
    pain: int,
    areas: str,
    weaker_side: str | None,
    base: dict[str, Any],
    now: datetime,
    raised: bool = False,
) -> bool:
    """Insert a session's first check-in, or replace the answers of an existing one.

    Returns True when this call created the row.
    """
    answers = {"b_user": user_id, "b_session": session_id, "b_pain": pain, "b_areas": areas,
               "b_side": weaker_side, "b_raised": raised, "b_now": now}  # fmt: skip
    created = (
        await run(session, for_dialect(session, _new_checkin), {**answers, "b_base": base})
    ).scalar_one_or_none()
    if created is None:
        await run(session, _CHECKIN_ANSWERS, answers)
    return created is not None


_ANSWERS: dict[str, Any] = {
    "pain": bindparam("b_pain"), "areas": bindparam("b_areas"),
    "weaker_side": bindparam("b_side"), "raised": bindparam("b_raised"),
    "updated_at": bindparam("b_now"),
}  # fmt: skip
_CHECKIN_ANSWERS = (
    update(PainCheckin)
    .where(PainCheckin.session_id == bindparam("b_session"),
           PainCheckin.user_id == bindparam("b_user"))
    .values(**_ANSWERS)
)  # fmt: skip


def _new_checkin(dialect: str) -> Any:
    """Return the INSERT of a session's first check-in, unless it has one."""
    return (
        dialect_insert(dialect, PainCheckin)
        .values(user_id=bindparam("b_user"), session_id=bindparam("b_session"),
                base_prescription=bindparam("b_base"), created_at=bindparam("b_now"),
                **_ANSWERS)
        .on_conflict_do_nothing(index_elements=["session_id"])
        .returning(PainCheckin.id)
    )  # fmt: skip


async def save_note(session: AsyncSession, user_id: int, session_id: int, note: str) -> bool:
    """Attach a note to the user's check-in of a session; False if there is no such check-in."""
    result = await session.execute(
        update(PainCheckin)
        .where(PainCheckin.session_id == session_id, PainCheckin.user_id == user_id)
        .values(note=note)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]


async def save_morning(
    session: AsyncSession, user_id: int, session_id: int, answer: str, now: datetime
) -> bool:
    """Store the next-morning answer once; False if it was answered already."""
    result = await session.execute(
        update(PainCheckin)
        .where(
            PainCheckin.session_id == session_id,
            PainCheckin.user_id == user_id,
            PainCheckin.morning.is_(None),
        )
        .values(morning=answer, morning_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1  # type: ignore[attr-defined]
