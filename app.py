"""Router and shared frame: page config, language switch, navigation."""

import streamlit as st

from analytics.store import StoreError
from ui.common import lang, set_lang, store, t

st.set_page_config(page_title="贫困对象动态管理", page_icon="📊", layout="wide")

with st.sidebar:
    st.radio(
        t("language"),
        ["zh", "en"],
        index=1 if lang() == "en" else 0,
        format_func={"zh": "中文", "en": "English"}.get,
        horizontal=True,
        key="language_choice",
        on_change=lambda: set_lang(st.session_state["language_choice"]),
    )
    if lang() == "en":
        st.query_params["lang"] = "en"

try:
    store()
except StoreError as e:
    st.error(t("db_error") + str(e))
    st.stop()

pages = [
    st.Page("pages/overview.py", title=t("page_overview"), icon="📊", default=True),
    st.Page("pages/data.py", title=t("page_data"), icon="📥", url_path="data"),
]
st.navigation(pages).run()
