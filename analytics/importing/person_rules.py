"""Person rules: what is wrong across the member rows of one household, and across the
households of one round. Each is written once here; the importer's roll-up of member rows
into households calls them (``household_findings`` once per household, ``duplicate_persons``
once per round) and reports their findings in the row report like a row rule's.

Row rules (analytics/importing/row_rules.py) see one row at a time; these see a household's
members together (is there one 户主, is the 配偶 of the other sex) or a member at the batch's
data date (age). Every finding is a warning on one member's row (``PersonFinding`` names its
sheet, Excel row and the field whose column it is about): the rows are all kept, the county
must put it right in the national system.

A member is a mapping of the members table's field keys (issue 14's members table:
``relation`` and ``sex`` as codes, ``birth_date`` a ``datetime.date``) with ``source_sheet``
and ``source_row``, and optionally ``county`` (None: the same county as the others). **A key
that is absent means the member's sheet has no such column**, and a rule that needs it is
not evaluated for that member (a sheet without 在校生状况 says nothing about schooling); a
key present with None is a blank cell.

National check codes (the 疑似问题 checks the national system runs, ../shared/DOMAIN.md "The
national system's suspected-problem checks"; codes and conditions as the public
re-implementation GitHub Gzuwkj/fuping ``rules/*.py`` has them, for registered (脱贫) and
for monitored (监测对象) households: ``NATIONAL``):

- no 户主: 3_02_012 / 3_11_001; more than one: 3_02_011 / 3_11_002;
- 户主 and 配偶 of one sex: 2_02_001 / 2_11_003;
- relation against sex (之子 female, 之女 male ...): 2_01_004 / 2_12_008;
- school age and no 在校生状况: 1_02_005 (fuping: 6-16; here ``settings.SCHOOL_AGE``);
- one 证件号码 in two households: 1_01_001 / 1_12_001 within a county; across the counties
  of a province 1_01_002 (DOMAIN.md; fuping's 1_01_002 is an ID-length check instead).

Born after the data date and older than ``settings.AGE_MAX`` have no national code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from analytics.domain import idcard, settings
from analytics.domain.labels import LABELS, Both, texts
from analytics.domain.privacy import mask_id
from analytics.importing.row_rules import first_seen

Member = Mapping[str, object]

# Relation code -> the sex it implies (issue 14's relation codes; GB/T 4761's 之子, 之女 ...).
RELATION_SEX: dict[str, str] = {
    "son": idcard.MALE,
    "grandson": idcard.MALE,
    "son_in_law": idcard.MALE,
    "father": idcard.MALE,
    "grandfather": idcard.MALE,
    "daughter": idcard.FEMALE,
    "granddaughter": idcard.FEMALE,
    "daughter_in_law": idcard.FEMALE,
    "mother": idcard.FEMALE,
    "grandmother": idcard.FEMALE,
}
HEAD, SPOUSE = "head", "spouse"

# Rule code -> its national check code for a registered (脱贫) household and for a monitored
# one (防止返贫监测对象), None where the national system has none (see the module).
NATIONAL: dict[str, tuple[str | None, str | None]] = {
    "W_NO_HEAD": ("3_02_012", "3_11_001"),
    "W_TWO_HEADS": ("3_02_011", "3_11_002"),
    "W_HEAD_SPOUSE_SEX": ("2_02_001", "2_11_003"),
    "W_RELATION_SEX": ("2_01_004", "2_12_008"),
    "W_SCHOOL_AGE": ("1_02_005", None),
    "W_PERSON_TWO_HOUSEHOLDS": ("1_01_001", "1_12_001"),
    "W_PERSON_TWO_COUNTIES": ("1_01_002", None),
}


@dataclass(frozen=True)
class PersonFinding:
    """One person rule's finding, on one member's row.

    Attributes
    ----------
    sheet : the member's ``source_sheet``.
    row : the member's ``source_row`` (the Excel row number).
    code : the rule code (``row_rules.SEVERITY``: a warning; message ``msg_<code>``).
    key : the field key whose column the finding is about ("relation", "sex",
        "birth_date", "school_status", "id_number"); the importer names that column, or the
        ID number's where the value was read from it.
    value : the value shown in the report, already masked (an ID number).
    fields : the message's fields (``texts(f"msg_{code}", value=value, **fields)``), with
        ``national`` the national code's text or empty.
    household_id : the member's household.
    national : the national check code, or None.
    """

    sheet: str
    row: int
    code: str
    key: str
    value: str
    fields: Mapping[str, object]
    household_id: str | None
    national: str | None

    def message(self) -> Both:
        """The finding's message in both languages (``msg_<code>`` of the label table)."""
        return texts(f"msg_{self.code}", value=self.value, **self.fields)


