"""The static course site: every executed lesson as offline HTML, an index and the instructor guide.

Each lesson is rendered twice (with solutions, and the student edition) with nbconvert's
``lab`` template extended by the page template below; equations are drawn as inline SVG
(``latex_svg``) and widget outputs replaced by a note, so the pages open with no network.
Taught in lesson 00 (the course site).
"""

from __future__ import annotations

import html
from pathlib import Path

import nbformat

from mmgen_lib.course.latex_svg import MathStats, render_math_in_markdown
from mmgen_lib.course.student import LESSONS, exercise_pairs, lesson_paths, refuse_inside_lessons, student_notebook

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
WIDGET_NOTE = "[An interactive widget: it needs a running Jupyter kernel. Open the notebook to use it.]"


def _title(notebook, fallback: str) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _link(href: str, text: str, prefix: str) -> str:
    return f'<a href="{prefix}{href}">{html.escape(text)}</a>'


def _nav(paths: list[Path], index: int | None, edition: str | None, prefix: str, editions=tuple(EDITIONS)) -> str:
    items = [_link("index.html", "Course index", prefix)]
    if "instructor" in editions:
        items.append(_link("instructors.html", "Instructor guide", prefix))
    if index is not None:
        stem = paths[index].stem
        if index > 0:
            items.append(_link(f"{edition}/{paths[index - 1].stem}.html", f"← {paths[index - 1].stem}", prefix))
        items.append(f'<span class="mm-here">{html.escape(stem)}</span>')
        if index + 1 < len(paths):
            items.append(_link(f"{edition}/{paths[index + 1].stem}.html", f"{paths[index + 1].stem} →", prefix))
        if len(editions) > 1:
            items.append('<span class="mm-spacer"></span>Edition:')
            for name in editions:
                items.append(
                    f'<span class="mm-here">{EDITIONS[name]}</span>'
                    if name == edition
                    else _link(f"{name}/{stem}.html", EDITIONS[name], prefix)
                )
    return '<nav class="mm-nav">' + " ".join(items) + "</nav>"


class _StaticPreprocessor:
    """Draw the math of markdown cells and text/latex outputs as inline SVG; say where widgets were."""

    def __init__(self, stats: MathStats):
        self.stats = stats

    def __call__(self, notebook, resources):
        for cell in notebook.cells:
            if cell.cell_type == "markdown":
                cell.source = render_math_in_markdown(cell.source, self.stats)
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "application/vnd.jupyter.widget-view+json" in data:  # no kernel, no widget state
                    output["data"] = {"text/plain": WIDGET_NOTE}
                elif "text/latex" in data and "text/html" not in data:
                    data["text/html"] = render_math_in_markdown(data["text/latex"], self.stats)
        return notebook, resources


def _exporter(stats: MathStats):
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({"mmgen.html.j2": _PAGE_TEMPLATE})],
        embed_images=True,
        exclude_anchor_links=False,
    )
    exporter.template_file = "mmgen.html.j2"
    exporter.register_preprocessor(_StaticPreprocessor(stats), enabled=True)
    return exporter


def _markdown_page(markdown: str, title: str, nav: str, stats: MathStats) -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    body = markdown2html_mistune(render_math_in_markdown(markdown, stats))
    return _STANDALONE.format(title=html.escape(title), css=SITE_CSS, nav=nav, body=body)


def build_site(out, lessons_dir=LESSONS, student_only: bool = False, stats: MathStats | None = None) -> Path:
    """Render the executed lessons, an index and the instructor guide to ``out``; return the index page.

    Each lesson is rendered with solutions (``instructor/``) and as the student edition
    (``student/``); ``student_only=True`` leaves out the solutions and the guide, for a site
    published to learners. The pages embed their CSS, images and equations: they open offline.
    Pass a ``MathStats`` as ``stats`` to learn how many equations were drawn or left as LaTeX.
    """
    out, lessons_dir = Path(out), Path(lessons_dir)
    refuse_inside_lessons(out, lessons_dir)
    stats = MathStats() if stats is None else stats
    paths = lesson_paths(lessons_dir)
    editions = ("student",) if student_only else tuple(EDITIONS)
    exporter = _exporter(stats)
    rows = []
    for index, path in enumerate(paths):
        notebook = nbformat.read(path, as_version=4)
        title = _title(notebook, path.stem)
        versions = {"instructor": notebook, "student": student_notebook(notebook)}
        for edition in editions:
            resources = {
                "metadata": {"name": f"{title} ({EDITIONS[edition]})", "path": str(lessons_dir)},
                "mmgen_nav": _nav(paths, index, edition, "../", editions),
                "mmgen_css": SITE_CSS,
            }
            page, _ = exporter.from_notebook_node(versions[edition], resources=resources)
            (out / edition).mkdir(parents=True, exist_ok=True)
            (out / edition / f"{path.stem}.html").write_text(page, encoding="utf-8")
        links = " · ".join(f"[{EDITIONS[e]}]({e}/{path.stem}.html)" for e in editions)
        rows.append(f"| {html.escape(title)} | {links} | {len(exercise_pairs(notebook))} |")
    nav = _nav(paths, None, None, "", editions)
    if not student_only:
        guide = lessons_dir / "INSTRUCTORS.md"
        guide_text = guide.read_text(encoding="utf-8") if guide.exists() else "# Instructor guide\n\nNot written yet."
        (out / "instructors.html").write_text(
            _markdown_page(guide_text, "Instructor guide", nav, stats), encoding="utf-8"
        )
    about = (
        "Each lesson comes in two editions: *with solutions* (as in `lessons/`) and the *student "
        "edition* (exercise solutions replaced by `raise NotImplementedError`)."
        if not student_only
        else "Your code goes between `# YOUR CODE HERE` and `# END OF YOUR CODE`; the cell after it checks it."
    )
    index_md = (
        "# Multimodal Generation, step by step\n\n"
        f"The executed course, lesson by lesson. {about} These pages need no network.\n\n"
        "| lesson | open | exercises |\n| --- | --- | --- |\n" + "\n".join(rows) + "\n"
    )
    index_page = out / "index.html"
    index_page.write_text(_markdown_page(index_md, "mmgen course", nav, stats), encoding="utf-8")
    return index_page
