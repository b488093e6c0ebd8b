"""Household-level rows for inspectors: lists, one household's history, search, exports.

Personal data is masked here, in the query itself, before any row leaves the database:
a head's name keeps its surname (张**), an ID number keeps its region code and last
character (530921***********X). Only ``unmask=True`` returns them whole; callers decide
who may ask for that. Ibis expressions, so the same code runs on any backend.
"""

from __future__ import annotations

import datetime as dt

import ibis
import ibis.expr.types as ir
import pandas as pd

from analytics.domain import idcard, schema
from analytics.domain.privacy import mask_id, mask_id_expr, mask_name_expr
from analytics.figures import persons
from analytics.figures.filters import Filters, apply_filters
from analytics.figures.metrics import family_conditions
from analytics.figures.relocation import relocated

PERSONAL = ("head_name", "head_id_number", "name", "id_number", "birth_date")
# The columns of each exportable table, in order (field keys; unit columns first).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    key: ("round", *(f.key for f in table.fields), "batch_id", "source_sheet", "source_row")
    for key, table in schema.TABLES.items()
}
HOUSEHOLD_LIST = (
    "township",
    "village",
    "group",
    "household_id",
    "head_name",
    "head_id_number",
    "household_size",
    "registry_state",
    "adjustment",
    "verification",
    "income_per_capita",
    "survey_date",
)


def _masked(t: ir.Table, unmask: bool) -> ir.Table:
    if unmask:
        return t
    changes = {}
    if "head_name" in t.columns:
        changes["head_name"] = mask_name_expr(t.head_name)
    if "head_id_number" in t.columns:
        changes["head_id_number"] = mask_id_expr(t.head_id_number)
    if "name" in t.columns:  # a member's (the members table)
        changes["name"] = mask_name_expr(t["name"])
    if "id_number" in t.columns:
        changes["id_number"] = mask_id_expr(t.id_number)
    t = t.mutate(**changes) if changes else t
    if "birth_date" in t.columns:
        # a member's birth year, never the full date (the age is what an inspector needs)
        year = t.birth_date.year().name("birth_year")
        t = t.select(*[year if c == "birth_date" else t[c] for c in t.columns])
    return t


