"""Tests of the lesson 07 exercise checks: right answers pass, plausible wrong ones are explained."""

import numpy as np
import pytest
from test_checks import Answers, answer_cases, judge

from mmgen_lib.checks import ExerciseCheckFailed, lesson07


def weights(y, fw):
    return np.broadcast_to(1 + fw * (np.max(np.abs(y - 40 / 255), axis=-1, keepdims=True) > 0.1), y.shape)


def right_wmse(y, p, fw):
    w = weights(y, fw)
    return (w * (y - p) ** 2).sum(axis=(1, 2, 3)) / w.sum(axis=(1, 2, 3))


def test_foreground_weighted_mse_right_answer_passes(capsys):
    lesson07.check_foreground_weighted_mse(right_wmse)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda y, p, fw: ((y - p) ** 2).mean(axis=(1, 2, 3)), "plain MSE"),
        (lambda y, p, fw: (weights(y, fw) * (y - p) ** 2).mean(axis=(1, 2, 3)), "number of pixels"),
        (lambda y, p, fw: right_wmse(y, p, fw).mean(), "returned one number"),
        (lambda y, p, fw: right_wmse(y, p, 2 * fw), "expected"),
        (lambda y, p, fw: None, "returned None"),
    ],
)
def test_foreground_weighted_mse_wrong_answers_are_explained(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        lesson07.check_foreground_weighted_mse(wrong)


def right_total(values, s):
    values, s = np.asarray(values), np.asarray(s)
    return np.sum(0.5 * (np.exp(-s) * values + s))


def test_uncertainty_total_right_answer_passes(capsys):
    lesson07.check_uncertainty_weighted_total(right_total)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda v, s: np.sum(0.5 * np.exp(-np.asarray(s)) * np.asarray(v)), "regulariser"),
        (lambda v, s: np.sum(0.5 * (np.exp(np.asarray(s)) * np.asarray(v) + np.asarray(s))), "sign of the exponent"),
        (lambda v, s: 2 * right_total(v, s), "factor 1/2"),
        (lambda v, s: 0.5 * (np.exp(-np.asarray(s)) * np.asarray(v) + np.asarray(s)), "one number"),
    ],
)
def test_uncertainty_total_wrong_answers_are_explained(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        lesson07.check_uncertainty_weighted_total(wrong)


VALUES = np.array([1.2, 4.8, 0.05])


def test_optimal_weights_right_answer_passes(capsys):
    lesson07.check_optimal_weights(np.log(VALUES), 0.5 / VALUES, VALUES)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "s, w, message",
    [
        (VALUES, 0.5 / VALUES, "LOG-variance"),
        (-np.log(VALUES), 0.5 / VALUES, "sign is flipped"),
        (np.log(VALUES), 1 / VALUES, "factor 1/2"),
        (np.log(VALUES), 0.5 * VALUES, "effective_weights"),
        (np.log(VALUES)[:2], 0.5 / VALUES, "shape"),
    ],
)
def test_optimal_weights_wrong_answers_are_explained(s, w, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        lesson07.check_optimal_weights(s, w, VALUES)


def masked_wmse(reduce):
    def wmse(y, p, fw):
        w = np.broadcast_to(1 + fw * (reduce(np.abs(y - 40 / 255), axis=-1, keepdims=True) > 0.1), y.shape)
        return (w * (y - p) ** 2).sum(axis=(1, 2, 3)) / w.sum(axis=(1, 2, 3))

    return wmse


def keras_wmse(y, p, fw):
    import keras

    is_object = keras.ops.cast(keras.ops.max(keras.ops.abs(y - 40 / 255), axis=-1, keepdims=True) > 0.1, "float64")
    w = keras.ops.broadcast_to(1 + fw * is_object, y.shape)
    return keras.ops.sum(w * (y - p) ** 2, axis=(1, 2, 3)) / keras.ops.sum(w, axis=(1, 2, 3))


def optimal_case(answer):
    s, w = answer
    lesson07.check_optimal_weights(s, w, VALUES)


ANSWERS = {
    "check_foreground_weighted_mse": Answers(
        run=lesson07.check_foreground_weighted_mse,
        right=right_wmse,
        alternative=keras_wmse,
        constant=lambda y, p, fw: np.array([0.0098, 0.0107]),
        wrong_type=lambda y, p, fw: tuple(right_wmse(y, p, fw)) + ("per image",),
        wrong=(
            (masked_wmse(np.mean), "averages the channels"),
            (masked_wmse(np.sum), "sums the channel"),
            (masked_wmse(np.min), "ONE channel"),
            (
                lambda y, p, fw: (
                    (
                        np.max(np.abs(y - 40 / 255), -1, keepdims=True) * 0
                        + 1
                        + fw * (np.max(np.abs(y - 40 / 255), -1, keepdims=True) > 0.1) * ((y - p) ** 2)
                    ).sum((1, 2, 3))
                    / (1 + fw * (np.max(np.abs(y - 40 / 255), -1, keepdims=True) > 0.1)).sum((1, 2, 3))
                ),
                "expected|summed once per pixel",
            ),
            (lambda y, p, fw: right_wmse(y, p, fw)[:1], "shape"),
        ),
    ),
    "check_uncertainty_weighted_total": Answers(
        run=lesson07.check_uncertainty_weighted_total,
        right=right_total,
        alternative=lambda v, s: sum(0.5 * (float(np.exp(-si)) * vi + si) for vi, si in zip(v, s)),
        constant=lambda v, s: 1.2741,
        wrong_type=lambda v, s: (right_total(v, s), [0.5, 0.5, 0.5]),
        wrong=(
            (lambda v, s: np.sum(0.5 * np.exp(-np.asarray(s)) * np.asarray(v)), "regulariser"),
            (lambda v, s: np.sum(0.5 * (np.exp(np.asarray(s)) * np.asarray(v) + np.asarray(s))), "sign"),
            (lambda v, s: np.sum(0.5 * np.exp(-np.asarray(s)) * np.asarray(v) + np.asarray(s)), "only the weighted"),
            (lambda v, s: 2 * right_total(v, s), "factor 1/2"),
        ),
    ),
    "check_optimal_weights": Answers(
        run=optimal_case,
        right=(np.log(VALUES), 0.5 / VALUES),
        alternative=(list(np.log(VALUES)), [0.5 * np.exp(-x) for x in np.log(VALUES)]),
        constant=(np.array([0.1823, 1.5686, -2.9957]), np.array([0.4167, 0.1042, 10.0])),
        wrong_type=({"CE": 0.18, "InfoNCE": 1.57, "MSE": -3.0}, 0.5 / VALUES),
        wrong=(
            ((VALUES, 0.5 / VALUES), "LOG-variance"),
            ((-np.log(VALUES), 0.5 / VALUES), "sign is flipped"),
            ((np.log(VALUES), 1 / VALUES), "factor 1/2"),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)
