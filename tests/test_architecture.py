"""Dependency direction and docs: the core never loads Prefect; every CLI command is documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from moverwatch.cli import app

ROOT = Path(__file__).parent.parent
CORE = [
    "config",
    "watchlist",
    "models",
    "errors",
    "detect",
    "dedup",
    "state",
    "outbox",
    "notify",
    "render",
    "cycle",
    "health",
    "cli",
]


def test_core_does_not_import_prefect() -> None:
    """Importing every core module in a fresh interpreter does not load Prefect (flows/ alone uses it)."""
    code = (
        "import sys\n" + "".join(f"import moverwatch.{m}\n" for m in CORE) + "print('prefect' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "False"


def test_scrapers_import_only_models_and_errors_from_core() -> None:
    """scrapers/ depends on moverwatch.models and moverwatch.errors only."""
    for path in (ROOT / "scrapers").glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith(("from moverwatch", "import moverwatch")):
                assert line.split()[1] in {"moverwatch.models", "moverwatch.errors"}, f"{path.name}: {line}"


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
    import ast

    missing = []
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            is_test = isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith(
                "test_"
            )
            if is_test and not ast.get_docstring(node):  # type: ignore[arg-type]
                missing.append(f"{path.name}::{node.name}")  # type: ignore[attr-defined]
    assert missing == []
