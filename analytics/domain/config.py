"""Settings read from the environment: each variable's name, default and meaning, once.

Other modules ask these functions instead of reading ``os.environ`` themselves. (The
importer's limits, ``POVERTY_BACKEND_URL`` and the bulk-import settings still read their
own variables in ``read.py``, ``queries.py`` and ``bulk.py``; they move here with the
reshaping of ``analytics/`` in issue 13.)

| variable | default | what |
|---|---|---|
| ``POVERTY_DB`` | ``data/poverty.duckdb`` | the DuckDB file |
| ``POVERTY_SESSION_IDLE_HOURS`` | 8 | a sign-in ends after this many hours without a page run |
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

DB_ENV = "POVERTY_DB"
DEFAULT_DB = Path(__file__).resolve().parents[2] / "data" / "poverty.duckdb"
SESSION_IDLE_ENV = "POVERTY_SESSION_IDLE_HOURS"
SESSION_IDLE_HOURS = 8.0


def db_path(environ: dict[str, str] | None = None) -> Path:
    """The database file: ``$POVERTY_DB`` if set, else ``data/poverty.duckdb``."""
    env = os.environ if environ is None else environ
    return Path(env.get(DB_ENV) or DEFAULT_DB)


def session_idle(environ: dict[str, str] | None = None) -> dt.timedelta:
    """How long a sign-in lasts without use: ``$POVERTY_SESSION_IDLE_HOURS`` (default 8).

    A value that is not a positive number is ignored (the default applies), as for the
    upload limits. The default follows a working day: an office signs in in the morning.
    """
    env = os.environ if environ is None else environ
    try:
        hours = float((env.get(SESSION_IDLE_ENV) or "").strip() or SESSION_IDLE_HOURS)
    except ValueError:
        hours = SESSION_IDLE_HOURS
    if not hours > 0 or hours != hours or hours == float("inf"):
        hours = SESSION_IDLE_HOURS
    return dt.timedelta(hours=hours)
