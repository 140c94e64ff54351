"""The exercise checks of lesson 15 accept the reference answers and reject plausible wrong ones."""

import numpy as np
import pytest
import tensorflow as tf
from test_checks import Answers, answer_cases, judge

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson15 import (
    check_nearest_code,
    check_perplexity,
    check_straight_through,
)


def nearest_code(z, codebook):
    return ((z[:, None, :] - codebook[None]) ** 2).sum(-1).argmin(-1)


def straight_through(z, codes):
    return z + tf.stop_gradient(codes - z)


def perplexity(counts):
    p = counts[counts > 0] / counts.sum()
    return np.exp(-np.sum(p * np.log(p)))


@pytest.mark.parametrize(
    "check, answer",
    [
        (check_nearest_code, nearest_code),
        (check_straight_through, straight_through),
        (check_perplexity, perplexity),
    ],
)
def test_checks_accept_the_reference_answers(check, answer, capsys):
    check(answer)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, match",
    [
        (lambda z, c: ((z[:, None] - c[None]) ** 2).sum(-1).argmax(-1), "farthest"),
        (lambda z, c: (z @ c.T).argmax(-1), "dot product"),
        (lambda z, c: ((z[:, None] - c[None]) ** 2).sum(-1), "one index per vector"),
        (lambda z, c: ((z[:, None] - c[None]) ** 2).sum(-1).argmin(0), "shape"),
        (lambda z, c: np.zeros(len(z), int), "nearest to code"),
        (lambda z, c: np.abs(z[:, None] - c[None]).sum(-1).argmin(-1).astype(float), "integer"),
        (lambda z, c: None, "returned None"),
        (lambda z, c: "code 3", "should be an array"),
        (lambda z: 0, "raised TypeError"),
        (3, "should be a function"),
    ],
)
def test_nearest_code_rejects_wrong_answers(answer, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_nearest_code(answer)


@pytest.mark.parametrize(
    "answer, match",
    [
        (lambda z, c: c, "no gradient"),
        (lambda z, c: z, "forward value is z"),
        (lambda z, c: tf.stop_gradient(z + c) - tf.stop_gradient(z), "no gradient"),
        (lambda z, c: 2 * z + tf.stop_gradient(c - 2 * z), "copied unchanged"),
        (lambda z, c: c[:2], "shape"),
        (lambda z, c: None, "returned None"),
        (lambda z, c: "codes", "tensor like z"),
        (lambda z, c: np.zeros((4, 3)), "forward value is not the codes"),
        ("z", "should be a function"),
    ],
)
def test_straight_through_rejects_wrong_answers(answer, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_straight_through(answer)


def entropy(counts):
    p = counts[counts > 0] / counts.sum()
    return -np.sum(p * np.log(p))


@pytest.mark.parametrize(
    "answer, match",
    [
        (entropy, "is the entropy"),
        (lambda counts: np.exp(-np.sum(counts / counts.sum() * np.log(counts / counts.sum()))), "NaN"),
        (lambda counts: np.exp(-np.sum(np.log(counts[counts > 0] / counts.sum()))), "perplexity is"),
        (lambda counts: 2 ** entropy(counts), "log base 2"),
        (lambda counts: np.exp(-np.sum((lambda p: p * np.log2(p))(counts[counts > 0] / counts.sum()))), "log base 2"),
        (lambda counts: float((counts > 0).sum()), "perplexity is"),
        (lambda counts: 3.0, "perplexity is"),
        (lambda counts: counts / counts.sum(), "one number"),
        (lambda counts: None, "returned None"),
        (lambda counts: "high", "should be an array"),
        (lambda: 1.0, "raised TypeError"),
    ],
)
def test_perplexity_rejects_wrong_answers(answer, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_perplexity(answer)


def nearest_code_expanded(z, codebook):
    distances = (z**2).sum(1)[:, None] - 2 * z @ codebook.T + (codebook**2).sum(1)[None]
    return distances.argmin(axis=1).tolist()


def perplexity_base2(counts):
    p = counts[counts > 0] / counts.sum()
    return float(2 ** (-np.sum(p * np.log2(p))))


ANSWERS = {
    "check_nearest_code": Answers(
        run=check_nearest_code,
        right=nearest_code,
        alternative=nearest_code_expanded,
        constant=lambda z, c: np.array([0, 1, 2, 3, 4, 5, 0, 1, 2, 3]),
        wrong_type=lambda z, c: "code 3",
        wrong=(
            (lambda z, c: ((z[:, None] - c[None]) ** 2).sum(-1).argmax(-1), "farthest"),
            (lambda z, c: (z @ c.T).argmax(-1), "dot product"),
            (lambda z, c: ((z[:, None] - c[None]) ** 2).sum(-1), "one index per vector"),
            (lambda z, c: np.abs(z[:, None] - c[None]).sum(-1).argmin(-1).astype(float), "integer"),
        ),
    ),
    "check_straight_through": Answers(
        run=check_straight_through,
        right=straight_through,
        alternative=lambda z, codes: tf.stop_gradient(codes) + (z - tf.stop_gradient(z)),
        constant=lambda z, codes: tf.zeros((4, 3)),
        wrong_type=lambda z, codes: "codes",
        wrong=(
            (lambda z, c: c, "no gradient"),
            (lambda z, c: z, "forward value is z"),
            (lambda z, c: 2 * z + tf.stop_gradient(c - 2 * z), "copied unchanged"),
            (lambda z, c: c[:2], "shape"),
        ),
    ),
    "check_perplexity": Answers(
        run=check_perplexity,
        right=perplexity,
        alternative=perplexity_base2,
        constant=lambda counts: 2.5,
        wrong_type=lambda counts: "high",
        wrong=(
            (entropy, "is the entropy"),
            (lambda counts: 2 ** entropy(counts), "log base 2"),
            (lambda counts: float((counts > 0).sum()), "perplexity is"),
            (lambda counts: counts / counts.sum(), "one number"),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)