def _where(m: Member) -> tuple[str, int]:
    row = m["source_row"]
    return str(m["source_sheet"]), row if isinstance(row, int) else int(str(row))


def _national(code: str, monitoring: bool) -> str | None:
    return NATIONAL.get(code, (None, None))[1 if monitoring else 0]


def _finding(
    m: Member, code: str, key: str, value: str, monitoring: bool, **fields: object
) -> PersonFinding:
    national = _national(code, monitoring)
    fields["national"] = texts("msg_national", code=national) if national else Both("", "")
    sheet, row = _where(m)
    hid = m.get("household_id")
    return PersonFinding(
        sheet, row, code, key, value, fields, hid if isinstance(hid, str) else None, national
    )


def _word(code: str) -> str:
    return LABELS[code][0]


def _heads(members: Sequence[Member], monitoring: bool) -> Iterator[PersonFinding]:
    """W_NO_HEAD on the first row of a household none of whose rows is 户主 (the roll-up
    takes that row as its head), W_TWO_HEADS on every 户主 row after the first."""
    told = [m for m in members if "relation" in m]
    if not told:
        return
    heads = [m for m in told if m.get("relation") == HEAD]
    household = str(members[0].get("household_id") or "")
    if not heads:
        first = told[0]
        relation = first.get("relation")
        shown = _word(relation) if isinstance(relation, str) else ""
        yield _finding(first, "W_NO_HEAD", "relation", shown, monitoring, household=household)
    for m in heads[1:]:
        yield _finding(
            m,
            "W_TWO_HEADS",
            "relation",
            _word(HEAD),
            monitoring,
            household=household,
            first=first_seen(_where(heads[0])),
        )


def _sexes(members: Sequence[Member], monitoring: bool) -> Iterator[PersonFinding]:
    """W_HEAD_SPOUSE_SEX on a 配偶 of the (first) 户主's sex; W_RELATION_SEX on a member
    whose relation implies the other sex (``RELATION_SEX``). A member without a sex or a
    relation is not judged."""
    head = next((m for m in members if m.get("relation") == HEAD), None)
    head_sex = head.get("sex") if head is not None else None
    for m in members:
        sex, relation = m.get("sex"), m.get("relation")
        if not isinstance(sex, str) or not isinstance(relation, str):
            continue
        if relation == SPOUSE and head is not None and sex == head_sex:
            yield _finding(
                m,
                "W_HEAD_SPOUSE_SEX",
                "sex",
                _word(sex),
                monitoring,
                head=first_seen(_where(head)),
            )
        expected = RELATION_SEX.get(relation)
        if expected is not None and sex != expected:
            yield _finding(
                m,
                "W_RELATION_SEX",
                "sex",
                _word(sex),
                monitoring,
                relation=texts(relation),
                expected=texts(expected),
            )


def _ages(
    members: Sequence[Member],
    data_date: dt.date,
    monitoring: bool,
    age_max: int,
    school_age: tuple[int, int],
) -> Iterator[PersonFinding]:
    """W_BORN_AFTER, W_TOO_OLD and W_SCHOOL_AGE at ``data_date``."""
    low, high = school_age
    for m in members:
        born = m.get("birth_date")
        if not isinstance(born, dt.date):
            continue
        shown, date = born.isoformat(), data_date.isoformat()
        if born > data_date:
            yield _finding(m, "W_BORN_AFTER", "birth_date", shown, monitoring, date=date)
            continue
        age = idcard.age_at(born, data_date)
        if age > age_max:
            yield _finding(
                m, "W_TOO_OLD", "birth_date", shown, monitoring, date=date, age=age, limit=age_max
            )
        if low <= age <= high and "school_status" in m and not m.get("school_status"):
            yield _finding(
                m,
                "W_SCHOOL_AGE",
                "school_status",
                "",
                monitoring,
                date=date,
                age=age,
                low=low,
                high=high,
            )


