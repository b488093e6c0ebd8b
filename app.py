"""Entry point: ``streamlit run app.py``. Router: page config, the shared sidebar, navigation.

This file is read twice. ``streamlit run app.py`` sees the ``st.App`` below, imports the
file as the module ``app`` and serves ``app`` with uvicorn: Streamlit's server plus the
routes, middleware and start-up of ``ui/server.py`` (the sign-in cookie, download binding,
the setup token, the demo). Streamlit then runs this same file as ``__main__`` for every
page view: that run is the router. It draws the language switch, sign-in and the sidebar
filters on every run (``ui.filters``), so their state holds from page to page; each page
then reads the view (``ui.filters.frame``).

Pages live in ``views/``, not ``pages/``: Streamlit 1.67 still treats a ``pages/`` folder as
old-style pages, serving ``/data`` straight from ``pages/data.py`` without this router.
"""

import streamlit as st

from ui import filters, server
from ui.common import t

# (module, title label, Material icon); the first page is the default.
PAGES = (
    ("overview", "page_overview", "dashboard"),
    ("dynamics", "page_dynamics", "sync_alt"),
    ("households", "page_households", "home"),
    ("accuracy", "page_accuracy", "rule"),
    ("progress", "page_progress", "event"),
    ("relocation", "page_relocation", "apartment"),
    ("meetings", "page_meetings", "groups"),
    ("drilldown", "page_drill", "zoom_in"),
    ("anomalies", "page_anomalies", "report"),
    ("data", "page_data", "upload_file"),
)

if __name__ != "__main__":  # imported by `streamlit run app.py` (or uvicorn app:app)
    app = st.App(
        __file__,
        routes=server.routes(),
        middleware=server.middleware(),
        lifespan=server.lifespan,
    )
else:  # a page view
    st.set_page_config(page_title="贫困对象动态管理", page_icon="📊", layout="wide")
    filters.language_switch()
    pages = [
        st.Page(
            f"views/{name}.py",
            title=t(label),
            icon=f":material/{icon}:",
            url_path=name,
            default=i == 0,
        )
        for i, (name, label, icon) in enumerate(PAGES)
    ]
    navigation = st.navigation(pages)
    filters.shell()
    navigation.run()
