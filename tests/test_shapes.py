"""The header lookup knows the shape of the sheet it reads (schema.Shape): the same header
means different fields on sheets of different shapes. Made-up shapes here; the national
exports' shapes come with their own issue."""

from __future__ import annotations

from analytics.domain import schema
from analytics.importing import locate, sheets, validate

# A made-up table: a household's members, whose 姓名 is the member's on a member sheet.
MEMBERS = schema.Table(
    key="members",
    label="家庭成员",
    fields=(
        schema.HOUSEHOLD_ID,
        schema.HEAD_NAME,  # 户主姓名, also spelled 户主, 姓名, 户主名
        schema.Field("member_name", "成员姓名"),
        schema.Field("member_type", "户类型"),
    ),
    signatures=(frozenset({"household_id"}),),
)
MEMBER_SHEET = schema.Shape("member", "成员表", {"姓名": "member_name"})
# On a made-up monitoring export 户类型 is no registry state, and 姓名 is nobody's; nor is
# 农户类别, an office's own spelling of the registry state.
MONITORING = schema.Shape(
    "monitoring", "监测对象", {"户类型": None, "姓名": None, "农户类别": None}
)


def test_a_header_means_the_field_its_sheets_shape_says():
    assert schema.header_lookup(MEMBERS)["姓名"] == "head_name"  # the table's own spelling
    assert schema.header_lookup(MEMBERS, shape=MEMBER_SHEET)["姓名"] == "member_name"
    assert schema.header_lookup(MEMBERS, shape=MEMBER_SHEET)["户主姓名"] == "head_name"


def test_a_shape_can_say_a_header_means_no_field_whatever_the_office_confirmed():
    households = schema.TABLES["households"]
    office = {"农户类别": "registry_state"}
    lookup = schema.header_lookup(households, office, MONITORING)
    assert "农户类别" not in lookup and "户类型" not in lookup and "姓名" not in lookup
    assert schema.header_lookup(households, office)["农户类别"] == "registry_state"


def test_a_shape_names_no_field_of_another_table():
    # member_name is no household field: on a household sheet the shape's line is ignored
    assert schema.header_lookup(schema.TABLES["households"], shape=MEMBER_SHEET)["姓名"] == (
        "head_name"
    )


def _grid() -> sheets.Grid:
    rows = [
        ["乡镇", "行政村", "户编号", "姓名", "家庭人口数", "户类型"],
        ["诗礼乡", "孔兴村", "H1", "张三", 4, "未脱贫"],
        ["诗礼乡", "孔兴村", "H2", "李四", 3, "脱贫户"],
    ]
    return sheets.Grid(file="a.csv", sheet="CSV", rows=rows, width=6)


def test_the_sheets_shape_decides_its_columns_and_its_rows_values():
    as_template = locate.locate(_grid())
    assert isinstance(as_template, locate.LocatedTable)
    assert as_template.columns[3] == "head_name" and as_template.columns[5] == "registry_state"
    as_monitoring = locate.locate(_grid(), shape=MONITORING)
    assert isinstance(as_monitoring, locate.LocatedTable)
    assert 3 not in as_monitoring.columns and 5 not in as_monitoring.columns
    assert as_monitoring.unused_headers == ["姓名", "户类型"]
    assert as_monitoring.lookup() == schema.header_lookup(as_monitoring.table, shape=MONITORING)
    parsed = validate.Validator().parse(as_monitoring)
    assert [r.get("head_name") for r in parsed.rows] == []  # no registry state: rejected
    assert [r["source_row"] for r in parsed.rejected] == [2, 3]
