"""精准识别 Misclassification: the three error rates and the comprehensive poverty rate per
unit against their thresholds, with numerators and denominators beside each rate."""

import pandas as pd
import streamlit as st

from analytics.figures.headline import beyond_each
from analytics.figures.metrics import FINDING_FAMILIES as RATES_FINDINGS
from analytics.figures.metrics import LEVELS, RATES
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
if units_with_any(units, [f"{fam}_households" for fam in RATES_FINDINGS]).empty:
    st.info(t("no_findings_page"))

# rate -> (numerator column, denominator column) on the chosen basis
parts = {
    rate: (f"{num}{view.suffix()}", f"{den}{view.suffix()}") for rate, (num, den) in RATES.items()
}
poor = "comprehensive_poor"
units[f"{poor}_households"] = (
    units.remaining_poor_households
    + units.exclusion_error_households
    + units.wrongful_exit_households
)
units[f"{poor}_persons"] = (
    units.remaining_poor_persons + units.exclusion_error_persons + units.wrongful_exit_persons
)
parts["comprehensive_poverty_rate"] = (
    f"{poor}{view.suffix()}",
    "rural_households" if view.basis == "households" else "rural_population",
)


def rate_section(rate: str, num: str, den: str, ceiling: float | None, floor: bool = False) -> None:
    """One rate: bars per unit with the threshold line, units over it listed, the table."""
    key = rate if view.basis == "persons" or rate == "approval_rate" else f"{rate}_households"
    if rate == "comprehensive_poverty_rate" and view.basis == "households":
        key = "comprehensive_poverty_rate_households"
    label = t(key)
    mark = t("floor" if floor else "threshold", v=fmt_rate(ceiling)) if ceiling is not None else ""
    st.subheader(t("rate_title", u=t(level), r=label))
    fig = charts.rate_bars(units, level, key, ceiling, "", unit_label, mark, floor)
    values = units[key]
    over = beyond_each(values, ceiling, floor)
    names = units.loc[over, level].tolist()
    if names:
        st.error(tm("over_units", v="、".join(names)))
    numerator = t("numerator") + f"（{t(num) if num in units else num}）"
    denominator = t("denominator") + f"（{t(den)}）"
    status = [
        t("over") if o else (t("ok") if v == v else "—") for o, v in zip(over, values, strict=True)
    ]
    units_part = {t(k): units[k] for k in LEVELS[level]}
    table = pd.DataFrame(  # the files: numbers as numbers, the rate in percent
        {
            **units_part,
            numerator: units[num],
            denominator: units[den],
            f"{label} (%)": (values.astype("float64") * 100).round(2),
            t("status"): status,
        }
    )
    shown = pd.DataFrame(
        {
            **units_part,
            numerator: units[num].map(fmt_count),
            denominator: units[den].map(fmt_count),
            label: values.map(fmt_rate),
            t("status"): status,
        }
    )
    chart_and_table(fig, table, f"{f.round}_{label}", f"acc_{rate}", shown=readable(shown))


for rate, (num, den) in parts.items():
    rate_section(rate, num, den, cfg.rate_ceilings.get(rate))

if not units_with_any(units, ["approval_answered"]).empty:
    rate_section(
        "approval_rate", "approval_yes", "approval_answered", cfg.approval_floor, floor=True
    )
else:
    st.caption(t("approval_none"))
