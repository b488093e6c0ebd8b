"""The aggregates a page shows, made from the frames of ``queries`` (breakdowns, metrics,
anomaly hits), so that the pages, the command line and the report share them.

Each function takes a frame as ``queries`` returns it and returns a new one; none reads
the store, none translates a word: where a group needs a name for "not recorded" (a
meeting's phase, a township-level meeting) the caller passes it. Counts are households
(户, one row of a household breakdown each), persons (人, the sum of household size or
of relocated persons), meetings (场) and attendances (人次).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from analytics.figures.breakdowns import SECURE_FIELDS
from analytics.figures.rules import SEVERITIES

# ---------------------------------------------------------------- shared shapes


def household_counts(rows: pd.DataFrame, keys: Sequence[str]) -> pd.DataFrame:
    """Households and persons per combination of ``keys``, one household a row.

    Parameters
    ----------
    rows : one row per household, with ``household_id``, ``persons`` and ``keys``.
    keys : the grouping columns; a row with an empty key is left out (pandas' groupby).

    Returns
    -------
    pd.DataFrame: ``keys``, households (户: rows with a household id), persons (人: sum
    of ``persons``), sorted by ``keys``.
    """
    return rows.groupby(list(keys), as_index=False).agg(
        households=("household_id", "count"), persons=("persons", "sum")
    )


def spread(frame: pd.DataFrame, index: str, columns: str, values: str) -> pd.DataFrame:
    """``values`` summed per ``index`` (rows) x ``columns`` (one column per value of it),
    0 where a pair has no row: the table behind a stacked bar chart.

    Returns
    -------
    pd.DataFrame: ``index``, then one column per value of ``columns`` (sorted).
    """
    return frame.pivot_table(
        index=index, columns=columns, values=values, aggfunc="sum", fill_value=0
    ).reset_index()


def units_with_any(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The rows of ``frame`` whose ``columns`` add up to more than 0 (a unit with any of
    those counts), as a copy."""
    return frame[frame[list(columns)].sum(axis=1) > 0].copy()


# ---------------------------------------------------------------- survey progress


def progress_per_day(progress: pd.DataFrame, level: str) -> pd.DataFrame:
    """Households surveyed per unit and day, and the running total per unit.

    Parameters
    ----------
    progress : ``queries.survey_progress`` (township, village, survey_date, households).
    level : the unit column, "township" or "village".

    Returns
    -------
    pd.DataFrame: ``level``, survey_date, households (户 surveyed that day), cumulative
    (户 surveyed up to that day in the unit). Rows without a survey date are left out
    (``survey_completion`` counts them).
    """
    dated = progress.dropna(subset=["survey_date"])
    per_day = dated.groupby([level, "survey_date"], as_index=False)["households"].sum()
    per_day["cumulative"] = per_day.groupby(level)["households"].cumsum()
    return per_day


def surveys_per_date(progress: pd.DataFrame) -> pd.DataFrame:
    """Households surveyed per day over the whole area (rows without a date left out).

    Returns
    -------
    pd.DataFrame: survey_date, households (户).
    """
    dated = progress.dropna(subset=["survey_date"])
    return dated.groupby("survey_date", as_index=False)["households"].sum()


def survey_completion(progress: pd.DataFrame, targets: pd.DataFrame, level: str) -> pd.DataFrame:
    """Per unit, the households surveyed against the village table's household count.

    Parameters
    ----------
    progress : ``queries.survey_progress``.
    targets : ``queries.village_table`` (its ``households`` column is the target); may be
        empty, then the target and completion are null.
    level : the unit column, "township" or "village".

    Returns
    -------
    pd.DataFrame: ``level``, households (户 surveyed), undated (户 of them without a survey
    date), target (户 in the village table; null for a unit it does not list), completion
    (households / target, a fraction).
    """
    done = progress.groupby(level, as_index=False)["households"].sum()
    undated = progress[progress["survey_date"].isna()].groupby(level)["households"].sum()
    done["undated"] = done[level].map(undated).fillna(0).astype(int)
    if len(targets):
        done["target"] = done[level].map(targets.groupby(level)["households"].sum())
        done["completion"] = done["households"] / done["target"]
    else:
        done["target"] = pd.Series(dtype="float64")
        done["completion"] = pd.Series(dtype="float64")
    return done


def campaign_phases(meetings: pd.DataFrame) -> pd.DataFrame:
    """The campaign's phases (贫情分析, 实地调查, …): the span of their meetings' dates.

    Parameters
    ----------
    meetings : ``queries.meetings``; meetings without a date or a phase are left out.

    Returns
    -------
    pd.DataFrame: phase, first, last (the first and last meeting date), in order of
    ``first``.
    """
    dated = meetings.dropna(subset=["meeting_date", "phase"])
    spans = dated.groupby("phase")["meeting_date"].agg(first="min", last="max")
    return spans.sort_values("first").reset_index()


# ---------------------------------------------------------------- meetings


def _per_session(frame: pd.DataFrame) -> pd.DataFrame:
    frame["per_session"] = (frame["attendance"] / frame["meetings"]).round(1)
    return frame


def meetings_per_unit(meetings: pd.DataFrame, level: str, township_level: str) -> pd.DataFrame:
    """Meetings and attendance per township, or per village with the township-level
    meetings (no village) as one more unit named ``township_level``.

    Parameters
    ----------
    meetings : ``queries.meetings``.
    level : "township" or "village".
    township_level : the name of the unit of the meetings without a village.

    Returns
    -------
    pd.DataFrame: unit, meetings (场), attendance (人次), per_session (人次 per 场, one
    decimal), sorted by unit.
    """
    unit = (
        meetings["village"].fillna(township_level) if level == "village" else meetings["township"]
    )
    per_unit = meetings.assign(unit=unit).groupby("unit", as_index=False)
    return _per_session(per_unit[["meetings", "attendance"]].sum())


def meetings_per_day(meetings: pd.DataFrame, no_phase: str) -> pd.DataFrame:
    """Meetings and attendance per day and phase (a meeting without a phase under
    ``no_phase``; one without a date left out).

    Returns
    -------
    pd.DataFrame: meeting_date, phase, meetings (场), attendance (人次).
    """
    m = meetings.assign(phase=meetings["phase"].fillna(no_phase))
    return m.groupby(["meeting_date", "phase"], as_index=False)[["meetings", "attendance"]].sum()


def meetings_per_phase(meetings: pd.DataFrame, no_phase: str) -> pd.DataFrame:
    """Meetings and attendance per phase (a meeting without a phase under ``no_phase``).

    Returns
    -------
    pd.DataFrame: phase, meetings (场), attendance (人次), per_session (人次 per 场, one
    decimal).
    """
    m = meetings.assign(phase=meetings["phase"].fillna(no_phase))
    return _per_session(m.groupby("phase", as_index=False)[["meetings", "attendance"]].sum())


def meetings_per_group(meetings: pd.DataFrame) -> pd.DataFrame:
    """Meetings and attendance per village group (meetings held for a whole village or
    township left out).

    Returns
    -------
    pd.DataFrame: township, village, group, meetings (场), attendance (人次).
    """
    keys = ["township", "village", "group"]
    grouped = meetings.dropna(subset=["group"]).groupby(keys, as_index=False)
    return grouped[["meetings", "attendance"]].sum()


def villages_without_meetings(villages: pd.DataFrame) -> list[str]:
    """The villages of a village-level ``queries.metrics_frame`` that held no meeting
    (``meetings`` is 0; a village whose round did not record meetings has a null there and
    is not listed)."""
    silent = villages["meetings"].eq(0).fillna(False)
    return villages.loc[silent, "village"].dropna().tolist()


# ---------------------------------------------------------------- households


def answered_items(shortfalls: pd.DataFrame) -> list[str]:
    """The 两不愁三保障 items (``breakdowns.SECURE_FIELDS``) that the files answered for
    at least one registered household of ``queries.shortfalls``: an item nobody answered
    has 0 shortfalls that say nothing."""
    return [k for k in SECURE_FIELDS if shortfalls[f"{k}_answered"].sum() > 0]


def shortfalls_per_unit(shortfalls: pd.DataFrame, level: str, items: Sequence[str]) -> pd.DataFrame:
    """Registered households and those lacking each of ``items`` per unit.

    Returns
    -------
    pd.DataFrame: ``level``, registered (户), one count (户) per item.
    """
    return shortfalls.groupby(level, as_index=False)[["registered", *items]].sum()


def incomes_recorded(summary: pd.DataFrame) -> bool:
    """Whether any household of a ``breakdowns.income_summary`` has an income."""
    return bool(summary["with_income"].sum())


# ---------------------------------------------------------------- anomalies


def anomaly_counts(hits: pd.DataFrame, rule: str, unit: str) -> pd.DataFrame:
    """Hits per rule (rows, by the column ``rule``: its name in a language) and unit
    (columns, by the column ``unit``: "township" or "village"; a hit without one under
    NaN), 0 where a rule hit nothing in a unit.

    Parameters
    ----------
    hits : ``queries.anomalies`` (one row per hit).
    """
    return hits.groupby([rule, unit], dropna=False).size().unstack(fill_value=0)


def flagged_households(hits: pd.DataFrame) -> int:
    """How many households (户) the household-level hits of ``hits`` concern."""
    return int(hits.loc[hits["level"] == "household", "household_id"].nunique())


def anomaly_households(
    hits: pd.DataFrame, household_ids: Sequence[str], rule: str, message: str
) -> pd.DataFrame:
    """Every household-level rule that each of ``household_ids`` hits, one row a household.

    Parameters
    ----------
    hits : ``queries.anomalies``.
    household_ids : the households to describe.
    rule, message : the columns of the rule's name and message in the language shown.

    Returns
    -------
    pd.DataFrame: township, village, group, household_id, rules (the names joined with
    "；", each once), why (the messages joined with "；"), severity (the most severe of
    the hits, a ``rules.SEVERITIES`` code).
    """
    mine = hits[(hits["level"] == "household") & hits["household_id"].isin(household_ids)]
    return (
        mine.groupby(["township", "village", "group", "household_id"], dropna=False)
        .agg(
            rules=(rule, lambda v: "；".join(dict.fromkeys(v))),
            why=(message, lambda v: "；".join(v)),
            severity=("severity", lambda v: min(v, key=SEVERITIES.index)),
        )
        .reset_index()
    )


# ---------------------------------------------------------------- first figure


def first_counted(totals: pd.Series | dict, families: Sequence[str]) -> str:
    """The first of ``families`` with any household in ``totals`` (a county-level
    ``queries.metrics_frame`` row: ``<family>_households``), else the first family."""
    for family in families:
        n = totals.get(f"{family}_households")
        if pd.notna(n) and n:
            return family
    return families[0]
