"""The upload block: choose files and a round, see what they hold, then import."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from analytics.access import accounts
from analytics.figures import queries
from analytics.importing import ingest, spellings
from analytics.importing.values import DATE_FLOOR
from analytics.output import export
from analytics.store.database import StoreError
from ui import auth
from ui.blocks import readable
from ui.common import lang, md, store, t, tm


# The page keeps each inspection while the user decides: only its summary (no parsed rows:
# a 35 MB file's rows took about 85 MB of the server's memory per entry), and only a few.
# The import reads the file again. The office's spellings are in the key: confirming one
# inspects the file again.
@st.cache_data(show_spinner=False, max_entries=8)
def _inspect(
    name: str,
    data: bytes,
    township: str,
    spellings: tuple[tuple[str, str], ...],
    data_date: dt.date | None,
) -> ingest.FileReport:
    return ingest.inspect_file(name, data, township or None, dict(spellings), data_date).summary()


def proposals_block(reports: list[ingest.FileReport]) -> None:
    """Unrecognised headers with the field each most likely means; an administrator
    confirms some, they are kept for this office (audited) and the files are read again."""
    found: dict[tuple[str, str], str] = {}  # (header, field) -> table
    for report in reports:
        for sheet in report.sheets:
            for header, key in sheet.proposals.items():
                found.setdefault((header, key), sheet.table or "")
    if not found:
        return
    st.subheader(t("proposals_title"))
    st.caption(t("proposals_help"))
    with st.form("proposals_form", border=True):
        chosen = [
            (header, key)
            for i, ((header, key), table) in enumerate(found.items())
            if st.checkbox(
                tm("proposal", h=header, f=t(key), tb=t(table)),
                key=f"proposal_{i}",
                value=False,
            )
        ]
        if st.form_submit_button(t("confirm_proposals")) and auth.allowed("upload"):
            errors = []
            for header, key in chosen:
                try:
                    spellings.confirm(store(), header, key, by=auth.user().username)
                except spellings.SpellingError as e:
                    errors.append(str(e))
            for e in errors:
                st.error(md(e))
            if chosen and not errors:
                st.session_state.pop("upload_results", None)
                st.rerun()


def _sheet_frame(report: ingest.FileReport) -> pd.DataFrame:
    en = lang() == "en"
    rows = []
    for s in report.sheets:
        rows.append(
            {
                t("sheet"): s.sheet,
                t("table"): t(s.table) if s.table else t("not_recognised"),
                t("header_rows"): s.header_rows,
                t("township_source"): _township_cell(s),
                t("rows_valid"): s.loaded,
                t("rows_rejected"): s.rejected,
                t("rows_skipped"): sum(s.skipped.values()),
                t("unused_columns"): "、".join(s.unused_columns)
                or ((s.note_en if en else s.note) if s.table is None else ""),
            }
        )
    return pd.DataFrame(rows)


def _township_cell(s: ingest.SheetSummary) -> str:
    """The township a sheet's rows without their own take, and where it comes from."""
    if not s.township_source:
        return ""
    source = t(f"source_{s.township_source}")
    return f"{s.township}（{source}）" if s.township and s.township_source != "column" else source


def inferred_block(reports: list[ingest.FileReport]) -> None:
    """Under the township and date boxes: what each file says of its township (the sheets
    that take one from their title, another sheet or the file name; ``workbook.settle``)
    and of its data date, and where from, so the user sees what will be used before
    importing."""
    for r in reports:
        if r.status not in ("inspected", "loaded", "partial"):
            continue
        for s in r.sheets:
            if s.table is None or s.township_source in ("", "column", "upload"):
                continue
            source = t(f"source_{s.township_source}")
            if s.township:
                st.caption(
                    tm(
                        "township_found",
                        file=r.file,
                        sheet=s.sheet,
                        township=s.township,
                        source=source,
                    )
                )
            else:
                st.caption(tm("township_not_found", file=r.file, sheet=s.sheet, source=source))
        if r.data_date is not None:
            source = t(f"source_{r.data_date_source}")
            st.caption(
                tm("data_date_found", file=r.file, day=r.data_date.isoformat(), source=source)
            )
        else:
            st.caption(tm("data_date_not_found", file=r.file))


