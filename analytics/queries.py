"""Read access shared by the pages and the command line: the store seen through Ibis."""

from __future__ import annotations

from collections.abc import Sequence

import ibis
import pandas as pd

from analytics import metrics
from analytics.store import Store


def backend(store: Store) -> ibis.BaseBackend:
    """An Ibis DuckDB backend on a fresh cursor of the store (one per caller/thread)."""
    return ibis.duckdb.from_connection(store.cursor())


def metrics_frame(
    store: Store,
    round_name: str | None = None,
    level: str = "village",
    *,
    townships: Sequence[str] = (),
    villages: Sequence[str] = (),
    groups: Sequence[str] = (),
    area_standard: float = metrics.RELOCATION_AREA_STANDARD,
) -> pd.DataFrame:
    """Every metric for one round (the latest when None) at one level, filtered.

    Returns an empty frame with the metric columns when the database holds no round.

    Raises
    ------
    KeyError
        When ``round_name`` is not a round of the database.
    ValueError
        For an unknown level.
    """
    if level not in metrics.LEVELS:
        raise ValueError(f"unknown level {level!r}; use one of {', '.join(metrics.LEVELS)}")
    order = store.round_names()
    if round_name is None:
        if not order:
            keys = metrics.LEVELS[level]
            return pd.DataFrame(columns=[*keys, "round", *metrics.METRIC_KEYS])
        round_name = order[-1]
    elif round_name not in order:
        raise KeyError(round_name)
    filters = metrics.Filters(round_name, tuple(townships), tuple(villages), tuple(groups))
    return metrics.compute(
        backend(store), filters, level, round_order=order, area_standard=area_standard
    )
