"""Starting a guided warm-up: /warmup, routine, moves, rounds and band, Resume and Abandon."""

from __future__ import annotations

from datetime import datetime

from bot import progress
from bot.coaching import session_keyboards as kb
from bot.coaching import session_texts as t
from bot.coaching import setup
from bot.coaching.catalogue import Routine
from bot.coaching.profile import BANDS, owned_bands
from bot.coaching.progression import capped
from bot.coaching.screen import Chat, Reply, Screen
from bot.coaching.session import ABANDON_AFTER, ABANDONED, Plan, ordered_routines
from bot.coaching.session_screens import INTRO_KEY
from bot.coaching.setup import (
    SetupTap,
    ask_squats,
    moves_of,
    parse_setup,
    pick_allowed,
    remembered_mask,
    waiting_move,
)
from bot.coaching.states import Awaited, Awaiting
from bot.context import BotData
from bot.membership import onboarded
from bot.warmups import close, show
from storage import repositories as repo
from storage import sessions as store
from storage.db import Database
from storage.models import WorkoutSession


async def _active_or_none(
    db: Database, user_id: int, now: datetime
) -> tuple[WorkoutSession | None, str | None]:
    """Return the user's active session (closing it first if idle too long) and last routine."""
    async with db.write() as session:
        active = await store.active_session(session, user_id)
        if active is not None and now - active.updated_at > ABANDON_AFTER:
            await close(session, active, ABANDONED, now)
            active = None
        return active, await store.last_routine(session, user_id)


async def open_menu(deps: BotData, user_id: int) -> Reply:
    """Offer to resume a session in progress, or the routines with the suggestion first."""
    user = await onboarded(deps, user_id)
    if user is None:
        return Reply.text(t.NEED_ONBOARDING)
    active, last = await _active_or_none(deps.db, user.id, deps.clock())
    if active is not None:
        plan = Plan.from_json(active.plan)
        where = t.where(plan.routine_name, plan.steps[active.position])
        text = t.ACTIVE_SESSION.format(where=where)
        return Reply(send=(Screen(text, kb.resume_keyboard(active.id)),))
    routines = ordered_routines(deps.catalogue, user.goal, last)
    return Reply(send=(Screen(t.CHOOSE_ROUTINE, kb.routines_keyboard(routines)),))


async def _band_screen(
    deps: BotData, user_id: int, key: str, rounds: int, mask: int | None
) -> Screen:
    """Return the one-tap band confirmation."""
    async with deps.db.read() as session:
        user = await repo.get_user(session, user_id)
        rx = await progress.prescription(session, deps.catalogue, user_id)
    own = user.band if user is not None and user.band in BANDS else None
    cap = deps.catalogue.band_cap(key)
    current = capped(rx.routine(key).band or own, cap)  # the band the progression has reached
    routine = deps.catalogue.routine(key)
    moves = moves_of(routine, mask)
    name = f"{routine.name} · {t.names(deps.catalogue, moves)}" if moves else routine.name
    template = t.CHOOSE_BAND if current else t.PICK_BAND
    text = template.format(routine=name, rounds=rounds, rounds_word=t.rounds_word(rounds))
    lighter_than_own = cap is not None and capped(own, cap) != own
    owned = owned_bands(user.bands_owned) if user is not None else frozenset(BANDS)
    allowed = deps.catalogue.bands_for(key)
    bands = [b for b in allowed if b in owned] or allowed  # the member's own bands first of all
    note = t.LIGHT_BAND if lighter_than_own else t.MY_BAND
    return Screen(text, kb.band_keyboard(routine, rounds, current, mask, bands, note))


def _moves_screen(deps: BotData, key: str, mask: int) -> Screen:
    """Return the move picker with `mask` ticked."""
    routine = deps.catalogue.routine(key)
    assert routine.choice is not None
    moves = moves_of(routine, mask) or ()
    text = t.moves_text(deps.catalogue, routine.name, routine.choice, moves)
    return Screen(text, kb.moves_keyboard(deps.catalogue, routine, mask))


def _intro(start: progress.Start, rounds: int, band: str, note: str | None) -> str:
    """Return the start message above the first step: the routine's note, gap-rule reasons."""
    plan = start.plan
    head = t.STARTING.format(routine=plan.routine_name, rounds=rounds,
                             rounds_word=t.rounds_word(rounds), band=band)  # fmt: skip
    return (
        head
        + (f"\nℹ️ {note}" if note else "")
        + (f"\nℹ️ {t.SQUATS_LATER}" if start.stand_in else "")
        + "".join(f"\n\n{reason}" for reason in start.reasons[:1])
        + "".join(f"\n• {reason}" for reason in start.reasons[1:])
    )


