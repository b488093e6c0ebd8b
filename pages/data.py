"""数据导入 Data: upload, batches with their counts, delete a batch, quarantined rows."""

import streamlit as st

from ui.common import labelled, store, t
from ui.upload import upload_block

st.title(t("page_data"))
s = store()

st.subheader(t("upload"))
upload_block()

st.subheader(t("batches"))
batches = s.batches()
if len(batches):
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
        st.success(t("deleted", b=picked))
        st.rerun()
    if batches["is_demo"].any() and st.button(t("delete_demo"), key="delete_demo"):
        s.delete_demo()
        st.rerun()
else:
    st.caption(t("nothing"))

st.subheader(t("rounds"))
st.dataframe(labelled(s.rounds()), hide_index=True, width="stretch")

st.subheader(t("quarantine"))
q = s.quarantine()
if len(q):
    st.dataframe(labelled(q.drop(columns=["raw"])), hide_index=True, width="stretch")
else:
    st.caption(t("nothing"))
