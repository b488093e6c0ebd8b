"""核查钻取 Drill-down: township -> village -> group -> household list -> one household ->
one member.

Click a bar or a table row (or use the selector) to go one level down; the breadcrumb goes
back up. The list behind a figure has exactly the households the figure counts. Search
finds a household by id, head's name or ID number. Personal data is masked.
"""

import pandas as pd
import streamlit as st

from analytics.access import accounts
from analytics.figures import coverage, metrics, records, summaries
from analytics.figures.metrics import HOUSEHOLD_FAMILIES as FAMILIES
from ui import auth, charts, filters, reads
from ui.blocks import page_filters, readable, table_with_download
from ui.common import labelled, lang, md, store, t, tm

# The path: the units of the finest metrics level (``metrics.LEVELS``), then a household,
# then one of its members (``person_key``: the file row the member was read from).
UNIT_LEVELS = metrics.LEVELS["group"]
LEVEL_ORDER = (*UNIT_LEVELS, "household", "person")


def drill() -> dict:
    """The drill path in this session: township, village, group, household (None = not set)."""
    return st.session_state.setdefault("drill", dict.fromkeys(LEVEL_ORDER))


PICKERS = (
    *(f"drill_pick_{level}" for level in LEVEL_ORDER),
    *(f"drill_table_{level}" for level in UNIT_LEVELS),
    "drill_households",
    *(f"drill_chart_{level}" for level in UNIT_LEVELS),
    "drill_found",
    "drill_search",
    "drill_members_table",
    "drill_members_export",
)


def go(level: str, value: str | None) -> None:
    """Sets one level of the path and clears the levels under it (then the page reruns).

    The pickers' own states are cleared on the next run, before they are drawn, so that a
    pick made on the way down does not pull the user back down after a breadcrumb click.
    """
    path = drill()
    path[level] = value
    for below in LEVEL_ORDER[LEVEL_ORDER.index(level) + 1 :]:
        path[below] = None
    st.session_state["drill_reset"] = True


def reset_pickers() -> None:
    """Forgets the pickers' selections after a move (see ``go``)."""
    if st.session_state.pop("drill_reset", False):
        for key in PICKERS:
            st.session_state.pop(key, None)


def breadcrumb(view: filters.View) -> None:
    """Buttons from the top of the path down to where the user is."""
    path = drill()
    crumbs = [("top", None, t("all"))]
    for level in LEVEL_ORDER:
        if path.get(level):
            crumbs.append((level, path[level], _crumb(level, path[level])))
    cols = st.columns(len(crumbs) + 1)
    for i, (level, _value, text) in enumerate(crumbs):
        last = i == len(crumbs) - 1
        if cols[i].button(("› " if i else "") + md(text), key=f"crumb_{i}", disabled=last):
            if level == "top":
                go("township", None)
            else:
                go(LEVEL_ORDER[LEVEL_ORDER.index(level) + 1], None)
            st.rerun()


def person_key(batch_id: object, sheet: object, row: object) -> str:
    """A member's place in the drill path: the file row it was read from (batch, sheet,
    Excel row), which names no personal data and is unique within a round."""
    return f"{int(str(batch_id))}|{int(str(row))}|{sheet}"


def _key_parts(key: str) -> tuple[int, str, int]:
    batch_id, row, sheet = key.split("|", 2)
    return int(batch_id), sheet, int(row)


def _crumb(level: str, value: str) -> str:
    if level != "person":
        return value
    _, sheet, row = _key_parts(value)
    return t("person_crumb", sheet=sheet, row=row)


