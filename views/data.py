"""数据导入 Data: first-run setup, upload, batches (delete one), quarantined rows, the blank
template, thresholds and poverty lines, users and the audit log. Every write checks the
role on the server (``ui.auth.allowed``) before it happens."""

import dataclasses

import pandas as pd
import streamlit as st

from analytics.access import accounts
from analytics.importing import spellings
from analytics.output.template import template_bytes
from ui import auth, filters
from ui.blocks import readable, table_with_download
from ui.common import labelled, lang, md, settings, store, t, tm
from ui.upload import upload_block

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCH_COLUMNS = [
    "batch_id",
    "round",
    "file_name",
    "data_date",
    "data_date_source",
    "imported_at",
    "townships",
    "tables",
    "rows_loaded",
    "rows_rejected",
    "rows_skipped",
    "warnings",
    "is_demo",
]


def first_admin() -> None:
    """First run, no account yet: the first administrator is created here, with the one-time
    setup token the server printed on its console when it started."""
    st.subheader(t("first_admin"))
    st.caption(t("first_admin_help"))
    with st.form("first_admin_form"):
        token = st.text_input(t("setup_token"), type="password", key="first_token")
        name = st.text_input(t("username"), key="first_name")
        password = st.text_input(t("password"), type="password", key="first_password")
        if st.form_submit_button(t("create")):
            try:
                created = accounts.create_first_admin(store(), name, password, token)
            except accounts.AccountError as e:
                st.error(md(e.message(lang())))
            else:
                auth.start_session(created)


def batches_section() -> None:
    """The batches table; administrators delete one batch, or the demo batches."""
    s = store()
    batches = s.batches()
    if not len(batches):
        st.caption(t("nothing"))
        return
    shown = batches[BATCH_COLUMNS].assign(
        tables=batches["tables"].map(lambda v: "、".join(t(k) for k in (v or "").split(",") if k)),
        data_date_source=batches["data_date_source"].map(
            lambda v: t(f"source_{v}") if isinstance(v, str) and v else None
        ),
    )
    st.dataframe(labelled(readable(shown)), hide_index=True, width="stretch")
    if not auth.allowed("delete"):
        return
    demo = batches["is_demo"]
    if demo.any() and (~demo).any():
        st.info(t("remove_demo_hint"))
    c1, c2 = st.columns([3, 1])
    choices = {
        int(b.batch_id): f"{b.batch_id} · {b.round} · {b.file_name}" for b in batches.itertuples()
    }
    picked = c1.selectbox(t("delete_pick"), list(choices), format_func=choices.get)
    if c2.button(t("delete_batch"), key="delete_batch") and auth.allowed("delete"):
        s.delete_batch(picked)
        accounts.audit(s, auth.user().username, "delete_batch", {"batch": choices[picked]})
        st.session_state.pop("upload_results", None)
        st.toast(t("deleted", b=picked))
        st.rerun()
    if demo.any() and st.button(t("delete_demo"), key="delete_demo") and auth.allowed("delete"):
        n = s.delete_demo()
        accounts.audit(s, auth.user().username, "delete_demo", {"batches": n})
        st.rerun()


def spellings_section() -> None:
    """The office's confirmed header spellings; administrators remove one (audited)."""
    s = store()
    table = s.spelling_table()
    if not len(table):
        st.caption(t("nothing"))
        return
    shown = table.assign(field=table["field"].map(t))
    st.dataframe(labelled(readable(shown)), hide_index=True, width="stretch")
    if not auth.allowed("upload"):
        return
    c1, c2 = st.columns([3, 1])
    picked = c1.selectbox(t("spelling_remove"), table["spelling"].tolist(), key="spelling_pick")
    if c2.button(t("spelling_remove"), key="spelling_remove") and auth.allowed("upload"):
        spellings.remove(s, picked, by=auth.user().username)
        st.toast(tm("spelling_removed", s=picked))
        st.rerun()


# Rule limits shown as number inputs: field, label key, min, max, step, shown as percent.
RULE_LIMITS = (
    ("poor_far_above_factor", "limit_poor_far_above", 1.0, 20.0, 0.5, False),
    ("income_max", "limit_income_max", 1000.0, 10_000_000.0, 1000.0, False),
    ("outlier_z", "limit_outlier_z", 1.0, 10.0, 0.5, False),
    ("completeness_min", "limit_completeness", 0.0, 100.0, 5.0, True),
)