def table_rows(
    con: ibis.BaseBackend,
    table: str,
    filters: Filters,
    *,
    unmask: bool = False,
    household_ids: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Rows of a stored table (households, meetings, relocation, villages, members) for a
    round and area.

    Columns: ``TABLE_COLUMNS[table]``. Names and ID numbers masked unless ``unmask`` (a
    member's birth date then becomes ``birth_year``). Members are inside the area when
    their household (same round, same 户编号) is; with no area chosen, every member of the
    round. A household's ``household_size`` is its persons (``persons.households``).
    ``household_ids`` narrows households / relocation to those households. Relocation rows
    are inside the filters by the unit they count for (``relocation.placed``), as the
    relocation figures are, and listed as stored (a blank 迁出村 stays blank).

    Raises
    ------
    KeyError
        For an unknown table.
    """
    columns = TABLE_COLUMNS[table]
    t = persons.households(con) if table == "households" else con.table(table)
    if table == "members":
        t = t.filter(t["round"] == filters.round)
        if filters != Filters(filters.round):  # inside the filters' place
            inside = apply_filters(con.table("households"), filters)
            t = t.filter(t.household_id.isin(inside.household_id))
    elif table == "relocation":
        # inside the filters by the unit each household counts for (``relocation.placed``:
        # 迁出村, else its registry village), listed as stored
        inside = relocated(con, filters)
        t = apply_filters(t, Filters(filters.round))
        t = t.filter(t.household_id.isin(inside.household_id))
    else:
        t = apply_filters(t, filters, has_group="group" in t.columns)
    if household_ids and "household_id" in t.columns:
        t = t.filter(t.household_id.isin(household_ids))
    t = _masked(t.select(*columns), unmask)
    order = [
        c
        for c in (
            "province",
            "county",
            "township",
            "village",
            "group",
            "household_id",
            "source_row",
        )
        if c in columns
    ]
    return t.order_by(order).execute()


def household_list(
    con: ibis.BaseBackend,
    filters: Filters,
    *,
    family: str | None = None,
    household_ids: tuple[str, ...] = (),
    unmask: bool = False,
) -> pd.DataFrame:
    """The household list an inspector drills down to: ``HOUSEHOLD_LIST`` columns.

    ``family`` (a count family such as "inclusion_error" or "new") keeps exactly the
    households that family's metric counts (``metrics.family_conditions``), so the list
    behind a figure has as many rows as the figure says.

    Raises
    ------
    KeyError
        For an unknown family.
    """
    t = apply_filters(persons.households(con), filters)
    if family:
        t = t.filter(family_conditions(t)[family].fill_null(False))
    if household_ids:
        t = t.filter(t.household_id.isin(household_ids))
    t = _masked(t.select(*HOUSEHOLD_LIST), unmask)
    return t.order_by("township", "village", "group", "household_id").execute()


def household_history(
    con: ibis.BaseBackend, household_id: str, *, unmask: bool = False
) -> pd.DataFrame:
    """One household's full record in every round, oldest batch first.

    Columns: round, batch_id and every household field. Empty when the id is unknown.
    """
    t = persons.households(con)
    t = t.filter(t.household_id == household_id)
    t = _masked(t.select(*TABLE_COLUMNS["households"]), unmask)
    return t.order_by("batch_id").execute()


# A household's members as its page lists them (field keys; ``age`` computed); the last
# three name the row in its file and are the person's key on the page (``member_record``).
MEMBER_LIST = (
    "person_id",
    "name",
    "id_number",
    "relation",
    "sex",
    "age",
    "birth_date",
    "ethnicity",
    "education",
    "school_status",
    "health",
    "labour",
    "work_months",
    "batch_id",
    "source_sheet",
    "source_row",
)


def _with_age(
    m: ir.Table, columns: tuple[str, ...], as_of: dt.date | None, unmask: bool
) -> pd.DataFrame:
    """Member rows as ``columns`` (``age`` computed, placed after ``sex``), masked unless
    ``unmask`` (``_masked``: ``birth_date`` becomes ``birth_year``)."""
    shown = [c for c in columns if c != "age"]
    frame = _masked(m.select(*shown, m.birth_date.name("_born")), unmask).execute()
    ages = [
        idcard.age_at(b, as_of) if as_of is not None and isinstance(b, dt.date) else None
        for b in (
            None if v is None or v is pd.NaT else v.date() if isinstance(v, pd.Timestamp) else v
            for v in frame.pop("_born")
        )
    ]
    at = frame.columns.get_loc("sex") + 1
    frame.insert(at, "age", pd.array(ages, dtype="Int64"))
    return frame


def household_members(
    con: ibis.BaseBackend,
    round_name: str,
    household_id: str,
    as_of: dt.date | None,
    *,
    unmask: bool = False,
) -> pd.DataFrame:
    """The members of one household in one round, the 户主 first, then in file order.

    Columns: ``MEMBER_LIST``, with ``birth_year`` for ``birth_date`` unless ``unmask``
    (names and ID numbers masked too: an inspector sees the age and the birth year, never
    the full birth date). ``age`` is in whole years at ``as_of`` (the round's data date,
    ``idcard.age_at``); missing (None) without a birth date or without ``as_of``. Empty when
    the household has no member rows in the round (a household-level sheet).
    """
    m = con.table("members")
    m = m.filter((m["round"] == round_name) & (m.household_id == household_id))
    m = m.order_by([(m.relation == "head").fill_null(False).desc(), "source_sheet", "source_row"])
    return _with_age(m, MEMBER_LIST, as_of, unmask)


def member_record(
    con: ibis.BaseBackend,
    round_name: str,
    household_id: str,
    key: tuple[int, str, int],
    as_of: dt.date | None,
    *,
    unmask: bool = False,
) -> pd.DataFrame:
    """One member's whole record: the member row of ``household_id`` in ``round_name``
    stored from ``key`` = (batch_id, source_sheet, source_row), the file row it came from.

    Columns: ``TABLE_COLUMNS["members"]`` (every member field, the round and the file row),
    ``age`` after ``sex``, masked exactly as ``household_members`` masks them unless
    ``unmask``. One row, or none when no member row has that key.
    """
    batch_id, sheet, row = key
    m = con.table("members")
    m = m.filter(
        (m["round"] == round_name)
        & (m.household_id == household_id)
        & (m.batch_id == batch_id)
        & (m.source_sheet == sheet)
        & (m.source_row == row)
    )
    return _with_age(m, TABLE_COLUMNS["members"], as_of, unmask)


def search(
    con: ibis.BaseBackend, text: str, round_name: str | None = None, *, unmask: bool = False
) -> pd.DataFrame:
    """Households that ``text`` names, in one round (or all); at most 200 rows, masked
    unless ``unmask``. Columns: round and ``HOUSEHOLD_LIST``.

    What a search may match depends on what the searcher sees, so that no search reveals a
    hidden character (issue 12: an ID number was rebuilt from 58 prefix searches):

    - masked (``unmask`` False): a household id or its beginning (ids are shown), the
      masked head's name exactly as shown (``张**``), the masked ID number exactly as shown
      (``530921***********8``), or a whole ID number (18 or 15 characters, exact);
    - unmasked (administrators who switched it on): also the beginning of an ID number and
      any part of a name, case-insensitive;
    - either way, a whole ID number finds the household whose member holds it (issue 14:
      search by a member's 证件号码), as the head's does.
    """
    needle = text.strip().replace(" ", "")
    t = persons.households(con)
    if round_name:
        t = t.filter(t["round"] == round_name)
    if not needle:
        return _masked(t.select("round", *HOUSEHOLD_LIST), unmask).limit(0).execute()
    upper = needle.upper()
    if unmask:
        hit = (
            t.household_id.startswith(needle)
            | t.head_id_number.upper().startswith(upper)
            | t.head_name.contains(needle)
        )
    else:
        hit = (
            t.household_id.startswith(needle)
            | (mask_name_expr(t.head_name) == needle)
            | (mask_id_expr(t.head_id_number.upper()) == upper)
        )
        if idcard.SHAPE.fullmatch(upper):
            hit = hit | (t.head_id_number.upper() == upper)
    if idcard.SHAPE.fullmatch(upper):
        m = con.table("members")
        held = m.filter(m.id_number.upper() == upper)
        hit = hit | t.household_id.isin(held.household_id)
    t = _masked(t.filter(hit.fill_null(False)).select("round", *HOUSEHOLD_LIST), unmask)
    return t.order_by("household_id", "round").limit(200).execute()


def search_shown(text: str) -> str:
    """A search as the audit log keeps it: a whole ID number masked, anything else as
    typed (a household id, or a masked name)."""
    needle = text.strip().replace(" ", "").upper()
    if idcard.SHAPE.fullmatch(needle) or (len(needle) >= 15 and needle[:6].isdigit()):
        return mask_id(needle)
    return text.strip()


def member_counts(members: pd.DataFrame) -> tuple[int, int]:
    """(households 户, persons 人) of a frame of member rows (``table_rows("members")``):
    its distinct 户编号 and its rows."""
    return int(members["household_id"].nunique()), len(members)