def pick_unit(frame: pd.DataFrame, level: str, family: str, view: filters.View) -> None:
    """Chart and table of the family's count per unit; a click (or the selector) drills in."""
    key = f"{family}{view.suffix()}"
    frame = frame[frame[level].notna()].reset_index(drop=True)
    if frame.empty:
        st.info(t("no_data"))
        return
    if frame[key].isna().all():  # the round's files did not measure it
        st.info(coverage.row_why(frame.iloc[0], key, lang()))
        return
    fig = charts.stacked_bars(
        frame, level, {key: t(key)}, "", t(level), t(f"{view.basis}_unit_long")
    )
    event = st.plotly_chart(
        fig, width="stretch", on_select="rerun", selection_mode="points", key=f"drill_chart_{level}"
    )
    points = event.selection.points if event and event.selection else []
    if points:
        go(level, str(points[0]["x"]))
        st.rerun()
    shown = labelled(
        frame[[level, f"{family}_households", f"{family}_persons", "households_total"]]
    )
    table = st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key=f"drill_table_{level}",
    )
    rows = table.selection.rows if table and table.selection else []
    if rows:
        go(level, str(frame.iloc[rows[0]][level]))
        st.rerun()
    options = ["", *frame[level].astype(str).tolist()]
    choice = st.selectbox(
        t("drill_into", u=t(level)),
        options,
        key=f"drill_pick_{level}",
        format_func=lambda v: v or "—",
    )
    if choice:
        go(level, choice)
        st.rerun()


def household_list(view: filters.View, family: str) -> None:
    """The households of the chosen group; by default only those the family counts."""
    path = drill()
    if not auth.allowed("view_households"):
        auth.deny("view_households")
        return
    only = st.toggle(t("only_counted", f=t(family)), value=True, key="drill_only")
    group = metrics.Filters(f.round, (path["township"],), (path["village"],), (path["group"],))
    unmask = auth.unmasked(village=path["village"], group=path["group"])
    rows = reads.household_list(group, family=family if only else None, unmask=unmask)
    st.caption(t("household_count", n=len(rows)))
    shown = rows.assign(
        registry_state=rows["registry_state"].map(lambda v: t(v) if isinstance(v, str) else ""),
        adjustment=rows["adjustment"].map(lambda v: t(v) if isinstance(v, str) else ""),
        verification=rows["verification"].map(lambda v: t(v) if isinstance(v, str) else ""),
    )
    shown = shown.rename(columns={c: t(c) for c in shown.columns})
    table = st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="drill_households",
    )
    picked = table.selection.rows if table and table.selection else []
    if picked:
        go("household", str(rows.iloc[picked[0]]["household_id"]))
        st.rerun()
    heads = dict(zip(rows["household_id"].astype(str), rows["head_name"], strict=True))
    choice = st.selectbox(
        t("open_household"),
        ["", *heads],
        key="drill_pick_household",
        format_func=lambda v: (
            f"{v} · {heads[v]}" if v and isinstance(heads.get(v), str) else (v or "—")
        ),
    )
    if choice:
        go("household", choice)
        st.rerun()
    table_with_download(shown, f"{f.round}_{path['village']}_{path['group']}_户", "drill_list")
    group_members(group, unmask)


def group_members(group: metrics.Filters, unmask: bool) -> None:
    """The member rows of the group's households (``records.table_rows``), masked as the
    household list is, with their downloads; drawn once its expander is opened."""
    box = st.expander(t("group_members"), key="drill_members_export", on_change="rerun")
    if not box.open:
        return
    with box:
        rows = _member_values(reads.table_rows("members", group, unmask=unmask))
        households, persons = records.member_counts(rows)
        st.caption(t("members_count", h=households, p=persons))
        path = drill()
        table_with_download(
            rows.rename(columns={c: t(c) for c in rows.columns}),
            f"{f.round}_{path['village']}_{path['group']}_家庭成员",
            "drill_group_members",
        )


