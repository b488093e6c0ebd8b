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


def plain_text(fig: go.Figure) -> go.Figure:
    """Every category, trace name, label and hover text of ``fig`` shown as written (see
    ``_plain``): a village named ``<a href=...>`` is not a link in a chart."""
    for trace in fig.data:
        for attr in _TEXT_ATTRS:
            values = getattr(trace, attr, None)
            plain = _plain_values(values)
            if plain is not values:
                trace[attr] = plain
        if getattr(trace, "name", None):
            trace.name = _plain(trace.name)
        if trace.type == "sankey":
            trace.node.label = [_plain(v) for v in trace.node.label]
    return fig


def _layout(title: str, height: int, right: int = 10, **more: object) -> dict[str, object]:
    """The common layout as one nested dict (see ``style``); ``more`` adds or replaces
    top-level keys, an ``xaxis`` merged over the common one."""
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
    bench/RESULTS.md, "Browser")."""
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


def style(fig: go.Figure, title: str = "", height: int = 420) -> go.Figure:
    """Common layout: CJK fonts, legend beside the plot, compact margins, thousands
    separators; every text from data shown as text (``plain_text``)."""
    plain_text(fig)
    right = int(fig.layout.margin.r or 0)  # a label beside the plot keeps its room
    fig.update_layout(_layout(title, height, right))
    return fig


def daily(fig: go.Figure) -> go.Figure:
    """A day-by-day x axis: one tick per day as 07-08 (no 00:00 / 12:00 ticks)."""
    return fig.update_xaxes(type="date", tickformat="%m-%d", dtick=86_400_000)


def whole_numbers(fig: go.Figure) -> go.Figure:
    """Count axes: no 0.5 household, no 76.3 attendances (integer ticks, from zero)."""
    values = [v for tr in fig.data if getattr(tr, "y", None) is not None for v in tr.y]
    return fig.update_yaxes(_whole_axis(values))


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
    frame: pd.DataFrame, x: str, series: dict[str, str], title: str, x_label: str, y_label: str
) -> go.Figure:
    """Stacked bars of several count columns per unit. ``series``: column -> legend label."""
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
        420,
        barmode="stack",
        xaxis={"title": {"text": x_label}},
        yaxis={"title": {"text": y_label}, **_whole_axis(counts)},
    )
    return _figure(bars, layout)


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
    fig = go.Figure(
        go.Sankey(
            node={"label": nodes, "pad": 18, "thickness": 16},
            link={"source": src, "target": dst, "value": val},
            valueformat=",",
        )
    )
    return style(fig, title, height=460)


def income_boxes(summary: pd.DataFrame, x: str, line: float | None, line_label: str) -> go.Figure:
    """Box plots of income per unit drawn from quartiles and whiskers only
    (``breakdowns.income_summary``): the browser never receives a household's income."""
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
    return _figure([box], {"margin": {"r": 110}, **extra})
