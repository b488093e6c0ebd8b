"""One declarative table of anomaly rules (疑点规则): what to inspect, and why.

Each rule is one ``Rule`` entry of ``RULES``: a code, Chinese and English names, a
severity, a level, where it comes from, its limit (a ``Settings`` field with its default),
a predicate and a message. Adding a rule is adding one entry.

- Household rules (level "household") return an unexecuted Ibis expression over the stored
  tables (households, relocation, row_problems), so the same rules run on any Ibis backend.
- Village rules (level "village") work on ``metrics.compute`` output and other small frames
  with pandas (medians, ratios).

Every hit becomes one record of the hit frame (``HIT_COLUMNS``). Messages say why, with the
numbers; they never carry a name or a full ID number (an ID only as ``privacy.mask_id``
shows it). Sources: ../shared/DOMAIN.md ("Thresholds", "Exclusion rules", "Peers to learn
from") and ``analytics.settings`` for each limit's default.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import reduce
from operator import or_
from typing import Any, SupportsFloat

import ibis
import ibis.expr.types as ir
import pandas as pd

from analytics.domain import idcard, schema
from analytics.domain.labels import Both, label, texts
from analytics.domain.privacy import mask_id
from analytics.domain.settings import Settings
from analytics.figures import breakdowns, metrics, persons, prepared
from analytics.figures.filters import Filters, apply_filters
from analytics.figures.limits import beyond_limit, rate_limit
from analytics.figures.metrics import REGISTERED
from analytics.figures.relocation import over_standard, relocated, standard_area
from analytics.importing.row_rules import CONTRADICTIONS

HOUSEHOLD, VILLAGE = "household", "village"
SEVERITIES: tuple[str, ...] = ("high", "medium", "low")
HIT_COLUMNS: tuple[str, ...] = (
    "level",
    "township",
    "village",
    "group",
    "household_id",
    "rule",
    "name",
    "name_en",
    "severity",
    "message",
    "message_en",
    "value",
    "limit",
)
# The hit columns a file export of the anomalies carries (the command line's `export
# anomalies`): where, which rule, how severe, why in both languages.
EXPORT_COLUMNS: tuple[str, ...] = tuple(
    c for c in HIT_COLUMNS if c not in ("name", "name_en", "value", "limit")
)
# Columns every predicate returns (household rules: an Ibis table; village rules: pandas).
UNIT_COLUMNS = ("township", "village", "group", "household_id", "value", "limit")


# --------------------------------------------------------------------------- context
@dataclass
class Context:
    """What a predicate sees: the backend, the round and filters, the limits.

    Parameters
    ----------
    con : an Ibis backend holding households, meetings, relocation, villages, row_problems.
    filters : the round and optional township / village / group filters.
    settings : the limits in force.
    year : the round's year for the poverty line; None skips income-vs-line checks.
    round_order : round names, oldest first (picks the village table of a round without one).
    """

    con: ibis.BaseBackend
    filters: Filters
    settings: Settings
    year: int | None = None
    round_order: tuple[str, ...] = ()
    _metrics: pd.DataFrame | None = field(default=None, init=False, repr=False)

    @property
    def line(self) -> float | None:
        """The poverty line of ``year`` (yuan per person per year), None without a year."""
        return None if self.year is None else self.settings.poverty_line(self.year)

    def households(self) -> ir.Table:
        """Households of the round inside the filters."""
        return apply_filters(persons.households(self.con), self.filters)

    def round_households(self) -> ir.Table:
        """Every household of the round, whatever the township / village / group filters."""
        return apply_filters(persons.households(self.con), Filters(self.filters.round))

    def village_metrics(self) -> pd.DataFrame:
        """``metrics.compute`` at village level, computed once per context."""
        if self._metrics is None:
            frame = metrics.compute(
                self.con,
                self.filters,
                "village",
                round_order=self.round_order or (self.filters.round,),
                area_standard=self.settings.area_standard,
            )
            self._metrics = frame[frame["village"].notna()].reset_index(drop=True)
        return self._metrics


Predicate = Callable[[Context], "ir.Table | pd.DataFrame | None"]
Message = Callable[[Mapping[str, Any], Context], tuple[str, str]]


@dataclass(frozen=True)
class Rule:
    """One anomaly rule.

    Parameters
    ----------
    code : stable identifier ("H_EXCLUSION").
    name, name_en : short Chinese / English name.
    severity : "high", "medium" or "low".
    level : "household" (one hit per household) or "village" (one hit per village, or per
        group for group rules).
    source : the policy, report or method the rule comes from.
    limit : the key of the limit's wording in ``analytics.domain.labels.LABELS``: a (zh,
        en) template filled with the values in force (``limit_text``).
    predicate : ``Context`` -> hits. Household rules return an Ibis table expression;
        village rules a pandas frame. Either holds the ``UNIT_COLUMNS`` (value and limit as
        floats, missing as null) plus any column ``message`` reads; None means "not
        applicable here" (e.g. no poverty line without a year).
    message : (hit record, context) -> (Chinese, English) text saying why, with numbers.
    """

    code: str
    name: str
    name_en: str
    severity: str
    level: str
    source: str
    limit: str
    predicate: Predicate
    message: Message
    rate: str | None = None  # the rate a village rule judges (its limit's wording names it)


# --------------------------------------------------------------------------- helpers
def _num(v: SupportsFloat, digits: int = 2) -> str:
    """A number for a message: thousands separated, decimals only when needed."""
    x = float(v)
    if x.is_integer():
        return f"{x:,.0f}"
    return f"{x:,.{digits}f}"


def _pct(v: SupportsFloat) -> str:
    return f"{float(v) * 100:.2f}%"


def _missing(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA


def _is_false(v: object) -> bool:
    return not _missing(v) and not bool(v)


def _is_true(v: object) -> bool:
    return not _missing(v) and bool(v)


def _float(v: ir.Value | float | None) -> ir.Value:
    if v is None:
        return ibis.null("float64")
    if isinstance(v, ir.Value):
        return v.cast("float64")
    return ibis.literal(float(v), type="float64")


def select_hits(
    t: ir.Table,
    value: ir.Value | float | None = None,
    limit: ir.Value | float | None = None,
    extra: Sequence[str] = (),
) -> ir.Table:
    """A household predicate's result: the ``UNIT_COLUMNS`` plus ``extra`` columns.

    Parameters
    ----------
    t : the hit households (rows with township, village, group, household_id).
    value, limit : a column or a number (cast to float64); None gives a null.
    extra : further columns of ``t`` that the rule's message reads.
    """
    return t.select(
        "township",
        "village",
        "group",
        "household_id",
        *extra,
        value=_float(value),
        limit=_float(limit),
    )


def _state_zh(state: object) -> str:
    return label(str(state))


def _state_en(state: object) -> str:
    return label(str(state), "en")


def _flag_en(key: str) -> str:
    return key.removeprefix("excl_").replace("_", " ")


EXCLUSION_KEYS: tuple[str, ...] = tuple(f.key for f in schema.EXCLUSION_FIELDS)
SECURE_KEYS: tuple[str, ...] = breakdowns.SECURE_FIELDS
SECURE_EN = {
    "food_clothing_secure": "food and clothing",
    "education_secure": "compulsory education",
    "medical_secure": "basic medical care",
    "housing_secure": "safe housing",
}
ID_PROBLEMS: dict[str, tuple[str, str]] = {
    "W_ID_CHECK": ("校验位错误", "has a wrong check character"),
    "W_ID_LENGTH": ("不是 18 位", "is not 18 characters long"),
    "W_ID_LEGACY15": ("是 15 位旧号码", "is a legacy 15-digit number"),
    "W_ID_BIRTH": ("出生日期无效", "has an invalid birth date"),
    "W_ID_AS_NUMBER": (
        "以数字形式保存，末尾数字已变为 0，无法恢复",
        "was stored as a number: its last digits were zeroed and are lost",
    ),
}


def _header(key: str) -> str:
    return schema.HOUSEHOLDS.by_key[key].header


# ------------------------------------------------------------------ household rules
def _exclusion(ctx: Context) -> ir.Table:
    h = ctx.households()
    flags = [h[k].fill_null(False) for k in EXCLUSION_KEYS]
    hit = h.filter(h.registry_state.isin(REGISTERED) & reduce(or_, flags))
    n = reduce(lambda a, b: a + b, [hit[k].fill_null(False).ifelse(1, 0) for k in EXCLUSION_KEYS])
    return select_hits(hit, n, 0.0, ("registry_state", *EXCLUSION_KEYS))


def _exclusion_msg(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
    keys = [k for k in EXCLUSION_KEYS if _is_true(r[k])]
    zh = "、".join(_header(k) for k in keys)
    en = ", ".join(_flag_en(k) for k in keys)
    return (
        f"建档立卡户（{_state_zh(r['registry_state'])}）符合排除条件：{zh}",
        f"registered ({_state_en(r['registry_state'])}) household meets exclusion rule(s): {en}",
    )


def _wrongful_exit(ctx: Context) -> ir.Table:
    h = ctx.households()
    h = h.filter(h.registry_state == "exited")
    line = ctx.line
    below = (
        (h.income_per_capita < line).fill_null(False) if line is not None else ibis.literal(False)
    )
    hit = h.filter(breakdowns.lacks_any(h) | below)
    return select_hits(hit, hit.income_per_capita, line, ("income_per_capita", *SECURE_KEYS))


def _wrongful_exit_msg(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
    zh, en = [], []
    line, income = ctx.line, r["income_per_capita"]
    if line is not None and not _missing(income) and income < line:
        zh.append(f"已脱贫户人均纯收入 {_num(income)} 元低于 {ctx.year} 年贫困线 {_num(line)} 元")
        en.append(
            f"exited household's per-capita income {_num(income)} yuan is below the "
            f"{ctx.year} poverty line {_num(line)} yuan"
        )
    lacking = [k for k in SECURE_KEYS if _is_false(r[k])]
    if lacking:
        zh.append(
            "已脱贫户两不愁三保障未达标：" + "、".join(f"{_header(k)}为“否”" for k in lacking)
        )
        en.append(
            "exited household does not meet two assurances and three guarantees: no "
            + ", no ".join(SECURE_EN[k] for k in lacking)
        )
    return "；".join(zh) + "，可能错退", "; ".join(en) + ": possible wrongful exit"


def _suspected_exclusion(ctx: Context) -> ir.Table | None:
    if ctx.line is None:
        return None  # no line set for the round's year: not evaluated
    h = ctx.households()
    found = (h.verification == "exclusion_error").fill_null(False)
    hit = h.filter(
        (h.registry_state == "nonregistered") & (h.income_per_capita < ctx.line) & ~found
    )
    return select_hits(hit, hit.income_per_capita, ctx.line)


def _suspected_exclusion_msg(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
    return (
        f"非建档立卡户人均纯收入 {_num(r['value'])} 元低于 {ctx.year} 年贫困线 "
        f"{_num(r['limit'])} 元，未认定为漏评，疑似漏评",
        f"non-registered household's per-capita income {_num(r['value'])} yuan is below the "
        f"{ctx.year} poverty line {_num(r['limit'])} yuan and no exclusion error is recorded: "
        "possible exclusion error",
    )


def _poor_far_above(ctx: Context) -> ir.Table | None:
    if ctx.line is None:
        return None
    limit = ctx.settings.poor_far_above_factor * ctx.line
    h = ctx.households()
    hit = h.filter((h.registry_state == "remaining_poor") & (h.income_per_capita > limit))
    return select_hits(hit, hit.income_per_capita, limit)


def _poor_far_above_msg(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
    f, line = ctx.settings.poor_far_above_factor, ctx.line
    assert line is not None  # without a poverty line the rule finds nothing (_poor_far_above)
    return (
        f"未脱贫户人均纯收入 {_num(r['value'])} 元高于 {ctx.year} 年贫困线 {_num(line)} 元的 "
        f"{_num(f)} 倍（{_num(r['limit'])} 元），可能错评",
        f"remaining-poor household's per-capita income {_num(r['value'])} yuan is above "
        f"{_num(f)} x the {ctx.year} poverty line {_num(line)} yuan ({_num(r['limit'])} yuan): "
        "possible inclusion error",
    )


# outcome -> (column holding it, states it is allowed on), from row_rules.CONTRADICTIONS.
_OUTCOME_COLUMN = {
    **{k: "adjustment" for k in schema.ADJUSTMENTS},
    **{k: "verification" for k in schema.FINDINGS},
}


def _contradiction(ctx: Context) -> ir.Table:
    h = ctx.households()
    state = h.registry_state
    bad = [
        ((h[_OUTCOME_COLUMN[k]] == k) & ~state.isin(sorted(ok))).fill_null(False)
        for k, (ok, _, _) in CONTRADICTIONS.items()
    ]
    hit = h.filter(reduce(or_, bad))
    return select_hits(hit, extra=("registry_state", "adjustment", "verification"))


def _contradiction_msg(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
    # the row report's sentence (W_CONTRADICTION), one per contradicting outcome
    found = []
    state = r["registry_state"]
    for col in ("adjustment", "verification"):
        k = r[col]
        if _missing(k) or k not in CONTRADICTIONS or state in CONTRADICTIONS[k][0]:
            continue
        _, why, why_en = CONTRADICTIONS[k]
        found.append(
            texts(
                "msg_W_CONTRADICTION", outcome=texts(k), state=texts(state), why=Both(why, why_en)
            )
        )
    zh, en = [m.zh for m in found], [m.en for m in found]
    return "；".join(zh), "; ".join(en)


def _duplicate_id(ctx: Context) -> ir.Table:
    a = ctx.round_households()
    a = a.filter(a.head_id_number.notnull())
    dups = (
        a.group_by("head_id_number")
        .aggregate(id_households=a.count(), id_villages=a.village.nunique())
        .filter(ibis._.id_households >= 2)
    )
    h = ctx.households()
    hit = h.inner_join(dups, "head_id_number")
    return select_hits(hit, hit.id_households, 1.0, ("head_id_number", "id_villages"))


def _duplicate_id_msg(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
    masked, n, nv = mask_id(str(r["head_id_number"])), int(r["value"]), int(r["id_villages"])
    return (
        f"户主身份证号 {masked} 在本批次 {n} 户中重复出现（涉及 {nv} 个行政村）",
        f"head ID number {masked} appears in {n} households of this round ({nv} villages)",
    )


_SEP = "\x1f"  # between household ids of one aggregate (no id holds a unit separator)


def _person_two_households(ctx: Context) -> ir.Table:
    """Households of the filters one of whose members (by ``idcard.person_key``) is also a
    member of another household of the round, wherever in the round (any file, township or
    county); one hit per household, naming the others."""
    m = ctx.con.table("members")
    m = m.filter(m["round"] == ctx.filters.round)
    m = m.select(
        "household_id", person=m.id_number.upper().re_extract(idcard.PERSON_KEY_PATTERN, 1)
    )
    m = m.filter(m.person.notnull() & (m.person != ""))
    h = ctx.round_households().select("household_id", "county")
    mine = m.inner_join(h, "household_id").distinct()
    theirs = mine.select(_person=mine.person, _other=mine.household_id, _other_county=mine.county)
    pairs = mine.inner_join(
        theirs, [mine.person == theirs._person, mine.household_id != theirs._other]
    )
    per_pair = pairs.select("household_id", "county", "_other", "_other_county").distinct()
    others = per_pair.group_by("household_id").aggregate(
        other_households=per_pair._other.nunique(),
        other_counties=(per_pair._other_county != per_pair.county).ifelse(1, 0).sum(),
        others=per_pair._other.group_concat(_SEP),  # ordered in the message: Spark cannot
    )
    shared = pairs.group_by(_hid=pairs.household_id).aggregate(
        shared_persons=pairs.person.nunique(), person=pairs.person.min()
    )
    found = others.inner_join(shared, others.household_id == shared._hid)
    hit = ctx.households().inner_join(found, "household_id")
    return select_hits(
        hit,
        hit.other_households,
        1.0,
        ("person", "shared_persons", "others", "other_counties"),
    )


def _person_two_households_msg(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
    masked, persons = mask_id(str(r["person"])), int(r["shared_persons"])
    n, across = int(r["value"]), int(r["other_counties"])
    listed = "、".join(sorted(str(r["others"]).split(_SEP)))
    check = "1_01_002" if across else "1_01_001"
    zh_more = f"等 {persons} 人" if persons > 1 else ""
    en_more = f" and {persons - 1} more" if persons > 1 else ""
    zh_across = f"，其中 {across} 户在其他县" if across else ""
    en_across = f", {across} of them in another county" if across else ""
    return (
        f"家庭成员证件号码 {masked}{zh_more} 同时在本批次另外 {n} 户中：{listed}"
        f"{zh_across}（全国疑点 {check}）",
        f"member ID number {masked}{en_more} is also in {n} other households of this round: "
        f"{listed}{en_across} (national check {check})",
    )


def _invalid_id(ctx: Context) -> ir.Table:
    p = ctx.con.table("row_problems")
    p = p.filter(p.code.isin(list(ID_PROBLEMS)))
    per_row = p.group_by(p_batch=p.batch_id, p_sheet=p.sheet, p_row=p["row"]).aggregate(
        **{c: (p.code == c).ifelse(1, 0).max() for c in ID_PROBLEMS}
    )
    h = ctx.households()
    j = h.inner_join(
        per_row,
        [
            h.batch_id == per_row.p_batch,
            h.source_sheet == per_row.p_sheet,
            h.source_row == per_row.p_row,
        ],
    )
    return select_hits(j, extra=("head_id_number", *ID_PROBLEMS))


def _invalid_id_msg(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
    raw = r["head_id_number"]
    masked = "" if _missing(raw) else mask_id(str(raw))
    codes = [c for c in ID_PROBLEMS if _is_true(r[c])]
    return (
        f"户主身份证号 {masked} " + "，".join(ID_PROBLEMS[c][0] for c in codes),
        f"head ID number {masked} " + "; it ".join(ID_PROBLEMS[c][1] for c in codes),
    )


def _relocation_area(ctx: Context) -> ir.Table:
    r = relocated(ctx.con, ctx.filters)
    r = r.mutate(_standard=standard_area(r.persons, ctx.settings.area_standard))
    hit = r.filter(over_standard(r.house_area, r.persons, ctx.settings.area_standard))
    return select_hits(hit, hit.house_area, hit._standard, ("persons",))


def _relocation_area_msg(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
    std, persons = ctx.settings.area_standard, int(r["persons"])
    return (
        f"易地扶贫搬迁住房面积 {_num(r['value'])} 平方米，超过 {_num(std)} 平方米/人 × "
        f"{persons} 人 = {_num(r['limit'])} 平方米",
        f"relocation house area {_num(r['value'])} m² is above {_num(std)} m² per person x "
        f"{persons} persons = {_num(r['limit'])} m²",
    )


def _income_impossible(ctx: Context) -> ir.Table:
    h = ctx.households()
    income, top = h.income_per_capita, ctx.settings.income_max
    hit = h.filter((income <= 0) | (income > top))
    return select_hits(hit, hit.income_per_capita, (hit.income_per_capita <= 0).ifelse(0.0, top))


def _income_impossible_msg(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
    v = r["value"]
    if v <= 0:
        return (
            f"人均纯收入 {_num(v)} 元不大于 0，不可能",
            f"per-capita income {_num(v)} yuan is not above 0: impossible",
        )
    return (
        f"人均纯收入 {_num(v)} 元超过 {_num(r['limit'])} 元/人/年，疑似录入错误",
        f"per-capita income {_num(v)} yuan is above {_num(r['limit'])} yuan per person per "
        "year: likely an entry error",
    )


def _income_missing(ctx: Context) -> ir.Table:
    h = ctx.households()
    hit = h.filter(h.registry_state.isin(REGISTERED) & h.income_per_capita.isnull())
    return select_hits(hit, extra=("registry_state",))


def _income_missing_msg(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
    return (
        f"建档立卡户（{_state_zh(r['registry_state'])}）未填写人均纯收入",
        f"registered ({_state_en(r['registry_state'])}) household has no per-capita income",
    )


# -------------------------------------------------------------------- village rules
def _rate_names(key: str) -> tuple[str, str]:
    """A rate's name for a message, (zh, en), from the label table (English in lower case,
    as inside a sentence). Its counts are ``metrics.RATE_PARTS``."""
    en = label(key, "en")
    return label(key), en[:1].lower() + en[1:]


_BASIS_UNIT = {"persons": ("人", "persons"), "households": ("户", "households")}


def _village_frame(ctx: Context) -> pd.DataFrame:
    m = ctx.village_metrics().copy()
    m["group"] = None
    m["household_id"] = None
    return m


def _beyond(key: str) -> Predicate:
    """Villages whose ``key`` rate is beyond its limit (``beyond_limit``)."""

    def predicate(ctx: Context) -> pd.DataFrame | None:
        limit, _ = rate_limit(ctx.settings, key)
        if limit is None:
            return None
        m = _village_frame(ctx)
        m = m.assign(numerator=metrics.numerator(m, key), denominator=metrics.denominator(m, key))
        m = m[beyond_limit(m[key], ctx.settings, key)]
        return m.assign(value=m[key], limit=float(limit))

    return predicate


def _rate_msg(key: str) -> Message:
    zh_label, en_label = _rate_names(key)
    unit, unit_en = _BASIS_UNIT[metrics.RATE_PARTS[key].basis]

    def message(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
        _, floor = rate_limit(ctx.settings, key)
        counts = f"{_num(r['numerator'])}/{_num(r['denominator'])} {unit}"
        counts_en = f"{_num(r['numerator'])}/{_num(r['denominator'])} {unit_en}"
        zh_cmp, en_cmp = ("低于", "is below") if floor else ("高于上限", "is above the ceiling")
        return (
            f"{zh_label} {_pct(r['value'])}（{counts}）{zh_cmp} {_pct(r['limit'])}",
            f"{en_label} {_pct(r['value'])} ({counts_en}) {en_cmp} {_pct(r['limit'])}",
        )

    return message


def modified_z(values: pd.Series) -> pd.Series:
    """Modified z-scores 0.6745 x (x - median) / MAD (Iglewicz and Hoaglin 1993).

    Parameters
    ----------
    values : shape (n,), the statistic per unit; nulls are left out of median and MAD.

    Returns
    -------
    pd.Series of shape (n,): the score per unit (null where the value is null); all null
    when MAD is 0 or there is no value.
    """
    x = values.astype("float64")
    med = x.median()
    mad = (x - med).abs().median()
    if pd.isna(mad) or mad == 0:
        return pd.Series(float("nan"), index=values.index)
    return 0.6745 * (x - med) / mad


def _outlier(key: str) -> Predicate:
    """Villages whose ``key`` rate is far from the other villages' (|modified z| > limit)."""

    def predicate(ctx: Context) -> pd.DataFrame | None:
        m = _village_frame(ctx)
        m = m[m[key].notna()]
        if len(m) < ctx.settings.outlier_min_units:
            return None
        z = modified_z(m[key])
        limit = ctx.settings.outlier_z
        m = m.assign(value=z, limit=float(limit), median=m[key].median(), units=len(m))
        return m[m["value"].abs() > limit].assign(rate=lambda d: d[key])

    return predicate


