"""Column-at-a-time shortcuts for ``validate.Validator.parse`` (and the bulk path).

Each function here looks at a whole column of cells and picks out the cells whose result is
known without the per-cell parser: text that ``validate.clean_text`` leaves unchanged, ID
numbers that pass every check, plain numbers. Every other cell is left to the per-cell code
(``SLOW``), so a shortcut can only be faster, never different. What each shortcut assumes
of ``validate`` is written beside it; tests/test_fast_paths.py holds the two paths equal.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from itertools import repeat
from typing import cast

import numpy as np
import pyarrow as pa

from analytics.domain import idcard

SLOW = object()  # "this cell needs the per-cell parser"
# DuckDB type of a column (schema.SQL_TYPES) -> the Arrow type its values travel in.
ARROW_TYPES = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "DOUBLE": pa.float64(),
    "DATE": pa.date32(),
    "BOOLEAN": pa.bool_(),
}
_INF = float("inf")
_BLOCK = 512
_PLAIN_DECIMAL = re.compile(r"[0-9]{1,15}(?:\.[0-9]{1,15})?")


# The most characters an Excel cell holds: a text exactly this long was probably cut off
# (validate's W_CELL_TRUNCATED; never a plain text, here or in analytics/importing/bulk.py's SQL).
EXCEL_CELL_CHARS = 32_767


def _plain(v: str) -> bool:
    return (
        bool(v)
        and v.isprintable()
        and " " not in v
        and len(v) != EXCEL_CELL_CHARS
        and unicodedata.is_normalized("NFKC", v)
    )


def plain_texts(values: Sequence[object]) -> list[bool]:
    """True where a cell is non-empty text that ``clean_text`` returns unchanged and that
    holds no whitespace at all: NFKC already (``unicodedata.is_normalized``), printable (no
    control or formatting character, no whitespace but " "), and no " ". Such a cell is its
    own clean text, its own compact text, and its own value in any text field, with no
    problem (a text of exactly ``EXCEL_CELL_CHARS`` characters raises one: not plain).

    Checked a block of cells at a time (one join, one pass of C code); a block with a
    non-text or unclean cell is checked cell by cell.
    """
    out: list[bool] = []
    for b in range(0, len(values), _BLOCK):
        block = values[b : b + _BLOCK]
        # Taken for texts until the join says otherwise: it raises TypeError on any other
        # cell, so past it ``texts`` holds only str.
        texts = cast("Sequence[str]", block)
        try:
            s = "\n".join(texts)
        except TypeError:  # a number, a date or an empty cell in the block
            out.extend([v.__class__ is str and _plain(v) for v in block])
            continue
        if (
            all(block)
            and s.count("\n") == len(block) - 1
            and " " not in s
            and s.replace("\n", "").isprintable()
            and EXCEL_CELL_CHARS not in map(len, texts)
            and unicodedata.is_normalized("NFKC", s)
        ):
            out.extend([True] * len(block))
        else:
            out.extend([_plain(v) for v in texts])
    return out


def numbers(values: Sequence[object], positive: bool) -> list[object]:
    """Values of a number field: ``float(v)`` for a number cell (not a bool) and for text
    that is a plain decimal ("6001.98", "12"); else SLOW. With ``positive``, a value <= 0
    is SLOW too (the per-cell parser reports it).

    Assumes ``validate.parse_number`` returns ``float(v)`` for int and float cells, and
    ``float(Decimal(s))`` for such text, which is ``float(s)`` (both correctly rounded).
    """
    out: list[object] = []
    append = out.append
    for v in values:
        if (
            v.__class__ is float
            or v.__class__ is int
            or (v.__class__ is str and _PLAIN_DECIMAL.fullmatch(v))
        ):
            x = float(v)
        else:
            append(SLOW)
            continue
        if x != x or x in (_INF, -_INF):  # NaN / inf: the per-cell parser reports it
            append(SLOW)
            continue
        append(x if not positive or x > 0 else SLOW)
    return out


def id_numbers(values: Sequence[object]) -> list[object]:
    """Values of an ID number field: an 18-character text of ASCII digits (and a final
    upper-case X) whose GB 11643 check character is right and whose birth date exists is
    its own value, with no problem; everything else is SLOW (the per-cell parser reports
    it). Computed with numpy over the whole column.
    """
    out: list[object] = [SLOW] * len(values)
    where = [j for j, v in enumerate(values) if v.__class__ is str and len(v) == 18]
    if not where:
        return out
    texts = cast("list[str]", [values[j] for j in where])  # where: the rows holding a str
    joined = "".join(texts)
    if joined.isascii():
        chars = np.frombuffer(joined.encode("ascii"), dtype=np.uint8).reshape(-1, 18)
        ok = idcard.valid_rows(chars)
        for j, good in zip(where, ok.tolist(), strict=True):
            if good:
                out[j] = values[j]
    else:  # some non-ASCII text of 18 characters: check the ASCII ones on their own
        ascii_where = [j for j, v in zip(where, texts, strict=True) if v.isascii()]
        if ascii_where:
            sub = [values[j] for j in ascii_where]
            for j, v in zip(ascii_where, id_numbers(sub), strict=True):
                out[j] = v
    return out


class ArrowFrame(Mapping[str, list[object]]):
    """The columns of an Arrow table as a frame for ``RowView`` (field -> list of values),
    each column turned into Python values the first time it is read.

    ``table`` stays available: a consumer that wants the whole table (Store._bulk_insert)
    takes it as it is, without converting a single value.
    """

    __slots__ = ("_lists", "table")

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self._lists: dict[str, list[object]] = {}

    def __getitem__(self, key: str) -> list[object]:
        values = self._lists.get(key)
        if values is None:
            if key not in self.table.column_names:
                raise KeyError(key)
            values = self._lists[key] = self.table.column(key).to_pylist()
        return values

    def __iter__(self) -> Iterator[str]:
        return iter(self.table.column_names)

    def __len__(self) -> int:
        return self.table.num_columns


def arrow_rows(table: pa.Table) -> list[RowView]:
    """The rows of an Arrow table, each a ``RowView`` of one ``ArrowFrame`` (in order)."""
    frame = ArrowFrame(table)
    return [RowView(frame, j) for j in range(table.num_rows)]


def whole_table(rows: Sequence[Mapping[str, object]]) -> pa.Table | None:
    """The Arrow table behind ``rows`` when they are exactly the rows of one ``ArrowFrame``
    in order (as ``arrow_rows`` made them), else None."""
    first = rows[0] if rows else None
    if not isinstance(first, RowView):
        return None
    frame = first._frame
    if not isinstance(frame, ArrowFrame) or len(rows) != frame.table.num_rows:
        return None
    for j, r in enumerate(rows):
        if not isinstance(r, RowView) or r._frame is not frame or r._j != j:
            return None
    return frame.table


def to_arrow(
    rows: Sequence[Mapping[str, object]], fields: Sequence[tuple[str, pa.DataType]]
) -> pa.Table:
    """The rows as an Arrow table of ``fields`` (name, type); a row without a name is null
    there. Rows that are exactly one ``ArrowFrame``'s (``whole_table``) are taken from its
    table, not converted value by value.

    Raises
    ------
    OverflowError, pyarrow.ArrowException
        When a value does not fit its type (a whole number past 2**63).
    """
    table = whole_table(rows)
    if table is not None:
        n = table.num_rows
        return pa.table(
            {
                name: table.column(name).cast(t) if name in table.column_names else pa.nulls(n, t)
                for name, t in fields
            }
        )
    values = to_columns(rows, [name for name, _ in fields])
    return pa.table({name: pa.array(values[name], type=t) for name, t in fields})


class RowView(Mapping[str, object]):
    """One row of a table held as columns (``frame``: field -> list of values), read in
    place: it is equal to, and reads like, the dict of that row, without copying it."""

    __slots__ = ("_frame", "_j")

    def __init__(self, frame: Mapping[str, Sequence[object]], j: int) -> None:
        self._frame = frame
        self._j = j

    def __getitem__(self, key: str) -> object:
        return self._frame[key][self._j]

    def __iter__(self) -> Iterator[str]:
        return iter(self._frame)

    def __len__(self) -> int:
        return len(self._frame)

    def __repr__(self) -> str:
        return repr(dict(self))


def to_columns(rows: Sequence[Mapping[str, object]], names: Sequence[str]) -> dict[str, list]:
    """The rows as columns ``{name: [value of each row]}`` (None where a row lacks the
    name). Runs of ``RowView`` of one frame are sliced from it, not read row by row."""
    out: dict[str, list] = {name: [] for name in names}
    i, n = 0, len(rows)
    while i < n:
        first = rows[i]
        if isinstance(first, RowView):
            frame = first._frame
            idx = [first._j]  # the rows of the run of RowViews of this frame from i on
            k = i + 1
            while k < n:
                r = rows[k]
                if not isinstance(r, RowView) or r._frame is not frame:
                    break
                idx.append(r._j)
                k += 1
            whole = idx == list(range(idx[0], idx[0] + len(idx)))
            for name in names:
                col = frame.get(name)
                if col is None:
                    out[name].extend([None] * len(idx))
                elif whole:
                    out[name].extend(col[idx[0] : idx[0] + len(idx)])
                else:
                    out[name].extend([col[j] for j in idx])
            i = k
        else:
            k = i
            while k < n and not isinstance(rows[k], RowView):
                k += 1
            run = rows[i:k]
            plain = all(r.__class__ is dict for r in run)  # dict.get at C speed
            for name in names:
                if plain:
                    out[name].extend(map(dict.get, run, repeat(name)))  # type: ignore[arg-type]
                else:
                    out[name].extend([r.get(name) for r in run])
            i = k
    return out
