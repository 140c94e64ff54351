"""The generic exercise-check helpers give friendly messages, never bare AssertionErrors."""

import numpy as np
import pytest

from mmgen_lib.checks import ExerciseCheckFailed, as_int, check_close, check_equal, check_shape, check_type, passed


def test_passed_prints_a_success_line(capsys):
    passed("exercise 1")
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
    with pytest.raises(ExerciseCheckFailed, match=r"differs .* by up to 0\.5 \(at index \(1,\)"):
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


def test_as_int_accepts_numbers_and_explains_other_answers():
    assert as_int(np.int64(7), "f()") == 7
    with pytest.raises(ExerciseCheckFailed, match=r"f\(\) returned None"):
        as_int(None, "f()")
    with pytest.raises(ExerciseCheckFailed, match=r"should return an int, got 'many'"):
        as_int("many", "f()")
