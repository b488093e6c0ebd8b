"""Benchmark: every metric per village for one round, three ways, on synthetic data.

    python bench/bench_metrics.py                      # county 100k, prefecture 1M, province 10M
    python bench/bench_metrics.py --sizes county --runs 3
    python bench/bench_metrics.py --dir /tmp/bench     # keep / reuse the generated files

For each size a synthetic area (``analytics.synthetic``: numpy draws bulk-inserted into a
DuckDB store, two rounds, the latest borrowing the first round's village table) is timed
three ways, median of ``--runs`` runs after one warm-up:

- ``ibis``: ``metrics.compute`` on the DuckDB backend (what the dashboard runs: village
  table lookup, the SQL compiled for the question's shape, execute, frame); timed again as
  the first call of its shape (the compiled SQL dropped before each run: expression build
  and compile included);
- ``pandas``: a pandas groupby computing the same counts and rates from the round's rows
  already in memory (loading them is reported apart);
- ``sql``: one hand-written DuckDB query computing the same figures (the floor).

The three results are checked equal (counts exactly, rates to 1e-12) before timing. Not a
test: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from machine import describe, load_average

from analytics.domain.settings import AREA_STANDARD
from analytics.figures import metrics, prepared, queries
from analytics.fixtures import synthetic
from analytics.store.database import Store

# A province: about Yunnan's size (129 counties, 1,400 townships, 14,000 villages).
PROVINCE = synthetic.Shape(households=10_000_000, townships=12, villages=10, groups=8, counties=100)
SIZES = {"county": synthetic.COUNTY, "prefecture": synthetic.PREFECTURE, "province": PROVINCE}
STANDARD = AREA_STANDARD
KEYS = ["township", "village"]

# ------------------------------------------------------------------ the floor: one query
_FAMILIES = {
    "registered": "registry_state IN ('remaining_poor', 'exited')",
    "remaining_poor": "registry_state = 'remaining_poor'",
    "exited": "registry_state = 'exited'",
    "nonregistered": "registry_state = 'nonregistered'",
    "new": "adjustment = 'new'",
    "relapse": "adjustment = 'relapse'",
    "exit_proposed": "adjustment = 'exit_proposed'",
    "removed": "adjustment = 'removed'",
    "inclusion_error": "verification = 'inclusion_error' "
    "AND registry_state IN ('remaining_poor', 'exited')",
    "exclusion_error": "verification = 'exclusion_error' AND registry_state = 'nonregistered'",
    "wrongful_exit": "verification = 'wrongful_exit' AND registry_state = 'exited'",
}
_FAMILY_SQL = ",\n        ".join(
    f"count(*) FILTER (WHERE {cond}) AS {fam}_households,\n        "
    f"coalesce(sum(household_size) FILTER (WHERE {cond}), 0) AS {fam}_persons"
    for fam, cond in _FAMILIES.items()
)
_COUNT_COLUMNS = ",\n    ".join(
    f"coalesce({c}, 0) AS {c}"
    for c in metrics.COUNT_KEYS
    if c not in ("rural_population", "rural_households")
)


def _rate(num: str, den: str) -> str:
    return f"CASE WHEN {den} > 0 THEN ({num}) / {den} END"


_RATE_COLUMNS = ",\n    ".join(
    [
        *(
            f"{_rate(f'{n}_{b}', f'{d}_{b}')} AS {k}{'' if b == 'persons' else '_households'}"
            for k, (n, d) in metrics.RATES.items()
            for b in ("persons", "households")
        ),
        _rate(
            "remaining_poor_persons + exclusion_error_persons + wrongful_exit_persons",
            "rural_population",
        )
        + " AS comprehensive_poverty_rate",
        _rate(
            "remaining_poor_households + exclusion_error_households + wrongful_exit_households",
            "rural_households",
        )
        + " AS comprehensive_poverty_rate_households",
        _rate("approval_yes", "approval_answered") + " AS approval_rate",
    ]
)

FLOOR_SQL = f"""
WITH h AS (SELECT * FROM households WHERE round = $round),
hh AS (
    SELECT township, village,
        count(*) AS households_total,
        sum(household_size) AS persons_total,
        count(approval) AS approval_answered,
        count(*) FILTER (WHERE approval) AS approval_yes,
        {_FAMILY_SQL}
    FROM h GROUP BY ALL),
m AS (
    SELECT township, village, count(*) AS meetings, sum(attendance) AS meeting_attendance
    FROM meetings WHERE round = $round AND village IS NOT NULL GROUP BY ALL),
