"""LaTeX → inline SVG with matplotlib's mathtext, so that the course site needs no MathJax and no network.

An equation mathtext cannot draw is shown as its raw LaTeX (a Markdown code span). What was
drawn and what was left as source is counted in a ``MathStats`` the caller passes in and
reads back: there is no module-level counter. Taught in lesson 00 (the course site).
"""

from __future__ import annotations

import base64
import functools
import html
import re
from dataclasses import dataclass, field

# LaTeX commands mathtext lacks → an equivalent it has ("" drops the command).
_MATHTEXT_COMMANDS = {
    "lVert": r"\Vert",
    "rVert": r"\Vert",
    "lvert": "|",
    "rvert": "|",
    "dfrac": r"\frac",
    "tfrac": r"\frac",
    "boldsymbol": r"\mathbf",
    "bm": r"\mathbf",
    "displaystyle": "",
    "textstyle": "",
    "limits": "",
    "nolimits": "",
    "lbrace": r"\{",
    "rbrace": r"\}",
    "le": r"\leq",
    "ge": r"\geq",
    "to": r"\rightarrow",
    "gets": r"\leftarrow",
    "texttt": r"\mathtt",
    "textbf": r"\mathbf",
    "textit": r"\mathit",
    "textrm": r"\mathrm",
    "tag": "",
    "ne": r"\neq",
    "land": r"\wedge",
    "lor": r"\vee",
    "iff": r"\Leftrightarrow",
    "implies": r"\Rightarrow",
    **{f"{size}{side}": "" for size in ("big", "Big", "bigg", "Bigg") for side in ("", "l", "r", "m")},
}
_ENVIRONMENT = re.compile(
    r"\\begin\{(aligned|align\*?|gathered|gather\*?|equation\*?|split)\}(.*?)\\end\{\1\}", re.DOTALL
)
_PATH_COMMANDS = {1: ("M", 1), 2: ("L", 1), 3: ("Q", 2), 4: ("C", 3)}
_CODE = re.compile(r"(^```.*?^```[^\n]*$|^~~~.*?^~~~[^\n]*$|`[^`\n]+`)", re.DOTALL | re.MULTILINE)
_MATH = re.compile(
    r"\$\$(.+?)\$\$|\\\[(.+?)\\\]|(\\begin\{(\w+\*?)\}.*?\\end\{\4\})|\\\((.+?)\\\)"
    r"|(?<![\\$\w])\$(?=\S)([^$\n]*?\S)\$(?![\d$])",
    re.DOTALL,
)


@dataclass
class MathStats:
    """What a rendering did: equations drawn as SVG, and the LaTeX sources left as text."""

    drawn: int = 0
    raw: list[str] = field(default_factory=list)


def _mathtext(tex: str) -> str:
    """Rewrite LaTeX that mathtext does not know into an equivalent it knows."""
    tex = re.sub(r"\\([a-zA-Z]+)\*?", lambda m: _MATHTEXT_COMMANDS.get(m.group(1), "\\" + m.group(1)) + " ", tex)
    tex = re.sub(r"\\frac\s*([0-9a-zA-Z])\s*([0-9a-zA-Z])", r"\\frac{\1}{\2}", tex.replace(r"\!", ""))
    return " ".join(tex.split())


@functools.cache  # a pure function of its arguments: caching changes no result
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
        points = vertices[index : index + count]
        commands.append(letter + " ".join(f"{x + pad:.2f} {top + pad - y:.2f}" for x, y in points))
        index += count
    box_w, box_h = width + 2 * pad, height + 2 * pad
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {box_w:.2f} {box_h:.2f}">'
        f'<path fill="#111" d="{"".join(commands)}"/></svg>'
    )
    return svg, box_w / size, box_h / size, (depth + pad) / size


def _raw_latex(tex: str, display: bool, stats: MathStats | None) -> str:
    if stats is not None:
        stats.raw.append(tex)
    # A Markdown code span (not HTML): the exporter re-parses inline HTML tags one by one.
    shown = " ".join(tex.replace("`", "'").split())
    return f"\n\n`` {shown} ``\n\n" if display else f"`` {shown} ``"


def math_html(tex: str, display: bool = False, stats: MathStats | None = None) -> str:
    """LaTeX as an inline ``<img>`` of an SVG (offline); raw LaTeX if mathtext cannot draw it.

    Args:
        tex: the LaTeX, without ``$`` delimiters.
        display: a displayed (centred, larger) equation rather than inline math.
        stats: when given, counts the equation as drawn or appends its source to ``stats.raw``.
    """
    body = _ENVIRONMENT.sub(lambda m: m.group(2), tex)
    lines = [line.replace("&", " ") for line in re.split(r"\\\\(?:\[[^\]]*\])?", body) if line.strip()]
    if not lines or (len(lines) > 1 and not display):
        return _raw_latex(tex, display, stats)
    images = []
    for line in lines:
        try:
            svg, width, height, depth = _svg_line(line.strip(), 14.0 if display else 12.0)
        except Exception:  # noqa: BLE001 - mathtext covers a subset of LaTeX: show the source instead
            return _raw_latex(tex, display, stats)
        alt = html.escape(tex.strip(), quote=True).replace("$", "&#36;").replace("|", "&#124;")
        scale = 1.15 if display else 1.0
        src = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
        images.append(
            f'<img class="mm-math" alt="{alt}" src="{src}" style="height:{height * scale:.3f}em;'
            f'width:{width * scale:.3f}em;vertical-align:{-depth * scale:.3f}em">'
        )
    if stats is not None:
        stats.drawn += 1
    if display:
        return '<span class="mm-math-display">' + "<br>".join(images) + "</span>"
    return images[0]


def render_math_in_markdown(source: str, stats: MathStats | None = None) -> str:
    """Replace every ``$..$``, ``$$..$$``, ``\\(..\\)``, ``\\[..\\]`` and environment outside code by HTML."""

    def replace(match):
        display_tex = match.group(1) or match.group(2) or match.group(3)
        if display_tex is not None:
            return math_html(display_tex, display=True, stats=stats)
        return math_html(match.group(5) or match.group(6), display=False, stats=stats)

    parts = _CODE.split(source)
    return "".join(part if index % 2 else _MATH.sub(replace, part) for index, part in enumerate(parts))
