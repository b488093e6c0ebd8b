"""The default file limits fit a county's person-level national export (issue 14), and a
file just over a limit is refused.

The county file (bench/generate.py ``--layout persons --size county``: 120,000 households,
about 450,000 person rows, 40 columns, about 80 MB) is never built here: its size grows
with the households, so a 1/100 sample is checked against the default limits scaled by
1/100 and divided by ``HEADROOM``. Whatever a file holds besides its rows (styles, the
title rows) weighs more in the sample than in the county file, so the check is, if
anything, stricter than checking the county file itself. bench/RESULTS.md ("Person-level
export") records the real file against the real limits.
"""

from __future__ import annotations

import dataclasses
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from python_calamine import CalamineWorkbook

from analytics.domain import config
from analytics.importing import guard
from analytics.importing.results import LimitError

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import generate  # noqa: E402

COUNTY = generate.PERSON_SIZES["county"]  # households
SAMPLE = COUNTY // 100
# How much larger than the generator's county export a file may be and still pass the
# default size limits: a county with 1.5x the households (or longer cells) still fits.
HEADROOM = 1.5
# The size limits grow with the rows; the zip ratio does not (it is a shape, not a size).
SCALED = ("file_bytes", "unzipped_bytes", "rows", "cells")


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("county")
    return generate.generate("county", "xlsx", out, layout="persons", households=SAMPLE)


def _unzipped(path: Path) -> int:
    with zipfile.ZipFile(path) as z:
        return sum(i.file_size for i in z.infolist())


def _scaled(limits: config.Limits, factor: float) -> config.Limits:
    return dataclasses.replace(limits, **{f: int(getattr(limits, f) * factor) for f in SCALED})


def test_the_sample_is_the_county_export_at_a_hundredth(sample):
    rows = CalamineWorkbook.from_path(str(sample)).get_sheet_by_index(0).to_python()
    header = rows[generate.PERSON_TITLE_ROWS]
    assert tuple(header) == generate.PERSON_HEADER and len(header) == 40
    households = {r[header.index("户编号")] for r in rows[generate.PERSON_TITLE_ROWS + 1 :]}
    assert len(households) == SAMPLE
    persons = len(rows) - generate.PERSON_TITLE_ROWS - 1
    assert 3.5 * SAMPLE < persons < 4.0 * SAMPLE  # about 450,000 rows for the county


def test_the_county_export_fits_the_default_limits_with_headroom(sample):
    data = sample.read_bytes()
    limits = _scaled(config.Limits(), SAMPLE / COUNTY / HEADROOM)
    guard.check_file(sample.name, data, limits)  # raises LimitError when over a limit


def test_the_county_export_as_csv_fits_the_file_size_limit_with_headroom(sample):
    """The same export saved as UTF-8 CSV (larger than the zipped .xlsx) may be uploaded:
    the dashboard reads an upload by the normal path, within ``file_bytes``."""
    csv = generate.generate("county", "csv", sample.parent, layout="persons", households=SAMPLE)
    limits = _scaled(config.Limits(), SAMPLE / COUNTY / HEADROOM)
    guard.check_file(csv.name, csv.read_bytes(), limits)


def test_the_old_defaults_did_not_fit_it(sample):
    """The check above can fail: the defaults before issue 14 (50 MB a file, 500 MB
    unzipped) refuse the county export."""
    old = dataclasses.replace(
        config.Limits(), file_bytes=50 * config.MB, unzipped_bytes=500 * config.MB
    )
    with pytest.raises(LimitError):
        guard.check_file(sample.name, sample.read_bytes(), _scaled(old, SAMPLE / COUNTY))


def test_a_file_just_over_the_size_limit_is_refused(sample, monkeypatch):
    data = sample.read_bytes()
    at = dataclasses.replace(config.Limits(), file_bytes=len(data))
    guard.check_file(sample.name, data, at)
    over = dataclasses.replace(at, file_bytes=len(data) - 1)
    with pytest.raises(LimitError) as refused:
        guard.check_file(sample.name, data, over)
    message = str(refused.value.message_en)
    assert sample.name in message and config.MAX_FILE_ENV in message
    # The same limit from the environment, as the importer reads it (MB, 2**20 bytes).
    monkeypatch.setenv(config.MAX_FILE_ENV, repr((len(data) - 1) / config.MB))
    assert config.limits().file_bytes == len(data) - 1


def test_a_file_just_over_the_unzipped_limit_is_refused(sample):
    data = sample.read_bytes()
    size = _unzipped(sample)
    at = dataclasses.replace(config.Limits(), unzipped_bytes=size)
    guard.check_file(sample.name, data, at)
    with pytest.raises(LimitError) as refused:
        guard.check_file(sample.name, data, dataclasses.replace(at, unzipped_bytes=size - 1))
    message = str(refused.value.message_en)
    assert sample.name in message and config.MAX_UNZIPPED_ENV in message


def test_streamlit_takes_an_upload_as_large_as_the_importer():
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["server"]["maxUploadSize"] * config.MB == config.Limits().file_bytes
