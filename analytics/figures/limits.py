"""Whether a rate is beyond its limit: the one threshold decision behind the anomaly rules,
the headline tiles, the misclassification page's bars and lists, and the written report.

Limits come from the settings in force (``analytics.domain.settings``; defaults and sources
there, ../shared/DOMAIN.md "Thresholds"): a ceiling per rate (``Settings.rate_ceilings``,
"高于2%的，不得退出": a rate above it is beyond) and a floor for public approval
(``Settings.approval_floor``: below it is beyond). A rate at its limit is within; a missing
rate (empty denominator, unmeasured) or a rate without a limit is never beyond.
"""

from __future__ import annotations

import math

import pandas as pd

from analytics.domain.settings import Settings

FLOOR_RATES = frozenset({"approval_rate"})


def rate_limit(settings: Settings, rate: str) -> tuple[float | None, bool]:
    """The limit of ``rate`` in force and whether it is a floor.

    Parameters
    ----------
    settings : the limits in force.
    rate : a rate key of ``metrics.RATE_KEYS`` (a ``_households`` variant has the limit of
        its person-basis rate).

    Returns
    -------
    (limit, floor): the fraction (None when no limit is set), and True for a floor (the
    approval rate, ``settings.approval_floor``), False for a ceiling
    (``settings.rate_ceilings``).
    """
    base = rate.removesuffix("_households")
    if base in FLOOR_RATES:
        return settings.approval_floor, True
    return settings.rate_ceilings.get(base), False


def is_beyond(value: object, limit: float | None, floor: bool) -> bool | None:
    """Whether one rate is beyond ``limit``: above a ceiling, or below a floor.

    Parameters
    ----------
    value : the rate as a fraction; None, NaN or pd.NA when missing.
    limit : the limit as a fraction, None when none is set.
    floor : True when ``limit`` is a minimum.

    Returns
    -------
    True or False; None when the value or the limit is missing (not judged).
    """
    if limit is None or value is None or value is pd.NA:
        return None
    x = float(value)  # type: ignore[arg-type]
    if math.isnan(x):
        return None
    return x < limit if floor else x > limit


def beyond_limit(values: pd.Series, settings: Settings, rate: str) -> pd.Series:
    """Which units' ``rate`` is beyond its limit in force (``rate_limit``, ``is_beyond``).

    Parameters
    ----------
    values : shape (units,), the rate per unit as fractions (NaN, None or pd.NA when empty).
    settings, rate : as for ``rate_limit``.

    Returns
    -------
    pd.Series of bool, shape (units,), on ``values``' index: False where not judged.
    """
    limit, floor = rate_limit(settings, rate)
    return pd.Series(
        [bool(is_beyond(v, limit, floor)) for v in values], index=values.index, dtype=bool
    )
