"""The command line: ``python -m analytics ingest|metrics|anomalies|export|report|demo|...``.

Machine-readable output (``--format json|csv``) goes to standard output alone; messages
and reports go to standard error. Exit codes of ``ingest``: 0 loaded, 1 refused, 2 a file
that cannot be read (the worst file decides).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import sys
import unicodedata
from pathlib import Path

import pandas as pd

from analytics.access import accounts
from analytics.domain import config, labels
from analytics.domain.settings import AREA_STANDARD
from analytics.figures import metrics, queries, rules
from analytics.fixtures import demo
from analytics.importing import ingest, spellings
from analytics.importing.results import ReadError
from analytics.output import export
from analytics.store.database import Store, StoreError, default_path


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m analytics", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    def db(sp: argparse.ArgumentParser) -> None:
        sp.add_argument("--db", help="DuckDB file (default: $POVERTY_DB or data/poverty.duckdb)")

    sp = sub.add_parser(
        "ingest",
        help="import files (.xlsx .xlsm .xls .csv .txt .parquet), each as its own batch",
    )
    db(sp)
    sp.add_argument("files", nargs="+", metavar="FILE")
    sp.add_argument("--round", required=True, help="the round (批次) the files belong to")
    sp.add_argument("--township", help="township for sheets without a township column")
    sp.add_argument(
        "--data-date",
        type=dt.date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="the date the data is as of, over what the file says (title, file name); "
        "without both, the latest survey or meeting date of its rows",
    )
    sp.add_argument(
        "--allow-partial", action="store_true", help="load valid rows, quarantine the rest"
    )
    sp.add_argument(
        "--replace", action="store_true", help="replace the batch already holding these rows"
    )
    sp.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="HEADER=FIELD",
        help="read the header HEADER as the field FIELD (a field key such as persons, or a "
        "known header such as 搬迁人口); kept for this database and audited (repeatable)",
    )

    sp = sub.add_parser(
        "spellings", help="list the header spellings confirmed for this database (or remove one)"
    )
    db(sp)
    sp.add_argument("--remove", metavar="HEADER", help="forget this spelling (audited)")

    sp = sub.add_parser("metrics", help="print every metric per unit for one round")
    db(sp)
    sp.add_argument("--round", help="round name (default: the latest round)")
    sp.add_argument("--by", choices=list(metrics.LEVELS), default="village")
    sp.add_argument("--format", choices=["json", "csv"], default="json")
    sp.add_argument("--township", action="append", default=[], help="filter (repeatable)")
    sp.add_argument("--village", action="append", default=[], help="filter (repeatable)")
    sp.add_argument("--group", action="append", default=[], help="filter (repeatable)")
    sp.add_argument(
        "--area-standard",
        type=float,
        default=None,
        help="relocation housing standard, m² per person (default: the database's setting, "
        f"{AREA_STANDARD:g} unless changed)",
    )

    sp = sub.add_parser("anomalies", help="print every anomaly rule hit for one round")
    db(sp)
    sp.add_argument("--round", help="round name (default: the latest round)")
    sp.add_argument("--village", action="append", default=[], help="filter (repeatable)")
    sp.add_argument("--format", choices=["json", "csv"], default="json")

    sp = sub.add_parser("export", help="write a filtered table as CSV or XLSX")
    db(sp)
    sp.add_argument("table", choices=EXPORT_TABLES)
    sp.add_argument("--round", help="round name (default: the latest round)")
    sp.add_argument("--village", action="append", default=[], help="filter (repeatable)")
    sp.add_argument("--group", action="append", default=[], help="filter (repeatable)")
    sp.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    sp.add_argument("--out", required=True, help="the file to write")
    sp.add_argument(
        "--unmask", action="store_true", help="full names and ID numbers (masked by default)"
    )

    sp = sub.add_parser("report", help="write the situation report (情况报告)")
    db(sp)
    sp.add_argument("--round", help="round name (default: the latest round)")
    sp.add_argument("--village", action="append", default=[], help="filter (repeatable)")
    sp.add_argument("--format", choices=["docx", "md"], required=True)
    sp.add_argument("--out", required=True, help="the file to write")

    sp = sub.add_parser("adduser", help="create an account (password read from stdin)")
    db(sp)
    sp.add_argument("username")
    sp.add_argument("--role", choices=accounts.ROLES, required=True)

    sp = sub.add_parser(
        "passwd", help="set a user's password (read from stdin); ends their sign-ins"
    )
    db(sp)
    sp.add_argument("username")

    sp = sub.add_parser("demo", help="(re)build the demo township's rounds")
    db(sp)
    sp.add_argument("--out-dir", help="also keep the generated demo workbooks here")

    sp = sub.add_parser("rounds", help="list rounds in order (the last is the latest)")
    db(sp)
    sp = sub.add_parser("batches", help="list imported batches")
    db(sp)
    sp = sub.add_parser("delete", help="delete one batch and exactly its rows")
    db(sp)
    sp.add_argument("batch_id", type=int)

    sp = sub.add_parser("backup", help="export every table to Parquet in a new folder")
    db(sp)
    sp.add_argument("--out", required=True, metavar="DIR", help="the folder to create")
    sp = sub.add_parser("restore", help="rebuild the database from a backup folder")
    db(sp)
    sp.add_argument("dir", metavar="DIR", help="a folder written by the backup command")
    sp.add_argument("--force", action="store_true", help="overwrite a database that holds data")
    return p


def terminal_safe(text: str) -> str:
    """``text`` with every control and format character (ESC sequences, line breaks,
    right-to-left overrides) written as its ``\\x1b`` / ``\\u202e`` escape: a sheet name or
    cell in a hostile file cannot recolour, rewrite or reorder the administrator's terminal.
    """
    return "".join(
        ch.encode("unicode_escape").decode("ascii")
        if unicodedata.category(ch) in ("Cc", "Cf")
        else ch
        for ch in text
    )


def _err(*parts: object) -> None:
    print(*(terminal_safe(str(p)) for p in parts), file=sys.stderr)


def _print_report(report: ingest.FileReport) -> None:
    _err(f"== {report.file}: {report.status} ({report.message_en or report.message})")
    if report.data_date is not None:
        _err(f"  data as of {report.data_date.isoformat()} (from the {report.data_date_source})")
    for s in report.sheets:
        if s.table is None:
            _err(f"  sheet {s.sheet}: not recognised: {s.note_en}")
            continue
        skipped = ", ".join(f"{k} {v}" for k, v in s.skipped.items() if v) or "none"
        _err(
            f"  sheet {s.sheet}: {s.table} (header row {s.header_rows}, township "
            f"{s.township or '-'} from {s.township_source}): {s.loaded} rows valid, "
            f"{s.rejected} rejected, skipped: {skipped}; members loaded: {s.members}"
        )
        if s.unused_columns:
            _err(f"    columns not used: {', '.join(s.unused_columns)}")
        for header, key in s.proposals.items():
            _err(f"    column {header!r} may be {key}: to read it so, add --map {header}={key}")
    for p in report.problems:
        where = f"{p.file} / {p.sheet} / row {p.row if p.row else '-'} / {p.column or '-'}"
        _err(f"  [{p.severity}] {p.code} {where}: {p.message_en} (value: {p.value!r})")


def _ingest(store: Store, args: argparse.Namespace) -> int:
    for mapping in args.map:
        header, sep, target = mapping.partition("=")
        if not sep:
            raise CliError(f"--map {mapping!r}: write it as HEADER=FIELD, e.g. 搬迁人口数=persons")
        try:
            _, key = spellings.confirm(
                store, header.strip(), target.strip(), by=accounts.CLI.username
            )
        except spellings.SpellingError as e:
            raise CliError(f"--map {mapping}: {e.message_en}") from e
        _err(f"header {header.strip()!r} is read as {key} from now on (kept for this database)")
    worst = 0
    for name in args.files:
        path = Path(name)
        try:  # a Parquet or large CSV file: bulk import; else at most the size limit is read
            report = ingest.import_path(
                store,
                path,
                args.round,
                township=args.township,
                allow_partial=args.allow_partial,
                replace=args.replace,
                data_date=args.data_date,
            )
        except OSError as e:
            _err(f"== {name}: unreadable ({e.strerror or e})")
            worst = max(worst, ingest.UNREADABLE)
            continue
        except ReadError as e:
            _err(f"== {name}: unreadable ({e.message_en})")
            worst = max(worst, ingest.UNREADABLE)
            continue
        _print_report(report)
        worst = max(worst, report.code)
    return worst


def _metrics(store: Store, args: argparse.Namespace) -> int:
    try:
        frame = queries.metrics_frame(
            store,
            args.round,
            args.by,
            townships=args.township,
            villages=args.village,
            groups=args.group,
            area_standard=(
                store.settings().area_standard if args.area_standard is None else args.area_standard
            ),
        )
    except KeyError:
        _err(f"no round named {args.round!r}; rounds: {', '.join(store.round_names()) or 'none'}")
        return 1
    if args.round is None and len(frame):
        _err(f"round: {frame['round'].iloc[0]} (the latest)")
    if args.format == "json":
        sys.stdout.write(frame.to_json(orient="records", force_ascii=False, date_format="iso"))
        sys.stdout.write("\n")
    else:
        sys.stdout.write(export.to_csv_text(frame))
    return 0


EXPORT_TABLES = ("households", "meetings", "relocation", "members", "anomalies", "metrics")


def _round(store: Store, name: str | None) -> str | None:
    """The round asked for, or the latest; None (after a message) when there is none."""
    rounds = store.round_names()
    if name is None:
        if not rounds:
            _err("the database holds no round")
            return None
        return rounds[-1]
    if name not in rounds:
        _err(f"no round named {name!r}; rounds: {', '.join(rounds) or 'none'}")
        return None
    return name


def _anomalies(store: Store, args: argparse.Namespace) -> int:
    round_name = _round(store, args.round)
    if round_name is None:
        return 1
    hits = queries.anomalies(store, metrics.Filters(round_name, (), tuple(args.village)))
    frame = hits[list(rules.EXPORT_COLUMNS)]
    if args.format == "json":
        sys.stdout.write(frame.to_json(orient="records", force_ascii=False) + "\n")
    else:
        sys.stdout.write(export.to_csv_text(frame))
    return 0


def _export(store: Store, args: argparse.Namespace) -> int:
    round_name = _round(store, args.round)
    if round_name is None:
        return 1
    f = metrics.Filters(round_name, (), tuple(args.village), tuple(args.group))
    if args.table == "metrics":
        frame = queries.metrics_frame(
            store, round_name, "village", villages=f.villages, groups=f.groups
        )
    elif args.table == "anomalies":
        frame = queries.anomalies(store, f)[list(rules.EXPORT_COLUMNS)]
    else:
        frame = queries.table_rows(store, args.table, f, unmask=args.unmask)
    frame = frame.rename(columns={c: labels.label(c, "zh") for c in frame.columns})
    data = (
        export.to_xlsx_bytes(frame, args.table)
        if args.format == "xlsx"
        else export.to_csv_bytes(frame)
    )
    _write(args.out, data)
    detail = {
        "table": args.table,
        "round": round_name,
        "villages": args.village,
        "groups": args.group,
        "format": args.format,
        "out": str(Path(args.out).resolve()),
    }
    action = "export_unmasked" if args.unmask else "export"
    accounts.audit(store, accounts.CLI.username, action, detail)
    masked = "unmasked" if args.unmask else "masked"
    _err(f"{len(frame)} rows of {args.table} ({round_name}, {masked}) written to {args.out}")
    return 0


def _report(store: Store, args: argparse.Namespace) -> int:
    round_name = _round(store, args.round)
    if round_name is None:
        return 1
    from analytics.output import report  # python-docx loads only when a report is written

    hits = queries.anomalies(store, metrics.Filters(round_name, (), tuple(args.village)))
    built = report.build_report(store, round_name, tuple(args.village), anomalies=hits)
    if args.format == "docx":
        _write(args.out, report.to_docx(built))
    else:
        _write(args.out, report.to_markdown(built))
    detail = {
        "round": round_name,
        "villages": args.village,
        "format": args.format,
        "out": str(Path(args.out).resolve()),
    }
    accounts.audit(store, accounts.CLI.username, "report", detail)
    _err(f"report for {round_name} written to {args.out}")
    return 0


def _password(username: str) -> str:
    """A password from a prompt (typed twice) or the first line of stdin.

    Raises
    ------
    CliError
        When the two typed passwords differ.
    """
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass(f"password for {username}: ")
    if getpass.getpass("again: ") != password:
        raise CliError("the two passwords differ")
    return password


def _adduser(store: Store, args: argparse.Namespace) -> int:
    """Creates an account; the password comes from a prompt or the first line of stdin."""
    password = _password(args.username)
    try:
        accounts.create_user(store, args.username, password, args.role, by=accounts.CLI.username)
    except accounts.AccountError as e:
        _err(str(e))
        return 1
    _err(f"account {args.username} ({args.role}) created")
    return 0


def _passwd(store: Store, args: argparse.Namespace) -> int:
    """Sets a user's password (prompt or first line of stdin); ends the user's sign-ins."""
    password = _password(args.username)
    try:
        accounts.set_password(store, args.username, password, by=accounts.CLI.username)
    except accounts.AccountError as e:
        _err(str(e))
        return 1
    _err(f"password of {args.username} set; their sign-ins have ended")
    return 0


def _table(frame: pd.DataFrame) -> None:
    with pd.option_context("display.max_rows", 500, "display.width", 200):
        print(frame.to_string(index=False) if len(frame) else "(none)")


def _backup_or_restore(args: argparse.Namespace) -> int:
    from analytics.store import backup

    try:
        if args.command == "backup":
            store = Store(args.db)
            try:
                manifest = backup.backup(store, args.out)
            finally:
                store.close()
            rows = sum(manifest.tables.values())
            _err(f"{len(manifest.tables)} tables, {rows} rows backed up to {args.out}")
            return 0
        target = Path(args.db) if args.db else default_path()
        manifest = backup.restore(args.dir, target, force=args.force)
        rows = sum(manifest.tables.values())
        _err(f"{len(manifest.tables)} tables, {rows} rows restored into {target}")
        return 0
    except backup.BackupError as e:
        _err(str(e))
        return 1
    except StoreError as e:
        _err(_store_error(e))
        return 1


def _store_error(e: StoreError) -> str:
    """The message with its details: whoever runs the command line is an administrator."""
    return f"{e}\n  ({e.detail})" if e.detail else str(e)


# Commands that only read: they never create a database where a path was mistyped.
READ_ONLY = frozenset({"metrics", "anomalies", "export", "report", "rounds", "batches", "delete"})


class CliError(Exception):
    """A problem to tell the user in one line (exit code 1)."""


def _write(out: str, data: bytes | str) -> Path:
    """Writes an output file, or raises CliError naming what is wrong with the path."""
    path = Path(out)
    if path.is_dir():
        raise CliError(f"--out {out} is a folder; give a file name")
    if not path.parent.is_dir():
        raise CliError(f"--out {out}: the folder {path.parent} does not exist")
    try:
        if isinstance(data, str):
            path.write_text(data, encoding="utf-8")
        else:
            path.write_bytes(data)
    except OSError as e:
        raise CliError(f"cannot write {out}: {e.strerror or e}") from e
    return path


def main(argv: list[str] | None = None) -> int:
    """Runs one command; returns its exit code. Errors are one-line messages on stderr
    (set POVERTY_DEBUG=1 to see the traceback of an unexpected one)."""
    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except CliError as e:
        _err(f"error: {e}")
        return 1
    except Exception as e:
        if config.debug():
            raise
        _err(f"error: {type(e).__name__}: {e} (POVERTY_DEBUG=1 shows the details)")
        return 1


def _run(args: argparse.Namespace) -> int:
    if args.command in ("backup", "restore"):
        return _backup_or_restore(args)
    if args.command in READ_ONLY:
        path = Path(args.db) if args.db else default_path()
        if not path.exists():
            raise CliError(f"no database at {path} (ingest a file or run `demo` first)")
    try:
        store = Store(args.db)
    except StoreError as e:
        _err(_store_error(e))
        return 1
    try:
        if args.command == "ingest":
            return _ingest(store, args)
        if args.command == "metrics":
            return _metrics(store, args)
        if args.command == "anomalies":
            return _anomalies(store, args)
        if args.command == "export":
            return _export(store, args)
        if args.command == "report":
            return _report(store, args)
        if args.command == "demo":
            try:
                reports = demo.load_demo(store, Path(args.out_dir) if args.out_dir else None)
            except demo.DemoError as e:
                _err(str(e))
                return 1
            for r in reports:
                _print_report(r)
            _err(f"demo loaded into {store.path}")
            return 0
        if args.command == "adduser":
            return _adduser(store, args)
        if args.command == "spellings":
            if args.remove:
                if spellings.remove(store, args.remove, by=accounts.CLI.username):
                    _err(f"spelling {args.remove!r} removed")
                    return 0
                _err(f"no spelling {args.remove!r} is kept")
                return 1
            _table(store.spelling_table())
            return 0
        if args.command == "passwd":
            return _passwd(store, args)
        if args.command == "rounds":
            _table(store.rounds())
            return 0
        if args.command == "batches":
            _table(store.batches())
            return 0
        if args.command == "delete":
            if store.delete_batch(args.batch_id):
                _err(f"batch {args.batch_id} deleted")
                return 0
            _err(f"no batch {args.batch_id}")
            return 1
    finally:
        store.close()
    return 1
