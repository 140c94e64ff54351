"""Lesson 08's exercise checks accept the reference answers and reject plausible mistakes helpfully."""

from collections import Counter

import numpy as np
import pytest

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson08 import check_clipped_matches, check_distribution, check_teacher_forcing_pair


# ----------------------------------------------------------------------------- exercise 1
def test_teacher_forcing_reference_passes(capsys):
    check_teacher_forcing_pair(lambda ids: (ids[:, :-1], ids[:, 1:]))
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda ids: (ids[:, 1:], ids[:, :-1]), "swapped"),
    (lambda ids: (ids, ids), "nothing was shifted"),
    (lambda ids: (ids[:, :-1], ids[:, :-1]), "targets are"),
    (lambda ids: ids[:, :-1], "should return a tuple"),
    (lambda ids: (ids[:, :-2], ids[:, 2:]), r"shape \(2, 4\)"),
])
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
    return reference_distribution(np.asarray(logits) * temperature ** 2, temperature, top_k)


def forgets_to_renormalise(logits, temperature, top_k=None):
    probs = reference_distribution(logits, temperature, None)
    if top_k is not None:
        kth = np.sort(probs, axis=-1)[:, -top_k][:, None]
        probs = np.where(probs >= kth, probs, 0.0)
    return probs


@pytest.mark.parametrize("wrong, message", [
    (ignores_top_k, "outside the top"),
    (multiplies, "multiplies the logits by the temperature"),
    (forgets_to_renormalise, "sum to"),
    (lambda logits, temperature, top_k=None: np.ones(3), "shape"),
])
def test_distribution_mistakes_are_explained(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_distribution(wrong)


# ----------------------------------------------------------------------------- exercise 3
def reference_clipped(reference, hypothesis, n):
    grams = lambda words: Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))  # noqa: E731
    ref, hyp = grams(reference), grams(hypothesis)
    return sum(min(c, ref[g]) for g, c in hyp.items()), sum(hyp.values())


def test_clipped_matches_reference_passes(capsys):
    check_clipped_matches(reference_clipped)
    assert "Check passed" in capsys.readouterr().out


def unclipped(reference, hypothesis, n):
    grams = lambda words: Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))  # noqa: E731
    ref, hyp = grams(reference), grams(hypothesis)
    return sum(c for g, c in hyp.items() if g in ref), sum(hyp.values())


def total_is_word_count(reference, hypothesis, n):
    return reference_clipped(reference, hypothesis, n)[0], len(hypothesis)


@pytest.mark.parametrize("wrong, message", [
    (unclipped, "not clipped"),
    (total_is_word_count, "the number of words"),
    (lambda reference, hypothesis, n: 0.5, "should return a tuple"),
])
def test_clipped_matches_mistakes_are_explained(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_clipped_matches(wrong)
