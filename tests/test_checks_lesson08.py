"""Lesson 08's exercise checks accept the reference answers and reject plausible mistakes helpfully."""

from collections import Counter

import numpy as np
import pytest
from test_checks import Answers, answer_cases, judge

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson08 import check_clipped_matches, check_distribution, check_teacher_forcing_pair


# ----------------------------------------------------------------------------- exercise 1
def test_teacher_forcing_reference_passes(capsys):
    check_teacher_forcing_pair(lambda ids: (ids[:, :-1], ids[:, 1:]))
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda ids: (ids[:, 1:], ids[:, :-1]), "swapped"),
        (lambda ids: (ids, ids), "nothing was shifted"),
        (lambda ids: (ids[:, :-1], ids[:, :-1]), "targets are"),
        (lambda ids: ids[:, :-1], "should return two things"),
        (lambda ids: (ids[:, :-2], ids[:, 2:]), r"shape \(2, 4\)"),
    ],
)
def test_teacher_forcing_mistakes_are_explained(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_teacher_forcing_pair(wrong)


# ----------------------------------------------------------------------------- exercise 2
def reference_distribution(logits, temperature, top_k=None):
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    if top_k is not None:
        kth = np.sort(scaled, axis=-1)[:, -top_k][:, None]
        scaled = np.where(scaled >= kth, scaled, -np.inf)
    weights = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


def test_distribution_reference_passes(capsys):
    check_distribution(reference_distribution)
    assert "Check passed" in capsys.readouterr().out


def ignores_top_k(logits, temperature, top_k=None):
    return reference_distribution(logits, temperature, None)


def multiplies(logits, temperature, top_k=None):
    return reference_distribution(np.asarray(logits) * temperature**2, temperature, top_k)


def forgets_to_renormalise(logits, temperature, top_k=None):
    probs = reference_distribution(logits, temperature, None)
    if top_k is not None:
        kth = np.sort(probs, axis=-1)[:, -top_k][:, None]
        probs = np.where(probs >= kth, probs, 0.0)
    return probs


@pytest.mark.parametrize(
    "wrong, message",
    [
        (ignores_top_k, "outside the top"),
        (multiplies, "multiplies the logits by the temperature"),
        (forgets_to_renormalise, "sum to"),
        (lambda logits, temperature, top_k=None: np.ones(3), "shape"),
    ],
)
def test_distribution_mistakes_are_explained(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_distribution(wrong)


# ----------------------------------------------------------------------------- exercise 3
def reference_clipped(reference, hypothesis, n):
    grams = lambda words: Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))  # noqa: E731
    ref, hyp = grams(reference), grams(hypothesis)
    return sum(min(c, ref[g]) for g, c in hyp.items()), sum(hyp.values())


def test_clipped_matches_reference_passes(capsys):
    check_clipped_matches(reference_clipped)
    assert "Check passed" in capsys.readouterr().out


def unclipped(reference, hypothesis, n):
    grams = lambda words: Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))  # noqa: E731
    ref, hyp = grams(reference), grams(hypothesis)
    return sum(c for g, c in hyp.items() if g in ref), sum(hyp.values())


def total_is_word_count(reference, hypothesis, n):
    return reference_clipped(reference, hypothesis, n)[0], len(hypothesis)


@pytest.mark.parametrize(
    "wrong, message",
    [
        (unclipped, "not clipped"),
        (total_is_word_count, "the number of words"),
        (lambda reference, hypothesis, n: 0.5, "should return two things"),
    ],
)
def test_clipped_matches_mistakes_are_explained(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_clipped_matches(wrong)


def softmax_keras(logits, temperature, top_k=None):
    import keras

    scaled = keras.ops.convert_to_tensor(np.asarray(logits) / temperature)
    if top_k is not None:
        kth = keras.ops.expand_dims(keras.ops.top_k(scaled, top_k)[0][:, -1], -1)
        scaled = keras.ops.where(scaled >= kth, scaled, -np.inf)
    return keras.ops.softmax(scaled, axis=-1)


def clipped_by_dict(reference, hypothesis, n):
    ref, hyp = {}, {}
    for words, counts in ((reference, ref), (hypothesis, hyp)):
        for i in range(len(words) - n + 1):
            counts[" ".join(words[i : i + n])] = counts.get(" ".join(words[i : i + n]), 0) + 1
    return [sum(min(c, ref.get(g, 0)) for g, c in hyp.items()), sum(hyp.values())]


ANSWERS = {
    "check_teacher_forcing_pair": Answers(
        run=check_teacher_forcing_pair,
        right=lambda ids: (ids[:, :-1], ids[:, 1:]),
        alternative=lambda ids: [[row[:-1] for row in ids.tolist()], [row[1:] for row in ids.tolist()]],
        constant=lambda ids: (
            np.array([[1, 5, 6, 7, 2], [1, 8, 9, 2, 0]]),
            np.array([[5, 6, 7, 2, 0], [8, 9, 2, 0, 0]]),
        ),
        wrong_type=lambda ids: {"inputs": ids[:, :-1], "targets": ids[:, 1:]},
        wrong=(
            (lambda ids: (ids[:, 1:], ids[:, :-1]), "swapped"),
            (lambda ids: (ids, ids), "nothing was shifted"),
            (lambda ids: (ids[:, :-1], ids[:, :-1]), "targets are"),
        ),
    ),
    "check_distribution": Answers(
        run=check_distribution,
        right=reference_distribution,
        alternative=softmax_keras,
        constant=lambda logits, temperature, top_k=None: np.full((2, 5), 0.2),
        wrong_type=lambda logits, temperature, top_k=None: (reference_distribution(logits, temperature, top_k), top_k),
        wrong=(
            (ignores_top_k, "outside the top"),
            (multiplies, "multiplies the logits by the temperature"),
            (forgets_to_renormalise, "not renormalised"),
            (lambda logits, temperature, top_k=None: np.asarray(logits) / temperature, "scaled logits"),
            (lambda logits, temperature, top_k=None: np.exp(np.asarray(logits) / temperature), "sum to"),
        ),
    ),
    "check_clipped_matches": Answers(
        run=check_clipped_matches,
        right=reference_clipped,
        alternative=clipped_by_dict,
        constant=lambda reference, hypothesis, n: (2, 7),
        wrong_type=lambda reference, hypothesis, n: (
            reference_clipped(reference, hypothesis, n)[0] / max(reference_clipped(reference, hypothesis, n)[1], 1)
        ),
        wrong=(
            (unclipped, "not clipped"),
            (total_is_word_count, "the number of words"),
            (lambda r, h, n: reference_clipped(r, h, n)[::-1], "swapped"),
            (lambda r, h, n: tuple(str(v) for v in reference_clipped(r, h, n)), "whole number"),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)
