"""The package itself: its module list is derived, documented, and free of import cycles."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import mmgen_lib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "mmgen_lib"


def _module_files() -> dict[str, Path]:
    """Dotted module name -> file, for every module and subpackage module under mmgen_lib."""
    files = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join(parts)] = path
    return files


def _imports(path: Path, name: str, known: set[str]) -> set[str]:
    """mmgen_lib modules imported anywhere in a file (top level or inside functions)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else []))
            targets = [base] + [f"{base}.{alias.name}" for alias in node.names]
        else:
            continue
        found |= {t for t in targets if t in known and t != name}
    return found


def test_no_import_cycles_between_library_modules():
    files = _module_files()
    known = set(files)
    graph = {name: _imports(path, name, known) for name, path in files.items()}
    # a package importing its own submodules (re-exports) is not a cycle of concepts
    graph = {name: {t for t in targets if not t.startswith(name + ".")} for name, targets in graph.items()}
    state, cycles = {}, []

    def visit(node, stack):
        state[node] = "active"
        for target in sorted(graph[node]):
            if state.get(target) == "active":
                cycles.append(stack[stack.index(target):] + [target] if target in stack else [node, target])
            elif target not in state:
                visit(target, stack + [target])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, f"import cycles between library modules: {cycles}"
