"""The house keeps its shape: core never imports streamlit, no module-level import cycle anywhere,
core's packages import only the layers below them, no loose modules beside the packages, and no
tracked file points outside the repository (docs/architecture.md, "Packages and layers").

Imports are read from the source with `ast` (nothing is imported): a module-level import is one at
the top of a module or under a module-level `if` / `try`; an import inside a function, or under
`if TYPE_CHECKING:`, is deliberate and allowed (it must say why in a comment)."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# core's packages from the bottom up; a package may import those on lower rows only (cli.py
# belongs with commands: it discovers them, they use its helpers). Mirrored in core/__init__.py.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("warehouse", "exports"),
    ("access",),
    ("cohorts", "ingest"),
    ("stats", "backup"),
    ("catalog", "words"),
    ("standards",),
    ("compare",),
    ("alerts", "districts"),
    ("narrate", "sftp", "demo"),
    ("report",),
    ("commands", "cli"),
    ("bench",),
    ("__main__",),
)
RANK = {package: rank for rank, row in enumerate(LAYERS) for package in row}
LOOSE_MODULES = {"__init__", "__main__", "cli"}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, Path]:
    folders = [ROOT / "core", ROOT / "ui", ROOT / "tests", *(p for p in ROOT.glob("*_pages"))]
    found = {_module_name(p): p for folder in folders for p in folder.rglob("*.py")}
    found["app"] = ROOT / "app.py"
    return found


MODULES = _modules()


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules an import statement runs: `from a import b` runs a.b when b is a module."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if node.level or node.module is None:
        return []
    subs = [f"{node.module}.{alias.name}" for alias in node.names]
    return [name for name in subs if name in MODULES] or [node.module]


def module_level_imports(path: Path) -> list[str]:
    found: list[str] = []

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                found.extend(_targets(node))
            elif isinstance(node, ast.If) and not _is_type_checking(node.test):
                visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                visit(node.orelse)
                visit(node.finalbody)
                for handler in node.handlers:
                    visit(handler.body)

    visit(ast.parse(path.read_text()).body)
    return found


def all_imports(path: Path) -> list[str]:
    nodes = ast.walk(ast.parse(path.read_text()))
    return [t for n in nodes if isinstance(n, ast.Import | ast.ImportFrom) for t in _targets(n)]


GRAPH = {
    name: sorted({t for t in module_level_imports(path) if t in MODULES and t != name})
    for name, path in MODULES.items()
}


def find_cycle(graph: dict[str, list[str]]) -> list[str] | None:
    """One import cycle, as the list of modules around it, or None (depth-first, colouring)."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = 2
        path.pop()
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)):
            return cycle
    return None


def test_the_walk_sees_the_whole_house() -> None:
    # guards the guards below: a walk that found nothing would pass them all
    walked = {"core.warehouse.db", "core.stats.inference", "core.cli", "ui.auth", "app"}
    assert walked | {"app_pages.standards", "tests.conftest"} <= set(MODULES)
    assert "core.warehouse.canonical" in GRAPH["core.cohorts.spec"]
    assert len([m for m in MODULES if m.startswith("core.")]) > 80


def test_core_never_imports_streamlit() -> None:
    offenders = {
        name: sorted(t for t in all_imports(path) if t.split(".")[0] == "streamlit")
        for name, path in MODULES.items()
        if name.startswith("core")
    }
    assert {name: found for name, found in offenders.items() if found} == {}


