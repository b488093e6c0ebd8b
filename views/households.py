"""贫困户情况 Households: causes of poverty, 两不愁三保障 shortfalls, persons by age band,
health, labour and education (from member rows, where the round has them), income against
the year's poverty line, for registered households per unit."""

import streamlit as st

from analytics.figures import people, summaries
from analytics.figures.breakdowns import SECURE_FIELDS, income_summary
from analytics.figures.filters import Filters
from ui import charts, filters, reads
from ui.blocks import chart_and_table, page_filters
from ui.common import settings, t, tm


def persons_section(f: Filters, level: str, unit_label: str) -> None:
    """Persons per unit by age band, health, labour and education, counted from member
    rows (``people.persons_by``); an area without member rows says so (missing, not 0)."""
    st.subheader(t("persons_title"))
    registered = st.toggle(t("persons_registered_only"), value=True, key="persons_registered")
    cover = reads.member_coverage(f, registered=registered)
    if not cover.any:
        st.info(t("no_members_area"))
        return
    rest = cover.households - cover.with_members
    if rest:
        st.caption(
            t("persons_cover", m=cover.with_members, n=cover.households, p=cover.persons, r=rest)
        )
    else:
        st.caption(t("persons_cover_all", n=cover.households, p=cover.persons))
    for dimension in people.DIMENSIONS:
        frame, as_of = reads.persons_by(f, dimension, level, registered=registered)
        if dimension == "age_band":
            day = as_of.isoformat() if as_of else None
            st.caption(tm("members_as_of", day=day) if day else t("members_no_date"))
        table = people.spread_persons(frame, level, blank=t("not_recorded"))
        names = {c: _value_name(c) for c in table.columns if c not in (level, "total")}
        table[level] = table[level].map(lambda u: t("no_household_row") if u is None else u)
        shown = table.rename(columns={**names, level: unit_label, "total": t("member_rows_total")})
        title = t("persons_by_title", what=t(dimension))
        fig = charts.stacked_bars(table, level, names, title, unit_label, t("persons_unit_long"))
        chart_and_table(fig, shown, f"{f.round}_家庭成员_{t(dimension)}", f"hh_{dimension}")


def _value_name(value: str) -> str:
    """A value of a persons breakdown as shown: an age band in years, the born-after mark
    in words, a field's value as written in the files."""
    if value == people.BORN_AFTER:
        return t("born_after")
    if value in people.band_names():
        return t("age_band_years", b=value)
    return value


view = filters.frame("page_households")
if view is None:
    st.stop()
f = page_filters(view, ("households",))
level = view.level
unit_label = t(level)
value = view.basis

causes = reads.causes(f)
if causes.empty:
    st.warning(t("no_data"))
    st.stop()
st.subheader(t("causes_title", u=unit_label))
if causes["main_cause"].isna().all():
    st.info(t("not_in_files", what=t("main_cause")))
else:
    causes = causes.assign(main_cause=causes["main_cause"].fillna(t("not_recorded")))
    pivot = summaries.spread(causes, level, "main_cause", value)
    series = {c: c for c in pivot.columns if c != level}
    fig = charts.stacked_bars(pivot, level, series, "", unit_label, t(f"{value}_unit_long"))
    chart_and_table(
        fig, pivot.rename(columns={level: unit_label}), f"{f.round}_致贫原因", "hh_causes"
    )

st.subheader(t("shortfall_title"))
short = reads.shortfalls(f)
answered = summaries.answered_items(short)
unanswered = [k for k in SECURE_FIELDS if k not in answered]
if unanswered:
    st.caption(t("not_in_files", what="、".join(t(k) for k in unanswered)))
if answered:
    short = summaries.shortfalls_per_unit(short, level, answered)
    fig = charts.stacked_bars(
        short,
        level,
        {k: t(k) for k in answered},
        "",
        unit_label,
        t("households_unit_long"),
        barmode="group",
    )
    shown = short.rename(
        columns={level: unit_label, **{k: t(k) for k in (*answered, "registered")}}
    )
    chart_and_table(fig, shown, f"{f.round}_两不愁三保障", "hh_short")

persons_section(f, level, unit_label)

year = reads.round_year(f.round)
line = settings().poverty_line(year) if year else None
summary = income_summary(reads.incomes(f), level, line)
if not summaries.incomes_recorded(summary):
    st.info(t("not_in_files", what=t("income_per_capita")))
    st.stop()
if line:
    title = t("income_title", y=year, l=f"{line:,.0f}")
else:
    st.caption(t("year_unknown") if year is None else t("no_line", y=year))
    title = t("income_per_capita")
fig = charts.income_boxes(
    summary, level, line, t("poverty_line"), title, unit_label, t("income_per_capita")
)
counts = summary[[level, "registered", "below", "at_or_above", "missing"]]
counts = counts.rename(
    columns={
        level: unit_label,
        "registered": t("registered"),
        "below": t("below_line"),
        "at_or_above": t("at_or_above_line"),
        "missing": t("income_missing"),
    }
)
chart_and_table(fig, counts, f"{f.round}_收入与贫困线", "hh_income")
