"""The situation report (analytics/output/report.py) on the demo township, 诗礼乡.

The seed's figures (../shared/DOMAIN.md, "The seed's figures") are written here by hand;
a one-village report and the remedies are checked against counts this file makes itself
from the demo's workbook cells (openpyxl), never against the product's own queries.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Iterator

import docx
import openpyxl
import pandas as pd
import pytest
from docx.oxml.ns import qn

from analytics.domain.settings import Settings
from analytics.fixtures.demo import load_demo
from analytics.fixtures.demo_data import write_demo_workbooks
from analytics.output import report
from analytics.store.database import Store

DYNAMICS = "2017年动态管理"
CHECK = "2017年精准核查"
TODAY = dt.date(2017, 7, 14)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = Store(tmp_path_factory.mktemp("report") / "demo.duckdb")
    load_demo(s)
    yield s
    s.close()


@pytest.fixture(scope="module")
def check_cells(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple]]:
    """The check round's workbook, as its cells: sheet -> data rows (village cells merged
    down filled in), read with openpyxl, not with the importer."""
    folder = tmp_path_factory.mktemp("cells")
    path = dict((r, p) for p, r in write_demo_workbooks(folder))[CHECK]
    book = openpyxl.load_workbook(path)
    out: dict[str, list[tuple]] = {}
    for ws in book.worksheets:
        for rng in list(ws.merged_cells.ranges):
            value = ws.cell(rng.min_row, rng.min_col).value
            ws.unmerge_cells(str(rng))
            for row in ws.iter_rows(
                min_row=rng.min_row, max_row=rng.max_row, min_col=rng.min_col, max_col=rng.max_col
            ):
                for cell in row:
                    cell.value = value
        out[ws.title] = list(ws.iter_rows(values_only=True))
    return out


def _village_by_hand(cells: dict[str, list[tuple]], village: str) -> dict[str, object]:
    """One village's figures counted from the cells: columns B 行政村, D 户编号, G 家庭人口数,
    H 建档立卡状态, R 核查结论 (a finding counts inside its own state only)."""
    rows = [r for r in cells["户信息"][4:] if r[3] and r[1] == village]
    persons = {"hh": 0, "pp": 0}
    n: dict[str, list[int]] = {}

    def add(key: str, size: int) -> None:
        n.setdefault(key, [0, 0])
        n[key][0] += 1
        n[key][1] += size

    for r in rows:
        size, state, finding = int(r[6]), r[7], r[17]
        persons["hh"] += 1
        persons["pp"] += size
        registered = state in ("未脱贫", "已脱贫")
        add("registered" if registered else "other", size)
        if state == "已脱贫":
            add("exited", size)
        if state == "未脱贫":
            add("remaining", size)
        if finding == "错评" and registered:
            add("inclusion", size)
        if finding == "漏评" and state == "非建档立卡":
            add("exclusion", size)
        if finding == "错退" and state == "已脱贫":
            add("wrongful", size)
    rural = next(r[4] for r in cells["村基本情况"][2:] if r[0] == village)
    get = {key: [0, 0] for key in ("inclusion", "exclusion", "wrongful", "remaining", "exited")}
    get |= n
    poor = get["remaining"][1] + get["exclusion"][1] + get["wrongful"][1]
    return {
        "households": persons["hh"],
        "persons": persons["pp"],
        "inclusion": get["inclusion"],
        "exclusion": get["exclusion"],
        "wrongful": get["wrongful"],
        "inclusion_rate": get["inclusion"][1] / n["registered"][1],
        "exclusion_rate": get["exclusion"][1] / n["other"][1],
        "comprehensive_rate": poor / rural,
    }


@pytest.fixture(scope="module")
def dynamics_md(store: Store) -> str:
    return report.to_markdown(report.build_report(store, DYNAMICS, today=TODAY))


@pytest.fixture(scope="module")
def check_report(store: Store) -> report.Report:
    return report.build_report(store, CHECK, today=TODAY)


def test_dynamics_round_carries_the_seed_figures(dynamics_md: str) -> None:
    assert dynamics_md.startswith("# 诗礼乡2017年动态管理情况报告\n")
    assert "2017年7月14日" in dynamics_md
    for figure in ("114场", "1329人次", "拟退出7户32人", "返贫11户47人", "新增86户297人"):
        assert figure in dynamics_md, figure
    assert "乡村两级共召开贫情分析会议114场1329人次" in dynamics_md
    # The two phases of the seed, each from its first meeting date.
    assert "6月28日起开展第一阶段贫情分析工作" in dynamics_md
    assert "7月6日起开展第二阶段实地调查工作" in dynamics_md
    assert "调查及会议日期：2017年6月28日至7月13日" in dynamics_md


def test_check_round_carries_the_seed_figures(check_report: report.Report) -> None:
    md = report.to_markdown(check_report)
    assert check_report.title == "诗礼乡2017年精准核查情况报告"
    for figure in (
        "漏评户178户548人",
        "返贫1户2人",
        "错评户74户324人",
        "错评率5.23%",
        "错退户1户4人",
        "错退率0.06%",
    ):
        assert figure in check_report.section("三、").paragraphs[0], figure
        assert figure in md
    relocation = "\n".join(check_report.section("四、").paragraphs)
    assert "集中安置点1个" in relocation
    assert "搬迁安置13户54人" in relocation
    assert "超标3户14人" in relocation


def test_relocation_remedies_match_the_households(
    check_cells: dict[str, list[tuple]], check_report: report.Report
) -> None:
    # The relocation sheet's cells: F 搬迁人口, G 住房面积, H 整改措施; over = area > 25 x persons
    rows = [r for r in check_cells["易地扶贫搬迁"][2:] if r[0]]
    over = [r for r in rows if float(r[6]) > 25 * int(r[5])]
    assert len(over) == 3  # the seed's three over-standard households
    text = "\n".join(check_report.section("四、").paragraphs)
    remedies = [r[7] for r in over if r[7]]
    for remedy in set(remedies):
        assert f"{remedy}{remedies.count(remedy)}户" in text
    pending = len(over) - len(remedies)
    assert (f"尚未落实整改措施{pending}户" in text) == (pending > 0)


def test_rates_above_ceilings_are_flagged(check_report: report.Report) -> None:
    findings = check_report.section("三、").paragraphs[0]
    assert "错评率5.23%（高于2.00%的限值）" in findings
    assert "错退率0.06%（" not in findings  # 0.06% is under its 2% ceiling
    table = check_report.section("五、").tables[0].frame
    assert list(table.columns) == ["行政村", "指标", "数值", "限值"]
    # Every flagged value is above the limit it is shown with.
    for row in table.itertuples(index=False):
        value, limit = float(row.数值.rstrip("%")), float(row.限值.strip("≤≥%"))
        assert value > limit if row.限值.startswith("≤") else value < limit


def test_ceilings_come_from_the_settings(store: Store) -> None:
    loose = Settings(rate_ceilings=dict.fromkeys(Settings().rate_ceilings, 0.5))
    store.save_settings(loose)
    try:
        rep = report.build_report(store, CHECK, today=TODAY)
    finally:
        store.save_settings(Settings())
    attention = rep.section("五、")
    assert attention.tables == []
    assert "各村各项指标均未超限" in attention.paragraphs[0]
    assert "错评率5.23%（" not in rep.section("三、").paragraphs[0]


def test_latest_round_by_default_and_unknown_round(store: Store) -> None:
    rep = report.build_report(store, today=TODAY)
    assert rep.round_name == store.latest_round() == DYNAMICS
    with pytest.raises(KeyError):
        report.build_report(store, "1999年不存在的批次")


def test_one_village_carries_its_own_figures(
    store: Store, check_cells: dict[str, list[tuple]]
) -> None:
    rep = report.build_report(store, CHECK, villages=("三合村",), today=TODAY)
    md = report.to_markdown(rep)
    v = _village_by_hand(check_cells, "三合村")
    assert rep.title == "诗礼乡三合村2017年精准核查情况报告"
    expected = [
        f"入户调查{v['households']}户{v['persons']}人",
        f"漏评户{v['exclusion'][0]}户{v['exclusion'][1]}人",
        f"错评户{v['inclusion'][0]}户{v['inclusion'][1]}人",
        f"错评率{v['inclusion_rate'] * 100:.2f}%",
        f"错退户{v['wrongful'][0]}户{v['wrongful'][1]}人",
        f"漏评率{v['exclusion_rate'] * 100:.2f}%",
        f"综合贫困发生率{v['comprehensive_rate'] * 100:.2f}%",
    ]
    for figure in expected:
        assert figure in md, figure
    for township_total in ("5802户", "漏评户178户548人", "错评户74户324人", "错评率5.23%"):
        assert township_total not in md
    table = rep.section("六、").tables[0].frame
    assert table["行政村"].tolist() == ["三合村"]
    assert table.loc[0, "错评(户/人)"] == f"{v['inclusion'][0]}/{v['inclusion'][1]}"


def test_per_village_table_sums_to_the_township(check_report: report.Report) -> None:
    table = check_report.section("六、").tables[0].frame
    assert len(table) == 15  # 14 villages and the total
    assert table.iloc[-1]["行政村"] == "合计"
    assert table.iloc[-1]["漏评(户/人)"] == "178/548"
    assert table.iloc[-1]["错退率"] == "0.06%"
    per_village = table.iloc[:-1]["错评(户/人)"].str.split("/", expand=True).astype(int)
    assert per_village.sum().tolist() == [74, 324]


def test_empty_sections_say_so(store: Store, check_report: report.Report) -> None:
    dynamics = report.build_report(store, DYNAMICS, today=TODAY)
    assert dynamics.section("四、").blocks == [
        "本批次未导入易地扶贫搬迁数据（无此表或各行均未通过校验）。"
    ]
    # The dynamic round's files have no finding recorded: not checked, and no figure for it.
    assert dynamics.section("三、").paragraphs[0].startswith("本批次未核查")
    assert not re.search(r"(错评|漏评|错退)率\d", dynamics.text())
    [unjudged] = [p for p in dynamics.section("五、").paragraphs if "未作判断" in p]
    assert all(name in unjudged for name in ("错评率", "漏评率", "错退率"))
    # The check round has no meeting table: the work section says so in one line.
    assert (
        check_report.section("一、").paragraphs[0]
        == "本批次未导入会议记录（无此表或各行均未通过校验）。"
    )
    nothing = report.build_report(store, CHECK, villages=("无此村",), today=TODAY)
    assert [s.heading[:2] for s in nothing.sections] == [
        "一、",
        "二、",
        "三、",
        "四、",
        "五、",
        "六、",
    ]
    assert all(s.paragraphs for s in nothing.sections)
    assert nothing.section("六、").paragraphs == ["本批次无分村调查数据。"]


def test_anomalies_are_counted_never_listed(store: Store) -> None:
    id_number = "533921198001010010"
    anomalies = pd.DataFrame(
        {
            "level": ["household"] * 4,
            "township": ["诗礼乡"] * 4,
            "village": ["三合村", "三合村", "三合村", "孔兴村"],
            "household_id": ["H1", "H1", "H2", "H3"],
            "rule": ["income_low", "id_bad", "income_low", "income_low"],
            "name": [
                "脱贫户收入低于贫困线",
                "身份证号有误",
                "脱贫户收入低于贫困线",
                "脱贫户收入低于贫困线",
            ],
            "name_en": ["Exited below line", "Bad ID", "Exited below line", "Exited below line"],
            "severity": ["warning", "error", "warning", "warning"],
            "message": [f"户主张大山 {id_number}", "李小花", "王五", "赵六"],
        }
    )
    rep = report.build_report(store, CHECK, anomalies=anomalies, today=TODAY)
    md = report.to_markdown(rep)
    for secret in (id_number, "张大山", "李小花", "王五", "赵六", "H1"):
        assert secret not in md
    by_rule = rep.section("五、").tables[1].frame
    assert by_rule.iloc[0].tolist() == ["脱贫户收入低于贫困线", "警告", "3", "3", "2"]
    assert by_rule.iloc[1].tolist() == ["身份证号有误", "错误", "1", "1", "1"]
    by_village = rep.section("五、").tables[2].frame
    assert by_village.iloc[0].tolist() == ["三合村", "3", "2", "2"]
    assert "发现疑似问题4条，涉及3户" in md
    # A one-village report counts that village's rows only.
    one = report.build_report(store, CHECK, ("孔兴村",), anomalies, today=TODAY)
    assert "发现疑似问题1条，涉及1户" in report.to_markdown(one)
    none = report.build_report(store, CHECK, anomalies=anomalies.iloc[:0], today=TODAY)
    assert "未发现疑似问题数据" in report.to_markdown(none)


def test_docx_reopens_with_title_tables_and_figures(check_report: report.Report) -> None:
    data = report.to_docx(check_report)
    assert data[:2] == b"PK"
    doc = docx.Document(io.BytesIO(data))
    paragraphs = [p.text for p in doc.paragraphs]
    assert paragraphs[0] == "诗礼乡2017年精准核查情况报告"
    assert doc.core_properties.title == "诗礼乡2017年精准核查情况报告"
    assert "一、工作开展情况" in paragraphs
    headers = [[c.text for c in t.rows[0].cells] for t in doc.tables]
    assert ["行政村", "指标", "数值", "限值"] in headers
    village = next(h for h in headers if "错评率" in h)
    assert village[0] == "行政村" and "漏评(户/人)" in village
    text = "\n".join(paragraphs)
    for figure in ("漏评户178户548人", "错评户74户324人", "错评率5.23%", "错退率0.06%", "13户54人"):
        assert figure in text
    # An East Asian font is set, so Word shows the Chinese text in it.
    fonts = doc.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == report.BODY_FONT
    heading = doc.styles["Heading 1"].element.rPr.rFonts
    assert heading.get(qn("w:eastAsia")) == report.HEADING_FONT
    assert heading.get(qn("w:eastAsiaTheme")) is None


def test_no_id_number_in_any_report(dynamics_md: str, check_report: report.Report) -> None:
    for md in (dynamics_md, report.to_markdown(check_report)):
        assert not re.search(r"\d{15,}", md)


def test_formatting() -> None:
    assert report.fmt_rate(0.0523) == "5.23%"
    assert report.fmt_rate(None) == report.fmt_rate(float("nan")) == "—"
    assert report.fmt_span(dt.date(2017, 7, 12), dt.date(2017, 7, 13)) == "2017年7月12日至13日"
    assert report.fmt_span("2017-06-28", "2017-07-05", year=False) == "6月28日至7月5日"
    assert report.fmt_span(dt.date(2017, 7, 6), dt.date(2017, 7, 6)) == "2017年7月6日"
    assert report.fmt_span(None, None) == ""
