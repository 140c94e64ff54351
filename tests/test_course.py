"""Classroom edition: the exercises are there and checked, the student edition and the site build.

Three groups:
- audit (fast): every lesson 01-13 has >= 2 exercises, each a `solution` cell with the
  markers followed by a cell calling a `mmgen_lib.checks` function; the reference solutions
  pass their checks in the executed lessons; every public check is fed a wrong answer in
  `tests/test_checks_lesson*.py`;
- `mmgen_lib.course` itself (fast): stubs, the student edition build (deterministic, never
  writes into lessons/), the offline site;
- `student_edition` (slow, one test per lesson, each in its own class so that
  `pytest-xdist --dist loadscope` can spread them): executes the student edition of a
  lesson and checks that the only errors are the exercise stubs and their checks (plus the
  lesson's own deliberate errors, tagged `raises-exception` in the lesson).
"""

from __future__ import annotations

import ast
import hashlib
import os
import re
from pathlib import Path

import nbformat
import pytest

from mmgen_lib import course

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
LESSON_PATHS = course.lesson_paths(LESSONS)
EXERCISE_LESSONS = [path for path in LESSON_PATHS if 1 <= int(path.name[:2]) <= 13]
CHECK_MODULES = sorted((ROOT / "mmgen_lib" / "checks").glob("lesson[0-9][0-9].py"))


def _read(path: Path):
    return nbformat.read(path, as_version=4)


def _ids(paths):
    return [path.stem for path in paths]


# ------------------------------------------------------------------- audit
@pytest.mark.parametrize("path", EXERCISE_LESSONS, ids=_ids(EXERCISE_LESSONS))
def test_lesson_has_at_least_two_checked_exercises(path):
    summary = course.exercise_summary(_read(path))
    assert len(summary) >= 2, f"{path.name}: {len(summary)} exercise(s) (cells tagged 'solution'), need >= 2"
    for number, item in enumerate(summary, start=1):
        where = f"{path.name}, exercise {number} (cell {item['solution_cell']})"
        assert item["has_markers"], f"{where}: the solution needs '{course.BEGIN_MARKER}' and '{course.END_MARKER}'"
        assert item["check_cell"] is not None, f"{where}: no code cell follows the solution"
        assert item["checks"], f"{where}: the cell after the solution calls no mmgen_lib.checks function"


@pytest.mark.parametrize("path", LESSON_PATHS, ids=_ids(LESSON_PATHS))
def test_reference_solutions_pass_their_checks(path):
    notebook = _read(path)
    for solution, check in course.exercise_pairs(notebook):
        if check is None:
            continue
        outputs = notebook.cells[check].outputs
        errors = [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]
        text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
        assert not errors, f"{path.name}: the check after cell {solution} fails on the reference: {errors}"
        assert "Check passed" in text, f"{path.name}: the check after cell {solution} printed no 'Check passed'"


def _public_functions(module: Path) -> list[str]:
    tree = ast.parse(module.read_text())
    for node in tree.body:  # __all__ names the public checks when present
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets):
            return [element.value for element in node.value.elts]
    return [node.name for node in tree.body if isinstance(node, ast.FunctionDef) and not node.name.startswith("_")]


def _names(node) -> set[str]:
    found = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            found.add(child.id)
        elif isinstance(child, ast.Attribute):
            found.add(child.attr)
    return found


def _is_rejection(call) -> bool:
    """``pytest.raises(ExerciseCheckFailed, ...)`` (any spelling of the exception's module)."""
    return (
        isinstance(call, ast.Call)
        and getattr(call.func, "attr", getattr(call.func, "id", "")) == "raises"
        and bool(call.args)
        and "ExerciseCheckFailed" in _names(call.args[0])
    )


