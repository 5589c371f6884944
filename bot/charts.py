"""Draw the /progress chart and the shareable summary card as PNG bytes (matplotlib, no pyplot)."""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from functools import cache

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import MO, DayLocator, WeekdayLocator, date2num, num2date
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.layout_engine import ConstrainedLayoutEngine
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import FancyBboxPatch, Patch
from matplotlib.ticker import FuncFormatter, Locator, MaxNLocator
from matplotlib.typing import LineStyleType
from PIL import Image

from bot.coaching.profile import BANDS
from bot.coaching.report_data import ChartData, ExerciseLine, PainPoint, SummaryCard

DPI = 100
WIDTH_IN = 10.8  # 1080 px: Telegram shows it full width on a phone without downscaling much

_FONT = "DejaVu Sans"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_INK = "#212529"
_MUTED = "#6c757d"
_GRID = "#dee2e6"
_TILE = "#f1f3f5"
_RED_ZONE = "#ffe3e3"
_PAIN = "#4c6ef5"
_LOW_BACK = "#f76707"

# Band colours as drawn: yellow is darkened to show on white, black is lifted to dark grey so a
# white edge can set it apart from the line it sits on.
_BAND_FACE: dict[str, str] = {
    "yellow": "#fcc419",
    "green": "#2f9e44",
    "blue": "#1971c2",
    "black": "#343a40",
}
_BAND_EDGE: dict[str, str] = {"yellow": _INK, "green": _INK, "blue": _INK, "black": "white"}
_NO_BAND_FACE = "white"
_NO_BAND_EDGE = "#868e96"
_MAX_BAR_LABELS = 40  # more bars than this and their value labels would run into each other
_MAX_NAME = 28  # characters of a member's name that fit the card's title line
_MAX_TITLE = 48  # characters of a chart title that fit its width

# Ten exercise colours (Tableau 10) times four dash styles: up to ten lines stay told apart,
# in greyscale too.
_LINE_COLOURS = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
)
_LINE_STYLES: tuple[LineStyleType, ...] = (
    "solid",
    (0, (6, 2)),
    (0, (1.5, 1.5)),
    (0, (6, 2, 1.5, 2)),
)


def render_progress(data: ChartData) -> bytes:
    """Return the /progress chart as PNG bytes: targets over time above, pain per session below."""
    drawn = [line for line in data.lines if line.points]
    legend_rows = math.ceil(len(drawn) / 2)
    fig = _figure(height_in=11.0 + 0.4 * legend_rows)
    targets_ax, pain_ax = fig.subplots(2, 1, height_ratios=[1.3 + 0.06 * legend_rows, 1])
    fig.suptitle(_clip(_safe(data.title), _MAX_TITLE), fontsize=24, fontweight="bold", color=_INK)
    days = [p.day for line in drawn for p in line.points] + [p.day for p in data.pain]
    span = (min(days), max(days)) if days else None
    _draw_targets(targets_ax, drawn, span)
    _draw_pain_bars(pain_ax, data.pain, span)
    return _png(fig)


def render_summary(card: SummaryCard) -> bytes:
    """Return the one-page summary card as PNG bytes, made to forward to a physio."""
    fig = _figure(height_in=13.5)
    grid = fig.add_gridspec(5, 3, height_ratios=[0.55, 1, 1, 2.1, 0.12])
    start = card.made_on - timedelta(days=max(7 * card.weeks - 1, 0))
    _draw_header(fig.add_subplot(grid[0, :]), card, start)
    tiles = [fig.add_subplot(grid[row, col]) for row in (1, 2) for col in range(3)]
    _tile_sessions(tiles[0], card)
    _tile_streak(tiles[1], card.streak_weeks)
    _tile_score(tiles[2], card.score)
    _tile_band(tiles[3], card.band)
    _tile_weaker(tiles[4], card.weaker)
    _tile_pain(tiles[5], card.pain)
    _draw_pain_trend(fig.add_subplot(grid[3, :]), card.pain, start, card.made_on)
    _draw_footer(fig.add_subplot(grid[4, :]))
    for ax in fig.axes:
        if not ax.axison:
            # Header, tiles and footer place their text inside themselves by hand: kept out of
            # the layout, an overlong name is cut off at the edge instead of collapsing the grid.
            for text in ax.texts:
                text.set_in_layout(False)
    return _png(fig)


