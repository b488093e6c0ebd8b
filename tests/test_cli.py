"""The command line, run as a user runs it: ``python -m analytics ...`` in a subprocess.

Machine-readable output goes to standard output alone, reports to standard error; exit
codes of ``ingest``: 0 loaded, 1 refused, 2 unreadable (the worst file decides).
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from analytics.domain.settings import Settings
from analytics.store.database import Store
from tests.builders import relocation_row, survey_row, survey_workbook, workbook_bytes

ROOT = Path(__file__).resolve().parent.parent
JUNE, JULY = "2017年6月核查", "2017年7月动态"
JUNE_DAY, JULY_DAY = dt.date(2017, 6, 5), dt.date(2017, 7, 10)

# June: 4 households, 14 persons. 甲村 (K1 K2 K4, 9 persons), 乙村 (K3, 5 persons).
# Registered: K1 (exited, 4, 错评), K3 (5), K4 (2) -> 11 persons; non-registered K2 (3, 漏评).
JUNE_ROWS = [
    survey_row("K1", "甲村", "一组", 4, "已脱贫", None, "错评", date=JUNE_DAY, approval="是"),
    survey_row("K2", "甲村", "一组", 3, "非建档立卡", None, "漏评", date=JUNE_DAY),
    survey_row("K3", "乙村", "一组", 5, "未脱贫", date=JUNE_DAY),
    survey_row("K4", "甲村", "二组", 2, "未脱贫", date=JUNE_DAY),
]
# July: 2 households, 6 persons: K1 relapses (4 persons), K5 is new (2 persons).
JULY_ROWS = [
    survey_row("K1", "甲村", "一组", 4, "已脱贫", "返贫", date=JULY_DAY),
    survey_row("K5", "甲村", "一组", 2, "非建档立卡", "新增", date=JULY_DAY),
]
# Excel row 3 (E02) has 0 persons: E_POSITIVE_INT. Rows 2 and 4 are valid (3 + 2 persons).
BAD_ROWS = [
    survey_row("E01", "丙村", "一组", 3, "未脱贫", date=JUNE_DAY),
    survey_row("E02", "丙村", "一组", 0, "已脱贫", date=JUNE_DAY),
    survey_row("E03", "丙村", "二组", 2, "非建档立卡", date=JUNE_DAY),
]


def run(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "analytics", *map(str, args)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def files(tmp_path) -> dict[str, Path]:
    out = {
        "june": survey_workbook(JUNE_ROWS),
        "july": survey_workbook(JULY_ROWS),
        "bad": survey_workbook(BAD_ROWS),
        "junk": b"this is not a workbook",
    }
    paths = {}
    for name, data in out.items():
        paths[name] = tmp_path / f"{name}.xlsx"
        paths[name].write_bytes(data)
    return paths


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "cli.duckdb"


def ingest(db: Path, round_name: str, *paths: Path, flags: tuple[str, ...] = ()):
    return run("ingest", "--db", db, "--round", round_name, *flags, *paths)


def metrics_json(db: Path, *args: str) -> list[dict]:
    p = run("metrics", "--db", db, "--format", "json", *args)
    assert p.returncode == 0, p.stderr
    records = json.loads(p.stdout)
    assert isinstance(records, list)
    return records


def batch_id(stderr: str) -> int:
    [found] = re.findall(r"loaded as batch (\d+)", stderr)
    return int(found)


# ------------------------------------------------------------------- ingest
def test_ingest_of_a_valid_file_exits_0_and_writes_nothing_to_stdout(db, files):
    p = ingest(db, JUNE, files["june"])
    assert p.returncode == 0, p.stderr
    assert p.stdout == ""
    assert "june.xlsx: loaded" in p.stderr
    [township] = metrics_json(db, "--by", "township")
    assert (township["households_total"], township["persons_total"]) == (4, 14)


def test_ingest_of_a_file_with_an_error_row_exits_1_and_names_row_and_rule(db, files):
    p = ingest(db, JUNE, files["bad"])
    assert p.returncode == 1
    assert "bad.xlsx: refused" in p.stderr
    assert re.search(r"E_POSITIVE_INT .*row 3\b", p.stderr), p.stderr
    assert metrics_json(db, "--by", "township") == []  # nothing was loaded


def test_ingest_names_the_township_sources_that_disagree_and_the_data_date(db, tmp_path):
    """The households sheet's title says 诗礼乡, the file name 勐佑镇: the relocation sheet,
    which names none, cannot take either; the file name's date is the data date."""
    households = [
        ["凤庆县诗礼乡2017年户信息表", None, None, None],
        ["户编号", "行政村", "家庭人口数", "建档立卡状态"],
        ["H001", "孔兴村", 4, "未脱贫"],
    ]
    relocation = [["户编号", "迁出村", "安置点", "安置方式", "搬迁人口", "住房面积"]]
    relocation.append(["H001", "孔兴村", "小湾安置点", "集中安置", 4, 90])
    path = tmp_path / "勐佑镇户信息_20170713.xlsx"
    path.write_bytes(workbook_bytes({"户信息": (households, []), "搬迁": (relocation, [])}))
    p = ingest(db, JULY, path)
    assert p.returncode == 1
    assert "data as of 2017-07-13 (from the file_name)" in p.stderr
    assert re.search(r"E_TOWNSHIP_UNCLEAR .*搬迁 / row 2\b", p.stderr), p.stderr
    assert "title of sheet '户信息': 诗礼乡; file name: 勐佑镇" in p.stderr