def function_level_imports(path: Path) -> list[ast.Import | ast.ImportFrom]:
    """The import statements inside a function's body (at any depth) that run a core/ui module."""
    functions = [
        node
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    found = {
        node
        for function in functions
        for node in ast.walk(function)
        if isinstance(node, ast.Import | ast.ImportFrom)
        and any(t.split(".")[0] in ("core", "ui") for t in _targets(node))
    }
    return sorted(found, key=lambda node: node.lineno)


def says_why(lines: list[str], node: ast.stmt, imports: list[ast.Import | ast.ImportFrom]) -> bool:
    """A comment on the import's own line(s) or on the line just above it; a run of imports
    right under one another shares the comment above the first of them."""
    above_ends = {other.end_lineno: other for other in imports}
    while True:
        if any("#" in lines[n - 1] for n in range(node.lineno, (node.end_lineno or 0) + 1)):
            return True
        if node.lineno - 1 not in above_ends:
            return node.lineno > 1 and lines[node.lineno - 2].strip().startswith("#")
        node = above_ends[node.lineno - 1]


def silent_lines(path: Path) -> list[int]:
    """The lines of the function-level core/ui imports in `path` that carry no comment."""
    text = path.read_text()
    lines = text.splitlines()
    imports = [n for n in ast.walk(ast.parse(text)) if isinstance(n, ast.Import | ast.ImportFrom)]
    return [n.lineno for n in function_level_imports(path) if not says_why(lines, n, imports)]


def test_every_function_level_import_says_why() -> None:
    # an import of a core/ui module inside a function breaks a cycle or keeps a load off a
    # start-up path on purpose, and its comment names which; everything else sits at the top
    paths = [p for m, p in MODULES.items() if m.split(".")[0] in ("core", "ui", "app_pages")]
    assert any(function_level_imports(ROOT / "core" / "cli.py"))  # the walk sees them
    silent = [f"{p.relative_to(ROOT)}:{line}" for p in sorted(paths) for line in silent_lines(p)]
    assert silent == []


def test_a_silent_function_level_import_is_found(tmp_path: Path) -> None:
    module = tmp_path / "lazy.py"
    module.write_text(
        "def a():\n"
        "    # lazy: keeps core.demo off start-up\n"
        "    from core.demo import district\n"
        "    from core.bench import report\n"
        "\n"
        "\n"
        "def b():\n"
        "    import core.ingest  # breaks a cycle\n"
        "    from ui import flash\n"
        "\n"
        "    from core.ingest import jobs\n"
        "    import json\n"
    )
    assert [n.lineno for n in function_level_imports(module)] == [3, 4, 8, 9, 11]
    assert silent_lines(module) == [11]


def test_no_import_cycle_among_module_level_imports() -> None:
    cycle = find_cycle(GRAPH)
    assert cycle is None, "import cycle: " + " → ".join(cycle or [])


def test_find_cycle_finds_one() -> None:
    assert find_cycle({"a": ["b"], "b": ["c"], "c": ["a"]}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": ["b"], "b": [], "c": ["a", "b"]}) is None


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def test_core_packages_import_only_lower_layers() -> None:
    packages = {_package(m) for m in MODULES if m.startswith("core.")}
    assert packages == set(RANK), "a package is missing from LAYERS (or LAYERS names a gone one)"
    upward = [
        f"{module} → {target}"
        for module, targets in GRAPH.items()
        if module.startswith("core.")
        for target in targets
        if target.startswith("core.")
        and _package(target) != _package(module)
        and RANK[_package(target)] >= RANK[_package(module)]
        and {_package(target), _package(module)} != {"commands", "cli"}
    ]
    assert upward == []


def test_pages_never_write_sql() -> None:
    pages = ROOT / "app_pages"
    assert len(list(pages.glob("*.py"))) >= 10  # the folder the app's pages live in
    offenders = [
        str(file.name)
        for file in pages.glob("*.py")
        if ".execute(" in file.read_text(encoding="utf-8") or "duckdb" in file.read_text()
    ]
    assert offenders == []


def test_no_loose_modules_beside_the_packages() -> None:
    loose = {p.stem for p in (ROOT / "core").glob("*.py")}
    assert loose == LOOSE_MODULES


def test_every_core_package_says_what_it_answers() -> None:
    silent = [
        init.parent.name
        for init in (ROOT / "core").rglob("__init__.py")
        if len(ast.get_docstring(ast.parse(init.read_text())) or "") < 60
    ]
    assert silent == []


# Documents outside the repository a clone does not have (the team's working notes). Written in
# parts so that this guard is not itself a pointer to them.
OUTSIDE = ["../" + "shared", "/work/" + "shared", "DESIGN" + ".md", "STACK" + "-NOTES"]


@pytest.mark.parametrize("needle", OUTSIDE)
def test_no_tracked_file_points_outside_the_repository(needle: str) -> None:
    found = subprocess.run(
        ["git", "grep", "-l", "-F", needle, "--", "."],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert found.stdout.split() == []
