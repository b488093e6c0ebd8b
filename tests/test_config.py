"""Environment variables: read in one place (analytics/domain/config.py), documented in
README.md exactly as config.py reads them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from analytics.domain import config

ROOT = Path(__file__).resolve().parents[1]
ROW = re.compile(r"^\| `(POVERTY_[A-Z0-9_]+)` \| ([^|]+?) \|", re.M)


def _readme_table() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Configuration\n") :]
    section = section[: section.index("\n## ", 1)]
    return {name: default.strip() for name, default in ROW.findall(section)}


def _env_reads(path: Path) -> list[int]:
    """Lines of ``path`` that read the environment (os.environ, os.getenv)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "os"
            and node.attr in ("environ", "getenv", "environb")
        ):
            lines.append(node.lineno)
        if (
            isinstance(node, ast.ImportFrom)
            and node.module == "os"
            and any(a.name in ("environ", "getenv") for a in node.names)
        ):
            lines.append(node.lineno)
    return sorted(lines)


def test_readme_documents_exactly_the_variables_config_reads_with_their_defaults():
    assert _readme_table() == {v.name: v.default for v in config.VARIABLES}


def test_every_variable_config_names_is_in_its_table():
    source = (ROOT / "analytics/domain/config.py").read_text(encoding="utf-8")
    named = set(re.findall(r'"(POVERTY_[A-Z0-9_]+)"', source))
    assert named == {v.name for v in config.VARIABLES}


def test_no_module_of_analytics_but_config_reads_the_environment():
    found = {
        str(p.relative_to(ROOT)): _env_reads(p)
        for p in sorted((ROOT / "analytics").rglob("*.py"))
        if _env_reads(p)
    }
    assert list(found) == ["analytics/domain/config.py"]


def test_the_environment_finder_finds_a_made_up_read(tmp_path):
    path = tmp_path / "x.py"
    path.write_text('import os\nos.environ.get("A")\nos.getenv("B")\n', encoding="utf-8")
    assert _env_reads(path) == [2, 3]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", 8.0),
        ("12", 12.0),
        ("1_000", 1000.0),
        ("0", 8.0),
        ("-3", 8.0),
        ("nan", 8.0),
        ("inf", 8.0),
        ("eight", 8.0),
    ],
)
def test_a_number_that_is_not_positive_and_finite_falls_back_to_its_default(raw, expected):
    hours = config.session_idle({config.SESSION_IDLE_ENV: raw}).total_seconds() / 3600
    assert hours == expected


def test_zero_means_every_csv_for_the_bulk_minimum_only():
    assert config.bulk_min_bytes({config.BULK_MIN_ENV: "0"}) == 0
    assert config.bulk_max_bytes({config.BULK_MAX_ENV: "0"}) == 8192 * config.MB


def test_limits_read_their_variables_in_their_units():
    limits = config.limits({config.MAX_FILE_ENV: "2", config.MAX_ROWS_ENV: "1,000"})
    assert (limits.file_bytes, limits.rows) == (2 * 1024 * 1024, 1000)
    assert limits.cells == 30_000_000  # unset: the default