rl AS (
    SELECT coalesce(r.township, h.township) AS township,
        coalesce(r.village, h.village, '') AS village,
        count(*) AS relocated_households,
        sum(r.persons) AS relocated_persons,
        count(*) FILTER (WHERE r.house_area > r.persons * $standard)
            AS relocation_over_standard_households,
        coalesce(sum(r.persons) FILTER (WHERE r.house_area > r.persons * $standard), 0)
            AS relocation_over_standard_persons,
        count(DISTINCT r.site) FILTER (
            WHERE r.site IS NOT NULL AND NOT contains(coalesce(r.mode, ''), '分散'))
            AS relocation_sites
    FROM relocation r LEFT JOIN h USING (household_id)
    WHERE r.round = $round GROUP BY ALL),
ranks AS (SELECT unnest($order) AS round, generate_subscripts($order, 1) AS rank),
vt AS (
    SELECT township,
        arg_max(round, CASE WHEN round = $round THEN 1e9 ELSE coalesce(rank, -1) END) AS round
    FROM (SELECT DISTINCT township, round FROM villages) LEFT JOIN ranks USING (round)
    GROUP BY township),
v AS (
    SELECT township, village, max(rural_population) AS table_rural,
        max(households) AS table_households
    FROM villages JOIN vt USING (township, round) GROUP BY ALL),
units AS (
    SELECT township, village FROM hh
    UNION SELECT township, village FROM m
    UNION SELECT township, village FROM rl),
t AS (
    SELECT u.township, u.village,
        hh.* EXCLUDE (township, village), m.* EXCLUDE (township, village),
        rl.* EXCLUDE (township, village),
        CASE WHEN hh.township IS NOT NULL
            THEN coalesce(v.table_rural, hh.persons_total) ELSE 0 END AS rural_population,
        CASE WHEN hh.township IS NOT NULL
            THEN coalesce(v.table_households, hh.households_total) ELSE 0 END
            AS rural_households
    FROM units u
    LEFT JOIN hh USING (township, village)
    LEFT JOIN m USING (township, village)
    LEFT JOIN rl USING (township, village)
    LEFT JOIN v USING (township, village)),
c AS (
    SELECT township, village,
    {_COUNT_COLUMNS},
    rural_population, rural_households
    FROM t)
SELECT township, nullif(village, '') AS village, $round AS round,
    * EXCLUDE (township, village),
    {_RATE_COLUMNS}
FROM c ORDER BY township, village
"""


def floor_sql(cur: duckdb.DuckDBPyConnection, round_name: str, order: list[str]) -> pd.DataFrame:
    """The floor: every metric per village in one hand-written DuckDB query."""
    params = {"round": round_name, "order": order, "standard": STANDARD}
    return cur.execute(FLOOR_SQL, params).fetch_df()


# ----------------------------------------------------------------------------- pandas
def load_round(cur: duckdb.DuckDBPyConnection, round_name: str) -> dict[str, pd.DataFrame]:
    """The round's rows (and every village-table row) as pandas frames."""
    cols = {
        "households": "township, village, household_id, household_size, registry_state, "
        "adjustment, verification, approval",
        "meetings": "township, village, attendance",
        "relocation": "township, village, household_id, site, mode, persons, house_area",
    }
    out = {
        t: cur.execute(f"SELECT {c} FROM {t} WHERE round = ?", [round_name]).fetch_df()
        for t, c in cols.items()
    }
    out["villages"] = cur.execute(
        "SELECT township, village, round, rural_population, households FROM villages"
    ).fetch_df()
    return out