# --- the progress chart's panels ---------------------------------------------------------------


def _draw_targets(ax: Axes, lines: Sequence[ExerciseLine], span: tuple[date, date] | None) -> None:
    """Draw each exercise's target over time, its markers filled in the band it was done with."""
    _panel_title(ax, "Targets")
    if not lines or span is None:
        _empty(ax, "No sets logged yet")
        return
    bands_seen: set[str | None] = set()
    most = max(len(line.points) for line in lines)
    marker_area = 80 if most <= 40 else max(16, 3200 / most)  # long histories: smaller dots
    for i, line in enumerate(lines):
        xs = [date2num(p.day) for p in line.points]
        ys = [p.target for p in line.points]
        colour = _LINE_COLOURS[i % len(_LINE_COLOURS)]
        style = _LINE_STYLES[i % len(_LINE_STYLES)]
        label = _safe(f"{line.name} ({line.unit})")
        ax.plot(xs, ys, color=colour, linestyle=style, linewidth=2.6, label=label, zorder=2)
        faces = [_band_face(p.band) for p in line.points]
        edges = [_band_edge(p.band) for p in line.points]
        ax.scatter(xs, ys, s=marker_area, c=faces, edgecolors=edges, linewidths=1.3, zorder=3)
        bands_seen.update(p.band for p in line.points)
    _target_axis(ax, [p.target for line in lines for p in line.points])
    _date_axis(ax, span)
    # The band key goes first, as a plain artist: constrained layout makes room only for the
    # axes' own legend, and the exercise legend below the panel is the one that needs it.
    ax.add_artist(_band_key(ax, bands_seen))
    ax.legend(
        loc="upper center",
        bbox_to_anchor=(0.5, -0.1),
        ncols=2,
        fontsize=14,
        frameon=False,
        handlelength=3.2,
        columnspacing=1.5,
    )


def _target_axis(ax: Axes, targets: Sequence[int]) -> None:
    """Fit the y axis to the targets with whole-number ticks, even when they are all equal."""
    low, high = min(targets), max(targets)
    pad = max(1.0, (high - low) * 0.08)
    ax.set_ylim(low - pad, high + pad)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("Target", fontsize=16, color=_INK)


def _band_key(ax: Axes, bands_seen: set[str | None]) -> Legend:
    """Return a key of the band colours the markers use, placed above the panel's right end."""
    handles = [
        _band_handle(_band_face(b), _band_edge(b), b.title()) for b in BANDS if b in bands_seen
    ]
    if None in bands_seen:
        handles.append(_band_handle(_NO_BAND_FACE, _NO_BAND_EDGE, "No band"))
    return Legend(
        ax,
        handles,
        [str(h.get_label()) for h in handles],
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncols=len(handles),
        fontsize=14,
        frameon=False,
        handletextpad=0.2,
        columnspacing=1.0,
        borderaxespad=0.2,
    )


def _band_handle(face: str, edge: str, label: str) -> Line2D:
    """Return a legend entry: a band-coloured marker alone."""
    return Line2D(
        [],
        [],
        linestyle="none",
        marker="o",
        markersize=13,
        markerfacecolor=face,
        markeredgecolor=edge,
        markeredgewidth=1.3,
        label=label,
    )


def _draw_pain_bars(ax: Axes, pain: Sequence[PainPoint], span: tuple[date, date] | None) -> None:
    """Draw pain per check-in as bars, low-back check-ins hatched orange, over a light red zone."""
    _panel_title(ax, "Pain per check-in")
    if not pain or span is None:
        _empty(ax, "No check-ins yet")
        return
    ax.axhspan(6, 10, color=_RED_ZONE, zorder=0)
    for point, x, width in _bar_slots(pain):
        bars = ax.bar(
            x,
            point.pain,
            width=width,
            color=_LOW_BACK if point.low_back else _PAIN,
            hatch="//" if point.low_back else None,
            edgecolor="white",
            linewidth=0.8,
            zorder=2,
        )
        if len(pain) <= _MAX_BAR_LABELS:
            ax.bar_label(bars, fontsize=12, color=_INK, padding=2)
    _pain_axis(ax)
    _date_axis(ax, span)
    _pain_key(ax, bar=True)


