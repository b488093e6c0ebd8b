"""Plotly chart builders shared by the pages. Chinese text renders with a CJK font stack."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

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


def plain_text(fig: go.Figure) -> go.Figure:
    """Every category, trace name, label and hover text of ``fig`` shown as written (see
    ``_plain``): a village named ``<a href=...>`` is not a link in a chart."""
    for trace in fig.data:
        for attr in ("x", "y", "text", "hovertext", "labels"):
            values = getattr(trace, attr, None)
            if (
                values is not None
                and not isinstance(values, str)
                and any(isinstance(v, str) for v in values)
            ):
                trace[attr] = [_plain(v) for v in values]
        if getattr(trace, "name", None):
            trace.name = _plain(trace.name)
        if trace.type == "sankey":
            trace.node.label = [_plain(v) for v in trace.node.label]
    return fig


def style(fig: go.Figure, title: str = "", height: int = 420) -> go.Figure:
    """Common layout: CJK fonts, legend beside the plot, compact margins, thousands
    separators; every text from data shown as text (``plain_text``)."""
    plain_text(fig)
    right = max(10, fig.layout.margin.r or 0)  # a label beside the plot keeps its room
    fig.update_layout(
        title=_plain(title),
        font_family=FONT,
        height=height,
        margin={"l": 10, "r": right, "t": 60 if title else 30, "b": 10},
        # beside the plot, top right: under it, it covered the unit names of the x axis;
        # above it, the title
        legend={"orientation": "v", "x": 1.01, "xanchor": "left", "y": 1, "title": None},
        separators=".,",
        colorway=PALETTE,
    )
    fig.update_xaxes(automargin=True)
    return fig


def daily(fig: go.Figure) -> go.Figure:
    """A day-by-day x axis: one tick per day as 07-08 (no 00:00 / 12:00 ticks)."""
    return fig.update_xaxes(type="date", tickformat="%m-%d", dtick=86_400_000)


def whole_numbers(fig: go.Figure) -> go.Figure:
    """Count axes: no 0.5 household, no 76.3 attendances (integer ticks, from zero)."""
    fig.update_yaxes(tickformat=",d", rangemode="tozero")
    values = [v for tr in fig.data if getattr(tr, "y", None) is not None for v in tr.y]
    top = max((float(v) for v in values if v == v), default=0)
    if top <= 10:
        fig.update_yaxes(dtick=1)
    return fig


def count_heatmap(counts: pd.DataFrame, x_title: str, y_title: str, title: str) -> go.Figure:
    """A heat map of whole counts (``counts``: rows on y, columns on x, each cell a count of
    households): its colour bar ticks whole numbers (no 0.2 household)."""
    z = counts.to_numpy()
    top = float(z.max()) if z.size else 0.0
    bar: dict[str, object] = {"tickformat": ",d"}
    if top <= 10:
        bar["dtick"] = 1
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=[str(c) for c in counts.columns],
            y=list(counts.index),
            colorscale="Reds",
            zmin=0,
            colorbar=bar,
            hovertemplate="%{y} · %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_layout(xaxis_title=x_title, yaxis_title=y_title)
    return style(fig, title, height=max(360, 40 * len(counts) + 120))


def stacked_bars(
    frame: pd.DataFrame, x: str, series: dict[str, str], title: str, x_label: str, y_label: str
) -> go.Figure:
    """Stacked bars of several count columns per unit. ``series``: column -> legend label."""
    fig = go.Figure()
    for col, name in series.items():
        fig.add_bar(
            x=frame[x],
            y=frame[col],
            name=name,
            hovertemplate="%{x}: %{y:,}<extra>" + name + "</extra>",
        )
    fig.update_layout(barmode="stack", xaxis_title=x_label, yaxis_title=y_label)
    return whole_numbers(style(fig, title))


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
    values = frame[rate]
    colors = [OVER if is_beyond(v, ceiling, floor) else OK for v in values]
    fig = go.Figure(
        go.Bar(
            x=frame[x],
            y=values,
            marker_color=colors,
            hovertemplate="%{x}: %{y:.2%}<extra></extra>",
        )
    )
    if ceiling is not None:
        # the line's label sits in the right margin, never over a bar
        fig.add_hline(
            y=ceiling,
            line_dash="dash",
            line_color=OVER,
            annotation_text=ceiling_label,
            annotation_position="right",
            annotation_font_color=OVER,
        )
    fig.update_layout(xaxis_title=x_label, yaxis_tickformat=".2%", showlegend=False, margin_r=110)
    return style(fig, title)


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
    fig = go.Figure()
    shown = summary.dropna(subset=["median"])
    fig.add_box(
        x=shown[x].astype(str),
        q1=shown["q1"],
        median=shown["median"],
        q3=shown["q3"],
        lowerfence=shown["low"],
        upperfence=shown["high"],
        boxpoints=False,
        showlegend=False,
    )
    if line:
        fig.add_hline(
            y=line,
            line_dash="dash",
            line_color=OVER,
            annotation_text=f"{line_label} {line:,.0f}",
            annotation_position="right",
            annotation_font_color=OVER,
        )
    fig.update_layout(margin_r=110)
    return fig
