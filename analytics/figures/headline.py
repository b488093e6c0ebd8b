"""The overview's headline: count tiles and rate tiles, each with where it comes from.

A tile shows one figure of the area (households and persons, or a rate), how well the
files measured it (``analytics.coverage``), the round it comes from, and, for rates,
whether it is beyond its threshold (``Settings.rate_ceilings``, ``approval_floor``).
With a round chosen every tile comes from that round; with none chosen (the year's
picture, as the seed report reads) each tile comes from the latest round of the year
that measured it, and names it: no rate is computed across rounds, each is one round's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from analytics.domain.settings import Settings
from analytics.figures import coverage, metrics
from analytics.figures.limits import is_beyond, rate_limit

# Count tiles: each shows <family>_households and <family>_persons.
COUNT_TILES: tuple[str, ...] = (
    "registered",
    "remaining_poor",
    "exited",
    "new",
    "relapse",
    "exit_proposed",
    "removed",
    "inclusion_error",
    "exclusion_error",
    "wrongful_exit",
    "relocated",
    "relocation_over_standard",
)
MEETING_TILE = "meetings"  # meetings (场) and meeting_attendance (人次)
# Rate tiles in display order; approval is a floor, the others ceilings.
RATE_TILES: tuple[str, ...] = (
    "inclusion_error_rate",
    "exclusion_error_rate",
    "wrongful_exit_rate",
    "comprehensive_poverty_rate",
    "approval_rate",
)


@dataclass(frozen=True)
class Figure:
    """One metric of the area: its value (None when missing), how well it was measured,
    the round it comes from, and the inputs behind a missing or partial status."""

    value: float | None
    status: str
    round: str
    missing: tuple[str, ...] = ()
    partial: tuple[str, ...] = ()


Figures = Mapping[str, Figure]


def _value(v: object) -> float | None:
    return None if v is None or pd.isna(v) else float(v)  # type: ignore[arg-type]


def figures_of_round(row: pd.Series | Mapping[str, object], round_name: str) -> dict[str, Figure]:
    """Every metric of one ``queries.metrics_frame`` row (county level) of ``round_name``."""
    return {
        key: Figure(
            _value(row.get(key)),
            coverage.metric_status(row, key),
            round_name,
            tuple(coverage.missing_inputs(row, key)),
            tuple(coverage.partial_inputs(row, key)),
        )
        for key in metrics.METRIC_KEYS
    }


def figures_of_year(rows: Sequence[tuple[str, pd.Series]]) -> dict[str, Figure]:
    """The year's picture: each metric from the first of ``rows`` (round, county-level row;
    newest round first) that measured it fully, else the first that measured it partly;
    missing (naming the newest round) when none did.
    """
    out: dict[str, Figure] = {}
    per_round = [figures_of_round(row, name) for name, row in rows]
    for key in metrics.METRIC_KEYS:
        full = [f[key] for f in per_round if f[key].status == coverage.FULL]
        some = [f[key] for f in per_round if f[key].status == coverage.PARTIAL]
        out[key] = (full or some or [per_round[0][key]])[0]
    return out


@dataclass(frozen=True)
class Tile:
    """One headline tile.

    ``keys`` are the metric keys shown (households and persons, meetings and attendance, or
    one rate); ``limit`` the threshold of a rate (a floor when ``floor``), ``beyond`` whether
    the rate is past it (None when the rate is missing); ``change`` the difference with the
    compared round per key (None: no comparison or a missing side).
    """

    name: str
    keys: tuple[str, ...]
    figures: tuple[Figure, ...]
    limit: float | None = None
    floor: bool = False
    beyond: bool | None = None
    change: tuple[float | None, ...] = ()

    @property
    def status(self) -> str:
        """The least measured of its figures."""
        return coverage.worst(f.status for f in self.figures)

    @property
    def rounds(self) -> tuple[str, ...]:
        """The rounds its figures come from (one, in practice)."""
        return tuple(dict.fromkeys(f.round for f in self.figures))


def _change(key: str, now: Figures, before: Figures | None) -> float | None:
    """now - before, only when both rounds measured ``key`` fully (a partial figure's change
    says nothing)."""
    if before is None:
        return None
    a, b = now[key], before[key]
    if a.status != coverage.FULL or b.status != coverage.FULL or a.value is None:
        return None
    return None if b.value is None else a.value - b.value


def count_tiles(now: Figures, before: Figures | None = None) -> list[Tile]:
    """The count tiles (``COUNT_TILES`` and meetings): households and persons each."""
    out = []
    for fam in COUNT_TILES:
        keys = (f"{fam}_households", f"{fam}_persons")
        out.append(
            Tile(
                f"{fam}_households",
                keys,
                tuple(now[k] for k in keys),
                change=tuple(_change(k, now, before) for k in keys),
            )
        )
    keys = ("meetings", "meeting_attendance")
    out.append(
        Tile(
            "meetings_count",
            keys,
            tuple(now[k] for k in keys),
            change=tuple(_change(k, now, before) for k in keys),
        )
    )
    return out


def rate_tiles(
    now: Figures, settings: Settings, basis: str, before: Figures | None = None
) -> list[Tile]:
    """The rate tiles on ``basis`` ("persons", the official one, or "households"), each
    against its threshold: ``Settings.rate_ceilings`` (a rate above it is beyond) or
    ``Settings.approval_floor`` (approval below it is beyond); sources in
    ``analytics.settings``."""
    out = []
    for rate in RATE_TILES:
        key = rate if basis == "persons" or rate == "approval_rate" else f"{rate}_households"
        fig = now[key]
        limit, floor = rate_limit(settings, rate)
        beyond = is_beyond(fig.value, limit, floor)
        out.append(
            Tile(
                key,
                (key,),
                (fig,),
                limit=limit,
                floor=floor,
                beyond=beyond,
                change=(_change(key, now, before),),
            )
        )
    return out


# Above this many units the overview's heading says "county totals" instead of naming them.
NAMED_UNITS = 3


def named_units(names: Sequence[str]) -> tuple[str, ...] | None:
    """The units the overview's heading names: all of ``names`` when there are at most
    ``NAMED_UNITS``, else None (the heading then says the figures are totals)."""
    return tuple(names) if len(names) <= NAMED_UNITS else None


def unit_columns(basis: str) -> list[str]:
    """The per-unit table's columns that matter (about a dozen that fit a screen), on
    ``basis`` ("households" or "persons"); every other metric is a choice away."""
    b = basis
    return [
        "households_total",
        f"registered_{b}",
        f"new_{b}",
        f"relapse_{b}",
        f"exit_proposed_{b}",
        f"inclusion_error_{b}",
        "inclusion_error_rate" if b == "persons" else "inclusion_error_rate_households",
        f"exclusion_error_{b}",
        "exclusion_error_rate" if b == "persons" else "exclusion_error_rate_households",
        f"wrongful_exit_{b}",
        "wrongful_exit_rate" if b == "persons" else "wrongful_exit_rate_households",
        "comprehensive_poverty_rate" if b == "persons" else "comprehensive_poverty_rate_households",
        "meetings",
        f"relocated_{b}",
    ]


def year_units(
    frames: Mapping[str, pd.DataFrame],
    figures: Figures,
    keys: Sequence[str],
    columns: Sequence[str],
    lang: str = "zh",
) -> pd.DataFrame:
    """The year's picture per unit: each column of ``columns`` from the round its headline
    figure comes from (``figures[column].round``), over the units of all those rounds.

    ``frames`` maps each such round to its ``queries.metrics_frame`` at the units' level
    (unit columns ``keys``). A unit a round does not hold has that round's columns empty.
    Instead of coverage columns the result has a ``notes`` column: why a figure of the row
    is missing or partial in its own round.
    """
    keys = list(keys)
    out: pd.DataFrame | None = None
    for round_name, frame in frames.items():
        mine = [c for c in columns if figures[c].round == round_name and c in frame.columns]
        if not mine:
            continue
        part = frame[[*keys, *mine]].copy()
        part["_notes"] = [
            [coverage.row_why(row, c, lang) for c in mine] for row in frame.to_dict("records")
        ]
        if out is None:
            out = part
            continue
        out = out.merge(part, on=keys, how="outer", suffixes=("", "_other"))
        out["_notes"] = [
            (a if isinstance(a, list) else []) + (b if isinstance(b, list) else [])
            for a, b in zip(out["_notes"], out["_notes_other"], strict=True)
        ]
        out = out.drop(columns=["_notes_other"])
    if out is None:
        return pd.DataFrame(columns=[*keys, *columns, "notes"])
    out["notes"] = ["；".join(dict.fromkeys(w for w in n if w)) for n in out["_notes"]]
    ordered = [*keys, *[c for c in columns if c in out.columns], "notes"]
    return out[ordered].sort_values(keys, na_position="last").reset_index(drop=True)
