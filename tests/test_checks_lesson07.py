"""Tests of the lesson 07 exercise checks: right answers pass, plausible wrong ones are explained."""

import numpy as np
import pytest

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks import lesson07


def weights(y, fw):
    return np.broadcast_to(1 + fw * (np.max(np.abs(y - 40 / 255), axis=-1, keepdims=True) > 0.1), y.shape)


def right_wmse(y, p, fw):
    w = weights(y, fw)
    return (w * (y - p) ** 2).sum(axis=(1, 2, 3)) / w.sum(axis=(1, 2, 3))


def test_foreground_weighted_mse_right_answer_passes(capsys):
    lesson07.check_foreground_weighted_mse(right_wmse)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda y, p, fw: ((y - p) ** 2).mean(axis=(1, 2, 3)), "plain MSE"),
    (lambda y, p, fw: (weights(y, fw) * (y - p) ** 2).mean(axis=(1, 2, 3)), "number of pixels"),
    (lambda y, p, fw: right_wmse(y, p, fw).mean(), "one number"),
    (lambda y, p, fw: right_wmse(y, p, 2 * fw), "expected"),
    (lambda y, p, fw: None, "returned None"),
])
def test_foreground_weighted_mse_wrong_answers_are_explained(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        lesson07.check_foreground_weighted_mse(wrong)


def right_total(values, s):
    values, s = np.asarray(values), np.asarray(s)
    return np.sum(0.5 * (np.exp(-s) * values + s))


def test_uncertainty_total_right_answer_passes(capsys):
    lesson07.check_uncertainty_weighted_total(right_total)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda v, s: np.sum(0.5 * np.exp(-np.asarray(s)) * np.asarray(v)), "regulariser"),
    (lambda v, s: np.sum(0.5 * (np.exp(np.asarray(s)) * np.asarray(v) + np.asarray(s))), "sign of the exponent"),
    (lambda v, s: 2 * right_total(v, s), "factor 1/2"),
    (lambda v, s: 0.5 * (np.exp(-np.asarray(s)) * np.asarray(v) + np.asarray(s)), "one number"),
])
def test_uncertainty_total_wrong_answers_are_explained(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        lesson07.check_uncertainty_weighted_total(wrong)


VALUES = np.array([1.2, 4.8, 0.05])


def test_optimal_weights_right_answer_passes(capsys):
    lesson07.check_optimal_weights(np.log(VALUES), 0.5 / VALUES, VALUES)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize("s, w, message", [
    (VALUES, 0.5 / VALUES, "LOG-variance"),
    (-np.log(VALUES), 0.5 / VALUES, "sign is flipped"),
    (np.log(VALUES), 1 / VALUES, "factor 1/2"),
    (np.log(VALUES), 0.5 * VALUES, "effective_weights"),
    (np.log(VALUES)[:2], 0.5 / VALUES, "shape"),
])
def test_optimal_weights_wrong_answers_are_explained(s, w, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        lesson07.check_optimal_weights(s, w, VALUES)
