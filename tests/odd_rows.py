"""A household register of a few hundred rows with every quirk the importer handles, for the
tests that hold the fast paths equal to the per-cell code (test_fast_paths.py,
test_bulk_import.py). Large enough that the column-at-a-time shortcuts apply."""

from __future__ import annotations

import datetime as dt

from tests.builders import (
    PERSON_LIST_HEADER,
    REGISTRY_HEADER,
    SURVEY_DAY,
    make_id,
    person_row,
    registry_row,
)

HEADER = ["序号", *REGISTRY_HEADER, "备注"]
N_PLAIN = 400


def _row(n: int, **kw: object) -> list[object]:
    kw.setdefault("id_number", make_id(n % 1000, birth=f"19{50 + n % 40:02d}0{1 + n % 9}1{n % 9}"))
    kw.setdefault("name", "王" + "明华国建平文"[n % 6] + "一二三四五六七八九十"[n // 6 % 10])
    village = kw.pop("village", f"村{n % 7:02d}")
    group = kw.pop("group", f"{n % 5}组")
    size = kw.pop("size", 1 + n % 7)
    state = kw.pop("state", ("未脱贫", "已脱贫", "一般农户", "脱贫户", "贫困户")[n % 5])
    note = kw.pop("note", None)
    return [n, *registry_row(f"H{n:05d}", village, group, size, state, **kw), note]


def household_rows(text_cells: bool = False) -> list[list[object]]:
    """Header, then plain rows with odd rows among them (cells as a worksheet holds them;
    ``text_cells``: every cell as text, as in a CSV)."""
    rows: list[list[object]] = [list(HEADER)]
    rows.append([None, *range(1, len(HEADER))])  # a column-numbering row
    plain = [_row(n, income=1000 + n * 7.25) for n in range(1, N_PLAIN + 1)]
    odd: dict[int, list[list[object]]] = {
        5: [_row(1001, id_number=make_id(7)[:17] + "1")],  # wrong check character
        9: [_row(1002, id_number="533921800101001")],  # legacy 15 digits
        14: [_row(1003, id_number="53392119850611005x")],  # lower-case x
        20: [_row(1004, size=0)],  # an error: no persons
        26: [_row(1005, state="待定")],  # an error: unknown state
        31: [_row(1006, village=None)],  # an error: no village
        37: [_row(3, name="重复户")],  # a repeated id (H00003)
        44: [["合计", *[None] * 8, 99, *[None] * (len(HEADER) - 10)]],
        50: [[None] * len(HEADER)],  # an empty row
        61: [_row(1007, size="４人", income="3,200")],
        66: [_row(1008, income="不详", date="2019年7月8日")],
        72: [_row(1009, name="张 三", village="孔兴 村")],
        80: [_row(1010, adjustment="新增", state="未脱贫")],  # contradiction (warning)
        85: [_row(1011, finding="错退", state="已脱贫")],
        90: [list(HEADER)],  # the header again
        95: [_row(1012, id_number="5.33921E+17")],  # an ID written from a number cell
        101: [_row(1013, approval="不清楚", date="下周")],
        110: [_row(1014, township=None)],  # no township in the cell
        120: [_row(1015, note="（示例）")],
        130: [_row(1016, id_number="53392119801345001" + "3")],  # no such birth date
        140: [["（示例）户", *_row(1017)[1:]]],  # the template's example row
        150: [_row(1018, id_number=" 5339 2119 7512 0300 27 ")],
        160: [_row(1019, finding="正确", adjustment="无")],
        170: [_row(1002, name="又一户")],  # repeats an odd row's id
        175: [_row(1021, name="张\u202e三", village="村0\u200b1")],  # invisible characters
        180: [_row(1022, name="长" * 32_767)],  # exactly Excel's cell limit: probably cut off
        333: [_row(1020, date=dt.datetime(2019, 7, 1, 10, 30))],
    }
    for i, row in enumerate(plain):
        rows.extend(odd.get(i, []))
        rows.append(row)
    rows.append(["审核人：李四", None, None, "填表人：王五", *[None] * (len(HEADER) - 4)])
    rows.append(["注：本表按户填写", *[None] * (len(HEADER) - 1)])
    if text_cells:
        rows = [[_text(v) for v in r] for r in rows]
    return rows


# A household-level copy of the national person list (one row per household: no 人编号, no
# 与户主关系) with an explicit 动态管理结果 beside 脱贫属性 and 户类型.
EXPORT_HEADER = [
    *(h for h in PERSON_LIST_HEADER if h not in ("人编号", "与户主关系")),
    "动态管理结果",
]
_STATES = (("未脱贫", "贫困户"), ("已脱贫", "脱贫户"), ("预脱贫", "贫困户"), ("返贫", "脱贫户"))
_MONTHS = (201403, 201512.0, "2016-09", "2017年3月", "201811")


def _export_row(n: int, adjustment: object = None, **kw: object) -> list[object]:
    state, kind = _STATES[n % len(_STATES)]
    kw.setdefault("state", state)
    kw.setdefault("household_type", kind)
    kw.setdefault("size", 1 + n % 6)
    kw.setdefault("income", 2800 + n * 3.5)
    kw.setdefault("first_identified", _MONTHS[n % len(_MONTHS)])
    kw.setdefault("id_number", make_id(n % 1000, birth=f"19{50 + n % 40:02d}0{1 + n % 9}1{n % 9}"))
    row = person_row(n, **kw)
    return [*(v for i, v in enumerate(row) if i not in (6, 10)), adjustment]


def _wrong_check(id_number: str) -> str:
    """An ID number with a check character that is not its own."""
    return id_number[:17] + ("1" if id_number[17] != "1" else "2")


def export_rows(text_cells: bool = False) -> list[list[object]]:
    """Header (``EXPORT_HEADER``, on row 1), then plain rows with odd ones among them: the
    registry state from 脱贫属性 and 户类型, implied and explicit adjustments, months, ID
    columns holding disability certificate numbers, 无 / — as empty cells."""
    rows: list[list[object]] = [list(EXPORT_HEADER)]
    odd: dict[int, list[list[object]]] = {
        3: [_export_row(1001, state=None, household_type="一般农户")],  # state from 户类型
        7: [_export_row(1002, state="未脱贫", household_type="脱贫户")],  # disagree
        11: [_export_row(1003, state="预脱贫", household_type=None)],  # 户类型 blank
        15: [_export_row(1004, "剔除", state="返贫")],  # explicit adjustment wins
        19: [_export_row(1005, "拟退出", state="预脱贫")],  # agrees with the implied one
        23: [_export_row(1006, state=None, household_type=None)],  # an error: no state
        27: [_export_row(1007, first_identified="2014年13月")],  # no such month
        31: [_export_row(1008, id_number=make_id(8) + "42")],  # a disability certificate
        35: [_export_row(1009, id_number=_wrong_check(make_id(9)) + "42")],  # its ID is wrong
        39: [_export_row(1010, group="/", income="无", first_identified="—", attribute="——")],
        43: [_export_row(1011, household_type="普通农户", state="已脱贫")],  # disagree
        47: [_export_row(1012, state="拟脱贫", household_type="脱贫户")],  # disagree, implied
        51: [_export_row(1013, "新增", state="未脱贫")],  # contradiction (warning)
        55: [_export_row(1014, household_type="返贫")],  # 户类型 naming an adjustment too
    }
    for i in range(1, N_PLAIN + 1):
        rows.extend(odd.get(i, []))
        rows.append(_export_row(i))
    if text_cells:
        rows = [[_text(v) for v in r] for r in rows]
    return rows


def _text(v: object) -> object:
    if v is None:
        return None
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M")
    if isinstance(v, dt.date):
        return f"{v.year}/{v.month}/{v.day}"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


__all__ = ["EXPORT_HEADER", "HEADER", "N_PLAIN", "SURVEY_DAY", "export_rows", "household_rows"]
