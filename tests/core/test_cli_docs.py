"""docs/cli.md is the headless contract: every command, action and long flag the parser accepts
must be written there, under that command's own section, and so must every JSON field the
commands name in their constants and dataclasses (and those `init` and `users list` print), so
the doc cannot fall behind the code.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.cli import build_parser

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (sub)command as (("users", "add"), its parser), depth first."""
    for name, sub in _subparsers(parser).items():
        yield (*path, name), sub
        yield from commands(sub, (*path, name))


def long_flags(parser: argparse.ArgumentParser) -> set[str]:
    return {
        flag
        for action in parser._actions
        for flag in action.option_strings
        if flag.startswith("--") and flag != "--help"
    }


def sections(level: str) -> dict[str, str]:
    """Headings of one level (`## ` or `### `) whose title is a command in backticks → their
    text up to the next heading of that level or above; `### \\`users deactivate\\`,
    \\`users activate\\`` files its text under both."""
    text = DOC.read_text(encoding="utf-8")
    found: dict[str, str] = {}
    stop = "|".join(re.escape("#" * n + " ") for n in range(1, len(level)))
    parts = re.split(rf"^(?={re.escape(level)}|{stop})", text, flags=re.MULTILINE)
    for part in parts:
        if part.startswith(level):
            title = part.splitlines()[0]
            for name in re.findall(r"`([a-z][a-z ]*)`", title):
                found[name] = part
    return found


PARSER = build_parser()
COMMANDS = list(commands(PARSER))


def test_the_parser_has_every_command_and_action() -> None:
    names = {" ".join(path) for path, _ in COMMANDS}
    assert {"init", "import", "nightly", "standards", "compare", "growth", "report"} <= names
    assert {"benchmarks", "bench", "users add", "users demo", "sftp trust", "sftp pull"} <= names
    assert {"backup", "restore"} <= names
    assert len(names) == 25  # 13 commands, 6 users actions, 6 sftp actions


def test_global_options_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    global_section = text.split("## Global options", 1)[1].split("\n## ", 1)[0]
    for flag in long_flags(PARSER):
        assert f"`{flag}" in global_section, f"{flag} is missing from 'Global options'"


@pytest.mark.parametrize(("path", "parser"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_command_has_its_section_with_every_long_flag(
    path: tuple[str, ...], parser: argparse.ArgumentParser
) -> None:
    top = sections("## ")
    assert path[0] in top, f"docs/cli.md has no section '## `{path[0]}`'"
    text = top[path[0]]
    if len(path) > 1:
        sub = sections("### ")
        name = " ".join(path)
        assert name in sub, f"docs/cli.md has no section '### `{name}`'"
        text = sub[name]
    hidden = {"--db", "--as-user"}  # every command takes the global options (documented above)
    for flag in sorted(long_flags(parser) - hidden):
        assert re.search(rf"`{re.escape(flag)}(?![\w-])", text), (
            f"{flag} of `{' '.join(path)}` is not in its section of docs/cli.md"
        )


def test_the_commands_table_names_every_command() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("## Commands", 1)[1].split("\n## ", 1)[0]
    for name in {path[0] for path, _ in COMMANDS}:
        assert f"| `{name}" in table, f"`{name}` is missing from the commands table"


def test_readme_table_agrees_and_links_the_contract() -> None:
    readme = (DOC.parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## The headless interface", 1)[1].split("\n## ", 1)[0]
    assert "(docs/cli.md)" in section
    for name in {path[0] for path, _ in COMMANDS}:
        assert re.search(rf"`(\w+ )?{name}\b", section), f"README's table lacks `{name}`"


def _documented(name: str, text: str) -> bool:
    """A field is documented when it appears in backticks, alone or in a dotted path."""
    return re.search(rf"`(\w+\.)*{re.escape(name)}`", text) is not None


def _field_names() -> list[tuple[str, str]]:
    """(section, field) for every field name the commands take from a constant or dataclass."""
    from dataclasses import fields

    from core.commands import compare, growth, import_cmd, standards
    from core.ingest.jobs import JobSummary
    from core.sftp.registry import SftpSource

    named = {
        "import": [*import_cmd.CONTRACT, *(f.name for f in fields(JobSummary))],
        "standards": [*standards.IDENTITY, *standards.STATISTICS, *standards.SET_FIELDS],
        "compare": list(compare.STATISTICS),
        "growth": list(growth.STATISTICS),
        "sftp list": [f.name for f in fields(SftpSource)],
    }
    return [(section, name) for section, names in named.items() for name in names]


@pytest.mark.parametrize(("section", "name"), _field_names())
def test_every_json_field_the_code_names_is_documented(section: str, name: str) -> None:
    text = {**sections("## "), **sections("### ")}[section]
    assert _documented(name, text), f"`{name}` is missing from the `{section}` section"


def test_init_and_users_list_print_only_documented_fields(
    db_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from core.access.users import add_user
    from core.cli import main
    from core.warehouse.db import connect

    assert main(["--db", str(db_path), "init", "--json"]) == 0
    init = json.loads(capsys.readouterr().out)
    with connect(db_path) as con:
        add_user(con, "pat.lee", "viewer", "a long passphrase 42", by="test", schools=["X"])
    assert main(["--db", str(db_path), "users", "list", "--json"]) == 0
    (user,) = json.loads(capsys.readouterr().out)
    assert user["username"] == "pat.lee" and user["schools"] == ["X"]
    documented = {**sections("## "), **sections("### ")}
    for section, document in (("init", init), ("users list", user)):
        for key in document:
            assert _documented(key, documented[section]), f"{section}: `{key}` undocumented"
