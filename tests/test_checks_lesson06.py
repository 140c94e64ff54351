"""Tests of the lesson 06 exercise checks: right answers pass, plausible wrong ones are explained."""

import numpy as np
import pytest
from test_checks import Answers, answer_cases, judge

from mmgen_lib.checks import ExerciseCheckFailed, lesson06


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


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda q, g: q @ g.T, "raw dot products"),
        (lambda q, g: unit(g) @ unit(q).T, "shape \\(7, 4\\)"),
        (lambda q, g: unit(q, 0) @ unit(g, 0).T, "differ|\\[-1, 1\\]"),
        (lambda q, g: None, "returned None"),
        ("not a function", "should be a function"),
    ],
)
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


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda a, b, t: info_nce_parts(a, b, t)[0], "only one direction"),
        (lambda a, b, t: sum(info_nce_parts(a, b, 1.0)) / 2, "temperature is missing"),
        (lambda a, b, t: sum(info_nce_parts(a, b, t)), "instead of averaging"),
        (lambda a, b, t: sum(info_nce_parts(a, b, t, normalise=False)) / 2, "not normalised"),
        (lambda a, b, t: np.ones(6), "one number"),
        (lambda a, b, t: sum(info_nce_parts(a, b, t)) / 3, "expected"),
    ],
)
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


@pytest.mark.parametrize(
    "relevance, chance, message",
    [
        (match([0, 1, 2, 3, 4]), 0.1, "all five attributes"),
        (match([4]), 0.1, "only one attribute"),
        (match([2, 3]), 0.1, "entries of `relevance` are wrong"),
        (match([2, 4]), 0.5, "`chance_r1` is 0.5,"),
        (match([2, 4]), None, "`chance_r1` is None"),
        (match([2, 4])[:10], 0.1, "shape"),
    ],
)
def test_audio_text_relevance_wrong_answers_are_explained(relevance, chance, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        lesson06.check_audio_text_relevance(relevance, chance, LABELS)


def loop_cosine(q, g):
    return [[float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b))) for b in g] for a in q]


def cross_entropy_info_nce(a, b, t):
    import keras

    logits = unit(a) @ unit(b).T / t
    targets = np.arange(len(a))
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    return (ce(targets, logits) + ce(targets, logits.T)) / 2  # a Keras scalar tensor


RIGHT = match([2, 4])
CHANCE = RIGHT.mean(axis=1).mean()


def relevance_case(answer):
    relevance, chance = answer
    lesson06.check_audio_text_relevance(relevance, chance, LABELS)


ANSWERS = {
    "check_cosine_matrix": Answers(
        run=lesson06.check_cosine_matrix,
        right=right_cosine,
        alternative=loop_cosine,
        constant=lambda q, g: np.eye(4, 7),
        wrong_type=lambda q, g: {"cosine": right_cosine(q, g)},
        wrong=(
            (lambda q, g: q @ g.T, "raw dot products"),
            (lambda q, g: unit(g) @ unit(q).T, "shape \\(7, 4\\)"),
            (lambda q, g: unit(q, 0) @ unit(g, 0).T, "differ|\\[-1, 1\\]"),
        ),
    ),
    "check_info_nce": Answers(
        run=lesson06.check_info_nce,
        right=lambda a, b, t: sum(info_nce_parts(a, b, t)) / 2,
        alternative=cross_entropy_info_nce,
        constant=lambda a, b, t: 3.56395,  # the old check's one batch, as its failure message printed it
        wrong_type=lambda a, b, t: np.stack(info_nce_parts(a, b, t)),
        wrong=(
            (lambda a, b, t: info_nce_parts(a, b, t)[0], "only one direction"),
            (lambda a, b, t: info_nce_parts(a, b, t)[1], "only one direction"),
            (lambda a, b, t: sum(info_nce_parts(a, b, 1.0)) / 2, "temperature is missing"),
            (lambda a, b, t: sum(info_nce_parts(a, b, 1 / t)) / 2, "multiplied by the temperature"),
            (lambda a, b, t: sum(info_nce_parts(a, b, t)), "instead of averaging"),
            (lambda a, b, t: sum(info_nce_parts(a, b, t, normalise=False)) / 2, "not normalised"),
            (lambda a, b, t: np.ones(len(a)), "one number"),
        ),
    ),
    "check_audio_text_relevance": Answers(
        run=relevance_case,
        right=(RIGHT, CHANCE),
        alternative=(RIGHT.astype(int), np.float32(CHANCE)),
        constant=(RIGHT, round(float(CHANCE), 4)),
        wrong_type=(RIGHT, RIGHT.mean(axis=1)),  # the per-query chance levels, not their mean
        wrong=(
            ((match([0, 1, 2, 3, 4]), CHANCE), "all five attributes"),
            ((match([2]), CHANCE), "only one attribute"),
            ((RIGHT, 1 / len(LABELS)), "ONE particular caption"),
            ((RIGHT, (CHANCE, 1.0)), "one number"),
            ((RIGHT, {"r1": CHANCE}), "one number"),
            ((RIGHT.tolist()[:5], CHANCE), "shape"),
            ((RIGHT * 2, CHANCE), "boolean"),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)


def test_a_rounded_chance_level_shows_how_far_off_it_is():
    with pytest.raises(ExerciseCheckFailed, match=r"differs from it by \d") as info:
        lesson06.check_audio_text_relevance(RIGHT, round(float(CHANCE), 4), LABELS)
    assert "expected" not in str(info.value)
