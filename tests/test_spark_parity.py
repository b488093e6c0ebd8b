"""Engine parity: the metric definitions run unchanged on Apache Spark (Ibis's PySpark backend).

The stored tables of a DuckDB store are copied (via Arrow) into a local Spark session running
in ANSI mode, where a division by zero raises instead of giving null; every metric at every
level and round, and every breakdown, is computed on both engines and compared: counts
exactly, rates to 1e-12, empty equal to empty. Two data sets: the demo township (诗礼乡,
two rounds, the first without meetings, the second without a village table) and a generated
county (3 townships, about 3,000 households) with zero denominators put in on purpose:

- 乡01村01 has no exited household in 2020 (错退率 has no denominator);
- 乡01村02 has no registered household in either round (错评率 has none);
- 乡02村01 has no approval answer (认可度 has none);
- 乡02村02 has 乡村人口 0 in the village table (综合贫困发生率 has none);
- 乡02村03 is missing from the village table, 乡03 has no village table at all;
- 2020 has no meetings; 乡03村99 has a meeting and no household;
- one relocated household is in no household table, without village, area or site.

One local Spark session serves the module, tuned for tiny data (one shuffle partition, no
adaptive re-planning: fewer stages, same results; the JVM's quick JIT tier only); each Spark
query still takes a second or two, so every figure is computed once per engine and shared by
the tests that read it.
"""

from __future__ import annotations

import math
import os
import shutil
from dataclasses import dataclass, field

import ibis
import numpy as np
import pandas as pd
import pytest

from analytics.domain.settings import AREA_STANDARD
from analytics.figures import breakdowns, metrics, queries
from analytics.fixtures import synthetic
from analytics.fixtures.demo import load_demo
from analytics.store.database import DATA_TABLES, Store

# Java 17 is on every machine of this project; without it this file fails, it never skips.
assert shutil.which("java") or os.environ.get("JAVA_HOME"), "Spark needs Java 17 on PATH"

# PySpark 4.0's pandas conversion passes a keyword pandas 3 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:The copy keyword is deprecated:Warning")

R1, R2 = "2019年精准核查", "2020年动态管理"
RATE_TOLERANCE = 1e-12


