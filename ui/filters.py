"""Sidebar filters, drawn by the entrypoint (app.py) on every run, whatever the page.

Widgets the entrypoint draws are drawn on every run, so Streamlit keeps their state from
page to page; each is bound to its query parameter (``bind="query-params"``, Streamlit
1.67), so a copied link opens the same view, and Streamlit keeps the parameters in the URL
across page changes. Nothing here writes ``st.query_params`` by hand.

The URL holds what the widgets show: round and unit names, the basis in the chosen
language (``?basis=按人``; switching the language rewrites it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from analytics.figures import metrics
from analytics.store.database import StoreError
from ui import auth, reads
from ui.common import md, store, t

BASES = ("households", "persons")
# widget key = query parameter name
ROUND, COUNTY, TOWNSHIP, VILLAGE, GROUP, BASIS, COMPARE = (
    "round",
    "county",
    "township",
    "village",
    "group",
    "basis",
    "compare",
)
_BOUND = {"bind": "query-params"}


@dataclass(frozen=True)
class View:
    """What the user looks at: a round (or the year's picture), the area, a basis.

    ``round`` is None until a round is chosen: the overview then shows the year's picture
    (each figure from the latest round of ``year`` that measured it) and the other pages
    the latest round of the year that holds what they show (``round_for``). ``level`` is
    the unit the charts compare: "township" when the data holds several townships and none
    is chosen (county view), else "village". ``counties`` are the chosen counties, where
    the data names more than one (``all_counties``); a township is known by its county.
    """

    round: str | None
    year: int | None
    compare: str | None
    townships: tuple[str, ...]
    villages: tuple[str, ...]
    groups: tuple[str, ...]
    basis: str
    all_townships: tuple[str, ...]
    rounds: tuple[str, ...] = field(default=())  # every round, newest first
    year_rounds: tuple[str, ...] = field(default=())  # the year's rounds, newest first
    counties: tuple[str, ...] = field(default=())
    all_counties: tuple[str, ...] = field(default=())

    def filters_for(self, round_name: str) -> metrics.Filters:
        """The filters of this view's area in ``round_name``."""
        return metrics.Filters(
            round_name, self.townships, self.villages, self.groups, self.counties
        )

    @property
    def filters(self) -> metrics.Filters:
        """The filters of the chosen round and area (``round`` must be chosen)."""
        if self.round is None:
            raise ValueError("no round chosen: use round_for()")
        return self.filters_for(self.round)

    @property
    def level(self) -> str:
        """The unit charts are drawn per: township (county view) or village."""
        return "township" if len(self.all_townships) > 1 and not self.townships else "village"

    def suffix(self) -> str:
        """``_households`` or ``_persons``: the basis's metric key suffix."""
        return f"_{self.basis}"


def _relabel() -> None:
    """After a language switch: re-set the basis so that its URL value is rewritten in the
    new language (its label is what the URL holds)."""
    if BASIS in st.session_state:
        st.session_state[BASIS] = st.session_state[BASIS]


def language_switch() -> str:
    """The language radio (bound to ``?lang=``); returns "zh" or "en"."""
    return st.sidebar.radio(
        "语言 / Language",
        ["zh", "en"],
        format_func={"zh": "中文", "en": "English"}.get,
        horizontal=True,
        key="lang",
        on_change=_relabel,
        **_BOUND,
    )


def _units(
    round_names: tuple[str, ...], level: str, *, county: bool = False
) -> list[tuple[str | None, ...]]:
    """The distinct units of some rounds at ``level`` (``queries.units``; with ``county``,
    each unit's county first), first seen first."""
    seen: dict[tuple[str | None, ...], None] = {}
    for r in round_names:
        seen.update(dict.fromkeys(reads.units(r, level, county=county)))
    return list(seen)


def _keep_only(key: str, allowed: list[str]) -> None:
    """Drops chosen values that the current round or area no longer has (before drawing)."""
    chosen = st.session_state.get(key)
    if chosen and any(v not in allowed for v in chosen):
        st.session_state[key] = [v for v in chosen if v in allowed]


def _area_box(sb: DeltaGenerator, key: str, label: str, options: list[str]) -> tuple[str, ...]:
    """One area multiselect (county, township, village, group) bound to the URL; its
    chosen values that ``options`` no longer holds dropped first; nothing chosen is all."""
    _keep_only(key, options)
    return tuple(
        sb.multiselect(t(label), options, key=key, placeholder=t("all"), select_all=False, **_BOUND)
    )


def sidebar() -> View | None:
    """Draws the filters in the sidebar; None when the database holds no round.

    Called once per run by the entrypoint; pages read the result with ``current()``.
    """
    st.session_state["_shown_round"] = None  # a page that picks its round sets it
    rounds = tuple(reversed(store().round_names()))
    if not rounds:
        st.session_state["_view"] = None
        return None
    sb = st.sidebar
    latest_year, in_year = reads.year_rounds(rounds)
    round_name = sb.selectbox(
        t("round"),
        rounds,
        index=None,
        key=ROUND,
        placeholder=t("year_picture", y=latest_year) if latest_year else t("round"),
        **_BOUND,
    )
    if round_name == rounds[0]:
        sb.caption(t("round_is_latest"))
    elif round_name is None:
        sb.caption(t("year_picture_help", n=len(in_year)))
    scope = (round_name,) if round_name else in_year
    # (county, township, village): a township is known by its county ("" for none)
    placed = _units(scope, "village", county=True)
    counties = sorted({c for c, _, _ in placed if c})
    chosen_counties: tuple[str, ...] = ()
    if len(counties) > 1:  # one county (or none named): no county box, as before
        chosen_counties = _area_box(sb, COUNTY, "county", counties)
    villages_of = [(t_, v) for c, t_, v in placed if not chosen_counties or c in chosen_counties]
    townships = sorted({t_ for t_, _ in villages_of if t_})
    chosen_townships: tuple[str, ...] = ()
    if len(townships) > 1:
        chosen_townships = _area_box(sb, TOWNSHIP, "township", townships)
    villages = sorted(
        {v for t_, v in villages_of if v and (not chosen_townships or t_ in chosen_townships)}
    )
    chosen_villages = _area_box(sb, VILLAGE, "village_filter", villages)
    groups = sorted(
        {
            g
            for c, t_, v, g in _units(scope, "group", county=True)
            if g
            and (not chosen_counties or c in chosen_counties)
            and (not chosen_townships or t_ in chosen_townships)
            and (not chosen_villages or v in chosen_villages)
        }
    )
    chosen_groups = _area_box(sb, GROUP, "group", groups)
    basis = sb.radio(
        t("basis"),
        BASES,
        index=1,  # persons: the official basis
        key=BASIS,
        format_func={b: t(f"basis_{b}") for b in BASES}.get,  # this run's language
        horizontal=True,
        **_BOUND,
    )
    compare = None
    if round_name is not None:
        area = (chosen_townships, chosen_villages, chosen_groups)
        others = [r for r in rounds if r != round_name and _shares_a_unit(round_name, r, area)]
        if others:
            compare = sb.selectbox(
                t("compare_round"),
                others,
                index=None,
                key=COMPARE,
                placeholder=t("no_compare"),
                **_BOUND,
            )
        else:
            sb.caption(t("no_compare_round"))
    view = View(
        round=round_name,
        year=latest_year,
        compare=compare,
        townships=chosen_townships,
        villages=chosen_villages,
        groups=chosen_groups,
        basis=basis,
        all_townships=tuple(townships),
        rounds=rounds,
        year_rounds=in_year,
        counties=chosen_counties,
        all_counties=tuple(counties),
    )
    st.session_state["_view"] = view
    return view


def _shares_a_unit(a: str, b: str, area: tuple[tuple[str, ...], ...]) -> bool:
    """Whether rounds ``a`` and ``b`` hold any unit of the chosen area in common (a round of
    another township is never offered for comparison)."""
    townships, villages, _ = area
    level = "township" if not townships and not villages else "village"
    mine = set(_units((a,), level))
    theirs = set(_units((b,), level))
    common = mine & theirs
    if villages:
        common = {u for u in common if u[-1] in villages}
    elif townships:
        common = {u for u in common if u[0] in townships}
    return bool(common)


def current() -> View | None:
    """The view the entrypoint's sidebar made on this run (None: no round in the database)."""
    return st.session_state.get("_view")


def frame(title_key: str, *, empty_hint: bool = True) -> View | None:
    """What every page starts with: its title and the current view.

    Returns the view, or None when the database holds no round (saying so, with a link to
    the data page, when ``empty_hint``).
    """
    st.title(t(title_key))
    view = current()
    if view is None and empty_hint:
        st.warning(t("empty_db"))
        st.page_link("views/data.py", label=t("page_data"), icon=":material/upload_file:")
    return view


def shell() -> View | None:
    """The entrypoint's part of every run: the language switch (drawn by the caller first),
    the store check, sign-in and the filters. Stops the run with a message when the
    database cannot be opened."""
    try:
        store()
    except StoreError as e:
        st.error(t("db_error") + md(e))
        st.stop()
    auth.sidebar()
    return sidebar()