def household_record(view: filters.View, household_id: str) -> None:
    """One household: its record in this round, every rule it hits, its history by round."""
    if not auth.allowed("view_households"):
        auth.deny("view_households")
        return
    history = reads.household_history(household_id, unmask=auth.unmasked(household=household_id))
    if history.empty:
        st.warning(tm("no_household", h=household_id))
        return
    now = history[history["round"] == f.round]
    current = (now if len(now) else history).iloc[-1]
    st.subheader(tm("household_title", h=household_id))
    record = pd.DataFrame(
        {t("field"): [t(k) for k in current.index], t("value"): [_text(v) for v in current.values]}
    )
    st.dataframe(record, hide_index=True, width="stretch", key="drill_record")
    members_section(f.round, household_id)
    hits = reads.household_rules(f, household_id)
    st.subheader(t("rules_hit"))
    if hits.empty:
        st.caption(t("no_rules_hit"))
    else:
        msg = "message_en" if st.session_state.get("lang") == "en" else "message"
        st.dataframe(
            hits[["rule", "severity", msg]].rename(
                columns={"rule": t("code"), "severity": t("severity"), msg: t("message")}
            ),
            hide_index=True,
            width="stretch",
            key="drill_hits",
        )
    st.subheader(t("history"))
    cols = [
        "round",
        "registry_state",
        "adjustment",
        "verification",
        "household_size",
        "income_per_capita",
        "survey_date",
        "batch_id",
    ]
    hist = history[cols].copy()
    for c in ("registry_state", "adjustment", "verification"):
        hist[c] = hist[c].map(lambda v: t(v) if isinstance(v, str) else "—")
    table_with_download(
        hist.rename(columns={c: t(c) for c in cols}), f"户_{household_id}_历史", "drill_history"
    )


def _member_values(frame: pd.DataFrame) -> pd.DataFrame:
    """Member rows with their coded values (relation, sex) in words."""
    coded = [c for c in ("relation", "sex") if c in frame.columns]
    return frame.assign(
        **{c: frame[c].map(lambda v: t(v) if isinstance(v, str) else None) for c in coded}
    )


def members_section(round_name: str, household_id: str) -> None:
    """The household's members in the round (masked as the role needs: an inspector sees
    ages and birth years, an administrator who unmasks the full record, audited). A row (or
    the selector) opens that member's record."""
    st.subheader(t("members_title"))
    members, as_of = reads.household_members(
        round_name, household_id, unmask=auth.unmasked(household=household_id)
    )
    if members.empty:
        st.caption(t("no_members"))
        return
    st.caption(tm("members_as_of", day=as_of.isoformat()) if as_of else t("members_no_date"))
    shown = _member_values(members)
    keys = [
        person_key(b, s, r)
        for b, s, r in zip(
            members["batch_id"], members["source_sheet"], members["source_row"], strict=True
        )
    ]
    labels = {
        k: " · ".join(str(v) for v in (row.person_id, row.name, row.relation) if _present(v))
        for k, row in zip(keys, shown.itertuples(), strict=True)
    }
    event = table_with_download(
        shown.rename(columns={c: t(c) for c in shown.columns}),
        f"户_{household_id}_家庭成员",
        "drill_members",
        on_select="rerun",
        selection_mode="single-row",
        table_key="drill_members_table",
    )
    rows = event.selection.rows if event and event.selection else []
    if rows:
        go("person", keys[rows[0]])
        st.rerun()
    choice = st.selectbox(
        t("open_member"),
        ["", *keys],
        key="drill_pick_person",
        format_func=lambda k: labels.get(k) or k or "—",
    )
    if choice:
        go("person", choice)
        st.rerun()


def _present(value: object) -> bool:
    return value is not None and value is not pd.NA and value == value and value != ""