def settings_section() -> None:
    """Every limit with its value in force (defaults until changed): rate ceilings, approval
    floor, housing standard, the anomaly rules' limits and the poverty line per year."""
    cfg = settings()
    editable = auth.allowed("settings")
    with st.form("settings_form"):
        cols = st.columns(len(cfg.rate_ceilings) + 2)
        ceilings = {}
        for i, (key, value) in enumerate(cfg.rate_ceilings.items()):
            label = t("ceiling_of", r=t(key)) + " (%)"
            chosen = cols[i].number_input(
                label, 0.0, 100.0, value * 100, 0.5, key=f"set_{key}", disabled=not editable
            )
            ceilings[key] = chosen / 100
        floor = cols[-2].number_input(
            t("approval_floor") + " (%)",
            0.0,
            100.0,
            cfg.approval_floor * 100,
            1.0,
            key="set_approval",
            disabled=not editable,
        )
        area = cols[-1].number_input(
            t("area_standard"),
            1.0,
            200.0,
            cfg.area_standard,
            1.0,
            key="set_area",
            disabled=not editable,
        )
        limits = {}
        cols = st.columns(len(RULE_LIMITS))
        for col, (name, label, lo, hi, step, percent) in zip(cols, RULE_LIMITS, strict=True):
            value = getattr(cfg, name) * (100 if percent else 1)
            chosen = col.number_input(
                t(label) + (" (%)" if percent else ""),
                lo,
                hi,
                float(value),
                step,
                key=f"set_{name}",
                disabled=not editable,
            )
            limits[name] = chosen / 100 if percent else chosen
        years = list(cfg.poverty_lines)
        lines = st.data_editor(
            pd.DataFrame({"year": years, "line": [cfg.poverty_lines[y] for y in years]}),
            column_config={
                "year": st.column_config.NumberColumn(t("year"), format="%d", step=1),
                "line": st.column_config.NumberColumn(t("line_yuan"), format="%.0f", min_value=0),
            },
            num_rows="dynamic" if editable else "fixed",
            disabled=not editable,
            hide_index=True,
            key="set_lines",
        )
        if st.form_submit_button(t("save"), disabled=not editable) and auth.allowed("settings"):
            clean = lines.dropna()
            # replace() keeps every field this form does not show
            new = dataclasses.replace(
                cfg,
                rate_ceilings=ceilings,
                approval_floor=floor / 100,
                area_standard=area,
                poverty_lines={
                    int(y): float(v) for y, v in zip(clean.year, clean.line, strict=True)
                },
                **limits,
            )
            store().save_settings(new)
            accounts.audit(store(), auth.user().username, "settings", {"settings": new.to_json()})
            st.success(t("settings_saved"))
    if not editable:
        auth.deny("settings")


def users_section() -> None:
    """Accounts: add one, change a role, disable or enable, reset a password (administrators).
    A role change, disabling and a reset end the user's sign-ins."""
    s = store()
    me = auth.user().username
    frame = accounts.users(s)
    shown = frame.assign(role=frame["role"].map(lambda r: t(f"role_{r}")))
    st.dataframe(labelled(readable(shown)), hide_index=True, width="stretch")
    with st.form("new_user_form"):
        st.caption(t("new_user"))
        c1, c2, c3 = st.columns(3)
        name = c1.text_input(t("username"), key="new_user_name")
        password = c2.text_input(t("password"), type="password", key="new_user_password")
        role = c3.selectbox(t("role"), accounts.ROLES, format_func=lambda r: t(f"role_{r}"))
        if st.form_submit_button(t("create")) and auth.allowed("manage_users"):
            try:
                accounts.create_user(s, name, password, role, by=me)
                st.success(tm("created_user", u=name))
            except accounts.AccountError as e:
                st.error(md(e.message(lang())))
    if len(frame):
        c1, c2, c3, c4 = st.columns([2, 2, 2, 1])
        who = c1.selectbox(t("username"), frame["username"].tolist(), key="edit_user")
        what = c2.selectbox(
            t("action"),
            ["", *(f"role:{r}" for r in accounts.ROLES), "disable", "enable", "reset_password"],
            format_func=lambda v: (
                t(f"role_{v[5:]}") if v.startswith("role:") else t(v) if v else t("no_action")
            ),
            key="edit_action",
        )
        new_password = c3.text_input(
            t("new_password"),
            type="password",
            key="edit_password",
            disabled=what != "reset_password",
        )
        if c4.button(t("apply"), key="edit_apply") and what and auth.allowed("manage_users"):
            try:
                if what.startswith("role:"):
                    accounts.set_role(s, who, what[5:], by=me)
                elif what == "reset_password":
                    accounts.set_password(s, who, new_password, by=me)
                    st.session_state["_reset_done"] = who
                else:
                    accounts.set_disabled(s, who, what == "disable", by=me)
                st.rerun()
            except accounts.AccountError as e:
                st.error(md(e.message(lang())))
        if st.session_state.get("_reset_done"):
            st.success(tm("password_reset_done", u=st.session_state.pop("_reset_done")))


def audit_section() -> None:
    """The audit log, newest first, its actions in words (administrators)."""
    log = accounts.readable_audit(accounts.audit_log(store()), lang())
    table_with_download(labelled(log), "审计日志", "audit")


filters.frame("page_data", empty_hint=False)
s = store()
if not accounts.has_users(s):
    first_admin()

st.subheader(t("upload"))
st.download_button(
    t("template"), template_bytes(), "贫困对象动态管理_模板.xlsx", XLSX, key="template"
)
if auth.allowed("upload"):
    upload_block()
else:
    auth.deny("upload")

st.subheader(t("batches"))
batches_section()

st.subheader(t("spellings_title"))
spellings_section()

st.subheader(t("rounds"))
st.dataframe(labelled(readable(s.rounds())), hide_index=True, width="stretch")

st.subheader(t("quarantine"))
if auth.allowed("view_households"):
    q = s.quarantine()
    if len(q):
        q = q.drop(columns=["raw"]).assign(table_name=q["table_name"].map(t))
        st.dataframe(labelled(readable(q)), hide_index=True, width="stretch")
    else:
        st.caption(t("nothing"))
else:
    auth.deny("view_households")

st.subheader(t("settings"))
settings_section()

if auth.allowed("manage_users"):
    st.subheader(t("users"))
    users_section()
if auth.allowed("read_audit"):
    st.subheader(t("audit"))
    audit_section()
