"""Shared test set-up: error details shown, and the markers of the suite's parts.

Every test under tests/e2e/ is marked ``e2e`` and the Spark parity test ``spark`` here, so
that ``python -m pytest -m "not e2e and not spark and not slow"`` is the fast loop (the
README); ``slow`` is set on the tests themselves.
"""

from pathlib import Path

import pytest
from streamlit import config

E2E = Path(__file__).parent / "e2e"
SLOW_FILES = frozenset({"test_faults.py", "test_parse_worker.py", "test_server_start.py"})


def pytest_configure() -> None:
    # Production hides error details (.streamlit/config.toml); a failing test must show them.
    config.set_option("client.showErrorDetails", "full")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.fspath))
        if E2E in path.parents:
            item.add_marker(pytest.mark.e2e)
        if path.name == "test_spark_parity.py":
            item.add_marker(pytest.mark.spark)
        if path.name in SLOW_FILES:
            item.add_marker(pytest.mark.slow)
