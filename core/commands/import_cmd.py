"""`python -m core import PATH… [--source auto|PRESET] [--mapping FILE] [--platform P] [--json]`:
the same pipeline as the Upload page. One JSON object for one path, a list for several; exit 1
when any file failed (one line per failure on stderr); "already imported" is a success (with
--platform it also declares that file's scores of unknown test, see pipeline._redeclare)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from core.cli import CommandError, add_db_option, print_json
from core.ingest import import_file
from core.warehouse.canonical import PLATFORMS
from core.warehouse.db import warehouse_path

CONTRACT = ("job_id", "status", "rows_read", "inserted", "updated", "duplicates", "rejected")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import", help="import files (CSV/TSV/XLSX/JSON) into the warehouse"
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files to import")
    parser.add_argument(
        "--source", default="auto", help="preset name (default: auto-detect from the headers)"
    )
    parser.add_argument(
        "--mapping", help='JSON file {"source header": "target field"} (or a full preset)'
    )
    parser.add_argument(
        "--platform",
        choices=list(PLATFORMS),
        help="the test a generic file holds: "
        + ", ".join(f"{k} ({v})" for k, v in PLATFORMS.items())
        + "; default: the file's platform column, else generic (no national norm applies)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    add_db_option(parser)
    parser.set_defaults(func=run)


def _load_mapping(path: str | None) -> dict | None:
    if not path:
        return None
    try:
        mapping = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CommandError(f"No such mapping file: {path}") from exc
    except json.JSONDecodeError as exc:
        raise CommandError(f"The mapping file {path} is not valid JSON: {exc.msg}") from exc
    if not isinstance(mapping, dict):
        raise CommandError('A mapping file holds one JSON object {"source header": "field"}.')
    return mapping


def document(summary) -> dict:
    data = summary.to_dict()
    added = data.get("added") or {}
    return {
        **{k: data[k] for k in CONTRACT},
        "errors": data["errors"],
        **{k: v for k, v in data.items() if k not in CONTRACT and k != "errors"},
        # which school year the file's student attributes were recorded for, and why
        "attributes_school_year": added.get("attributes_school_year"),
        "attributes_year_from": added.get("attributes_year_from"),
    }


def human(summary) -> str:
    head = f"{summary.file_name}: {summary.status} (job {summary.job_id}). {summary.message}"
    errors = [
        e for e in summary.errors if e["severity"] == "error" and e["message"] != summary.message
    ]
    lines = [head]
    for error in errors[:10]:
        where = f"row {error['row']}, " if error["row"] else ""
        column = f"column {error['column']}: " if error["column"] else ""
        lines.append(f"  {where}{column}{error['message']}")
    if len(errors) > 10:
        lines.append(f"  … and {len(errors) - 10} more (use --json for all)")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    mapping = _load_mapping(args.mapping)
    summaries = []
    for path in args.paths:
        if not Path(path).is_file():
            raise CommandError(f"No such file: {path}")
        summaries.append(
            import_file(
                path,
                db=warehouse_path(args.db),
                origin="cli",
                preset=args.source,
                mapping=mapping,
                user="cli",
                platform=args.platform,
            )
        )
    if args.json:
        docs = [document(s) for s in summaries]
        print_json(docs[0] if len(docs) == 1 else docs)
    else:
        print("\n".join(human(s) for s in summaries))
    failed = [s for s in summaries if s.status != "completed"]
    for summary in failed:
        message = " ".join(summary.message.split())  # one line per failed file
        sys.stderr.write(f"error: {summary.file_name}: {message}\n")
    return 1 if failed else 0
