"""Charts drawn on the server as SVG: no script, no library, no internet, CSP-clean.

Every text is escaped; each bar carries a <title> so hovering shows its number.
"""

from __future__ import annotations

from markupsafe import Markup, escape

MONTHS = ("янв", "фев", "мар", "апр", "май", "июн", "июл", "авг", "сен", "окт", "ноя", "дек")
CASE_SERIES = (
    ("application", "заявление и оценка", "#f0ad4e"),
    ("active", "на сопровождении", "#2e86c1"),
    ("closed", "закрыто за месяц", "#95a5a6"),
)


TICKS = 4


def _nice_step(value: int) -> int:
    """A round step (1, 2, 5 × 10ⁿ) so that TICKS steps reach at least `value`."""
    need = max(1, -(-value // TICKS))
    scale = 1
    while True:
        for base in (1, 2, 5):
            if base * scale >= need:
                return base * scale
        scale *= 10


def stacked_months(points: list[dict], label: str) -> Markup:
    """Stacked columns per month (cases by status at the month's end)."""
    width, height, left, bottom, top = 640, 230, 36, 40, 12
    plot_h = height - bottom - top
    step = _nice_step(max((sum(p[k] for k, *_ in CASE_SERIES) for p in points), default=0))
    top_value = step * TICKS
    slot = (width - left - 8) / max(len(points), 1)
    bar = slot * 0.62
    parts = [
        f'<svg class="opora-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
    ]
    for tick in range(TICKS + 1):
        value = step * tick
        y = top + plot_h - plot_h * tick / TICKS
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - 8}" y2="{y:.1f}" stroke="#e5e8ec"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" '
            f'fill="#6c757d">{value}</text>'
        )
    for i, point in enumerate(points):
        x = left + i * slot + (slot - bar) / 2
        y = top + plot_h
        for key, name, colour in CASE_SERIES:
            value = point[key]
            if not value:
                continue
            h = plot_h * value / top_value
            y -= h
            month = point["month"]
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{MONTHS[month.month - 1]} {month.year}: '
                f"{escape(name)} — {value}</title></rect>"
            )
        month = point["month"]
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
            f'font-size="11" fill="#495057">{MONTHS[month.month - 1]}</text>'
        )
        if month.month == 1 or i == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 30}" text-anchor="middle" '
                f'font-size="10" fill="#6c757d">{month.year}</text>'
            )
    parts.append("</svg>")
    legend = "".join(
        f'<span class="opora-legend"><svg width="10" height="10" aria-hidden="true">'
        f'<rect width="10" height="10" fill="{colour}"/></svg> {escape(name)}</span>'
        for _key, name, colour in CASE_SERIES
    )
    return Markup("".join(parts) + f'<div class="small text-muted">{legend}</div>')


def horizontal_bars(items: list[tuple[str, int]], label: str, colour: str = "#2e86c1") -> Markup:
    """One bar per item, longest first (loans out now by equipment type)."""
    row_h, label_w, width = 24, 230, 640
    height = max(len(items), 1) * row_h + 8
    top_value = max((n for _name, n in items), default=0) or 1
    bar_space = width - label_w - 50
    parts = [
        f'<svg class="opora-chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
    ]
    for i, (name, value) in enumerate(items):
        y = 4 + i * row_h
        w = bar_space * value / top_value
        short = name if len(name) <= 34 else name[:33] + "…"
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="12" '
            f'fill="#495057">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" '
            f'fill="{colour}"><title>{escape(name)} — {value}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 15}" font-size="12" '
            f'fill="#212529">{value}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))