def _rejected_names(test_file: Path) -> set[str]:
    """Names used where a wrong answer must be rejected: inside ``with pytest.raises(ExerciseCheckFailed)``,
    in ``pytest.raises(ExerciseCheckFailed, fn, ...)``, and in the decorators and body of a test function
    that contains such a block or calls a helper that does."""
    tree = ast.parse(test_file.read_text())
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]

    def rejecting_parts(function):
        parts = []
        for node in ast.walk(function):
            if isinstance(node, ast.With) and any(_is_rejection(item.context_expr) for item in node.items):
                parts.append(node)
            elif _is_rejection(node) and len(node.args) > 1:
                parts.append(node)
        return parts

    helpers = {f.name for f in functions if not f.name.startswith("test") and rejecting_parts(f)}
    names = set()
    for function in functions:
        parts = rejecting_parts(function)
        names.update(*(_names(part) for part in parts))
        if parts or _names(function) & helpers:
            names.update(_names(function), *(_names(d) for d in function.decorator_list))
    return names


def test_check_modules_exist_for_lessons_with_exercises():
    checks = ROOT / "mmgen_lib" / "checks"
    missing = [p.name for p in EXERCISE_LESSONS if not (checks / f"lesson{p.name[:2]}.py").exists()]
    assert not missing, f"lessons without a mmgen_lib/checks/lessonNN.py: {missing}"


@pytest.mark.parametrize("module", CHECK_MODULES, ids=[m.stem for m in CHECK_MODULES])
def test_every_check_is_fed_a_wrong_answer(module):
    # Test files that import this module (two lessons may both have a check_dominant_frequency).
    importers = re.compile(rf"mmgen_lib\.checks\.{module.stem}\b|from mmgen_lib\.checks import .*\b{module.stem}\b")
    test_files = [f for f in sorted((ROOT / "tests").glob("test_checks_lesson*.py")) if importers.search(f.read_text())]
    assert test_files, f"no tests/test_checks_lesson*.py imports mmgen_lib.checks.{module.stem}"
    rejected = set().union(*(_rejected_names(f) for f in test_files))
    untested = [name for name in _public_functions(module) if name not in rejected]
    assert not untested, (
        f"{module.name}: no test feeds these checks a wrong answer inside "
        f"`pytest.raises(ExerciseCheckFailed)`: {untested}"
    )


# ------------------------------------------------------- the tool itself
def test_stub_keeps_the_lines_around_the_markers():
    source = "def f(x):\n    # YOUR CODE HERE\n    y = 2 * x\n    return y\n    # END OF YOUR CODE\nanswer = f(3)"
    assert course.stub_source(source) == (
        "def f(x):\n    # YOUR CODE HERE\n    raise NotImplementedError\n    # END OF YOUR CODE\nanswer = f(3)"
    )


def test_stub_replaces_every_marked_block_and_a_cell_without_markers():
    source = "# YOUR CODE HERE\na = 1\n# END OF YOUR CODE\nprint(a)\n# YOUR CODE HERE\nb = 2\n# END OF YOUR CODE"
    stub = course.stub_source(source)
    assert stub.count("raise NotImplementedError") == 2 and "a = 1" not in stub and "b = 2" not in stub
    assert course.stub_source("a = 1") == "# YOUR CODE HERE\nraise NotImplementedError"


def test_stub_without_end_marker_is_an_error():
    with pytest.raises(ValueError, match="has no '# END OF YOUR CODE'"):
        course.stub_source("# YOUR CODE HERE\na = 1")


def _toy_notebook():
    new_code, new_markdown = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    output = nbformat.v4.new_output("stream", name="stdout", text="Check passed: ok\n")
    cells = [
        new_markdown("# 99 · Toy\n\nMath $y_t = D(E_t(x_t))$ costs $5 and $10, `$HOME`."),
        new_code("from mmgen_lib.checks import lesson99 as checks\nx = 1", execution_count=1),
        new_code(
            "# YOUR CODE HERE\nanswer = x + 1\n# END OF YOUR CODE",
            execution_count=2,
            outputs=[output],
            metadata={"tags": ["solution"]},
        ),
        new_code("checks.check_answer(answer)", execution_count=3, outputs=[output]),
        new_markdown("## Summary"),
    ]
    return nbformat.v4.new_notebook(cells=cells)


