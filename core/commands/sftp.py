"""`python -m core sftp add|list|test|trust|pull|remove`: SFTP sources for a server reached only
over SSH. Secrets come on stdin (--password-stdin, --passphrase-stdin) or from a key file, never
as arguments; changes are audited as "cli:<os user>"."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from core.access import audit
from core.cli import CommandError, add_db_option, print_json
from core.commands.users import cli_user
from core.sftp import registry
from core.sftp.connect import (
    ConnectionReport,
    SftpError,
    Step,
    confirm_fingerprint,
    load_target,
    test_connection,
)
from core.sftp.keys import PrivateKeyError, normalise_fingerprint
from core.sftp.pull import pull_source
from core.warehouse.db import connect, warehouse_path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sftp", help="SFTP sources: add, list, test, trust, pull, remove"
    )
    actions = parser.add_subparsers(dest="sftp_command", required=True, metavar="ACTION")
    add = actions.add_parser("add", help="add (or replace) a source")
    add.add_argument("name")
    add.add_argument("--host", required=True)
    add.add_argument("--port", type=int, default=22)
    add.add_argument("--user", required=True, help="the SFTP account's user name")
    secret = add.add_mutually_exclusive_group(required=True)
    secret.add_argument(
        "--password-stdin",
        dest="password_stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )
    secret.add_argument("--key-file", dest="key_file", help="private key file (RSA/ECDSA/Ed25519)")
    add.add_argument(
        "--passphrase-stdin",
        dest="passphrase_stdin",
        action="store_true",
        help="read the key's passphrase from the first line of stdin",
    )
    add.add_argument("--remote-dir", dest="remote_dir", default=".", help="folder on the server")
    add.add_argument("--pattern", default="*", help="file name pattern, e.g. 'scores_*.csv'")
    add.add_argument("--source", dest="preset", default="auto", help="import preset (auto)")
    add.set_defaults(func=run_add)
    listing = actions.add_parser("list", help="configured sources (secrets only as set/not set)")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=run_list)
    for action, helptext, func in (
        ("test", "test the connection step by step; shows the host key fingerprint", run_test),
        ("pull", "import the newest matching files not yet imported", run_pull),
        ("remove", "forget a source and its secrets", run_remove),
        ("trust", "confirm the server's host key fingerprint", run_trust),
    ):
        sub = actions.add_parser(action, help=helptext)
        sub.add_argument("name")
        if action in ("test", "pull"):
            sub.add_argument("--json", action="store_true")
        if action == "trust":
            sub.add_argument("--fingerprint", required=True, help="SHA256:… as ssh-keygen -l shows")
        sub.set_defaults(func=func)
    for sub in (parser, *actions.choices.values()):
        add_db_option(sub)


def _stdin_line(what: str) -> str:
    line = sys.stdin.readline()
    if not line.strip():
        raise CommandError(f"No {what} arrived on stdin.")
    return line.rstrip("\r\n")


def _audit(con, change: str, name: str, **detail) -> None:
    audit.log(
        con,
        cli_user(),
        "settings_change",
        {"area": "sftp", "change": change, "source": name, **detail},
    )


def run_add(args: argparse.Namespace) -> int:
    password = key = passphrase = None
    if args.password_stdin:
        if args.passphrase_stdin:
            raise CommandError("--passphrase-stdin goes with --key-file, not with a password.")
        password = _stdin_line("password")
    else:
        try:
            key = Path(args.key_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read the key file {args.key_file}: {exc}") from exc
        passphrase = _stdin_line("passphrase") if args.passphrase_stdin else ""
    with connect(warehouse_path(args.db)) as con:
        existed = any(s.name == args.name for s in registry.list_sources(con))
        try:
            source = registry.save_source(
                con,
                name=args.name,
                host=args.host,
                port=args.port,
                username=args.user,
                auth_kind="password" if password is not None else "key",
                password=password,
                private_key=key,
                passphrase=passphrase,
                remote_dir=args.remote_dir,
                pattern=args.pattern,
                preset=args.preset,
                user=cli_user(),
            )
        except PrivateKeyError as exc:
            raise CommandError(str(exc)) from exc
        _audit(
            con,
            "update" if existed else "add",
            source.name,
            host=source.host,
            port=source.port,
            auth=source.auth_kind,
        )
    print(f"{'Updated' if existed else 'Added'} SFTP source {source.name}.")
    if not source.trusted:
        print(
            f"Next: python -m core sftp test {_arg(source.name)} shows the server's fingerprint; "
            "check it with the server's administrator, then: "
            f"python -m core sftp trust {_arg(source.name)} --fingerprint SHA256:…"
        )
    return 0


def _arg(name: str) -> str:
    return f"'{name}'" if " " in name else name


def run_list(args: argparse.Namespace) -> int:
    with connect(warehouse_path(args.db)) as con:
        sources = registry.list_sources(con)
    if args.json:
        print_json([s.to_dict() for s in sources])
        return 0
    if not sources:
        print("No SFTP source yet. Add one: python -m core sftp add NAME --host … (see --help).")
    for s in sources:
        secret = "password" if s.auth_kind == "password" else "private key"
        state = "set" if (s.password_set if s.auth_kind == "password" else s.key_set) else "NOT SET"
        key = s.host_key_fingerprint or "host key not confirmed"
        print(
            f"{s.name}: {s.username}@{s.host}:{s.port} {s.remote_dir}/{s.pattern} "
            f"(preset {s.preset}; {secret} {state}; {key})"
        )
    return 0


def _print_step(step: Step) -> None:
    mark = "ok  " if step.ok else "FAIL"
    print(f"[{mark}] {step.label}: {step.detail} ({step.seconds:.2f} s)", flush=True)


def _explain(report: ConnectionReport) -> None:
    if report.host_key is not None:
        state = {"trusted": "confirmed", "unknown": "NOT confirmed yet", "changed": "CHANGED"}
        print(f"Host key: {report.host_key.description} ({state[report.host_key.status]})")
    if report.problem is not None:
        print(f"\n{report.problem.reason}\nWhat to do: {report.problem.advice}")
    else:
        print(f"\nAll steps passed; {len(report.files)} file(s) match.")


def run_test(args: argparse.Namespace) -> int:
    with connect(warehouse_path(args.db)) as con:
        target = load_target(con, args.name)
    report = test_connection(target, on_step=None if args.json else _print_step)
    if args.json:
        print_json(report.to_dict())
    else:
        _explain(report)
    if report.problem is not None:
        raise CommandError(report.problem.reason)
    return 0


def run_trust(args: argparse.Namespace) -> int:
    try:
        wanted = normalise_fingerprint(args.fingerprint)
    except PrivateKeyError as exc:
        raise CommandError(str(exc)) from exc
    path = warehouse_path(args.db)
    with connect(path) as con:
        target = load_target(con, args.name)
    try:
        key = confirm_fingerprint(target, wanted)
    except SftpError as exc:
        raise CommandError(str(exc)) from exc
    with connect(path) as con:
        registry.trust(
            con,
            args.name,
            key_type=key.key_type,
            fingerprint=key.fingerprint,
            public_key=key.public_key,
            user=cli_user(),
        )
        _audit(
            con,
            "trust_host_key",
            args.name,
            fingerprint=key.fingerprint,
            previous=target.trusted.fingerprint if target.trusted else None,
        )
    print(f"Trusted {key.description} for {args.name}.")
    return 0


def run_pull(args: argparse.Namespace) -> int:
    result = pull_source(
        args.name,
        db=warehouse_path(args.db),
        user=cli_user(),
        on_step=None if args.json else _print_step,
    )
    if args.json:
        print_json(result.to_dict())
    else:
        for job in result.jobs:
            print(
                f"Imported {job['remote_path']}: job #{job.get('job_id')} {job.get('status')}, "
                f"{job.get('inserted', 0)} inserted, {job.get('updated', 0)} updated, "
                f"{job.get('rejected', 0)} rejected."
            )
        for skipped in result.skipped:
            print(f"Skipped: {skipped['message']}")
        print(result.message)
    if not result.ok:
        raise CommandError(result.message)
    return 0


def run_remove(args: argparse.Namespace) -> int:
    with connect(warehouse_path(args.db)) as con:
        registry.remove_source(con, args.name)
        _audit(con, "remove", args.name)
    print(f"Removed SFTP source {args.name} (its import jobs stay in Import History).")
    return 0