def pandas_metrics(
    data: dict[str, pd.DataFrame], round_name: str, order: list[str]
) -> pd.DataFrame:
    """Every metric per village with pandas groupbys (same rules as ``metrics``)."""
    h = data["households"]
    size = h["household_size"]
    state, adj, ver = h["registry_state"], h["adjustment"], h["verification"]
    registered = state.isin(metrics.REGISTERED)
    conds = {
        "registered": registered,
        "remaining_poor": state == "remaining_poor",
        "exited": state == "exited",
        "nonregistered": state == "nonregistered",
        **{fam: adj == fam for fam in metrics.ADJUSTMENT_FAMILIES},
        "inclusion_error": (ver == "inclusion_error") & registered,
        "exclusion_error": (ver == "exclusion_error") & (state == "nonregistered"),
        "wrongful_exit": (ver == "wrongful_exit") & (state == "exited"),
    }
    cols: dict[str, pd.Series] = {
        "township": h["township"],
        "village": h["village"],
        "households_total": pd.Series(1, index=h.index),
        "persons_total": size,
        "approval_answered": h["approval"].notna(),
        "approval_yes": h["approval"].fillna(False).astype(bool),
    }
    for fam, cond in conds.items():
        cond = cond.fillna(False).astype(bool)
        cols[f"{fam}_households"] = cond
        cols[f"{fam}_persons"] = size.where(cond, 0)
    hh = pd.DataFrame(cols).groupby(KEYS, sort=False).sum()

    m = data["meetings"]
    m = m[m["village"].notna()]
    mt = m.groupby(KEYS, sort=False).agg(
        meetings=("attendance", "size"), meeting_attendance=("attendance", "sum")
    )

    r = data["relocation"].merge(
        h[["household_id", "township", "village"]],
        on="household_id",
        how="left",
        suffixes=("", "_h"),
    )
    r["township"] = r["township"].fillna(r["township_h"])
    r["village"] = r["village"].fillna(r["village_h"]).fillna("")
    over = (r["house_area"] > r["persons"] * STANDARD).fillna(False).astype(bool)
    concentrated = r["site"].notna() & ~r["mode"].fillna("").str.contains("分散")
    r = r.assign(
        over=over,
        over_p=r["persons"].where(over, 0),
        site_c=r["site"].where(concentrated),
    )
    rl = r.groupby(KEYS, sort=False).agg(
        relocated_households=("persons", "size"),
        relocated_persons=("persons", "sum"),
        relocation_over_standard_households=("over", "sum"),
        relocation_over_standard_persons=("over_p", "sum"),
        relocation_sites=("site_c", "nunique"),
    )

    v = data["villages"]
    rank = {name: i for i, name in enumerate(order)}
    pairs = v[["township", "round"]].drop_duplicates()
    pairs = pairs.assign(
        key=np.where(pairs["round"] == round_name, 1e9, pairs["round"].map(rank).fillna(-1))
    )
    chosen = pairs.loc[pairs.groupby("township")["key"].idxmax(), ["township", "round"]]
    v = v.merge(chosen, on=["township", "round"])
    vt = v.groupby(KEYS).agg(
        table_rural=("rural_population", "max"), table_households=("households", "max")
    )

    t = hh.join([mt, rl], how="outer")
    t = t.join(vt, how="left")
    t["rural_population"] = t["table_rural"].fillna(t["persons_total"]).fillna(0)
    t["rural_households"] = t["table_households"].fillna(t["households_total"]).fillna(0)
    t.loc[t["households_total"].isna(), ["rural_population", "rural_households"]] = 0
    t = t.drop(columns=["table_rural", "table_households"]).fillna(0)
    for c in metrics.COUNT_KEYS:
        t[c] = t[c].astype("int64")

    def rate(num: pd.Series, den: pd.Series) -> pd.Series:
        return (num / den.where(den > 0)).astype("float64")

    for key, (num, den) in metrics.RATES.items():
        t[key] = rate(t[f"{num}_persons"], t[f"{den}_persons"])
        t[f"{key}_households"] = rate(t[f"{num}_households"], t[f"{den}_households"])
    poor = ("remaining_poor", "exclusion_error", "wrongful_exit")
    t["comprehensive_poverty_rate"] = rate(
        sum(t[f"{p}_persons"] for p in poor), t["rural_population"]
    )
    t["comprehensive_poverty_rate_households"] = rate(
        sum(t[f"{p}_households"] for p in poor), t["rural_households"]
    )
    t["approval_rate"] = rate(t["approval_yes"], t["approval_answered"])
    t = t.reset_index()
    t["village"] = t["village"].replace("", None)
    t["round"] = round_name
    return t[[*KEYS, "round", *metrics.METRIC_KEYS]].sort_values(KEYS).reset_index(drop=True)


# ------------------------------------------------------------------------------ driver
def assert_same(name: str, a: pd.DataFrame, b: pd.DataFrame) -> None:
    """Same units, counts equal, rates equal to 1e-12 (both empty counts as equal)."""
    a = a.sort_values(KEYS).reset_index(drop=True)
    b = b.sort_values(KEYS).reset_index(drop=True)
    assert len(a) == len(b), (name, len(a), len(b))
    for k in KEYS:
        assert a[k].astype(object).tolist() == b[k].astype(object).tolist(), (name, k)
    for c in metrics.COUNT_KEYS:
        x, y = a[c].to_numpy("int64"), b[c].to_numpy("int64")
        assert (x == y).all(), (name, c)
    for c in metrics.RATE_KEYS:
        x, y = a[c].to_numpy("float64"), b[c].to_numpy("float64")
        assert (np.isnan(x) == np.isnan(y)).all(), (name, c)
        assert np.nanmax(np.abs(x - y), initial=0.0) <= 1e-12, (name, c)


