"""Which figures a unit's files measured: a figure nobody measured is missing, never 0.

A count is a sum over rows. When no file of a unit's round had the column it counts (or
left that column blank), the sum is 0 by accident: the overview used to show 搬迁户 3 户 /
0 人 and the report wrote "搬迁安置3户0人" from a sheet whose persons column was not read.
Each batch records the columns its tables had and how many loaded rows have a value there
(``batch_columns``) and the units it holds rows of (``batch_units``); from them every
metric of a unit is "full" (every file behind it measured its inputs), "partial" (some
did) or "missing" (none did). A missing figure becomes null; a partial one is marked.

Inputs (``INPUTS``):
- a whole table (households, meetings, relocation) is measured for a township when some
  batch of the round holding rows of that township (in any table) loaded that table with
  its required columns: a meetings file for a township makes its villages' 0 meetings a
  real 0;
- a column of a table (核查结论, 动态管理结果, 是否认可, 安置点) is measured for a unit by
  the batches holding that table's rows of the unit (else of its townships): all of them
  had it filled -> full, some -> partial, none -> missing.

Which metric needs which input is ``metrics.METRIC_INPUTS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from analytics.domain.labels import label
from analytics.figures import metrics
from analytics.importing.row_rules import REQUIRED

FULL, PARTIAL, MISSING = "full", "partial", "missing"
_RANK = {FULL: 0, PARTIAL: 1, MISSING: 2}


@dataclass(frozen=True)
class Input:
    """What a group of metrics counts from.

    Parameters
    ----------
    key : the input's name ("verification"), the suffix of its ``coverage_<key>`` column.
    table : the stored table it is read from.
    fields : the columns it needs (filled in at least one loaded row).
    whole_table : True for a table as a whole (measured per township), False for a column
        of it (measured per village, by the batches holding the table's rows there).
    """

    key: str
    table: str
    fields: tuple[str, ...]
    whole_table: bool


INPUTS: tuple[Input, ...] = (
    Input("households", "households", REQUIRED["households"], True),
    Input("adjustment", "households", ("adjustment",), False),
    Input("verification", "households", ("verification",), False),
    Input("approval", "households", ("approval",), False),
    Input("meetings", "meetings", REQUIRED["meetings"], True),
    Input("relocation", "relocation", REQUIRED["relocation"], True),
    Input("relocation_site", "relocation", ("site",), False),
)
BY_KEY = {i.key: i for i in INPUTS}
COLUMNS: tuple[str, ...] = tuple(f"coverage_{i.key}" for i in INPUTS)


class RoundFiles:
    """What the batches of one round held, indexed for ``status``.

    Parameters
    ----------
    columns : batch_id, table_name, field, filled (rows with a value), per batch column.
    units : batch_id, table_name, township, village: the units each table of each batch
        holds rows of (village None for township-level meetings).
    """

    def __init__(self, columns: pd.DataFrame, units: pd.DataFrame) -> None:
        filled = columns[columns["filled"] > 0]
        have: dict[tuple[str, str], set[int]] = {}
        for b, t, f in zip(filled["batch_id"], filled["table_name"], filled["field"], strict=True):
            have.setdefault((t, f), set()).add(int(b))
        self._measuring: dict[str, set[int]] = {}
        for inp in INPUTS:
            sets = [have.get((inp.table, f), set()) for f in inp.fields]
            self._measuring[inp.key] = set.intersection(*sets) if sets else set()
        self._measuring_any = bool(len(columns))
        self.townships: list[str] = sorted(set(units["township"].dropna()))
        self._any: dict[str, set[int]] = {}
        self._table: dict[tuple[str, str], set[int]] = {}
        self._village: dict[tuple[str, str, str], set[int]] = {}
        for b, t, town, village in zip(
            units["batch_id"],
            units["table_name"],
            units["township"],
            units["village"],
            strict=True,
        ):
            if not isinstance(town, str):
                continue
            self._any.setdefault(town, set()).add(int(b))
            self._table.setdefault((t, town), set()).add(int(b))
            if isinstance(village, str):
                self._village.setdefault((t, town, village), set()).add(int(b))

    @property
    def unknown(self) -> bool:
        """Whether nothing is recorded of the round's files (no batch of it in the store)."""
        return not self._any and not self._measuring_any

    def measuring(self, inp: Input) -> set[int]:
        """Batches whose table ``inp.table`` had every field of ``inp`` filled somewhere."""
        return self._measuring[inp.key]

    def holding(self, township: str, table: str | None = None) -> set[int]:
        """Batches holding rows of ``township`` (in ``table``, or in any table)."""
        if table is None:
            return self._any.get(township, set())
        return self._table.get((table, township), set())

    def holding_village(self, table: str, township: str, village: str) -> set[int]:
        """Batches holding rows of one village in ``table``."""
        return self._village.get((table, township, village), set())


@dataclass(frozen=True)
class Area:
    """A unit: some townships, and optionally some villages (names) inside them."""

    townships: frozenset[str]
    villages: frozenset[str] | None = None


def status(files: RoundFiles, inp: Input, area: Area) -> str:
    """FULL, PARTIAL or MISSING: whether the round's files measured ``inp`` for ``area``."""
    measuring = files.measuring(inp)
    if inp.whole_table:
        return _combine([bool(files.holding(t) & measuring) for t in sorted(area.townships)])
    relevant: set[int] = set()
    if area.villages is not None:
        for t in area.townships:
            for v in area.villages:
                relevant |= files.holding_village(inp.table, t, v)
    if not relevant:
        for t in area.townships:
            relevant |= files.holding(t, inp.table)
    return _combine([b in measuring for b in sorted(relevant)])


def _combine(flags: Sequence[bool]) -> str:
    if not flags or not any(flags):
        return MISSING
    return FULL if all(flags) else PARTIAL


def worst(statuses: Iterable[str]) -> str:
    """The least measured of several statuses (MISSING > PARTIAL > FULL)."""
    return max(statuses, key=_RANK.__getitem__, default=FULL)


def apply(
    frame: pd.DataFrame,
    files: RoundFiles,
    level: str,
    filters: metrics.Filters,
) -> pd.DataFrame:
    """``frame`` (``metrics.compute`` at ``level`` for ``filters``) with its coverage.

    Adds one ``coverage_<input>`` column per input (FULL / PARTIAL / MISSING) and sets every
    metric whose inputs (``metrics.METRIC_INPUTS``) include a missing one to null; counts
    become pandas' nullable Int64. Returns a new frame; the row order is kept.
    """
    out = frame.copy()
    if files.unknown:
        # nothing recorded of the round's files (its rows live on another backend, or were
        # written without an import): nothing to say, every figure as computed
        for c in COLUMNS:
            out[c] = FULL
        for key in metrics.COUNT_KEYS:
            out[key] = out[key].astype("Int64")
        return out
    found: dict[Area, list[str]] = {}
    per_row = []
    for row in out.itertuples(index=False):
        area = _area(row._asdict(), level, filters, files.townships)
        if area not in found:
            found[area] = [status(files, inp, area) for inp in INPUTS]
        per_row.append(found[area])
    for j, c in enumerate(COLUMNS):
        out[c] = pd.Series([r[j] for r in per_row], index=out.index, dtype="object")
    for key in metrics.COUNT_KEYS:
        out[key] = out[key].astype("Int64")
    for key, needs in metrics.METRIC_INPUTS.items():
        gone = pd.Series(False, index=out.index)
        for inp in needs:
            gone |= out[f"coverage_{inp}"] == MISSING
        if gone.any():
            out.loc[gone, key] = pd.NA if key in metrics.COUNT_KEYS else float("nan")
    return out


def _area(row: dict, level: str, f: metrics.Filters, present: list[str]) -> Area:
    if level in ("county", "counties"):  # a county's townships: those of its name (files
        # are recorded per township name, analytics/store/database.py batch_units)
        towns = frozenset(f.townships) if f.townships else frozenset(present)
        return Area(towns, frozenset(f.villages) if f.villages else None)
    township = row.get("township")
    towns = frozenset([township]) if isinstance(township, str) else frozenset(present)
    if level == "township":
        return Area(towns, frozenset(f.villages) if f.villages else None)
    village = row.get("village")
    return Area(towns, frozenset([village]) if isinstance(village, str) else None)


def metric_status(row: pd.Series | dict, key: str) -> str:
    """FULL, PARTIAL or MISSING for metric ``key`` of one row of an ``apply``-ed frame (FULL
    when the frame carries no coverage)."""
    found = [str(row.get(f"coverage_{inp}", FULL) or FULL) for inp in metrics.METRIC_INPUTS[key]]
    return worst(found)


def missing_inputs(row: pd.Series | dict, key: str) -> list[str]:
    """The inputs of metric ``key`` that one row did not measure (their keys)."""
    return [inp for inp in metrics.METRIC_INPUTS[key] if row.get(f"coverage_{inp}") == MISSING]


def partial_inputs(row: pd.Series | dict, key: str) -> list[str]:
    """The inputs of metric ``key`` that one row measured in some of its files only."""
    return [inp for inp in metrics.METRIC_INPUTS[key] if row.get(f"coverage_{inp}") == PARTIAL]


def why(key: str, missing: Sequence[str], partial: Sequence[str], lang: str = "zh") -> str:
    """Why metric ``key`` is missing or partial, in words ("" when it is full): the
    reasons of ``missing`` inputs first, else of ``partial`` ones."""
    if missing:
        return "；".join(label(f"why_missing_{i}", lang) for i in missing)
    return "；".join(label(f"why_partial_{i}", lang) for i in partial)


def row_why(row: pd.Series | dict, key: str, lang: str = "zh") -> str:
    """``why`` for metric ``key`` of one ``apply``-ed row."""
    return why(key, missing_inputs(row, key), partial_inputs(row, key), lang)