def person_record(household_id: str, key: str) -> None:
    """One member's whole record in this round, masked as the household's member list is."""
    if not auth.allowed("view_households"):
        auth.deny("view_households")
        return
    record, as_of = reads.member_record(
        f.round, household_id, _key_parts(key), unmask=auth.unmasked(household=household_id)
    )
    if record.empty:
        st.warning(tm("no_member", h=household_id))
        return
    st.subheader(tm("member_title", h=household_id))
    st.caption(tm("members_as_of", day=as_of.isoformat()) if as_of else t("members_no_date"))
    current = _member_values(record).iloc[0]
    fields = pd.DataFrame(
        {t("field"): [t(k) for k in current.index], t("value"): [_text(v) for v in current.values]}
    )
    with st.container(key="box_drill_person"):  # tests find the record by this name
        st.dataframe(fields, hide_index=True, width="stretch", height="content", key="drill_person")


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, bool):
        return t("yes") if value else t("no")
    if isinstance(value, str) and value in metrics.METRIC_KEYS:
        return value
    return t(value) if isinstance(value, str) and value in FAMILIES else str(value)


def search_box(view: filters.View) -> None:
    """Search households (``records.search``: a masked role searches by what it sees, or a
    whole ID number); each new search is audited, and searches that find nothing earn a
    growing wait (``accounts.SEARCH_THROTTLE``). A result row opens the household."""
    if not auth.allowed("view_households"):
        return
    unmasked_now = auth.allowed("unmask") and bool(st.session_state.get("unmask"))
    hint = t("search_hint") if unmasked_now else t("search_hint_masked")
    text = st.text_input(t("search"), key="drill_search", placeholder=hint).strip()
    if not text:
        return
    who = auth.user().username
    if st.session_state.get("_searched") != (text, f.round):
        try:
            accounts.check_search(store(), who, client=auth.client())
        except accounts.TooManyAttempts as e:
            st.warning(md(e.message(lang())))
            return
        found = reads.search(text, f.round, unmask=auth.unmasked(search=text))
        accounts.record_search(
            store(), who, records.search_shown(text), len(found), client=auth.client()
        )
        st.session_state["_searched"] = (text, f.round)
    else:
        found = reads.search(text, f.round, unmask=auth.unmasked(search=text))
    st.caption(t("household_count", n=len(found)))
    table = st.dataframe(
        readable(found.rename(columns={c: t(c) for c in found.columns})),
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="drill_found",
    )
    picked = table.selection.rows if table and table.selection else []
    if picked:
        row = found.iloc[picked[0]]
        go("township", row["township"])
        drill().update(village=row["village"], group=row["group"], household=row["household_id"])
        st.rerun()


reset_pickers()
view = filters.frame("page_drill")
if view is None:
    st.stop()
f = page_filters(view, ("households",))
if "drill_family" not in st.session_state:
    # open on the first figure this round actually has (a 0 everywhere is an empty chart)
    area = reads.metrics_frame(
        f.round, "county", villages=f.villages, townships=f.townships, groups=f.groups
    )
    totals = area.iloc[0] if len(area) else {}
    st.session_state["drill_family"] = summaries.first_counted(totals, FAMILIES)
family = st.selectbox(
    t("drill_metric"), FAMILIES, key="drill_family", format_func=lambda k: t(f"{k}_households")
)
search_box(view)
path = drill()
if not path["township"] and len(view.all_townships) == 1:
    path["township"] = view.all_townships[0]
breadcrumb(view)
if path.get("person") and path["household"]:
    person_record(path["household"], path["person"])
elif path["household"]:
    household_record(view, path["household"])
elif path["group"]:
    household_list(view, family)
elif path["village"]:
    units = reads.metrics_frame(
        f.round,
        "group",
        villages=(path["village"],),
        townships=(path["township"],),
        groups=f.groups,
    )
    pick_unit(units, "group", family, view)
elif path["township"]:
    units = reads.metrics_frame(
        f.round, "village", villages=f.villages, townships=(path["township"],), groups=f.groups
    )
    pick_unit(units, "village", family, view)
else:
    units = reads.metrics_frame(
        f.round, "township", villages=f.villages, townships=f.townships, groups=f.groups
    )
    pick_unit(units, "township", family, view)
