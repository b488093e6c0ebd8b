"""Ibis expressions compiled once per query shape and run on DuckDB with names as parameters.

Building an Ibis expression and compiling it to SQL costs Python time that does not grow
with the data: about 0.15 s for the metrics expression, 20-50 ms for an anomaly rule
(bench/RESULTS.md, "Metrics" and "Page reruns"). The SQL of a question only depends on its
shape: which filters are set and how many names each holds, the level, the limits; not on
the names themselves. So the names (round, township, village, group) go into the
expression as marker strings (``Marks``), the compiled SQL tree (sqlglot) has each marker
replaced by a DuckDB parameter (``$p0``, ``$p1``, ...), and the SQL text is kept per shape
(``run``). A later question of the same shape binds its own names and runs the kept SQL.
Names are bound as values, never spliced into the SQL text.

Only DuckDB: on any other backend (``POVERTY_BACKEND_URL``, Spark) the callers build and
compile every time. The table schemas are fixed by analytics/store/database.py, so a shape's SQL is
the same for every store of this version.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa
import sqlglot.expressions as sge

from analytics.figures.filters import Filters

MARK = "\u2063ibis-param:"  # an invisible separator: never in a cleaned name
LIMIT = 512  # shapes kept; the oldest is dropped beyond

_kept: dict[Hashable, tuple[str, frozenset[str], ir.Table] | None] = {}
_lock = threading.Lock()  # sessions run in threads


class Marks:
    """The names of one question, each replaced by a marker while its expression is built.

    Markers are numbered in the order names are marked: mark the names of two questions of
    the same shape in the same order and they get the same markers.
    """

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        """The marker standing for ``value`` (a name: round, township, village, group)."""
        name = f"p{len(self.values)}"
        self.values[name] = value
        return MARK + name

    def filters(self, f: Filters) -> Filters:
        """``f`` with every name marked."""
        return Filters(
            self(f.round),
            tuple(self(v) for v in f.townships),
            tuple(self(v) for v in f.villages),
            tuple(self(v) for v in f.groups),
            tuple(self(v) for v in f.counties),
            tuple(self(v) for v in f.provinces),
        )


def filter_shape(f: Filters) -> tuple[int, ...]:
    """The part of a question's shape its filters make: how many names each holds."""
    return (len(f.townships), len(f.villages), len(f.groups), len(f.counties), len(f.provinces))


def usable(con: ibis.BaseBackend) -> bool:
    """Whether ``run`` can serve this backend (DuckDB)."""
    return con.name == "duckdb"


def run(
    con: ibis.BaseBackend,
    key: Hashable,
    marks: Marks,
    build: Callable[[], ir.Table | None],
    *,
    as_arrow: bool = False,
) -> pd.DataFrame | pa.Table | None:
    """The result of ``build()``'s expression for the names in ``marks``.

    Parameters
    ----------
    con : a DuckDB Ibis backend (see ``usable``).
    key : the question's shape: everything ``build`` depends on except the marked names.
        Two questions with the same key must build the same expression up to the names.
    marks : the question's names, already marked into what ``build`` reads.
    build : makes the expression from the marked names (called once per key); it may return
        None ("nothing to ask"), which is kept too.
    as_arrow : return the Arrow table with Ibis's types instead of the frame that
        ``expr.execute()`` gives.

    Returns
    -------
    The frame (or Arrow table), or None when ``build`` returned None.

    Raises
    ------
    RuntimeError
        When a marker survived compilation (Ibis rewrote it): such SQL is never run or kept.
    """
    with _lock:
        found = key in _kept
        compiled = _kept.get(key)
    if not found:
        compiled = _compile(con, build())
        with _lock:
            if len(_kept) >= LIMIT:
                _kept.pop(next(iter(_kept)))
            _kept[key] = compiled
    if compiled is None:
        return None
    sql, used, expr = compiled
    params = {k: v for k, v in marks.values.items() if k in used}
    table = con.con.sql(sql, params=params).to_arrow_table()
    if as_arrow:
        from ibis.backends.duckdb.converter import DuckDBPyArrowData

        return expr.__pyarrow_result__(table, data_mapper=DuckDBPyArrowData)
    return _as_execute(table, expr)


def clear() -> None:
    """Drops every kept SQL text (benchmarks time the first call of a shape with it)."""
    with _lock:
        _kept.clear()


def _compile(
    con: ibis.BaseBackend, expr: ir.Table | None
) -> tuple[str, frozenset[str], ir.Table] | None:
    if expr is None:
        return None
    seen: set[str] = set()

    def to_parameter(node: sge.Expression) -> sge.Expression:
        if isinstance(node, sge.Literal) and node.is_string and node.this.startswith(MARK):
            name = node.this[len(MARK) :]
            seen.add(name)
            return sge.Placeholder(this=name)
        return node

    tree = con.compiler.to_sqlglot(expr).transform(to_parameter)
    sql = tree.sql(dialect=con.dialect)
    if MARK in sql:
        raise RuntimeError("prepared SQL: a parameter marker was not replaced")
    # Some names may not be in the SQL (the group level reads no village table).
    return sql, frozenset(seen), expr


def _as_execute(table: pa.Table, expr: ir.Table) -> pd.DataFrame:
    """The frame ``expr.execute()`` makes of ``table`` on DuckDB (ibis 12's conversion)."""
    import pyarrow.types as pat
    from ibis.backends.duckdb.converter import DuckDBPandasData

    df = pd.DataFrame(
        {
            name: (
                col.to_pylist()
                if pat.is_nested(col.type) or pat.is_dictionary(col.type) or col.null_count
                else col.to_pandas()
            )
            for name, col in zip(table.column_names, table.columns, strict=True)
        }
    )
    df = DuckDBPandasData.convert_table(df, expr.as_table().schema())
    return expr.__pandas_result__(df)
