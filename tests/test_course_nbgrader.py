"""The nbgrader export (`python -m mmgen_lib.course export --format nbgrader OUT`).

The first tests read the exported notebooks (no nbgrader needed). The last one runs nbgrader
itself on the export of lesson 00: `generate_assignment`, then `autograde` on a correct and on
a wrong submission, and reads the scores from nbgrader's gradebook. It is skipped only when
nbgrader is not installed (`pip install -e ".[classroom]"`; `.ci/run` installs it).
"""

import copy
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from mmgen_lib.course import exercise_pairs, lesson_paths
from mmgen_lib.course.nbgrader_export import (
    BEGIN_SOLUTION,
    END_SOLUTION,
    export_nbgrader,
    nbgrader_notebook,
    solution_source,
)

ROOT = Path(__file__).resolve().parents[1]
LESSONS = ROOT / "lessons"
LESSON = "00_welcome"  # the fastest lesson (a few seconds), two exercises
HAS_NBGRADER = importlib.util.find_spec("nbgrader") is not None
new_code, new_markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell


def _toy():
    cells = [
        new_markdown("# 99 · Toy"),
        new_code("x = 1"),
        new_code(
            "def f(x):\n    # YOUR CODE HERE\n    return x + 1\n    # END OF YOUR CODE\nanswer = f(1)",
            metadata={"tags": ["solution"]},
        ),
        new_markdown("The check:"),
        new_code("assert answer == 2"),
        new_markdown("## Summary"),
    ]
    return nbformat.v4.new_notebook(cells=cells)


def test_solution_source_keeps_the_indentation_and_the_lines_around():
    source = "def f(x):\n    # YOUR CODE HERE\n    return x + 1\n    # END OF YOUR CODE\nanswer = f(1)"
    assert (
        solution_source(source)
        == f"def f(x):\n    {BEGIN_SOLUTION}\n    return x + 1\n    {END_SOLUTION}\nanswer = f(1)"
    )


@pytest.mark.parametrize("source", ["x = 1", "# YOUR CODE HERE\nx = 1"])
def test_solution_source_without_a_complete_block_is_an_error(source):
    with pytest.raises(ValueError, match="Received: "):
        solution_source(source)


def test_toy_notebook_gets_solution_test_and_locked_cells():
    notebook = _toy()
    out = nbgrader_notebook(notebook, points=2)
    meta = [cell.metadata["nbgrader"] for cell in out.cells]
    assert [m["grade_id"] for m in meta] == [
        "cell000_markdown",
        "cell001_code",
        "exercise1_solution",
        "cell003_markdown",
        "exercise1_check",
        "cell005_markdown",
    ]
    assert [m["solution"] for m in meta] == [False, False, True, False, False, False]
    assert [m["grade"] for m in meta] == [False, False, False, False, True, False]
    assert [m["locked"] for m in meta] == [True, True, False, True, True, True]
    assert meta[4]["points"] == 2 and all("points" not in m for i, m in enumerate(meta) if i != 4)
    assert all(m["schema_version"] == 3 for m in meta)
    assert BEGIN_SOLUTION in out.cells[2].source and "YOUR CODE HERE" not in out.cells[2].source
    assert "nbgrader" not in notebook.cells[0].metadata, "the input notebook must not be changed"


@pytest.mark.parametrize("points", [0, -1, 1.5, True, "1"])
def test_points_must_be_a_positive_integer(points):
    with pytest.raises(ValueError, match="Received: points="):
        nbgrader_notebook(_toy(), points=points)


def test_an_exercise_without_a_check_cell_is_an_error():
    notebook = _toy()
    notebook.cells = notebook.cells[:3]
    with pytest.raises(ValueError, match="has no check cell"):
        nbgrader_notebook(notebook)


