"""What machine a benchmark ran on, for bench/RESULTS.md (shared by the bench scripts)."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path


def describe(packages: Sequence[str]) -> dict[str, str]:
    """cpu (the model name the VM reports), cores, ram (GiB), os, python, and the installed
    version of each distribution in ``packages`` ("duckdb", "ibis-framework", ...)."""
    cpu, ram = platform.processor() or platform.machine(), "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
        ram = f"{mem_kb / 1024**2:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    info = {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "ram": ram,
        "os": platform.platform(),
        "python": platform.python_version(),
    }
    return info | {p: metadata.version(p) for p in packages}


def load_average(sep: str = " / ") -> str:
    """The 1, 5 and 15 minute load averages, or "?" where the OS has none."""
    if not hasattr(os, "getloadavg"):
        return "?"
    return sep.join(f"{x:.2f}" for x in os.getloadavg())