def report_frame(report: ingest.FileReport) -> pd.DataFrame:
    """The row report with translated headers and the message in the chosen language."""
    frame = report.problem_frame()
    message = "message_en" if lang() == "en" else "message"
    frame = frame[["file", "sheet", "row", "column", "value", "severity", "code", message]]
    frame = frame.assign(severity=frame["severity"].map(t))
    return frame.rename(
        columns={
            "file": t("file"),
            "sheet": t("sheet"),
            "row": t("row"),
            "column": t("column"),
            "value": t("value"),
            "severity": t("severity"),
            "code": t("code"),
            message: t("message"),
        }
    )


def _show_report(report: ingest.FileReport, key: str) -> None:
    status = t(f"status_{report.status}")
    text = report.message_en if lang() == "en" else report.message
    # A reader's message starts with the file's name, already at the start of the line.
    text = text.removeprefix(f"{report.file}：").removeprefix(f"{report.file}: ")
    line = f"**{md(report.file)}**：{status}" + (f" — {md(text)}" if text else "")
    if report.status in ("refused", "unreadable"):
        st.error(line)
    elif report.status in ("loaded", "partial"):
        st.success(line)
    else:
        st.info(line)
    if report.sheets:
        st.dataframe(readable(_sheet_frame(report)), hide_index=True, width="stretch")
    if report.problems:
        frame = report_frame(report)
        errors = sum(p.severity == "error" for p in report.problems)
        st.caption(f"{t('row_report')}: {t('error')} {errors}, {t('warning')} {report.warnings}")
        st.dataframe(
            readable(frame), hide_index=True, width="stretch", height=min(400, 40 + 35 * len(frame))
        )
        st.download_button(
            t("download_report"),
            export.to_xlsx_bytes(frame, t("row_report")[:31]),
            file_name=f"{report.file}.行报告.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"report_{key}",
        )
    elif report.status != "unreadable":
        st.caption(t("no_problems"))


def upload_block() -> None:
    """Files, round, township and options; the inspection; the import with progress."""
    st.caption(t("upload_help"))
    s = store()
    files = st.file_uploader(
        t("files"),
        type=["xlsx", "xlsm", "xls", "csv"],
        accept_multiple_files=True,
        key="upload_files",
    )
    rounds = s.round_names()
    new_option = t("round_new_option")
    options = [*reversed(rounds), new_option]
    # an office's first file goes into a round of its own, not into the demo's
    first = len(options) - 1 if queries.demo_only(s, rounds) else 0
    c1, c2 = st.columns(2)
    picked = c1.selectbox(t("round_pick"), options, index=first, key="upload_round_pick")
    round_name = picked
    if picked == new_option:
        round_name = c1.text_input(t("round_new"), key="upload_round_new").strip()
    township = c2.text_input(t("township_input"), key="upload_township").strip()
    data_date = c2.date_input(
        t("data_date_input"),
        value=None,
        min_value=DATE_FLOOR,
        max_value=dt.date.today(),
        key="upload_data_date",
    )
    known = tuple(sorted(s.spellings().items()))
    reports = [_inspect(f.name, f.getvalue(), township, known, data_date) for f in files or []]
    with c2:
        inferred_block(reports)
    allow_partial = c2.checkbox(t("allow_partial"), key="upload_allow_partial")
    replace = c2.checkbox(t("replace"), key="upload_replace")
    if not files:
        return
    st.subheader(t("inspect_title"))
    for i, report in enumerate(reports):
        _show_report(report, f"inspect_{i}")
    proposals_block(reports)
    if st.button(t("import"), type="primary", key="upload_import") and auth.allowed("upload"):
        if not round_name:
            st.warning(t("need_round"))
            return
        progress = st.progress(0.0, text=t("importing"))
        results = []
        for i, f in enumerate(files):
            try:
                report = ingest.import_file(
                    s,
                    f.name,
                    f.getvalue(),
                    round_name,
                    township=township or None,
                    allow_partial=allow_partial,
                    replace=replace,
                    data_date=data_date,
                )
            except StoreError as e:
                st.error(md(e))
                break
            results.append(report)
            if report.batch_id is not None:
                accounts.audit(
                    s,
                    auth.user().username,
                    "upload",
                    {
                        "file": f.name,
                        "round": round_name,
                        "batch": report.batch_id,
                        "status": report.status,
                        "replaced": report.replaced,
                        "data_date": report.data_date.isoformat() if report.data_date else None,
                    },
                )
            progress.progress((i + 1) / len(files), text=f"{t('importing')} {f.name}")
        progress.empty()
        st.session_state["upload_results"] = results
    for i, report in enumerate(st.session_state.get("upload_results", [])):
        _show_report(report, f"result_{i}")
