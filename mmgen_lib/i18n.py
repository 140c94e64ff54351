"""The learner-facing messages in English or Chinese: ``MMGEN_LANG=zh`` (default English).

Exercise checks (``mmgen_lib.checks``) and the studio's widgets (``mmgen_lib.widgets``) write
every message as ONE English format string (``"for clip {i} you returned {got} Hz"``) and pass
it through :func:`translate` before filling in its fields. The Chinese catalog,
``mmgen_lib/locale/zh.json``, maps each English string to its translation with the same
``{fields}``; ``tests/test_i18n.py`` checks that every message has one.

The language is read at each call. Without ``MMGEN_LANG``, a notebook of the Chinese edition
(a kernel whose working folder is ``lessons/zh``) speaks Chinese and every other one English;
``MMGEN_LANG`` overrides that either way::

    MMGEN_LANG=zh jupyter lab lessons/           # every lesson's messages in Chinese
    os.environ["MMGEN_LANG"] = "en"              # inside a running notebook

Used with the Chinese edition (``lessons/zh/``).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path

__all__ = ["ENV", "LANGUAGES", "language", "catalog", "translate", "N_"]

ENV = "MMGEN_LANG"
LANGUAGES = ("en", "zh")
_ALIASES = {"": "en", "en": "en", "en_us": "en", "en_gb": "en", "c": "en", "zh": "zh", "zh_cn": "zh", "zh_hans": "zh"}
LOCALE = Path(__file__).resolve().parent / "locale"


def language() -> str:
    """``"en"`` or ``"zh"``, from ``MMGEN_LANG`` (``zh_CN``, ``zh-Hans`` and ``zh_CN.UTF-8`` mean ``zh``).

    Unset, it is ``"zh"`` in a kernel started in the Chinese edition's folder (``lessons/zh``).
    """
    value = os.environ.get(ENV)
    if value is None:
        cwd = Path.cwd()
        return "zh" if cwd.name == "zh" and cwd.parent.name == "lessons" else "en"
    key = value.strip().split(".")[0].replace("-", "_").lower()
    if key not in _ALIASES:
        raise ValueError(f"{ENV} must be one of {', '.join(LANGUAGES)} (or zh_CN, zh-Hans). Received: {value!r}")
    return _ALIASES[key]


@functools.cache
def catalog(lang: str) -> dict[str, str]:
    """The ``{English: translation}`` catalog of a language (empty for English)."""
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}. Received: {lang!r}")
    if lang == "en":
        return {}
    return json.loads((LOCALE / f"{lang}.json").read_text(encoding="utf-8"))


def translate(text: str | None) -> str | None:
    """``text`` in the learner's language (``MMGEN_LANG``); English when there is no translation."""
    if text is None:
        return None
    lang = language()
    return text if lang == "en" else catalog(lang).get(text, text)


def N_(text: str) -> str:
    """Mark a message written away from the call that shows it (a table of hints, a tab title).

    Returns ``text`` unchanged: the message is translated where it is shown (``fail``, ``passed``,
    ``translate``); the mark lets ``tests/test_i18n.py`` find it and require its translation.
    """
    return text
