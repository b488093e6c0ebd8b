"""Plotly chart builders shared by the pages. Chinese text renders with a CJK font stack."""

from __future__ import annotations

import itertools
import numbers
from collections.abc import Iterable, Sequence

import pandas as pd
import plotly.colors
import plotly.graph_objects as go
import plotly.io as pio

from analytics.figures.limits import is_beyond

FONT = "Noto Sans CJK SC, Source Han Sans SC, Microsoft YaHei, PingFang SC, SimHei, sans-serif"
OVER = "#d62728"
OK = "#2ca02c"
PALETTE = plotly.colors.qualitative.Safe
# A bare Plotly template: st.plotly_chart draws in Streamlit's theme, which the browser
# merges into the figure's template, so Plotly's default one (about 6 KB of JSON per chart,
# converted and serialised on every rerun) only slowed each page. Streamlit's frontend
# expects the template to hold both "data" and "layout"; the look is ``style``'s.
pio.templates["poverty"] = go.layout.Template(layout={"hovermode": "closest"}, data={"bar": [{}]})
pio.templates.default = "poverty"


def _plain(value: object) -> object:
    """A name from data for a Plotly text: "<" as an entity, so that Plotly, which renders a
    few HTML tags (a link among them) in labels, shows it as written."""
    return value.replace("&", "&amp;").replace("<", "&lt;") if isinstance(value, str) else value


_TEXT_ATTRS = ("x", "y", "text", "hovertext", "labels")


def _plain_values(values: object) -> object:
    """``_plain`` over a trace's values (a list when any is text; else as given)."""
    if not isinstance(values, Iterable) or isinstance(values, str):
        return values
    items = list(values)
    return [_plain(v) for v in items] if any(isinstance(v, str) for v in items) else values


