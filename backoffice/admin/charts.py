"""Charts drawn on the server as SVG and put inline in the page: no script, no image from elsewhere, no
style attribute, so nothing a Content-Security-Policy would block.

Each chart names itself with <title> and <desc> (through aria-labelledby), each bar carries its number
in its own <title> and links to the list behind it, and the page shows the same numbers in a table.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup

WIDTH = 720
FONT = "system-ui, sans-serif"
AXIS_COLOUR = "#6c757d"
GRID_COLOUR = "#dee2e6"
# Distinct for the colour-blind (blue and orange), and dark enough for white page contrast.
ACCEPTED_COLOUR = "#1c5a94"
REJECTED_COLOUR = "#c75100"
NEUTRAL_COLOUR = "#26374a"


@dataclass(frozen=True)
class Series:
    """One stacked part of every column: its name, colour, values and the list behind each value."""

    name: str
    colour: str
    values: Sequence[int]
    urls: Sequence[str | None] = ()

    def url(self, index: int) -> str | None:
        return self.urls[index] if index < len(self.urls) else None


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    url: str | None = None


def column_chart(
    chart_id: str,
    title: str,
    description: str,
    categories: Sequence[str],
    series: Sequence[Series],
    label_every: int = 5,
    empty: str = "",
) -> Markup:
    """Stacked columns, one per category (a day, say), labelled every `label_every` categories;
    `empty` is written across the chart when every value is nought."""
    height, left, right, top, bottom = 240, 44, 8, 34, 36
    plot_width, plot_height = WIDTH - left - right, height - top - bottom
    totals = [sum(part.values[n] for part in series) for n in range(len(categories))]
    ceiling, step = _scale(max(totals, default=0))
    slot = plot_width / max(len(categories), 1)
    parts: list[Markup] = []
    parts += _grid(ceiling, step, left, top, plot_width, plot_height)
    parts += _legend(series, left, 14)
    for n, category in enumerate(categories):
        x = left + n * slot + slot * 0.15
        base = top + plot_height
        for part in series:
            value = part.values[n]
            if not value:
                continue
            bar_height = plot_height * value / ceiling
            base -= bar_height
            rect = _rect(x, base, slot * 0.7, bar_height, part.colour, f"{category} · {part.name}: {value}")
            parts.append(_linked(rect, part.url(n)))
        if n % label_every == 0 or n == len(categories) - 1:
            parts.append(_text(x + slot * 0.35, top + plot_height + 16, category, anchor="middle"))
    if empty and not any(totals):
        parts.append(_text(left + plot_width / 2, top + plot_height / 2, empty, anchor="middle"))
    return _close(chart_id, title, description, height, parts)


def bar_chart(
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    colour: str = NEUTRAL_COLOUR,
    empty: str = "",
) -> Markup:
    """Horizontal bars, one per row (a reason, say), largest value setting the scale; `empty` is written
    instead when there is no bar."""
    row, left, right, top = 26, 280, 48, 8
    height = top + row * max(len(bars), 1) + 8
    plot_width = WIDTH - left - right
    ceiling = max((bar.value for bar in bars), default=0) or 1
    parts: list[Markup] = []
    for n, bar in enumerate(bars):
        y = top + n * row
        width = plot_width * bar.value / ceiling
        parts.append(_text(left - 6, y + row / 2 + 4, _shorten(bar.label, 40), anchor="end", full=bar.label))
        rect = _rect(left, y + 4, width, row - 8, colour, f"{bar.label}: {bar.value}")
        parts.append(_linked(rect, bar.url))
        parts.append(_text(left + width + 4, y + row / 2 + 4, str(bar.value)))
    if empty and not bars:
        parts.append(_text(WIDTH / 2, top + row / 2 + 4, empty, anchor="middle"))
    return _close(chart_id, title, description, height, parts)


def _close(chart_id: str, title: str, description: str, height: int, parts: list[Markup]) -> Markup:
    """The chart around its `parts`: an image, or a group when its bars are links (an image's content is not
    read, so links inside it could not be reached by a screen reader)."""
    role = "group" if any(part.startswith("<a ") for part in parts) else "img"
    return Markup("").join([_open(chart_id, title, description, height, role), *parts, Markup("</svg>")])


def _open(chart_id: str, title: str, description: str, height: int, role: str) -> Markup:
    return Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="{role}" '
        'aria-labelledby="{id}-title {id}-desc" data-testid="chart-{id}" font-family="{font}" font-size="12">'
        '<title id="{id}-title">{title}</title><desc id="{id}-desc">{description}</desc>'
    ).format(
        width=WIDTH, height=height, role=role, id=chart_id, font=FONT, title=title, description=description
    )


def _scale(maximum: int) -> tuple[int, int]:
    """A round top for the axis, and the step between its gridlines (about four of them)."""
    if maximum <= 4:
        return max(maximum, 1), 1
    rough = maximum / 4
    magnitude = 10 ** (len(str(int(rough))) - 1)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    return -(-maximum // step) * step, step


def _grid(ceiling: int, step: int, left: float, top: float, width: float, height: float) -> list[str]:
    lines = []
    for value in range(0, ceiling + 1, step):
        y = top + height - height * value / ceiling
        colour = AXIS_COLOUR if value == 0 else GRID_COLOUR
        lines.append(
            Markup('<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="{}"/>').format(
                left, y, left + width, y, colour
            )
        )
        lines.append(_text(left - 6, y + 4, str(value), anchor="end"))
    return lines


def _legend(series: Sequence[Series], left: float, y: float) -> list[str]:
    items, x = [], left
    for part in series:
        items.append(
            Markup('<rect x="{:.1f}" y="{:.1f}" width="10" height="10" fill="{}"/>').format(
                x, y - 9, part.colour
            )
        )
        items.append(_text(x + 14, y, part.name))
        x += 28 + 7 * len(part.name)
    return items


def _rect(x: float, y: float, width: float, height: float, colour: str, label: str) -> Markup:
    return Markup(
        '<rect x="{:.1f}" y="{:.1f}" width="{:.1f}" height="{:.1f}" fill="{}"><title>{}</title></rect>'
    ).format(x, y, max(width, 0), max(height, 0), colour, label)


def _linked(element: Markup, url: str | None) -> Markup:
    return Markup('<a href="{}">{}</a>').format(url, element) if url else element


def _text(x: float, y: float, text: str, anchor: str = "start", full: str | None = None) -> Markup:
    tooltip = Markup("<title>{}</title>").format(full) if full and full != text else ""
    return Markup('<text x="{:.1f}" y="{:.1f}" text-anchor="{}" fill="#212529">{}{}</text>').format(
        x, y, anchor, tooltip, text
    )


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