def _outlier_msg(key: str) -> Message:
    zh_label, en_label = _rate_names(key)

    def message(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
        z, lim, n = float(r["value"]), float(r["limit"]), int(r["units"])
        return (
            f"{zh_label} {_pct(r['rate'])} 远离 {n} 个村的中位数 {_pct(r['median'])}"
            f"（修正 z 分数 {z:.2f}，绝对值超过 {_num(lim)}）",
            f"{en_label} {_pct(r['rate'])} is far from the median {_pct(r['median'])} of "
            f"{n} villages (modified z-score {z:.2f}, beyond ±{_num(lim)})",
        )

    return message


def _group_no_meeting(ctx: Context) -> pd.DataFrame | None:
    m = apply_filters(ctx.con.table("meetings"), Filters(ctx.filters.round))
    if not int(m.count().execute()):
        return None
    g = breakdowns.groups_without_meetings(ctx.con, ctx.filters)
    return g.assign(household_id=None, value=0.0, limit=1.0)


def _group_no_meeting_msg(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
    n = int(r["households"])
    return (
        f"村民小组已调查 {n} 户，但本批次没有召开组级贫情分析会议",
        f"the group has {n} surveyed households but no group-level analysis meeting in this round",
    )


def _completeness(ctx: Context) -> pd.DataFrame | None:
    f = ctx.filters
    if f.groups:  # 总户数 is per village: a group filter cannot be compared with it
        return None
    sources = metrics.village_table_rounds(ctx.con, f.round, ctx.round_order or (f.round,))
    table = breakdowns.village_table(ctx.con, f, sources)
    table = table[table["households"].notna() & (table["households"] > 0)]
    h = ctx.households()
    unit = ["county", "township", "village"]  # a township is known by its county
    surveyed = h.group_by(*unit).aggregate(surveyed=h.count()).execute()
    m = table.merge(surveyed, on=unit, how="left")
    m["surveyed"] = m["surveyed"].fillna(0).astype("int64")
    m["value"] = m["surveyed"] / m["households"].astype("float64")
    m = m[m["value"] < ctx.settings.completeness_min]
    return m.assign(group=None, household_id=None, limit=float(ctx.settings.completeness_min))


def _completeness_msg(r: Mapping[str, Any], ctx: Context) -> tuple[str, str]:
    n, total = int(r["surveyed"]), int(r["households"])
    return (
        f"已调查 {n} 户，占村基本情况总户数 {total} 户的 {_pct(r['value'])}，"
        f"低于 {_pct(r['limit'])}",
        f"{n} households surveyed, {_pct(r['value'])} of the village table's {total} "
        f"households: below {_pct(r['limit'])}",
    )


# ------------------------------------------------------------------------ the table
_EXIT_RULES = "《关于建立贫困退出机制的意见》(2016)"
_EVALUATION = "国家贫困退出专项评估检查（三率一度）"


def _ceiling_rule(code: str, key: str, name_en: str, source: str) -> Rule:
    zh = _rate_names(key)[0]
    return Rule(
        code,
        f"{zh}超过上限",
        name_en,
        "high",
        VILLAGE,
        source,
        "rule_limit_rate_ceiling",
        _beyond(key),
        _rate_msg(key),
        key,
    )


def _outlier_rule(code: str, key: str) -> Rule:
    zh, en = _rate_names(key)
    return Rule(
        code,
        f"{zh}与其他村差异过大",
        f"{en[0].upper()}{en[1:]} far from other villages",
        "low",
        VILLAGE,
        "Iglewicz & Hoaglin (1993) modified z-score; DHIS2 outlier detection (MOD_Z_SCORE)",
        "rule_limit_outlier",
        _outlier(key),
        _outlier_msg(key),
        key,
    )


RULES: tuple[Rule, ...] = (
    Rule(
        "H_EXCLUSION",
        "建档立卡户符合排除条件",
        "Registered household meets an exclusion rule",
        "high",
        HOUSEHOLD,
        "DOMAIN.md 排除条件（富户戴穷帽）：云南 2017 等县级识别排除清单",
        "rule_limit_exclusion",
        _exclusion,
        _exclusion_msg,
    ),
    Rule(
        "H_WRONGFUL_EXIT",
        "疑似错退",
        "Possible wrongful exit",
        "high",
        HOUSEHOLD,
        f"{_EXIT_RULES}：收入稳定超过国家扶贫标准且两不愁三保障；"
        "全国扶贫开发信息系统疑点数据“已脱贫户收入低于贫困线”",
        "rule_limit_wrongful_exit",
        _wrongful_exit,
        _wrongful_exit_msg,
    ),
    Rule(
        "H_SUSPECTED_EXCLUSION",
        "疑似漏评",
        "Possible exclusion error",
        "high",
        HOUSEHOLD,
        "DOMAIN.md 漏评：符合条件但未纳入建档立卡；全国扶贫开发信息系统疑点数据“收入低于贫困线”",
        "rule_limit_suspected_exclusion",
        _suspected_exclusion,
        _suspected_exclusion_msg,
    ),
    Rule(
        "H_POOR_FAR_ABOVE",
        "未脱贫户收入远高于贫困线",
        "Remaining-poor household far above the line",
        "medium",
        HOUSEHOLD,
        "项目默认：收入远超标准的在册贫困户疑似错评（富户戴穷帽）",
        "rule_limit_poor_far_above",
        _poor_far_above,
        _poor_far_above_msg,
    ),
    Rule(
        "H_CONTRADICTION",
        "调整或核查结论与建档立卡状态矛盾",
        "Outcome contradicts the registry state",
        "medium",
        HOUSEHOLD,
        "DOMAIN.md 指标口径：结论只在其对应状态内计数（row_rules.CONTRADICTIONS）",
        "rule_limit_contradiction",
        _contradiction,
        _contradiction_msg,
    ),
    Rule(
        "H_DUPLICATE_ID",
        "户主身份证号重复",
        "Head ID number in several households",
        "high",
        HOUSEHOLD,
        "全国扶贫开发信息系统疑点数据：跨村、跨县重复人员",
        "rule_limit_duplicate_id",
        _duplicate_id,
        _duplicate_id_msg,
    ),
    Rule(
        "H_PERSON_TWO_HOUSEHOLDS",
        "同一人员在多户中",
        "One person in several households",
        "high",
        HOUSEHOLD,
        "全国扶贫开发信息系统疑点数据：同一证件号码在县内多户 1_01_001、跨县 1_01_002"
        "（DOMAIN.md）；整批次比对，不限于一个文件",
        "rule_limit_person_two_households",
        _person_two_households,
        _person_two_households_msg,
    ),
    Rule(
        "H_INVALID_ID",
        "户主身份证号无效或末位被清零",
        "Invalid or zeroed head ID number",
        "medium",
        HOUSEHOLD,
        "GB 11643-1999 公民身份号码（MOD 11-2 校验）；导入警告 W_ID_*（row_problems）",
        "rule_limit_invalid_id",
        _invalid_id,
        _invalid_id_msg,
    ),
    Rule(
        "H_RELOCATION_AREA",
        "搬迁住房面积超标",
        "Relocation house over the area standard",
        "high",
        HOUSEHOLD,
        "全国“十三五”易地扶贫搬迁规划：建档立卡搬迁户人均住房面积不超过 25 平方米",
        "rule_limit_relocation_area",
        _relocation_area,
        _relocation_area_msg,
    ),
    Rule(
        "H_INCOME_IMPOSSIBLE",
        "人均纯收入不合理",
        "Impossible per-capita income",
        "medium",
        HOUSEHOLD,
        "全国扶贫开发信息系统疑点数据：收入异常；上限为项目默认",
        "rule_limit_income_impossible",
        _income_impossible,
        _income_impossible_msg,
    ),
    Rule(
        "H_INCOME_MISSING",
        "建档立卡户缺少人均纯收入",
        "Registered household without income",
        "low",
        HOUSEHOLD,
        "全国扶贫开发信息系统疑点数据：关键字段为空",
        "rule_limit_income_missing",
        _income_missing,
        _income_missing_msg,
    ),
    _ceiling_rule(
        "V_INCLUSION_RATE",
        "inclusion_error_rate",
        "Inclusion-error rate above ceiling",
        f"{_EVALUATION}；国家未设上限，年度考核与其他三率并列报告",
    ),
    _ceiling_rule(
        "V_EXCLUSION_RATE",
        "exclusion_error_rate",
        "Exclusion-error rate above ceiling",
        f"{_EXIT_RULES}；{_EVALUATION}：高于 2% 的不得退出",
    ),
    _ceiling_rule(
        "V_WRONGFUL_EXIT_RATE",
        "wrongful_exit_rate",
        "Wrongful-exit rate above ceiling",
        f"{_EXIT_RULES}；{_EVALUATION}：高于 2% 的不得退出",
    ),
    _ceiling_rule(
        "V_COMPREHENSIVE_RATE",
        "comprehensive_poverty_rate",
        "Comprehensive poverty rate above ceiling",
        f"{_EXIT_RULES}：西部地区综合贫困发生率低于 3%（中部 2%）",
    ),
    Rule(
        "V_APPROVAL",
        "群众认可度低于下限",
        "Public approval below floor",
        "high",
        VILLAGE,
        f"{_EXIT_RULES}；{_EVALUATION}：群众认可度原则上达到 90%",
        "rule_limit_approval",
        _beyond("approval_rate"),
        _rate_msg("approval_rate"),
        "approval_rate",
    ),
    _outlier_rule("V_OUTLIER_INCLUSION", "inclusion_error_rate"),
    _outlier_rule("V_OUTLIER_EXCLUSION", "exclusion_error_rate"),
    _outlier_rule("V_OUTLIER_WRONGFUL_EXIT", "wrongful_exit_rate"),
    _outlier_rule("V_OUTLIER_COMPREHENSIVE", "comprehensive_poverty_rate"),
    _outlier_rule("V_OUTLIER_APPROVAL", "approval_rate"),
    Rule(
        "V_GROUP_NO_MEETING",
        "村民小组未召开贫情分析会",
        "Group without an analysis meeting",
        "low",
        VILLAGE,
        "2017 年诗礼乡检查报告：贫情分析会议逐村逐组召开（DOMAIN.md 工作流程）",
        "rule_limit_group_no_meeting",
        _group_no_meeting,
        _group_no_meeting_msg,
    ),
    Rule(
        "V_COMPLETENESS",
        "入户调查不完整",
        "Survey incomplete",
        "medium",
        VILLAGE,
        "DHIS2 completeness per unit；村基本情况表总户数",
        "rule_limit_completeness",
        _completeness,
        _completeness_msg,
    ),
)


# ----------------------------------------------------------------------- running them
def _empty() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.Series(dtype="object") for c in HIT_COLUMNS})
    return frame.astype({"value": "float64", "limit": "float64"})


