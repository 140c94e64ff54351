"""Grading: re-run a learner's student-edition notebook and read the result of each exercise check.

Taught in lesson 00 (how exercises are checked); used by instructors through
``python -m mmgen_lib.course grade``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat

from mmgen_lib.course.student import LESSONS, cell_tags, exercise_pairs


def grade(path, execute: bool = True, timeout: int = 600, lessons_dir=LESSONS) -> list[dict]:
    """Grade a learner's student-edition notebook with its own checks.

    Re-executes it in a fresh kernel (unless ``execute=False``: then the saved outputs are read)
    and returns one dict per exercise: ``{"exercise": n, "cell": i, "passed": bool, "message": str}``.
    When ``lessons_dir`` holds the lesson of the same name, a check cell whose code differs from
    the lesson's is reported as edited and not counted as passed.
    """
    notebook = nbformat.read(path, as_version=4)
    original = Path(lessons_dir) / Path(path).name
    reference = []  # the lesson's check cells, in exercise order
    if original.exists():
        lesson = nbformat.read(original, as_version=4)
        reference = [lesson.cells[c].source.strip() for _, c in exercise_pairs(lesson) if c is not None]
    if execute:
        from nbclient import NotebookClient

        NotebookClient(
            notebook,
            timeout=timeout,
            kernel_name="python3",
            allow_errors=True,
            resources={"metadata": {"path": str(Path(path).resolve().parent)}},
        ).execute()
    results = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or "exercise-check" not in cell_tags(cell):
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        if errors:
            message = f"{errors[0].ename}: {errors[0].evalue}".splitlines()[0]
        else:
            message = next((line for line in text.splitlines() if line.startswith("Check passed")), "no output")
        passed = not errors and "Check passed" in text
        if len(results) < len(reference) and reference[len(results)] != cell.source.strip():
            passed, message = False, f"the check cell was edited ({message})"
        results.append({"exercise": len(results) + 1, "cell": index, "passed": passed, "message": message})
    return results
