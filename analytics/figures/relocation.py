"""Relocated households (易地扶贫搬迁): which unit each counts for, and its housing standard.

The one home of two rules that every relocation figure reads: the metrics
(``relocated_*``, ``relocation_over_standard_*``, ``relocation_sites``), the breakdown
behind the relocation page (``breakdowns.relocation_households``) and the anomaly rule
H_RELOCATION_AREA (``rules``).

Which unit a relocated household counts for (../shared/DOMAIN.md, "Relocation": the
relocation sheet's village column is usually headed 迁出村, the village moved out of):

- a household relocated out of a village counts for that village: the sheet's 迁出村
  (stored as ``village``) when it is filled, with the sheet's 乡镇 (else the registry's);
- when 迁出村 is blank, the household's registry place: the township and village the
  households table of the same round gives its household id (户编号 appears at most once
  per round);
- when neither is known, the village is unknown (null): the household is still a
  relocated household, counted in its township's totals (township from the sheet) and
  shown as a unit of its own with no village name; a village filter leaves it out,
  because it is in none of the chosen villages. It is never dropped silently;
- the group (村民小组) is the sheet's when filled, else the registry's group when the
  registry places the household in that same township and village, else unknown.

Concentrated or dispersed (集中 / 分散安置): a household is dispersed when its 安置方式 says
分散; a concentrated household is one at a named site (安置点) that is not dispersed; the
distinct sites of concentrated households are the round's concentrated resettlement sites
(``relocation_sites``). A household without a site that is not dispersed is neither.

Over the housing standard: house area (住房面积, m²) > standard (m² per person, default 25,
``Settings.area_standard``, national 13th Five-Year relocation plan) x persons moved
(搬迁人口, from the relocation table, not household size). A missing area or persons count
is not over (the comparison is null, counted as false).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from analytics.figures.filters import Filters, apply_filters


def placed(con: ibis.BaseBackend, round_name: str) -> ir.Table:
    """The relocation rows of ``round_name`` with the unit each counts for.

    Parameters
    ----------
    con : an Ibis backend holding the tables relocation and households.
    round_name : the round (批次).

    Returns
    -------
    ir.Table, one row per relocation row of the round (never more, never fewer): every
    relocation column, with ``township``, ``village`` and ``group`` replaced by the unit
    the household counts for (see the module docstring; null where unknown), and
    ``village_known`` (bool: False when neither 迁出村 nor the registry names a village).
    """
    r = con.table("relocation")
    r = r.filter(r["round"] == round_name)
    h = con.table("households")
    h = h.filter(h["round"] == round_name)
    registry = h.select(
        _hid=h.household_id,
        _province=h.province,
        _county=h.county,
        _township=h.township,
        _village=h.village,
        _group=h["group"],
    )
    j = r.left_join(registry, r.household_id == registry._hid)
    own = j.village.notnull()
    township = ibis.ifelse(
        own, j.township.fill_null(j._township), j._township.fill_null(j.township)
    )
    # the county and province of the township it counts for (a township is known by them)
    above = {
        k: ibis.ifelse(own, j[k].fill_null(j[f"_{k}"]), j[f"_{k}"].fill_null(j[k]))
        for k in ("province", "county")
    }
    village = j.village.fill_null(j._village)
    same_place = ((j._township == township) & (j._village == village)).fill_null(False)
    group = j["group"].fill_null(ibis.ifelse(same_place, j._group, ibis.null("string")))
    return j.mutate(
        **above, township=township, village=village, group=group, village_known=village.notnull()
    ).drop("_hid", "_province", "_county", "_township", "_village", "_group")


def relocated(con: ibis.BaseBackend, filters: Filters) -> ir.Table:
    """The relocation rows inside ``filters``, each placed by ``placed``.

    The filters apply to the unit a household counts for: a household whose 迁出村 is blank
    is inside a village filter when its registry village is one of the chosen villages.
    Every row gets the constant ``county`` column of ``apply_filters``.

    Parameters
    ----------
    con : an Ibis backend holding the tables relocation and households.
    filters : the round and optional township / village / group filters.

    Returns
    -------
    ir.Table with the columns of ``placed`` plus ``county``.
    """
    return apply_filters(placed(con, filters.round), filters)


def standard_area(persons: ir.NumericValue, standard: float) -> ir.FloatingValue:
    """The largest house area within the standard: ``standard`` (m² per person) x persons."""
    return persons.cast("float64") * ibis.literal(float(standard), type="float64")


def over_standard(
    house_area: ir.NumericValue, persons: ir.NumericValue, standard: float
) -> ir.BooleanValue:
    """Whether a relocated house is over the standard: area (m²) > ``standard`` x persons.

    Null when the area or the persons count is missing (count it as not over).
    """
    return house_area.cast("float64") > standard_area(persons, standard)


def dispersed(mode: ir.StringValue) -> ir.BooleanValue:
    """Whether a relocated household was resettled dispersed (安置方式 contains 分散)."""
    return mode.fill_null("").contains("分散")


def concentrated(site: ir.StringValue, mode: ir.StringValue) -> ir.BooleanValue:
    """Whether a relocated household lives at a concentrated site: a named site, not
    dispersed. Its site counts among the round's ``relocation_sites``."""
    return site.notnull() & ~dispersed(mode)
