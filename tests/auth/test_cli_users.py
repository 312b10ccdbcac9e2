"""`python -m core users …` end to end in a subprocess, and the cookie key's first-run file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from core.access import audit, users
from core.warehouse import db, secrets
from tests.auth.conftest import PASSWORD, seed_district

ROOT = Path(__file__).resolve().parents[2]


def core_cli(*args: str, stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=60,
    )


@pytest.mark.slow
def test_users_round_trip(db_path: Path) -> None:
    with db.connect(db_path) as con:
        seed_district(con)
    added = core_cli(
        "users",
        "add",
        "Pat.Lee",
        "--role",
        "school_admin",
        "--schools",
        "Lincoln Elementary",
        "--name",
        "Pat Lee",
        "--email",
        "pat@example.org",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "Added pat.lee (school_admin)."
    assert added.stderr == ""

    weak = core_cli(
        "users",
        "add",
        "tom",
        "--role",
        "teacher",
        "--sections",
        "L-3A",
        "--password-stdin",
        stdin="tom12345\n",
    )
    assert weak.returncode == 1
    assert weak.stderr.startswith("error: The password has 8 characters")
    no_stdin = core_cli("users", "reset", "pat.lee")
    assert no_stdin.returncode == 1 and "--password-stdin" in no_stdin.stderr

    listed = json.loads(core_cli("users", "list", "--json").stdout)
    assert listed == [
        {
            "username": "pat.lee",
            "name": "Pat Lee",
            "email": "pat@example.org",
            "role": "school_admin",
            "schools": ["Lincoln Elementary"],
            "sections": [],
            "active": True,
            "failed_attempts": 0,
            "locked_until": None,
            "created_at": listed[0]["created_at"],
            "last_sign_in": None,
        }
    ]

    with db.connect(db_path) as con:  # lock the account, then reset it from the shell
        for _ in range(5):
            users.verify_sign_in(con, "pat.lee", "not the password")
        assert users.access(con, "pat.lee").reason == "locked"
    reset = core_cli("users", "reset", "pat.lee", "--password-stdin", stdin="new phrase here 7\n")
    assert reset.returncode == 0, reset.stderr
    assert core_cli("users", "deactivate", "pat.lee").returncode == 0

    with db.connect(db_path) as con:
        assert users.verify_sign_in(con, "pat.lee", "new phrase here 7").reason == "inactive"
        changes = audit.events(con, action="user_change")
    assert [json.loads(d)["change"] for d in changes["detail"]] == [
        "deactivate",
        "reset_password",
        "add",
    ]
    assert all(who.startswith("cli:") for who in changes["username"])


def test_as_user_scope_for_unknown_account_fails_cleanly(db_path: Path) -> None:
    from core.cli import scope_of

    with db.connect(db_path) as con:
        users.add_user(con, "val", "viewer", PASSWORD, schools=["Washington Elementary"])
        args = type("Args", (), {"as_user": "val"})()
        assert scope_of(args, con).schools == ("Washington Elementary",)
        args.as_user = "ghost"
        with pytest.raises(users.UserError, match="no user 'ghost'"):
            scope_of(args, con)


def test_cookie_key_is_generated_once_with_0600(
    secrets_env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.delenv("YARDSTICK_COOKIE_KEY")
    assert not secrets_env.exists()
    key = secrets.cookie_key()
    assert len(key) >= 32
    assert stat.S_IMODE(secrets_env.stat().st_mode) == 0o600
    assert "generated cookie_key" in capsys.readouterr().err
    assert secrets.cookie_key() == key  # read back, not regenerated
    assert secrets_env.read_text().count("cookie_key") == 1
    monkeypatch.setenv("YARDSTICK_COOKIE_KEY", "from-the-environment")
    assert secrets.cookie_key() == "from-the-environment"
