"""Breakdowns behind the leaders' pages, as Ibis expressions over the stored tables.

The contract metrics live in ``metrics``; these are the finer cuts the pages chart:
registry state to outcome flows, causes of poverty, 两不愁三保障 shortfalls, income
against the poverty line, survey progress by day, meetings by day and phase, relocation
households against the area standard. Each function takes an Ibis backend and
``metrics.Filters`` and returns a pandas frame; counts are households (户) and persons
(人); none returns a name or an ID number except ``relocation_households`` (household id
only, never the head's ID number). Every frame cut by place has a ``county`` column first
("" for none, ``filters.apply_filters``): a township is known by its county.
"""

from __future__ import annotations

from functools import reduce
from operator import or_

import ibis
import ibis.expr.types as ir
import pandas as pd

from analytics.figures import persons
from analytics.figures.filters import Filters, apply_filters
from analytics.figures.metrics import REGISTERED, serving_village_rows
from analytics.figures.relocation import (
    concentrated,
    dispersed,
    over_standard,
    relocated,
    standard_area,
)

SECURE_FIELDS = ("food_clothing_secure", "education_secure", "medical_secure", "housing_secure")


def lacks(h: ir.Table, item: str) -> ir.BooleanValue:
    """Whether each household lacks one item of 两不愁三保障 (``SECURE_FIELDS``): its yes/no
    column says no. An empty cell is not a shortfall (false, never null)."""
    return (h[item] == False).fill_null(False)  # noqa: E712


def lacks_any(h: ir.Table) -> ir.BooleanValue:
    """Whether each household lacks any item of 两不愁三保障 (``lacks``): the shortfall the
    households page counts and the wrongful-exit rule flags (DOMAIN.md: a household exits
    only when all of 两不愁三保障 hold)."""
    return reduce(or_, [lacks(h, k) for k in SECURE_FIELDS])


def _households(con: ibis.BaseBackend, f: Filters) -> ir.Table:
    return apply_filters(persons.households(con), f)


def flows(con: ibis.BaseBackend, f: Filters) -> pd.DataFrame:
    """Households and persons by registry state x adjustment x verification finding.

    Columns: registry_state, adjustment, verification (None = no change / correct),
    households, persons.
    """
    h = _households(con, f)
    expr = h.group_by("registry_state", "adjustment", "verification").aggregate(
        households=h.count(), persons=h.household_size.sum()
    )
    return expr.order_by("registry_state", "adjustment", "verification").execute()


def causes(con: ibis.BaseBackend, f: Filters) -> pd.DataFrame:
    """Registered households by village and main cause of poverty (致贫原因).

    Columns: county, township, village, main_cause (None when not recorded), households,
    persons.
    """
    h = _households(con, f)
    h = h.filter(h.registry_state.isin(REGISTERED))
    expr = h.group_by("county", "township", "village", "main_cause").aggregate(
        households=h.count(), persons=h.household_size.sum()
    )
    return expr.order_by("county", "township", "village", "main_cause").execute()


def shortfalls(con: ibis.BaseBackend, f: Filters) -> pd.DataFrame:
    """Registered households per village lacking each item of 两不愁三保障.

    A household lacks an item when its yes/no column says no (an empty cell is not a
    shortfall). Columns: county, township, village, registered, then one count per item of
    ``SECURE_FIELDS``, ``any_shortfall``, and ``<item>_answered``: the households with a
    yes or no in that column (0 means the item was not recorded: its 0 shortfalls say
    nothing).
    """
    h = _households(con, f)
    h = h.filter(h.registry_state.isin(REGISTERED))
    expr = h.group_by("county", "township", "village").aggregate(
        registered=h.count(),
        **{k: lacks(h, k).ifelse(1, 0).sum() for k in SECURE_FIELDS},
        any_shortfall=lacks_any(h).ifelse(1, 0).sum(),
        **{f"{k}_answered": h[k].count() for k in SECURE_FIELDS},
    )
    return expr.order_by("county", "township", "village").execute()


def incomes(con: ibis.BaseBackend, f: Filters) -> pd.DataFrame:
    """Per-capita income (yuan/person/year) of each registered household, without identity.

    Columns: county, township, village, registry_state, household_size, income_per_capita
    (None when not recorded). For box plots and counts against a poverty line.
    """
    h = _households(con, f)
    h = h.filter(h.registry_state.isin(REGISTERED))
    return h.select(
        "county", "township", "village", "registry_state", "household_size", "income_per_capita"
    ).execute()


def survey_progress(con: ibis.BaseBackend, f: Filters) -> pd.DataFrame:
    """Households surveyed per village and day, with the running total.

    Columns: county, township, village, survey_date (None for rows without a date),
    households, cumulative (running total per village in date order; undated rows at the
    end).
    """
    h = _households(con, f)
    unit = ["county", "township", "village"]
    expr = h.group_by(*unit, "survey_date").aggregate(households=h.count())
    frame = expr.execute().sort_values([*unit, "survey_date"], na_position="last")
    frame["cumulative"] = frame.groupby(unit)["households"].cumsum()
    return frame.reset_index(drop=True)


