"""Benchmark: a page rerun after a filter change, through Streamlit's AppTest, on synthetic data.

    python bench/bench_pages.py --dir /tmp/bench_pages           # county (100k), prefecture (1M)
    python bench/bench_pages.py --sizes prefecture --pages overview --runs 3
    python bench/bench_pages.py --dir /tmp/bench_pages --profile --write

For each size a synthetic area (``analytics.synthetic``, as in bench/bench_metrics.py: two
rounds; the county has 12 townships, the prefecture 120) is the app's database
(``$POVERTY_DB``). It holds batches, so the app never loads the demo into it
(``analytics.demo.ensure_demo``). Each page a leader sees (not signed in) is driven with
``streamlit.testing.v1.AppTest`` on ``app.py``, as tests/test_pages.py does, and timed with
``time.perf_counter`` around ``at.run()`` (around ``set_value(...).run()`` where AppTest
exposes the sidebar widget). One repetition:

- **cold first load**: the store is closed, ``st.cache_data`` and ``st.cache_resource``
  cleared, and so is the SQL that ``analytics.metrics`` keeps compiled per query shape;
  a new AppTest (a new session) opens the page: opening the DuckDB file (a new database
  instance; the OS file cache stays warm), the demo check, every query of the sidebar
  and the page, figures, tables, downloads: what the first visitor after a start waits;
- **cold rerun, first township**: the township filter is set to a township not seen
  before (A): the page's queries for it miss the cache, and their shape (per village,
  one township) is new, so ``metrics`` compiles its SQL; the sidebar's queries hit;
- **cold rerun, another township**: then to another township not seen before (B): the
  queries miss the cache, the compiled SQL is reused (a running server's usual case);
- **warm rerun**: the filter goes back to A, then to B again: every query is cached;
- **warm rerun, all townships**: the filter is cleared (back to the whole area, seen at
  the first load): cached too, but the page draws every unit again;
- **warm first load**: a new session opens the page with the caches full.

Each figure is the median of ``--runs`` repetitions (the warm reruns after a township
change: of twice as many samples), min and max beside. Before the first
repetition one page load in this process pays Python's imports; it is reported apart and
not counted. After every run the page must have no exception, the chosen townships, a
table and its figures (metric tiles on the overview, Plotly charts elsewhere), so no error
page is timed.

``--profile`` (needs ``pip install pyinstrument``, not a requirement of the project)
profiles a cold, a warm and a warm all-townships rerun of each page at the largest size
inside Streamlit's script thread and sorts the time into parts: queries, uncached store
reads, download files, Plotly, Streamlit, page code; the AppTest part is the rest of the
wall time. It also times, unprofiled, each query the cold rerun on another township
sends.
``--write`` puts the results into the "Page reruns" section at the end of bench/RESULTS.md
(``--results`` names another file). Not a test: nothing here runs under pytest.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Production hides error details (.streamlit/config.toml); a failing run must show them.
os.environ["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"] = "full"

import streamlit as st  # noqa: E402
from machine import describe, load_average  # noqa: E402
from streamlit.logger import set_log_level  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from analytics.domain.config import DB_ENV  # noqa: E402
from analytics.fixtures import synthetic  # noqa: E402
from analytics.store.database import Store  # noqa: E402

SIZES = {"county": synthetic.COUNTY, "prefecture": synthetic.PREFECTURE}
# The pages a leader (not signed in) sees with figures; the data page is for staff.
LEADER_PAGES = (
    "overview",
    "dynamics",
    "households",
    "accuracy",
    "progress",
    "relocation",
    "meetings",
)
TARGET_S = 0.5
TIMEOUT_S = 600
FILTER_KEY = "township"
SECTION = "## Page reruns"
RESULTS = ROOT / "bench" / "RESULTS.md"
PHASES = ("cold_load", "cold_first", "cold_rerun", "warm_rerun", "warm_all", "warm_load")


# ------------------------------------------------------------------------ the app
def prepare(folder: Path, name: str) -> tuple[Path, float | None]:
    """The synthetic database of ``name`` in ``folder`` (written when missing)."""
    path = folder / f"synthetic_{name}.duckdb"
    gen_s = None
    if not path.exists():
        store = Store(path)
        t0 = time.perf_counter()
        synthetic.write(store, SIZES[name])
        gen_s = time.perf_counter() - t0
        store.close()
    store = Store(path)
    try:
        batches = store.batches()
        if batches.empty or batches["is_demo"].any():
            raise SystemExit(f"{path}: not a synthetic database (no batch, or demo batches)")
    finally:
        store.close()
    return path, gen_s


def reset_caches(path: Path) -> None:
    """Closes the cached store, clears Streamlit's process-level caches and the SQL that
    ``analytics.prepared`` keeps compiled per query shape."""
    from analytics.figures import prepared
    from ui import common

    prepared.clear()
    set_log_level("error")  # a cached call outside a script run warns otherwise
    common.open_store(str(path)).close()  # the cached one (opened here if it was not)
    st.cache_data.clear()
    st.cache_resource.clear()
    gc.collect()


def new_app(page: str) -> AppTest:
    """A new session on ``page`` (the overview is the default page)."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=TIMEOUT_S)
    if page != "overview":
        at.switch_page(f"views/{page}.py")
    return at


