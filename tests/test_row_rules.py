"""Row rules, each one entry of analytics/importing/row_rules.py that the three import paths
(per row, per column, SQL) all consume: a new rule is one entry, and every path obeys it."""

from __future__ import annotations

import itertools
import json

import duckdb
import pytest

from analytics.domain import labels, schema
from analytics.importing import bulk, ingest, locate, row_rules, sheets, validate, worker
from analytics.store.database import Store
from tests.builders import HOUSEHOLD_HEADER, csv_bytes, household

HOUSEHOLDS = schema.TABLES["households"]


def _parse(rows: list[list[object]], spellings=schema.NO_SPELLINGS, *, by_column: bool):
    grid = sheets.Grid(file="a.csv", sheet="CSV", rows=rows, width=len(rows[0]))
    located = locate.locate(grid, spellings)
    assert isinstance(located, locate.LocatedTable)
    return validate.Validator("诗礼乡").parse(located, by_column=by_column)


def test_a_header_repeated_in_an_offices_spellings_is_skipped_by_both_paths():
    # The column path looked up repeated headers without the office's spellings: this row,
    # the header again in the office's words, was loaded as a household there and skipped
    # as a repeated header by the per-row path.
    spellings = {"所在乡": "township", "村别": "village", "所在组": "group", "当家人": "head_name"}
    lookup = schema.header_lookup(HOUSEHOLDS)
    assert not any(schema.header_key(s) in lookup for s in spellings)  # none is built in
    header = ["所在乡", "村别", "所在组", "户编号", "当家人", "家庭人口数", "建档立卡状态"]
    data = [["诗礼乡", "孔兴村", "一组", f"H{n}", "张三", 4, "未脱贫"] for n in range(1, 6)]
    again = ["所在乡", "村别", "所在组", "H9", "当家人", 4, "未脱贫"]
    rows = [header, *data[:3], again, *data[3:]]
    by_row = _parse([list(r) for r in rows], spellings, by_column=False)
    by_column = _parse([list(r) for r in rows], spellings, by_column=True)
    assert (len(by_row.rows), by_row.skipped["header"]) == (5, 1)
    assert (len(by_column.rows), by_column.skipped["header"]) == (5, 1)


# ------------------------------------------------------- a made-up rule, one entry
def _no_forbidden_check(row: row_rules.Row, sheet: row_rules.Sheet):
    if row.values.get("village") == "禁入村":
        yield "E_MADE_UP", "village", "禁入村", {}


def _no_forbidden_column(columns, n, sheet):
    villages = columns.get("village") or [None] * n
    return (j for j, v in enumerate(villages) if v == "禁入村")


def _no_forbidden_sql(sheet):
    return ["\"village\" = '禁入村'"] if "village" in sheet.fields else []


@pytest.fixture
def made_up_rule(monkeypatch):
    rule = row_rules.RowRule(
        "E_MADE_UP",
        frozenset({"households"}),
        _no_forbidden_check,
        _no_forbidden_column,
        _no_forbidden_sql,
    )
    monkeypatch.setattr(row_rules, "ROW_RULES", (*row_rules.ROW_RULES, rule))
    monkeypatch.setitem(row_rules.SEVERITY, "E_MADE_UP", row_rules.ERROR)
    monkeypatch.setitem(labels.LABELS, "msg_E_MADE_UP", ("禁入村", "a made-up rule"))
    return rule


def _register() -> list[list[object]]:
    rows = [HOUSEHOLD_HEADER] + [household(n) for n in range(1, 40)]
    rows[20] = household(20, village="禁入村")
    return rows


def test_a_new_row_rule_is_one_entry_the_per_row_and_column_paths_obey(made_up_rule):
    for by_column in (False, True):
        parsed = _parse(_register(), by_column=by_column)
        assert (len(parsed.rows), len(parsed.rejected)) == (38, 1), by_column
        assert parsed.rejected[0]["source_row"] == 21
        assert [p.code for p in parsed.problems] == ["E_MADE_UP"]


def _in_this_process(file_name, job, payloads, limits):
    """worker._call without the worker: the job runs here, where the made-up rule is."""
    head, messages = worker._JOBS[job["kind"]](job, list(payloads), limits)
    return json.loads(json.dumps({"ok": True, **head}, ensure_ascii=False)), messages


