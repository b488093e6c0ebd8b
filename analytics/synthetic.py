"""Synthetic counties for benchmarks and engine-parity tests, written straight into a store.

Nothing here reads a workbook: households, meetings, relocation and village-table rows are
drawn with numpy (one vectorised draw per column, never a Python loop per row) and bulk
inserted from Arrow into the store's tables, one batch per round, so that the dashboard,
the command line and ``metrics.compute`` see them like imported data. The same seed gives
the same rows.

Shares are rough Yunnan figures of 2017-2019 (about a quarter of rural households
registered, most of them exited); they exist to give every metric something to count, not
to model a real county.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from analytics.store import Store

STATES = ("remaining_poor", "exited", "nonregistered")
STATE_SHARES = (0.07, 0.18, 0.75)
ADJUSTMENTS = (None, "new", "relapse", "exit_proposed", "removed")
ADJUSTMENT_SHARES = (0.90, 0.03, 0.01, 0.04, 0.02)
FINDINGS = (None, "inclusion_error", "exclusion_error", "wrongful_exit")
FINDING_SHARES = (0.93, 0.025, 0.035, 0.01)
CAUSES = ("因病", "因残", "因学", "缺技术", "缺劳力", "缺资金", "交通条件落后", "自身发展动力不足")
PHASES = ("实地调查", "贫情分析")


@dataclass(frozen=True)
class Shape:
    """How big a synthetic area is.

    ``households`` are spread over ``townships`` x ``villages`` x ``groups`` evenly (each
    household lives in the same place in every round). Township names are unique across
    counties (``县02·乡05``) so that a prefecture is one store.
    """

    households: int
    townships: int
    villages: int  # per township
    groups: int  # per village
    counties: int = 1


COUNTY = Shape(households=100_000, townships=12, villages=10, groups=8)
PREFECTURE = Shape(households=1_000_000, townships=12, villages=10, groups=8, counties=10)


def _pick(rng: np.random.Generator, values: Sequence, shares: Sequence[float], n: int) -> pa.Array:
    codes = rng.choice(len(values), size=n, p=np.asarray(shares) / np.sum(shares))
    dictionary = pa.array(list(values), pa.string())
    return pa.DictionaryArray.from_arrays(pa.array(codes.astype(np.int32)), dictionary).cast(
        pa.string()
    )


def _with_nulls(rng: np.random.Generator, arr: pa.Array, share: float) -> pa.Array:
    if share <= 0:
        return arr
    mask = pa.array(rng.random(len(arr)) < share)
    return pc.if_else(mask, pa.nulls(len(arr), arr.type), arr)


def _names(prefix: Sequence[str], count: int, label: str) -> list[str]:
    return [f"{p}{label}{i + 1:02d}" for p in prefix for i in range(count)]


def places(shape: Shape) -> tuple[list[str], list[str], list[str]]:
    """Township, village and group names: one entry per group (flattened, in order)."""
    counties = [f"县{c + 1:02d}·" if shape.counties > 1 else "" for c in range(shape.counties)]
    townships = _names(counties, shape.townships, "乡")
    villages = _names([""], shape.villages, "村")
    groups = _names([""], shape.groups, "组")
    t_of_group, v_of_group, g_of_group = [], [], []
    for t in townships:
        for v in villages:
            for g in groups:
                t_of_group.append(t)
                v_of_group.append(f"{t}{v}")
                g_of_group.append(g)
    return t_of_group, v_of_group, g_of_group


def write(
    store: Store,
    shape: Shape,
    rounds: Sequence[str] = ("2018年动态管理", "2019年动态管理"),
    *,
    seed: int = 0,
    meeting_rounds: Sequence[str] | None = None,
    village_table_rounds: Sequence[str] | None = None,
) -> dict[str, int]:
    """Writes one synthetic area into ``store``, one batch per round.

    Parameters
    ----------
    shape : how many households, townships, villages, groups (and counties).
    rounds : round names, oldest first; round i is dated 2018 + i.
    seed : the random seed (same seed, same rows).
    meeting_rounds : rounds that have meetings (default: all).
    village_table_rounds : rounds that have a village table (default: the first only, so
        later rounds borrow it as real counties do).

    Returns
    -------
    dict : rows written per table.
    """
    rng = np.random.default_rng(seed)
    meeting_rounds = list(rounds) if meeting_rounds is None else list(meeting_rounds)
    village_table_rounds = (
        list(rounds[:1]) if village_table_rounds is None else list(village_table_rounds)
    )
    t_names, v_names, g_names = places(shape)
    n_groups = len(g_names)
    n = shape.households
    # Each household's place and size are fixed across rounds.
    where = np.sort(rng.integers(0, n_groups, size=n))
    where_idx = pa.array(where.astype(np.int32))
    township = pa.DictionaryArray.from_arrays(where_idx, pa.array(t_names)).cast(pa.string())
    village = pa.DictionaryArray.from_arrays(where_idx, pa.array(v_names)).cast(pa.string())
    group = _with_nulls(
        rng, pa.DictionaryArray.from_arrays(where_idx, pa.array(g_names)).cast(pa.string()), 0.01
    )
    household_id = pc.binary_join_element_wise(
        "H", pc.utf8_lpad(pc.cast(pa.array(np.arange(n)), pa.string()), 9, "0"), ""
    )
    size = rng.integers(1, 8, size=n)
    written = {"households": 0, "meetings": 0, "relocation": 0, "villages": 0}
    with store.write() as cur:
        for i, round_name in enumerate(rounds):
            batch_id = cur.execute("SELECT nextval('batch_seq')").fetchall()[0][0]
            start = dt.date(2018 + i, 6, 1)
            days = rng.integers(0, 45, size=n)
            households = pa.table(
                {
                    "batch_id": pa.array(np.full(n, batch_id, dtype=np.int64)),
                    "round": pa.array(np.full(n, round_name, dtype=object), pa.string()),
                    "household_id": household_id,
                    "township": township,
                    "village": village,
                    "group": group,
                    "household_size": pa.array(size.astype(np.int64)),
                    "registry_state": _pick(rng, STATES, STATE_SHARES, n),
                    "main_cause": _with_nulls(rng, _pick(rng, CAUSES, [1] * len(CAUSES), n), 0.3),
                    "income_per_capita": pa.array(np.round(rng.gamma(4.0, 1200.0, size=n), 2)),
                    **{
                        k: _with_nulls(rng, pa.array(rng.random(n) < 0.95), 0.05)
                        for k in (
                            "food_clothing_secure",
                            "education_secure",
                            "medical_secure",
                            "housing_secure",
                        )
                    },
                    "adjustment": _pick(rng, ADJUSTMENTS, ADJUSTMENT_SHARES, n),
                    "verification": _pick(rng, FINDINGS, FINDING_SHARES, n),
                    "survey_date": pa.array(
                        np.datetime64(start) + days.astype("timedelta64[D]"), pa.date32()
                    ),
                    "approval": _with_nulls(rng, pa.array(rng.random(n) < 0.9), 0.08),
                    "source_sheet": pa.array(np.full(n, "户信息", dtype=object), pa.string()),
                    "source_row": pa.array(np.arange(n, dtype=np.int64) + 3),
                }
            )
            _insert(cur, "households", households)
            written["households"] += n

            if round_name in meeting_rounds:
                meetings = _meetings(rng, batch_id, round_name, start, t_names, v_names, g_names)
                _insert(cur, "meetings", meetings)
                written["meetings"] += meetings.num_rows

            relocation = _relocation(rng, batch_id, round_name, households)
            _insert(cur, "relocation", relocation)
            written["relocation"] += relocation.num_rows

            if round_name in village_table_rounds:
                villages = _villages(rng, batch_id, round_name, households)
                _insert(cur, "villages", villages)
                written["villages"] += villages.num_rows

            cur.execute(
                "INSERT INTO batches VALUES (?, ?, ?, 'synthetic', now(), 'synthetic', ?, "
                "'households,meetings,relocation,villages', ?, 0, 0, 0, FALSE)",
                [
                    batch_id,
                    round_name,
                    f"synthetic_{seed}_{round_name}",
                    "、".join(dict.fromkeys(t_names)),
                    n,
                ],
            )
            store.describe_batch(cur, batch_id)
        store.bump(cur)
    return written


def _insert(cur, table: str, rows: pa.Table) -> None:
    cur.register("_synthetic", rows)
    try:
        cur.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _synthetic")
    finally:
        cur.unregister("_synthetic")


def _meetings(rng, batch_id, round_name, start, t_names, v_names, g_names) -> pa.Table:
    # Per group 0-3 meetings; one village-level meeting per village, one township-level
    # meeting per township (village / group left empty, as counties record them).
    per_group = rng.integers(0, 4, size=len(g_names))
    idx = np.repeat(np.arange(len(g_names)), per_group)
    t_arr, v_arr, g_arr = (np.asarray(x, dtype=object) for x in (t_names, v_names, g_names))
    first_of_village = np.unique(v_arr, return_index=True)[1]
    first_of_township = np.unique(t_arr, return_index=True)[1]
    t_col = np.concatenate([t_arr[idx], t_arr[first_of_village], t_arr[first_of_township]])
    v_col = np.concatenate([v_arr[idx], v_arr[first_of_village], [None] * len(first_of_township)])
    g_col = np.concatenate([g_arr[idx], [None] * (len(first_of_village) + len(first_of_township))])
    m = len(t_col)
    dates = np.datetime64(start) + rng.integers(0, 45, size=m).astype("timedelta64[D]")
    return pa.table(
        {
            "batch_id": pa.array(np.full(m, batch_id, dtype=np.int64)),
            "round": pa.array([round_name] * m, pa.string()),
            "township": pa.array(t_col, pa.string()),
            "village": pa.array(v_col, pa.string()),
            "group": pa.array(g_col, pa.string()),
            "meeting_date": pa.array(dates, pa.date32()),
            "phase": _pick(rng, PHASES, (0.4, 0.6), m),
            "attendance": pa.array(rng.integers(5, 40, size=m).astype(np.int64)),
            "source_sheet": pa.array(["贫情分析会议"] * m, pa.string()),
            "source_row": pa.array(np.arange(m, dtype=np.int64) + 3),
        }
    )


def _relocation(rng, batch_id, round_name, households: pa.Table) -> pa.Table:
    # About 6 % of registered households relocated; a fifth of them dispersed (no site).
    registered = pc.is_in(
        households["registry_state"], value_set=pa.array(["remaining_poor", "exited"])
    ).to_numpy(zero_copy_only=False)
    chosen = np.flatnonzero(registered & (rng.random(households.num_rows) < 0.06))
    r = households.take(pa.array(chosen))
    k = r.num_rows
    persons = r["household_size"].to_numpy() + (rng.random(k) < 0.05)
    area = np.round(persons * rng.uniform(18.0, 29.0, size=k), 1)
    dispersed = rng.random(k) < 0.2
    site_no = rng.integers(1, 4, size=k)
    sites = pc.binary_join_element_wise(
        r["township"], "安置点", pc.cast(pa.array(site_no), pa.string()), ""
    )
    sites = pc.if_else(pa.array(dispersed), pa.nulls(k, pa.string()), sites)
    return pa.table(
        {
            "batch_id": pa.array(np.full(k, batch_id, dtype=np.int64)),
            "round": pa.array([round_name] * k, pa.string()),
            "household_id": r["household_id"],
            "township": r["township"],
            "village": r["village"],
            "site": sites,
            "mode": pa.array(
                np.where(dispersed, "分散安置", "集中安置").astype(object), pa.string()
            ),
            "persons": pa.array(persons.astype(np.int64)),
            "house_area": pa.array(area),
            "source_sheet": pa.array(["易地扶贫搬迁"] * k, pa.string()),
            "source_row": pa.array(np.arange(k, dtype=np.int64) + 3),
        }
    )


def _villages(rng, batch_id, round_name, households: pa.Table) -> pa.Table:
    # 乡村人口 a little above the surveyed persons (not every resident is surveyed).
    per = (
        households.group_by(["township", "village"])
        .aggregate([("household_size", "sum"), ("household_size", "count")])
        .sort_by([("township", "ascending"), ("village", "ascending")])
    )
    k = per.num_rows
    persons = per["household_size_sum"].to_numpy()
    count = per["household_size_count"].to_numpy()
    return pa.table(
        {
            "batch_id": pa.array(np.full(k, batch_id, dtype=np.int64)),
            "round": pa.array([round_name] * k, pa.string()),
            "township": per["township"],
            "village": per["village"],
            "is_poor_village": pa.array(rng.random(k) < 0.4),
            "households": pa.array(np.ceil(count * rng.uniform(1.0, 1.1, size=k)).astype(np.int64)),
            "population": pa.array(
                np.ceil(persons * rng.uniform(1.1, 1.3, size=k)).astype(np.int64)
            ),
            "rural_population": pa.array(
                np.ceil(persons * rng.uniform(1.0, 1.15, size=k)).astype(np.int64)
            ),
            "source_sheet": pa.array(["村基本情况"] * k, pa.string()),
            "source_row": pa.array(np.arange(k, dtype=np.int64) + 3),
        }
    )
