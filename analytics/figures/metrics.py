"""The metrics contract of ../shared/DOMAIN.md, as Ibis expressions.

Every metric is defined once here, unbound, and executed on whichever Ibis backend holds
the tables (DuckDB by default). ``metrics_expr`` builds the expression for one round at one
level (township, village or group); ``compute`` runs it and returns a pandas frame whose
columns are the unit's names, ``round`` and every key of ``METRIC_KEYS``.

Rules (DOMAIN.md, "Metrics contract"):
- counts on two bases: households (户) and persons (人, the sum of household size);
- a finding counts only inside its own state (错评 on registered, 漏评 on non-registered,
  错退 on exited); adjustments count as recorded;
- rates are fractions with a null for a zero denominator; ``_households`` variants use
  household counts; the person basis is the official one;
- a meeting without a village is township-level: it counts for the township only; one
  without a group counts for its village, not for any group;
- relocation persons come from the relocation table (搬迁人口); which unit a relocated
  household counts for (迁出村, else its registry village) and what over the housing
  standard means are ``relocation.placed`` and ``relocation.over_standard``;
- comprehensive poverty rate = (remaining poor + exclusion error + wrongful exit persons)
  / rural population: the village table's 乡村人口 for a village (summed for a township),
  the unit's own persons_total where the village is missing, and always for a group or
  under a group filter. The village table is the one imported in the round, else the
  latest other round's.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass
from functools import reduce
from typing import Any

import ibis
import ibis.expr.types as ir
import pandas as pd

from analytics.domain.settings import AREA_STANDARD
from analytics.figures import persons
from analytics.figures import prepared as kept
from analytics.figures.filters import Filters, apply_filters
from analytics.figures.relocation import concentrated, over_standard, relocated

# level -> the unit names a page shows for it. Every level's frame also holds the unit's
# ``county`` ("" for none), since a township is known by its county (``unit_keys``).
LEVELS: dict[str, tuple[str, ...]] = {
    "county": ("county",),  # everything selected, as one unit (the area's totals; "")
    "counties": ("county",),  # one unit per county ("" for rows that name none)
    "township": ("township",),
    "village": ("township", "village"),
    "group": ("township", "village", "group"),
}
REGISTERED = ("remaining_poor", "exited")


def unit_keys(level: str) -> tuple[str, ...]:
    """The columns a unit of ``level`` is known by: its ``LEVELS`` names after its county
    (DOMAIN.md: township names repeat across counties, so the same township name in two
    counties is two townships); ``("county",)`` for the county levels.

    Raises
    ------
    KeyError
        For an unknown level.
    """
    names = LEVELS[level]
    return names if names[0] == "county" else ("county", *names)


# (family, predicate source) for household counts; each yields <family>_households/_persons.
STATE_FAMILIES = ("registered", "remaining_poor", "exited", "nonregistered")
ADJUSTMENT_FAMILIES = ("new", "relapse", "exit_proposed", "removed")
FINDING_FAMILIES = {
    "inclusion_error": REGISTERED,
    "exclusion_error": ("nonregistered",),
    "wrongful_exit": ("exited",),
}
RELOCATION_FAMILIES = ("relocated", "relocation_over_standard")
# Every household count family of ``family_conditions`` in the order an inspector drills
# into them: findings first, then adjustments, then registry states.
HOUSEHOLD_FAMILIES: tuple[str, ...] = (*FINDING_FAMILIES, *ADJUSTMENT_FAMILIES, *STATE_FAMILIES)
# rate key -> (numerator family, denominator family)
RATES = {
    "inclusion_error_rate": ("inclusion_error", "registered"),
    "exclusion_error_rate": ("exclusion_error", "nonregistered"),
    "wrongful_exit_rate": ("wrongful_exit", "exited"),
}
# The families the comprehensive poverty rate (综合贫困发生率) counts as poor: the remaining
# poor, the poor left out (漏评) and the poor wrongly exited (错退). DOMAIN.md, "Metrics".
COMPREHENSIVE_POOR = ("remaining_poor", "exclusion_error", "wrongful_exit")
COUNT_KEYS: tuple[str, ...] = (
    "households_total",
    "persons_total",
    *(
        f"{fam}_{basis}"
        for fam in (*STATE_FAMILIES, *ADJUSTMENT_FAMILIES, *FINDING_FAMILIES)
        for basis in ("households", "persons")
    ),
    "meetings",
    "meeting_attendance",
    *(f"{fam}_{basis}" for fam in RELOCATION_FAMILIES for basis in ("households", "persons")),
    "relocation_sites",
    "approval_answered",
    "approval_yes",
    "rural_population",
    "rural_households",
)
RATE_KEYS: tuple[str, ...] = (
    *RATES,
    "comprehensive_poverty_rate",
    *(f"{k}_households" for k in RATES),
    "comprehensive_poverty_rate_households",
    "approval_rate",
)
METRIC_KEYS: tuple[str, ...] = COUNT_KEYS + RATE_KEYS


@dataclass(frozen=True)
class RatePart:
    """What one rate divides: the sum of ``terms`` over ``denominator`` (count columns).

    ``numerator`` names the sum: the one term's column, or ``comprehensive_poor_<basis>``
    for the comprehensive rate (a label key of ``analytics.domain.labels``). ``basis`` is
    "persons" or "households": the unit of both counts.
    """

    numerator: str
    terms: tuple[str, ...]
    denominator: str
    basis: str


def _rate_parts() -> dict[str, RatePart]:
    out: dict[str, RatePart] = {}
    for key, (num, den) in RATES.items():
        for basis, suffix in (("persons", ""), ("households", "_households")):
            col = f"{num}_{basis}"
            out[f"{key}{suffix}"] = RatePart(col, (col,), f"{den}_{basis}", basis)
    for basis, suffix, den in (
        ("persons", "", "rural_population"),
        ("households", "_households", "rural_households"),
    ):
        terms = tuple(f"{fam}_{basis}" for fam in COMPREHENSIVE_POOR)
        poor = f"comprehensive_poor_{basis}"
        out[f"comprehensive_poverty_rate{suffix}"] = RatePart(poor, terms, den, basis)
    out["approval_rate"] = RatePart(
        "approval_yes", ("approval_yes",), "approval_answered", "households"
    )
    return out


# rate key -> its numerator and denominator: the one definition every rate is computed
# from (here) and explained by (the anomaly rules' messages, the misclassification page).
RATE_PARTS: dict[str, RatePart] = _rate_parts()


def numerator(t: Any, rate: str) -> Any:
    """The numerator of ``rate`` in a table of counts: the sum of ``RATE_PARTS[rate].terms``.

    Parameters
    ----------
    t : an Ibis table or a pandas frame holding the count columns (``metrics_expr``'s
        output or ``compute``'s frame).
    rate : a key of ``RATE_KEYS``.

    Returns
    -------
    The column (Ibis value, or pandas Series of shape (units,)) in households or persons.

    Raises
    ------
    KeyError
        For an unknown rate.
    """
    return reduce(operator.add, (t[c] for c in RATE_PARTS[rate].terms))


def denominator(t: Any, rate: str) -> Any:
    """The denominator column of ``rate`` in a table of counts (see ``numerator``)."""
    return t[RATE_PARTS[rate].denominator]


def _inputs() -> dict[str, tuple[str, ...]]:
    both = ("households", "persons")
    out: dict[str, tuple[str, ...]] = {}
    for key in ("households_total", "persons_total", "rural_population", "rural_households"):
        out[key] = ("households",)
    for fam in STATE_FAMILIES:
        out |= {f"{fam}_{b}": ("households",) for b in both}
    for fam in ADJUSTMENT_FAMILIES:
        out |= {f"{fam}_{b}": ("households", "adjustment") for b in both}
    for fam in FINDING_FAMILIES:
        out |= {f"{fam}_{b}": ("households", "verification") for b in both}
    for rate in RATES:
        out[rate] = out[f"{rate}_households"] = ("households", "verification")
    # (remaining poor + 漏评 + 错退) over rural population: without the findings it would
    # state the remaining poor alone as the rate, and be judged against its 3% ceiling
    for rate in ("comprehensive_poverty_rate", "comprehensive_poverty_rate_households"):
        out[rate] = ("households", "verification")
    for key in ("approval_answered", "approval_yes", "approval_rate"):
        out[key] = ("households", "approval")
    out["meetings"] = out["meeting_attendance"] = ("meetings",)
    for fam in RELOCATION_FAMILIES:
        out |= {f"{fam}_{b}": ("relocation",) for b in both}
    out["relocation_sites"] = ("relocation", "relocation_site")
    return out


# metric key -> the inputs it counts from (analytics/figures/coverage.py): a metric of a unit whose
# files did not measure one of them is missing, not 0.
METRIC_INPUTS: dict[str, tuple[str, ...]] = _inputs()
# The stored columns the metrics read, per table.
_PLACE = ("round", "province", "county", "township", "village", "group")
HOUSEHOLD_COLUMNS = (
    *_PLACE,
    "household_id",
    "household_size",
    "registry_state",
    "adjustment",
    "verification",
    "approval",
)
MEETING_COLUMNS = (*_PLACE, "attendance")


def _n(cond: ir.BooleanValue) -> ir.IntegerScalar:
    # A null condition takes the else branch on every engine (CASE WHEN NULL ... ELSE 0).
    return cond.ifelse(1, 0).sum()


def _rate(num: ir.NumericValue, den: ir.NumericValue) -> ir.FloatingValue:
    # Guarded so that no engine ever divides by zero (Spark in ANSI mode raises).
    safe = ibis.ifelse(den > 0, den, 1)
    return ibis.ifelse(den > 0, num.cast("float64") / safe.cast("float64"), ibis.null("float64"))


def family_conditions(h: ir.Table) -> dict[str, ir.BooleanValue]:
    """Which households each count family counts (registered, new, inclusion_error, ...).

    The one definition behind every ``<family>_households`` / ``_persons`` metric, and behind
    the household lists an inspector drills down to. Values may be null (count as false).
    """
    state, adj, finding = h.registry_state, h.adjustment, h.verification
    conds: dict[str, ir.BooleanValue] = {
        "registered": state.isin(REGISTERED),
        "remaining_poor": state == "remaining_poor",
        "exited": state == "exited",
        "nonregistered": state == "nonregistered",
    }
    conds |= {fam: adj == fam for fam in ADJUSTMENT_FAMILIES}
    conds |= {fam: (finding == fam) & state.isin(ok) for fam, ok in FINDING_FAMILIES.items()}
    return conds


def _household_agg(h: ir.Table, keys: Sequence[str]) -> ir.Table:
    size = h.household_size
    conds = family_conditions(h)
    aggs: dict[str, ir.Scalar] = {
        "households_total": h.count(),
        "persons_total": size.sum(),
        "approval_answered": h.approval.count(),
        "approval_yes": _n(h.approval),
    }
    for fam, cond in conds.items():
        aggs[f"{fam}_households"] = _n(cond)
        aggs[f"{fam}_persons"] = cond.ifelse(size, 0).sum()
    return h.group_by(list(keys)).aggregate(**aggs)


def _meeting_agg(m: ir.Table, level: str, keys: Sequence[str]) -> ir.Table:
    if level in ("village", "group"):
        m = m.filter(m.village.notnull())
    if level == "group":
        m = m.filter(m["group"].notnull())
    return m.group_by(list(keys)).aggregate(
        meetings=m.count(), meeting_attendance=m.attendance.sum()
    )


def _relocation_agg(r: ir.Table, keys: Sequence[str], standard: float) -> ir.Table:
    # ``r`` is placed (``relocation.relocated``); "" stands in for an unknown village or
    # group so that such households form a unit of their own (shown as missing again).
    r = r.mutate(village=r.village.fill_null(""), group=r["group"].fill_null(""))
    over = over_standard(r.house_area, r.persons, standard)
    at_site = concentrated(r.site, r.mode)
    return r.group_by(list(keys)).aggregate(
        relocated_households=r.count(),
        relocated_persons=r.persons.sum(),
        relocation_over_standard_households=_n(over),
        relocation_over_standard_persons=over.ifelse(r.persons, 0).sum(),
        relocation_sites=at_site.ifelse(r.site, ibis.null("string")).nunique(),
    )


def village_table_rounds(con: ibis.BaseBackend, round_name: str, order: Sequence[str]) -> dict:
    """Per township, the round whose village table (村基本情况) serves ``round_name``.

    ``order`` is the round order (oldest first). The round's own table wins; else the latest
    other round that has one for that township. Only townships the round surveyed (or met
    in) are served: another township's village table never leaks into this round.
    """
    h, m, v = con.table("households"), con.table("meetings"), con.table("villages")
    present = (
        h.filter(h["round"] == round_name)
        .select("township")
        .union(m.filter(m["round"] == round_name).select("township"))
    )
    # One query (a subquery for the townships present): one round trip less.
    v = v.filter(v.township.isin(present.township) | (v["round"] == round_name))
    have = v.select("township", "round").distinct().execute()
    rank = {name: i for i, name in enumerate(order)}
    out: dict[str, str] = {}
    for township, rows in have.groupby("township"):
        rounds = set(rows["round"])
        if round_name in rounds:
            out[township] = round_name
        else:
            out[township] = max(rounds, key=lambda r: rank.get(r, -1))
    return out


def metrics_expr(
    con: ibis.BaseBackend,
    filters: Filters,
    level: str = "village",
    *,
    village_rounds: dict[str, str] | None = None,
    area_standard: float = AREA_STANDARD,
) -> ir.Table:
    """The unexecuted expression of every metric for one round at one level.

    Parameters
    ----------
    con : an Ibis backend holding the tables households, meetings, relocation, villages.
    filters : the round and optional township / village / group filters.
    level : "county" (all selected rows as one unit), "counties" (one unit per county),
        "township", "village" or "group"; every unit is known by its county too
        (``unit_keys``).
    village_rounds : township -> the round whose village table to use (see
        ``village_table_rounds``); None uses the round's own only.
    area_standard : relocation housing standard in m² per person (``Settings.area_standard``).

    Raises
    ------
    ValueError
        For an unknown level.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    keys = unit_keys(level)
    # Only the columns the metrics read: a narrower expression compiles faster.
    households = persons.households(con).select(*HOUSEHOLD_COLUMNS)
    h = apply_filters(households, filters)
    m = apply_filters(con.table("meetings").select(*MEETING_COLUMNS), filters)
    r = relocated(con, filters)
    hh = _household_part(con, h, filters, level, village_rounds or {})
    mt = _meeting_agg(m, level, keys)
    if level == "group":
        mt = mt.mutate(group=mt["group"].fill_null(""))
    rl = _relocation_agg(r, keys, area_standard)
    if level == "county":  # the whole area as one unit, whatever its counties
        hh, mt, rl = (p.mutate(county=ibis.literal("")) for p in (hh, mt, rl))

    # Each part holds some of the counts for some units (a unit may have meetings but no
    # households); stacked and summed per unit, a count a part lacks is 0. The household
    # part may be finer than the level (per village, for the village-table denominators):
    # the sum rolls it up. One aggregate instead of a join per part: fewer Spark stages.
    stacked = _padded(hh, keys).union(_padded(mt, keys), _padded(rl, keys), distinct=False)
    t = stacked.group_by(list(keys)).aggregate(
        **{c: stacked[c].sum().fill_null(0) for c in COUNT_KEYS}
    )
    rates = {k: _rate(numerator(t, k), denominator(t, k)) for k in RATE_KEYS}
    # "" stood in for a missing name so that units match; show it as missing again.
    names = {k: ibis.ifelse(t[k] == "", ibis.null("string"), t[k]) for k in keys[1:]}
    out = t.select(
        *(names.get(k, t[k]).name(k) for k in keys),
        round=ibis.literal(filters.round),
        **{c: t[c] for c in COUNT_KEYS},
        **{k: rates[k] for k in RATE_KEYS},
    )
    return out.order_by(list(keys))


def _padded(part: ir.Table, keys: Sequence[str]) -> ir.Table:
    """``part``'s unit keys and every count column, all int64, 0 where it has no such count."""
    types = part.schema()
    counts: dict[str, ir.Value] = {}
    for c in COUNT_KEYS:
        if c not in types:
            counts[c] = ibis.literal(0, type="int64")
        else:
            counts[c] = part[c] if types[c].is_int64() else part[c].cast("int64")
    return part.select(*keys, **counts)


def _household_part(
    con: ibis.BaseBackend, h: ir.Table, filters: Filters, level: str, village_rounds: dict
) -> ir.Table:
    """Household counts with rural_population / rural_households, the denominators of the
    comprehensive rate: per group for the group level, else per village (rolled up later)."""
    # A group, or some groups only, is compared with its own persons: 乡村人口 is per village.
    if level == "group":
        part = _household_agg(h.mutate(group=h["group"].fill_null("")), unit_keys("group"))
        return part.mutate(
            rural_population=part.persons_total, rural_households=part.households_total
        )
    part = _household_agg(h, ("county", "township", "village"))
    if filters.groups or not village_rounds:
        return part.mutate(
            rural_population=part.persons_total, rural_households=part.households_total
        )
    # Per village the table's figure, else the village's own.
    v = _village_table(con, filters, village_rounds)
    joined = part.left_join(v, ["county", "township", "village"])
    return joined.select(
        *(c for c in part.columns),
        rural_population=joined.table_rural.fill_null(joined.persons_total),
        rural_households=joined.table_households.fill_null(joined.households_total),
    )


def _village_table(con: ibis.BaseBackend, filters: Filters, village_rounds: dict) -> ir.Table:
    """Per village of the village tables serving the round: table_rural, table_households."""
    v = serving_village_rows(con.table("villages"), village_rounds)
    v = v.mutate(county=v.county.fill_null(""))  # as ``apply_filters`` gives it
    if filters.villages:
        v = v.filter(v.village.isin(filters.villages))
    return v.group_by("county", "township", "village").aggregate(
        table_rural=v.rural_population.max(), table_households=v.households.max()
    )


def serving_village_rows(v: ir.Table, village_rounds: dict[str, str]) -> ir.Table:
    """The rows of the village table ``v`` whose (township, round) is in ``village_rounds``
    (township -> round, see ``village_table_rounds``); none when it is empty.

    Plain predicates rather than a join with an in-memory table: every engine runs them,
    read-only clusters included (an in-memory table would have to be uploaded first).
    """
    if not village_rounds:
        return v.filter(ibis.literal(False))
    townships_of: dict[str, list[str]] = {}
    for township, source in village_rounds.items():
        townships_of.setdefault(source, []).append(township)
    return v.filter(
        ibis.or_(
            *(
                (v["round"] == source) & v.township.isin(sorted(towns))
                for source, towns in sorted(townships_of.items())
            )
        )
    )


def compute(
    con: ibis.BaseBackend,
    filters: Filters,
    level: str = "village",
    *,
    round_order: Sequence[str] = (),
    area_standard: float = AREA_STANDARD,
    prepared: bool = True,
) -> pd.DataFrame:
    """Every metric for one round at one level, as a pandas frame (one row per unit).

    Counts are integers (households 户, persons 人, meetings 场, attendance 人次); rates are
    fractions (0.0523) with NaN/None for a zero denominator. ``round_order`` (oldest first)
    picks the village table when the round has none.

    On DuckDB (and with ``prepared``) the SQL is compiled once per query shape and run with
    the names bound as parameters (``analytics.prepared``); any other backend, or
    ``prepared=False``, builds and compiles the expression on every call. Both give the same
    frame (tests/test_metrics.py).

    Raises
    ------
    ValueError
        For an unknown level.
    """
    village_rounds = village_table_rounds(con, filters.round, round_order or [filters.round])
    if prepared and kept.usable(con):
        marks = kept.Marks()
        marked = marks.filters(filters)
        by_source: dict[str, list[str]] = {}
        for township, source in village_rounds.items():
            by_source.setdefault(source, []).append(township)
        marked_rounds: dict[str, str] = {}
        for source, towns in sorted(by_source.items()):
            marked_source = marks(source)
            for township in sorted(towns):
                marked_rounds[marks(township)] = marked_source
        key = (
            "metrics",
            level,
            kept.filter_shape(filters),
            tuple(len(towns) for _, towns in sorted(by_source.items())),
            float(area_standard),
        )
        table = kept.run(
            con,
            key,
            marks,
            lambda: metrics_expr(
                con, marked, level, village_rounds=marked_rounds, area_standard=area_standard
            ),
            as_arrow=True,
        )
        # None is run's "nothing to ask", which metrics_expr never answers
        assert table is not None
        frame = table.to_pandas()
    else:
        expr = metrics_expr(
            con, filters, level, village_rounds=village_rounds, area_standard=area_standard
        )
        # Through Arrow: the same frame as ``expr.execute()``, without its per-column pass.
        frame = expr.to_pyarrow().to_pandas()
    for c in COUNT_KEYS:
        if frame[c].dtype != "int64":
            frame[c] = frame[c].astype("int64")
    for c in RATE_KEYS:
        if frame[c].dtype != "float64":
            frame[c] = frame[c].astype("float64")
    return frame


def compare(now: pd.DataFrame, before: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Per unit present in both rounds, every metric of ``now`` minus the same of ``before``.

    Both frames come from ``compute`` (or ``queries.metrics_frame``) at the same level;
    ``keys`` are its unit columns. A unit present in one round only is left out (another
    township's figures are never subtracted): ``unmatched`` names them. A metric missing in
    either round gives an empty change. Rate changes are fractions (0.0025 = 0.25
    percentage points).
    """
    keys = list(keys)
    merged = now.merge(before, on=keys, how="inner", suffixes=("", "_before"))
    out = merged[keys].copy()
    for c in COUNT_KEYS:
        out[c] = merged[c].astype("Int64") - merged[f"{c}_before"].astype("Int64")
    for c in RATE_KEYS:
        out[c] = merged[c].astype("float64") - merged[f"{c}_before"].astype("float64")
    return out.sort_values(keys).reset_index(drop=True)


def unmatched(
    now: pd.DataFrame, before: pd.DataFrame, keys: Sequence[str]
) -> tuple[list[tuple], list[tuple]]:
    """The units (tuples of ``keys``) only ``now`` holds, and those only ``before`` holds."""
    keys = list(keys)
    a = set(map(tuple, now[keys].itertuples(index=False)))
    b = set(map(tuple, before[keys].itertuples(index=False)))
    return sorted(a - b, key=str), sorted(b - a, key=str)