def check(at: AppTest, page: str, townships: list[str]) -> None:
    """The run drew the page for ``townships`` with its figures, without an exception."""
    if at.exception:
        raise RuntimeError(f"{page}: {[e.message for e in at.exception]}")
    view = at.session_state["_view"]
    if list(view.townships) != townships:
        raise RuntimeError(f"{page}: townships {view.townships}, wanted {townships}")
    if not len(at.dataframe):
        raise RuntimeError(f"{page}: no table drawn")
    if page == "overview" and len(at.metric) < 13:
        raise RuntimeError(f"{page}: {len(at.metric)} metric tiles")
    if page != "overview" and not at.get("plotly_chart"):
        raise RuntimeError(f"{page}: no chart drawn")


def timed_load(at: AppTest, page: str) -> float:
    t0 = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - t0
    check(at, page, [])
    return elapsed


def timed_choice(at: AppTest, page: str, townships: list[str]) -> float:
    """Sets the township filter and reruns.

    AppTest drops the entrypoint's sidebar from its element tree after ``switch_page``, so
    on other pages than the overview the widget's state is set through session state,
    which is what the widget itself writes.
    """
    try:
        widget = at.sidebar.multiselect(key=FILTER_KEY)
    except KeyError:
        widget = None
    t0 = time.perf_counter()
    if widget is not None:
        widget.set_value(townships).run()
    else:
        at.session_state[FILTER_KEY] = townships
        at.run()
    elapsed = time.perf_counter() - t0
    check(at, page, townships)
    return elapsed


def first_load(path: Path, page: str) -> float:
    """One page load in a fresh process: Python's imports included."""
    os.environ[DB_ENV] = str(path)
    return timed_load(new_app(page), page)


def bench_page(path: Path, page: str, runs: int) -> dict[str, list[float]]:
    """Cold load, cold reruns, warm reruns and warm load of one page, ``runs`` times."""
    os.environ[DB_ENV] = str(path)
    times: dict[str, list[float]] = {p: [] for p in PHASES}
    for _ in range(runs):
        reset_caches(path)
        at = new_app(page)
        times["cold_load"].append(timed_load(at, page))
        a, b = at.session_state["_view"].all_townships[:2]
        times["cold_first"].append(timed_choice(at, page, [a]))
        times["cold_rerun"].append(timed_choice(at, page, [b]))
        times["warm_rerun"].append(timed_choice(at, page, [a]))
        times["warm_rerun"].append(timed_choice(at, page, [b]))
        times["warm_all"].append(timed_choice(at, page, []))
        times["warm_load"].append(timed_load(new_app(page), page))
    return times


# ------------------------------------------------------------------------ profile
PARTS = (  # key, column, what it holds
    ("queries", "queries", "queries on a cache miss (`ui.reads._miss`: Ibis, DuckDB)"),
    ("store", "store", "uncached store reads (`Store.rounds`, `data_version`, `settings`)"),
    (
        "downloads",
        "downloads",
        "CSV and XLSX bytes (`analytics.export`; built on click since commit 56e402f, so 0 here)",
    ),
    ("plotly", "figures", "Plotly figure building (`ui/charts.py`)"),
    ("st_plotly", "st.plotly_chart", "`st.plotly_chart` (figure to JSON)"),
    ("st_dataframe", "st.dataframe", "`st.dataframe` (frame to Arrow)"),
    ("auth", "auth", "session and sign-in (`ui/auth.py`)"),
    (
        "page",
        "page code",
        "the rest of the page code (views/, ui/: pandas, formatting, Plotly traces a view "
        "adds itself)",
    ),
    ("streamlit", "Streamlit", "Streamlit itself (script run, widgets, messages)"),
    ("apptest", "AppTest", "AppTest outside the script thread (thread, message parsing)"),
)


