"""数据 Data: upload, batches with their counts, delete a batch, quarantined rows, the blank
template, and the thresholds and poverty lines as settings."""

import pandas as pd
import streamlit as st

from analytics.settings import Settings
from analytics.template import template_bytes
from ui import filters
from ui.common import labelled, settings, store, t
from ui.upload import upload_block

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def batches_section() -> None:
    """The batches table, deleting one batch, deleting the demo batches."""
    s = store()
    batches = s.batches()
    if not len(batches):
        st.caption(t("nothing"))
        return
    cols = [
        "batch_id",
        "round",
        "file_name",
        "imported_at",
        "townships",
        "tables",
        "rows_loaded",
        "rows_rejected",
        "rows_skipped",
        "warnings",
        "is_demo",
    ]
    st.dataframe(labelled(batches[cols]), hide_index=True, width="stretch")
    c1, c2 = st.columns([3, 1])
    choices = {
        int(b.batch_id): f"{b.batch_id} · {b.round} · {b.file_name}" for b in batches.itertuples()
    }
    picked = c1.selectbox(t("delete_pick"), list(choices), format_func=choices.get)
    if c2.button(t("delete_batch"), key="delete_batch"):
        s.delete_batch(picked)
        st.session_state.pop("upload_results", None)
        st.toast(t("deleted", b=picked))
        st.rerun()
    if batches["is_demo"].any() and st.button(t("delete_demo"), key="delete_demo"):
        s.delete_demo()
        st.rerun()


def settings_section() -> None:
    """Rate ceilings, approval floor, housing standard and poverty lines per year."""
    cfg = settings()
    with st.form("settings_form"):
        cols = st.columns(len(cfg.rate_ceilings) + 2)
        ceilings = {}
        for i, (key, value) in enumerate(cfg.rate_ceilings.items()):
            ceilings[key] = (
                cols[i].number_input(
                    t("ceiling_of", r=t(key)) + " (%)",
                    0.0,
                    100.0,
                    value * 100,
                    0.5,
                    key=f"set_{key}",
                )
                / 100
            )
        floor = cols[-2].number_input(
            t("approval_floor") + " (%)",
            0.0,
            100.0,
            cfg.approval_floor * 100,
            1.0,
            key="set_approval",
        )
        area = cols[-1].number_input(
            t("area_standard"), 1.0, 200.0, cfg.area_standard, 1.0, key="set_area"
        )
        lines = st.data_editor(
            pd.DataFrame(
                {"year": list(cfg.poverty_lines), "line": list(cfg.poverty_lines.values())}
            ),
            column_config={
                "year": st.column_config.NumberColumn(t("year"), format="%d", step=1),
                "line": st.column_config.NumberColumn(t("line_yuan"), format="%.0f", min_value=0),
            },
            num_rows="dynamic",
            hide_index=True,
            key="set_lines",
        )
        if st.form_submit_button(t("save")):
            clean = lines.dropna()
            store().save_settings(
                Settings(
                    rate_ceilings=ceilings,
                    approval_floor=floor / 100,
                    area_standard=area,
                    poverty_lines={
                        int(y): float(v) for y, v in zip(clean.year, clean.line, strict=True)
                    },
                )
            )
            st.success(t("settings_saved"))


filters.frame("page_data", empty_hint=False)
st.subheader(t("upload"))
st.download_button(
    t("template"), template_bytes(), "贫困对象动态管理_模板.xlsx", XLSX, key="template"
)
upload_block()

st.subheader(t("batches"))
batches_section()

st.subheader(t("rounds"))
st.dataframe(labelled(store().rounds()), hide_index=True, width="stretch")

st.subheader(t("quarantine"))
q = store().quarantine()
if len(q):
    st.dataframe(labelled(q.drop(columns=["raw"])), hide_index=True, width="stretch")
else:
    st.caption(t("nothing"))

st.subheader(t("settings"))
settings_section()