def village_table(con: ibis.BaseBackend, f: Filters, source_rounds: dict[str, str]) -> pd.DataFrame:
    """The village table (村基本情况) rows serving the round, per township's source round.

    Columns: county, township, village, is_poor_village, households, population,
    rural_population.
    """
    v = con.table("villages")
    v = v.mutate(county=v.county.fill_null(""))  # as ``apply_filters`` gives it
    shown = (
        "county",
        "township",
        "village",
        "is_poor_village",
        "households",
        "population",
        "rural_population",
    )
    if not source_rounds:
        return v.select(*shown).limit(0).execute()
    v = serving_village_rows(v, source_rounds)
    if f.counties:
        v = v.filter(v.county.isin(f.counties))
    if f.townships:
        v = v.filter(v.township.isin(f.townships))
    if f.villages:
        v = v.filter(v.village.isin(f.villages))
    return v.select(*shown).order_by("county", "township", "village").execute()


def meetings(con: ibis.BaseBackend, f: Filters) -> pd.DataFrame:
    """Meetings per township, village, group, phase and day.

    Columns: county, township, village (None = township-level), group (None =
    village-level), phase, meeting_date, meetings (场), attendance (人次).
    """
    m = apply_filters(con.table("meetings"), f)
    unit = ("county", "township", "village", "group")
    expr = m.group_by(*unit, "phase", "meeting_date").aggregate(
        meetings=m.count(), attendance=m.attendance.sum()
    )
    return expr.order_by("meeting_date", *unit).execute()


def groups_without_meetings(con: ibis.BaseBackend, f: Filters) -> pd.DataFrame:
    """Groups that have surveyed households but no group-level meeting in the round.

    Columns: county, township, village, group, households.
    """
    h = _households(con, f)
    h = h.filter(h["group"].notnull())
    m = apply_filters(con.table("meetings"), f)
    unit = ["county", "township", "village", "group"]
    held = m.filter(m["group"].notnull()).select(*unit).distinct()
    units = h.group_by(*unit).aggregate(households=h.count())
    missing = units.anti_join(held, unit)
    return missing.order_by(*unit).execute()


def relocation_households(con: ibis.BaseBackend, f: Filters, area_standard: float) -> pd.DataFrame:
    """Each relocated household against the housing standard (m² per person).

    Each counts for the unit ``relocation.placed`` gives it (迁出村, else its registry
    village; null when neither is known, never dropped).

    Columns: county, township, village, household_id, site, mode, persons, house_area,
    standard_area (= standard x persons), over_area (m² above it, 0 when within),
    over_standard (bool), remedy, village_known (bool), concentrated and dispersed (bool,
    ``relocation.concentrated`` / ``relocation.dispersed``).
    """
    r = relocated(con, f)
    standard = standard_area(r.persons, area_standard)
    over = r.house_area - standard
    expr = r.select(
        "county",
        "township",
        "village",
        "household_id",
        "site",
        "mode",
        "persons",
        "house_area",
        standard_area=standard,
        over_area=ibis.greatest(over, 0),
        over_standard=over_standard(r.house_area, r.persons, area_standard),
        remedy=r.remedy,
        village_known=r.village_known,
        concentrated=concentrated(r.site, r.mode),
        dispersed=dispersed(r.mode),
    )
    return expr.order_by("county", "township", "village", "household_id").execute()


def income_summary(incomes: pd.DataFrame, level: str, line: float | None) -> pd.DataFrame:
    """Per unit, the spread of registered households' per-capita income and how many are
    below the poverty line: figures a leader may see, never one household's income.

    Parameters
    ----------
    incomes : ``incomes`` output (one row per registered household).
    level : the unit column ("township" or "village").
    line : the poverty line of the round's year (yuan per person per year), or None.

    Returns
    -------
    pd.DataFrame, one row per unit: ``level``, registered (户), with_income (户), q1,
    median, q3, low, high (yuan: quartiles, and the lowest and highest income within 1.5
    interquartile ranges of them, Tukey's whiskers), below, at_or_above (户; null without a
    line), missing (户 without an income).
    """
    rows = []
    for unit, part in incomes.groupby(level, sort=True):
        x = part["income_per_capita"].dropna().astype("float64")
        row: dict[str, object] = {
            level: unit,
            "registered": len(part),
            "with_income": len(x),
            "missing": int(part["income_per_capita"].isna().sum()),
            "below": int((x < line).sum()) if line is not None else None,
            "at_or_above": int((x >= line).sum()) if line is not None else None,
        }
        if len(x):
            q1, med, q3 = (float(v) for v in x.quantile([0.25, 0.5, 0.75]))
            spread = 1.5 * (q3 - q1)
            row |= {
                "q1": q1,
                "median": med,
                "q3": q3,
                "low": float(x[x >= q1 - spread].min()),
                "high": float(x[x <= q3 + spread].max()),
            }
        rows.append(row)
    columns = [level, "registered", "with_income", "q1", "median", "q3", "low", "high"]
    columns += ["below", "at_or_above", "missing"]
    return pd.DataFrame(rows, columns=columns)
