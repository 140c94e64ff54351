"""Tests of the lesson 02 exercise checks: right answers pass, plausible wrong ones are explained."""

import numpy as np
import pytest
from test_checks import Answers, answer_cases, judge

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson02 import check_masked_mean, check_most_similar, check_text_encoder_params


def right_masked_mean(sequence, mask):
    weights = np.asarray(mask, np.float32)[..., None]
    return (sequence * weights).sum(1) / weights.sum(1)


def test_masked_mean_accepts_the_right_answer(capsys):
    check_masked_mean(right_masked_mean)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda s, m: s.mean(1), "plain mean"),
        (lambda s, m: (s * m[..., None]).sum(1) / s.shape[1], "divide by the full length"),
        (lambda s, m: s.mean(2), "shape"),
        (lambda s, m: None, "None"),
    ],
)
def test_masked_mean_rejects_wrong_answers(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_masked_mean(wrong)


def right_params(kind, vocab_size, embed_dim, units):
    blocks, biases = (4, 1) if kind == "lstm" else (3, 2)
    return vocab_size * embed_dim + blocks * (embed_dim * units + units * units + biases * units)


def test_text_encoder_params_accepts_the_right_answer(capsys):
    check_text_encoder_params(right_params)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda k, v, e, u: right_params(k, v, e, u) - v * e, "embedding table is missing"),
        (lambda k, v, e, u: right_params(k, v, e, u) - (3 * u if k == "gru" else 0), "one bias too few"),
        (lambda k, v, e, u: right_params("lstm", v, e, u), "LSTM formula"),
        (lambda k, v, e, u: 0, "expected"),
        ("not a function", "should be a function"),
    ],
)
def test_text_encoder_params_rejects_wrong_answers(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_text_encoder_params(wrong)


VOCABULARY = ["<pad>", "big", "large", "red", "wooden", "wood", "small"]
TABLE = np.array([[0.1, 0.0], [1.0, 0.1], [0.9, 0.12], [0.0, 5.0], [-1.0, 0.2], [-0.9, 0.25], [3.0, -2.0]])


def right_most_similar(table, vocabulary, word, k=3):
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    scores = unit @ unit[vocabulary.index(word)]
    return [vocabulary[i] for i in np.argsort(-scores) if vocabulary[i] != word][:k]


def test_most_similar_accepts_the_right_answer(capsys):
    check_most_similar(right_most_similar, TABLE, VOCABULARY)
    assert "Check passed" in capsys.readouterr().out


def by_dot_product(table, vocabulary, word, k=3):
    scores = table @ table[vocabulary.index(word)]
    return [vocabulary[i] for i in np.argsort(-scores) if vocabulary[i] != word][:k]


def including_itself(table, vocabulary, word, k=3):
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    return [vocabulary[i] for i in np.argsort(-(unit @ unit[vocabulary.index(word)]))][:k]


@pytest.mark.parametrize(
    "wrong, message",
    [
        (by_dot_product, "dot product"),
        (including_itself, "itself"),
        (lambda t, v, w, k=3: right_most_similar(t, v, w, k)[:2], "exactly k words"),
    ],
)
def test_most_similar_rejects_wrong_answers(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_most_similar(wrong, TABLE, VOCABULARY)


def sorted_most_similar(table, vocabulary, word, k=3):
    query = np.asarray(table[vocabulary.index(word)])
    cosine = {
        w: float(np.dot(row, query) / (np.linalg.norm(row) * np.linalg.norm(query)))
        for w, row in zip(vocabulary, table)
        if w != word
    }
    return tuple(sorted(cosine, key=cosine.get, reverse=True)[:k])


ANSWERS = {
    "check_masked_mean": Answers(
        run=check_masked_mean,
        right=right_masked_mean,
        alternative=lambda s, m: np.stack([s[i][np.asarray(m[i], bool)].mean(axis=0) for i in range(len(s))]).tolist(),
        constant=lambda s, m: np.zeros((3, 4)),
        wrong_type=lambda s, m: {"mean": right_masked_mean(s, m)},
        wrong=(
            (lambda s, m: s.mean(1), "plain mean"),
            (lambda s, m: (s * m[..., None]).sum(1) / s.shape[1], "divide by the full length"),
            (lambda s, m: (s * m[..., None]).sum(1), "differs"),
            (lambda s, m: s.mean(2), "shape"),
        ),
    ),
    "check_text_encoder_params": Answers(
        run=check_text_encoder_params,
        right=right_params,
        alternative=lambda k, v, e, u: float(
            v * e + (4 if k == "lstm" else 3) * (e * u + u * u) + (4 if k == "lstm" else 6) * u
        ),
        constant=lambda k, v, e, u: 30_016,
        wrong_type=lambda k, v, e, u: str(right_params(k, v, e, u)),
        wrong=(
            (lambda k, v, e, u: right_params(k, v, e, u) - v * e, "embedding table is missing"),
            (lambda k, v, e, u: right_params(k, v, e, u) - (3 * u if k == "gru" else 0), "one bias too few"),
            (lambda k, v, e, u: right_params("lstm", v, e, u), "LSTM formula"),
            (lambda k, v, e, u: right_params(k, v, e, u) + 0.5, "whole number"),
        ),
    ),
    "check_most_similar": Answers(
        run=lambda answer: check_most_similar(answer, TABLE, VOCABULARY),
        right=right_most_similar,
        alternative=sorted_most_similar,
        constant=lambda t, v, w, k=3: {
            "big": ["large", "<pad>", "small"],
            "red": ["wood", "wooden", "large"],
            "wooden": ["wood", "red", "small"],
        }[w],  # right for TABLE, not for others
        wrong_type=lambda t, v, w, k=3: "large",
        wrong=(
            (by_dot_product, "dot product"),
            (including_itself, "itself"),
            (lambda t, v, w, k=3: right_most_similar(t, v, w, k)[::-1], "least similar"),
            (lambda t, v, w, k=3: right_most_similar(t, v, w, k)[:2], "exactly k words"),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)
