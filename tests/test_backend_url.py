"""Pointing the dashboard at another Ibis backend: ``POVERTY_BACKEND_URL``.

A second DuckDB file stands in for a cluster: same tables, other figures. With the variable
set, every read of ``queries`` comes from that backend; without it, from the store.
"""

from __future__ import annotations

import ibis
import pandas as pd
import pytest

from analytics.domain import config
from analytics.figures import metrics, queries
from analytics.fixtures import synthetic
from analytics.store.database import Store

ROUND = "2019年动态管理"


def _area(path, households: int, seed: int) -> pd.DataFrame:
    """A synthetic area in its own file; returns its village metrics computed on it."""
    store = Store(path)
    synthetic.write(store, synthetic.Shape(households, 2, 3, 2), (ROUND,), seed=seed)
    frame = queries.metrics_frame(store, ROUND, "village")
    store.close()
    return frame


@pytest.fixture
def stores(tmp_path, monkeypatch):
    monkeypatch.delenv(config.BACKEND_URL_ENV, raising=False)
    remote_path = tmp_path / "remote.duckdb"
    remote_figures = _area(remote_path, 900, seed=2)
    local_figures = _area(tmp_path / "local.duckdb", 300, seed=1)
    local = Store(tmp_path / "local.duckdb")
    yield local, remote_path, local_figures, remote_figures
    local.close()


def test_without_the_variable_the_store_itself_is_read(stores):
    local, _, local_figures, _ = stores
    pd.testing.assert_frame_equal(queries.metrics_frame(local, ROUND, "village"), local_figures)
    assert queries.backend(local).name == "duckdb"


def test_metrics_come_from_the_backend_url_when_it_is_set(stores, monkeypatch):
    local, remote_path, local_figures, remote_figures = stores
    assert remote_figures["households_total"].sum() == 900
    assert local_figures["households_total"].sum() == 300
    monkeypatch.setenv(config.BACKEND_URL_ENV, f"duckdb:///{remote_path}")
    got = queries.metrics_frame(local, ROUND, "village")
    pd.testing.assert_frame_equal(got, remote_figures)
    # Breakdowns and household lists follow the same backend.
    flows = queries.flows(local, metrics.Filters(ROUND))
    assert flows["households"].sum() == 900


def test_backend_from_url_connects_with_ibis(tmp_path):
    path = tmp_path / "other.duckdb"
    Store(path).close()
    con = queries.backend_from_url(f"duckdb:///{path}")
    assert isinstance(con, ibis.BaseBackend)
    for table in ("households", "meetings", "relocation", "villages"):
        assert con.table(table).count().execute() == 0


def test_an_unknown_backend_url_is_refused_with_a_message():
    with pytest.raises(ValueError, match="nosuch"):
        queries.backend_from_url("nosuch://host/db")
