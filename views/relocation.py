"""易地扶贫搬迁 Relocation: households and persons per site and unit, concentrated vs
dispersed, each household's house area against standard x persons, and its remedy."""

import streamlit as st

from analytics.figures import summaries
from ui import auth, charts, filters, reads
from ui.blocks import chart_and_table, page_filters
from ui.common import settings, t

view = filters.frame("page_relocation")
if view is None:
    st.stop()
f = page_filters(view, ("relocation",))
level = view.level
unit_label = t(level)
standard = settings().area_standard
rows = reads.relocation_households(f, standard)
if rows.empty:
    st.warning(t("no_data"))
    st.stop()

rows["mode"] = rows["mode"].fillna(t("not_recorded"))
# a household of no known village (analytics.figures.relocation.placed) stays on the page
rows["township"] = rows["township"].fillna(t("township_unknown"))
rows["village"] = rows["village"].fillna(t("village_unknown"))
rows["site"] = rows["site"].fillna("—")
by_site = summaries.household_counts(rows, ["site", "mode"])
fig = charts.series_bars(  # one colour per mode
    by_site,
    "site",
    "mode",
    view.basis,
    t("per_site"),
    t("site"),
    t(f"{view.basis}_unit_long"),
    height=360,
)
chart_and_table(
    fig,
    by_site.rename(
        columns={
            "site": t("site"),
            "mode": t("mode"),
            "households": t("households_unit_long"),
            "persons": t("persons_unit_long"),
        }
    ),
    f"{f.round}_安置点",
    "rel_sites",
)

pivot = summaries.spread(
    summaries.household_counts(rows, [level, "mode"]), level, "mode", view.basis
)
series = {c: c for c in pivot.columns if c != level}
fig = charts.stacked_bars(
    pivot, level, series, t("per_mode"), unit_label, t(f"{view.basis}_unit_long")
)
chart_and_table(fig, pivot.rename(columns={level: unit_label}), f"{f.round}_安置方式", "rel_modes")

over, within, pending = t("over"), t("within"), t("pending")  # once, not once a row
table = rows.assign(
    over_standard=rows["over_standard"].map(lambda o: over if o else within),
    remedy=[
        r if isinstance(r, str) and r else (pending if o else "")
        for r, o in zip(rows["remedy"], rows["over_standard"], strict=True)
    ],
)
if auth.allowed("view_households"):
    # one point per household: for the roles that may see household rows
    fig = charts.area_scatter(
        rows,
        t("area_title", s=f"{standard:g}"),
        t("standard_area"),
        t("house_area"),
        t("standard_area"),
    )
    cols = [
        "township",
        "village",
        "household_id",
        "site",
        "mode",
        "persons",
        "house_area",
        "standard_area",
        "over_area",
        "over_standard",
        "remedy",
    ]
    chart_and_table(
        fig,
        table[cols].rename(columns={c: t(c) for c in cols}),
        f"{f.round}_搬迁住房面积",
        "rel_area",
    )
else:
    # leaders: the same figures per unit, no household's area or size in the page
    summary = summaries.household_counts(table, [level, "over_standard", "remedy"])
    pivot = summaries.spread(summary, level, "over_standard", view.basis)
    series = {c: c for c in (within, over) if c in pivot.columns}
    fig = charts.stacked_bars(
        pivot,
        level,
        series,
        t("area_title", s=f"{standard:g}"),
        unit_label,
        t(f"{view.basis}_unit_long"),
    )
    names = {
        level: t(level),
        "over_standard": t("over_standard"),
        "remedy": t("remedy"),
        "households": t("households_unit_long"),
        "persons": t("persons_unit_long"),
    }
    chart_and_table(fig, summary.rename(columns=names), f"{f.round}_搬迁住房面积", "rel_area")
