"""A sheet whose 户编号 column was filled down by mistake (every row the same household id)
costs work in proportion to its rows: validation is linear, on the normal path and on the
Python side of the bulk path. Work is counted (Python lines run in the validator and the
worker's bulk jobs), never timed; bench/bench_repeated_ids.py has the timings.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from analytics.domain import config
from analytics.importing import bulk, ingest, locate, results, sheets, validate, worker
from tests.builders import HOUSEHOLD_HEADER, household


def filled_down(n: int) -> list[list[str]]:
    """A household sheet of ``n`` rows whose household id is H001 on every row."""
    return [
        list(HOUSEHOLD_HEADER),
        *([str(v) for v in [*household(k)[:4], "H001", *household(k)[5:]]] for k in range(n)),
    ]


def lines_run(run: Callable[[], object], *modules) -> int:
    """How many Python lines of ``modules`` run while ``run()`` runs."""
    files = {m.__file__ for m in modules}
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame, event, arg):
        return local if frame.f_code.co_filename in files else None

    sys.settrace(calls)
    try:
        run()
    finally:
        sys.settrace(None)
    return count


def validation_work(n: int) -> int:
    grid = sheets.Grid(file="a.csv", sheet="CSV", rows=filled_down(n), width=len(HOUSEHOLD_HEADER))
    located = locate.locate(grid)
    parsed: list[results.ParsedTable] = []
    work = lines_run(lambda: parsed.append(validate.Validator("诗礼乡").parse(located)), validate)
    [p] = parsed
    assert (len(p.rows), len(p.rejected)) == (1, n - 1)  # the first loads, every repeat is an error
    assert {q.code for q in p.problems} == {"E_DUPLICATE_ID"}
    return work


def test_validating_a_filled_down_household_id_is_linear_in_rows():
    """4x the rows, about 4x the work (it was 16x: each row scanned every row after it)."""
    small, large = validation_work(1_000), validation_work(4_000)
    assert large < 5 * small, (small, large)


def bulk_work(n: int, tmp_path: Path) -> int:
    """Lines run in the validator and the worker by the bulk path's Python job on ``n``
    filled-down rows of a Parquet file (the job run here, not in a worker, to count it)."""
    rows = filled_down(n)
    path = tmp_path / f"filled{n}.parquet"
    pq.write_table(pa.table({h: [r[c] for r in rows[1:]] for c, h in enumerate(rows[0])}), path)
    plan = bulk._plan(path, path.name, {})
    header_only = replace(plan.located.grid, rows=plan.located.grid.rows[:1])
    job = {
        "file": path.name,
        "located": replace(plan.located, grid=header_only),
        "township": "诗礼乡",
        "sheet": bulk.PARQUET_SHEET,
        "types": plan.types,
    }
    odd = pa.table(
        {
            "row": list(range(2, n + 2)),
            **{f"c{k}": [r[k] for r in rows[1:]] for k in range(len(rows[0]))},
        }
    )
    seen = pa.table({"hid": pa.array([], pa.string()), "first": pa.array([], pa.int64())})
    payloads = [worker._ipc(odd), worker._ipc(seen)]
    out: list = []
    work = lines_run(
        lambda: out.append(worker._job_parse(job, payloads, config.Limits())), validate, worker
    )
    head, messages = out[0]
    parsed = worker._parsed(head["parsed"], *messages)
    assert (len(parsed.rows), len(parsed.rejected)) == (1, n - 1)
    return work


def test_the_bulk_paths_python_side_is_linear_in_rows_of_one_household_id(tmp_path):
    small, large = bulk_work(1_000, tmp_path), bulk_work(4_000, tmp_path)
    assert large < 5 * small, (small, large)


def test_the_bulk_path_refuses_more_odd_rows_than_a_sheet_may_hold(tmp_path, monkeypatch):
    """Every row that is not plainly data goes through the Python validator: more of them
    than POVERTY_MAX_ROWS is refused before any is read into Python, nothing written."""
    from analytics.store.database import Store

    rows = filled_down(120)
    path = tmp_path / "filled.parquet"
    pq.write_table(pa.table({h: [r[c] for r in rows[1:]] for c, h in enumerate(rows[0])}), path)
    store = Store(tmp_path / "db.duckdb")
    before = store.counts()
    monkeypatch.setenv("POVERTY_MAX_ROWS", "100")
    try:
        ingest.import_path(store, path, "R", allow_partial=True)
    except results.LimitError as e:
        assert "filled.parquet" in str(e) and "120 rows need row-by-row checks" in str(
            e
        )  # the first one too
        assert "POVERTY_MAX_ROWS" in str(e)
    else:
        raise AssertionError("not refused")
    assert store.counts() == before
    monkeypatch.setenv("POVERTY_MAX_ROWS", "200")
    report = ingest.import_path(store, path, "R", allow_partial=True)
    assert (report.status, report.loaded, report.rejected) == ("partial", 1, 119)
    store.close()
