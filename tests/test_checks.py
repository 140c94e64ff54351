"""The generic exercise-check helpers, and the answer tables every lesson's checks are judged by.

Each ``tests/test_checks_lessonNN.py`` holds ``ANSWERS``: for every public check of
``mmgen_lib.checks.lessonNN``, the reference answer, one valid alternative solution, a
hard-coded constant, an answer of the wrong type, and the plausible mistakes with the words
their message must contain. :func:`answer_cases` turns a table into test cases and
:func:`judge` runs one: valid answers must print "Check passed", every other answer must be
refused with :class:`ExerciseCheckFailed` — a check that crashes (any other exception) or
lets the answer through fails the test. ``test_every_check_has_a_full_answer_table`` makes
sure no check is left out.
"""

from __future__ import annotations

import ast
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from mmgen_lib.checks import (
    ExerciseCheckFailed,
    as_array,
    as_int,
    as_number,
    as_pair,
    call_answer,
    check_close,
    check_equal,
    check_shape,
    check_type,
    describe,
    expect_function,
    passed,
    show,
)

ROOT = Path(__file__).resolve().parent.parent
VALID_KINDS = ("right", "alternative")
WRONG_TYPE = r"should (be|return|hold)|has shape|is None|cannot be turned"


@dataclass(frozen=True)
class Answers:
    """How one check must treat each kind of answer. ``run(answer)`` calls the check."""

    run: Callable[[Any], None]
    right: Any
    alternative: Any
    constant: Any
    wrong_type: Any
    wrong: tuple = ()  # (answer, regex the message must contain) for each plausible mistake
    wrong_type_message: str = WRONG_TYPE
    extra_valid: tuple = field(default=())  # more valid answers (e.g. another return container)


def answer_cases(table: dict[str, Answers]) -> list:
    """One ``pytest.param(name, kind, answer, match)`` per answer in ``table``."""
    cases = []
    for name, answers in table.items():
        cases.append(pytest.param(name, "right", answers.right, None, id=f"{name}-right"))
        cases.append(pytest.param(name, "alternative", answers.alternative, None, id=f"{name}-alternative"))
        for k, answer in enumerate(answers.extra_valid):
            cases.append(pytest.param(name, "alternative", answer, None, id=f"{name}-alternative{k + 2}"))
        cases.append(pytest.param(name, "constant", answers.constant, None, id=f"{name}-constant"))
        cases.append(
            pytest.param(name, "wrong_type", answers.wrong_type, answers.wrong_type_message, id=f"{name}-wrong_type")
        )
        for k, (answer, match) in enumerate(answers.wrong):
            cases.append(pytest.param(name, "wrong", answer, match, id=f"{name}-wrong{k}"))
    return cases


def judge(answers: Answers, kind: str, answer, match, capsys) -> None:
    """Valid answers pass with "Check passed"; every other answer is refused with a message."""
    if kind in VALID_KINDS:
        answers.run(answer)
        assert "Check passed" in capsys.readouterr().out
        return
    with pytest.raises(ExerciseCheckFailed, match=match) as info:
        answers.run(answer)
    message = str(info.value)
    assert not re.search(r"np\.(float|int|uint|bool_?)\d*\(", message), f"NumPy wrappers in the message: {message}"


def outcome(answers: Answers, kind: str, answer) -> str:
    """'passed', 'refused' or 'crashed' (for counting a table's mutation score)."""
    try:
        answers.run(answer)
    except ExerciseCheckFailed:
        return "refused"
    except Exception:  # noqa: BLE001 - counting crashes is the point
        return "crashed"
    return "passed"


# ------------------------------------------------------------------ every check has a table
CHECK_MODULES = sorted((ROOT / "mmgen_lib" / "checks").glob("lesson[0-9][0-9].py"))


def _public_checks(module: Path) -> list[str]:
    for node in ast.parse(module.read_text()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "__all__" for t in node.targets):
            return [element.value for element in node.value.elts]
    return []


@pytest.mark.parametrize("module", CHECK_MODULES, ids=[m.stem for m in CHECK_MODULES])
def test_every_check_has_a_full_answer_table(module):
    tests = importlib.import_module(f"test_checks_{module.stem}")
    table = getattr(tests, "ANSWERS", {})
    missing = [name for name in _public_checks(module) if name not in table]
    assert not missing, f"tests/test_checks_{module.stem}.py: no ANSWERS entry for {missing}"
    for name, answers in table.items():
        assert answers.wrong, f"{name}: the table lists no plausible mistakes"
        assert answers.alternative is not answers.right, f"{name}: the alternative solution is the reference itself"
        assert answers.constant is not None and answers.wrong_type is not None, (
            f"{name}: constant or wrong type missing"
        )


def test_outcome_tells_passed_refused_and_crashed():
    def check(answer):
        if answer == "crash":
            raise TypeError("the check itself broke")
        if answer != "right":
            raise ExerciseCheckFailed("wrong")

    answers = Answers(run=check, right="right", alternative="right", constant="c", wrong_type="crash")
    assert [outcome(answers, "", a) for a in ("right", "c", "crash")] == ["passed", "refused", "crashed"]


# ------------------------------------------------------------------ the generic helpers
def test_passed_prints_a_success_line(capsys):
    passed("exercise {n}", n=1)
    assert capsys.readouterr().out.strip() == "Check passed: exercise 1"


def test_check_shape_accepts_wildcards_and_rejects_wrong_shapes():
    check_shape(np.zeros((4, 3)), (None, 3))
    with pytest.raises(ExerciseCheckFailed, match=r"has shape \(4, 3\), expected \(3, 4\)"):
        check_shape(np.zeros((4, 3)), (3, 4), name="x")


