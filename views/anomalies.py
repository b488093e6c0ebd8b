"""异常核查 Anomalies: rule x village counts as a heat map; a cell lists the households
behind it, each with every rule it hits and why. Limits are settings (数据导入 page)."""

import streamlit as st

from analytics.figures import summaries
from ui import auth, charts, filters, reads
from ui.blocks import page_filters, table_with_download
from ui.common import lang, t

view = filters.frame("page_anomalies")
if view is None:
    st.stop()
f = page_filters(view, ("households",))
hits = reads.anomalies(f)
if hits.empty:
    st.success(t("no_anomalies"))
    st.stop()
name = "name_en" if lang() == "en" else "name"
message = "message_en" if lang() == "en" else "message"
unit = "township" if view.level == "township" else "village"

counts = summaries.anomaly_counts(hits, name, unit)
fig = charts.count_heatmap(counts, t(unit), t("rule"), t("heatmap_title"))
event = st.plotly_chart(
    fig, width="stretch", on_select="rerun", selection_mode="points", key="anom_heat"
)
points = event.selection.points if event and event.selection else []
if points:
    st.session_state["anom_rule"] = points[0]["y"]
    st.session_state["anom_unit"] = points[0]["x"]

summary = counts.reset_index().rename(columns={name: t("rule")})
with st.expander(t("table_below")):
    table_with_download(summary, f"{f.round}_异常规则汇总", "anom_summary")

c1, c2 = st.columns(2)
rule_options = ["", *counts.index]
unit_options = ["", *[str(c) for c in counts.columns]]
if st.session_state.get("anom_rule") not in rule_options:
    st.session_state["anom_rule"] = ""
if st.session_state.get("anom_unit") not in unit_options:
    st.session_state["anom_unit"] = ""
rule = c1.selectbox(t("rule"), rule_options, key="anom_rule", format_func=lambda v: v or t("all"))
where = c2.selectbox(t(unit), unit_options, key="anom_unit", format_func=lambda v: v or t("all"))
picked = hits
if rule:
    picked = picked[picked[name] == rule]
if where:
    picked = picked[picked[unit].astype(str) == where]

households = picked[picked["level"] == "household"]
st.subheader(t("anomaly_households", n=summaries.flagged_households(households)))
if len(households) and not auth.allowed("view_households"):
    auth.deny("view_households")
elif len(households):
    # every rule each of these households hits, not only the chosen one
    why = summaries.anomaly_households(hits, households["household_id"], name, message)
    why["severity"] = why["severity"].map(t)
    # the head's name beside each id, masked unless an administrator unmasked
    heads = reads.household_list(
        f,
        household_ids=tuple(why["household_id"].astype(str)),
        unmask=auth.unmasked(),
    )
    names = dict(zip(heads["household_id"], heads["head_name"], strict=True))
    why.insert(4, "head_name", why["household_id"].map(names))
    table_with_download(
        why.rename(
            columns={c: t(c) for c in ("township", "village", "group", "household_id", "head_name")}
        ).rename(columns={"rules": t("rule"), "why": t("message"), "severity": t("severity")}),
        f"{f.round}_异常户",
        "anom_households",
    )
villages = picked[picked["level"] == "village"]
if len(villages):
    st.subheader(t("anomaly_units"))
    table_with_download(
        villages[["township", "village", "group", name, "severity", message]]
        .rename(
            columns={
                "township": t("township"),
                "village": t("village"),
                "group": t("group"),
                name: t("rule"),
                "severity": t("severity"),
                message: t("message"),
            }
        )
        .assign(**{t("severity"): villages["severity"].map(t).to_numpy()}),
        f"{f.round}_异常村",
        "anom_villages",
    )