def timed(fn: Callable[[], object], runs: int) -> tuple[float, list[float]]:
    fn()  # warm-up (page cache, JIT of nothing, ibis's first import paths)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), times


def machine() -> dict[str, str]:
    return {
        **describe(("duckdb", "ibis-framework", "pandas", "numpy", "pyarrow")),
        "load average (1/5/15 min) at start": load_average(", "),
    }


def load_metrics(path: Path | None):
    """``analytics.metrics``, or another version of it read from ``path`` (say the one
    before a change: ``git show REV:analytics/figures/metrics.py > /tmp/metrics_before.py``)."""
    if path is None:
        return metrics
    spec = importlib.util.spec_from_file_location("metrics_under_test", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run_size(name: str, folder: Path, runs: int, impl=metrics) -> dict[str, object]:
    shape = SIZES[name]
    path = folder / f"synthetic_{name}.duckdb"
    gen_s = None
    if not path.exists():
        store = Store(path)
        t0 = time.perf_counter()
        synthetic.write(store, shape)
        gen_s = time.perf_counter() - t0
        store.close()
    store = Store(path)
    order = store.round_names()
    round_name = order[-1]
    cur = store.cursor()
    households = cur.execute(
        "SELECT count(*) FROM households WHERE round = ?", [round_name]
    ).fetchall()[0][0]

    def ibis_run() -> pd.DataFrame:
        con = queries.backend(store)
        return impl.compute(con, impl.Filters(round_name), "village", round_order=order)

    def ibis_first() -> pd.DataFrame:
        # The first question of its shape: nothing compiled yet (analytics.prepared).
        prepared.clear()
        return ibis_run()

    t0 = time.perf_counter()
    data = load_round(cur, round_name)
    load_s = time.perf_counter() - t0

    results = {
        "ibis": ibis_run(),
        "pandas": pandas_metrics(data, round_name, order),
        "sql": floor_sql(cur, round_name, order),
    }
    assert_same("pandas vs ibis", results["ibis"], results["pandas"])
    assert_same("sql vs ibis", results["ibis"], results["sql"])

    timings = {
        "ibis": timed(ibis_run, runs),
        "ibis_first": timed(ibis_first, runs),
        "pandas": timed(lambda: pandas_metrics(data, round_name, order), runs),
        "sql": timed(lambda: floor_sql(cur, round_name, order), runs),
    }
    store.close()
    return {
        "size": name,
        "households": households,
        "villages": len(results["ibis"]),
        "generate_s": gen_s,
        "pandas_load_s": load_s,
        "timings": timings,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", default="county,prefecture,province", help="county,prefecture,province"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", type=Path, help="keep / reuse the generated databases here")
    parser.add_argument("--metrics", type=Path, help="time this metrics.py instead of ours")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    for s in sizes:
        if s not in SIZES:
            parser.error(f"unknown size {s!r}; use {', '.join(SIZES)}")
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        info = machine()
        print("### Machine\n")
        for k, v in info.items():
            print(f"- {k}: {v}")
        print(
            f"\nCommand: python bench/bench_metrics.py --sizes {','.join(sizes)} --runs {args.runs}"
            + (f" --metrics {args.metrics}" if args.metrics else "")
        )
        impl = load_metrics(args.metrics)
        rows = [run_size(s, folder, args.runs, impl) for s in sizes]
    print(
        "\n| size | households (round) | villages | `metrics.compute` | its first call "
        "of a shape | pandas groupby | hand-written SQL (floor) | ours / floor |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        t = r["timings"]
        ibis_s, first_s = t["ibis"][0], t["ibis_first"][0]
        pandas_s, sql_s = t["pandas"][0], t["sql"][0]
        print(
            f"| {r['size']} | {r['households']:,} | {r['villages']:,} | {ibis_s:.3f} s "
            f"| {first_s:.3f} s | {pandas_s:.3f} s | {sql_s:.3f} s | {ibis_s / sql_s:.1f}x |"
        )
    print("\nAll runs (s):")
    for r in rows:
        for method, (_, times) in r["timings"].items():
            print(f"- {r['size']} {method}: " + ", ".join(f"{x:.3f}" for x in times))
        gen = f"{r['generate_s']:.1f} s" if r["generate_s"] is not None else "reused"
        print(
            f"- {r['size']} generation: {gen}; pandas load of the round: {r['pandas_load_s']:.2f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