def test_ingest_with_allow_partial_exits_0_and_loads_the_valid_rows(db, files):
    p = ingest(db, JUNE, files["bad"], flags=("--allow-partial",))
    assert p.returncode == 0, p.stderr
    assert "bad.xlsx: partial" in p.stderr
    assert re.search(r"E_POSITIVE_INT .*row 3\b", p.stderr), p.stderr
    [township] = metrics_json(db, "--by", "township")
    assert (township["households_total"], township["persons_total"]) == (2, 5)


def test_ingest_of_the_same_file_again_exits_1(db, files):
    first = ingest(db, JUNE, files["june"])
    assert first.returncode == 0, first.stderr
    again = ingest(db, JUNE, files["june"])
    assert again.returncode == 1
    assert f"batch {batch_id(first.stderr)}" in again.stderr
    [township] = metrics_json(db, "--by", "township")
    assert township["households_total"] == 4


def test_ingest_of_an_unreadable_file_exits_2(db, files, tmp_path):
    assert ingest(db, JUNE, files["junk"]).returncode == 2
    assert ingest(db, JUNE, tmp_path / "missing.xlsx").returncode == 2


def test_ingest_of_several_files_exits_with_the_worst_code(db, files):
    p = ingest(db, JUNE, files["june"], files["bad"])
    assert p.returncode == 1
    assert "june.xlsx: loaded" in p.stderr
    p = ingest(db, JULY, files["junk"], files["july"], files["bad"])
    assert p.returncode == 2
    assert "july.xlsx: loaded" in p.stderr
    assert [r["round"] for r in metrics_json(db, "--by", "township")] == [JULY]


def test_ingest_replace_swaps_the_batch_holding_the_households(db, files, tmp_path):
    first = ingest(db, JUNE, files["june"])
    old = batch_id(first.stderr)
    # K1 again, now with 6 persons, and a new household K9 of 1 person.
    newer = tmp_path / "newer.xlsx"
    newer.write_bytes(
        survey_workbook(
            [
                survey_row("K1", "甲村", "一组", 6, "已脱贫", date=JUNE_DAY),
                survey_row("K9", "乙村", "一组", 1, "未脱贫", date=JUNE_DAY),
            ]
        )
    )
    refused = ingest(db, JUNE, newer)
    assert refused.returncode == 1
    assert f"batch {old}" in refused.stderr
    assert "june.xlsx" in refused.stderr

    swapped = ingest(db, JUNE, newer, flags=("--replace",))
    assert swapped.returncode == 0, swapped.stderr
    assert f"replaced batch {old}" in swapped.stderr
    [township] = metrics_json(db, "--by", "township")
    assert (township["households_total"], township["persons_total"]) == (2, 7)