async def begin(deps: BotData, chat: Chat, tap: SetupTap) -> Reply:
    """Create the session; the tapped setup message becomes its live message."""
    assert tap.rounds is not None and tap.band is not None
    routine = deps.catalogue.routine(tap.routine)
    now = deps.clock()
    async with deps.db.write() as session:
        start = await progress.plan_session(
            session, deps.catalogue, chat.user_id, routine.key, tap.rounds, tap.band, now,
            moves_of(routine, tap.mask),
        )  # fmt: skip
        intro = _intro(start, tap.rounds, tap.band, routine.note)
        plan = {**start.plan.to_json(), INTRO_KEY: intro}
        row = await store.create_session(
            session, user_id=chat.user_id, routine_key=routine.key, rounds=tap.rounds,
            band=tap.band, plan=plan, now=now,
        )  # fmt: skip
        if row is None:
            return Reply(answer=t.ALREADY_STARTED)
        await repo.set_awaiting(session, chat.user_id, Awaited(Awaiting.SESSION, row.id).encode())
        await progress.keep_start(session, deps.catalogue, chat.user_id, start, now)
        shown = await show(session, deps, row, chat.chat_id, now, message_id=chat.message_id,
                           new_message=chat.message_id is None)  # fmt: skip
    return Reply(live=shown)


async def _resume_or_abandon(deps: BotData, chat: Chat, tap: SetupTap) -> Reply:
    """Show a session in progress again as a new message, or close it and offer the routines."""
    assert tap.session_id is not None
    now = deps.clock()
    async with deps.db.write() as session:
        row = await store.get_session(session, tap.session_id)
        user = await repo.get_user(session, chat.user_id)
        owned = row is not None and row.user_id == chat.user_id and row.status == store.ACTIVE
        if row is None or not owned:
            return Reply(answer=t.SESSION_ENDED)
        if tap.kind == kb.ABANDON:
            if not await close(session, row, ABANDONED, now):
                return Reply(answer=t.SESSION_ENDED)
            routines = ordered_routines(
                deps.catalogue, user.goal if user else None, row.routine_key
            )
            text = f"{t.ABANDONED}\n\n{t.CHOOSE_ROUTINE}"
            return Reply(edit=Screen(text, kb.routines_keyboard(routines)))
        shown = await show(session, deps, row, chat.chat_id, now, new_message=True)
    plan = Plan.from_json(row.plan)
    resumed = Screen(t.RESUMING.format(where=t.where(plan.routine_name, plan.steps[row.position])))
    return Reply(edit=resumed, live=shown)


async def _squats_question(
    deps: BotData, user_id: int, routine: Routine, mask: int | None
) -> Screen | None:
    """Return seed 004's question when the session has band squats and it is due, else None."""
    if waiting_move(deps.catalogue, routine, moves_of(routine, mask)) is None:
        return None
    async with deps.db.read() as session:
        user = await repo.get_user(session, user_id)
    if user is None or not ask_squats(user.squats_ok, user.squats_asked_at, deps.clock()):
        return None
    text = t.SQUATS_QUESTION.format(routine=routine.name)
    return Screen(text, kb.squats_keyboard(routine, mask))


async def _answer_squats(deps: BotData, user_id: int, tap: SetupTap) -> None:
    """Store the answer to the squat question."""
    async with deps.db.write() as session:
        await repo.set_squats(session, user_id, tap.answer == setup.YES, deps.clock())


async def on_setup(deps: BotData, chat: Chat, data: str) -> Reply:
    """Handle the routine, moves, rounds and band choices, and Resume / Abandon."""
    tap = parse_setup(deps.catalogue, data)
    if tap is None:
        return Reply(answer=t.BAD_BUTTON, alert=True)
    if await onboarded(deps, chat.user_id) is None:
        return Reply(answer=t.NEED_ONBOARDING, alert=True)
    if tap.kind in (kb.RESUME, kb.ABANDON):
        return await _resume_or_abandon(deps, chat, tap)
    routine = deps.catalogue.routine(tap.routine)
    if tap.kind == setup.BAND:
        return await begin(deps, chat, tap)
    if tap.kind == setup.GO and not pick_allowed(routine, tap.mask):
        assert routine.choice is not None
        ticked = len(moves_of(routine, tap.mask) or ())
        count = t.pick_count(routine.choice)
        return Reply(answer=t.PICK_COUNT.format(count=count, ticked=ticked))
    if tap.kind == setup.MOVES or (tap.kind == setup.ROUTINE and routine.choice is not None):
        mask = tap.mask
        if mask is None:
            async with deps.db.read() as session:
                last = await store.last_plan(session, chat.user_id, routine.key)
            mask = remembered_mask(routine, last)
        return Reply(edit=_moves_screen(deps, routine.key, mask))
    if tap.kind == setup.SQUATS:
        await _answer_squats(deps, chat.user_id, tap)
    elif tap.kind in (setup.ROUTINE, setup.GO):
        question = await _squats_question(deps, chat.user_id, routine, tap.mask)
        if question is not None:
            return Reply(edit=question)
    rx = await progress.routine_prescription(deps.db, deps.catalogue, chat.user_id, routine.key)
    if tap.kind in (setup.ROUTINE, setup.GO, setup.SQUATS) and len(routine.round_choices) > 1:
        text = t.CHOOSE_ROUNDS.format(routine=routine.name)
        return Reply(edit=Screen(text, kb.rounds_keyboard(routine, rx.rounds, tap.mask)))
    rounds = tap.rounds if tap.rounds is not None else rx.rounds
    return Reply(edit=await _band_screen(deps, chat.user_id, routine.key, rounds, tap.mask))
