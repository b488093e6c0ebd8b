"""A list field's cell (致贫/返贫风险 "因病，因学、因残") holds several values: split on , ， 、
; ； into clean values, blank words giving none (../shared/DOMAIN.md "After 2020")."""

from __future__ import annotations

import pytest

from analytics.importing.values import parse_list


@pytest.mark.parametrize(
    ("cell", "values"),
    [
        ("因病", ["因病"]),
        ("因病,因学", ["因病", "因学"]),
        ("因病，因学", ["因病", "因学"]),  # full-width comma
        ("因病、因学", ["因病", "因学"]),
        ("因病;因学", ["因病", "因学"]),
        ("因病；因学", ["因病", "因学"]),  # full-width semicolon
        (" 因病 ， 因学 、因残；缺劳动力 ", ["因病", "因学", "因残", "缺劳动力"]),
        ("因病,,因学,", ["因病", "因学"]),  # empty parts dropped
        ("因病，无", ["因病"]),  # a blank word among values is no value
        ("因病、因学、因病", ["因病", "因学"]),  # written twice, kept once, first place
        ("因自然 灾害", ["因自然 灾害"]),  # a space does not separate values
        ("\u200b因病", ["因病"]),  # invisible characters cleaned away
    ],
)
def test_a_cell_splits_into_its_clean_values(cell, values):
    assert parse_list(cell) == values


@pytest.mark.parametrize("cell", [None, "", "   ", "无", "/", "—", "——", "-", "，", "无、/"])
def test_an_empty_or_blank_cell_is_an_empty_list(cell):
    assert parse_list(cell) == []


def test_a_number_cell_is_one_value():
    assert parse_list(3.0) == ["3"]
