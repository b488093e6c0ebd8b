"""总览 Overview: the headline tiles (each naming where it comes from, rates against their
thresholds), the per-unit table, a comparison with another round, the situation report.

With no round chosen it shows the year's picture: each figure from the latest round of the
year that measured it (``analytics.headline``)."""

import streamlit as st

from analytics.figures import headline, metrics, queries
from analytics.output import report
from ui import auth, filters, reads, tiles
from ui.blocks import metrics_table
from ui.common import lang, md, settings, store, t, tm

view = filters.frame("app_title")
if view is None:
    st.stop()
picture = view.round is None
area_kw = {"townships": view.townships, "groups": view.groups, "counties": view.counties}
shown_rounds = view.year_rounds if picture else (view.round,)
if queries.demo_only(store(), shown_rounds):
    st.info(t("demo_banner"))

if picture:
    figures = reads.year_figures(view.year_rounds, villages=view.villages, **area_kw)
    before = None
else:
    area = reads.metrics_frame(view.round, "county", villages=view.villages, **area_kw)
    if area.empty:
        st.warning(t("no_data"))
        st.stop()
    figures = headline.figures_of_round(area.iloc[0], view.round)
    before = None
    if view.compare:
        shared = reads.shared_area(view.round, view.compare, view.filters)
        now_shared = reads.metrics_frame(
            view.round, "county", villages=shared.villages, **shared.kwargs()
        )
        then = reads.metrics_frame(
            view.compare, "county", villages=shared.villages, **shared.kwargs()
        )
        if len(then) and len(now_shared):
            before = headline.figures_of_round(then.iloc[0], view.compare)
            if shared.narrowed:
                figures = headline.figures_of_round(now_shared.iloc[0], view.round)

names = view.groups or view.villages or view.townships or view.all_townships
named = headline.named_units(names)
scope = "、".join(named) if named is not None else t("county_totals")
st.subheader(f"{md(scope)} · {t('year_picture', y=view.year) if picture else md(view.round)}")
if view.compare and before is not None:
    st.caption(tm("change_vs", r=view.compare))
counts = headline.count_tiles(figures, before)
tiles.count_tiles(counts, view.basis, picture)
st.divider()
rates = headline.rate_tiles(figures, settings(), view.basis, before)
tiles.rate_tiles(rates, picture)
if picture:
    tiles.sources([*counts, *rates])
tiles.partial_note([*counts, *rates])

level = view.level
st.subheader(t("per_village") if level == "village" else t("per_township"))
columns = headline.unit_columns(view.basis)
if picture:
    frames = {
        r: reads.metrics_frame(r, level, villages=view.villages, **area_kw)
        for r in dict.fromkeys(figures[c].round for c in columns)
    }
    units = headline.year_units(frames, figures, metrics.LEVELS[level], columns, lang())
else:
    units = reads.metrics_frame(view.round, level, villages=view.villages, **area_kw)
more = [c for c in metrics.METRIC_KEYS if c not in columns and c in units.columns]
extra = st.multiselect(
    t("more_columns"),
    more,
    format_func=lambda c: t("meetings_count" if c == "meetings" else c),
    key="overview_more_columns",
    placeholder=t("pick_columns"),
    select_all=False,
)
keep = [*metrics.LEVELS[level], *columns, *extra]
keep += [c for c in units.columns if c.startswith("coverage_") or c == "notes"]
name = t("year_picture", y=view.year) if picture else view.round
metrics_table(
    units[[c for c in keep if c in units.columns]], f"{name}_{t('per_village')}", "overview_units"
)

if view.compare and not picture:
    st.subheader(t("round_comparison"))
    now_units = reads.metrics_frame(view.round, level, villages=view.villages, **area_kw)
    other = reads.metrics_frame(view.compare, level, villages=view.villages, **area_kw)
    keys = metrics.LEVELS[level]
    only_now, only_then = metrics.unmatched(now_units, other, keys)
    if only_now:
        st.caption(tm("only_in_round", r=view.round, u="、".join(u[-1] for u in only_now)))
    if only_then:
        st.caption(tm("only_in_round", r=view.compare, u="、".join(u[-1] for u in only_then)))
    change = metrics.compare(now_units, other, keys)
    metrics_table(
        change[[*keys, *columns]],
        f"{view.round}_vs_{view.compare}",
        "overview_compare",
        signed=True,
    )

st.subheader(t("report"))
if picture:
    st.caption(t("report_needs_round"))
else:
    if st.button(t("make_report"), key="make_report"):
        st.session_state["report_for"] = (view.round, view.villages, view.townships)
    if st.session_state.get("report_for") == (view.round, view.villages, view.townships):
        hits = reads.anomalies(view.filters)
        built = report.build_report(
            store(), view.round, view.villages, anomalies=hits, townships=view.townships
        )
        c1, c2, _ = st.columns([1, 1, 4])
        c1.download_button(
            t("download_docx"),
            report.to_docx(built),
            f"{built.title}.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            key="report_docx",
            on_click=auth.audit_report,
            args=("docx", built.title),
        )
        c2.download_button(
            t("download_md"),
            report.to_markdown(built),
            f"{built.title}.md",
            "text/markdown",
            key="report_md",
            on_click=auth.audit_report,
            args=("md", built.title),
        )
        with st.expander(t("preview"), expanded=True):
            st.markdown(report.to_markdown(built))