def test_student_notebook_stubs_solutions_and_tags_both_cells():
    notebook = _toy_notebook()
    student = course.student_notebook(notebook)
    stub, check = student.cells[2], student.cells[3]
    assert stub.source == "# YOUR CODE HERE\nraise NotImplementedError\n# END OF YOUR CODE"
    assert stub.metadata["tags"] == ["exercise", "raises-exception"] and stub.outputs == []
    assert check.metadata["tags"] == ["exercise-check", "raises-exception"] and check.outputs == []
    assert [student.cells[i] for i in (0, 1, 4)] == [notebook.cells[i] for i in (0, 1, 4)]
    assert notebook.cells[2].outputs, "the source notebook must not be modified"
    assert course.exercise_summary(notebook)[0]["checks"] == ["mmgen_lib.checks.lesson99.check_answer"]


def test_math_becomes_inline_svg_outside_code_and_raw_latex_when_mathtext_cannot_draw_it():
    html = course.render_math_in_markdown(
        "a $y_t = D(E_t(x_t))$ b, costs $5 and $10, `$x$`.\n\n"
        "$$\\mathcal{L} = \\alpha\\,\\mathrm{CE} + \\beta\\,\\lVert z \\rVert^2$$"
    )
    assert html.count('class="mm-math"') == 2 and "costs $5 and $10" in html and "`$x$`" in html
    assert 'class="mm-math-display"' in html
    assert course.math_html(r"\unknowncommand{x}") == r"`` \unknowncommand{x} ``"


def _digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


@pytest.mark.skipif(not LESSON_PATHS, reason="no lesson notebooks yet")
def test_student_edition_is_deterministic_and_leaves_lessons_alone(tmp_path):
    before = _digest(LESSONS)
    assert course.main(["student", "--out", str(tmp_path / "a")]) == 0
    course.build_student_edition(tmp_path / "b")
    assert _digest(LESSONS) == before, "building the student edition changed lessons/"
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b"), "two builds differ"
    for path in LESSON_PATHS:
        original, student = _read(path), _read(tmp_path / "a" / path.name)
        assert len(student.cells) == len(original.cells)
        pairs = course.exercise_pairs(original)
        stubs, checks = {s for s, _ in pairs}, {c for _, c in pairs}
        for index, (cell, copy) in enumerate(zip(original.cells, student.cells)):
            if index in stubs:
                assert "raise NotImplementedError" in copy.source and copy.outputs == []
                tags = set(copy.metadata["tags"])
                assert {"raises-exception", "exercise"} <= tags and "solution" not in tags
                body = cell.source.split(course.BEGIN_MARKER, 1)[1].split(course.END_MARKER, 1)[0].strip()
                assert body and body not in copy.source, f"{path.name} cell {index}: the solution leaked"
            elif index in checks:
                assert "raises-exception" in copy.metadata["tags"] and copy.outputs == []
                assert copy.source == cell.source
            else:
                assert copy == cell, f"{path.name} cell {index} differs from the lesson"


def test_outputs_inside_the_lessons_folder_are_refused(tmp_path):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    with pytest.raises(ValueError, match="outside the lessons folder"):
        course.build_student_edition(lessons / "student", lessons)
    with pytest.raises(ValueError, match="outside the lessons folder"):
        course.build_site(lessons, lessons)


