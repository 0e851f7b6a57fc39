"""Dependency direction and docs: no import cycles, the core never loads Prefect, every CLI command documented."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from moverwatch.cli import app

ROOT = Path(__file__).parent.parent.parent
PACKAGES = ("moverwatch", "scrapers", "flows")


def _modules(package: str) -> list[str]:
    """Every module of a package, found on disk (no hand-kept list to go stale)."""
    out = []
    for path in sorted((ROOT / package).rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def _imports(module: str) -> set[str]:
    """The project modules a module imports (at any depth of its code, lazy imports included)."""
    path = ROOT / Path(*module.split("."))
    path = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return {m for m in found if m.split(".")[0] in PACKAGES}


def _unit(module: str) -> str:
    """The seam a module belongs to: a subpackage (moverwatch.state) or a top-level module."""
    parts = module.split(".")
    if parts[0] != "moverwatch" or len(parts) == 1:
        return parts[0]
    return ".".join(parts[:2])


def test_core_does_not_import_prefect() -> None:
    """Importing every core and scrapers module in a fresh interpreter does not load Prefect."""
    modules = _modules("moverwatch") + _modules("scrapers")
    assert "moverwatch.pipeline" in modules and "moverwatch.state.redis" in modules
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('prefect' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_scrapers_import_only_models_and_errors_from_core() -> None:
    """scrapers/ depends on moverwatch.models and moverwatch.errors only."""
    for module in _modules("scrapers"):
        core = {m for m in _imports(module) if m.startswith("moverwatch")}
        assert core <= {"moverwatch.models", "moverwatch.errors"}, f"{module}: {sorted(core)}"


def test_only_the_cli_imports_flows() -> None:
    """Nothing in the core imports the Prefect flows except the CLI's commands that run them."""
    for module in _modules("moverwatch") + _modules("scrapers"):
        flows = {m for m in _imports(module) if m.startswith("flows")}
        assert not flows or module == "moverwatch.cli", f"{module} imports {sorted(flows)}"


def test_no_import_cycle_between_seams() -> None:
    """The seams (subpackages, top-level modules, scrapers) import each other without a cycle."""
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for module in _modules(package):
            deps = {_unit(m) for m in _imports(module)} - {_unit(module)}
            graph.setdefault(_unit(module), set()).update(deps)
    done: set[str] = set()

    def visit(node: str, path: list[str]) -> None:
        assert node not in path, "import cycle: " + " -> ".join([*path[path.index(node) :], node])
        if node in done:
            return
        for dep in sorted(graph.get(node, ())):
            visit(dep, [*path, node])
        done.add(node)

    for node in sorted(graph):
        visit(node, [])


def test_every_command_has_help_and_is_in_readme() -> None:
    """Each CLI command has help text and appears in README.md."""
    readme = (ROOT / "README.md").read_text()
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    assert {"run", "serve", "detect", "explain", "feeds", "notify-test", "dead", "sources"} <= set(names)
    for name in names:
        result = CliRunner().invoke(app, [name, "--help"])
        assert result.exit_code == 0, result.output
        assert f"moverwatch {name}" in readme or f"`{name} " in readme or f"`{name}`" in readme


def test_every_test_says_what_it_checks() -> None:
    """Every test function has a docstring naming the behaviour it checks."""
    missing = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            is_test = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
                "test_"
            )
            if is_test and not ast.get_docstring(node):  # type: ignore[arg-type]
                missing.append(f"{path.name}::{node.name}")  # type: ignore[attr-defined]
    assert missing == []
