"""Router: page config and navigation. Each page draws the shared frame itself
(``ui.filters.frame``: language switch, sidebar filters), so a page works on its own."""

import streamlit as st

from ui.common import t

st.set_page_config(page_title="贫困对象动态管理", page_icon="📊", layout="wide")

pages = [
    st.Page("pages/overview.py", title=t("page_overview"), icon="📊", default=True),
    st.Page("pages/dynamics.py", title=t("page_dynamics"), icon="🔄", url_path="dynamics"),
    st.Page("pages/households.py", title=t("page_households"), icon="🏠", url_path="households"),
    st.Page("pages/accuracy.py", title=t("page_accuracy"), icon="🎯", url_path="accuracy"),
    st.Page("pages/progress.py", title=t("page_progress"), icon="📅", url_path="progress"),
    st.Page("pages/relocation.py", title=t("page_relocation"), icon="🏘️", url_path="relocation"),
    st.Page("pages/meetings.py", title=t("page_meetings"), icon="🗣️", url_path="meetings"),
    st.Page("pages/data.py", title=t("page_data"), icon="📥", url_path="data"),
]
st.navigation(pages).run()
