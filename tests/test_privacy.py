"""Masking, written once in analytics/domain/privacy.py in two forms (Python for one value,
Ibis inside a query): the two agree, and on hand-written examples."""

from __future__ import annotations

import ibis
import pytest

from analytics.domain import privacy

NAMES = [("张三丰", "张**"), ("李四", "李*"), ("王", "王"), ("", "")]
IDS = [
    ("530921198001010018", "530921***********8"),
    ("5309211980", "530921***0"),
    ("5309211", "*******"),
    ("", ""),
]


@pytest.mark.parametrize(("value", "masked"), NAMES)
def test_a_name_keeps_its_surname(value, masked):
    assert privacy.mask_name(value) == masked


@pytest.mark.parametrize(("value", "masked"), IDS)
def test_an_id_number_keeps_its_region_and_last_character(value, masked):
    assert privacy.mask_id(value) == masked


def test_the_query_form_masks_as_the_python_form():
    t = ibis.memtable(
        {"name": [n for n, _ in NAMES], "id": [i for i, _ in IDS]},
        schema={"name": "string", "id": "string"},
    )
    out = t.select(name=privacy.mask_name_expr(t.name), id=privacy.mask_id_expr(t.id)).execute()
    assert out["name"].tolist() == [m for _, m in NAMES]
    assert out["id"].tolist() == [m for _, m in IDS]