def _bar_slots(pain: Sequence[PainPoint]) -> list[tuple[PainPoint, float, float]]:
    """Return each check-in with its bar's centre and width: same-day check-ins share the day."""
    by_day: dict[date, list[PainPoint]] = defaultdict(list)
    for point in pain:
        by_day[point.day].append(point)
    slots: list[tuple[PainPoint, float, float]] = []
    for day, points in by_day.items():
        width = 0.8 / len(points)
        left = date2num(day) - 0.4
        slots.extend((p, left + width * (i + 0.5), width) for i, p in enumerate(points))
    return slots


# --- the summary card's parts -------------------------------------------------------------------


def _draw_header(ax: Axes, card: SummaryCard, start: date) -> None:
    """Write the card's title: the member's name and the period it covers."""
    ax.set_axis_off()
    name = _clip(_safe(card.name), _MAX_NAME) or "Band Coach member"
    size = 30 if len(name) <= 22 else 24
    ax.text(0, 0.72, name, fontsize=size, fontweight="bold", color=_INK, va="center")
    weeks = f"{card.weeks} week{'s' if card.weeks != 1 else ''}"
    period = f"{weeks}: {_date_range(start, card.made_on)}"
    ax.text(0, 0.18, period, fontsize=19, color=_MUTED, va="center")


def _tile_sessions(ax: Axes, card: SummaryCard) -> None:
    """Fill a tile with sessions done in the period against the goal."""
    goal = card.goal_per_week * card.weeks
    _tile(ax, "Sessions", f"goal {card.goal_per_week} a week")
    _big_number(ax, str(card.sessions), f" / {goal}")


def _tile_streak(ax: Axes, weeks: int) -> None:
    """Fill a tile with the weekly streak."""
    _tile(ax, "Weekly streak", f"week{'s' if weeks != 1 else ''} in a row")
    _big_number(ax, str(weeks), "")


def _tile_score(ax: Axes, score: int) -> None:
    """Fill a tile with the consistency score out of 100."""
    _tile(ax, "Consistency", "score")
    _big_number(ax, str(score), " / 100")


def _tile_band(ax: Axes, band: str | None) -> None:
    """Fill a tile with the band the plan has reached and a swatch of its colour."""
    _tile(ax, "Band", "the plan has reached")
    known = band in _BAND_FACE
    label = band.title() if band is not None and known else "No band yet"
    face = _band_face(band) if known else _NO_BAND_FACE
    edge = _INK if known else _NO_BAND_EDGE
    ax.plot(
        [0.2],
        [0.5],
        transform=ax.transAxes,
        marker="o",
        markersize=44,
        markerfacecolor=face,
        markeredgecolor=edge,
        markeredgewidth=2,
    )
    size = 28 if known else 20
    ax.text(0.36, 0.5, label, fontsize=size, fontweight="bold", color=_INK, va="center")


def _tile_weaker(ax: Axes, weaker: dict[str, int]) -> None:
    """Fill a tile with how often each side was reported weaker."""
    _tile(ax, "Weaker side", "times reported")
    sides = (("left", "Left"), ("right", "Right"), ("same", "Same"))
    if not any(weaker.get(key, 0) for key, _ in sides):
        ax.text(0.5, 0.5, "None reported", fontsize=20, color=_MUTED, ha="center", va="center")
        return
    counts = [str(weaker.get(key, 0)) for key, _ in sides]
    size = 34 if max(len(c) for c in counts) <= 2 else 22
    for x, count, (_, label) in zip((0.2, 0.5, 0.8), counts, sides, strict=True):
        ax.text(x, 0.44, count, fontsize=size, fontweight="bold", color=_INK, ha="center")
        ax.text(x, 0.33, label, fontsize=15, color=_INK, ha="center", va="center")


