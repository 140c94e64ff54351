"""The exercise audit: which exercises each lesson has and which ``mmgen_lib.checks`` they call.

Reads the notebooks' imports and calls with ``ast`` (nothing is executed), so that
``tests/test_course.py`` can require every exercise to be checked. Taught in lesson 00.
"""

from __future__ import annotations

import ast

import nbformat

from mmgen_lib.course.student import BEGIN_MARKER, END_MARKER, LESSONS, exercise_pairs, lesson_paths

CHECKS_MODULE = "mmgen_lib.checks"
_NOT_CHECKS = (f"{CHECKS_MODULE}.passed", f"{CHECKS_MODULE}.fail")  # helpers that check nothing


def _parse(source: str):
    # IPython magics and shell escapes are not Python; blank them out before parsing.
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def check_aliases(notebook) -> dict[str, str]:
    """Local name → dotted path under mmgen_lib, from every import in the notebook."""
    aliases = {}
    for cell in notebook.cells:
        tree = _parse(cell.source) if cell.cell_type == "code" else None
        for node in ast.walk(tree) if tree else ():
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("mmgen_lib"):
                for name in node.names:
                    aliases[name.asname or name.name] = f"{node.module}.{name.name}"
            elif isinstance(node, ast.Import):
                for name in node.names:
                    if name.name.startswith("mmgen_lib"):
                        local = name.asname or name.name.split(".")[0]
                        aliases[local] = name.name if name.asname else name.name.split(".")[0]
    return aliases


def _dotted(node) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return ".".join([node.id, *reversed(parts)])
    return None


def check_calls(source: str, aliases: dict[str, str]) -> list[str]:
    """Fully qualified ``mmgen_lib.checks`` functions called in ``source``."""
    tree = _parse(source)
    calls = []
    for node in ast.walk(tree) if tree else ():
        name = _dotted(node.func) if isinstance(node, ast.Call) else None
        if not name:
            continue
        head, _, rest = name.partition(".")
        full = ".".join(filter(None, [aliases.get(head, head), rest]))
        if full.startswith(CHECKS_MODULE + ".") and full not in calls and full not in _NOT_CHECKS:
            calls.append(full)
    return calls


def exercise_summary(notebook) -> list[dict]:
    """One dict per exercise: cell indices, whether the markers are there, checks called."""
    aliases = check_aliases(notebook)
    summary = []
    for solution, check in exercise_pairs(notebook):
        source = notebook.cells[solution].source
        summary.append(
            {
                "solution_cell": solution,
                "check_cell": check,
                "has_markers": BEGIN_MARKER in source and END_MARKER in source,
                "checks": check_calls(notebook.cells[check].source, aliases) if check is not None else [],
            }
        )
    return summary


def audit(lessons_dir=LESSONS) -> str:
    """A Markdown table: exercises and the checks they call, per lesson."""
    rows = ["| lesson | exercises | checks called |", "| --- | --- | --- |"]
    for path in lesson_paths(lessons_dir):
        summary = exercise_summary(nbformat.read(path, as_version=4))
        names = [c.rsplit(".", 1)[-1] for item in summary for c in item["checks"]]
        rows.append(f"| {path.stem} | {len(summary)} | {', '.join(names) or '-'} |")
    return "\n".join(rows)
