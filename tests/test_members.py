"""Household members (issue 14): person-level sheets recognised and rolled up into
households, persons = member rows, members stored with their batch, exported masked.

Every workbook is built here, a few rows each; expected figures are counted by hand
(../shared/DOMAIN.md "What offices really export: one row per person").
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import sys
from pathlib import Path

import pytest

from analytics.domain import schema
from analytics.figures import queries
from analytics.figures.filters import Filters
from analytics.importing import ingest, validate
from analytics.store import backup
from analytics.store.database import Store
from tests.builders import (
    codes,
    inspect,
    make_id,
    person_list,
    person_row,
    problems_of,
    workbook_bytes,
    xlsx_bytes,
)

ROOT = Path(__file__).resolve().parent.parent
ROUND = "2019年动态管理"
HID = "530921103001{:04d}".format


def member(n: int, k: int, relation: str, **overrides: object) -> list[object]:
    """Member ``k`` of household ``n`` on a person list: its own 人编号, name and ID."""
    values: dict[str, object] = {
        "pid": f"{HID(n)}{k:02d}",
        "name": f"张{n}{k}",
        "id_number": make_id(10 * n + k),
        "relation": relation,
    }
    values.update(overrides)
    return person_row(n, **values)


# Four households, nine persons (counted by hand):
#   1: 户主, 配偶, 之子, 之女; 未脱贫; 人数 4 on every row
#   2: 户主, 之母; 已脱贫; 人数 3 declared (two member rows: W_SIZE_MEMBERS)
#   3: 本人 alone; 预脱贫 (remaining_poor and exit_proposed)
#   4: 户主, 之子; 户类型 一般农户, no 脱贫属性 (nonregistered)
FOUR_HOUSEHOLDS = [
    member(1, 1, "户主", size=4),
    member(1, 2, "配偶", size=4),
    member(1, 3, "之子", size=4),
    member(1, 4, "之女", size=4),
    member(2, 1, "户主", size=3, state="已脱贫", household_type="脱贫户"),
    member(2, 2, "之母", size=3, state="已脱贫", household_type="脱贫户"),
    member(3, 1, "本人", size=1, state="预脱贫"),
    member(4, 1, "户主", size=2, state=None, household_type="一般农户"),
    # a son's ID number has an odd 17th digit (a man's: no W_RELATION_SEX)
    member(4, 2, "之子", size=2, state=None, household_type="一般农户", id_number=make_id(43)),
]


def _only(report: ingest.FileReport, table: str):
    found = [p for p in report.parsed if p.table == table]
    assert len(found) == 1, [(p.sheet, p.table) for p in report.parsed]
    return found[0]


def _figures(store: Store, round_name: str = ROUND):
    return queries.metrics_frame(store, round_name, "township").iloc[0]


# ------------------------------------------------------------ vocabulary
@pytest.mark.parametrize(
    ("cell", "code"),
    [
        ("户主", "head"),
        ("本人", "head"),
        ("01", "head"),
        (1, "head"),
        ("02", "head"),
        ("配偶", "spouse"),
        ("10", "spouse"),
        ("之子", "son"),
        ("儿子", "son"),
        ("21", "son"),
        ("28", "son_in_law"),
        ("之女婿", "son_in_law"),
        ("之女", "daughter"),
        ("30", "daughter"),
        ("38", "daughter_in_law"),
        ("之儿媳", "daughter_in_law"),
        ("之孙子", "grandson"),
        ("41", "grandson"),
        ("孙女", "granddaughter"),
        ("42", "granddaughter"),
        ("40", "grandchild"),
        ("之父", "father"),
        ("51", "father"),
        ("母亲", "mother"),
        ("50", "parent"),
        ("之祖父", "grandfather"),
        ("之祖母", "grandmother"),
        ("60", "grandparent"),
        ("兄弟姐妹", "sibling"),
        ("之妹", "sibling"),
        ("72", "sibling"),
        ("其他", "other"),
        ("99", "other"),
    ],
)
def test_a_relation_is_read_from_its_spellings_and_gbt_4761_codes(cell, code):
    value, problems = validate.Validator().cell_result(
        "f.xlsx", "S", schema.MEMBERS, "relation", cell, "K 与户主关系"
    )
    assert (value, problems) == (code, ())


@pytest.mark.parametrize(
    ("cell", "code"), [(1, "male"), ("1", "male"), ("男", "male"), (2, "female"), ("女", "female")]
)
def test_a_sex_is_read_from_1_2_and_男_女(cell, code):
    value, problems = validate.Validator().cell_result(
        "f.xlsx", "S", schema.MEMBERS, "sex", cell, "F 性别"
    )
    assert (value, problems) == (code, ())


def test_a_relation_that_is_no_known_word_is_a_warning_and_the_member_is_kept():
    rows = person_list([member(1, 1, "户主"), member(1, 2, "之外甥")])
    report = inspect("人口.xlsx", xlsx_bytes(rows))
    (bad,) = problems_of(report, "W_CODE")
    assert (bad.sheet, bad.row, bad.column, bad.value) == ("户信息", 5, "K 与户主关系", "之外甥")
    members = _only(report, "members").rows
    assert [m["relation"] for m in members] == ["head", None]


# ------------------------------------------------------------ recognising the sheet
def test_a_person_list_is_read_as_households_with_members_beside():
    """姓名 and 证件号码 are the member's on a person list, never the head's."""
    report = inspect("贫困人口明细.xlsx", xlsx_bytes(person_list(FOUR_HOUSEHOLDS)))
    sheet = report.sheets[0]
    assert sheet.table == "households"
    assert sheet.columns["姓名"] == "name" and sheet.columns["证件号码"] == "id_number"
    assert sheet.columns["与户主关系"] == "relation" and sheet.columns["人编号"] == "person_id"
    assert "head_name" not in sheet.columns.values()
    assert (sheet.loaded, sheet.members) == (4, 9)
    households = _only(report, "households").rows
    assert [h["household_id"] for h in households] == [HID(1), HID(2), HID(3), HID(4)]
    assert [h["household_size"] for h in households] == [4, 2, 1, 2]
    members = _only(report, "members").rows
    assert [(m["household_id"], m["relation"]) for m in members][:4] == [
        (HID(1), "head"),
        (HID(1), "spouse"),
        (HID(1), "son"),
        (HID(1), "daughter"),
    ]
    assert members[1]["name"] == "张12" and members[1]["id_number"] == make_id(12)


def test_a_bare_member_sheet_is_a_members_table():
    rows = [
        ["户编号", "人编号", "姓名", "身份证号", "与户主关系", "性别"],
        ["H1", "H101", "王一", make_id(1), "户主", "男"],
        ["H1", "H102", "李二", make_id(2), "配偶", "女"],
    ]
    report = inspect("家庭成员.xlsx", xlsx_bytes(rows, sheet="家庭成员"))
    assert [s.table for s in report.sheets] == ["members"]
    assert report.sheets[0].members == 2
    members = _only(report, "members").rows
    assert [(m["name"], m["relation"], m["sex"]) for m in members] == [
        ("王一", "head", "male"),
        ("李二", "spouse", "female"),
    ]
    assert report.problems == []


def test_sex_and_birth_date_come_from_the_id_number_where_the_sheet_has_no_columns():
    rows = person_list([member(1, 1, "户主", id_number=make_id(11, birth="19750203"))])
    rows.append(member(1, 2, "之女", id_number=make_id(12, birth="20080515")))
    members = _only(inspect("人口.xlsx", xlsx_bytes(rows)), "members").rows
    assert [(m["sex"], m["birth_date"]) for m in members] == [
        ("male", dt.date(1975, 2, 3)),
        ("female", dt.date(2008, 5, 15)),
    ]


# ------------------------------------------------------------ the roll-up
def test_member_rows_of_one_household_are_no_repeated_household_id():
    report = inspect("人口.xlsx", xlsx_bytes(person_list(FOUR_HOUSEHOLDS)))
    assert "E_DUPLICATE_ID" not in codes(report)
    assert report.rejected == 0


def test_a_declared_人数_that_differs_from_the_member_rows_is_a_warning():
    report = inspect("人口.xlsx", xlsx_bytes(person_list(FOUR_HOUSEHOLDS)))
    (size,) = problems_of(report, "W_SIZE_MEMBERS")
    # household 2's 户主 row is Excel row 8 (title, 导出时间, header, then 4 rows of household 1)
    assert (size.file, size.sheet, size.row, size.column) == ("人口.xlsx", "户信息", 8, "J 人数")
    assert HID(2) in size.message and "3" in size.message and "2" in size.message
    assert HID(2) in size.message_en
    assert codes(report) == ["W_SIZE_MEMBERS"]


def test_household_fields_on_the_head_row_only_are_the_households():
    fields = ("county", "township", "village", "group", "size", "state", "attribute")
    blank = dict.fromkeys((*fields, "cause", "income", "first_identified", "household_type"))
    rows = person_list(
        [
            # ID numbers whose 17th digit agrees with 之子 (odd) and 之女 (even)
            member(1, 2, "之子", **blank, id_number=make_id(15)),
            member(1, 1, "户主", size=3),
            member(1, 3, "之女", **blank, id_number=make_id(16)),
        ]
    )
    report = inspect("人口.xlsx", xlsx_bytes(rows))
    assert report.problems == []
    (household,) = _only(report, "households").rows
    assert household["source_row"] == 5  # the 户主 row, not the first
    assert (household["head_name"], household["head_id_number"]) == ("张11", make_id(11))
    assert (household["village"], household["registry_state"]) == ("孔兴村", "remaining_poor")
    assert household["household_size"] == 3


def test_a_member_row_that_contradicts_the_head_row_is_a_warning_and_the_heads_value_is_kept():
    rows = person_list(
        [
            member(1, 1, "户主"),
            member(1, 2, "之子", village="别村"),
            member(1, 3, "之女", village=None),
        ]
    )
    report = inspect("人口.xlsx", xlsx_bytes(rows))
    (bad,) = problems_of(report, "W_MEMBER_DISAGREE")  # the blank village is no disagreement
    assert (bad.sheet, bad.row, bad.column, bad.value) == ("户信息", 5, "D 行政村", "别村")
    assert "孔兴村" in bad.message and "第 4 行" in bad.message
    assert "孔兴村" in bad.message_en and "row 4" in bad.message_en
    (household,) = _only(report, "households").rows
    assert household["village"] == "孔兴村"


def test_a_household_without_a_head_row_takes_its_first_row_with_a_warning():
    rows = person_list([member(1, 2, "配偶", size=2), member(1, 3, "之子", size=2)])
    report = inspect("人口.xlsx", xlsx_bytes(rows))
    (none,) = problems_of(report, "W_NO_HEAD")
    assert (none.row, none.column, none.severity) == (4, "K 与户主关系", "warning")
    # no 户主: national check 3_02_012 (two: 3_02_011), as GitHub Gzuwkj/fuping codes them
    assert "3_02_012" in none.message and "3_02_012" in none.message_en
    (household,) = _only(report, "households").rows
    assert household["source_row"] == 4
    assert len(_only(report, "members").rows) == 2


def test_a_bare_member_sheet_says_which_household_has_no_head_or_two():
    rows = [
        ["户编号", "人编号", "姓名", "证件号码", "与户主关系"],
        ["H1", "H101", "王一", make_id(1), "配偶"],
        ["H1", "H102", "王二", make_id(5), "之子"],  # a man's ID (17th digit odd)
        ["H2", "H201", "李一", make_id(3), "户主"],
        ["H2", "H202", "李二", make_id(4), "户主"],
    ]
    report = inspect("家庭成员.xlsx", xlsx_bytes(rows, sheet="家庭成员"))
    assert [(p.code, p.row, p.column, p.value) for p in report.problems] == [
        ("W_NO_HEAD", 2, "E 与户主关系", "配偶"),
        ("W_TWO_HEADS", 5, "E 与户主关系", "户主"),
    ]
    assert "H1" in report.problems[0].message and "H2" in report.problems[1].message
    assert len(_only(report, "members").rows) == 4


def test_two_heads_in_a_household_are_a_warning_and_both_rows_are_kept():
    rows = person_list([member(1, 1, "户主", size=2), member(1, 2, "户主", size=2)])
    report = inspect("人口.xlsx", xlsx_bytes(rows))
    (two,) = problems_of(report, "W_TWO_HEADS")
    assert (two.row, two.column) == (5, "K 与户主关系")
    assert "第 4 行" in two.message and "3_02_011" in two.message
    assert len(_only(report, "members").rows) == 2
    assert [h["source_row"] for h in _only(report, "households").rows] == [4]


def test_a_member_row_without_a_household_id_is_rejected():
    rows = person_list([member(1, 1, "户主", size=2), member(1, 2, "之子", size=2, hid=None)])
    report = inspect("人口.xlsx", xlsx_bytes(rows))
    (missing,) = problems_of(report, "E_REQUIRED")
    assert (missing.sheet, missing.row, missing.column) == ("户信息", 5, "F 户编号")
    assert report.rejected == 1
    assert [m["source_row"] for m in _only(report, "members").rows] == [4]


def test_a_household_whose_rolled_up_row_has_an_error_is_rejected_with_its_members():
    rows = person_list(
        [member(1, 1, "户主", size=2, village=None), member(1, 2, "之子", size=2, village=None)]
    )
    report = inspect("人口.xlsx", xlsx_bytes(rows))
    assert codes(report) == ["E_REQUIRED"]  # once, for the household: no repeated id
    assert report.loaded == 0 and report.rejected == 2
    rejected = _only(report, "households").rejected
    assert [r["source_row"] for r in rejected] == [4, 5]
    assert rejected[1]["reasons"].startswith(f"所在户（户编号“{HID(1)}”，户信息 第 4 行）")


def test_a_household_split_across_two_sheets_of_a_file_is_one_household():
    sheets = {
        "一": (person_list([member(1, 1, "户主", size=3), member(1, 2, "配偶", size=3)]), ()),
        "二": (person_list([member(1, 3, "之子", size=3), member(2, 1, "户主")]), ()),
    }
    report = inspect("人口.xlsx", workbook_bytes(sheets))
    assert "E_DUPLICATE_ID" not in codes(report) and report.problems == []
    households = [h for p in report.parsed if p.table == "households" for h in p.rows]
    assert [(h["household_id"], h["household_size"]) for h in households] == [
        (HID(1), 3),
        (HID(2), 1),
    ]
    assert [s.members for s in report.sheets] == [2, 2]


# ------------------------------------------------------------ figures from members
def test_figures_of_a_person_list_count_households_and_member_rows(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    try:
        data = xlsx_bytes(person_list(FOUR_HOUSEHOLDS))
        report = ingest.import_file(store, "人口明细.xlsx", data, ROUND)
        assert report.status == "loaded", report.message
        assert store.counts()["households"] == 4 and store.counts()["members"] == 9
        got = _figures(store)
        expected = {
            "households_total": 4,
            "persons_total": 9,
            "registered_households": 3,
            "registered_persons": 7,
            "remaining_poor_households": 2,
            "remaining_poor_persons": 5,
            "exited_households": 1,
            "exited_persons": 2,
            "nonregistered_households": 1,
            "nonregistered_persons": 2,
            "exit_proposed_households": 1,
            "exit_proposed_persons": 1,
            "relapse_households": 0,
        }
        assert {k: got[k] for k in expected} == expected
    finally:
        store.close()


HOUSEHOLD_SHEET = [
    ["乡镇", "行政村", "村民小组", "户编号", "户主姓名", "家庭人口数", "建档立卡状态"],
    ["诗礼乡", "孔兴村", "一组", "H1", "王一", 5, "未脱贫"],
    ["诗礼乡", "孔兴村", "一组", "H2", "赵二", 3, "已脱贫"],
]
MEMBER_SHEET = [
    ["户编号", "人编号", "姓名", "证件号码", "与户主关系"],
    ["H1", "H101", "王一", make_id(1), "户主"],
    ["H1", "H102", "李一", make_id(2), "配偶"],
]


def test_a_household_sheet_and_a_member_sheet_of_one_file_make_one_household_each(tmp_path):
    """H1 declares 5 persons and has 2 member rows: persons 2 (a warning); H2 has no
    members: its 3 declared persons."""
    data = workbook_bytes({"户信息": (HOUSEHOLD_SHEET, ()), "家庭成员": (MEMBER_SHEET, ())})
    store = Store(tmp_path / "s.duckdb")
    try:
        report = ingest.import_file(store, "诗礼乡.xlsx", data, ROUND)
        assert report.status == "loaded", report.message
        (size,) = problems_of(report, "W_SIZE_MEMBERS")
        assert (size.sheet, size.row, size.column) == ("户信息", 2, "F 家庭人口数")
        assert codes(report) == ["W_SIZE_MEMBERS"]
        assert store.counts()["households"] == 2 and store.counts()["members"] == 2
        got = _figures(store)
        assert (got["households_total"], got["persons_total"]) == (2, 5)
        assert (got["remaining_poor_persons"], got["exited_persons"]) == (2, 3)
    finally:
        store.close()


def test_members_from_another_file_of_the_round_are_its_households_persons(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    try:
        first = ingest.import_file(store, "户信息.xlsx", xlsx_bytes(HOUSEHOLD_SHEET), ROUND)
        assert first.status == "loaded"
        assert (_figures(store)["households_total"], _figures(store)["persons_total"]) == (2, 8)
        second = ingest.import_file(
            store, "家庭成员.xlsx", xlsx_bytes(MEMBER_SHEET, sheet="家庭成员"), ROUND
        )
        assert second.status == "loaded", second.message
        got = _figures(store)
        assert (got["households_total"], got["persons_total"]) == (2, 5)
        # members of another round are not this round's persons
        other = ingest.import_file(
            store, "家庭成员.xlsx", xlsx_bytes(MEMBER_SHEET, sheet="家庭成员"), "另一批次"
        )
        assert other.status == "loaded"
        assert _figures(store)["persons_total"] == 5
        listed = queries.table_rows(store, "households", Filters(ROUND))
        assert dict(zip(listed["household_id"], listed["household_size"], strict=True)) == {
            "H1": 2,
            "H2": 3,
        }
        # every household list reads the same persons
        found = queries.search(store, "H1", ROUND)
        assert found["household_size"].tolist() == [2]
        history = queries.household_history(store, "H1")
        assert history["household_size"].tolist() == [2]
        families = queries.household_list(store, Filters(ROUND), family="remaining_poor")
        assert families["household_size"].tolist() == [2]
    finally:
        store.close()


# ------------------------------------------------------------ the store
def test_members_go_with_their_batch(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    try:
        data = xlsx_bytes(person_list(FOUR_HOUSEHOLDS))
        report = ingest.import_file(store, "人口明细.xlsx", data, ROUND)
        kept = ingest.import_file(
            store, "家庭成员.xlsx", xlsx_bytes(MEMBER_SHEET, sheet="家庭成员"), ROUND
        )
        assert store.counts()["members"] == 11
        assert store.delete_batch(report.batch_id)
        assert store.counts()["members"] == 2
        stored = store.cursor().execute("SELECT DISTINCT batch_id FROM members").fetchall()
        assert stored == [(kept.batch_id,)]
    finally:
        store.close()


def test_a_second_member_file_for_the_same_households_is_refused_unless_it_replaces(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    try:
        first = ingest.import_file(
            store, "家庭成员.xlsx", xlsx_bytes(MEMBER_SHEET, sheet="家庭成员"), ROUND
        )
        again = [*MEMBER_SHEET, ["H1", "H103", "王三", make_id(3), "之子"]]
        data = xlsx_bytes(again, sheet="家庭成员")
        refused = ingest.import_file(store, "家庭成员2.xlsx", data, ROUND)
        assert refused.status == "refused" and f"批次号 {first.batch_id}" in refused.message
        assert store.counts()["members"] == 2
        replaced = ingest.import_file(store, "家庭成员2.xlsx", data, ROUND, replace=True)
        assert (replaced.status, replaced.replaced) == ("loaded", [first.batch_id])
        assert store.counts()["members"] == 3
    finally:
        store.close()


def test_a_database_made_before_members_gains_the_table_and_keeps_its_figures(tmp_path):
    path = tmp_path / "v4.duckdb"
    old = Store(path)
    assert ingest.import_file(old, "户信息.xlsx", xlsx_bytes(HOUSEHOLD_SHEET), ROUND).status == (
        "loaded"
    )
    with old.write() as cur:  # as schema version 4 made it
        cur.execute("DROP TABLE members")
    old.close()
    again = Store(path)
    try:
        assert again.counts()["members"] == 0
        got = _figures(again)
        assert (got["households_total"], got["persons_total"]) == (2, 8)
    finally:
        again.close()


def test_backup_and_restore_keep_the_members(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    data = xlsx_bytes(person_list(FOUR_HOUSEHOLDS))
    assert ingest.import_file(store, "人口明细.xlsx", data, ROUND).status == "loaded"
    manifest = backup.backup(store, tmp_path / "out")
    store.close()
    assert manifest.tables["members"] == 9
    backup.restore(tmp_path / "out", tmp_path / "restored.duckdb")
    restored = Store(tmp_path / "restored.duckdb")
    try:
        assert restored.counts()["members"] == 9
        assert _figures(restored)["persons_total"] == 9
    finally:
        restored.close()


# ------------------------------------------------------------ the command line
def _run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_ingest_reports_members_per_sheet_and_export_members_is_masked(tmp_path):
    db, book = tmp_path / "s.duckdb", tmp_path / "人口明细.xlsx"
    book.write_bytes(xlsx_bytes(person_list(FOUR_HOUSEHOLDS)))
    done = _run("ingest", "--db", db, "--round", ROUND, book)
    assert done.returncode == 0, done.stderr
    assert "4 rows valid" in done.stderr and "members loaded: 9" in done.stderr
    out = tmp_path / "members.csv"
    done = _run("export", "members", "--db", db, "--out", out)
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert len(rows) == 9
    assert (
        rows[1]["姓名"] == "张**"
        and rows[1]["证件号码"] == make_id(12)[:6] + "*" * 11 + (make_id(12)[-1])
    )
    assert "出生日期" not in rows[0] and rows[0]["出生年份"] == "1980"
    full = tmp_path / "full.csv"
    done = _run("export", "members", "--db", db, "--out", full, "--unmask")
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(full.read_text(encoding="utf-8-sig"))))
    assert rows[1]["姓名"] == "张12" and rows[1]["证件号码"] == make_id(12)


def test_a_data_date_given_at_upload_is_the_day_the_person_rules_age_members_at():
    # The export says 2019-12-31; the son was born 2019-06-01 (his ID says so).
    son = make_id(7, birth="20190601")
    rows = [
        person_row(1, size=2),
        person_row(1, pid="530921103001000102", relation="之子", id_number=son, size=2),
    ]
    data = xlsx_bytes(person_list(rows))
    own = ingest.inspect_file("人口明细.xlsx", data)
    assert (own.data_date, own.data_date_source) == (dt.date(2019, 12, 31), "title")
    assert "W_BORN_AFTER" not in [p.code for p in own.problems]
    # Given at upload as 2019-01-01: the son is not born yet on the day the figures are of.
    given = ingest.inspect_file("人口明细.xlsx", data, data_date=dt.date(2019, 1, 1))
    assert (given.data_date, given.data_date_source) == (dt.date(2019, 1, 1), "upload")
    born_after = [p for p in given.problems if p.code == "W_BORN_AFTER"]
    assert [(p.sheet, p.row) for p in born_after] == [(own.sheets[0].sheet, 5)]


def test_one_person_in_households_of_two_counties_of_one_file_is_the_provinces_check():
    x = make_id(1)
    rows = [
        person_row(1, id_number=x),  # 凤庆县
        person_row(2, county="云县", id_number=make_id(2), size=2),
        person_row(
            2, county="云县", pid="530921103001000202", relation="之子", id_number=x, size=2
        ),
    ]
    report = inspect("人口明细.xlsx", xlsx_bytes(person_list(rows)))
    found = [(p.code, p.row) for p in report.problems if p.code.startswith("W_PERSON_TWO")]
    assert found == [("W_PERSON_TWO_COUNTIES", 4), ("W_PERSON_TWO_COUNTIES", 6)]


@pytest.mark.parametrize("declared", ["无", None, "/"])
def test_a_household_whose_declared_size_is_empty_counts_its_member_rows(declared):
    rows = [
        person_row(1, size=declared),
        person_row(
            1,
            pid="530921103001000102",
            relation="配偶",
            id_number=make_id(2, birth="19820101"),
            size=declared,
        ),
    ]
    report = inspect("人口明细.xlsx", xlsx_bytes(person_list(rows)))
    assert report.rejected == 0
    households = [r for p in report.parsed if p.table == "households" for r in p.rows]
    assert [(h["household_id"], h["household_size"]) for h in households] == [(HID(1), 2)]
    assert "W_SIZE_MEMBERS" not in codes(report)