def test_none_and_functions_get_a_hint():
    with pytest.raises(ExerciseCheckFailed, match="is None.*\n.*Hint: did you forget to `return`"):
        check_shape(None, (3,), name="result")
    with pytest.raises(ExerciseCheckFailed, match="is a function"):
        check_shape(len, (3,), name="f")


def test_check_close_reports_the_worst_entry():
    check_close([1.0, 2.0], [1.0, 2.0 + 1e-7])
    with pytest.raises(
        ExerciseCheckFailed, match=r"differs .* by up to 0\.5 \(at index \(1,\): got 2\.5, expected 2\.0\)"
    ):
        check_close([1.0, 2.5], [1.0, 2.0])
    with pytest.raises(ExerciseCheckFailed, match="NaN"):
        check_close([np.nan, 1.0], [1.0, 1.0])


def test_check_equal_and_type():
    check_equal("red", "red")
    with pytest.raises(ExerciseCheckFailed, match="is 'blue', expected 'red'"):
        check_equal("blue", "red", name="color")
    with pytest.raises(ExerciseCheckFailed, match="should be a dict, but it is a list"):
        check_type([], dict)


def test_failure_is_an_assertion_subclass_with_a_friendly_prefix():
    with pytest.raises(AssertionError) as info:
        check_equal(1, 2)
    assert type(info.value) is ExerciseCheckFailed and str(info.value).startswith("Not quite:")


def test_as_int_accepts_whole_numbers_and_explains_other_answers():
    assert as_int(np.int64(7), "f()") == 7 and as_int(7.0, "f()") == 7
    with pytest.raises(ExerciseCheckFailed, match=r"f\(\) returned None"):
        as_int(None, "f()")
    with pytest.raises(
        ExerciseCheckFailed, match=r"should return a whole number \(int\), but it returned the string 'many'"
    ):
        as_int("many", "f()")
    with pytest.raises(ExerciseCheckFailed, match=r"but it returned the number 7.5"):
        as_int(7.5, "f()")


def test_show_prints_plain_numbers_never_numpy_wrappers():
    assert show(np.float64(0.16764)) == "0.1676" and show(np.int64(3)) == "3" and show(np.bool_(True)) == "True"
    assert show(np.array([0.123456, 2.0])) == "[0.1235, 2.0]" and show((np.float32(1.5), 2)) == "(1.5, 2)"
    assert show({"a": np.float64(0.5)}) == "{'a': 0.5}" and show(0.1676, digits=6) == "0.1676"


@pytest.mark.parametrize(
    "value, words",
    [
        (None, "None"),
        (np.zeros(1000, bool), "array of shape (1000,) and dtype bool"),
        ((1, 2), "tuple of 2"),
        ({"x": 1}, "dict with keys ['x']"),
        ("3", "string '3'"),
        (np.float64(2.5), "number 2.5"),
        (len, "function"),
    ],
)
def test_describe_names_the_kind_of_answer(value, words):
    assert words in describe(value)


def test_as_number_accepts_scalars_and_explains_arrays_tuples_and_dicts():
    assert as_number(np.float32(0.5), "x") == 0.5 and as_number(np.array(2), "x") == 2.0
    for value, words in (
        (np.zeros(10, bool), "array of shape"),
        ((1, 2), "tuple"),
        ({"a": 1}, "dict"),
        (True, "boolean"),
        (None, "is None"),
        ("0.3", "string"),
    ):
        with pytest.raises(
            ExerciseCheckFailed, match=f"`x` (should be one number, but it is|is None).*{words}|{words}"
        ):
            as_number(value, "x")


def test_as_array_and_as_pair_explain_dicts_ragged_lists_and_single_values():
    with pytest.raises(ExerciseCheckFailed, match="should be an array, but it is a dict"):
        as_array({"a": 1}, "x")
    with pytest.raises(ExerciseCheckFailed, match="cannot be turned into an array"):
        as_array([[1, 2], [3]], "x")
    with pytest.raises(ExerciseCheckFailed, match=r"should hold numbers"):
        as_array(np.array(["a"]), "x")
    assert as_pair([1, 2], "f", "(a, b)") == (1, 2)
    with pytest.raises(ExerciseCheckFailed, match=r"should return two things \(a, b\), but it returned an array"):
        as_pair(np.zeros(3), "f", "(a, b)")


def test_expect_function_and_call_answer_explain_values_errors_and_none():
    with pytest.raises(ExerciseCheckFailed, match="should be a function, but it is the number 3"):
        expect_function(3, "f", "f(x)")
    with pytest.raises(ExerciseCheckFailed, match=r"f\(0\) raised ZeroDivisionError") as info:
        call_answer(lambda x: 1 / x, "f(0)", 0)
    assert isinstance(info.value.__cause__, ZeroDivisionError)
    with pytest.raises(ExerciseCheckFailed, match=r"f\(0\) returned None"):
        call_answer(lambda x: None, "f(0)", 0)


def test_messages_are_single_format_strings():
    """Every fail/passed call in the checks passes a literal template (translatable, its values passed
    as fields), never an f-string or a concatenation built elsewhere."""
    offenders = []
    for module in [ROOT / "mmgen_lib" / "checks" / "__init__.py", *CHECK_MODULES]:
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("fail", "_fail", "passed"):
                for text in node.args[:2]:
                    literal = isinstance(text, ast.Constant) and isinstance(text.value, (str, type(None)))
                    # a helper's caller-given hint, or a literal template taken from a table of mistakes
                    caller_hint = (
                        isinstance(text, ast.Name) and text.id in ("hint", "message") or isinstance(text, ast.BoolOp)
                    )
                    if not (literal or caller_hint):
                        offenders.append(f"{module.name}:{node.lineno}")
    assert not offenders, f"fail/passed called with a non-literal message: {offenders}"
