"""Classroom tooling: the student edition, an exercise audit and the static course site.

    python -m mmgen_lib.course student --out DIR   # notebooks with the solutions taken out
    python -m mmgen_lib.course site --out DIR      # the executed course as offline HTML
    python -m mmgen_lib.course audit               # exercises and checks per lesson
    python -m mmgen_lib.course grade NB.ipynb ...  # re-run learners' notebooks, report each check

An exercise in a lesson is a code cell tagged ``solution`` whose reference answer sits
between a ``# YOUR CODE HERE`` line and a ``# END OF YOUR CODE`` line, followed by a cell
that calls a check from ``mmgen_lib.checks``. The student edition replaces each reference
answer by ``raise NotImplementedError`` and clears the outputs of the exercise and of its
check; both cells are tagged ``raises-exception`` so that nbval, nbclient and JupyterLab's
"Run All" expect the error and carry on. Everything else is copied unchanged.

The site renders every lesson twice (with solutions, and the student edition) with
nbconvert's ``lab`` template. Equations are drawn as inline SVG by matplotlib's mathtext
(no MathJax, no CDN), so the pages need no network; an equation mathtext cannot draw is
shown as its raw LaTeX. Taught in lesson 00 (how lessons and exercises work).
"""

from __future__ import annotations

import argparse
import ast
import base64
import copy
import functools
import html
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
LESSONS = ROOT / "lessons"
SOLUTION_TAG = "solution"
BEGIN_MARKER = "# YOUR CODE HERE"
END_MARKER = "# END OF YOUR CODE"
STUB_TAGS = ("exercise", "raises-exception")
CHECK_TAGS = ("exercise-check", "raises-exception")
CHECKS_MODULE = "mmgen_lib.checks"
_NOT_CHECKS = (f"{CHECKS_MODULE}.passed", f"{CHECKS_MODULE}.fail")  # helpers that check nothing


# ---------------------------------------------------------------- exercises
def lesson_paths(lessons_dir=LESSONS) -> list[Path]:
    """The lesson notebooks ``NN_topic.ipynb`` of ``lessons_dir``, in order."""
    return sorted(Path(lessons_dir).glob("[0-9][0-9]_*.ipynb"))


def _tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def exercise_pairs(notebook) -> list[tuple[int, int | None]]:
    """``(solution cell index, check cell index or None)`` for every exercise.

    The check cell is the next code cell after the solution cell (markdown may sit between).
    """
    pairs = []
    cells = notebook.cells
    for index, cell in enumerate(cells):
        if cell.cell_type != "code" or SOLUTION_TAG not in _tags(cell):
            continue
        check = next((j for j in range(index + 1, len(cells)) if cells[j].cell_type == "code"), None)
        if check is not None and SOLUTION_TAG in _tags(cells[check]):
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
            raise ValueError(f"'{BEGIN_MARKER}' on line {index + 1} has no '{END_MARKER}' line after it. "
                             f"Received: {source!r}")
        indent = line[: len(line) - len(line.lstrip())]
        out += [line, f"{indent}raise NotImplementedError", lines[end]]
        index = end + 1
    return "\n".join(out)


def _add_tags(cell, remove: tuple[str, ...], add: tuple[str, ...]) -> None:
    tags = [t for t in _tags(cell) if t not in remove]
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


def _refuse_inside_lessons(out: Path, lessons_dir: Path) -> None:
    out, lessons_dir = out.resolve(), Path(lessons_dir).resolve()
    if out == lessons_dir or lessons_dir in out.parents:
        raise ValueError(f"the output folder must be outside the lessons folder {lessons_dir}. Received: out={out}")


STUDENT_README = """# Student edition

These are the course notebooks with the exercise solutions taken out.
Run each notebook from the top. Every exercise cell says `# YOUR CODE HERE` and raises
`NotImplementedError` until you replace that line with your answer; the cell below it
checks your answer and tells you what is wrong (shape, value, a hint) or prints
"Check passed". Both cells are tagged `raises-exception`, so "Run All" continues past them.
"""


