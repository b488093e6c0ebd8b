"""动态管理 Dynamic adjustment: new / relapse / exit-proposed / removed per unit and group,
and the flow from registry state to outcome."""

import streamlit as st

from analytics.figures import summaries
from analytics.figures.metrics import ADJUSTMENT_FAMILIES, LEVELS
from ui import charts, filters, reads
from ui.blocks import chart_and_table, page_filters
from ui.common import labelled, t

view = filters.frame("page_dynamics")
if view is None:
    st.stop()
f = page_filters(view, ("households", "adjustment"))
level, suffix = view.level, view.suffix()
unit_label = t(level)
series = {f"{fam}{suffix}": t(fam) for fam in ADJUSTMENT_FAMILIES}
y_label = t(f"{view.basis}_unit_long")

units = reads.metrics_frame(
    f.round, level, villages=f.villages, townships=f.townships, groups=f.groups
)
cols = [*LEVELS[level], *series]
fig = charts.stacked_bars(
    units, level, series, t("adjust_per_unit", u=unit_label), unit_label, y_label
)
chart_and_table(fig, labelled(units[cols]), f"{f.round}_动态调整_{unit_label}", "dyn_units")

groups = reads.metrics_frame(
    f.round, "group", villages=f.villages, townships=f.townships, groups=f.groups
)
groups = summaries.units_with_any(groups, list(series))
if len(groups):
    groups["unit"] = groups["village"].fillna("") + " · " + groups["group"].fillna("—")
    fig = charts.stacked_bars(groups, "unit", series, t("adjust_per_group"), t("group"), y_label)
    cols = [*LEVELS["group"], *series]
    chart_and_table(fig, labelled(groups[cols]), f"{f.round}_动态调整_村民小组", "dyn_groups")

flows = reads.flows(f)
if len(flows):
    names = {f"registry_state:{k}": t(k) for k in ("remaining_poor", "exited", "nonregistered")}
    names |= {f"adjustment:{k}": t(k) for k in ADJUSTMENT_FAMILIES}
    names |= {
        f"verification:{k}": t(k) for k in ("inclusion_error", "exclusion_error", "wrongful_exit")
    }
    names |= {"adjustment:": t("no_change"), "verification:": t("correct")}
    fig = charts.sankey(
        flows, ["registry_state", "adjustment", "verification"], view.basis, names, t("flow_title")
    )
    shown = flows.copy()
    for c in ("registry_state", "adjustment", "verification"):
        empty = t("no_change") if c == "adjustment" else t("correct")
        shown[c] = shown[c].map(lambda v, e=empty: t(v) if isinstance(v, str) else e)
    shown = shown.rename(
        columns={c: t(c) for c in ("registry_state", "adjustment", "verification")}
    )
    shown = shown.rename(
        columns={"households": t("households_unit_long"), "persons": t("persons_unit_long")}
    )
    chart_and_table(fig, shown, f"{f.round}_状态流向", "dyn_flows")