def _layout(title: str, height: int, right: int = 10, **more: object) -> dict[str, object]:
    """The layout every chart shares, as one nested dict: CJK fonts, the legend beside the
    plot, compact margins (``right`` keeps room for a label beside the plot), thousands
    separators; ``more`` adds or replaces top-level keys, an ``xaxis`` merged over the
    common one."""
    xaxis = {"automargin": True, **more.pop("xaxis", {})}  # type: ignore[dict-item]
    return {
        "title": {"text": _plain(title)},
        "font": {"family": FONT},
        "height": height,
        "margin": {"l": 10, "r": max(10, right), "t": 60 if title else 30, "b": 10},
        # beside the plot, top right: under it, it covered the unit names of the x axis;
        # above it, the title
        "legend": {"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1, "title": None},
        "separators": ".,",
        "colorway": PALETTE,
        "xaxis": xaxis,
        **more,
    }


def _figure(data: list[dict[str, object]], layout: dict[str, object]) -> go.Figure:
    """A figure built in one step from plain dicts, every text from data shown as written.

    Plotly validates the whole figure once; building it with ``add_*`` and
    ``update_layout`` calls validated every property on each call (three times slower:
    bench/RESULTS.md, "Browser"). A village named ``<a href=...>`` is not a link in a chart
    (``_plain``)."""
    for trace in data:
        for attr in _TEXT_ATTRS:
            if attr in trace:
                trace[attr] = _plain_values(trace[attr])
        if "name" in trace:
            trace["name"] = _plain(trace["name"])
    return go.Figure({"data": data, "layout": layout})


def _values(column: pd.Series) -> list[object]:
    """A column as a trace's values: a missing value (None, NaN, pd.NA) as None, a gap in
    the chart (never 0)."""
    return column.astype(object).where(column.notna(), None).tolist()


def _whole_axis(values: Sequence[object]) -> dict[str, object]:
    """A count axis: integer ticks from zero; one per unit up to 10 (no 0.5 household)."""
    counts = [float(v) for v in values if isinstance(v, numbers.Real) and v == v]
    top = max(counts, default=0.0)
    axis: dict[str, object] = {"tickformat": ",d", "rangemode": "tozero"}
    if top <= 10:
        axis["dtick"] = 1
    return axis


def _threshold(y: float, text: str) -> dict[str, object]:
    """A dashed threshold line across the plot with its label in the right margin, never
    over a bar (what ``add_hline(annotation_position="right")`` draws)."""
    return {
        "shapes": [
            {
                "type": "line",
                "xref": "x domain",
                "x0": 0,
                "x1": 1,
                "yref": "y",
                "y0": y,
                "y1": y,
                "line": {"dash": "dash", "color": OVER},
            }
        ],
        "annotations": [
            {
                "xref": "x domain",
                "x": 1,
                "xanchor": "left",
                "yref": "y",
                "y": y,
                "yanchor": "middle",
                "text": _plain(text),
                "showarrow": False,
                "font": {"color": OVER},
            }
        ],
    }


# A day-by-day x axis: one tick per day as 07-08 (no 00:00 / 12:00 ticks).
_DAILY: dict[str, object] = {"type": "date", "tickformat": "%m-%d", "dtick": 86_400_000}


def count_heatmap(counts: pd.DataFrame, x_title: str, y_title: str, title: str) -> go.Figure:
    """A heat map of whole counts (``counts``: rows on y, columns on x, each cell a count of
    households): its colour bar ticks whole numbers (no 0.2 household)."""
    z = counts.to_numpy()
    top = float(z.max()) if z.size else 0.0
    bar: dict[str, object] = {"tickformat": ",d"}
    if top <= 10:
        bar["dtick"] = 1
    heatmap = {
        "type": "heatmap",
        "z": z.tolist(),
        "x": [str(c) for c in counts.columns],
        "y": list(counts.index),
        "colorscale": "Reds",
        "zmin": 0,
        "colorbar": bar,
        "hovertemplate": "%{y} · %{x}: %{z}<extra></extra>",
    }
    height = max(360, 40 * len(counts) + 120)
    layout = _layout(
        title, height, xaxis={"title": {"text": x_title}}, yaxis={"title": {"text": y_title}}
    )
    return _figure([heatmap], layout)


def stacked_bars(
    frame: pd.DataFrame,
    x: str,
    series: dict[str, str],
    title: str,
    x_label: str,
    y_label: str,
    *,
    barmode: str = "stack",
    height: int = 420,
) -> go.Figure:
    """Bars of several count columns per unit, stacked (or side by side: ``barmode``
    "group"). ``series``: column -> legend label."""
    units = _values(frame[x])
    bars: list[dict[str, object]] = [
        {
            "type": "bar",
            "x": units,
            "y": _values(frame[col]),
            "name": name,
            "hovertemplate": "%{x}: %{y:,}<extra>" + name + "</extra>",
        }
        for col, name in series.items()
    ]
    counts = [v for bar in bars for v in bar["y"]]  # type: ignore[attr-defined]
    layout = _layout(
        title,
        height,
        barmode=barmode,
        xaxis={"title": {"text": x_label}},
        yaxis={"title": {"text": y_label}, **_whole_axis(counts)},
    )
    return _figure(bars, layout)


def series_bars(
    frame: pd.DataFrame,
    x: str,
    series: str,
    value: str,
    title: str,
    x_label: str,
    y_label: str,
    *,
    height: int = 420,
    by_day: bool = False,
) -> go.Figure:
    """Stacked bars of ``value`` per ``x`` from a long frame, one trace per distinct
    ``series`` (in sorted order: one colour per kind, e.g. per 安置方式 or per meeting
    phase); ``by_day``: ``x`` is a date, one tick per day."""
    bars: list[dict[str, object]] = []
    for name in sorted(frame[series].unique()):
        part = frame[frame[series] == name]
        bars.append({"type": "bar", "x": _values(part[x]), "y": _values(part[value]), "name": name})
    counts = _values(frame[value])
    layout = _layout(
        title,
        height,
        barmode="stack",
        xaxis={"title": {"text": x_label}, **(_DAILY if by_day else {})},
        yaxis={"title": {"text": y_label}, **_whole_axis(counts)},
    )
    return _figure(bars, layout)


def bars_and_line(
    frame: pd.DataFrame,
    x: str,
    bar: tuple[str, str],
    line: tuple[str, str],
    title: str,
    x_label: str,
) -> go.Figure:
    """Counts per unit as bars (left axis) and a second count as a line (right axis), e.g.
    meetings and attendance. ``bar`` and ``line``: (column, label)."""
    units = _values(frame[x])
    traces: list[dict[str, object]] = [
        {"type": "bar", "x": units, "y": _values(frame[bar[0]]), "name": bar[1]},
        {
            "type": "scatter",
            "x": units,
            "y": _values(frame[line[0]]),
            "name": line[1],
            "yaxis": "y2",
            "mode": "markers+lines",
        },
    ]
    whole = _whole_axis([v for trace in traces for v in trace["y"]])  # type: ignore[attr-defined]
    layout = _layout(
        title,
        420,
        xaxis={"title": {"text": x_label}},
        yaxis={"title": {"text": bar[1]}, **whole},
        yaxis2={"title": {"text": line[1]}, "overlaying": "y", "side": "right", **whole},
    )
    return _figure(traces, layout)


def cumulative_lines(
    per_day: pd.DataFrame,
    unit: str,
    phases: pd.DataFrame,
    title: str,
    x_label: str,
    y_label: str,
) -> go.Figure:
    """A cumulative count per day, one line per unit, over shaded date spans (``phases``:
    phase, first, last), each labelled at its top left."""
    lines: list[dict[str, object]] = []
    for name in per_day[unit].drop_duplicates().sort_values():
        part = per_day[per_day[unit] == name]
        lines.append(
            {
                "type": "scatter",
                "x": _values(part["survey_date"]),
                "y": _values(part["cumulative"]),
                "name": str(name),
                "mode": "lines+markers",
            }
        )
    shapes, notes = [], []
    for i, span in enumerate(phases.itertuples()):
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "x0": span.first,
                "x1": span.last,
                "yref": "y domain",
                "y0": 0,
                "y1": 1,
                "opacity": 0.08,
                "line": {"width": 0},
                "fillcolor": PALETTE[i % len(PALETTE)],
            }
        )
        notes.append(
            {
                "xref": "x",
                "x": span.first,
                "xanchor": "left",
                "yref": "y domain",
                "y": 1,
                "yanchor": "top",
                "text": _plain(span.phase),
                "showarrow": False,
            }
        )
    counts = _values(per_day["cumulative"])
    layout = _layout(
        title,
        460,
        xaxis={"title": {"text": x_label}, **_DAILY},
        yaxis={"title": {"text": y_label}, **_whole_axis(counts)},
        shapes=shapes,
        annotations=notes,
    )
    return _figure(lines, layout)