def _hits(rule: Rule, ctx: Context) -> pd.DataFrame | None:
    """What ``rule.predicate`` finds, executed. A household rule (an Ibis expression of the
    context alone) runs on DuckDB as SQL compiled once per shape (``analytics.prepared``):
    its names marked, keyed by the rule, the filters' shape, the limits and the year."""
    if rule.level == HOUSEHOLD and prepared.usable(ctx.con):
        marks = prepared.Marks()
        marked = replace(ctx, filters=marks.filters(ctx.filters))
        key = (
            "rule",
            rule.code,
            prepared.filter_shape(ctx.filters),
            ctx.settings.to_json(),
            ctx.year,
        )
        return prepared.run(ctx.con, key, marks, lambda: rule.predicate(marked))
    found = rule.predicate(ctx)
    if found is None:
        return None
    return found.execute() if isinstance(found, ir.Table) else found


def _run(rules: Sequence[Rule], ctx: Context, level: str) -> pd.DataFrame:
    records: list[dict[str, Any]] = []
    for rule in rules:
        if rule.level != level:
            continue
        frame = _hits(rule, ctx)
        if frame is None:
            continue
        for r in frame.to_dict("records"):
            zh, en = rule.message(r, ctx)
            records.append(
                {
                    "level": rule.level,
                    "township": r.get("township"),
                    "village": r.get("village"),
                    "group": None if _missing(r.get("group")) else r.get("group"),
                    "household_id": None if level == VILLAGE else r.get("household_id"),
                    "rule": rule.code,
                    "name": rule.name,
                    "name_en": rule.name_en,
                    "severity": rule.severity,
                    "message": zh,
                    "message_en": en,
                    "value": None if _missing(r.get("value")) else float(r["value"]),
                    "limit": None if _missing(r.get("limit")) else float(r["limit"]),
                }
            )
    if not records:
        return _empty()
    out = pd.DataFrame.from_records(records, columns=list(HIT_COLUMNS))
    out = out.astype({"value": "float64", "limit": "float64"})
    return _sorted(out, rules)


