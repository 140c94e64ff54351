"""Classroom tooling: the student edition, an exercise audit and the static course site.

    python -m mmgen_lib.course student --out DIR   # notebooks with the solutions taken out
    python -m mmgen_lib.course site --out DIR      # the executed course as offline HTML
    python -m mmgen_lib.course audit               # exercises and checks per lesson
    python -m mmgen_lib.course grade NB.ipynb ...  # re-run learners' notebooks, report each check
    python -m mmgen_lib.course jupyterlab-settings # no news pop-up over the first lesson

One module per job:

- ``student``    the student edition (exercise solutions replaced by ``raise NotImplementedError``)
- ``audit``      which exercises each lesson has and which checks they call
- ``latex_svg``  LaTeX → inline SVG with matplotlib's mathtext (no MathJax, no network)
- ``html_site``  the offline course site and its page templates
- ``grading``    re-run a learner's notebook and read each check
- ``jupyterlab_settings``  the environment's JupyterLab defaults (no news pop-up, no update check)
- ``translations``  the lessons' translations: status, staleness, the translated notebooks
- ``__main__``   the command line above

Nothing here keeps state between calls: the site builder reports its equations through a
``MathStats`` the caller passes in. Taught in lesson 00 (how lessons and exercises work).

``tools/build_notebooks.py`` (lesson source → executed notebook) is deliberately *not* part
of this package: ``tools/`` holds maintainer scripts that are not part of the installed
library (it needs jupytext and writes into ``lessons/``), while ``mmgen_lib.course`` is what
an instructor runs on the installed course.
"""

from mmgen_lib.course.audit import CHECKS_MODULE, audit, check_calls, exercise_summary
from mmgen_lib.course.grading import grade
from mmgen_lib.course.html_site import EDITIONS, SITE_CSS, WIDGET_NOTE, build_site
from mmgen_lib.course.latex_svg import MathStats, math_html, render_math_in_markdown
from mmgen_lib.course.student import (
    BEGIN_MARKER,
    END_MARKER,
    LESSONS,
    SOLUTION_TAG,
    build_student_edition,
    cell_tags,
    exercise_pairs,
    lesson_paths,
    stub_source,
    student_notebook,
)

__all__ = [
    "BEGIN_MARKER",
    "CHECKS_MODULE",
    "EDITIONS",
    "END_MARKER",
    "LESSONS",
    "SITE_CSS",
    "SOLUTION_TAG",
    "WIDGET_NOTE",
    "MathStats",
    "audit",
    "build_site",
    "build_student_edition",
    "cell_tags",
    "check_calls",
    "exercise_pairs",
    "exercise_summary",
    "grade",
    "lesson_paths",
    "main",
    "math_html",
    "render_math_in_markdown",
    "stub_source",
    "student_notebook",
]


def main(argv=None) -> int:
    """The command line (``python -m mmgen_lib.course``); returns the exit status."""
    from mmgen_lib.course.__main__ import main as _main

    return _main(argv)