def area_scatter(
    rows: pd.DataFrame, title: str, x_label: str, y_label: str, line_label: str
) -> go.Figure:
    """One point per relocated household: its standard area (x) against its house area
    (y), red when over the standard, with the line where the two are equal."""
    colors = [OVER if o else OK for o in rows["over_standard"]]
    top = float(max(rows["standard_area"].max(), rows["house_area"].max())) * 1.1
    traces: list[dict[str, object]] = [
        {
            "type": "scatter",
            "x": _values(rows["standard_area"]),
            "y": _values(rows["house_area"]),
            "mode": "markers",
            "marker": {"color": colors, "size": 10},
            "text": _values(rows["household_id"]),
            "name": y_label,
            "hovertemplate": "%{text}: %{y:,.1f} / %{x:,.1f} m²<extra></extra>",
        },
        {
            "type": "scatter",
            "x": [0, top],
            "y": [0, top],
            "mode": "lines",
            "line": {"dash": "dash", "color": "#888"},
            "name": line_label,
        },
    ]
    layout = _layout(
        title, 420, xaxis={"title": {"text": x_label}}, yaxis={"title": {"text": y_label}}
    )
    return _figure(traces, layout)


def rate_bars(
    frame: pd.DataFrame,
    x: str,
    rate: str,
    ceiling: float | None,
    title: str,
    x_label: str,
    ceiling_label: str,
    floor: bool = False,
) -> go.Figure:
    """A rate per unit as bars, red where it is beyond its threshold, with the threshold line.

    ``floor`` means the threshold is a minimum (approval); otherwise a ceiling.
    """
    values = _values(frame[rate])
    bar: dict[str, object] = {
        "type": "bar",
        "x": _values(frame[x]),
        "y": values,
        "marker": {"color": [OVER if is_beyond(v, ceiling, floor) else OK for v in values]},
        "hovertemplate": "%{x}: %{y:.2%}<extra></extra>",
    }
    line = _threshold(ceiling, ceiling_label) if ceiling is not None else {}
    layout = _layout(
        title,
        420,
        right=110,
        xaxis={"title": {"text": x_label}},
        yaxis={"tickformat": ".2%"},
        showlegend=False,
        **line,
    )
    return _figure([bar], layout)


def sankey(
    flows: pd.DataFrame, stages: Sequence[str], value: str, names: dict[str, str], title: str
) -> go.Figure:
    """A Sankey of ``value`` from each stage column to the next (e.g. state -> outcome).

    ``names`` maps (stage, code) keys "stage:code" to node labels; missing codes are shown
    by the label of "stage:" (e.g. "no change").
    """
    nodes: list[str] = []
    index: dict[str, int] = {}

    def node(stage: str, code: object) -> int:
        key = f"{stage}:{'' if code is None or code != code else code}"
        if key not in index:
            index[key] = len(nodes)
            nodes.append(names.get(key, key.split(":", 1)[1]))
        return index[key]

    src, dst, val = [], [], []
    for a, b in itertools.pairwise(stages):
        part = flows.groupby([flows[a].fillna(""), flows[b].fillna("")], dropna=False)[value].sum()
        for (ca, cb), v in part.items():
            if v:
                src.append(node(a, ca or None))
                dst.append(node(b, cb or None))
                val.append(int(v))
    sankey: dict[str, object] = {
        "type": "sankey",
        "node": {"label": [_plain(n) for n in nodes], "pad": 18, "thickness": 16},
        "link": {"source": src, "target": dst, "value": val},
        "valueformat": ",",
    }
    return _figure([sankey], _layout(title, 460))


def income_boxes(
    summary: pd.DataFrame,
    x: str,
    line: float | None,
    line_label: str,
    title: str,
    x_label: str,
    y_label: str,
) -> go.Figure:
    """Box plots of income per unit drawn from quartiles and whiskers only
    (``breakdowns.income_summary``): the browser never receives a household's income. The
    poverty line, when known, is a dashed line labelled in the right margin."""
    shown = summary.dropna(subset=["median"])
    box = {
        "type": "box",
        "x": shown[x].astype(str).tolist(),
        "q1": _values(shown["q1"]),
        "median": _values(shown["median"]),
        "q3": _values(shown["q3"]),
        "lowerfence": _values(shown["low"]),
        "upperfence": _values(shown["high"]),
        "boxpoints": False,
        "showlegend": False,
    }
    extra = _threshold(line, f"{line_label} {line:,.0f}") if line else {}
    layout = _layout(
        title,
        420,
        right=110,
        xaxis={"title": {"text": x_label}},
        yaxis={"title": {"text": y_label}, "tickformat": ","},
        **extra,
    )
    return _figure([box], layout)
