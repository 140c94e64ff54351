"""Tests of the lesson 06 exercise checks: right answers pass, plausible wrong ones are explained."""

import numpy as np
import pytest

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks import lesson06


def unit(x, axis=1):
    return x / np.linalg.norm(x, axis=axis, keepdims=True)


def log_softmax(x, axis):
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def right_cosine(q, g):
    return unit(q) @ unit(g).T


def test_cosine_matrix_right_answer_passes(capsys):
    lesson06.check_cosine_matrix(right_cosine)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda q, g: q @ g.T, "raw dot products"),
    (lambda q, g: unit(g) @ unit(q).T, "shape \\(7, 4\\)"),
    (lambda q, g: unit(q, 0) @ unit(g, 0).T, "differ|\\[-1, 1\\]"),
    (lambda q, g: None, "returned None"),
    ("not a function", "should be a function"),
])
def test_cosine_matrix_wrong_answers_are_explained(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        lesson06.check_cosine_matrix(wrong)


def info_nce_parts(a, b, t, normalise=True):
    if normalise:
        a, b = unit(a), unit(b)
    logits = a @ b.T / t
    return -np.diag(log_softmax(logits, 1)).mean(), -np.diag(log_softmax(logits, 0)).mean()


def test_info_nce_right_answer_passes(capsys):
    lesson06.check_info_nce(lambda a, b, t: sum(info_nce_parts(a, b, t)) / 2)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda a, b, t: info_nce_parts(a, b, t)[0], "only one direction"),
    (lambda a, b, t: sum(info_nce_parts(a, b, 1.0)) / 2, "temperature is missing"),
    (lambda a, b, t: sum(info_nce_parts(a, b, t)), "instead of averaging"),
    (lambda a, b, t: sum(info_nce_parts(a, b, t, normalise=False)) / 2, "not normalised"),
    (lambda a, b, t: np.ones(6), "one number"),
    (lambda a, b, t: sum(info_nce_parts(a, b, t)) / 3, "expected"),
])
def test_info_nce_wrong_answers_are_explained(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        lesson06.check_info_nce(wrong)


LABELS = np.random.default_rng(0).integers(0, 2, size=(60, 5))  # columns in ATTRIBUTE_NAMES order


def match(cols):
    return np.all(LABELS[:, None, cols] == LABELS[None, :, cols], axis=-1)


def test_audio_text_relevance_right_answer_passes(capsys):
    relevance = match([2, 4])  # size, material
    lesson06.check_audio_text_relevance(relevance, relevance.mean(axis=1).mean(), LABELS)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize("relevance, chance, message", [
    (match([0, 1, 2, 3, 4]), 0.1, "all five attributes"),
    (match([4]), 0.1, "only one attribute"),
    (match([2, 3]), 0.1, "entries of `relevance` are wrong"),
    (match([2, 4]), 0.5, "`chance_r1` is 0.5"),
    (match([2, 4]), None, "`chance_r1` is None"),
    (match([2, 4])[:10], 0.1, "shape"),
])
def test_audio_text_relevance_wrong_answers_are_explained(relevance, chance, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        lesson06.check_audio_text_relevance(relevance, chance, LABELS)