def household_findings(
    members: Sequence[Member],
    data_date: dt.date | None,
    *,
    monitoring: bool = False,
    age_max: int = settings.AGE_MAX,
    school_age: tuple[int, int] = settings.SCHOOL_AGE,
) -> list[PersonFinding]:
    """The person rules over the member rows of ONE household, in report order: the heads
    (W_NO_HEAD, W_TWO_HEADS), the sexes (W_HEAD_SPOUSE_SEX, W_RELATION_SEX), the ages at the
    data date (W_BORN_AFTER, W_TOO_OLD, W_SCHOOL_AGE).

    Parameters
    ----------
    members : the household's member dicts (module docstring), in file order (sheet, then
        Excel row): the first is the one W_NO_HEAD names and the roll-up takes as head.
    data_date : the batch's data date; None: the age rules are not evaluated (an age
        without its date is unknown, not zero).
    monitoring : the household is a monitored one (防止返贫监测对象): the national codes of
        the monitoring checks (``NATIONAL``).
    age_max : years; a member older than this at the data date is reported
        (``settings.AGE_MAX``, 120: 121 is reported, 120 not).
    school_age : (lowest, highest) age in whole years at the data date, both included, of
        compulsory education (``settings.SCHOOL_AGE``, 6-15).

    Returns
    -------
    list of PersonFinding, all warnings; empty for a household with no members.

    Notes
    -----
    A head or relation rule runs only where members have a ``relation`` key, the school
    rule only for members with a ``school_status`` key (a sheet without the column); a
    member born after the data date gets W_BORN_AFTER alone. Sources: the issue's person
    rules, DOMAIN.md ("What offices really export"; the national checks), ``NATIONAL``.
    """
    if not members:
        return []
    found = [*_heads(members, monitoring), *_sexes(members, monitoring)]
    if data_date is not None:
        found += _ages(members, data_date, monitoring, age_max, school_age)
    return found


def duplicate_persons(
    members: Iterable[Member], *, monitoring: bool = False
) -> list[PersonFinding]:
    """One person (证件号码) in two or more households of one round: a finding on each of
    their rows naming the other households (the household id, sheet and Excel row).

    Parameters
    ----------
    members : every member dict of the round (any order), each with ``household_id``,
        ``id_number`` and optionally ``county`` (a county code or name; None or absent:
        the same county as every other).
    monitoring : the round is a monitoring export: its national code (1_12_001).

    Returns
    -------
    list of PersonFinding in the members' order: W_PERSON_TWO_HOUSEHOLDS (national 1_01_001)
    naming the households of the same county, W_PERSON_TWO_COUNTIES (1_01_002) naming
    those of another county (both counties known and different); a row can have both.

    Notes
    -----
    A person is known by ``idcard.person_key``: the 18-character number, alone or at the
    head of a disability certificate number, spaces removed and ``x`` upper-case. Rows
    without one (a blank, 15-digit or mangled number) or without a household id are not
    compared; the same number twice in ONE household is not this rule's. Source: the
    issue's person rules; DOMAIN.md ("What offices really export").
    """
    rows = list(members)
    by_person: dict[str, list[int]] = {}
    for j, m in enumerate(rows):
        number, hid = m.get("id_number"), m.get("household_id")
        key = idcard.person_key(number) if isinstance(number, str) else None
        if key is not None and hid:
            by_person.setdefault(key, []).append(j)
    found: list[tuple[int, PersonFinding]] = []
    for key, where in by_person.items():
        if len({rows[j]["household_id"] for j in where}) < 2:
            continue
        for j in where:
            found += ((j, f) for f in _duplicate(rows, j, where, key, monitoring))
    found.sort(key=lambda pair: pair[0])
    return [f for _, f in found]


def _duplicate(
    rows: list[Member], j: int, where: list[int], key: str, monitoring: bool
) -> Iterator[PersonFinding]:
    m = rows[j]
    hid, county = m["household_id"], m.get("county")
    same: list[Both] = []
    other: list[Both] = []
    seen: set[object] = set()
    for k in where:
        o = rows[k]
        if o["household_id"] == hid or o["household_id"] in seen:
            continue
        seen.add(o["household_id"])
        at = first_seen(_where(o))
        o_county = o.get("county")
        if county is None or o_county is None or o_county == county:
            same.append(texts("msg_household_at", household=o["household_id"], where=at))
        else:
            other.append(
                texts("msg_household_in", household=o["household_id"], county=o_county, where=at)
            )
    shown = mask_id(key)
    for code, others in (("W_PERSON_TWO_HOUSEHOLDS", same), ("W_PERSON_TWO_COUNTIES", other)):
        if others:
            yield _finding(
                m,
                code,
                "id_number",
                shown,
                monitoring,
                household=hid,
                county=county if county is not None else "",
                others=Both("、".join(b.zh for b in others), ", ".join(b.en for b in others)),
            )
