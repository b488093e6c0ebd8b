"""Settings read from the environment: every variable, its default, unit and meaning, once.

This is the only module of ``analytics/`` that reads ``os.environ``; every other module asks
the functions below. ``VARIABLES`` is the table README.md's "Configuration" section lists
(tests/test_config.py holds the two equal: names and defaults).

A number that is not a positive finite number (empty, text, 0, negative, ``inf``, ``nan``,
or too large to count in bytes) is ignored and the default applies; ``,`` and ``_`` may
group digits (``1_100_000``). Where 0 means something (``POVERTY_BULK_MIN_MB``), 0 is
taken.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields
from pathlib import Path

MB = 1024 * 1024
Environ = Mapping[str, str]


@dataclass(frozen=True)
class Variable:
    """One environment variable.

    Attributes
    ----------
    name : the variable (``POVERTY_...``).
    default : its default as README.md writes it ("50", "data/poverty.duckdb", "unset").
    unit : what a value counts ("MB", "rows", "s", "hours", a path ...).
    meaning : what it sets, one line.
    """

    name: str
    default: str
    unit: str
    meaning: str


DB_ENV = "POVERTY_DB"
SESSION_IDLE_ENV = "POVERTY_SESSION_IDLE_HOURS"
MAX_FILE_ENV = "POVERTY_MAX_FILE_MB"
MAX_ROWS_ENV = "POVERTY_MAX_ROWS"
MAX_CELLS_ENV = "POVERTY_MAX_CELLS"
MAX_UNZIPPED_ENV = "POVERTY_MAX_UNZIPPED_MB"
MAX_ZIP_RATIO_ENV = "POVERTY_MAX_ZIP_RATIO"
WORKER_MEMORY_ENV = "POVERTY_WORKER_MEMORY_MB"
WORKER_SECONDS_ENV = "POVERTY_WORKER_SECONDS"
BULK_MIN_ENV = "POVERTY_BULK_MIN_MB"
BULK_MAX_ENV = "POVERTY_MAX_BULK_MB"
BULK_MEMORY_ENV = "POVERTY_BULK_MEMORY_MB"
BACKEND_URL_ENV = "POVERTY_BACKEND_URL"
TEST_PAUSE_ENV = "POVERTY_TEST_PAUSE_IN_WRITE"
DEBUG_ENV = "POVERTY_DEBUG"

VARIABLES: tuple[Variable, ...] = (
    Variable(DB_ENV, "data/poverty.duckdb", "path", "the DuckDB file"),
    Variable(SESSION_IDLE_ENV, "8", "hours", "a sign-in ends after this long without a page run"),
    Variable(MAX_FILE_ENV, "256", "MB", "size of one file (the CLI never reads more than this)"),
    Variable(MAX_ROWS_ENV, "1100000", "rows", "rows of one sheet, or lines of one CSV"),
    Variable(
        MAX_CELLS_ENV, "30000000", "cells", "cells of one file, rows x columns of every sheet"
    ),
    Variable(MAX_UNZIPPED_ENV, "2000", "MB", "total uncompressed size of an .xlsx/.xlsm"),
    Variable(
        MAX_ZIP_RATIO_ENV,
        "100",
        "ratio",
        "uncompressed / compressed size of a zip entry over 1 MB",
    ),
    Variable(
        WORKER_MEMORY_ENV,
        "10240",
        "MB",
        "address space of the worker process that parses one file (RLIMIT_AS)",
    ),
    Variable(
        WORKER_SECONDS_ENV,
        "600",
        "s",
        "CPU time of that worker (RLIMIT_CPU); stopped after 3x as long on the clock",
    ),
    Variable(
        BULK_MIN_ENV, "32", "MB", "a .csv at least this large goes the bulk way (0: every one)"
    ),
    Variable(BULK_MAX_ENV, "8192", "MB", "size of one file on the bulk way"),
    Variable(BULK_MEMORY_ENV, "2048", "MB", "memory DuckDB may use for a bulk import"),
    Variable(
        BACKEND_URL_ENV,
        "unset",
        "URL",
        "an Ibis connection URL to read the figures from (unset: the DuckDB file)",
    ),
    Variable(
        TEST_PAUSE_ENV,
        "unset",
        "s",
        "tests only: an import sleeps this long inside its write transaction",
    ),
    Variable(DEBUG_ENV, "unset", "flag", "the command line shows the traceback of an error"),
)
BY_NAME: dict[str, Variable] = {v.name: v for v in VARIABLES}
DEFAULT_DB = Path(__file__).resolve().parents[2] / "data" / "poverty.duckdb"


def _env(environ: Environ | None) -> Environ:
    return os.environ if environ is None else environ


def _default(name: str) -> float:
    return float(BY_NAME[name].default)


def _number(name: str, unit: int | float, environ: Environ | None, zero_ok: bool = False) -> float:
    """``$name`` times ``unit``, or its default times ``unit`` when the value is not a
    positive (or, with ``zero_ok``, non-negative) finite number below 2**62 once scaled."""
    raw = (_env(environ).get(name) or "").strip().replace(",", "").replace("_", "")
    try:
        value = float(raw) if raw else math.nan
    except ValueError:
        value = math.nan
    scaled = value * unit
    if math.isfinite(scaled) and (value >= 0 if zero_ok else value > 0) and scaled < 2**62:
        return scaled
    return _default(name) * unit


def db_path(environ: Environ | None = None) -> Path:
    """The database file: ``$POVERTY_DB`` if set, else ``data/poverty.duckdb``."""
    return Path(_env(environ).get(DB_ENV) or DEFAULT_DB)


def session_idle(environ: Environ | None = None) -> dt.timedelta:
    """How long a sign-in lasts without use: ``$POVERTY_SESSION_IDLE_HOURS`` (default 8).

    The default follows a working day: an office signs in in the morning.
    """
    return dt.timedelta(hours=_number(SESSION_IDLE_ENV, 1, environ))


@dataclass(frozen=True)
class Limits:
    """What a file may hold before it is refused as too large or hostile (defaults:
    ``VARIABLES``).

    Attributes
    ----------
    file_bytes : size of one uploaded file (``POVERTY_MAX_FILE_MB``, 256 MB). A county's
        person-level national export (issue 14: 120,000 households, about 450,000 person
        rows, 40 columns; bench/generate.py ``--layout persons``) is 76 MB as .xlsx and
        131 MB as UTF-8 CSV (MB = 2**20 bytes): room for a county half as large again, or
        more columns (tests/test_county_limits.py).
    rows : rows of one sheet, or lines of one CSV (``POVERTY_MAX_ROWS``, 1,100,000).
    cells : cells of one file, all sheets, rows x columns as read (``POVERTY_MAX_CELLS``,
        30,000,000).
    unzipped_bytes : total uncompressed size of an .xlsx/.xlsm (``POVERTY_MAX_UNZIPPED_MB``,
        2000 MB). That county export unzips to 835 MB (its sheet's XML, strings written
        inline as streaming writers do).
    zip_ratio : uncompressed / compressed size of one zip entry over 1 MB
        (``POVERTY_MAX_ZIP_RATIO``, 100).
    worker_bytes : address space of the worker process that parses and validates one file
        (``POVERTY_WORKER_MEMORY_MB``, 10240 MB; ``RLIMIT_AS``,
        analytics/importing/worker.py). The worker starts at about 0.4 GB of it (Python,
        numpy, pyarrow, calamine mapped in); a 100,000-household workbook (9 MB) peaks near
        1 GB; the county person-level export above reached 6.1 GB of address space (4.4 GB
        resident) and was stopped at the old 4096 MB (bench/RESULTS.md, "Person-level
        export"): 10240 leaves room for a county half as large again.
    worker_seconds : CPU time of that worker (``POVERTY_WORKER_SECONDS``, 600 s;
        ``RLIMIT_CPU``); it is also stopped after ``WALL_FACTOR`` times as long on the clock
        (a stalled or starved parse). A 100,000-household workbook takes about 4 s; the
        county person-level export 203 s (on a loaded machine): 600 leaves 3x.
    """

    file_bytes: int = int(_default(MAX_FILE_ENV) * MB)
    rows: int = int(_default(MAX_ROWS_ENV))
    cells: int = int(_default(MAX_CELLS_ENV))
    unzipped_bytes: int = int(_default(MAX_UNZIPPED_ENV) * MB)
    zip_ratio: int = int(_default(MAX_ZIP_RATIO_ENV))
    worker_bytes: int = int(_default(WORKER_MEMORY_ENV) * MB)
    worker_seconds: int = int(_default(WORKER_SECONDS_ENV))

    @classmethod
    def from_env(cls, environ: Environ | None = None) -> Limits:
        """The defaults, overridden by the environment variables of ``LIMIT_ENV``."""
        values = {
            f.name: max(1, int(_number(LIMIT_ENV[f.name][0], LIMIT_ENV[f.name][1], environ)))
            for f in fields(cls)
        }
        return cls(**values)


# Limits field -> (environment variable, unit in bytes or items).
LIMIT_ENV: dict[str, tuple[str, int]] = {
    "file_bytes": (MAX_FILE_ENV, MB),
    "rows": (MAX_ROWS_ENV, 1),
    "cells": (MAX_CELLS_ENV, 1),
    "unzipped_bytes": (MAX_UNZIPPED_ENV, MB),
    "zip_ratio": (MAX_ZIP_RATIO_ENV, 1),
    "worker_bytes": (WORKER_MEMORY_ENV, MB),
    "worker_seconds": (WORKER_SECONDS_ENV, 1),
}
WALL_FACTOR = 3  # the worker is stopped after this many times its CPU limit on the clock


def limits(environ: Environ | None = None) -> Limits:
    """The importer's limits in force (``Limits.from_env``)."""
    return Limits.from_env(environ)


def bulk_min_bytes(environ: Environ | None = None) -> int:
    """Size from which a .csv goes the bulk way: ``$POVERTY_BULK_MIN_MB`` (default 32 MB;
    0 sends every CSV there)."""
    return int(_number(BULK_MIN_ENV, MB, environ, zero_ok=True))


def bulk_max_bytes(environ: Environ | None = None) -> int:
    """The largest file of the bulk way: ``$POVERTY_MAX_BULK_MB`` (default 8192 MB)."""
    return int(_number(BULK_MAX_ENV, MB, environ))


def bulk_memory_bytes(environ: Environ | None = None) -> int:
    """DuckDB's memory limit during a bulk import: ``$POVERTY_BULK_MEMORY_MB`` (default
    2048 MB; DuckDB spills to disk beyond it where it can)."""
    return int(_number(BULK_MEMORY_ENV, MB, environ))


def backend_url(environ: Environ | None = None) -> str:
    """``$POVERTY_BACKEND_URL`` (an Ibis connection URL), or "" to read the DuckDB file."""
    return (_env(environ).get(BACKEND_URL_ENV) or "").strip()


def pause_in_write_seconds(environ: Environ | None = None) -> float:
    """``$POVERTY_TEST_PAUSE_IN_WRITE``: seconds an import sleeps inside its write
    transaction, after printing ``IN_WRITE_TRANSACTION`` (tests/test_faults.py kills it
    there); 0 when unset. Never set it in production."""
    raw = (_env(environ).get(TEST_PAUSE_ENV) or "").strip()
    return float(raw) if raw else 0.0


def debug(environ: Environ | None = None) -> bool:
    """``$POVERTY_DEBUG`` set (to anything): the command line re-raises an unexpected error."""
    return bool(_env(environ).get(DEBUG_ENV))
