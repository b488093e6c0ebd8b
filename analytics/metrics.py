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
- relocation persons come from the relocation table (搬迁人口); over standard means house
  area (m²) > standard (m² per person, default 25) × persons;
- comprehensive poverty rate = (remaining poor + exclusion error + wrongful exit persons)
  / rural population: the village table's 乡村人口 for a village (summed for a township),
  the unit's own persons_total where the village is missing, and always for a group or
  under a group filter. The village table is the one imported in the round, else the
  latest other round's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

LEVELS: dict[str, tuple[str, ...]] = {
    "county": ("county",),  # everything selected, as one unit (county totals)
    "township": ("township",),
    "village": ("township", "village"),
    "group": ("township", "village", "group"),
}
REGISTERED = ("remaining_poor", "exited")
RELOCATION_AREA_STANDARD = 25.0  # m² per person: national 13th Five-Year relocation plan

# (family, predicate source) for household counts; each yields <family>_households/_persons.
STATE_FAMILIES = ("registered", "remaining_poor", "exited", "nonregistered")
ADJUSTMENT_FAMILIES = ("new", "relapse", "exit_proposed", "removed")
FINDING_FAMILIES = {
    "inclusion_error": REGISTERED,
    "exclusion_error": ("nonregistered",),
    "wrongful_exit": ("exited",),
}
RELOCATION_FAMILIES = ("relocated", "relocation_over_standard")
# rate key -> (numerator family, denominator family)
RATES = {
    "inclusion_error_rate": ("inclusion_error", "registered"),
    "exclusion_error_rate": ("exclusion_error", "nonregistered"),
    "wrongful_exit_rate": ("wrongful_exit", "exited"),
}
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
class Filters:
    """Which rows count: a round and optionally some townships, villages and groups.

    Empty tuples mean "all". A village or group filter leaves out meetings that have no
    village (township-level) or no group (village-level).
    """

    round: str
    townships: tuple[str, ...] = ()
    villages: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()


def apply_filters(t: ir.Table, f: Filters, *, has_group: bool = True) -> ir.Table:
    """Rows of ``t`` in the filters' round, townships, villages and (if ``has_group``) groups;
    every row gets a constant ``county`` column, the key of the "county" level."""
    t = t.filter(t["round"] == f.round).mutate(county=ibis.literal(""))
    if f.townships:
        t = t.filter(t.township.isin(f.townships))
    if f.villages:
        t = t.filter(t.village.isin(f.villages))
    if f.groups and has_group:
        t = t.filter(t["group"].isin(f.groups))
    return t


def _n(cond: ir.BooleanValue) -> ir.IntegerScalar:
    return cond.fill_null(False).ifelse(1, 0).sum()


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
        aggs[f"{fam}_persons"] = cond.fill_null(False).ifelse(size, 0).sum()
    return h.group_by(list(keys)).aggregate(**aggs)


def _meeting_agg(m: ir.Table, level: str, keys: Sequence[str]) -> ir.Table:
    if level in ("village", "group"):
        m = m.filter(m.village.notnull())
    if level == "group":
        m = m.filter(m["group"].notnull())
    return m.group_by(list(keys)).aggregate(
        meetings=m.count(), meeting_attendance=m.attendance.sum()
    )


def _relocation_agg(r: ir.Table, h: ir.Table, keys: Sequence[str], standard: float) -> ir.Table:
    where = h.select(
        household_id=h.household_id, _village=h.village, group=h["group"], _township=h.township
    )
    j = r.drop("group").left_join(where, "household_id")
    j = j.mutate(
        township=j.township.fill_null(j._township),
        village=j.village.fill_null(j._village).fill_null(""),
        group=j["group"].fill_null(""),
    )
    over = j.house_area > j.persons * standard
    concentrated = j.site.notnull() & ~j.mode.fill_null("").contains("分散")
    return j.group_by(list(keys)).aggregate(
        relocated_households=j.count(),
        relocated_persons=j.persons.sum(),
        relocation_over_standard_households=_n(over),
        relocation_over_standard_persons=over.fill_null(False).ifelse(j.persons, 0).sum(),
        relocation_sites=concentrated.ifelse(j.site, ibis.null("string")).nunique(),
    )


