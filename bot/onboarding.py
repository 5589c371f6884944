"""/start onboarding (goal, band, reminder schedule, time zone in four taps), as Replies."""

from __future__ import annotations

from datetime import time
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.coach import is_admin
from bot.coaching import texts
from bot.coaching.onboarding_keyboards import (
    DONE_BANDS,
    KEEP_SCHEDULE,
    TOGGLE_BANDS,
    OnboardingTap,
    onboarding_keyboard,
    settings_menu,
)
from bot.coaching.profile import (
    ALL_OWNED,
    BANDS,
    COMMON_TIMEZONES,
    DEFAULT_DAYS_MASK,
    DEFAULT_REMINDER_TIME,
    GOALS,
    NO_BAND,
    PRESETS_BY_KEY,
    owned_bands,
    owned_mask,
    parse_clock_time,
    parse_timezone,
)
from bot.coaching.screen import Reply, Screen
from bot.context import BotData
from storage import reminders as reminder_store
from storage import repositories as repo
from storage.models import User

FIRST_STEP = texts.ONBOARDING_STEPS[0]
EDITABLE = ("goal", "band")  # changed alone from /settings; reminders have their own menu


def _next_step(step: str) -> str | None:
    """Return the step after `step`, or None when onboarding is complete."""
    steps = texts.ONBOARDING_STEPS
    i = steps.index(step)
    return steps[i + 1] if i + 1 < len(steps) else None


async def _current_value(session: AsyncSession, user: User, step: str) -> str | None:
    """Return the user's saved answer for a step, to tick it on the keyboard."""
    if step == "goal":
        return user.goal
    if step == "band":
        return user.band
    if step == "timezone":
        return user.timezone if user.onboarded_at else None
    reminders = await repo.get_reminder_settings(session, user.id)
    if reminders is None:
        return None
    if not reminders.enabled:
        return "off"
    for key, preset in PRESETS_BY_KEY.items():
        if (preset.days_mask, preset.at) == (reminders.days_mask, reminders.local_time):
            return key
    return None


async def question(
    session: AsyncSession,
    deps: BotData,
    user: User,
    step: str,
    *,
    intro: str | None = None,
    prefix: str | None = None,
    owned: int | None = None,
    edit: bool = False,
) -> Screen:
    """Return the question for `step` with its keyboard, the saved answer ticked and named.

    `owned` is the band mask ticked so far at the band step (default: the bands saved);
    `edit` asks it alone, to change just this setting from /settings.
    """
    current = await _current_value(session, user, step)
    text = texts.question(step, intro=intro, alone=edit)
    keep: str | None = None
    if user.onboarded_at is not None:  # changing settings: say what each one is now
        now_label = await _current_label(session, user, step)
        now = texts.NOW_BANDS if step == "band" else texts.NOW
        text += f"\n\n{now.format(value=now_label)}"
        keep = now_label if step == "schedule" and current is None else None
    if prefix:
        text = f"{prefix}\n\n{text}"
    zone = deps.settings.default_timezone
    zones = (user.timezone, *COMMON_TIMEZONES) if current else COMMON_TIMEZONES
    if owned is None:
        owned = _saved_bands(user)
    markup = onboarding_keyboard(
        step, current=current, default_timezone=zone, zones=tuple(dict.fromkeys(zones)),
        keep=keep, owned=owned, edit=edit,
    )  # fmt: skip
    return Screen(text, markup)


def _saved_bands(user: User) -> int:
    """Return the bands a member said they own (their one band, if never asked for more)."""
    if user.bands_owned is not None:
        return user.bands_owned
    return owned_mask([user.band]) if user.band in BANDS else 0


async def _current_label(session: AsyncSession, user: User, step: str) -> str:
    """Return the saved answer for a step as the member reads it."""
    if step == "goal":
        return GOALS.get(user.goal or "", "not set")
    if step == "band":
        owned = owned_bands(_saved_bands(user))
        return ", ".join(texts.band_label(b) for b in BANDS if b in owned) or texts.band_label(None)
    if step == "timezone":
        return user.timezone
    reminders = await repo.get_reminder_settings(session, user.id)
    if reminders is None:
        return texts.schedule_label(DEFAULT_DAYS_MASK, DEFAULT_REMINDER_TIME, False)
    return texts.schedule_label(reminders.days_mask, reminders.local_time, reminders.enabled)