def test_delete_removes_one_batch_and_its_rows(db, files):
    ingest(db, JUNE, files["june"])
    july = batch_id(ingest(db, JULY, files["july"]).stderr)
    p = run("delete", "--db", db, str(july))
    assert p.returncode == 0, p.stderr
    records = metrics_json(db, "--by", "township")
    assert [(r["round"], r["households_total"]) for r in records] == [(JUNE, 4)]
    assert run("delete", "--db", db, "999").returncode == 1


# ------------------------------------------------------------------ metrics
@pytest.fixture(scope="module")
def two_rounds(tmp_path_factory) -> Path:
    """July imported before June: by date, June is first and July the latest."""
    folder = tmp_path_factory.mktemp("cli-metrics")
    db = folder / "two.duckdb"
    for name, rows, round_name in (("july", JULY_ROWS, JULY), ("june", JUNE_ROWS, JUNE)):
        path = folder / f"{name}.xlsx"
        path.write_bytes(survey_workbook(rows))
        p = ingest(db, round_name, path)
        assert p.returncode == 0, p.stderr
    return db


def test_metrics_json_is_one_array_with_null_for_empty_rates(two_rounds):
    p = run("metrics", "--db", two_rounds, "--round", JUNE, "--by", "village", "--format", "json")
    assert p.returncode == 0, p.stderr
    records = json.loads(p.stdout)
    assert [r["village"] for r in records] == ["乙村", "甲村"]
    yi, jia = records
    # 乙村 has no exited and no non-registered household and no answer: empty rates.
    assert yi["wrongful_exit_rate"] is None
    assert yi["exclusion_error_rate"] is None
    assert yi["approval_rate"] is None
    assert yi["inclusion_error_rate"] == 0.0
    # 甲村: 错评 4 of 6 registered persons; 漏评 3 of 3; no wrongful exit among 4 exited.
    assert jia["inclusion_error_rate"] == pytest.approx(4 / 6)
    assert jia["exclusion_error_rate"] == 1.0
    assert jia["wrongful_exit_rate"] == 0.0
    assert jia["approval_rate"] == 1.0


def test_metrics_by_township_village_and_group(two_rounds):
    def units(by):
        return [
            tuple(r.get(k) for k in ("township", "village", "group"))
            for r in metrics_json(two_rounds, "--round", JUNE, "--by", by)
        ]

    assert units("township") == [("测试乡", None, None)]
    assert units("village") == [("测试乡", "乙村", None), ("测试乡", "甲村", None)]
    assert units("group") == [
        ("测试乡", "乙村", "一组"),
        ("测试乡", "甲村", "一组"),
        ("测试乡", "甲村", "二组"),
    ]
    [township] = metrics_json(two_rounds, "--round", JUNE, "--by", "township")
    assert (township["households_total"], township["persons_total"]) == (4, 14)
    assert (township["registered_persons"], township["inclusion_error_persons"]) == (11, 4)
    assert township["inclusion_error_rate"] == pytest.approx(4 / 11)


def test_metrics_default_round_is_the_latest(two_rounds):
    p = run("metrics", "--db", two_rounds, "--by", "township")
    assert p.returncode == 0, p.stderr
    [township] = json.loads(p.stdout)
    assert township["round"] == JULY
    assert (township["households_total"], township["persons_total"]) == (2, 6)
    assert (township["relapse_households"], township["relapse_persons"]) == (1, 4)
    assert (township["new_households"], township["new_persons"]) == (1, 2)
    assert JULY in p.stderr