def test_a_new_row_rule_is_one_entry_the_bulk_path_obeys(made_up_rule, tmp_path, monkeypatch):
    monkeypatch.setattr(bulk, "LARGE_SHARE", -1.0)  # every column through its SQL shortcut
    monkeypatch.setattr(worker, "_call", _in_this_process)
    path = tmp_path / "户信息.csv"
    path.write_bytes(csv_bytes(_register()))
    store = Store(tmp_path / "db.duckdb")
    try:
        report = bulk.import_path(store, path, "R", township="诗礼乡", allow_partial=True)
        normal = ingest.import_file(
            Store(tmp_path / "n.duckdb"), "户信息.csv", path.read_bytes(), "R", allow_partial=True
        )
    finally:
        store.close()
    assert (report.loaded, report.rejected) == (38, 1)
    assert [(p.row, p.code) for p in report.problems] == [(21, "E_MADE_UP")]
    assert (normal.loaded, normal.rejected) == (38, 1)


# ------------------------------------------------- each rule's forms agree
# Registry states as a cell gives them: plain, or naming an adjustment too (脱贫属性 预脱贫).
_STATES = (None, "remaining_poor", "exited", "nonregistered", *schema.STATES_WITH_ADJUSTMENT)


def _values() -> list[dict]:
    """Rows of parsed household values covering each rule's cases."""
    out = []
    outcomes = (None, "new", "relapse", "exit_proposed", "removed", "inclusion_error")
    for state, kind, outcome, township, size in itertools.product(
        _STATES,
        (None, "exited", "nonregistered", "remaining_poor+exit_proposed"),  # 户类型
        (*outcomes, "wrongful_exit"),
        (None, "诗礼乡"),
        (None, 4),
    ):
        out.append(
            {
                "household_id": "H1",
                "village": "孔兴村",
                "household_size": size,
                "registry_state": state,
                "household_type": kind,
                "township": township,
                "adjustment": outcome if outcome in schema.ADJUSTMENTS else None,
                "verification": outcome if outcome in schema.FINDINGS else None,
            }
        )
    return out


def _fires(rule: row_rules.RowRule, values: dict, sheet: row_rules.Sheet) -> bool:
    """Whether ``rule``'s check finds a problem on a row, or changes its values (fills in a
    township, takes the state from 户类型, splits a state that names an adjustment)."""
    row = row_rules.Row(dict(values), set(), ("CSV", 2))
    return bool(list(rule.check(row, sheet))) or row.values != values


@pytest.mark.parametrize("township", [None, "勐佑镇"])
@pytest.mark.parametrize(
    "rule",
    # the household rules within one row (UNIQUE_ID across rows: tests/test_repeated_ids.py)
    [r for r in row_rules.ROW_RULES if "households" in r.tables and r is not row_rules.UNIQUE_ID],
    ids=lambda r: r.code,
)
def test_each_rules_column_and_sql_forms_flag_every_row_its_check_fires_on(rule, township):
    values = _values()
    fields = frozenset(values[0])
    sheet = row_rules.Sheet(HOUSEHOLDS, fields, township)
    fires = [_fires(rule, v, sheet) for v in values]
    assert any(fires)
    flagged = rule.column({k: [v[k] for v in values] for k in fields}, len(values), sheet)
    flagged = set(range(len(values))) if flagged is None else set(flagged)
    assert {j for j, f in enumerate(fires) if f} <= flagged
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE t (j INT, " + ", ".join(f'"{k}" VARCHAR' for k in sorted(fields)) + ")"
    )
    con.executemany(
        f"INSERT INTO t VALUES (?{', ?' * len(fields)})",
        [[j, *(v[k] for k in sorted(fields))] for j, v in enumerate(values)],
    )
    conditions = rule.sql(sheet) or ["FALSE"]
    in_sql = {
        j for (j,) in con.execute(f"SELECT j FROM t WHERE {' OR '.join(conditions)}").fetchall()
    }
    assert {j for j, f in enumerate(fires) if f} <= in_sql
