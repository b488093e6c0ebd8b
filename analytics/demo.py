"""Load the demo township (诗礼乡, the seed report's figures) into a store."""

from __future__ import annotations

import tempfile
from pathlib import Path

from analytics import ingest
from analytics.demo_data import write_demo_workbooks
from analytics.store import Store


class DemoError(Exception):
    """The demo workbooks did not import cleanly (a defect of the generator or importer)."""


def load_demo(store: Store, out_dir: Path | None = None) -> list[ingest.FileReport]:
    """(Re)builds the demo rounds: deletes earlier demo batches, imports each workbook.

    Parameters
    ----------
    store : the database to load into; batches are marked ``is_demo``.
    out_dir : where to keep the generated workbooks (a temporary folder when None).

    Raises
    ------
    DemoError
        When a demo workbook is refused or has rejected rows.
    """
    store.delete_demo()
    reports = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(out_dir) if out_dir else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for path, round_name in write_demo_workbooks(folder):
            # No township is passed: the importer takes it from the title row.
            report = ingest.import_file(
                store, path.name, path.read_bytes(), round_name, is_demo=True
            )
            if report.status != "loaded":
                raise DemoError(f"demo workbook {path.name}: {report.status}: {report.message}")
            reports.append(report)
    return reports


def ensure_demo(store: Store) -> bool:
    """Loads the demo when the database holds no batch at all; True when it did."""
    if len(store.batches()):
        return False
    load_demo(store)
    return True
