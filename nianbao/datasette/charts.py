"""Charts drawn on the server as inline SVG: no script, no CDN, readable in any browser and in a saved page. Each
chart is drawn from a table that the page shows beside it; a blank value is a gap, never a zero."""

from __future__ import annotations

from markupsafe import Markup, escape

WIDTH, HEIGHT = 560, 220
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 28, 40
COLOURS = ("#3867d6", "#f7b731", "#20bf6b", "#eb3b5a", "#8854d0", "#0fb9b1")


def _scale(top: float) -> float:
    """A round axis maximum at or above `top`."""
    if top <= 0:
        return 1.0
    step = 10 ** (len(str(int(top))) - 1) if top >= 1 else 0.1
    return float(((top // step) + 1) * step) if top % step else float(top)


def _frame(title: str, axis_top: float, percent: bool) -> list[str]:
    plot_h = HEIGHT - TOP - BOTTOM
    parts = [f'<text x="{LEFT}" y="16" class="chart-title" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i in range(5):
        value = axis_top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        label = f"{value * 100:.0f}%" if percent else (f"{value:.0f}" if axis_top >= 4 else f"{value:.1f}")
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{LEFT - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{label}</text>')
    return parts


def _legend(names: list[str]) -> str:
    items, x = [], LEFT
    for i, name in enumerate(names):
        items.append(f'<rect x="{x}" y="{HEIGHT - 14}" width="10" height="10" fill="{COLOURS[i % len(COLOURS)]}"/>'
                     f'<text x="{x + 14}" y="{HEIGHT - 5}" font-size="10">{escape(name)}</text>')
        x += 24 + 11 * len(name)
    return "".join(items)


def _svg(parts: list[str], title: str) -> Markup:
    return Markup(f'<svg class="nb-chart" role="img" aria-label="{escape(title)}" width="{WIDTH}" height="{HEIGHT}" '
                  f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg" '
                  f'font-family="sans-serif">{"".join(parts)}</svg>')


def bar_chart(categories: list[str], series: dict[str, list[float | None]], title: str) -> Markup:
    """Stacked bars, one per category (e.g. data year), one segment per series."""
    totals = [sum(v or 0 for v in values) for values in zip(*series.values(), strict=True)] if series else []
    axis_top = _scale(max(totals, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(categories), 1)
    parts = _frame(title, axis_top, percent=False)
    for i, category in enumerate(categories):
        x, base = LEFT + slot * i + slot * 0.15, TOP + plot_h
        for j, (name, values) in enumerate(series.items()):
            value = values[i] or 0
            if value <= 0:
                continue
            h = plot_h * value / axis_top
            base -= h
            parts.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                         f'fill="{COLOURS[j % len(COLOURS)]}"><title>{escape(category)} · {escape(name)}: '
                         f'{value:g}</title></rect>')
        parts.append(f'<text x="{LEFT + slot * (i + 0.5):.1f}" y="{TOP + plot_h + 14}" font-size="10" '
                     f'text-anchor="middle">{escape(category)}</text>')
    parts.append(_legend(list(series)))
    return _svg(parts, title)


def line_chart(categories: list[str], series: dict[str, list[float | None]], title: str,
               percent: bool = False) -> Markup:
    """One line per series over the categories; a blank value breaks the line."""
    values = [v for vs in series.values() for v in vs if v is not None]
    axis_top = 1.0 if percent and values and max(values) <= 1 else _scale(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(categories), 1)
    parts = _frame(title, axis_top, percent)
    for i, category in enumerate(categories):
        parts.append(f'<text x="{LEFT + slot * (i + 0.5):.1f}" y="{TOP + plot_h + 14}" font-size="10" '
                     f'text-anchor="middle">{escape(category)}</text>')
    for j, (name, points) in enumerate(series.items()):
        colour = COLOURS[j % len(COLOURS)]
        runs: list[list[tuple[float, float]]] = [[]]
        for i, value in enumerate(points):
            if value is None:
                runs.append([])
                continue
            x, y = LEFT + slot * (i + 0.5), TOP + plot_h - plot_h * value / axis_top
            runs[-1].append((x, y))
            shown = f"{value * 100:.1f}%" if percent else f"{value:g}"
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>{escape(category_of(categories, i))}'
                         f' · {escape(name)}: {shown}</title></circle>')
        for run in runs:
            if len(run) > 1:
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in run)
                parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
    parts.append(_legend(list(series)))
    return _svg(parts, title)


def category_of(categories: list[str], i: int) -> str:
    return categories[i] if 0 <= i < len(categories) else ""
