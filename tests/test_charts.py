"""The /progress chart and the summary card render to small, valid PNGs, empty or not."""

from __future__ import annotations

import io
import random
import warnings
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

from PIL import Image

from bot.charts import render_progress, render_summary
from bot.coaching.report_data import (
    ChartData,
    ExerciseLine,
    PainPoint,
    SummaryCard,
    TargetPoint,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 200_000
FIRST_DAY = date(2025, 9, 8)  # a Monday
EXERCISES = (
    ("Glute bridge", "reps"),
    ("Lateral walk", "steps"),
    ("Clamshell", "reps"),
    ("Monster walk", "steps"),
    ("Band pull-apart", "reps"),
    ("Wall sit abduction", "s"),
    ("Kickback", "reps"),
    ("Face pull", "reps"),
)


def session_days(weeks: int = 8) -> list[date]:
    """Return Monday, Wednesday and Friday of each week from FIRST_DAY."""
    return [FIRST_DAY + timedelta(weeks=w, days=d) for w in range(weeks) for d in (0, 2, 4)]


def target_points(days: list[date], offset: int) -> tuple[TargetPoint, ...]:
    """Return targets climbing 10 to 15 on yellow, then back to 10 on green, shifted by offset."""
    points = []
    target, band = 10, "yellow"
    for day in days:
        points.append(TargetPoint(day, target + offset, band))
        if target == 15:
            target, band = 10, "green"
        else:
            target += 1
    return tuple(points)


def chart_data() -> ChartData:
    """Return eight weeks of three sessions a week over eight exercises, with seeded pain."""
    rng = random.Random(7)
    days = session_days()
    lines = tuple(
        ExerciseLine(name, unit, target_points(days, offset=2 * i))
        for i, (name, unit) in enumerate(EXERCISES)
    )
    pain = tuple(PainPoint(day, rng.randint(0, 8), rng.random() < 0.3) for day in days)
    return ChartData("Alex · last 8 weeks", lines, pain)


def summary_card() -> SummaryCard:
    """Return a summary card over the same eight weeks."""
    return SummaryCard(
        name="Alex",
        made_on=FIRST_DAY + timedelta(weeks=8, days=-1),
        weeks=8,
        sessions=22,
        goal_per_week=3,
        streak_weeks=5,
        score=86,
        band="green",
        pain=chart_data().pain,
        weaker={"left": 4, "right": 1, "same": 2},
    )


def assert_png(png: bytes) -> None:
    """Assert the bytes are a small PNG that Pillow decodes, at least 800 px wide."""
    assert png.startswith(PNG_SIGNATURE)
    assert len(png) < MAX_BYTES
    with Image.open(io.BytesIO(png)) as img:
        img.verify()
    with Image.open(io.BytesIO(png)) as img:
        assert img.format == "PNG"
        assert img.size[0] >= 800


def test_progress_chart_of_eight_weeks_is_a_small_png() -> None:
    assert_png(render_progress(chart_data()))


def test_summary_card_is_a_small_png() -> None:
    assert_png(render_summary(summary_card()))


def test_empty_progress_chart_still_renders() -> None:
    assert_png(render_progress(ChartData("Nothing yet", (), ())))


def test_progress_chart_with_only_one_panel_filled_renders() -> None:
    data = chart_data()
    assert_png(render_progress(ChartData(data.title, data.lines, ())))
    assert_png(render_progress(ChartData(data.title, (), data.pain)))
    assert_png(render_progress(ChartData(data.title, (ExerciseLine("Empty", "reps", ()),), ())))


def test_a_single_day_and_an_unbanded_move_render() -> None:
    day = FIRST_DAY
    line = ExerciseLine("Bodyweight squat", "reps", (TargetPoint(day, 12, None),))
    pain = (PainPoint(day, 3, True), PainPoint(day, 5, False))
    assert_png(render_progress(ChartData("One day", (line,), pain)))


def test_summary_card_without_pain_or_weaker_side_renders() -> None:
    card = summary_card()
    bare = SummaryCard(
        name=card.name,
        made_on=card.made_on,
        weeks=4,
        sessions=0,
        goal_per_week=3,
        streak_weeks=0,
        score=0,
        band=None,
        pain=(),
    )
    assert_png(render_summary(bare))


def test_both_render_without_any_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_png(render_progress(chart_data()))
        assert_png(render_summary(summary_card()))
        assert_png(render_progress(ChartData("", (), ())))


def test_names_with_emoji_or_dollars_render_without_warning() -> None:
    card = summary_card()
    odd = SummaryCard(
        name="Zoë 💪🏽 $x^$ \\frac",
        made_on=card.made_on,
        weeks=card.weeks,
        sessions=card.sessions,
        goal_per_week=card.goal_per_week,
        streak_weeks=card.streak_weeks,
        score=card.score,
        band="black",
        pain=card.pain,
    )
    line = ExerciseLine("Bridge 🍑 $", "reps", (TargetPoint(FIRST_DAY, 10, "black"),))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_png(render_summary(odd))
        assert_png(render_progress(ChartData("$a$ 🟡 chart", (line,), ())))


def test_both_render_from_two_threads_at_once() -> None:
    data, card = chart_data(), summary_card()
    with ThreadPoolExecutor(max_workers=2) as pool:
        progress = pool.submit(render_progress, data)
        summary = pool.submit(render_summary, card)
        pngs = [progress.result(), summary.result()]
    for png in pngs:
        assert_png(png)