def _tile_pain(ax: Axes, pain: Sequence[PainPoint]) -> None:
    """Fill a tile with the average pain at check-ins and how many named the low back."""
    if not pain:
        _tile(ax, "Average pain", "no check-ins")
        _big_number(ax, "–", "")
        return
    low_back = sum(p.low_back for p in pain)
    checkins = f"{len(pain)} check-in{'s' if len(pain) != 1 else ''}"
    _tile(ax, "Average pain", f"{checkins}, {low_back} low back")
    _big_number(ax, f"{sum(p.pain for p in pain) / len(pain):.1f}", " / 10")


def _draw_pain_trend(ax: Axes, pain: Sequence[PainPoint], start: date, end: date) -> None:
    """Draw pain at each check-in in the period as a line, low-back check-ins marked."""
    _panel_title(ax, "Pain at check-ins")
    if not pain:
        _empty(ax, "No check-ins in this period")
        return
    ax.axhspan(6, 10, color=_RED_ZONE, zorder=0)
    xs = [date2num(p.day) for p in pain]
    ax.plot(xs, [p.pain for p in pain], color=_PAIN, linewidth=2.4, marker="o", markersize=8)
    back = [p for p in pain if p.low_back]
    ax.scatter(
        [date2num(p.day) for p in back],
        [p.pain for p in back],
        s=150,
        marker="D",
        c=_LOW_BACK,
        edgecolors=_INK,
        linewidths=1,
        zorder=3,
    )
    _pain_axis(ax, bottom=-0.4)  # room for the whole of a marker at pain 0
    days = [p.day for p in pain]
    _date_axis(ax, (min(start, *days), max(end, *days)))
    _pain_key(ax, bar=False)


def _draw_footer(ax: Axes) -> None:
    """Write the card's small print."""
    ax.set_axis_off()
    ax.text(0.5, 0.5, "Band Coach · not medical advice", fontsize=12, color=_MUTED, ha="center")


def _tile(ax: Axes, title: str, caption: str) -> None:
    """Turn an axes into a rounded tile with a title at the top and a caption at the bottom."""
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.add_patch(
        FancyBboxPatch(
            (0.03, 0.04),
            0.94,
            0.9,
            boxstyle="round,pad=0,rounding_size=0.06",
            facecolor=_TILE,
            edgecolor="none",
            mutation_aspect=0.7,
        )
    )
    ax.text(0.5, 0.82, title, fontsize=17, color=_MUTED, ha="center", va="center")
    ax.text(0.5, 0.15, caption, fontsize=13, color=_MUTED, ha="center", va="center")


def _big_number(ax: Axes, number: str, suffix: str) -> None:
    """Write a tile's big number, centred, with a smaller suffix such as ' / 100' after it."""
    if not suffix:
        ax.text(0.5, 0.4, number, fontsize=44, fontweight="bold", color=_INK, ha="center")
        return
    # The number ends just right of centre so that number and suffix sit balanced as a pair.
    ax.text(0.58, 0.4, number, fontsize=44, fontweight="bold", color=_INK, ha="right")
    ax.text(0.58, 0.4, suffix, fontsize=22, color=_MUTED, ha="left")


# --- shared ------------------------------------------------------------------------------------


def _figure(height_in: float) -> Figure:
    """Return a white, phone-width figure with constrained layout."""
    layout = ConstrainedLayoutEngine(w_pad=0.15, h_pad=0.12)
    return Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout=layout, facecolor="white")


def _png(fig: Figure) -> bytes:
    """Return the figure as a 256-colour PNG."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    size = canvas.get_width_height()
    rgba = Image.frombuffer("RGBA", size, canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    # Flat colours and text lose nothing visible in a 256-colour palette, and the file shrinks
    # to about a third of a full-colour one (an 8-week chart would be about 250 KB otherwise).
    palette = rgba.convert("RGB").quantize(256, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _panel_title(ax: Axes, title: str) -> None:
    """Title a panel on its left, in the house style."""
    ax.set_title(title, loc="left", fontsize=19, fontweight="bold", color=_INK, pad=12)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=14, colors=_INK)


def _empty(ax: Axes, message: str) -> None:
    """Show a panel with nothing to draw as a framed message instead of bare axes."""
    ax.set_xticks([])
    ax.set_yticks([])
    ax.spines[["left", "bottom"]].set_color(_GRID)
    ax.text(0.5, 0.5, message, transform=ax.transAxes, fontsize=20, color=_MUTED, ha="center")


def _pain_axis(ax: Axes, bottom: float = 0) -> None:
    """Set a pain panel's 0-10 scale (with headroom for bar labels) and its label."""
    ax.set_ylim(bottom, 10.9)
    ax.set_yticks(range(0, 11, 2))
    ax.set_ylabel("Pain (0-10)", fontsize=16, color=_INK)
    ax.grid(axis="y", color=_GRID, linewidth=0.8, zorder=1)
    ax.set_axisbelow(True)