def test_metrics_csv_parses_with_one_row_per_unit(two_rounds):
    p = run("metrics", "--db", two_rounds, "--round", JUNE, "--by", "group", "--format", "csv")
    assert p.returncode == 0, p.stderr
    frame = pd.read_csv(io.StringIO(p.stdout))
    assert list(frame["group"]) == ["一组", "一组", "二组"]
    assert list(frame["persons_total"]) == [5, 7, 2]
    assert frame["wrongful_exit_rate"].isna().tolist() == [True, False, True]


def test_metrics_filters_by_village(two_rounds):
    [township] = metrics_json(two_rounds, "--round", JUNE, "--by", "township", "--village", "乙村")
    assert (township["households_total"], township["persons_total"]) == (1, 5)


def test_metrics_use_the_databases_area_standard_unless_one_is_given(db, tmp_path):
    # R1 moved 4 persons into 90 m²: over 20 x 4 = 80, within 25 x 4 = 100.
    path = tmp_path / "r.xlsx"
    path.write_bytes(
        survey_workbook(
            [survey_row("R1", "甲村", "一组", 4, date=JUNE_DAY)],
            relocation=[relocation_row("R1", "甲村", "安置点一", "集中安置", 4, 90)],
        )
    )
    assert ingest(db, JUNE, path).returncode == 0
    store = Store(db)
    store.save_settings(Settings(area_standard=20.0))
    store.close()
    [township] = metrics_json(db, "--by", "township")
    assert township["relocation_over_standard_households"] == 1
    [township] = metrics_json(db, "--by", "township", "--area-standard", "25")
    assert township["relocation_over_standard_households"] == 0


def test_metrics_of_an_unknown_round_exits_1(two_rounds):
    p = run("metrics", "--db", two_rounds, "--round", "2099年", "--format", "json")
    assert p.returncode == 1
    assert p.stdout == ""
    assert JUNE in p.stderr


# --------------------------------------------------------------------- demo
def test_demo_reproduces_the_seed_inclusion_error_figures(db):
    built = run("demo", "--db", db)
    assert built.returncode == 0, built.stderr
    [township] = metrics_json(db, "--round", "2017年精准核查", "--by", "township")
    assert township["inclusion_error_households"] == 74
    assert township["inclusion_error_persons"] == 324
    assert round(township["inclusion_error_rate"], 4) == 0.0523


def test_a_python_without_the_requirements_gets_a_message_not_a_traceback(tmp_path):
    # A copy of the package with no .venv beside it, run without site-packages (-S).
    import shutil

    shutil.copytree(ROOT / "analytics", tmp_path / "analytics")
    p = subprocess.run(
        [sys.executable, "-S", "-m", "analytics", "rounds"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert p.returncode == 2
    assert "Traceback" not in p.stderr
    assert "pip install -r requirements.txt" in p.stderr


def test_ingest_writes_a_hostile_sheet_name_to_the_terminal_as_escapes(db, files, tmp_path):
    # the adversarial pass: a sheet named with ESC [31m, a line break and a right-to-left
    # override recoloured and rewrote the administrator's terminal
    src = zipfile.ZipFile(files["june"])
    out = tmp_path / "hostile_name.xlsx"
    with zipfile.ZipFile(out, "w") as z:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/workbook.xml":
                data = data.replace(
                    'name="户信息"'.encode(), 'name="户&#x1B;[31m信&#10;息&#x202E;"'.encode()
                )
            z.writestr(item, data)
    p = ingest(db, JUNE, out)
    assert p.returncode == 0, p.stderr
    assert "户\\x1b[31m信\\n息\\u202e" in p.stderr
    assert not any(ch in p.stderr for ch in "\x1b\u202e")
    assert "\n" not in p.stderr.partition("户")[2].partition("息")[0]
