"""Headline tiles (``analytics.headline``) drawn as Streamlit metrics.

A missing figure shows "—" and says why on the tile; a partial one is marked and says
why in its tooltip; in the year's picture each tile names the round it comes from.
"""

from __future__ import annotations

from collections.abc import Sequence

import streamlit as st

from analytics.domain.labels import fmt_change, fmt_change_rate, fmt_count, fmt_rate
from analytics.figures import coverage, headline
from ui.common import lang, md, t, tm

_UNITS = {
    "households": "households_unit",
    "persons": "persons_unit",
    "meetings": "sessions_unit",
    "meeting_attendance": "attendance_unit",
}


def _unit(key: str) -> str:
    for suffix, unit in _UNITS.items():
        if key == suffix or key.endswith(f"_{suffix}"):
            return t(unit)
    return ""


def _why(tile: headline.Tile) -> str:
    found = [
        coverage.why(key, f.missing, f.partial, lang())
        for key, f in zip(tile.keys, tile.figures, strict=True)
    ]
    return "；".join(dict.fromkeys(w for w in found if w))


def _help(tile: headline.Tile, picture: bool) -> str | None:
    parts = []
    if picture:
        parts.append(tm("tile_from_round", r="、".join(tile.rounds)))
    why = _why(tile)
    if why:
        parts.append(why)
    return "\n\n".join(parts) or None


def _count_value(tile: headline.Tile) -> str:
    if tile.status == coverage.MISSING:
        return "—"
    text = " / ".join(
        f"{fmt_count(f.value)} {_unit(k)}" for k, f in zip(tile.keys, tile.figures, strict=True)
    )
    return text + (" *" if tile.status == coverage.PARTIAL else "")


def count_tiles(tiles: Sequence[headline.Tile], basis: str, picture: bool) -> None:
    """Three count tiles a row: households / persons (or sessions / attendances).

    The delta line says why a missing tile is empty, names the round in the year's
    picture, else shows the change on ``basis`` against the compared round.
    """
    cols = st.columns(3)
    for i, tile in enumerate(tiles):
        if tile.status == coverage.MISSING:
            delta = _why(tile)
        elif picture:
            delta = md("、".join(tile.rounds))
        else:
            j = 1 if basis == "persons" and len(tile.keys) > 1 else 0
            change = tile.change[j] if tile.change else None
            delta = fmt_change(change) if change is not None else None
        cols[i % 3].metric(
            t(tile.name),
            _count_value(tile),
            delta=delta,
            delta_color="off",
            delta_arrow="off" if (picture or tile.status == coverage.MISSING) else "auto",
            help=_help(tile, picture),
            border=True,
        )


def rate_tiles(tiles: Sequence[headline.Tile], picture: bool) -> None:
    """Rate tiles, three a row, each against its threshold (red when beyond it)."""
    cols = st.columns(3)
    for i, tile in enumerate(tiles):
        fig = tile.figures[0]
        if tile.status == coverage.MISSING:
            value, delta = "—", _why(tile)
        else:
            value = fmt_rate(fig.value) + (" *" if tile.status == coverage.PARTIAL else "")
            if tile.limit is None:
                delta = None
            else:
                word = (
                    ("floor_under" if tile.beyond else "floor_ok")
                    if tile.floor
                    else ("threshold_over" if tile.beyond else "threshold_ok")
                )
                delta = t(word, t=fmt_rate(tile.limit))
            change = tile.change[0] if tile.change else None
            if change is not None:
                delta = f"{delta} · {fmt_change_rate(change)}" if delta else fmt_change_rate(change)
        cols[i % 3].metric(
            t(tile.name),
            value,
            delta=delta,
            delta_color="inverse" if tile.beyond else "off",
            delta_arrow="off",
            help=_help(tile, picture),
            border=True,
        )


def sources(tiles: Sequence[headline.Tile]) -> None:
    """One line naming, per round, the tiles of the year's picture that come from it."""
    by_round: dict[str, list[str]] = {}
    for tile in tiles:
        if tile.status != coverage.MISSING:
            by_round.setdefault("、".join(tile.rounds), []).append(t(tile.name))
    parts = [tm("tiles_from", r=r, names="、".join(names)) for r, names in by_round.items()]
    if parts:
        st.caption("；".join(parts))


def partial_note(tiles: Sequence[headline.Tile]) -> None:
    """A footnote for the tiles marked partial (*)."""
    if any(tile.status == coverage.PARTIAL for tile in tiles):
        st.caption(t("partial_footnote"))