def village_table_rounds(con: ibis.BaseBackend, round_name: str, order: Sequence[str]) -> dict:
    """Per township, the round whose village table (村基本情况) serves ``round_name``.

    ``order`` is the round order (oldest first). The round's own table wins; else the latest
    other round that has one for that township.
    """
    v = con.table("villages")
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
    area_standard: float = RELOCATION_AREA_STANDARD,
) -> ir.Table:
    """The unexecuted expression of every metric for one round at one level.

    Parameters
    ----------
    con : an Ibis backend holding the tables households, meetings, relocation, villages.
    filters : the round and optional township / village / group filters.
    level : "county" (all selected rows as one unit), "township", "village" or "group".
    village_rounds : township -> the round whose village table to use (see
        ``village_table_rounds``); None uses the round's own only.
    area_standard : relocation housing standard in m² per person.

    Raises
    ------
    ValueError
        For an unknown level.
    """
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}; use one of {', '.join(LEVELS)}")
    keys = LEVELS[level]
    h = apply_filters(con.table("households"), filters)
    m = apply_filters(con.table("meetings"), filters)
    r_all = con.table("relocation")
    r = apply_filters(
        r_all, Filters(filters.round, filters.townships, filters.villages), has_group=False
    )
    if filters.groups:
        r = r.filter(r.household_id.isin(h.household_id))
    hh = _household_agg(h.mutate(group=h["group"].fill_null("")), keys)
    mt = _meeting_agg(m, level, keys)
    if level == "group":
        mt = mt.mutate(group=mt["group"].fill_null(""))
    rl = _relocation_agg(r, h, keys, area_standard)

    units = hh.select(*keys).union(mt.select(*keys)).union(rl.select(*keys)).distinct()
    t = units
    for part in (hh, mt, rl):
        t = t.left_join(part, list(keys))
        t = t.drop(*[c for c in t.columns if c.endswith("_right")])
    t = t.mutate(**{c: t[c].fill_null(0) for c in t.columns if c not in keys})
    t = _with_rural(con, t, filters, level, keys, village_rounds or {})
    rates: dict[str, ir.Value] = {}
    for key, (num, den) in RATES.items():
        rates[key] = _rate(t[f"{num}_persons"], t[f"{den}_persons"])
        rates[f"{key}_households"] = _rate(t[f"{num}_households"], t[f"{den}_households"])
    poor_p = t.remaining_poor_persons + t.exclusion_error_persons + t.wrongful_exit_persons
    poor_h = t.remaining_poor_households + t.exclusion_error_households + t.wrongful_exit_households
    rates["comprehensive_poverty_rate"] = _rate(poor_p, t.rural_population)
    rates["comprehensive_poverty_rate_households"] = _rate(poor_h, t.rural_households)
    rates["approval_rate"] = _rate(t.approval_yes, t.approval_answered)
    t = t.mutate(round=ibis.literal(filters.round), **rates)
    # "" stood in for a missing name so that joins match; show it as missing again.
    t = t.mutate(**{k: ibis.ifelse(t[k] == "", ibis.null("string"), t[k]) for k in keys[1:]})
    return t.select(*keys, "round", *METRIC_KEYS).order_by(list(keys))


def _with_rural(con, t: ir.Table, filters: Filters, level, keys, village_rounds) -> ir.Table:
    """Adds rural_population / rural_households: the denominators of the comprehensive rate."""
    # A group, or some groups only, is compared with its own persons: 乡村人口 is per village.
    if level == "group" or filters.groups or not village_rounds:
        return t.mutate(rural_population=t.persons_total, rural_households=t.households_total)
    v = con.table("villages")
    pairs = ibis.memtable(
        {"township": list(village_rounds), "round": list(village_rounds.values())}
    )
    v = v.inner_join(pairs, ["township", "round"])
    v = v.select("township", "village", "rural_population", "households")
    if filters.villages:
        v = v.filter(v.village.isin(filters.villages))
    v = v.group_by("township", "village").aggregate(
        table_rural=v.rural_population.max(), table_households=v.households.max()
    )
    # Per village first (the table's figure, else the village's own), then up to the level.
    h = apply_filters(con.table("households"), filters)
    per_village = h.group_by("county", "township", "village").aggregate(
        own_p=h.household_size.sum(), own_h=h.count()
    )
    pv = per_village.left_join(v, ["township", "village"])
    pv = pv.drop(*[c for c in pv.columns if c.endswith("_right")])
    pv = pv.select(
        "county",
        "township",
        "village",
        rp=pv.table_rural.fill_null(pv.own_p),
        rh=pv.table_households.fill_null(pv.own_h),
    )
    den = pv.group_by(list(keys)).aggregate(
        rural_population=pv.rp.sum(), rural_households=pv.rh.sum()
    )
    out = t.left_join(den, list(keys))
    out = out.drop(*[c for c in out.columns if c.endswith("_right")])
    return out.mutate(
        rural_population=out.rural_population.fill_null(0),
        rural_households=out.rural_households.fill_null(0),
    )


def compute(
    con: ibis.BaseBackend,
    filters: Filters,
    level: str = "village",
    *,
    round_order: Sequence[str] = (),
    area_standard: float = RELOCATION_AREA_STANDARD,
) -> pd.DataFrame:
    """Every metric for one round at one level, as a pandas frame (one row per unit).

    Counts are integers (households 户, persons 人, meetings 场, attendance 人次); rates are
    fractions (0.0523) with NaN/None for a zero denominator. ``round_order`` (oldest first)
    picks the village table when the round has none.
    """
    village_rounds = village_table_rounds(con, filters.round, round_order or [filters.round])
    expr = metrics_expr(
        con, filters, level, village_rounds=village_rounds, area_standard=area_standard
    )
    frame = expr.execute()
    for c in COUNT_KEYS:
        frame[c] = frame[c].astype("int64")
    for c in RATE_KEYS:
        frame[c] = frame[c].astype("float64")
    return frame


def compare(now: pd.DataFrame, before: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Per unit, every metric of ``now`` minus the same metric of ``before``.

    Both frames come from ``compute`` at the same level; ``keys`` are its unit columns. A unit
    present in one round only compares with zero counts; a rate missing in either round gives
    an empty change. Rate changes are in fractions (0.0025 = 0.25 percentage points).
    """
    keys = list(keys)
    merged = now.merge(before, on=keys, how="outer", suffixes=("", "_before"))
    out = merged[keys].copy()
    for c in COUNT_KEYS:
        out[c] = merged[c].fillna(0).astype("int64") - merged[f"{c}_before"].fillna(0).astype(
            "int64"
        )
    for c in RATE_KEYS:
        out[c] = merged[c] - merged[f"{c}_before"]
    return out.sort_values(keys).reset_index(drop=True)
