"""`python -m core users add|list|reset|deactivate|activate|demo`: accounts from a shell — for
scripted set-up and for the admin who locked themselves out. Passwords only ever come on stdin
(`--password-stdin`), never on the command line where `ps` and shell history would keep them.
Every change is audited as "cli:<os user>".
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

import pandas as pd

from core.access import users
from core.access.scope import ROLES
from core.cli import CommandError, add_db_option, print_json
from core.warehouse.db import connect, warehouse_path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("users", help="add, list, reset or deactivate user accounts")
    actions = parser.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="create an account")
    add.add_argument("username")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--schools", default="", help="comma-separated school names")
    add.add_argument("--sections", default="", help="comma-separated section names")
    add.add_argument("--name", help="full name shown in the app")
    add.add_argument("--email")
    _password_option(add)
    add.set_defaults(func=run_add)

    listing = actions.add_parser("list", help="every account, its role, assignment and state")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=run_list)

    reset = actions.add_parser("reset", help="set a new password (also clears a lockout)")
    reset.add_argument("username")
    _password_option(reset)
    reset.set_defaults(func=run_reset)

    for name, helptext, active in (
        ("deactivate", "stop an account signing in (its history is kept)", False),
        ("activate", "let a deactivated account sign in again", True),
    ):
        toggle = actions.add_parser(name, help=helptext)
        toggle.add_argument("username")
        toggle.set_defaults(func=run_set_active, active=active)

    demo = actions.add_parser(
        "demo", help="one demo account per role over the loaded district (password on stdin)"
    )
    _password_option(demo)
    demo.set_defaults(func=run_demo)

    for sub in actions.choices.values():
        add_db_option(sub)


def _password_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--password-stdin",
        dest="password_stdin",
        action="store_true",
        help="read the password from the first line of stdin",
    )


def cli_user() -> str:
    """Who ran the command, for the audit log."""
    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = os.environ.get("USER") or f"uid{os.getuid()}"
    return f"cli:{name}"


def _read_password(args: argparse.Namespace) -> str:
    if not args.password_stdin:
        raise CommandError(
            "Give the password on stdin with --password-stdin "
            "(e.g. `printf '%s\\n' \"$PW\" | python -m core users add …`), never as an argument."
        )
    line = sys.stdin.readline()
    if not line.strip():
        raise CommandError("No password arrived on stdin.")
    return line.rstrip("\r\n")


def _split(text: str) -> list[str]:
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def run_add(args: argparse.Namespace) -> int:
    password = _read_password(args)
    schools, sections = _split(args.schools), _split(args.sections)
    with connect(warehouse_path(args.db)) as con:
        user = users.add_user(
            con,
            args.username,
            args.role,
            password,
            name=args.name,
            email=args.email,
            schools=schools,
            sections=sections,
            by=cli_user(),
        )
        unknown = users.unknown_assignments(con, list(user.schools), list(user.sections))
    print(f"Added {user.username} ({user.role}).")
    if unknown:
        sys.stderr.write(
            f"warning: not in the warehouse yet: {', '.join(unknown)}. Until data for them is "
            "imported, this account sees nothing there (check the spelling).\n"
        )
    return 0


def run_list(args: argparse.Namespace) -> int:
    with connect(warehouse_path(args.db)) as con:
        frame = users.list_users(con)
    rows = [
        {key: (None if value is pd.NaT else value) for key, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]
    if args.json:
        print_json(rows)
        return 0
    if not rows:
        print("No accounts yet: add the first with `python -m core users add NAME --role ...`.")
    for row in rows:
        state = "active" if row["active"] else "deactivated"
        if row["locked_until"] is not None:
            state += f", locked until {row['locked_until']:%Y-%m-%d %H:%M} UTC"
        assigned = ", ".join(row["schools"] + row["sections"]) or "all schools"
        print(f"{row['username']:<24} {row['role']:<15} {state:<12} {assigned}")
    return 0


def run_reset(args: argparse.Namespace) -> int:
    password = _read_password(args)
    with connect(warehouse_path(args.db)) as con:
        user = users.reset_password(con, args.username, password, by=cli_user())
    print(f"New password set for {user.username}; failed attempts and any lockout cleared.")
    return 0


def run_set_active(args: argparse.Namespace) -> int:
    with connect(warehouse_path(args.db)) as con:
        user = users.set_active(con, args.username, args.active, by=cli_user())
    print(f"{user.username} is now {'active' if user.active else 'deactivated'}.")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    password = _read_password(args)
    with connect(warehouse_path(args.db)) as con:
        created = users.add_demo_users(con, password, by=cli_user())
    for user in created:
        assigned = ", ".join(user.schools + user.sections) or "all schools"
        print(f"{user.username:<16} {user.role:<15} {assigned}")
    return 0
