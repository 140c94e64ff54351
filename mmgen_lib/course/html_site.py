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
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
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
# The site's own words per language; the Chinese site (lessons/zh/) is built into <out>/zh/.
LABELS = {
    "en": {
        "index": "Course index",
        "guide": "Instructor guide",
        "edition": "Edition:",
        "editions": EDITIONS,
        "other": "中文",
        "title": "Multimodal Generation, step by step",
        "intro": "The executed course, lesson by lesson. {about} These pages need no network.",
        "about": "Each lesson comes in two editions: *with solutions* (as in `lessons/`) and the *student "
        "edition* (exercise solutions replaced by `raise NotImplementedError`).",
        "about_student": "Your code goes between `# YOUR CODE HERE` and `# END OF YOUR CODE`; the cell after it "
        "checks it.",
        "table": "| lesson | open | exercises |",
        "no_guide": "# Instructor guide\n\nNot written yet.",
    },
    "zh": {
        "index": "课程目录",
        "guide": "教师指南",
        "edition": "版本：",
        "editions": {"instructor": "含参考答案", "student": "学生版"},
        "other": "English",
        "title": "多模态生成：循序渐进",
        "intro": "逐课展示已执行的课程。{about}这些页面无需联网。",
        "about": "每课有两个版本：*含参考答案*（与 `lessons/zh/` 相同）和*学生版*（练习的参考答案替换为 "
        "`raise NotImplementedError`）。",
        "about_student": "把你的代码写在 `# YOUR CODE HERE` 与 `# END OF YOUR CODE` 之间；其后的单元格会检查它。",
        "table": "| 课程 | 打开 | 练习 |",
        "no_guide": "# 教师指南\n\n尚未编写。",
    },
}
GUIDES = {"en": "INSTRUCTORS.md", "zh": "INSTRUCTORS.zh.md"}


def _title(notebook, fallback: str) -> str:
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def _link(href: str, text: str, prefix: str) -> str:
    return f'<a href="{prefix}{href}">{html.escape(text)}</a>'


def _nav(
    paths: list[Path],
    index: int | None,
    edition: str | None,
    prefix: str,
    editions=tuple(EDITIONS),
    language: str = "en",
    other: str | None = None,
    here: str = "index.html",
) -> str:
    """The navigation bar; ``other`` is the path from this language's site root to the other language's,
    ``here`` the page outside the lessons (index or guide) the bar is for."""
    labels = LABELS[language]
    items = [_link("index.html", labels["index"], prefix)]
    if "instructor" in editions:
        items.append(_link("instructors.html", labels["guide"], prefix))
    if index is not None:
        stem = paths[index].stem
        if index > 0:
            items.append(_link(f"{edition}/{paths[index - 1].stem}.html", f"← {paths[index - 1].stem}", prefix))
        items.append(f'<span class="mm-here">{html.escape(stem)}</span>')
        if index + 1 < len(paths):
            items.append(_link(f"{edition}/{paths[index + 1].stem}.html", f"{paths[index + 1].stem} →", prefix))
        if len(editions) > 1:
            items.append(f'<span class="mm-spacer"></span>{labels["edition"]}')
            for name in editions:
                items.append(
                    f'<span class="mm-here">{labels["editions"][name]}</span>'
                    if name == edition
                    else _link(f"{name}/{stem}.html", labels["editions"][name], prefix)
                )
    if other is not None:
        page = here if index is None else f"{edition}/{paths[index].stem}.html"
        items.append(_link(f"{other}{page}", labels["other"], prefix))
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


def _markdown_page(markdown: str, title: str, nav: str, stats: MathStats, language: str = "en") -> str:
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    body = markdown2html_mistune(render_math_in_markdown(markdown, stats))
    lang = {"en": "en", "zh": "zh-Hans"}[language]
    return _STANDALONE.format(lang=lang, title=html.escape(title), css=SITE_CSS, nav=nav, body=body)


def build_site(
    out,
    lessons_dir=LESSONS,
    student_only: bool = False,
    stats: MathStats | None = None,
    language: str = "en",
    other: str | None = None,
) -> Path:
    """Render the executed lessons, an index and the instructor guide to ``out``; return the index page.

    Each lesson is rendered with solutions (``instructor/``) and as the student edition
    (``student/``); ``student_only=True`` leaves out the solutions and the guide, for a site
    published to learners. The pages embed their CSS, images and equations: they open offline.
    Pass a ``MathStats`` as ``stats`` to learn how many equations were drawn or left as LaTeX.

    When ``lessons_dir/zh`` holds the Chinese edition, it is rendered the same way into
    ``out/zh/`` (with ``lessons/INSTRUCTORS.zh.md`` as its guide), and every page links to the
    same page in the other language.
    """
    if language not in LABELS:
        raise ValueError(f"language must be one of {sorted(LABELS)}. Received: {language!r}")
    out, lessons_dir = Path(out), Path(lessons_dir)
    refuse_inside_lessons(out, lessons_dir)
    stats = MathStats() if stats is None else stats
    labels = LABELS[language]
    chinese = lessons_dir / "zh"
    if language == "en" and chinese.is_dir() and lesson_paths(chinese):
        build_site(out / "zh", chinese, student_only, stats, language="zh", other="../")
        other = "zh/"
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
                "mmgen_nav": _nav(paths, index, edition, "../", editions, language, other),
                "mmgen_css": SITE_CSS,
            }
            page, _ = exporter.from_notebook_node(versions[edition], resources=resources)
            (out / edition).mkdir(parents=True, exist_ok=True)
            (out / edition / f"{path.stem}.html").write_text(page, encoding="utf-8")
        links = " · ".join(f"[{labels['editions'][e]}]({e}/{path.stem}.html)" for e in editions)
        rows.append(f"| {html.escape(title)} | {links} | {len(exercise_pairs(notebook))} |")
    nav = _nav(paths, None, None, "", editions, language, other)
    if not student_only:
        guide = (lessons_dir.parent if language != "en" else lessons_dir) / GUIDES[language]
        guide_text = guide.read_text(encoding="utf-8") if guide.exists() else labels["no_guide"]
        guide_nav = _nav(paths, None, None, "", editions, language, other, here="instructors.html")
        (out / "instructors.html").write_text(
            _markdown_page(guide_text, labels["guide"], guide_nav, stats, language), encoding="utf-8"
        )
    about = labels["about_student"] if student_only else labels["about"]
    index_md = (
        f"# {labels['title']}\n\n{labels['intro'].format(about=about)}\n\n"
        f"{labels['table']}\n| --- | --- | --- |\n" + "\n".join(rows) + "\n"
    )
    index_page = out / "index.html"
    index_page.write_text(_markdown_page(index_md, labels["title"], nav, stats, language), encoding="utf-8")
    return index_page
