"""The layout's rules, checked on the source (``make lint`` runs this file too).

- Workflow-side modules (workflows and the deterministic code they call) import no
  I/O library: workflows decide, activities act.
- The core (everything under taskrunner/ but the CLI) never imports the CLI.
- No module is over 300 lines.
- The CLI loads no PDF or plotting library: every command would pay for it at start.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "taskrunner"
MAX_LINES = 300

IO_LIBRARIES = {
    "aio_pika",
    "docker",
    "httpx",
    "psutil",
    "psycopg",
    "redis",
    "requests",
    "smtplib",
    "socket",
    "sqlite3",
    "subprocess",
    "urllib",
}
"""Libraries that reach outside the process: only activities (and the CLI) use them."""
IO_MODULES = {
    "taskrunner.client",
    "taskrunner.databases",
    "taskrunner.devserver",
    "taskrunner.health.probes",
    "taskrunner.health.readings",
    "taskrunner.notifications.alert_state",
    "taskrunner.notifications.channels",
    "taskrunner.smtp",
}
"""Our own modules that do I/O for activities."""
WORKFLOW_HELPERS = {
    "taskrunner.events",
    "taskrunner.jobs.keys",
    "taskrunner.run_log",
    "taskrunner.maintenance.summary",
    "taskrunner.observability.metrics",
    "taskrunner.observability.search_attributes",
    "taskrunner.observability.task_context",
    "taskrunner.notifications.notify",
    "taskrunner.queue.admission",
    "taskrunner.queue.budget",
    "taskrunner.queue.commands",
    "taskrunner.queue.drains",
    "taskrunner.queue.finished",
    "taskrunner.queue.order",
    "taskrunner.queue.queries",
    "taskrunner.queue.resent",
    "taskrunner.queue.retries",
    "taskrunner.queue.state",
    "taskrunner.queue.worker_context",
}
"""Deterministic modules workflow code calls, besides the workflow modules themselves."""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package_modules() -> dict[str, ast.Module]:
    return {module_name(p): ast.parse(p.read_text(), str(p)) for p in PACKAGE.rglob("*.py")}


def imports(tree: ast.Module) -> Iterator[str]:
    """Every module ``tree`` imports, wherever the import statement is."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module
            yield from (f"{node.module}.{alias.name}" for alias in node.names)


def defines_workflow(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ClassDef)
        and any(ast.unparse(d).startswith("workflow.defn") for d in node.decorator_list)
        for node in ast.walk(tree)
    )


def within(name: str, roots: set[str]) -> bool:
    return any(name == root or name.startswith(root + ".") for root in roots)


def workflow_side() -> dict[str, ast.Module]:
    modules = package_modules()
    side = {n: t for n, t in modules.items() if defines_workflow(t) or n in WORKFLOW_HELPERS}
    assert set(WORKFLOW_HELPERS) <= set(side), "a listed workflow helper module is gone"
    return side


def test_workflow_modules_are_found() -> None:
    names = set(workflow_side())
    assert {"taskrunner.queue.workflow", "taskrunner.health.workflow"} <= names
    assert len(names) >= 12


@pytest.mark.parametrize("name", sorted(workflow_side()))
def test_workflow_side_module_imports_no_io_library(name: str) -> None:
    tree = workflow_side()[name]
    offending = sorted(
        imported
        for imported in imports(tree)
        if imported.split(".")[0] in IO_LIBRARIES or within(imported, IO_MODULES)
    )
    assert not offending, f"{name} imports {offending}: do the I/O in an activity"


def test_the_core_never_imports_the_cli() -> None:
    offending = {
        name: sorted(i for i in imports(tree) if within(i, {"taskrunner.cli"}))
        for name, tree in package_modules().items()
        if not within(name, {"taskrunner.cli"})
    }
    assert not {n: i for n, i in offending.items() if i}


LAZY_LIBRARIES = ("fpdf", "fontTools", "matplotlib")
"""Loaded when a report is rendered, never when a command starts (fpdf alone: ~0.4 s)."""


def test_the_cli_starts_without_the_report_libraries() -> None:
    script = "import sys, taskrunner.cli; print(' '.join(sorted(sys.modules)))"
    loaded = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert "taskrunner.tasks.report" in loaded  # the task types are loaded...
    assert not [m for m in loaded if m.split(".")[0] in LAZY_LIBRARIES]  # ...not these


def test_no_module_is_over_300_lines() -> None:
    sources = [
        p
        for folder in ("taskrunner", "workflows", "activities", "tests", "bench")
        for p in (ROOT / folder).rglob("*.py")
    ] + [ROOT / "worker.py", ROOT / "starter.py"]
    long = {
        str(p.relative_to(ROOT)): n
        for p in sources
        if (n := len(p.read_text().splitlines())) > MAX_LINES
    }
    assert not long, f"split these by responsibility: {long}"


def test_the_import_rules_can_see_a_violation() -> None:
    tree = ast.parse("import sqlite3\nfrom taskrunner.cli import main\n")
    found = set(imports(tree))
    assert "sqlite3" in found and within("taskrunner.cli.main", {"taskrunner.cli"})
