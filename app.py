"""Router and shared frame: page config, language switch, navigation."""

import streamlit as st

from analytics.store import StoreError
from ui.common import lang, set_lang, store, t

st.set_page_config(page_title="贫困对象动态管理", page_icon="📊", layout="wide")

with st.sidebar:
    choice = st.radio(
        t("language"), ["中文", "English"], index=1 if lang() == "en" else 0, horizontal=True
    )
    if (choice == "English") != (lang() == "en"):
        set_lang("en" if choice == "English" else "zh")
        st.rerun()
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
