"""The layout shows the architecture (docs/architecture.md §2): the domain is
flat in ``inspect_kit/`` (and ``inspect_kit/excel/``) and knows nothing of
Flask, Datasette or click; the shells live in ``web/``, ``cli/``,
``datasette_plugin/`` and ``demo/``; and no module imports one that imports it
back, at the top of a file or inside a function.

Imports are read from the source (``ast``), so the test sees the imports a
function makes only when it runs; ``if TYPE_CHECKING:`` blocks are left out
because they never run.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "inspect_kit"
SHELLS = ("inspect_kit.web", "inspect_kit.cli", "inspect_kit.datasette_plugin", "inspect_kit.demo")
# What the domain must never import: web frameworks, Datasette, the command line, servers.
FRAMEWORKS = ("flask", "flask_wtf", "werkzeug", "wtforms", "jinja2", "govuk_frontend_jinja", "govuk_frontend_wtf",
              "datasette", "click", "uvicorn", "a2wsgi", "asgiref")
# Except werkzeug's password hashing (accounts.py): a self-contained scrypt helper
# that needs no request, app or server, and the format every stored hash is in.
ALLOWED = {"werkzeug.security"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(module: str) -> set[str]:
    """Every module ``module`` imports (absolute names), top level and in functions, TYPE_CHECKING aside."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and is_type_checking(child):
                for orelse in child.orelse:
                    visit(orelse)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    target = ".".join(base + ([child.module] if child.module else []))
                else:
                    target = child.module or ""
                submodules = {f"{target}.{alias.name}" for alias in child.names} & set(MODULES)
                found.update(submodules)  # `from . import qa` imports the module qa
                if len(submodules) < len(child.names):  # and names defined in the package itself
                    found.add(target)
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return found


GRAPH = {module: {name for name in imports_of(module) if name in MODULES and name != module} for module in MODULES}


def test_the_walk_reads_the_whole_package():
    assert {"inspect_kit.findings", "inspect_kit.policy", "inspect_kit.web.server", "inspect_kit.cli",
            "inspect_kit.datasette_plugin.questions", "inspect_kit.demo"} <= set(MODULES)
    assert "inspect_kit.qa" in GRAPH["inspect_kit.findings"], "function-level and `from . import x` imports count"


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def connect(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                connect(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            connect(node)
    return found


def test_no_module_imports_one_that_imports_it_back():
    assert cycles(GRAPH) == []


def test_the_cycle_check_can_fail():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == [["a", "b", "c"]]


def is_domain(module: str) -> bool:
    return module != "inspect_kit.__main__" and not module.startswith(SHELLS)


@pytest.mark.parametrize("module", [name for name in MODULES if is_domain(name)])
def test_the_domain_knows_no_framework_and_no_shell(module):
    imported = imports_of(module)
    frameworks = sorted(name for name in imported if name.split(".")[0] in FRAMEWORKS and name not in ALLOWED)
    shells = sorted(name for name in imported if name.startswith(SHELLS))
    assert (frameworks, shells) == ([], []), f"{module} imports {frameworks + shells}"