def _sorted(frame: pd.DataFrame, rules: Sequence[Rule]) -> pd.DataFrame:
    """High severity first, then rule-table order, then place and household."""
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    order = {r.code: i for i, r in enumerate(rules)}
    keyed = frame.assign(
        _sev=frame["severity"].map(rank).fillna(len(rank)),
        _rule=frame["rule"].map(order).fillna(len(order)),
    )
    keyed = keyed.sort_values(
        ["_sev", "_rule", "township", "village", "group", "household_id"],
        na_position="first",
        kind="stable",
    )
    return keyed.drop(columns=["_sev", "_rule"]).reset_index(drop=True)


def household_hits(
    con: ibis.BaseBackend,
    filters: Filters,
    settings: Settings,
    year: int | None,
    *,
    rules: Sequence[Rule] = RULES,
) -> pd.DataFrame:
    """Every household-level hit of the round inside the filters.

    Parameters
    ----------
    con : an Ibis backend holding households, relocation and row_problems.
    filters : the round and optional township / village / group filters. Duplicate head ID
        numbers are looked for across the whole round, then listed inside the filters.
    settings : the limits (poverty lines, area standard, income bound, factor).
    year : the round's year for ``settings.poverty_line``; None skips income-vs-line checks.
    rules : the rule table (``RULES``); only its household rules run.

    Returns
    -------
    pd.DataFrame of shape (hits, 13), columns ``HIT_COLUMNS``: one row per household and
    rule, high severity first. ``value`` / ``limit`` are floats in the rule's unit (yuan per
    person per year, m², households, count of flags) or NaN.
    """
    return _run(rules, Context(con, filters, settings, year), HOUSEHOLD)