@pytest.mark.skipif(not lesson_paths(LESSONS), reason="no lesson notebooks yet")
def test_export_writes_every_lesson_with_exercises_and_marks_each_exercise(tmp_path):
    written = export_nbgrader(tmp_path / "course", LESSONS)
    expected = [p for p in lesson_paths(LESSONS) if exercise_pairs(nbformat.read(p, as_version=4))]
    assert [p.relative_to(tmp_path / "course") for p in written] == [Path("source") / p.stem / p.name for p in expected]
    assert (tmp_path / "course" / "nbgrader_config.py").exists()
    for path, lesson_path in zip(written, expected):
        notebook, lesson = nbformat.read(path, as_version=4), nbformat.read(lesson_path, as_version=4)
        metas = [cell.metadata["nbgrader"] for cell in notebook.cells]
        pairs = exercise_pairs(lesson)
        assert sum(m["solution"] for m in metas) == len(pairs) >= 2, path.name
        assert [i for i, m in enumerate(metas) if m["grade"]] == [c for _, c in pairs], path.name
        assert all(m["locked"] != m["solution"] for m in metas), path.name
        assert len({m["grade_id"] for m in metas}) == len(metas), f"{path.name}: grade ids must be unique"
        for solution, _ in pairs:
            assert notebook.cells[solution].source.count(BEGIN_SOLUTION) >= 1, path.name
    again = export_nbgrader(tmp_path / "again", LESSONS)
    assert [p.read_bytes() for p in again] == [p.read_bytes() for p in written], "the export must be deterministic"


def test_export_refuses_to_write_into_the_lessons_folder():
    with pytest.raises(ValueError, match="outside the lessons folder"):
        export_nbgrader(LESSONS / "nbgrader", LESSONS)


def _nbgrader(course_dir: Path, *args: str) -> subprocess.CompletedProcess:
    # nbgrader runs `alembic` from PATH: put this Python's scripts folder first (a venv not activated).
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        PATH=os.pathsep.join(filter(None, [str(Path(sys.executable).parent), os.environ.get("PATH")])),
    )
    result = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args], cwd=course_dir, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"nbgrader {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _submit(course_dir: Path, student: str, answers: list[str]) -> None:
    """The released notebook with each exercise cell's stub replaced by ``answers[i]``, as nbgrader expects it."""
    release = course_dir / "release" / LESSON / f"{LESSON}.ipynb"
    notebook = nbformat.read(release, as_version=4)
    solutions = [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("solution")]
    assert len(solutions) == len(answers)
    for cell, answer in zip(solutions, answers):
        assert "raise NotImplementedError" in cell.source, "the released notebook must not show the solution"
        cell.source = answer
    target = course_dir / "submitted" / student / LESSON / f"{LESSON}.ipynb"
    target.parent.mkdir(parents=True)
    nbformat.write(notebook, target)


@pytest.mark.skipif(not HAS_NBGRADER, reason='nbgrader is not installed (pip install -e ".[classroom]")')
@pytest.mark.skipif(not (LESSONS / f"{LESSON}.ipynb").exists(), reason=f"lesson {LESSON} is not built")
def test_nbgrader_generates_and_autogrades_a_correct_and_a_wrong_submission(tmp_path):
    from nbgrader.api import Gradebook

    lessons = tmp_path / "lessons"  # only the one lesson, to keep the export small
    lessons.mkdir()
    shutil.copy(LESSONS / f"{LESSON}.ipynb", lessons)
    course_dir = tmp_path / "course"
    export_nbgrader(course_dir, lessons)
    _nbgrader(course_dir, "generate_assignment", LESSON)

    lesson = nbformat.read(LESSONS / f"{LESSON}.ipynb", as_version=4)
    reference = [lesson.cells[s].source for s, _ in exercise_pairs(lesson)]
    wrong = copy.copy(reference)
    wrong[-1] = "metal_fraction = 1.0  # everything is metal: wrong"
    _submit(course_dir, "alice", reference)
    _submit(course_dir, "bob", wrong)
    _nbgrader(course_dir, "autograde", LESSON, "--student", "alice")
    _nbgrader(course_dir, "autograde", LESSON, "--student", "bob")

    checks = [f"exercise{n}_check" for n in range(1, len(reference) + 1)]
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gradebook:
        alice = gradebook.find_submission(LESSON, "alice")
        bob = gradebook.find_submission(LESSON, "bob")
        scores = {
            student: [gradebook.find_grade(check, LESSON, LESSON, student).score for check in checks]
            for student in ("alice", "bob")
        }
        totals = {"alice": (alice.score, alice.max_score), "bob": (bob.score, bob.max_score)}
    assert totals["alice"] == (len(checks), len(checks)), scores
    assert scores["bob"] == [1] * (len(checks) - 1) + [0], scores
    assert totals["bob"] == (len(checks) - 1, len(checks)), scores
