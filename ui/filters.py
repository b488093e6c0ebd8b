"""Sidebar filters shared by every page, kept in the session and in the URL.

A copied link (``?round=…&village=…&basis=persons&lang=en``) opens the same view: on a
session's first run the filters are read from the URL, and every run writes them back.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from analytics.metrics import Filters
from analytics.store import StoreError
from ui import auth
from ui.common import lang, metrics_frame, set_lang, store, t

BASES = ("households", "persons")
_KEYS = {
    "round": "f_round",
    "township": "f_township",
    "village": "f_village",
    "group": "f_group",
    "basis": "f_basis",
    "compare": "f_compare",
}


@dataclass(frozen=True)
class View:
    """What the user looks at: a round, an optional comparison round, the area, a basis.

    ``level`` is the unit the charts compare: "township" when the data holds several
    townships and none is chosen (county view), else "village".
    """

    round: str
    compare: str | None
    townships: tuple[str, ...]
    villages: tuple[str, ...]
    groups: tuple[str, ...]
    basis: str
    all_townships: tuple[str, ...]

    @property
    def filters(self) -> Filters:
        """The filters for ``metrics`` and ``breakdowns`` queries."""
        return Filters(self.round, self.townships, self.villages, self.groups)

    @property
    def level(self) -> str:
        """The unit charts are drawn per: township (county view) or village."""
        return "township" if len(self.all_townships) > 1 and not self.townships else "village"

    def suffix(self) -> str:
        """``_households`` or ``_persons``: the basis's metric key suffix."""
        return f"_{self.basis}"


def _from_url(name: str, many: bool = False):
    values = st.query_params.get_all(name)
    return values if many else (values[0] if values else None)


def _seed(key: str, value) -> None:
    """Gives a filter widget its value before it is drawn.

    Streamlit forgets a widget's state when the next page does not draw the same widget
    (each page draws its own), so every value is also kept under a plain key
    ``keep_<key>`` that survives page switches. Order: the widget's live state, the kept
    value, then ``value`` (from the URL, or the default).
    """
    if key in st.session_state:
        return
    kept = st.session_state.get(f"keep_{key}")
    if kept is not None:
        st.session_state[key] = kept
    elif value is not None:
        st.session_state[key] = value


def _keep(**values) -> None:
    for key, value in values.items():
        st.session_state[f"keep_{key}"] = value


def sidebar() -> View | None:
    """Draws the filters in the sidebar; None when the database holds no round."""
    rounds = list(reversed(store().round_names()))
    if not rounds:
        return None
    wanted = _from_url("round")
    if wanted and wanted not in rounds and _KEYS["round"] not in st.session_state:
        st.warning(t("bad_link_round", r=wanted))
    _seed(_KEYS["round"], wanted if wanted in rounds else rounds[0])
    if st.session_state.get(_KEYS["round"]) not in rounds:
        st.session_state[_KEYS["round"]] = rounds[0]
    latest = {rounds[0]: rounds[0] + t("round_latest")}
    sb = st.sidebar
    round_name = sb.selectbox(
        t("round"), rounds, key=_KEYS["round"], format_func=lambda r: latest.get(r, r)
    )
    units = metrics_frame(round_name, "village")
    townships = sorted(units["township"].dropna().unique())
    chosen_townships: tuple[str, ...] = ()
    if len(townships) > 1:
        _seed(_KEYS["township"], [v for v in _from_url("township", True) if v in townships])
        chosen_townships = tuple(
            sb.multiselect(t("township"), townships, key=_KEYS["township"], placeholder=t("all"))
        )
    if chosen_townships:
        units = units[units["township"].isin(chosen_townships)]
    villages = sorted(units["village"].dropna().unique())
    _seed(_KEYS["village"], [v for v in _from_url("village", True) if v in villages])
    _prune(_KEYS["village"], villages)
    chosen_villages = tuple(
        sb.multiselect(t("village_filter"), villages, key=_KEYS["village"], placeholder=t("all"))
    )
    groups_frame = metrics_frame(round_name, "group", chosen_villages)
    if chosen_townships:
        groups_frame = groups_frame[groups_frame["township"].isin(chosen_townships)]
    groups = sorted(groups_frame["group"].dropna().unique())
    _seed(_KEYS["group"], [g for g in _from_url("group", True) if g in groups])
    _prune(_KEYS["group"], groups)
    chosen_groups = tuple(
        sb.multiselect(t("group"), groups, key=_KEYS["group"], placeholder=t("all"))
    )
    _seed(_KEYS["basis"], _from_url("basis") if _from_url("basis") in BASES else "persons")
    basis = sb.radio(
        t("basis"),
        BASES,
        key=_KEYS["basis"],
        format_func=lambda b: t(f"basis_{b}"),
        horizontal=True,
    )
    others = [r for r in rounds if r != round_name]
    compare_options = ["", *others]
    _seed(_KEYS["compare"], _from_url("compare") if _from_url("compare") in others else "")
    if st.session_state.get(_KEYS["compare"]) not in compare_options:
        st.session_state[_KEYS["compare"]] = ""
    compare = sb.selectbox(
        t("compare_round"),
        compare_options,
        key=_KEYS["compare"],
        format_func=lambda r: r or t("no_compare"),
    )
    view = View(
        round=round_name,
        compare=compare or None,
        townships=chosen_townships,
        villages=chosen_villages,
        groups=chosen_groups,
        basis=basis,
        all_townships=tuple(townships),
    )
    _keep(
        **{
            _KEYS["round"]: round_name,
            _KEYS["township"]: list(chosen_townships),
            _KEYS["village"]: list(chosen_villages),
            _KEYS["group"]: list(chosen_groups),
            _KEYS["basis"]: basis,
            _KEYS["compare"]: compare,
        }
    )
    _to_url(view)
    st.session_state["_view"] = view
    return view


def _prune(key: str, allowed: list[str]) -> None:
    """Drops chosen values that the current round or area no longer has."""
    if key in st.session_state:
        st.session_state[key] = [v for v in st.session_state[key] if v in allowed]


def _to_url(view: View) -> None:
    params = {"round": view.round, "basis": view.basis}
    if view.compare:
        params["compare"] = view.compare
    if view.townships:
        params["township"] = list(view.townships)
    if view.villages:
        params["village"] = list(view.villages)
    if view.groups:
        params["group"] = list(view.groups)
    if st.session_state.get("lang") == "en":
        params["lang"] = "en"
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    wanted = {k: v if isinstance(v, list) else [v] for k, v in params.items()}
    if current != wanted:
        st.query_params.from_dict(params)


def frame(title_key: str, *, empty_hint: bool = True) -> View | None:
    """The shared frame every page starts with: language switch, store check, title, filters.

    Every page draws the same filters so that their state persists from page to page.
    Returns the view, or None when the database holds no round (saying so, with a link to
    the data page, when ``empty_hint``). Stops the page with a message when the database
    cannot be opened.
    """
    st.sidebar.radio(
        t("language"),
        ["zh", "en"],
        index=1 if lang() == "en" else 0,
        format_func={"zh": "中文", "en": "English"}.get,
        horizontal=True,
        key="language_choice",
        on_change=lambda: set_lang(st.session_state["language_choice"]),
    )
    try:
        store()
    except StoreError as e:
        st.error(t("db_error") + str(e))
        st.stop()
    auth.sidebar()
    st.title(t(title_key))
    view = sidebar()
    if view is None and empty_hint:
        st.warning(t("empty_db"))
        st.page_link("views/data.py", label=t("page_data"), icon=":material/upload_file:")
    return view
