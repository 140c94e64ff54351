"""The student edition: every exercise's reference answer replaced by ``raise NotImplementedError``.

An exercise in a lesson is a code cell tagged ``solution`` whose reference answer sits
between a ``# YOUR CODE HERE`` line and a ``# END OF YOUR CODE`` line, followed by a cell
that calls a check from ``mmgen_lib.checks``. The student edition replaces each reference
answer by ``raise NotImplementedError`` and clears the outputs of the exercise and of its
check; both cells are tagged ``raises-exception`` so that nbval, nbclient and JupyterLab's
"Run All" expect the error and carry on. Everything else is copied unchanged.
Taught in lesson 00 (how lessons and exercises work).
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from mmgen_lib.utils import repo_root

LESSONS = repo_root() / "lessons"
SOLUTION_TAG = "solution"
BEGIN_MARKER = "# YOUR CODE HERE"
END_MARKER = "# END OF YOUR CODE"
STUB_TAGS = ("exercise", "raises-exception")
CHECK_TAGS = ("exercise-check", "raises-exception")

STUDENT_README = """# Student edition

These are the course notebooks with the exercise solutions taken out.
Run each notebook from the top. Every exercise cell says `# YOUR CODE HERE` and raises
`NotImplementedError` until you replace that line with your answer; the cell below it
checks your answer and tells you what is wrong (shape, value, a hint) or prints
"Check passed". Both cells are tagged `raises-exception`, so "Run All" continues past them.
"""


def lesson_paths(lessons_dir=LESSONS) -> list[Path]:
    """The lesson notebooks ``NN_topic.ipynb`` of ``lessons_dir``, in order."""
    return sorted(Path(lessons_dir).glob("[0-9][0-9]_*.ipynb"))


def cell_tags(cell) -> list[str]:
    """The tags of a notebook cell (an empty list when it has none)."""
    return list(cell.get("metadata", {}).get("tags", []))


def exercise_pairs(notebook) -> list[tuple[int, int | None]]:
    """``(solution cell index, check cell index or None)`` for every exercise.

    The check cell is the next code cell after the solution cell (markdown may sit between).
    """
    pairs = []
    cells = notebook.cells
    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or SOLUTION_TAG not in cell_tags(cell):
            continue
        check = next((j for j in range(index + 1, len(cells)) if cells[j].cell_type == "code"), None)
        if check is not None and SOLUTION_TAG in cell_tags(cells[check]):
            check = None
        pairs.append((index, check))
    return pairs


def stub_source(source: str) -> str:
    """Replace each ``# YOUR CODE HERE`` ... ``# END OF YOUR CODE`` block by ``raise NotImplementedError``.

    Lines outside the markers (a function signature, a final ``answer = f(x)``) are kept.
    A cell without markers becomes the bare stub.

    Raises:
        ValueError: a ``# YOUR CODE HERE`` line has no matching ``# END OF YOUR CODE``.
    """
    lines = source.splitlines()
    starts = [i for i, line in enumerate(lines) if line.strip().startswith(BEGIN_MARKER)]
    if not starts:
        return f"{BEGIN_MARKER}\nraise NotImplementedError"
    out, index = [], 0
    while index < len(lines):
        line = lines[index]
        if not line.strip().startswith(BEGIN_MARKER):
            out.append(line)
            index += 1
            continue
        end = next((j for j in range(index + 1, len(lines)) if lines[j].strip().startswith(END_MARKER)), None)
        if end is None:
            raise ValueError(
                f"'{BEGIN_MARKER}' on line {index + 1} has no '{END_MARKER}' line after it. Received: {source!r}"
            )
        indent = line[: len(line) - len(line.lstrip())]
        out += [line, f"{indent}raise NotImplementedError", lines[end]]
        index = end + 1
    return "\n".join(out)


def _add_tags(cell, remove: tuple[str, ...], add: tuple[str, ...]) -> None:
    tags = [t for t in cell_tags(cell) if t not in remove]
    tags += [t for t in add if t not in tags]
    cell.setdefault("metadata", {})["tags"] = tags


def student_notebook(notebook):
    """A copy of ``notebook`` with each exercise's solution replaced by a stub (see module doc)."""
    notebook = copy.deepcopy(notebook)
    for solution, check in exercise_pairs(notebook):
        cell = notebook.cells[solution]
        cell.source = stub_source(cell.source)
        cell.outputs, cell.execution_count = [], None
        _add_tags(cell, remove=(SOLUTION_TAG,), add=STUB_TAGS)
        if check is not None:
            cell = notebook.cells[check]
            cell.outputs, cell.execution_count = [], None
            _add_tags(cell, remove=(), add=CHECK_TAGS)
    return notebook


def refuse_inside_lessons(out, lessons_dir) -> None:
    """Raise ``ValueError`` when ``out`` is ``lessons_dir`` or inside it (builds never write there)."""
    out, lessons_dir = Path(out).resolve(), Path(lessons_dir).resolve()
    if out == lessons_dir or lessons_dir in out.parents:
        raise ValueError(f"the output folder must be outside the lessons folder {lessons_dir}. Received: out={out}")


def build_student_edition(out, lessons_dir=LESSONS) -> list[Path]:
    """Write the student edition of every lesson to ``out``; return the written notebooks.

    Deterministic (same lessons → byte-identical files); never writes into ``lessons_dir``.
    """
    out = Path(out)
    refuse_inside_lessons(out, lessons_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in lesson_paths(lessons_dir):
        notebook = student_notebook(nbformat.read(path, as_version=4))
        target = out / path.name
        target.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
        written.append(target)
    (out / "README.md").write_text(STUDENT_README, encoding="utf-8")
    return written