def build_student_edition(out, lessons_dir=LESSONS) -> list[Path]:
    """Write the student edition of every lesson to ``out``; return the written notebooks.

    Deterministic (same lessons → byte-identical files); never writes into ``lessons_dir``.
    """
    out = Path(out)
    _refuse_inside_lessons(out, lessons_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for path in lesson_paths(lessons_dir):
        notebook = student_notebook(nbformat.read(path, as_version=4))
        target = out / path.name
        target.write_text(nbformat.writes(notebook) + "\n", encoding="utf-8")
        written.append(target)
    (out / "README.md").write_text(STUDENT_README, encoding="utf-8")
    return written


# ------------------------------------------------------------------- audit
def _parse(source: str):
    # IPython magics and shell escapes are not Python; blank them out before parsing.
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    try:
        return ast.parse("\n".join(lines))
    except SyntaxError:
        return None


def _check_aliases(notebook) -> dict[str, str]:
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
    aliases = _check_aliases(notebook)
    summary = []
    for solution, check in exercise_pairs(notebook):
        source = notebook.cells[solution].source
        summary.append({
            "solution_cell": solution, "check_cell": check,
            "has_markers": BEGIN_MARKER in source and END_MARKER in source,
            "checks": check_calls(notebook.cells[check].source, aliases) if check is not None else [],
        })
    return summary


def audit(lessons_dir=LESSONS) -> str:
    """A Markdown table: exercises and the checks they call, per lesson."""
    rows = ["| lesson | exercises | checks called |", "| --- | --- | --- |"]
    for path in lesson_paths(lessons_dir):
        summary = exercise_summary(nbformat.read(path, as_version=4))
        names = [c.rsplit(".", 1)[-1] for item in summary for c in item["checks"]]
        rows.append(f"| {path.stem} | {len(summary)} | {', '.join(names) or '-'} |")
    return "\n".join(rows)


# -------------------------------------------------------------- math → SVG
# LaTeX commands mathtext lacks → an equivalent it has ("" drops the command).
_MATHTEXT_COMMANDS = {
    "lVert": r"\Vert", "rVert": r"\Vert", "lvert": "|", "rvert": "|", "dfrac": r"\frac", "tfrac": r"\frac",
    "boldsymbol": r"\mathbf", "bm": r"\mathbf", "displaystyle": "", "textstyle": "", "limits": "", "nolimits": "",
    "lbrace": r"\{", "rbrace": r"\}", "le": r"\leq", "ge": r"\geq", "to": r"\rightarrow", "gets": r"\leftarrow",
    "texttt": r"\mathtt", "textbf": r"\mathbf", "textit": r"\mathit", "textrm": r"\mathrm", "tag": "",
    "ne": r"\neq", "land": r"\wedge", "lor": r"\vee", "iff": r"\Leftrightarrow", "implies": r"\Rightarrow",
    **{f"{size}{side}": "" for size in ("big", "Big", "bigg", "Bigg") for side in ("", "l", "r", "m")},
}
_ENVIRONMENT = re.compile(r"\\begin\{(aligned|align\*?|gathered|gather\*?|equation\*?|split)\}(.*?)\\end\{\1\}",
                          re.DOTALL)
_PATH_COMMANDS = {1: ("M", 1), 2: ("L", 1), 3: ("Q", 2), 4: ("C", 3)}


def _mathtext(tex: str) -> str:
    """Rewrite LaTeX that mathtext does not know into an equivalent it knows."""
    tex = re.sub(r"\\([a-zA-Z]+)\*?", lambda m: _MATHTEXT_COMMANDS.get(m.group(1), "\\" + m.group(1)) + " ", tex)
    tex = re.sub(r"\\frac\s*([0-9a-zA-Z])\s*([0-9a-zA-Z])", r"\\frac{\1}{\2}", tex.replace(r"\!", ""))
    return " ".join(tex.split())


@functools.lru_cache(maxsize=None)
def _svg_line(tex: str, size: float) -> tuple[str, float, float, float]:
    """One line of LaTeX as an SVG path: (svg, width_em, height_em, depth_em)."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import TextToPath

    prop = FontProperties(size=size, math_fontfamily="cm")  # Computer Modern, as in LaTeX
    text = f"${_mathtext(tex)}$"
    width, height, depth = TextToPath().get_text_width_height_descent(text, prop, ismath=True)
    vertices, codes = TextToPath().get_text_path(prop, text, ismath=True)
    pad, top = size * 0.05, height - depth
    vertices = [(x * size / TextToPath.FONT_SCALE, y * size / TextToPath.FONT_SCALE) for x, y in vertices]
    commands, index = [], 0
    while index < len(codes):
        code = int(codes[index])
        if code == 79:  # CLOSEPOLY
            commands.append("Z")
            index += 1
            continue
        letter, count = _PATH_COMMANDS.get(code, ("L", 1))
        points = vertices[index:index + count]
        commands.append(letter + " ".join(f"{x + pad:.2f} {top + pad - y:.2f}" for x, y in points))
        index += count
    box_w, box_h = width + 2 * pad, height + 2 * pad
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {box_w:.2f} {box_h:.2f}">'
           f'<path fill="#111" d="{"".join(commands)}"/></svg>')
    return svg, box_w / size, box_h / size, (depth + pad) / size


MATH_STATS = {"drawn": 0, "raw": []}  # what build_site reports: equations drawn / left as LaTeX


def _raw_latex(tex: str, display: bool) -> str:
    MATH_STATS["raw"].append(tex)
    # A Markdown code span (not HTML): the exporter re-parses inline HTML tags one by one.
    shown = " ".join(tex.replace("`", "'").split())
    return f"\n\n`` {shown} ``\n\n" if display else f"`` {shown} ``"


def math_html(tex: str, display: bool = False) -> str:
    """LaTeX as an inline ``<img>`` of an SVG (offline); raw LaTeX if mathtext cannot draw it."""
    body = _ENVIRONMENT.sub(lambda m: m.group(2), tex)
    lines = [line.replace("&", " ") for line in re.split(r"\\\\(?:\[[^\]]*\])?", body) if line.strip()]
    if not lines or (len(lines) > 1 and not display):
        return _raw_latex(tex, display)
    images = []
    for line in lines:
        try:
            svg, width, height, depth = _svg_line(line.strip(), 14.0 if display else 12.0)
        except Exception:  # noqa: BLE001 - mathtext covers a subset of LaTeX: show the source instead
            return _raw_latex(tex, display)
        alt = html.escape(tex.strip(), quote=True).replace("$", "&#36;").replace("|", "&#124;")
        scale = 1.15 if display else 1.0
        src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
        images.append(f'<img class="mm-math" alt="{alt}" src="{src}" style="height:{height * scale:.3f}em;'
                      f'width:{width * scale:.3f}em;vertical-align:{-depth * scale:.3f}em">')
    MATH_STATS["drawn"] += 1
    if display:
        return '<span class="mm-math-display">' + "<br>".join(images) + "</span>"
    return images[0]


_CODE = re.compile(r"(^```.*?^```[^\n]*$|^~~~.*?^~~~[^\n]*$|`[^`\n]+`)", re.DOTALL | re.MULTILINE)
_MATH = re.compile(r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|(\\begin\{(\w+\*?)\}.*?\\end\{\4\})|\\\((.+?)\\\)"
                   r"|(?<![\\$\w])\$(?=\S)([^$\n]*?\S)\$(?![\d$])", re.DOTALL)


def render_math_in_markdown(source: str) -> str:
    """Replace every ``$..$``, ``$$..$$``, ``\\(..\\)``, ``\\[..\\]`` and environment outside code by HTML."""
    def replace(match):
        display_tex = match.group(1) or match.group(2) or match.group(3)
        if display_tex is not None:
            return math_html(display_tex, display=True)
        return math_html(match.group(5) or match.group(6), display=False)

    parts = _CODE.split(source)
    return "".join(part if index % 2 else _MATH.sub(replace, part) for index, part in enumerate(parts))


# -------------------------------------------------------------------- site
_PAGE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{% block extra_css %}<style type="text/css">{{ resources.mmgen_css }}</style>{% endblock extra_css %}
{%- block body_header -%}{{ super() }}{{ resources.mmgen_nav }}{%- endblock body_header -%}
{% block body_footer %}{{ resources.mmgen_nav }}{{ super() }}{% endblock body_footer %}
"""
SITE_CSS = """
.mm-nav { display: flex; flex-wrap: wrap; gap: .4em 1.2em; align-items: center; margin: .5em auto;
  padding: .5em 1em; background: #f3f5f8; border: 1px solid #d8dde5; border-radius: 6px;
  font-family: system-ui, sans-serif; font-size: 14px; max-width: 1100px; }
.mm-nav a { color: #1f5fa8; text-decoration: none; } .mm-nav a:hover { text-decoration: underline; }
.mm-nav .mm-here { font-weight: 600; } .mm-nav .mm-spacer { flex: 1; }
img.mm-math { display: inline-block; margin: 0; max-width: none; }
.mm-math-display { display: block; text-align: center; margin: .6em 0; overflow-x: auto; }
"""
_STANDALONE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>
body {{ font-family: system-ui, sans-serif; max-width: 1000px; margin: 1em auto; padding: 0 1em;
  line-height: 1.5; color: #222; }}
table {{ border-collapse: collapse; }} th, td {{ border: 1px solid #ccc; padding: .3em .6em; text-align: left; }}
code {{ background: #f4f4f4; padding: 0 .2em; }} {css}
</style></head><body>
{nav}
{body}
</body></html>
"""
EDITIONS = {"instructor": "with solutions", "student": "student edition"}


def _title(notebook, fallback: str) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _nav(paths: list[Path], index: int | None, edition: str | None, prefix: str, editions=tuple(EDITIONS)) -> str:
    link = lambda href, text: f'<a href="{prefix}{href}">{html.escape(text)}</a>'  # noqa: E731
    items = [link("index.html", "Course index")]
    if "instructor" in editions:
        items.append(link("instructors.html", "Instructor guide"))
    if index is not None:
        stem = paths[index].stem
        if index > 0:
            items.append(link(f"{edition}/{paths[index - 1].stem}.html", f"← {paths[index - 1].stem}"))
        items.append(f'<span class="mm-here">{html.escape(stem)}</span>')
        if index + 1 < len(paths):
            items.append(link(f"{edition}/{paths[index + 1].stem}.html", f"{paths[index + 1].stem} →"))
        if len(editions) > 1:
            items.append('<span class="mm-spacer"></span>Edition:')
            for name in editions:
                items.append(f'<span class="mm-here">{EDITIONS[name]}</span>' if name == edition
                             else link(f"{name}/{stem}.html", EDITIONS[name]))
    return '<nav class="mm-nav">' + " ".join(items) + "</nav>"


WIDGET_NOTE = "[An interactive widget: it needs a running Jupyter kernel. Open the notebook to use it.]"


class _StaticPreprocessor:
    """Draw the math of markdown cells and text/latex outputs as inline SVG; say where widgets were."""

    def __call__(self, notebook, resources):
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                cell.source = render_math_in_markdown(cell.source)
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "application/vnd.jupyter.widget-view+json" in data:  # no kernel, no widget state
                    output["data"] = {"text/plain": WIDGET_NOTE}
                elif "text/latex" in data and "text/html" not in data:
                    data["text/html"] = render_math_in_markdown(data["text/latex"])
        return notebook, resources


def _exporter():
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", extra_loaders=[DictLoader({"mmgen.html.j2": _PAGE_TEMPLATE})],
                            embed_images=True, exclude_anchor_links=False)
    exporter.template_file = "mmgen.html.j2"
    exporter.register_preprocessor(_StaticPreprocessor(), enabled=True)
    return exporter


def _markdown_page(markdown: str, title: str, nav: str) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    body = markdown2html_mistune(render_math_in_markdown(markdown))
    return _STANDALONE.format(title=html.escape(title), css=SITE_CSS, nav=nav, body=body)


def build_site(out, lessons_dir=LESSONS, student_only: bool = False) -> Path:
    """Render the executed lessons, an index and the instructor guide to ``out``; return the index page.

    Each lesson is rendered with solutions (``instructor/``) and as the student edition
    (``student/``); ``student_only=True`` leaves out the solutions and the guide, for a site
    published to learners. The pages embed their CSS, images and equations: they open offline.
    """
    out, lessons_dir = Path(out), Path(lessons_dir)
    _refuse_inside_lessons(out, lessons_dir)
    paths = lesson_paths(lessons_dir)
    editions = ("student",) if student_only else tuple(EDITIONS)
    exporter = _exporter()
    MATH_STATS.update(drawn=0, raw=[])
    rows = []
    for index, path in enumerate(paths):
        notebook = nbformat.read(path, as_version=4)
        title = _title(notebook, path.stem)
        versions = {"instructor": notebook, "student": student_notebook(notebook)}
        for edition in editions:
            resources = {"metadata": {"name": f"{title} ({EDITIONS[edition]})", "path": str(lessons_dir)},
                         "mmgen_nav": _nav(paths, index, edition, "../", editions), "mmgen_css": SITE_CSS}
            page, _ = exporter.from_notebook_node(versions[edition], resources=resources)
            (out / edition).mkdir(parents=True, exist_ok=True)
            (out / edition / f"{path.stem}.html").write_text(page, encoding="utf-8")
        links = " · ".join(f"[{EDITIONS[e]}]({e}/{path.stem}.html)" for e in editions)
        rows.append(f"| {html.escape(title)} | {links} | {len(exercise_pairs(notebook))} |")
    nav = _nav(paths, None, None, "", editions)
    if not student_only:
        guide = lessons_dir / "INSTRUCTORS.md"
        guide_text = guide.read_text(encoding="utf-8") if guide.exists() else "# Instructor guide\n\nNot written yet."
        (out / "instructors.html").write_text(_markdown_page(guide_text, "Instructor guide", nav), encoding="utf-8")
    about = ("Each lesson comes in two editions: *with solutions* (as in `lessons/`) and the *student "
             "edition* (exercise solutions replaced by `raise NotImplementedError`)." if not student_only else
             "Your code goes between `# YOUR CODE HERE` and `# END OF YOUR CODE`; the cell after it checks it.")
    index_md = ("# Multimodal Generation, step by step\n\n"
                f"The executed course, lesson by lesson. {about} These pages need no network.\n\n"
                "| lesson | open | exercises |\n| --- | --- | --- |\n" + "\n".join(rows) + "\n")
    index_page = out / "index.html"
    index_page.write_text(_markdown_page(index_md, "mmgen course", nav), encoding="utf-8")
    return index_page


# ------------------------------------------------------------------- grade
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

        NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(Path(path).resolve().parent)}}).execute()
    results = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or "exercise-check" not in _tags(cell):
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


# --------------------------------------------------------------------- CLI
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmgen_lib.course", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=("student", "site", "audit", "grade"))
    parser.add_argument("notebooks", nargs="*", help="grade: the learners' notebooks")
    parser.add_argument("--out", help="output folder (student, site)")
    parser.add_argument("--lessons", default=str(LESSONS), help="lessons folder (default: %(default)s)")
    parser.add_argument("--saved", action="store_true", help="grade: read the saved outputs, do not re-run")
    parser.add_argument("--student-only", action="store_true",
                        help="site: only the student edition, no solutions and no instructor guide")
    args = parser.parse_intermixed_args(argv)
    if args.command == "audit":
        print(audit(args.lessons))
        return 0
    if args.command == "grade":
        print("| notebook | exercise | result | message |\n| --- | --- | --- | --- |")
        for notebook in args.notebooks:
            for row in grade(notebook, execute=not args.saved, lessons_dir=args.lessons):
                result = "passed" if row["passed"] else "not yet"
                print(f"| {notebook} | {row['exercise']} | {result} | {row['message'].replace('|', '/')} |")
        return 0
    if not args.out:
        parser.error(f"{args.command} needs --out DIR")
    if args.command == "student":
        written = build_student_edition(args.out, args.lessons)
        print(f"student edition: {len(written)} notebooks in {args.out}")
    else:
        index = build_site(args.out, args.lessons, student_only=args.student_only)
        print(f"site: {index} (open it in a browser; no network needed)")
        raw = sorted(set(MATH_STATS["raw"]))
        print(f"equations: {MATH_STATS['drawn']} drawn as SVG, {len(MATH_STATS['raw'])} shown as LaTeX source"
              + "".join(f"\n  {tex}" for tex in raw))
    return 0


if __name__ == "__main__":
    sys.exit(main())
