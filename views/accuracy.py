"""精准识别 Misclassification: the three error rates and the comprehensive poverty rate per
unit against their thresholds, with numerators and denominators beside each rate."""

import pandas as pd
import streamlit as st

from analytics.figures.limits import beyond_limit, rate_limit
from analytics.figures.metrics import FINDING_FAMILIES, LEVELS, RATE_PARTS, RATES
from analytics.figures.metrics import denominator as denominator_of
from analytics.figures.metrics import numerator as numerator_of
from analytics.figures.summaries import units_with_any
from ui import charts, filters, reads
from ui.blocks import chart_and_table, page_filters, readable
from ui.common import fmt_count, fmt_rate, settings, t, tm

view = filters.frame("page_accuracy")
if view is None:
    st.stop()
f = page_filters(view, ("households", "verification"))
level = view.level
unit_label = t(level)
cfg = settings()
units = reads.metrics_frame(
    f.round, level, villages=f.villages, townships=f.townships, groups=f.groups
)
if units.empty:
    st.warning(t("no_data"))
    st.stop()
if units_with_any(units, [f"{fam}_households" for fam in FINDING_FAMILIES]).empty:
    st.info(t("no_findings_page"))


def rate_section(rate: str) -> None:
    """One rate: bars per unit with its limit line, units beyond it listed, the table of
    numerator and denominator (``metrics.RATE_PARTS``) beside the rate."""
    key = rate if view.basis == "persons" or rate == "approval_rate" else f"{rate}_households"
    limit, floor = rate_limit(cfg, rate)
    label = t(key)
    mark = t("floor" if floor else "threshold", v=fmt_rate(limit)) if limit is not None else ""
    st.subheader(t("rate_title", u=t(level), r=label))
    fig = charts.rate_bars(units, level, key, limit, "", unit_label, mark, floor)
    values = units[key]
    over = beyond_limit(values, cfg, rate)
    names = units.loc[over, level].tolist()
    if names:
        st.error(tm("over_units", v="、".join(names)))
    part = RATE_PARTS[key]
    num, den = numerator_of(units, key), denominator_of(units, key)
    numerator = t("numerator") + f"（{t(part.numerator)}）"
    denominator = t("denominator") + f"（{t(part.denominator)}）"
    status = [
        t("under" if floor else "over") if o else (t("ok") if v == v else "—")
        for o, v in zip(over, values, strict=True)
    ]
    units_part = {t(k): units[k] for k in LEVELS[level]}
    table = pd.DataFrame(  # the files: numbers as numbers, the rate in percent
        {
            **units_part,
            numerator: num,
            denominator: den,
            f"{label} (%)": (values.astype("float64") * 100).round(2),
            t("status"): status,
        }
    )
    shown = pd.DataFrame(
        {
            **units_part,
            numerator: num.map(fmt_count),
            denominator: den.map(fmt_count),
            label: values.map(fmt_rate),
            t("status"): status,
        }
    )
    chart_and_table(fig, table, f"{f.round}_{label}", f"acc_{rate}", shown=readable(shown))


for rate in (*RATES, "comprehensive_poverty_rate"):
    rate_section(rate)

if not units_with_any(units, ["approval_answered"]).empty:
    rate_section("approval_rate")
else:
    st.caption(t("approval_none"))
