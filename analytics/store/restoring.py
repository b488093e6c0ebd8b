"""A restore's temporary files, and the removal of those a killed restore left behind.

Both ``backup.restore`` (which writes them) and ``database.Store`` (which clears them away
when it opens the file beside them) use this module; it imports neither.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

RESTORING = ".restoring-"  # a restore's temporary file: .<target name>.restoring-<pid>


def remove_stale_temporaries(target: str | Path) -> list[Path]:
    """Deletes what restores into ``target`` that were killed left beside it: their
    temporary files (``.<name>.restoring-<pid>`` and its ``.wal``), whole copies of a
    database, when process ``pid`` no longer runs. Returns the files removed.
    """
    target = Path(target)
    removed = []
    prefix = f".{target.name}{RESTORING}"
    for p in target.parent.glob(f"{prefix}*"):
        pid = p.name[len(prefix) :].removesuffix(".wal")
        if not pid.isdigit() or _running(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            p.unlink()
            removed.append(p)
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True
