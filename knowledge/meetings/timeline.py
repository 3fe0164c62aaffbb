"""The meetings on a time axis with the commentary around each, drawn to a PNG.

Sized for Discord: the image is 1200 px wide and every text is at least 22 px tall, so that
it stays legible (>= 11 px) when Discord shows the embed image 600 px wide.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from collections.abc import Sequence
from typing import Literal

from knowledge.models import Meeting, PartialDate
from knowledge.scope import load_scope

WIDTH_PX = 1200
DPI = 100
FONT_PT = 16  # 22 px at 100 dpi: 11 px when shown at half size
TITLE_PT = 19
ROW_PX = 84
HEAD_PX = 118
FOOT_PX = 56
MARGIN_PX = 24
STRIP_LEFT_PX = 700  # the time strip of each row starts here; commentary text sits left of it
CHAR_PX = 12.2  # average advance of DejaVu Sans at FONT_PT, for fitting text to a width

BEFORE_COLOUR = "#2563a8"
AFTER_COLOUR = "#d9641e"
UNSURE_COLOUR = "#8a8a8a"
MEETING_COLOUR = "#1a1a1a"

Side = Literal["before", "after"] | None


@dataclasses.dataclass(frozen=True, slots=True)
class TimelineArticle:
    """One article about a meeting: when it was published (the middle of its date's period)
    and on which side of the meeting."""

    published: dt.date
    side: Side


@dataclasses.dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One row of the picture: a meeting, the articles about it, and their experts."""

    meeting: Meeting
    articles: tuple[TimelineArticle, ...]
    undated_articles: int
    experts: tuple[str, ...]


def format_meeting_date(date: PartialDate | None, date_end: dt.date | None = None) -> str:
    """A meeting's date in the one display style (`PartialDate.display`), or "undated"."""
    return date.display(date_end) if date is not None else "undated"


def _fit(text: str, width_px: float) -> str:
    """Cut text with an ellipsis so that it fits a width."""
    limit = max(int(width_px / CHAR_PX), 4)
    return text if len(text) <= limit else text[:limit - 1].rstrip(" ,;:-") + "…"


def _surname(name: str) -> str:
    return name.split()[-1] if name.split() else name


def commentary_line(entry: TimelineEntry, width_px: float) -> str:
    """"2 articles: Akiyama, Streltsov" fitted to a width (names dropped into "+N more")."""
    count = len(entry.articles) + entry.undated_articles
    if count == 0:
        return "no commentary in the library yet"
    head = f"{count} article{'s' * (count != 1)}"
    names = list(dict.fromkeys(_surname(n) for n in entry.experts))
    if not names:
        return f"{head}, author not named"
    for shown in range(len(names), 0, -1):
        rest = len(names) - shown
        line = f"{head}: {', '.join(names[:shown])}" + (f" +{rest} more" if rest else "")
        if len(line) * CHAR_PX <= width_px:
            return line
    return _fit(f"{head}: {names[0]}", width_px)


def _axis_range(entries: Sequence[TimelineEntry]) -> tuple[dt.date, dt.date]:
    """Whole years covering every meeting and article."""
    days = [e.meeting.date.start for e in entries if e.meeting.date]
    days += [a.published for e in entries for a in e.articles]
    if not days:
        today = dt.date.today()
        return dt.date(today.year, 1, 1), dt.date(today.year + 1, 1, 1)
    return dt.date(min(days).year, 1, 1), dt.date(max(days).year + 1, 1, 1)


def render_timeline(entries: Sequence[TimelineEntry], *, title: str | None = None) -> bytes:
    """The PNG: one row per meeting, oldest first, with its articles on a shared time strip;
    the title defaults to the scope's ("Russia–Japan meetings and the commentary around them")."""
    if title is None:
        title = f"{load_scope().title} and the commentary around them"
    # The object API with the Agg canvas, not pyplot: no global state, safe in worker threads.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    rows = max(len(entries), 1)
    height = HEAD_PX + rows * ROW_PX + FOOT_PX
    fig = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI)
    renderer = FigureCanvasAgg(fig).get_renderer()
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, WIDTH_PX)
    ax.set_ylim(height, 0)  # pixel coordinates, y down
    ax.axis("off")
    fig.patch.set_facecolor("white")

    first, last = _axis_range(entries)
    strip_right = WIDTH_PX - MARGIN_PX
    span = (last - first).days or 1

    def x_of(day: dt.date) -> float:
        return STRIP_LEFT_PX + (day - first).days / span * (strip_right - STRIP_LEFT_PX)

    ax.text(MARGIN_PX, 34, title, fontsize=TITLE_PT, fontweight="bold", va="center")
    legend = [Line2D([], [], marker="|", color=MEETING_COLOUR, linestyle="", markersize=20,
                     markeredgewidth=3, label="meeting"),
              Line2D([], [], marker="o", color=BEFORE_COLOUR, linestyle="", markersize=11,
                     label="article before it"),
              Line2D([], [], marker="o", color=AFTER_COLOUR, linestyle="", markersize=11,
                     label="article after it")]
    fig.legend(handles=legend, loc="upper left", bbox_to_anchor=(MARGIN_PX / WIDTH_PX,
                                                                1 - 58 / height),
               ncol=3, frameon=False, fontsize=FONT_PT, handletextpad=0.3, columnspacing=1.2,
               borderaxespad=0)

    years = range(first.year, last.year + 1)
    grid_bottom = HEAD_PX + rows * ROW_PX
    label_step = 1 if len(years) <= 8 else 2
    for year in list(years)[:-1:label_step]:
        middle = x_of(dt.date(year, 7, 1))
        ax.text(middle, grid_bottom + 26, str(year), fontsize=FONT_PT, ha="center",
                va="center", color="#444444")

    for n, entry in enumerate(entries):
        top = HEAD_PX + n * ROW_PX
        if n % 2:
            ax.add_patch(Rectangle((0, top), WIDTH_PX, ROW_PX,
                                                      color="#f4f4f4", zorder=-1))
        meeting = entry.meeting
        when = format_meeting_date(meeting.date, meeting.date_end)
        headline = f"{when} · {meeting.place}" if meeting.place else when
        line1_y, line2_y = top + 24, top + 60
        for year in years:  # year lines only in the strip's band, clear of the headline
            x = x_of(dt.date(year, 1, 1))
            ax.plot([x, x], [top + 40, top + ROW_PX], color="#d4d4d4", linewidth=1, zorder=0)
        head = ax.text(MARGIN_PX, line1_y, headline, fontsize=FONT_PT, fontweight="bold",
                       va="center")
        used = head.get_window_extent(renderer).width + CHAR_PX * 1.5
        ax.text(MARGIN_PX + used, line1_y,
                _fit(meeting.name, WIDTH_PX - MARGIN_PX * 2 - used), fontsize=FONT_PT,
                va="center", color="#222222")
        ax.text(MARGIN_PX, line2_y,
                commentary_line(entry, STRIP_LEFT_PX - MARGIN_PX * 2), fontsize=FONT_PT,
                va="center", color="#333333")
        ax.plot([STRIP_LEFT_PX, strip_right], [line2_y, line2_y], color="#bdbdbd",
                linewidth=1.2, zorder=1)
        for article in entry.articles:
            colour = {"before": BEFORE_COLOUR, "after": AFTER_COLOUR}.get(article.side or "",
                                                                       UNSURE_COLOUR)
            ax.plot(x_of(article.published), line2_y, marker="o", markersize=11,
                    color=colour, markeredgecolor="white", markeredgewidth=1.2, zorder=4,
                    alpha=0.95)
        if meeting.date is not None:  # a bar, so that same-month articles stay visible on it
            ax.plot(x_of(meeting.date.start), line2_y, marker="|", markersize=26,
                    markeredgewidth=3, color=MEETING_COLOUR, zorder=3)
    if not entries:
        ax.text(WIDTH_PX / 2, HEAD_PX + ROW_PX / 2, "No meetings in the registry.",
                fontsize=FONT_PT, ha="center", va="center")

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()
