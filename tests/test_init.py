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
                base = ".".join(
                    package.split(".")[: len(package.split(".")) - node.level + 1] + ([base] if base else [])
                )
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
                cycles.append(stack[stack.index(target) :] + [target] if target in stack else [node, target])
            elif target not in state:
                visit(target, stack + [target])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, f"import cycles between library modules: {cycles}"


def _package_modules() -> list[str]:
    return sorted(info.name for info in pkgutil.iter_modules(mmgen_lib.__path__) if not info.name.startswith("_"))


def test_every_module_is_reachable_as_an_attribute_without_importing_it_first():
    for name in _package_modules():
        assert name in dir(mmgen_lib)
        assert getattr(mmgen_lib, name) is importlib.import_module(f"mmgen_lib.{name}")
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        mmgen_lib.nope  # noqa: B018


def test_every_module_is_listed_in_the_package_docstring():
    listed = re.findall(r"^- ``(\w+)``", mmgen_lib.__doc__, re.MULTILINE)
    missing = [name for name in _package_modules() if name not in listed]
    assert not missing, f"add a line '- ``name``  what it holds  (lesson NN)' to mmgen_lib/__init__.py for {missing}"
    stale = [name for name in listed if name not in _package_modules()]
    assert not stale, f"mmgen_lib/__init__.py lists modules that do not exist: {stale}"


def test_every_module_is_listed_in_contributing_layout_table():
    text = (ROOT / "CONTRIBUTING.md").read_text()
    row = re.search(r"^\| `mmgen_lib/` \|(.*)\|$", text, re.MULTILINE)
    assert row, "CONTRIBUTING.md's layout table has no `mmgen_lib/` row"
    listed = re.findall(r"`(\w+)`", row.group(1))
    subpackage_rows = re.findall(r"^\| `mmgen_lib/(\w+)/` \|", text, re.MULTILINE)
    missing = [name for name in _package_modules() if name not in listed + subpackage_rows]
    assert not missing, f"add {missing} to the `mmgen_lib/` row of CONTRIBUTING.md's layout table"
    stale = [name for name in listed if name not in _package_modules()]
    assert not stale, f"CONTRIBUTING.md's `mmgen_lib/` row lists modules that do not exist: {stale}"