def village_hits(
    con: ibis.BaseBackend,
    filters: Filters,
    settings: Settings,
    round_order: Sequence[str],
    *,
    rules: Sequence[Rule] = RULES,
) -> pd.DataFrame:
    """Every village-level hit (and group-level, for group rules) of the round.

    Parameters
    ----------
    con : an Ibis backend holding the stored tables.
    filters : the round and optional filters; rates are computed as ``metrics.compute`` does
        at village level; outliers compare the villages inside the filters.
    settings : the rate ceilings, approval floor, outlier and completeness limits.
    round_order : round names oldest first (the village table of a round without one).
    rules : the rule table (``RULES``); only its village rules run.

    Returns
    -------
    pd.DataFrame of shape (hits, 13), columns ``HIT_COLUMNS``; ``household_id`` is None,
    ``group`` is set for group rules only. ``value`` / ``limit`` are rates (fractions),
    modified z-scores, or meeting counts.
    """
    ctx = Context(con, filters, settings, None, tuple(round_order))
    return _run(rules, ctx, VILLAGE)


def anomalies(
    con: ibis.BaseBackend,
    filters: Filters,
    settings: Settings,
    year: int | None,
    round_order: Sequence[str],
    *,
    rules: Sequence[Rule] = RULES,
) -> pd.DataFrame:
    """Household and village hits together, one record per hit (``HIT_COLUMNS``).

    Parameters
    ----------
    con, filters, settings : as for ``household_hits`` and ``village_hits``.
    year : the round's year for the poverty line (None skips income-vs-line checks).
    round_order : round names, oldest first.
    rules : the rule table (``RULES``).

    Returns
    -------
    pd.DataFrame of shape (hits, 13): high severity first, then in rule-table order.
    """
    parts = [
        household_hits(con, filters, settings, year, rules=rules),
        village_hits(con, filters, settings, round_order, rules=rules),
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        return _empty()
    return _sorted(pd.concat(parts, ignore_index=True), rules)


def _limit_values(settings: Settings, rate: str | None) -> dict[str, str]:
    """Every limit of ``settings`` as shown in a rule's limit wording."""
    lines = "; ".join(f"{y}: {_num(v)}" for y, v in sorted(settings.poverty_lines.items()))
    ceiling = settings.rate_ceilings.get(rate) if rate else None
    return {
        "rate": rate or "",
        "ceiling": "—" if ceiling is None else _pct(ceiling),
        "lines": lines or "—",
        "factor": _num(settings.poor_far_above_factor),
        "area_standard": _num(settings.area_standard),
        "income_max": _num(settings.income_max),
        "approval_floor": _pct(settings.approval_floor),
        "outlier_z": _num(settings.outlier_z),
        "outlier_min_units": str(settings.outlier_min_units),
        "completeness_min": _pct(settings.completeness_min),
    }


def limit_text(rule: Rule, settings: Settings, lang: str = "zh") -> str:
    """The rule's limit in words, with the values of ``settings`` (the limits in force).

    Parameters
    ----------
    rule : a rule of ``RULES``; its ``limit`` is a key of ``labels.LABELS``.
    settings : the limits in force (the store's ``Settings``).
    lang : "zh" or "en".

    Returns
    -------
    str, e.g. "住房面积 > settings.area_standard（25 平方米/人）× 搬迁人口".
    """
    return label(rule.limit, lang, **_limit_values(settings, rule.rate))


def rule_table(
    rules: Sequence[Rule] = RULES, settings: Settings | None = None, lang: str = "zh"
) -> pd.DataFrame:
    """The rules as a table for display: code, name, name_en, severity, level, source, limit.

    Parameters
    ----------
    rules : the rule table (``RULES``).
    settings : the limits in force; None shows the defaults (``Settings()``).
    lang : the language of the limit's wording, "zh" or "en".

    Returns
    -------
    pd.DataFrame of shape (len(rules), 7); ``limit`` is ``limit_text`` of each rule.
    """
    cfg = settings if settings is not None else Settings()
    cols = ("code", "name", "name_en", "severity", "level", "source")
    rows = [{**{c: getattr(r, c) for c in cols}, "limit": limit_text(r, cfg, lang)} for r in rules]
    return pd.DataFrame(rows, columns=[*cols, "limit"])