def _part_of(frame, inherited: str | None, owner: str) -> tuple[str | None, str]:
    """The specific part a frame starts (outermost wins) and the owner of its self time."""
    path = (frame.file_path or "").replace("\\", "/")
    fn = frame.function or ""
    if inherited is None:
        if fn == "_miss" and path.endswith("ui/reads.py"):
            inherited = "queries"
        elif path.endswith("analytics/store/database.py"):
            inherited = "store"
        elif path.endswith("analytics/output/export.py"):
            inherited = "downloads"
        elif path.endswith("ui/charts.py"):
            inherited = "plotly"
        elif fn == "plotly_chart" and "/streamlit/" in path:
            inherited = "st_plotly"
        elif fn == "dataframe" and "/streamlit/" in path:
            inherited = "st_dataframe"
        elif path.endswith("ui/auth.py"):
            inherited = "auth"
    if path.startswith(str(ROOT)):
        owner = "page"
    elif "/streamlit/" in path:
        owner = "streamlit"
    return inherited, owner


def _attribute(frame, inherited: str | None, owner: str, out: dict[str, float]) -> None:
    inherited, owner = _part_of(frame, inherited, owner)
    child_time = 0.0
    for child in frame.children:
        child_time += child.time
        _attribute(child, inherited, owner, out)
    self_time = max(frame.time - child_time, 0.0)
    key = inherited or owner
    out[key] = out.get(key, 0.0) + self_time


def profiled(run: Callable[[], float]) -> dict[str, float]:
    """Runs ``run`` (a timed AppTest run) with pyinstrument in Streamlit's script thread."""
    from pyinstrument import Profiler
    from streamlit.testing.v1 import local_script_runner as lsr

    original = lsr.LocalScriptRunner._run_script_thread
    sessions = []

    def wrapped(self) -> None:
        profiler = Profiler()
        profiler.start()
        try:
            original(self)
        finally:
            sessions.append(profiler.stop())

    lsr.LocalScriptRunner._run_script_thread = wrapped
    try:
        wall = run()
    finally:
        lsr.LocalScriptRunner._run_script_thread = original
    parts: dict[str, float] = {}
    for session in sessions:
        root = session.root_frame()
        if root is not None:
            _attribute(root, None, "streamlit", parts)
    parts["apptest"] = max(wall - sum(parts.values()), 0.0)
    parts["total"] = wall
    return parts


def recorded(run: Callable[[], float]) -> tuple[float, list[tuple[str, float]]]:
    """Runs ``run`` unprofiled, timing each query that misses the cache (``ui.reads._miss``)."""
    from ui import reads

    original = reads._miss
    calls: list[tuple[str, float]] = []

    def timed_miss(name, read, store, *args, **kwargs):
        t0 = time.perf_counter()
        try:
            return original(name, read, store, *args, **kwargs)
        finally:
            short = name.rsplit(".", 1)[-1].removesuffix("_frame")
            level = f" {args[1]}" if short == "metrics" and len(args) > 1 else ""
            calls.append((f"{short}{level}", time.perf_counter() - t0))

    reads._miss = timed_miss
    try:
        wall = run()
    finally:
        reads._miss = original
    return wall, calls


PROFILED = ("cold rerun, first township", "warm rerun", "warm rerun, all townships")


def profile_page(path: Path, page: str) -> dict[str, dict[str, float]]:
    """Where a cold, a warm and a warm all-townships rerun of ``page`` spend their time."""
    os.environ[DB_ENV] = str(path)
    reset_caches(path)
    at = new_app(page)
    timed_load(at, page)
    a, b = at.session_state["_view"].all_townships[:2]
    cold = profiled(lambda: timed_choice(at, page, [a]))
    wall, calls = recorded(lambda: timed_choice(at, page, [b]))
    cold["queries_unprofiled"] = [(wall, calls)]
    warm = profiled(lambda: timed_choice(at, page, [a]))
    warm_all = profiled(lambda: timed_choice(at, page, []))
    return dict(zip(PROFILED, (cold, warm, warm_all), strict=True))


