"""Charts drawn on the server as SVG: no script, nothing from a CDN, nothing the CSP must allow.

Every chart is drawn from a ``Table`` — the same rows the page prints beside it and the CSV
holds — so a chart cannot say something its table does not. Each bar and point carries its label
and value (``data-label``, ``data-value``); the ``<svg>`` has a ``<title>`` and a ``<desc>`` and
``role="img"``, and the table beside it is what screen readers read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from markupsafe import Markup, escape

PALETTE = ("#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#d63384", "#20c997")
FONT = "system-ui, -apple-system, 'Segoe UI', 'Noto Sans CJK SC', 'Microsoft YaHei', sans-serif"


@dataclass
class Table:
    """A table of a report: ``columns`` are headings, ``rows`` the cells (first cell: the row's
    label), ``keys`` each row's stable identity (for comparing a snapshot with today's data).
    ``chart`` is ``"bar"``, ``"line"`` or ``None``; ``series`` the column indexes it draws."""

    key: str
    title: Any
    columns: Sequence[Any]
    rows: list[list[Any]]
    keys: list[str] = field(default_factory=list)
    chart: str | None = None
    series: Sequence[int] = (1,)
    unit: Any = ""
    note: Any = ""

    def __post_init__(self) -> None:
        if not self.keys:
            self.keys = [str(row[0]) for row in self.rows]

    def svg(self) -> Markup:
        if self.chart == "line":
            return line_chart(self)
        if self.chart == "bar":
            return bar_chart(self)
        return Markup("")

    def chart_points(self) -> list[tuple[str, str, float]]:
        """(series heading, row label, value) of every bar or point — what the chart draws."""
        names = {s: str(self.columns[s]) for s in self.series}  # headings are lazy strings: translate once
        return [(names[s], str(row[0]), _number(row[s])) for s in self.series for row in self.rows]


def _number(value: Any) -> float:
    try:
        return float(value) if value is not None else 0.0
    except (TypeError, ValueError):
        return 0.0


def _fmt(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _frame(table: Table, width: int, height: int, body: list[str], legend: list[str]) -> Markup:
    ident = f"chart-{escape(table.key).replace('.', '-')}"
    description = "; ".join(f"{label}: {_fmt(value)}" if len(table.series) == 1 else f"{series} – {label}: {_fmt(value)}"
                            for series, label, value in table.chart_points())
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="report-chart" viewBox="0 0 {width} {height}" '
        f'width="100%" role="img" aria-labelledby="{ident}-title {ident}-desc" data-chart="{escape(table.key)}" '
        f'font-family="{FONT}" font-size="12">',
        f'<title id="{ident}-title">{escape(str(table.title))}</title>',
        f'<desc id="{ident}-desc">{escape(description)}</desc>',
        *legend, *body, "</svg>",
    ]
    return Markup("".join(parts))


def _legend(table: Table, y: int) -> list[str]:
    if len(table.series) < 2:
        return []
    items, x = [], 10
    for i, s in enumerate(table.series):
        name = escape(str(table.columns[s]))
        items.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="{y}">{name}</text>')
        x += 24 + 8 * len(str(table.columns[s])) + 20
    return items


def bar_chart(table: Table) -> Markup:
    """Horizontal bars (labels of any length, Chinese or not, stay readable), grouped per row when
    the table has several series."""
    label_width, width, bar, gap = 170, 640, 14, 8
    series = list(table.series)
    top = 24 if len(series) > 1 else 6
    group = bar * len(series) + gap
    height = top + max(1, len(table.rows)) * group + 6
    peak = max([_number(row[s]) for row in table.rows for s in series] + [0.0]) or 1.0
    room = width - label_width - 60
    names = {s: escape(str(table.columns[s])) for s in series}
    body = []
    for r, row in enumerate(table.rows):
        y0 = top + r * group
        label = str(row[0])
        shown = label if len(label) <= 22 else label[:21] + "…"
        body.append(f'<text x="{label_width - 6}" y="{y0 + bar * len(series) / 2 + 4:.0f}" text-anchor="end">'
                    f'{escape(shown)}</text>')
        for i, s in enumerate(series):
            value = _number(row[s])
            length = max(0.0, value / peak * room)
            y = y0 + i * bar
            body.append(f'<rect x="{label_width}" y="{y}" width="{length:.1f}" height="{bar - 2}" '
                        f'fill="{PALETTE[i % len(PALETTE)]}" data-series="{names[s]}" '
                        f'data-label="{escape(label)}" data-value="{_fmt(value).replace(",", "")}"/>')
            body.append(f'<text x="{label_width + length + 4:.1f}" y="{y + bar - 4}" fill="#212529">{_fmt(value)}</text>')
    return _frame(table, width, height, body, _legend(table, 14))


def line_chart(table: Table) -> Markup:
    """A line per series over the rows (months), with a dot per value."""
    width, height, left, right, top, bottom = 640, 240, 44, 30, 28, 36
    series = list(table.series)
    n = len(table.rows)
    peak = max([_number(row[s]) for row in table.rows for s in series] + [0.0]) or 1.0
    inner_w, inner_h = width - left - right, height - top - bottom

    def x_of(i: int) -> float:
        return left + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)

    def y_of(value: float) -> float:
        return top + inner_h - value / peak * inner_h

    body = [f'<line x1="{left}" y1="{top + inner_h}" x2="{width - right}" y2="{top + inner_h}" stroke="#adb5bd"/>',
            f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + inner_h}" stroke="#adb5bd"/>',
            f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{_fmt(peak)}</text>',
            f'<text x="{left - 4}" y="{top + inner_h + 4}" text-anchor="end">0</text>']
    step = max(1, n // 12)
    for i, row in enumerate(table.rows):
        if i % step == 0:
            body.append(f'<text x="{x_of(i):.1f}" y="{height - bottom + 16}" text-anchor="middle">{escape(str(row[0]))}</text>')
    for k, s in enumerate(series):
        colour = PALETTE[k % len(PALETTE)]
        points = [(x_of(i), y_of(_number(row[s]))) for i, row in enumerate(table.rows)]
        if len(points) > 1:
            body.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="'
                        + " ".join(f"{x:.1f},{y:.1f}" for x, y in points) + '"/>')
        for (x, y), row in zip(points, table.rows):
            value = _number(row[s])
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}" '
                        f'data-series="{escape(str(table.columns[s]))}" data-label="{escape(str(row[0]))}" '
                        f'data-value="{_fmt(value).replace(",", "")}"><title>{escape(str(row[0]))}: {_fmt(value)}</title></circle>')
    legend = _legend(table, 14) if len(series) > 1 else []
    return _frame(table, width, height, body, legend)