async def settings_summary(session: AsyncSession, user_id: int, heading: str) -> str:
    """Return the user's settings as a short summary under `heading`."""
    user = await repo.get_user(session, user_id)
    assert user is not None
    reminders = await repo.get_reminder_settings(session, user_id)
    schedule = (
        texts.schedule_label(reminders.days_mask, reminders.local_time, reminders.enabled)
        if reminders
        else texts.schedule_label(DEFAULT_DAYS_MASK, DEFAULT_REMINDER_TIME, True)
    )
    return texts.summary(
        goal=user.goal, band=user.band, schedule=schedule, timezone=user.timezone, heading=heading
    )


async def menu_screen(
    session: AsyncSession, deps: BotData, user: User, heading: str = texts.SETTINGS_HEADING
) -> Screen:
    """Return the /settings menu under a summary of the member's settings."""
    text = await settings_summary(session, user.id, heading)
    return Screen(text, settings_menu(coach=is_admin(deps, user.id), alerts=user.pain_alerts))


async def start(deps: BotData, user_id: int, chat_id: int, first_name: str) -> Reply:
    """Register or welcome back the user and continue or offer to change their settings."""
    async with deps.db.write() as session:
        user, created = await repo.register_user(
            session, user_id=user_id, chat_id=chat_id, first_name=first_name,
            timezone=deps.settings.default_timezone, first_step=FIRST_STEP,
        )  # fmt: skip
        if created:
            intro = texts.INTRO.format(name=first_name)
            return Reply(send=(await question(session, deps, user, FIRST_STEP, intro=intro),))
        # A returning (maybe unblocked) user gets their reminders back.
        await reminder_store.ensure_scheduled(session, user.id, deps.clock())
        if user.onboarding_step is not None:
            resume = "Let's pick up where we were."
            screen = await question(session, deps, user, user.onboarding_step, prefix=resume)
            return Reply(send=(screen,))
        heading = texts.WELCOME_BACK.format(name=first_name)
        return Reply(send=(await menu_screen(session, deps, user, heading),))


def _mask(value: str, prefix: str) -> int | None:
    """Return the band mask in a band-step value like 'd6', or None if it is not one."""
    digits = value.removeprefix(prefix)
    if not value.startswith(prefix) or not digits.isascii() or not digits.isdigit():
        return None
    mask = int(digits)
    return mask if 0 <= mask <= ALL_OWNED else None


def values_for(step: str, value: str) -> dict[str, Any] | None:
    """Return the user columns a tapped onboarding value sets, or None if it is not valid."""
    if step == "goal" and value in GOALS:
        return {"goal": value}
    if step == "band" and value == NO_BAND:
        return {"band": NO_BAND, "bands_owned": 0}
    mask = _mask(value, DONE_BANDS) if step == "band" else None
    if mask:  # the bands ticked: the member starts on the lightest one
        return {"band": min(owned_bands(mask), key=BANDS.index), "bands_owned": mask}
    if step == "schedule" and (value in PRESETS_BY_KEY or value == KEEP_SCHEDULE):
        return {}
    if step == "timezone" and parse_timezone(value) == value:
        return {"timezone": value}
    return None


async def _keeping_band(
    session: AsyncSession, user_id: int, step: str, values: dict[str, Any]
) -> dict[str, Any]:
    """Return the values to save, keeping the band in use when the bands owned still have it."""
    if step == "band" and values.get("bands_owned"):
        user = await repo.get_user(session, user_id)
        if user is not None and user.band in owned_bands(values["bands_owned"]):
            return {**values, "band": user.band}  # adding a band keeps the one in use
    return values


async def change_one(deps: BotData, user_id: int, step: str, values: dict[str, Any]) -> Reply:
    """Save one setting changed from /settings (goal or bands) and show the menu again."""
    async with deps.db.write() as session:
        user = await repo.get_user(session, user_id)
        if user is None or user.onboarded_at is None:
            return Reply(answer=texts.NEED_START, alert=True)
        values = await _keeping_band(session, user_id, step, values)
        await repo.update_user(session, user_id, **values)
        await session.refresh(user)
        return Reply(answer=texts.SAVED, edit=await menu_screen(session, deps, user))