def _pain_key(ax: Axes, *, bar: bool) -> None:
    """Add the pain panel's key above its right end: pain, low back, and the red zone."""
    if bar:
        pain: Patch | Line2D = Patch(facecolor=_PAIN, label="Pain")
        back: Patch | Line2D = Patch(facecolor=_LOW_BACK, hatch="//", edgecolor="white")
    else:
        pain = Line2D([], [], color=_PAIN, linewidth=2.4, marker="o", markersize=8)
        back = Line2D(
            [], [], linestyle="none", marker="D", markersize=11, color=_LOW_BACK, mec=_INK
        )
    pain.set_label("Pain")
    back.set_label("Low back")
    zone = Patch(facecolor=_RED_ZONE, edgecolor="#ffa8a8", label="Red zone 6-10")
    ax.legend(
        handles=[pain, back, zone],
        loc="lower right",
        bbox_to_anchor=(1.0, 1.0),
        ncols=3,
        fontsize=14,
        frameon=False,
        borderaxespad=0.2,
        columnspacing=1.2,
    )


def _date_axis(ax: Axes, span: tuple[date, date]) -> None:
    """Fit the x axis to the days in span and label it in short dates such as '3 Nov'."""
    first, last = span
    days = (last - first).days
    pad = max(0.7, days * 0.03)
    ax.set_xlim(date2num(first) - pad, date2num(last) + pad)
    ax.xaxis.set_major_locator(_date_locator(days))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: _short(num2date(x).date())))
    ax.grid(axis="x", color=_GRID, linewidth=0.8)
    ax.set_axisbelow(True)


def _date_locator(days: int) -> Locator:
    """Return ticks for a span of days: each day or every few days when short, else Mondays."""
    if days < 14:
        return DayLocator(interval=max(1, math.ceil((days + 1) / 7)))
    return WeekdayLocator(byweekday=MO, interval=max(1, math.ceil(days / 7 / 6)))


def _short(day: date) -> str:
    """Return a day as '3 Nov' (English month names, whatever the process locale)."""
    return f"{day.day} {_MONTHS[day.month - 1]}"


def _date_range(first: date, last: date) -> str:
    """Return a period as '8 Sep – 2 Nov 2025', with both years when they differ."""
    if first.year == last.year:
        return f"{_short(first)} – {_short(last)} {last.year}"
    return f"{_short(first)} {first.year} – {_short(last)} {last.year}"


def _band_face(band: str | None) -> str:
    """Return the fill colour a band's markers are drawn in (white for no band)."""
    return _BAND_FACE.get(band or "", _NO_BAND_FACE)


def _band_edge(band: str | None) -> str:
    """Return the edge colour of a band's markers."""
    return _BAND_EDGE.get(band or "", _NO_BAND_EDGE)


def _safe(text: str) -> str:
    """Return user text drawable as is: no glyphs DejaVu Sans lacks (emoji), no mathtext."""
    kept = "".join(c for c in text if ord(c) in _drawable())
    # A pair of '$' would start mathtext, which can raise on a name; '\$' draws a plain '$'.
    return " ".join(kept.split()).replace("$", r"\$")


def _clip(text: str, limit: int) -> str:
    """Return text cut to at most limit characters, ending in '…' if it was cut."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@cache
def _drawable() -> frozenset[int]:
    """Return the code points DejaVu Sans has glyphs for."""
    font = get_font(findfont(FontProperties(family=_FONT)))
    return frozenset(font.get_charmap())