# ------------------------------------------------------------------------ report
def machine() -> dict[str, str]:
    return describe(("streamlit", "duckdb", "ibis-framework", "pandas", "plotly"))


def cell(values: list[float], target: bool) -> str:
    med = statistics.median(values)
    text = f"{med:.3f} s"
    if target and med > TARGET_S:
        text = f"**{text}**"
    return f"{text} ({min(values):.2f}-{max(values):.2f})"


def results_table(rows: list[dict]) -> list[str]:
    lines = [
        "| page | size | cold first load | cold rerun, first township "
        "| cold rerun, another township | warm rerun, township change "
        "| warm rerun, all townships | warm first load (new session) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        t = r["times"]
        lines.append(
            f"| {r['page']} | {r['size']} ({r['households']:,} households) "
            f"| {cell(t['cold_load'], False)} | {cell(t['cold_first'], True)} "
            f"| {cell(t['cold_rerun'], True)} "
            f"| {cell(t['warm_rerun'], True)} | {cell(t['warm_all'], True)} "
            f"| {cell(t['warm_load'], False)} |"
        )
    return lines


def profile_table(profiles: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    head = " | ".join(column for _, column, _ in PARTS)
    lines = [f"| page | rerun | {head} | total |", "|---|---|" + "---:|" * (len(PARTS) + 1)]
    for page, kinds in profiles.items():
        for kind, parts in kinds.items():
            cells = " | ".join(f"{parts.get(key, 0.0):.2f}" for key, _, _ in PARTS)
            lines.append(f"| {page} | {kind} | {cells} | {parts['total']:.2f} |")
    lines += ["", *(f"- {column}: {what}" for _, column, what in PARTS)]
    lines += [
        "",
        "The queries of the cold rerun on another township, not profiled: "
        "the rerun's wall time, then each query that missed the cache.",
        "",
    ]
    for page, kinds in profiles.items():
        for wall, calls in kinds[PROFILED[0]]["queries_unprofiled"]:
            listed = ", ".join(f"{name} {secs:.3f} s" for name, secs in calls) or "none"
            total = sum(secs for _, secs in calls)
            lines.append(
                f"- {page}: rerun {wall:.3f} s, queries {total:.3f} s ({len(calls)}: {listed})"
            )
    return lines


def report(info: dict, rows: list[dict], profiles: dict, command: str) -> list[str]:
    lines = [
        SECTION,
        "",
        "A page rerun after a filter change, timed through Streamlit's AppTest "
        "(`streamlit.testing.v1.AppTest` on `app.py`, a leader's session, not signed in) on "
        "the synthetic areas of `analytics/fixtures/synthetic.py` (two rounds, the latest "
        "shown; the "
        "county has 12 townships, the prefecture 120, so the pages open on the per-township "
        "view). The filter changed is the township: choosing one switches the pages to its "
        "villages. Target of the issue: a rerun after a filter change at 1 million "
        f"households under {TARGET_S} s, cold and warm.",
        "",
        "- **cold first load**: store closed, `st.cache_data` / `st.cache_resource` cleared, "
        "a new session opens the page (opening the DuckDB file, every query, figures, "
        "tables, downloads; the SQL `analytics.prepared` keeps compiled per query shape is "
        "cleared too; the OS file cache stays warm, Python's imports are done);",
        "- **cold rerun, first township**: a township not chosen before, the first since "
        "the start (the page's queries miss the cache, and `analytics.prepared` compiles "
        "the SQL of the per-village shapes);",
        "- **cold rerun, another township**: then another township not chosen before (the "
        "queries miss the cache, the compiled SQL is reused: a running server's usual "
        "case);",
        "- **warm rerun**: back and forth between two townships already seen (every query cached);",
        "- **warm rerun, all townships**: the filter cleared again (the whole area, cached "
        "since the first load, every unit drawn);",
        "- **warm first load**: a new session opening the page with the caches full.",
        "",
        f"Median of {info['runs']} repetitions (warm reruns after a township change: of "
        f"{2 * info['runs']} samples), "
        "min-max in brackets; bold: over the target. Every run is checked: no exception, "
        "the chosen townships, a table and figures drawn. Times include AppTest's own work "
        "(script thread, parsing the messages into elements), which a browser session does "
        "not pay but the browser's rendering does not show here either.",
        "",
        "Reproduce (`--dir` keeps the generated databases for the next run):",
        "",
        "```bash",
        command,
        "```",
        "",
        "### Machine",
        "",
        f"- cpu: {info['cpu']}, {info['cores']} cores; ram: {info['ram']}",
        f"- os: {info['os']}",
        f"- python {info['python']}, streamlit {info['streamlit']}, duckdb {info['duckdb']}, "
        f"ibis-framework {info['ibis-framework']}, pandas {info['pandas']}, "
        f"plotly {info['plotly']}",
        f"- load average (1 / 5 / 15 min): {info['load_before']} before, "
        f"{info['load_after']} after (2 cores shared with other developers' work)",
        f"- first page load in a fresh process (Python's imports): {info['first_load']:.2f} s",
        "",
        f"### Results ({info['date']})",
        "",
        *results_table(rows),
    ]
    if profiles:
        lines += [
            "",
            f"### Where the time goes ({info['profile_size']}, seconds)",
            "",
            "One rerun of each kind per page, profiled with pyinstrument inside Streamlit's "
            "script thread: a frame's time goes to the outermost part it runs under; "
            "AppTest is the rest of the wall time. The profiler slows Python code down "
            "(Ibis most), so the totals exceed the timings above.",
            "",
            *profile_table(profiles),
        ]
    return lines


def write_section(path: Path, lines: list[str]) -> None:
    """Replaces the "Page reruns" section of ``path`` (or appends it at the end)."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmark results\n"
    start = text.find(f"\n{SECTION}\n")
    if start >= 0:
        nxt = text.find("\n## ", start + len(SECTION) + 2)
        head, tail = text[:start], text[nxt:] if nxt >= 0 else ""
        text = head.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n" + tail
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="county,prefecture", help="county,prefecture")
    parser.add_argument(
        "--pages", default=",".join(LEADER_PAGES), help=f"from {','.join(LEADER_PAGES)}"
    )
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", type=Path, help="keep / reuse the generated databases here")
    parser.add_argument("--profile", action="store_true", help="profile the largest size")
    parser.add_argument("--write", action="store_true", help="write the RESULTS.md section")
    parser.add_argument("--results", type=Path, default=RESULTS, help="the file --write edits")
    args = parser.parse_args(argv)
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    for s in sizes:
        if s not in SIZES:
            parser.error(f"unknown size {s!r}; use {', '.join(SIZES)}")
    for p in pages:
        if p not in LEADER_PAGES:
            parser.error(f"unknown page {p!r}; use {', '.join(LEADER_PAGES)}")
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    set_log_level("error")  # cached calls outside a script run warn otherwise
    command = (
        f"python bench/bench_pages.py --sizes {','.join(sizes)} --pages {','.join(pages)} "
        f"--runs {args.runs}"
        + (f" --dir {args.dir}" if args.dir else "")
        + (" --profile" if args.profile else "")
    )
    info = {**machine(), "runs": args.runs, "date": dt.date.today().isoformat()}
    info["load_before"] = load_average()
    print(f"{command}\nload average before: {info['load_before']}", flush=True)
    rows: list[dict] = []
    profiles: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.dir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        paths = {}
        for s in sizes:
            paths[s], gen_s = prepare(folder, s)
            print(f"{s}: {paths[s]} ({'reused' if gen_s is None else f'{gen_s:.1f} s'})")
        info["first_load"] = first_load(paths[sizes[0]], pages[0])
        for s in sizes:
            for p in pages:
                times = bench_page(paths[s], p, args.runs)
                rows.append(
                    {"page": p, "size": s, "households": SIZES[s].households, "times": times}
                )
                print(results_table(rows)[-1], flush=True)
        if args.profile:
            info["profile_size"] = f"{sizes[-1]}, {SIZES[sizes[-1]].households:,} households"
            for p in pages:
                profiles[p] = profile_page(paths[sizes[-1]], p)
        reset_caches(paths[sizes[-1]])
    info["load_after"] = load_average()
    lines = report(info, rows, profiles, command)
    print("\n" + "\n".join(lines))
    print("\nAll runs (s):")
    for r in rows:
        for phase in PHASES:
            values = ", ".join(f"{x:.3f}" for x in r["times"][phase])
            print(f"- {r['page']} {r['size']} {phase}: {values}")
    if args.write:
        write_section(args.results, lines)
        print(f"\nwrote the {SECTION!r} section of {args.results}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