async def apply(
    deps: BotData,
    user_id: int,
    step: str,
    values: dict[str, Any],
    *,
    preset_key: str | None = None,
    typed_time: time | None = None,
) -> Screen | None:
    """Save one onboarding answer and return what comes next; None if the step had moved."""
    nxt = _next_step(step)
    async with deps.db.write() as session:
        values = await _keeping_band(session, user_id, step, values)
        if not await repo.advance_onboarding(session, user_id, step, nxt, **values):
            return None
        if step == "schedule" and preset_key != KEEP_SCHEDULE:
            preset = PRESETS_BY_KEY.get(preset_key or "")
            at = typed_time or (preset.at if preset else None)
            await repo.save_reminder_schedule(
                session, user_id, days_mask=preset.days_mask if preset else DEFAULT_DAYS_MASK,
                at=at or DEFAULT_REMINDER_TIME, enabled=at is not None,
            )  # fmt: skip
        if nxt is None:  # onboarding complete: schedule the first reminder in the chosen zone
            await reminder_store.reschedule(session, user_id, deps.clock())
        user = await repo.get_user(session, user_id)
        assert user is not None
        await session.refresh(user)
        if nxt is not None:
            return await question(session, deps, user, nxt)
        done = await settings_summary(session, user_id, "All set ✅")
    return Screen(f"{done}\n\n{texts.SAFETY}\n\nSend /help to see what I can do.")


async def on_button(deps: BotData, user_id: int, data: str) -> Reply:
    """Handle a tap on an onboarding choice, rejecting stale and forged buttons."""
    tap = OnboardingTap.parse(data)
    toggled = _mask(tap.value, TOGGLE_BANDS) if tap is not None and tap.step == "band" else None
    if tap is not None and toggled is not None:
        return await _tick_bands(deps, user_id, toggled, edit=tap.edit)
    valid = tap is not None and tap.step in (EDITABLE if tap.edit else texts.ONBOARDING_STEPS)
    values = values_for(tap.step, tap.value) if tap is not None and valid else None
    if tap is None or values is None:
        return Reply(answer=texts.UNKNOWN_BUTTON, alert=True)
    if tap.edit:
        return await change_one(deps, user_id, tap.step, values)
    screen = await apply(deps, user_id, tap.step, values, preset_key=tap.value)
    if screen is not None:
        return Reply(edit=screen)
    async with deps.db.read() as session:
        user = await repo.get_user(session, user_id)
        if user is None:
            return Reply(answer=texts.NEED_START, alert=True)
        if user.onboarding_step is None:
            return Reply(answer=texts.ALREADY_DONE)
        screen = await question(session, deps, user, user.onboarding_step)
    return Reply(answer=texts.STALE_BUTTON, send=(screen,))


async def _tick_bands(deps: BotData, user_id: int, owned: int, *, edit: bool = False) -> Reply:
    """Show the band step with these bands ticked (nothing is saved before Done)."""
    async with deps.db.read() as session:
        user = await repo.get_user(session, user_id)
        if user is None or (edit and user.onboarded_at is None):
            return Reply(answer=texts.NEED_START, alert=True)
        if not edit and user.onboarding_step != "band":
            return Reply(answer=texts.ALREADY_DONE)
        return Reply(edit=await question(session, deps, user, "band", owned=owned, edit=edit))


async def restart(deps: BotData, user_id: int) -> Reply:
    """Walk a member through the four setup steps again, each showing what it is now."""
    async with deps.db.write() as session:
        user = await repo.get_user(session, user_id)
        if user is None:
            return Reply(answer=texts.NEED_START, alert=True)
        await repo.restart_onboarding(session, user.id, FIRST_STEP)
        await session.refresh(user)
        return Reply(edit=await question(session, deps, user, FIRST_STEP))


async def typed(deps: BotData, user: User, text: str) -> Reply:
    """Handle text typed mid-onboarding: a time at the schedule step, a zone at the last."""
    assert user.onboarding_step is not None
    step, text = user.onboarding_step, text.strip()
    if step == "timezone":
        zone = parse_timezone(text)
        screen = await apply(deps, user.id, step, {"timezone": zone}) if zone else None
        prefix = texts.UNKNOWN_ZONE.format(text=text[:64])
    elif step == "schedule":
        at = parse_clock_time(text)
        screen = await apply(deps, user.id, step, {}, typed_time=at) if at else None
        prefix = texts.BAD_TIME.format(text=text[:64])
    else:
        screen, prefix = None, texts.TAP_PLEASE
    if screen is not None:
        return Reply(send=(screen,))
    async with deps.db.read() as session:
        fresh = await repo.get_user(session, user.id)
        if fresh is None or fresh.onboarding_step is None:
            return Reply()
        screen = await question(session, deps, fresh, fresh.onboarding_step, prefix=prefix)
    return Reply(send=(screen,))