@pytest.mark.skipif(not LESSON_PATHS, reason="no lesson notebooks yet")
def test_site_builds_with_navigation_and_no_network(tmp_path):
    index = course.build_site(tmp_path)
    pages = sorted(tmp_path.rglob("*.html"))
    languages = 2 if (LESSON_PATHS[0].parent / "zh").is_dir() else 1  # the Chinese site in zh/
    assert len(pages) == languages * (2 * len(LESSON_PATHS) + 2)  # both editions + index + instructor guide
    index_html = index.read_text()
    for path in LESSON_PATHS:
        for edition in course.EDITIONS:
            assert f"{edition}/{path.stem}.html" in index_html
    for page in pages:
        text = page.read_text()
        remote = re.findall(r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(?:https?:)?//[^"]+"', text)
        assert not remote, f"{page.name} loads from the network: {remote[:3]}"
        for href in re.findall(r'<nav class="mm-nav">.*?</nav>', text, re.DOTALL)[0:1]:
            for target in re.findall(r'href="([^"]+)"', href):
                assert (page.parent / target).resolve().exists(), f"{page}: broken link {target}"
    lesson_with_math = next((p for p in LESSON_PATHS if "$" in p.read_text()), None)
    if lesson_with_math is not None:
        assert 'class="mm-math' in (tmp_path / "instructor" / f"{lesson_with_math.stem}.html").read_text()


# --------------------------------------------------- student edition runs
def _execute_student_edition(path: Path, workdir: Path):
    from nbclient import NotebookClient

    notebook = course.student_notebook(_read(path))
    env = {k: v for k, v in os.environ.items() if k != "MMGEN_RESULTS_DIR"}
    env.setdefault("PYTHONHASHSEED", "0")
    client = NotebookClient(
        notebook, timeout=600, kernel_name="python3", allow_errors=True, resources={"metadata": {"path": str(workdir)}}
    )
    client.execute(env=env)
    return notebook


class _StudentEditionRun:
    lesson: Path

    @pytest.mark.student_edition
    def test_only_the_exercise_stubs_and_their_checks_fail(self, tmp_path):
        lesson = _read(self.lesson)
        pairs = course.exercise_pairs(lesson)  # the student copy has no 'solution' tags
        deliberate = {i for i, cell in enumerate(lesson.cells) if "raises-exception" in course.cell_tags(cell)}
        notebook = _execute_student_edition(self.lesson, tmp_path)
        stubs, checks = {s for s, _ in pairs}, {c for _, c in pairs if c is not None}
        errors = {
            index: output
            for index, cell in enumerate(notebook.cells)
            if cell.cell_type == "code"
            for output in cell.outputs
            if output.output_type == "error"
        }
        unexpected = {i: f"{e.ename}: {e.evalue}" for i, e in errors.items() if i not in stubs | checks | deliberate}
        assert not unexpected, f"{self.lesson.name}: cells other than exercises fail: {unexpected}"
        not_stubbed = [i for i in stubs if i not in errors or errors[i].ename != "NotImplementedError"]
        assert not not_stubbed, f"{self.lesson.name}: stub cells that did not raise NotImplementedError: {not_stubbed}"
        passing = [i for i in checks if i not in errors]
        assert not passing, (
            f"{self.lesson.name}: checks that pass without the learner's code (cells {passing}); "
            "does the exercise reuse a variable defined earlier in the lesson?"
        )


for _path in LESSON_PATHS:  # one class per lesson: its own xdist scope
    _name = f"TestStudentEdition_{_path.stem}"
    globals()[_name] = type(_name, (_StudentEditionRun,), {"lesson": _path})


def test_grade_reads_each_check_of_a_learner_notebook(tmp_path):
    student = course.student_notebook(_toy_notebook())
    check = student.cells[3]
    check.outputs = [
        nbformat.v4.new_output("error", ename="ExerciseCheckFailed", evalue="Not quite: shape (2,)", traceback=[])
    ]
    nbformat.write(student, tmp_path / "learner.ipynb")
    assert course.grade(tmp_path / "learner.ipynb", execute=False) == [
        {"exercise": 1, "cell": 3, "passed": False, "message": "ExerciseCheckFailed: Not quite: shape (2,)"}
    ]
    check.outputs = [nbformat.v4.new_output("stream", name="stdout", text="Check passed: ok\n")]
    nbformat.write(student, tmp_path / "learner.ipynb")
    assert course.grade(tmp_path / "learner.ipynb", execute=False)[0]["passed"]
    lessons = tmp_path / "lessons"  # the lesson of the same name: an edited check does not count
    lessons.mkdir()
    nbformat.write(_toy_notebook(), lessons / "learner.ipynb")
    assert course.grade(tmp_path / "learner.ipynb", execute=False, lessons_dir=lessons)[0]["passed"]
    check.source = "print('Check passed: trust me')"
    nbformat.write(student, tmp_path / "learner.ipynb")
    result = course.grade(tmp_path / "learner.ipynb", execute=False, lessons_dir=lessons)[0]
    assert not result["passed"] and "edited" in result["message"]


def test_student_only_site_has_no_solutions(tmp_path):
    lessons = tmp_path / "lessons"
    lessons.mkdir()
    notebook = _toy_notebook()
    notebook.cells[1].outputs = [
        nbformat.v4.new_output(
            "display_data",
            data={
                "application/vnd.jupyter.widget-view+json": {"model_id": "abc", "version_major": 2, "version_minor": 0},
                "text/plain": "Tab(children=(...))",
            },
        )
    ]
    nbformat.write(notebook, lessons / "99_toy.ipynb")
    (lessons / "INSTRUCTORS.md").write_text("# Guide\n\nsecret grading notes")
    course.build_site(tmp_path / "site", lessons, student_only=True)
    pages = sorted(p.relative_to(tmp_path / "site").as_posix() for p in (tmp_path / "site").rglob("*.html"))
    assert pages == ["index.html", "student/99_toy.html"]
    page = (tmp_path / "site" / "student" / "99_toy.html").read_text()
    text = re.sub(r"<[^>]+>", "", page)  # code is syntax-highlighted: compare the text only
    assert "raise NotImplementedError" in text and "x + 1" not in text and "instructors.html" not in page
    assert course.WIDGET_NOTE in text, "a widget output should say it needs a live kernel"


def test_math_stats_are_passed_in_not_kept_in_the_module():
    first, second = course.MathStats(), course.MathStats()
    course.render_math_in_markdown(r"$x_t$ and $\unknowncommand{y}$", first)
    course.render_math_in_markdown("$z$", second)
    assert (first.drawn, first.raw) == (1, [r"\unknowncommand{y}"])
    assert (second.drawn, second.raw) == (1, [])
    course.math_html("w")  # without stats: counted nowhere
    assert (first.drawn, second.drawn) == (1, 1)


def test_command_line_is_unchanged():
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-m", "mmgen_lib.course", "audit", "--lessons", str(LESSONS)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert result.stdout.startswith("| lesson | exercises | checks called |")
    assert len(result.stdout.splitlines()) == 2 + len(LESSON_PATHS)


def test_the_site_has_both_languages_and_a_switch_on_every_page(tmp_path):
    lessons = tmp_path / "lessons"
    (lessons / "zh").mkdir(parents=True)
    nbformat.write(_toy_notebook(), lessons / "99_toy.ipynb")
    chinese = _toy_notebook()
    chinese.cells[0].source = "# 99 · 玩具课"
    nbformat.write(chinese, lessons / "zh" / "99_toy.ipynb")
    (lessons / "INSTRUCTORS.md").write_text("# Guide\n\nEnglish notes")
    (lessons / "INSTRUCTORS.zh.md").write_text("# 教师指南\n\n中文说明")
    course.build_site(tmp_path / "site", lessons)
    site = tmp_path / "site"
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    english = ["index.html", "instructor/99_toy.html", "instructors.html", "student/99_toy.html"]
    assert pages == sorted(english + [f"zh/{page}" for page in english])
    assert "中文说明" in (site / "zh" / "instructors.html").read_text()
    assert (
        "课程目录" in (site / "zh" / "index.html").read_text() and "玩具课" in (site / "zh" / "index.html").read_text()
    )
    for page in english:
        en, zh = (site / page).read_text(), (site / "zh" / page).read_text()
        assert re.search(r'href="[^"]*zh/' + re.escape(page) + '">中文</a>', en), page
        assert re.search(r'href="[^"]*\.\./' + re.escape(page) + '">English</a>', zh), page
        for html_page, text in ((site / page, en), (site / "zh" / page, zh)):
            nav = re.findall(r'<nav class="mm-nav">.*?</nav>', text, re.DOTALL)[0]
            for target in re.findall(r'href="([^"]+)"', nav):
                assert (html_page.parent / target).resolve().exists(), f"{html_page}: broken link {target}"
