"""The prescription in use: what a new session is built from, and the gap rule at its start."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coaching.catalogue import Catalogue
from bot.coaching.progression import (
    Prescription,
    RoutinePrescription,
    restart_after_gap,
)
from bot.coaching.session import Plan, build_plan
from bot.coaching.setup import stand_ins, waiting_move
from storage import progress as store
from storage import repositories as repo
from storage.db import Database


@dataclass(frozen=True)
class Start:
    """A new session's plan and the routine prescription it follows (maybe lowered by a gap)."""

    plan: Plan
    routine: RoutinePrescription
    reasons: tuple[str, ...]
    changed: bool
    stand_in: bool = False  # a move waits for pain-free bodyweight squats: another stands in


async def prescription(session: AsyncSession, catalogue: Catalogue, user_id: int) -> Prescription:
    """Return the user's prescription for every routine."""
    user = await repo.get_user(session, user_id)
    band = user.band if user is not None else None
    return await store.load_prescription(session, user_id, catalogue, band)


async def routine_prescription(
    db: Database, catalogue: Catalogue, user_id: int, routine_key: str
) -> RoutinePrescription:
    """Return what the user's next session of one routine asks for."""
    async with db.read() as session:
        return (await prescription(session, catalogue, user_id)).routine(routine_key)


async def plan_session(
    session: AsyncSession,
    catalogue: Catalogue,
    user_id: int,
    routine_key: str,
    rounds: int,
    band: str,
    now: datetime,
    exercises: Sequence[str] | None = None,
) -> Start:
    """Return the plan for a new session from the user's prescription, after the gap rule.

    `exercises` are the moves picked for a routine with a choice (default: its own steps).
    """
    current = (await prescription(session, catalogue, user_id)).routine(routine_key)
    user = await repo.get_user(session, user_id)
    swaps = stand_ins(catalogue, user.squats_ok if user is not None else None)
    last = await store.last_trained(session, user_id)
    days = (now - last).days if last is not None else None
    routine, reasons = restart_after_gap(catalogue, current, days)
    plan = build_plan(
        catalogue,
        routine_key,
        rounds,
        band,
        targets=routine.targets,
        holds=routine.holds,
        rest_between_moves=routine.rest_between_moves,
        extra_side=routine.extra_side,
        exercises=exercises,
        stand_ins=swaps,
    )
    waiting = waiting_move(catalogue, catalogue.routine(routine_key), exercises) in swaps
    return Start(plan, routine, tuple(reasons), routine != current, waiting)


async def keep_start(
    session: AsyncSession, catalogue: Catalogue, user_id: int, start: Start, now: datetime
) -> None:
    """Store a prescription the gap rule lowered, once its session really started."""
    if start.changed:
        await store.save_routines(
            session, user_id, catalogue, Prescription({start.routine.routine: start.routine}),
            [start.routine.routine], now,
        )  # fmt: skip
