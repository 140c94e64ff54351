"""mmgen_lib.i18n: exercise checks and the studio speak the learner's language (MMGEN_LANG)."""

import ast
import importlib
import inspect
import re
from pathlib import Path

import numpy as np
import pytest

import mmgen_lib.checks as checks
from mmgen_lib import i18n
from mmgen_lib.checks import ExerciseCheckFailed, as_array, fail, passed
from mmgen_lib.data import ATTRIBUTES

ROOT = Path(__file__).resolve().parent.parent
CHECK_MODULES = sorted((ROOT / "mmgen_lib" / "checks").glob("*.py"))
MESSAGE_PARAMETERS = {"message", "hint", "what", "template"}
FIELD = re.compile(r"\{(\w*)[^{}]*\}")
TWO_WORDS = re.compile(r"[A-Za-z]{2,}[ ,]+[A-Za-z]{2,}")  # English prose, which needs a translation


def _module_of(path: Path):
    name = "mmgen_lib.checks" if path.stem == "__init__" else f"mmgen_lib.checks.{path.stem}"
    return importlib.import_module(name)


def _message_arguments(path: Path):
    """(line, node) of every argument given to a parameter named message / hint / what in a checks module."""
    module, tree = _module_of(path), ast.parse(path.read_text())
    for call in (node for node in ast.walk(tree) if isinstance(node, ast.Call)):
        name = getattr(call.func, "id", None) or getattr(call.func, "attr", None)
        if name is None:
            continue
        function = getattr(module, name, None) or getattr(checks, name, None)
        if name == "ExerciseCheckFailed":
            parameters = ["message", "hint"]
        elif callable(function) and not isinstance(function, type):
            try:
                parameters = list(inspect.signature(function).parameters)
            except (TypeError, ValueError):
                continue
        else:
            continue
        for index, argument in enumerate(call.args):
            if index < len(parameters) and parameters[index] in MESSAGE_PARAMETERS:
                yield call.lineno, argument
        for keyword in call.keywords:
            if keyword.arg in MESSAGE_PARAMETERS:
                yield call.lineno, keyword.value


def english_messages() -> set[str]:
    """Every English message template the learner can see: checks' messages and hints, the wrapper
    words, describe()'s kinds, and every literal passed to translate() anywhere in the library."""
    messages = {checks.PREFIX, checks.HINT, checks.SUCCESS, *checks.KINDS.values()}
    for path in CHECK_MODULES:
        for _, node in _message_arguments(path):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                messages.add(node.value)
            elif isinstance(node, ast.IfExp):  # hint or "default"
                messages.update(n.value for n in (node.body, node.orelse) if isinstance(n, ast.Constant))
            elif isinstance(node, ast.BoolOp):
                messages.update(
                    n.value for n in node.values if isinstance(n, ast.Constant) and isinstance(n.value, str)
                )
    for path in (ROOT / "mmgen_lib").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("translate", "N_"):
                for argument in node.args:  # a literal, or adjacent literals joined by Python
                    if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                        messages.add(argument.value)
    messages.update(ATTRIBUTES)  # the studio's drop-downs are labelled with the attribute names
    return messages


# ----------------------------------------------------------------------------- the language setting


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "en"), ("en", "en"), ("zh", "zh"), ("zh_CN", "zh"), ("zh-Hans", "zh"), ("zh_CN.UTF-8", "zh")],
)
def test_language_comes_from_mmgen_lang(monkeypatch, value, expected):
    if value is None:
        monkeypatch.delenv(i18n.ENV, raising=False)
    else:
        monkeypatch.setenv(i18n.ENV, value)
    assert i18n.language() == expected


def test_an_unknown_language_is_refused_by_name(monkeypatch):
    monkeypatch.setenv(i18n.ENV, "fr")
    with pytest.raises(ValueError, match="MMGEN_LANG must be one of en, zh .* Received: 'fr'"):
        i18n.language()
    with pytest.raises(ValueError, match="lang must be one of"):
        i18n.catalog("fr")


def test_english_is_the_default_and_is_never_looked_up(monkeypatch, tmp_path):
    monkeypatch.delenv(i18n.ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert i18n.translate("seed") == "seed" and i18n.translate(None) is None


def test_the_chinese_edition_speaks_chinese_unless_told_otherwise(monkeypatch, tmp_path):
    (tmp_path / "lessons" / "zh").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "lessons" / "zh")
    monkeypatch.delenv(i18n.ENV, raising=False)
    assert i18n.language() == "zh" and i18n.translate("seed") != "seed"
    monkeypatch.setenv(i18n.ENV, "en")
    assert i18n.language() == "en"


# ----------------------------------------------------------------------------- the catalog


def test_messages_are_literal_templates_so_they_can_be_translated():
    dynamic = [
        f"{path.name}:{line}"
        for path in CHECK_MODULES
        for line, node in _message_arguments(path)
        if isinstance(node, ast.JoinedStr)
    ]
    assert not dynamic, f"f-strings as messages (use a template and pass the fields to fail/passed): {dynamic}"


def test_every_message_has_a_chinese_translation_with_the_same_fields():
    catalog = i18n.catalog("zh")
    messages = english_messages()
    missing = sorted(messages - set(catalog))
    assert not missing, f"{len(missing)} of {len(messages)} messages lack a zh entry, e.g. {missing[:5]}"
    for english in messages:
        assert sorted(FIELD.findall(catalog[english])) == sorted(FIELD.findall(english)), (english, catalog[english])
        prose = re.sub(r"`[^`]*`", "", english)  # code spans stay as they are
        assert re.search(r"[\u4e00-\u9fff]", catalog[english]) or not TWO_WORDS.search(prose), english
    unused = sorted(set(catalog) - messages)
    assert not unused, f"zh entries no message uses any more: {unused[:5]}"


# ----------------------------------------------------------------------------- in use


def test_a_check_fails_and_passes_in_chinese(monkeypatch, capsys):
    monkeypatch.setenv(i18n.ENV, "zh")
    with pytest.raises(ExerciseCheckFailed) as caught:
        as_array(np.zeros((2, 3)), "logits", shape=(2, 4))
    message = str(caught.value)
    assert message.startswith(i18n.translate(checks.PREFIX).split("{")[0]) and "logits" in message
    assert re.search(r"[\u4e00-\u9fff]", message)
    passed("{n} values", n=3)  # the wrapper words are translated even where a message is not
    assert re.search(r"[\u4e00-\u9fff]", capsys.readouterr().out)


def test_the_same_check_speaks_english_by_default(monkeypatch):
    monkeypatch.delenv(i18n.ENV, raising=False)
    with pytest.raises(ExerciseCheckFailed, match=r"^Not quite: `logits` has shape \(2, 3\), expected \(2, 4\)"):
        as_array(np.zeros((2, 3)), "logits", shape=(2, 4))
    with pytest.raises(ExerciseCheckFailed, match="^Not quite: custom 7"):
        fail("custom {n}", n=7)


def test_the_studio_labels_follow_the_language(monkeypatch):
    pytest.importorskip("ipywidgets")
    from mmgen_lib.widgets import caption_to_image_panel

    monkeypatch.setenv(i18n.ENV, "zh")
    panel = caption_to_image_panel(lambda caption, n, seed: np.zeros((n, 8, 8, 3), "float32"), num_images=1)
    assert panel.controls["seed"].description == i18n.translate("seed") != "seed"
