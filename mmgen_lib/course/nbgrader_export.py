"""The nbgrader export: the lessons as an nbgrader course source folder.

    python -m mmgen_lib.course export --format nbgrader OUT

writes ``OUT/source/<lesson>/<lesson>.ipynb`` for every lesson, and ``OUT/nbgrader_config.py``.
The exercises are found the way the student edition finds them (``exercise_pairs``):

- each exercise's solution cell becomes an nbgrader *solution* cell: its ``# YOUR CODE HERE``
  and ``# END OF YOUR CODE`` lines become ``### BEGIN SOLUTION`` and ``### END SOLUTION``
  (nbgrader's ``generate_assignment`` puts ``# YOUR CODE HERE`` / ``raise NotImplementedError()``
  back in the student version);
- the cell that calls the exercise's check becomes an autograded *test* cell (``grade: true``,
  ``points``, locked): it passes when it runs without an error;
- every other cell is locked (read-only), so that ``autograde`` restores it from the source.

nbgrader itself is optional (``pip install -e ".[classroom]"``); this module only writes
notebooks. Taught in lesson 00 (how lessons and exercises work); see docs/for_instructors.md.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat

from mmgen_lib.course.student import (
    BEGIN_MARKER,
    END_MARKER,
    LESSONS,
    exercise_pairs,
    lesson_paths,
    refuse_inside_lessons,
)

FORMATS = ("nbgrader",)
NBGRADER_SCHEMA_VERSION = 3
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"

NBGRADER_CONFIG = """\
# nbgrader configuration of the course exported by `python -m mmgen_lib.course export --format nbgrader`.
# Run nbgrader from this folder:  nbgrader generate_assignment 00_welcome
c = get_config()  # noqa: F821 (provided by nbgrader)
c.CourseDirectory.course_id = "mmgen"
c.CourseDirectory.root = "."
# A lesson runs in under a minute; one cell (a training loop) may take most of it.
c.Execute.timeout = 300
c.ExecutePreprocessor.timeout = 300
"""


def solution_source(source: str) -> str:
    """Turn the course's exercise markers into nbgrader's solution markers (same indentation).

    Raises:
        ValueError: the source has no ``# YOUR CODE HERE`` ... ``# END OF YOUR CODE`` block,
            or a block is not closed.
    """
    lines = source.splitlines()
    out, open_at = [], None
    for number, line in enumerate(lines, start=1):
        stripped, indent = line.strip(), line[: len(line) - len(line.lstrip())]
        if stripped.startswith(BEGIN_MARKER) and open_at is None:
            out.append(indent + BEGIN_SOLUTION)
            open_at = number
        elif stripped.startswith(END_MARKER) and open_at is not None:
            out.append(indent + END_SOLUTION)
            open_at = None
        else:
            out.append(line)
    if open_at is not None:
        raise ValueError(
            f"'{BEGIN_MARKER}' on line {open_at} has no '{END_MARKER}' line after it. Received: {source!r}"
        )
    if BEGIN_SOLUTION not in "\n".join(out):
        raise ValueError(f"an exercise cell needs '{BEGIN_MARKER}' and '{END_MARKER}' lines. Received: {source!r}")
    return "\n".join(out)


def _nbgrader_metadata(grade_id: str, *, solution=False, grade=False, points=None) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": not solution,
        "schema_version": NBGRADER_SCHEMA_VERSION,
        "solution": solution,
        "task": False,
    }
    if grade:
        meta["points"] = points
    return meta


def nbgrader_notebook(notebook, points: int = 1):
    """A copy of a lesson with nbgrader cell metadata: solutions, autograded checks, the rest locked.

    Args:
        notebook: a lesson (``nbformat`` v4 notebook) with at least one exercise.
        points: the points of each exercise's check cell (a positive integer).

    Raises:
        ValueError: ``points`` is not positive, or an exercise has no check cell or no markers.
    """
    if isinstance(points, bool) or not isinstance(points, int) or points <= 0:
        raise ValueError(f"points must be a positive integer. Received: points={points!r}")
    notebook = copy.deepcopy(notebook)
    roles = {}
    for number, (solution, check) in enumerate(exercise_pairs(notebook), start=1):
        if check is None:
            raise ValueError(
                f"exercise {number} (cell {solution}) has no check cell after it. Received: "
                f"{notebook.cells[solution].source!r}"
            )
        roles[solution] = ("solution", f"exercise{number}_solution")
        roles[check] = ("check", f"exercise{number}_check")
    for index, cell in enumerate(notebook.cells):
        role, grade_id = roles.get(index, ("locked", f"cell{index:03d}_{cell.cell_type}"))
        if role == "solution":
            cell.source = solution_source(cell.source)
            meta = _nbgrader_metadata(grade_id, solution=True)
        elif role == "check":
            meta = _nbgrader_metadata(grade_id, grade=True, points=points)
        else:
            meta = _nbgrader_metadata(grade_id)
        cell.setdefault("metadata", {})["nbgrader"] = meta
    return notebook


def export_nbgrader(out, lessons_dir=LESSONS, points: int = 1) -> list[Path]:
    """Write an nbgrader course source folder to ``out``; return the written notebooks.

    One assignment per lesson that has exercises: ``out/source/<stem>/<stem>.ipynb``, plus
    ``out/nbgrader_config.py``. Deterministic; never writes into ``lessons_dir``.
    """
    out = Path(out)
    refuse_inside_lessons(out, lessons_dir)
    written = []
    for path in lesson_paths(lessons_dir):
        lesson = nbformat.read(path, as_version=4)
        if not exercise_pairs(lesson):
            continue
        target = out / "source" / path.stem / path.name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(nbformat.writes(nbgrader_notebook(lesson, points)) + "\n", encoding="utf-8")
        written.append(target)
    (out / "nbgrader_config.py").write_text(NBGRADER_CONFIG, encoding="utf-8")
    return written
