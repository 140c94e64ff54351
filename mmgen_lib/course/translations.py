"""Translations of the lessons' prose: data beside the lesson sources, checked for staleness.

One file per lesson and language, ``lessons/src/<lang>/NN_topic.md``, holds one block per
markdown cell of the English lesson. Code cells are never translated or copied: a translated
notebook is the executed English notebook with its markdown cells replaced. Each block starts
with a marker naming the cell and the English text it translates::

    <!-- md-003 en:3f2a9c1b7d4e -->
    ## 2. 文本编码器
    ...

``md-003`` is the fourth markdown cell of the lesson (code cells are not counted) and
``3f2a9c1b7d4e`` the first 12 hex digits of the sha256 of that cell's English text. When the
English changes, the hash no longer matches and the block is *stale* until a translator
updates it and stamps it (``python tools/translations.py stamp NN md-003``). ``status`` lists
missing, stale and orphaned blocks; ``realign`` moves blocks to their new numbers after
English cells were inserted or removed (it matches them by hash, so nothing is guessed).

Taught with the Chinese edition (``lessons/zh/``); the build is ``tools/translations.py build``.
"""

from __future__ import annotations

import copy
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "LANGUAGES",
    "TranslationStatus",
    "english_hash",
    "markdown_cells",
    "numbers",
    "parse_translation",
    "format_translation",
    "translation_path",
    "translation_status",
    "translated_notebook",
    "realign",
]

LANGUAGES = {"zh": "简体中文"}
HASH_DIGITS = 12
MARKER = re.compile(rf"^<!-- (md-\d{{3}}) en:([0-9a-f]{{{HASH_DIGITS}}}) -->$", re.M)
_CJK = re.compile(r"[\u4e00-\u9fff]")
_WORDS = re.compile(r"[A-Za-z]{3,}")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def numbers(text: str) -> list[str]:
    """The numbers written in a text, sorted: a translation must show exactly the English ones."""
    return sorted(_NUMBER.findall(text))


def english_hash(text: str) -> str:
    """The first 12 hex digits of the sha256 of an English markdown cell's text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_DIGITS]


def markdown_cells(notebook) -> dict[str, str]:
    """``{"md-000": text, ...}``: the notebook's markdown cells in order, numbered among themselves."""
    texts = [cell.source for cell in notebook.cells if cell.cell_type == "markdown"]
    return {f"md-{index:03d}": text for index, text in enumerate(texts)}


def parse_translation(text: str, where: str = "translation") -> dict[str, tuple[str, str]]:
    """``{cell_id: (english_hash, translated_text)}`` from a translation file's text."""
    if not isinstance(text, str):
        raise TypeError(f"{where}: expected the file's text (a str). Received: {type(text).__name__}")
    markers = list(MARKER.finditer(text))
    if text.strip() and (not markers or text[: markers[0].start()].strip()):
        raise ValueError(f"{where}: text before the first '<!-- md-NNN en:HASH -->' marker")
    blocks = {}
    for marker, following in zip(markers, [*markers[1:], None]):
        cell_id, digest = marker.group(1), marker.group(2)
        if cell_id in blocks:
            raise ValueError(f"{where}: {cell_id} appears twice")
        body = text[marker.end() : following.start() if following else len(text)]
        blocks[cell_id] = (digest, body.strip("\n"))
    return blocks


def format_translation(blocks: dict[str, tuple[str, str]]) -> str:
    """The file text for ``{cell_id: (english_hash, translated_text)}``, blocks in cell order."""
    parts = [
        f"<!-- {cell_id} en:{digest} -->\n{body.strip(chr(10))}\n" for cell_id, (digest, body) in sorted(blocks.items())
    ]
    return "\n".join(parts)


def translation_path(source_or_notebook: str | Path, language: str = "zh") -> Path:
    """``lessons/src/<language>/NN_topic.md`` for a lesson source or notebook path."""
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {sorted(LANGUAGES)}. Received: {language!r}")
    path = Path(source_or_notebook)
    lessons = path.parent.parent if path.parent.name == "src" else path.parent
    return lessons / "src" / language / f"{path.stem}.md"


@dataclass
class TranslationStatus:
    """What a lesson's translation lacks: cells ``missing``, ``stale``, ``orphans``, untranslated, other numbers."""

    lesson: str
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    untranslated: list[str] = field(default_factory=list)
    other_numbers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.stale or self.orphans or self.untranslated or self.other_numbers)

    def __str__(self) -> str:
        if self.ok:
            return f"{self.lesson}: up to date"
        parts = [f"{name} {', '.join(ids)}" for name, ids in self._problems() if ids]
        return f"{self.lesson}: " + "; ".join(parts)

    def _problems(self):
        return (
            ("missing", self.missing),
            ("stale (English changed)", self.stale),
            ("orphaned (no such English cell)", self.orphans),
            ("not translated", self.untranslated),
            ("numbers differ from the English", self.other_numbers),
        )


def translation_status(notebook, blocks: dict[str, tuple[str, str]], lesson: str = "lesson") -> TranslationStatus:
    """Compare a lesson's English markdown cells with its translation blocks."""
    english = markdown_cells(notebook)
    status = TranslationStatus(lesson)
    for cell_id, text in english.items():
        if cell_id not in blocks:
            status.missing.append(cell_id)
        elif blocks[cell_id][0] != english_hash(text):
            status.stale.append(cell_id)
        elif _WORDS.search(text) and not _CJK.search(blocks[cell_id][1]):
            status.untranslated.append(cell_id)
        elif numbers(text) != numbers(blocks[cell_id][1]):
            status.other_numbers.append(cell_id)
    status.orphans = sorted(set(blocks) - set(english))
    return status


def translated_notebook(notebook, blocks: dict[str, tuple[str, str]], lesson: str = "lesson"):
    """A copy of the executed English ``notebook`` whose markdown cells are the translations.

    Raises ``ValueError`` naming the cells when the translation is missing, stale, orphaned or
    left in English: a translated notebook is never built from an out-of-date translation.
    """
    status = translation_status(notebook, blocks, lesson)
    if not status.ok:
        raise ValueError(f"translation not up to date: {status}")
    translated = copy.deepcopy(notebook)
    markdown = [cell for cell in translated.cells if cell.cell_type == "markdown"]
    for index, cell in enumerate(markdown):
        cell.source = blocks[f"md-{index:03d}"][1]
    return translated


def realign(notebook, blocks: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """Renumber blocks after English cells were inserted or removed, matching them by hash.

    A block whose hash equals exactly one English cell's hash moves to that cell's number;
    blocks that match nothing keep their number (and show up as stale or orphaned).
    """
    english = markdown_cells(notebook)
    by_hash: dict[str, list[str]] = {}
    for cell_id, text in english.items():
        by_hash.setdefault(english_hash(text), []).append(cell_id)
    moved, kept = {}, {}
    for cell_id, (digest, body) in blocks.items():
        targets = by_hash.get(digest, [])
        target = cell_id if cell_id in targets else (targets[0] if len(targets) == 1 else None)
        if target is not None and target not in moved:
            moved[target] = (digest, body)
        else:
            kept[cell_id] = (digest, body)
    for cell_id, block in kept.items():
        moved.setdefault(cell_id, block)
    return moved
