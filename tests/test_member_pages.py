"""A household's page lists its members: masked for an inspector (age and birth year,
never the full birth date, name or ID number), whole for an administrator who unmasks.

The person list is built here: one household of three, exported 2019-12-31 (its title's
导出时间), so the ages at that date are counted by hand: born 1980-01-01 -> 39, 1982-06-15
-> 37, 2010-07-01 -> 9.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from analytics.access import accounts
from analytics.figures import queries
from analytics.importing import ingest
from analytics.store.database import Store
from tests.builders import make_id, person_list, person_row, xlsx_bytes
from tests.signin import sign_in

HID = "5309211030010001"
HEAD_ID = make_id(1, birth="19800101")
SPOUSE_ID = make_id(2, birth="19820615")
SON_ID = make_id(3, birth="20100701")


@pytest.fixture
def family(tmp_path) -> Path:
    path = tmp_path / "family.duckdb"
    rows = [
        person_row(1, size=3, name="欧阳明", id_number=HEAD_ID),
        person_row(1, size=3, pid=f"{HID}02", name="李秀英", relation="配偶", id_number=SPOUSE_ID),
        person_row(1, size=3, pid=f"{HID}03", name="欧阳小", relation="之子", id_number=SON_ID),
    ]
    s = Store(path)
    try:
        report = ingest.import_file(s, "人口明细.xlsx", xlsx_bytes(person_list(rows)), "R1")
        assert report.status == "loaded", report.problems
    finally:
        s.close()
    return path


def _household(
    env: pytest.MonkeyPatch, db: Path, user: accounts.User, unmask: bool, person: str | None = None
) -> AppTest:
    env.setenv("POVERTY_DB", str(db))
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.switch_page("views/drilldown.py")
    sign_in(at, db, user)
    at.session_state["unmask"] = unmask
    at.session_state["drill"] = {
        "township": "诗礼乡",
        "village": "孔兴村",
        "group": "孔兴组",
        "household": HID,
        "person": person,
    }
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _members(at: AppTest):
    """The members table (``ui.blocks.table_with_download``'s container ``box_<key>``)."""
    return at.get_by_key("box_drill_members").dataframe[0].value


def test_an_inspector_sees_members_masked_with_ages_and_birth_years(family, monkeypatch):
    at = _household(monkeypatch, family, accounts.User("li", "inspector"), unmask=True)
    rows = _members(at)
    assert rows["与户主关系"].tolist() == ["户主", "配偶", "之子"]
    assert rows["年龄（岁）"].tolist() == [39, 37, 9]
    assert rows["出生年份"].tolist() == [1980, 1982, 2010]
    assert rows["性别"].tolist() == ["男", "女", "男"]  # from the ID numbers' 17th digit
    assert rows["姓名"].tolist() == ["欧**", "李**", "欧**"]
    text = rows.to_csv()
    for secret in (HEAD_ID, SPOUSE_ID, SON_ID, "1980-01-01", "欧阳明", "李秀英"):
        assert secret not in text
    assert any("2019-12-31" in c.value for c in at.caption)


def test_an_administrator_who_unmasks_sees_the_whole_members_record(family, monkeypatch):
    at = _household(monkeypatch, family, accounts.User("boss", "admin"), unmask=True)
    rows = _members(at)
    assert rows["证件号码"].tolist() == [HEAD_ID, SPOUSE_ID, SON_ID]
    assert rows["姓名"].tolist() == ["欧阳明", "李秀英", "欧阳小"]
    assert [str(d)[:10] for d in rows["出生日期"]] == ["1980-01-01", "1982-06-15", "2010-07-01"]
    assert rows["年龄（岁）"].tolist() == [39, 37, 9]


def test_a_members_whole_id_number_finds_the_household(family):
    """The spouse's and the son's ID numbers are no head's: they find household HID through
    its members, for a masked search and an unmasked one; a number nobody holds finds none."""
    store = Store(family)
    try:
        for number in (SPOUSE_ID, SON_ID, SON_ID.lower()):
            for unmask in (False, True):
                found = queries.search(store, number, "R1", unmask=unmask)
                assert found["household_id"].tolist() == [HID], (number, unmask)
        assert queries.search(store, make_id(9, birth="19900101"), "R1").empty
    finally:
        store.close()


def _son_key(db: Path) -> str:
    """The son's place in the drill path (``views.drilldown.person_key``: batch|row|sheet)."""
    store = Store(db)
    try:
        rows, _ = queries.household_members(store, "R1", HID)
    finally:
        store.close()
    son = rows[rows["relation"] == "son"].iloc[0]
    return f"{int(son['batch_id'])}|{int(son['source_row'])}|{son['source_sheet']}"


def _person(at: AppTest) -> dict[str, object]:
    """The member record on screen: field label -> value shown."""
    frame = at.get_by_key("box_drill_person").dataframe[0].value
    return dict(zip(frame["字段"], frame["值"], strict=True))


def test_choosing_a_member_opens_their_record_masked_for_an_inspector(family, monkeypatch):
    at = _household(monkeypatch, family, accounts.User("li", "inspector"), unmask=True)
    key = _son_key(family)
    at.selectbox(key="drill_pick_person").select(key).run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.session_state["drill"]["person"] == key
    record = _person(at)
    assert record["姓名"] == "欧**"
    assert record["证件号码"] == SON_ID[:6] + "*" * 11 + SON_ID[-1]
    assert record["与户主关系"] == "之子"
    assert record["年龄（岁）"] == "9"
    assert record["出生年份"] == "2010"
    assert record["户编号"] == HID
    assert "出生日期" not in record
    text = " ".join(str(v) for v in record.values())
    for secret in (SON_ID, "2010-07-01", "欧阳小"):
        assert secret not in text
    assert any(b.label.endswith("行）") for b in at.button)  # the person's breadcrumb


def test_an_administrator_who_unmasks_sees_the_members_whole_record(family, monkeypatch):
    key = _son_key(family)
    at = _household(monkeypatch, family, accounts.User("boss", "admin"), True, person=key)
    record = _person(at)
    assert record["姓名"] == "欧阳小"
    assert record["证件号码"] == SON_ID
    assert record["出生日期"].startswith("2010-07-01")
    assert record["年龄（岁）"] == "9"
    store = Store(family)
    try:
        audit = accounts.audit_log(store)
    finally:
        store.close()
    assert (audit["action"] == "view_unmasked").any()


def _group_members(env: pytest.MonkeyPatch, db: Path, user: accounts.User):
    """The drill-down's table of the group's members (its expander opened, as a user does)."""
    env.setenv("POVERTY_DB", str(db))
    at = AppTest.from_file("../app.py", default_timeout=120)
    at.switch_page("views/drilldown.py")
    sign_in(at, db, user)
    at.session_state["unmask"] = True
    at.session_state["drill"] = {
        "township": "诗礼乡",
        "village": "孔兴村",
        "group": "孔兴组",
        "household": None,
        "person": None,
    }
    at.session_state["drill_members_export"] = True
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at.get_by_key("box_drill_group_members").dataframe[0].value


def test_the_groups_members_export_is_masked_for_an_inspector(family, monkeypatch):
    rows = _group_members(monkeypatch, family, accounts.User("li", "inspector"))
    assert rows["户编号"].tolist() == [HID] * 3
    assert rows["姓名"].tolist() == ["欧**", "李**", "欧**"]
    assert rows["出生年份"].tolist() == [1980, 1982, 2010]
    assert rows["与户主关系"].tolist() == ["户主", "配偶", "之子"]
    text = rows.to_csv()
    for secret in (HEAD_ID, SPOUSE_ID, SON_ID, "1980-01-01", "欧阳明", "李秀英"):
        assert secret not in text


def test_the_groups_members_export_is_whole_for_an_administrator_who_unmasks(family, monkeypatch):
    rows = _group_members(monkeypatch, family, accounts.User("boss", "admin"))
    assert rows["证件号码"].tolist() == [HEAD_ID, SPOUSE_ID, SON_ID]
    assert rows["姓名"].tolist() == ["欧阳明", "李秀英", "欧阳小"]
