"""The one writer of every CSV and XLSX the product emits: tables out to files people open
in Excel (CSV in UTF-8 with BOM, CSV text on the command line's standard output, XLSX),
and every cell of the workbooks it builds (the blank template, the demo workbooks).

Text that a spreadsheet would run as a formula (starting with = + - @, tab, CR or LF) is
neutralised with a leading apostrophe; numbers stay numbers. XLSX files have the header
row frozen, filters on, and every text cell written as text so long ID numbers keep all
their digits. Written with openpyxl, whose own cells take text starting with "=" as a
formula: a cell of a workbook the product builds is written through ``put``.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import Cell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from analytics.domain.labels import label
from analytics.figures import coverage, metrics

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def neutralise(value: Any) -> Any:
    """Prefixes text that a spreadsheet would treat as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells (object / string columns) are neutralised."""
    out = frame.copy()
    for c in out.columns:
        if out[c].dtype == object or pd.api.types.is_string_dtype(out[c]):
            out[c] = out[c].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def to_csv_text(frame: pd.DataFrame) -> str:
    """CSV text, no BOM (the command line's standard output), text cells neutralised."""
    return safe_frame(frame).to_csv(index=False)


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """CSV in UTF-8 with BOM (Excel on Chinese Windows opens it correctly)."""
    return to_csv_text(frame).encode("utf-8-sig")


def safe_value(value: object) -> Any:
    """What a cell of a file we write holds for ``value``: text that a spreadsheet would
    run as a formula neutralised (``neutralise``), missing values (None, NaN, NA) None,
    numpy scalars as Python numbers, anything else itself."""
    return neutralise(_cell(value))


def put(ws: Worksheet, row: int, col: int, value: object) -> Cell:
    """Writes one value into a cell of an openpyxl worksheet and returns the cell: text that
    a spreadsheet would run as a formula neutralised (never an openpyxl formula), missing
    values (None, NaN, NA) empty, numpy scalars as Python numbers (``safe_value``)."""
    return ws.cell(row, col, safe_value(value))


def one_sheet_book(title: str) -> tuple[Workbook, Worksheet]:
    """A new openpyxl workbook and its one worksheet, named ``title`` (cut to Excel's 31
    characters)."""
    book = Workbook()
    ws = book.active
    if not isinstance(ws, Worksheet):  # a new workbook's one sheet is a plain worksheet
        raise TypeError(f"unexpected first sheet {type(ws).__name__}")
    ws.title = title[:31]
    return book, ws


def to_xlsx_bytes(frame: pd.DataFrame, sheet: str = "Sheet1") -> bytes:
    """One-sheet XLSX: header frozen, filters on, text cells as text, numbers as numbers."""
    book, ws = one_sheet_book(sheet)
    safe = safe_frame(frame)
    ws.append([str(c) for c in safe.columns])
    for row in safe.itertuples(index=False):
        ws.append([_cell(v) for v in row])
    for i, c in enumerate(safe.columns, start=1):
        ws.cell(1, i).number_format = "@"
        ws.column_dimensions[get_column_letter(i)].width = max(8, min(40, len(str(c)) * 2 + 2))
    for col in ws.iter_cols(min_row=2):
        for cell in col:
            if isinstance(cell.value, str):
                cell.number_format = "@"
    ws.freeze_panes = "A2"
    if len(safe.columns):
        ws.auto_filter.ref = f"A1:{get_column_letter(len(safe.columns))}{max(1, len(safe) + 1)}"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _cell(value: object) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and value != value:  # NaN
        return None
    if hasattr(value, "item") and not isinstance(value, str):  # numpy scalar
        return value.item()
    return value


def notes(frame: pd.DataFrame, keys: list[str], lang: str = "zh") -> list[str]:
    """Per row of an ``apply``-ed metrics frame (``coverage``): why the metrics ``keys`` it
    shows are missing or partial ("" when all are full)."""
    if not set(coverage.COLUMNS) <= set(frame.columns):
        return [""] * len(frame)
    out = []
    for row in frame.to_dict("records"):
        found = [coverage.row_why(row, k, lang) for k in keys if k in metrics.METRIC_INPUTS]
        out.append("；".join(dict.fromkeys(w for w in found if w)))
    return out


def metrics_table(frame: pd.DataFrame, lang: str = "zh") -> pd.DataFrame:
    """A metrics frame as a file holds it: columns labelled, counts as whole numbers,
    rates as percentages with two decimals (5.23, the header says %), a missing figure as
    an empty cell, and a notes column saying why a figure is missing or partial."""
    shown = [c for c in frame.columns if c not in coverage.COLUMNS]
    out = frame[shown].copy()
    for c in shown:
        if c in metrics.RATE_KEYS:
            out[c] = (out[c].astype("float64") * 100).round(2)
    if "notes" in out.columns and not out["notes"].fillna("").astype(bool).any():
        out = out.drop(columns=["notes"])
    elif "notes" not in out.columns:
        note = notes(frame, [c for c in shown if c in metrics.METRIC_KEYS], lang)
        if any(note):
            out["notes"] = note
    names = {
        c: label(c if c != "meetings" else "meetings_count", lang)
        + (" (%)" if c in metrics.RATE_KEYS else "")
        for c in out.columns
    }
    return out.rename(columns=names)