@dataclass
class Engines:
    """One data set on both engines, with the metric frames computed so far."""

    store: Store
    duck: ibis.BaseBackend
    spark: ibis.BaseBackend
    order: list[str]
    computed: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def spark(tmp_path_factory):
    from pyspark.sql import SparkSession

    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    session = (
        SparkSession.builder.master("local[2]")
        .appName("poverty-parity")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .config("spark.sql.adaptive.enabled", "false")
        .config("spark.default.parallelism", "2")
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.warehouse.dir", str(warehouse))
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        # A short-lived JVM on few cores: the quick JIT tier only (about 3x faster here).
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def on_spark(session, store: Store) -> ibis.BaseBackend:
    """The store's data tables as temporary views of a new Spark session (its own catalog
    of views, the same SparkContext), through Arrow."""
    own = session.newSession()
    own.conf.set("spark.sql.ansi.enabled", "true")
    cur = store.cursor()
    for table in DATA_TABLES:
        arrow = cur.sql(f"SELECT * FROM {table}").to_arrow_table()
        own.createDataFrame(arrow).createOrReplaceTempView(table)
    return ibis.pyspark.connect(own)


@pytest.fixture(scope="module")
def demo(spark, tmp_path_factory) -> Engines:
    store = Store(tmp_path_factory.mktemp("demo") / "demo.duckdb")
    load_demo(store)
    return Engines(store, queries.backend(store), on_spark(spark, store), store.round_names())


def _edit_generated_county(store: Store) -> None:
    with store.write() as cur:
        cur.execute(
            "UPDATE households SET registry_state = 'remaining_poor' "
            "WHERE round = ? AND village = '乡01村01' AND registry_state = 'exited'",
            [R2],
        )
        cur.execute(
            "UPDATE households SET registry_state = 'nonregistered' WHERE village = '乡01村02'"
        )
        cur.execute("UPDATE households SET approval = NULL WHERE village = '乡02村01'")
        cur.execute(
            "UPDATE villages SET rural_population = 0, households = 0 WHERE village = '乡02村02'"
        )
        cur.execute("DELETE FROM villages WHERE village = '乡02村03' OR township = '乡03'")
        cur.execute(
            'INSERT INTO meetings (batch_id, round, township, village, "group", meeting_date, '
            "phase, attendance) SELECT min(batch_id), round, '乡03', '乡03村99', '组01', "
            "DATE '2019-06-20', '贫情分析', 12 FROM meetings GROUP BY round"
        )
        cur.execute(
            "INSERT INTO relocation (batch_id, round, household_id, township, persons) "
            "SELECT min(batch_id), round, 'NOT-SURVEYED', '乡01', 3 FROM relocation GROUP BY round"
        )


@pytest.fixture(scope="module")
def county(spark, tmp_path_factory) -> Engines:
    store = Store(tmp_path_factory.mktemp("county") / "county.duckdb")
    synthetic.write(
        store,
        synthetic.Shape(households=3000, townships=3, villages=5, groups=4),
        (R1, R2),
        seed=7,
        meeting_rounds=(R1,),
        village_table_rounds=(R1, R2),
    )
    with store.write() as cur:  # 2020's village table for 乡01 only: 乡02 borrows 2019's
        cur.execute("DELETE FROM villages WHERE round = ? AND township <> '乡01'", [R2])
    _edit_generated_county(store)
    return Engines(store, queries.backend(store), on_spark(spark, store), store.round_names())


# ------------------------------------------------------------------------- comparing
def _cell(x: object) -> object:
    if x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NaT:
        return None
    if isinstance(x, pd.Timestamp):
        return x.date().isoformat() if x == x.normalize() else x.isoformat()
    if hasattr(x, "isoformat"):
        return x.isoformat()
    if isinstance(x, np.generic):
        return x.item()
    return x


def _values(series: pd.Series) -> list[object]:
    return [_cell(x) for x in series.astype(object)]


def _sorted(frame: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    keys = pd.DataFrame(
        {c: ["" if v is None else str(v) for v in _values(frame[c])] for c in by},
        index=frame.index,
    )
    return frame.loc[keys.sort_values(by).index].reset_index(drop=True)


def assert_same(duck: pd.DataFrame, spark: pd.DataFrame, by: list[str], what: str) -> None:
    """Same columns and rows (sorted by ``by``); floats to the tolerance, nulls equal."""
    assert list(spark.columns) == list(duck.columns), what
    assert len(spark) == len(duck), f"{what}: {len(duck)} rows on DuckDB, {len(spark)} on Spark"
    duck, spark = _sorted(duck, by), _sorted(spark, by)
    for c in duck.columns:
        if pd.api.types.is_float_dtype(duck[c]) or pd.api.types.is_float_dtype(spark[c]):
            a, b = duck[c].to_numpy("float64"), spark[c].to_numpy("float64")
            assert (np.isnan(a) == np.isnan(b)).all(), f"{what}: nulls differ in {c}"
            diff = np.abs(a - b)[~np.isnan(a)]
            assert diff.max(initial=0.0) <= RATE_TOLERANCE, f"{what}: {c} differs by {diff.max()}"
        else:
            assert _values(spark[c]) == _values(duck[c]), f"{what}: {c} differs"


def assert_same_metrics(engines: Engines, filters: metrics.Filters, level: str) -> pd.DataFrame:
    """Every metric on both engines, compared; returns the DuckDB frame."""
    if (filters, level) in engines.computed:
        return engines.computed[filters, level]
    keys = list(metrics.unit_keys(level))
    args = {"round_order": engines.order}
    duck = metrics.compute(engines.duck, filters, level, **args)
    spark = metrics.compute(engines.spark, filters, level, **args)
    what = f"{filters} at {level}"
    assert list(duck.columns) == [*keys, "round", *metrics.METRIC_KEYS]
    for c in metrics.COUNT_KEYS:
        assert spark[c].dtype == "int64", f"{what}: {c} is {spark[c].dtype} on Spark"
    assert_same(duck, spark, keys, what)
    engines.computed[filters, level] = duck
    return duck


# ------------------------------------------------------------------------------- tests
def test_the_spark_session_runs_in_ansi_mode_where_dividing_by_zero_raises(demo):
    session = demo.spark._session
    assert session.conf.get("spark.sql.ansi.enabled") == "true"
    with pytest.raises(Exception, match="DIVIDE_BY_ZERO"):
        session.sql("SELECT 1 / 0").collect()


def test_the_tables_arrive_on_spark_whole(demo, county):
    counting = ", ".join(f"(SELECT count(*) FROM {t}) AS {t}" for t in DATA_TABLES)
    for engines in (demo, county):
        on_duck = engines.store.cursor().execute(f"SELECT {counting}").fetchall()[0]
        on_spark = engines.spark._session.sql(f"SELECT {counting}").collect()[0]
        assert tuple(on_spark) == tuple(on_duck)
        counts = dict(zip(DATA_TABLES, on_duck, strict=True))
        if engines is county:  # household-level files: no member rows (the demo has them)
            counts.pop("members")
        assert min(counts.values()) > 0, counts


@pytest.mark.parametrize("level", list(metrics.LEVELS))
def test_every_demo_metric_is_equal_on_duckdb_and_spark(demo, level):
    for round_name in demo.order:
        frame = assert_same_metrics(demo, metrics.Filters(round_name), level)
        assert len(frame) > 0


@pytest.mark.parametrize("level", list(metrics.LEVELS))
def test_every_generated_county_metric_is_equal_on_duckdb_and_spark(county, level):
    assert county.order == [R1, R2]
    for round_name in county.order:
        assert_same_metrics(county, metrics.Filters(round_name), level)


def test_the_generated_county_has_every_zero_denominator(county):
    # The guard is exercised only if these rates are really empty (and Spark did not raise).
    by_village = assert_same_metrics(county, metrics.Filters(R2), "village").set_index("village")
    assert by_village.loc["乡01村01", "exited_persons"] == 0
    assert pd.isna(by_village.loc["乡01村01", "wrongful_exit_rate"])
    assert by_village.loc["乡01村02", "registered_persons"] == 0
    assert pd.isna(by_village.loc["乡01村02", "inclusion_error_rate"])
    assert by_village.loc["乡02村01", "approval_answered"] == 0
    assert pd.isna(by_village.loc["乡02村01", "approval_rate"])
    assert by_village.loc["乡02村02", "rural_population"] == 0
    assert pd.isna(by_village.loc["乡02村02", "comprehensive_poverty_rate"])
    assert (by_village["meetings"] == 0).all()  # 2020 has no meetings
    own = by_village.loc["乡02村03"]  # not in the village table: its own persons
    assert own["rural_population"] == own["persons_total"]
    r1 = assert_same_metrics(county, metrics.Filters(R1), "village").set_index("village")
    assert r1.loc["乡03村99", "meetings"] == 1 and r1.loc["乡03村99", "households_total"] == 0
    assert pd.isna(r1.loc["乡03村99", "inclusion_error_rate"])


@pytest.mark.parametrize(
    ("filters", "level"),
    [
        (metrics.Filters(R1, townships=("乡02",)), "village"),
        (metrics.Filters(R2, villages=("乡01村01", "乡02村02", "乡02村03")), "township"),
        (metrics.Filters(R1, groups=("组01", "组03")), "village"),
        (metrics.Filters(R2, villages=("乡01村03",), groups=("组02",)), "group"),
    ],
    ids=["township-filter", "village-filter", "group-filter", "village-and-group"],
)
def test_filtered_metrics_are_equal_on_duckdb_and_spark(county, filters, level):
    assert len(assert_same_metrics(county, filters, level)) > 0


BREAKDOWNS = {
    "flows": ["registry_state", "adjustment", "verification"],
    "causes": ["township", "village", "main_cause"],
    "shortfalls": ["township", "village"],
    "incomes": ["township", "village", "registry_state", "household_size", "income_per_capita"],
    "survey_progress": ["township", "village", "survey_date"],
    "village_table": ["township", "village"],
    "meetings": ["township", "village", "group", "phase", "meeting_date"],
    "groups_without_meetings": ["township", "village", "group"],
    "relocation_households": ["township", "village", "household_id"],
}


def _breakdown(engines: Engines, con: ibis.BaseBackend, name: str, f: metrics.Filters):
    if name == "village_table":
        sources = metrics.village_table_rounds(con, f.round, engines.order)
        return breakdowns.village_table(con, f, sources)
    if name == "relocation_households":
        return breakdowns.relocation_households(con, f, AREA_STANDARD)
    return getattr(breakdowns, name)(con, f)


@pytest.mark.parametrize("name", list(BREAKDOWNS))
def test_every_breakdown_is_equal_on_duckdb_and_spark(demo, county, name):
    assert set(BREAKDOWNS) == set(queries.BREAKDOWNS)
    # The demo's relocation table is in its first round, its meetings in its second.
    demo_round = demo.order[0] if name == "relocation_households" else demo.order[-1]
    cases = [(demo, metrics.Filters(demo_round)), (county, metrics.Filters(R1))]
    for engines, f in cases:
        duck = _breakdown(engines, engines.duck, name, f)
        spark = _breakdown(engines, engines.spark, name, f)
        assert len(duck) > 0, name
        assert_same(duck, spark, BREAKDOWNS[name], f"{name} of {f}")
