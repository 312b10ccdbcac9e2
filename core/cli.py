"""Yardstick from a shell: the headless interface of docs/cli.md (a contract; never rename a flag
or a JSON field). Each command lives in core/commands/<name>.py and calls the same core functions
the pages call. Errors become one line on stderr and a non-zero exit code.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import importlib
import io
import json
import math
import os
import pkgutil
import sys
import traceback
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import core.commands
from core.access.scope import DISTRICT, Scope
from core.cohorts.spec import SpecError
from core.warehouse import private_files
from core.warehouse.db import WarehouseError, warehouse_path


class CommandError(RuntimeError):
    """A failure the user can act on; printed as one line, exit code 1 (or .code)."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


def _command_name(module: str) -> str:
    """core/commands/import_cmd.py registers `import` (a keyword cannot name a module)."""
    return module.removesuffix("_cmd")


def _chosen_command(argv: Sequence[str], names: set[str]) -> str | None:
    """The command on the line, skipping global options and their values."""
    skip_next = False
    for arg in argv:
        if skip_next:
            skip_next = False
        elif arg in ("--db", "--as-user"):
            skip_next = True
        elif not arg.startswith("-"):
            return arg if arg in names else None
    return None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """Only the chosen command's module is imported (each pulls in its own heavy libraries, and a
    cron job should not pay for all of them); --help or an unknown command imports them all."""
    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--db", help="warehouse file (default: $YARDSTICK_DB or data/yardstick.duckdb)"
    )
    parser.add_argument(
        "--as-user",
        dest="as_user",
        help="apply this user's scope (role, schools, sections) instead of the district view",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = sorted(m.name for m in pkgutil.iter_modules(core.commands.__path__))
    chosen = _chosen_command(argv, {_command_name(m) for m in modules})
    for module in modules:
        if chosen is None or _command_name(module) == chosen:
            importlib.import_module(f"core.commands.{module}").register(subparsers)
    return parser


def add_outputs(parser: argparse.ArgumentParser, csv_help: str = "CSV rows") -> None:
    """--json or --csv (never both), then --db: every read command offers the same three
    outputs (a table for a person by default), so their flags must read alike."""
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="one JSON document")
    output.add_argument("--csv", action="store_true", help=csv_help)
    add_db_option(parser)


def add_db_option(parser: argparse.ArgumentParser) -> None:
    """Accept --db after the command too (`python -m core import f.csv --db x.duckdb`)."""
    parser.add_argument("--db", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    parser.add_argument(
        "--as-user", dest="as_user", default=argparse.SUPPRESS, help=argparse.SUPPRESS
    )


def scope_of(args: argparse.Namespace, con: Any) -> Scope:
    """The CLI runs as the district unless --as-user names an account (scripts for one school)."""
    username = getattr(args, "as_user", None)
    if not username:
        return DISTRICT
    # lazy: every `python -m core` call imports this module, and core.access.users loads pandas
    # and bcrypt, which init, bench and nightly never need
    from core.access.users import scope_for_username

    return scope_for_username(con, username)


def clean_for_json(value: Any) -> Any:
    """NaN/inf are not JSON: they become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: clean_for_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_for_json(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        return clean_for_json(value.item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def print_json(document: Any) -> None:
    sys.stdout.write(json.dumps(clean_for_json(document), indent=2) + "\n")


def print_results(
    records: Sequence[dict[str, Any]],
    head: Callable[[dict[str, Any]], str],
    result: Callable[[dict[str, Any]], str],
) -> None:
    """One line per record for a person: what it is, then its result, or the same "not
    reported" phrase in every command when the privacy rule holds the result back."""
    for record in records:
        if record["suppressed"]:
            print(f"{head(record)}: not reported — {record['note']}")
        else:
            print(f"{head(record)}: {result(record)}")


def print_csv(rows: Sequence[dict[str, Any]]) -> None:
    """Rows as CSV on stdout, nested values as JSON text, formula-looking cells neutralised."""
    # lazy: every `python -m core` call imports this module, and core.exports.tables loads
    # pandas, which init, bench and nightly never need
    from core.exports.tables import neutralise

    buffer = io.StringIO()
    fields = list(dict.fromkeys(k for row in rows for k in row))
    writer = csv.DictWriter(buffer, fieldnames=fields)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {
                k: neutralise(json.dumps(clean_for_json(v)) if isinstance(v, dict | list) else v)
                for k, v in row.items()
            }
        )
    sys.stdout.write(buffer.getvalue())


def one_line(exc: BaseException) -> str:
    """An error's message on one line (a library's message may span several)."""
    return " ".join(str(exc).split()) or type(exc).__name__


def unexpected_error(
    exc: BaseException, db: str | os.PathLike | None, argv: Sequence[str] = ()
) -> int:
    """The last resort: a failure nobody foresaw still reads as one line with an error id (what
    happened, what to do); the traceback goes to <warehouse folder>/logs/cli-errors.log (0600)
    under that id, and to stderr as well when YARDSTICK_DEBUG is set."""
    error_id = uuid.uuid4().hex[:8]
    details = "".join(traceback.format_exception(exc))
    heading = f"error id {error_id}: python -m core {' '.join(argv)}"
    log = _log_traceback(heading, details, warehouse_path(db).parent / "logs")
    if os.environ.get("YARDSTICK_DEBUG"):
        sys.stderr.write(details)
    where = f"; the details are in {log}" if log else ""
    sys.stderr.write(
        f"error: something unexpected went wrong and the command stopped (error id {error_id}). "
        f"Try it again; if it fails again, give your Yardstick administrator the error id"
        f"{where}.\n"
    )
    return 1


def _log_traceback(heading: str, details: str, folder: Path) -> Path | None:
    """Append the traceback to folder/cli-errors.log (created 0700/0600: a traceback can hold
    file names and values); None when it cannot be written (the line on stderr still is)."""
    try:
        path = private_files.make_dirs(folder) / "cli-errors.log"
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with private_files.open_private(path, "a") as handle:
            handle.write(f"--- {stamp} {heading}\n")
            handle.write(details)
        return path
    except OSError:
        return None


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.func
    try:
        return int(handler(args) or 0)
    except CommandError as exc:
        sys.stderr.write(f"error: {one_line(exc)}\n")
        return exc.code
    except (WarehouseError, SpecError, ValueError, FileNotFoundError, PermissionError) as exc:
        sys.stderr.write(f"error: {one_line(exc)}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - the last resort: no traceback on anyone's screen
        return unexpected_error(exc, getattr(args, "db", None), argv)
