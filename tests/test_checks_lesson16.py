"""The exercise checks of lesson 16 accept the reference answers and reject plausible wrong ones, without crashing."""

import numpy as np
import pytest
from test_checks import Answers, answer_cases, judge

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson16 import check_build_sequence, check_causal_mask, check_mask_logits


# ----------------------------------------------------------------------------- causal mask
def causal_mask(n):
    return np.tril(np.ones((n, n), bool))


def test_causal_mask_accepts_reference_and_int_version(capsys):
    check_causal_mask(causal_mask)
    check_causal_mask(lambda n: np.tril(np.ones((n, n), int)))
    assert capsys.readouterr().out.count("Check passed") == 2


@pytest.mark.parametrize(
    "answer, match",
    [
        (lambda n: np.triu(np.ones((n, n), bool)), "future"),
        (lambda n: np.tril(np.ones((n, n), bool), -1), "diagonal"),
        (lambda n: np.ones((n, n), bool), "all True"),
        (lambda n: np.eye(n, dtype=bool), "not the causal pattern"),
        (lambda n: np.tril(np.ones((4, 4), bool)), r"shape \(4, 4\), expected \(1, 1\)"),  # a hard-coded constant
        (lambda n: np.tril(np.ones((n, n))) * 2, "only True/False"),
        (lambda n: None, "returned None"),
        (lambda n: "lower triangle", "should be an array"),
        (lambda n: [[1] * (i + 1) for i in range(n)], "cannot be turned into an array|shape"),
        (lambda: np.ones((2, 2)), "raised TypeError"),
        (np.tril(np.ones((4, 4), bool)), "should be a function"),
    ],
)
def test_causal_mask_rejects_wrong_answers(answer, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_causal_mask(answer)


# ----------------------------------------------------------------------------- mixed-order sequence
def build_sequence(tag, segments, is_target):
    tokens = np.concatenate([[tag], *segments])
    masks = [np.zeros(1)] + [np.r_[0.0, np.full(len(s) - 1, float(t))] for s, t in zip(segments, is_target)]
    return tokens, np.concatenate(masks)


def test_build_sequence_accepts_reference(capsys):
    check_build_sequence(build_sequence)
    check_build_sequence(lambda *args: [a.tolist() for a in build_sequence(*args)])  # lists are fine too
    assert capsys.readouterr().out.count("Check passed") == 2


def no_tag(tag, segments, is_target):
    tokens, mask = build_sequence(tag, segments, is_target)
    return tokens[1:], mask[1:]


def with_markers(tag, segments, is_target):
    tokens = np.concatenate([[tag], *segments])
    return tokens, np.concatenate([[0.0]] + [np.full(len(s), float(t)) for s, t in zip(segments, is_target)])


def inverted(tag, segments, is_target):
    tokens, mask = build_sequence(tag, segments, is_target)
    return tokens, 1.0 - mask


def everything_after_the_tag(tag, segments, is_target):
    tokens, mask = build_sequence(tag, segments, is_target)
    return tokens, np.r_[0.0, np.ones(len(tokens) - 1)]


def reversed_order(tag, segments, is_target):
    return build_sequence(tag, segments[::-1], is_target[::-1])


@pytest.mark.parametrize(
    "answer, match",
    [
        (no_tag, "tag is missing"),
        (with_markers, "markers"),
        (inverted, "inverted"),
        (everything_after_the_tag, "expected"),
        (reversed_order, "tokens are"),
        (
            lambda tag, segments, is_target: (
                np.array([20, 1, 5, 6, 2, 30, 40, 41]),
                np.array([0, 0, 0, 0, 0, 0, 1, 1]),
            ),
            "tokens",
        ),  # the first case, hard-coded
        (lambda tag, segments, is_target: np.concatenate([[tag], *segments]), "two arrays"),
        (lambda tag, segments, is_target: None, "returned None"),
        (lambda tag, segments, is_target: (None, None), "is None"),
        (lambda tag, segments: None, "raised TypeError"),
        ("build_sequence", "should be a function"),
    ],
)
def test_build_sequence_rejects_wrong_answers(answer, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_build_sequence(answer)


# ----------------------------------------------------------------------------- masking logits
def mask_logits(logits, allowed):
    return np.where(allowed, logits, -np.inf)


def test_mask_logits_accepts_reference(capsys):
    check_mask_logits(mask_logits)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, match",
    [
        (lambda logits, allowed: np.where(allowed, -np.inf, logits), "blocks the allowed"),
        (lambda logits, allowed: np.where(allowed, logits, 0.0), "e\\^0"),
        (lambda logits, allowed: np.where(allowed, logits, -1.0), "should get -inf"),
        (
            lambda logits, allowed: np.where(
                allowed, np.exp(logits) / np.exp(logits)[:, allowed].sum(-1, keepdims=True), -np.inf
            ),
            "probabilities",
        ),
        (lambda logits, allowed: np.where(allowed, logits + 1.0, -np.inf), "changes the allowed"),
        (lambda logits, allowed: np.full((3, 8), -np.inf), "changes the allowed"),  # a constant
        (lambda logits, allowed: logits[:, allowed], "shape"),
        (lambda logits, allowed: None, "returned None"),
        (lambda logits: logits, "raised TypeError"),
        (3.0, "should be a function"),
    ],
)
def test_mask_logits_rejects_wrong_answers(answer, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_mask_logits(answer)


def causal_mask_by_comparison(n):
    rows, columns = np.indices((n, n))
    return (columns <= rows).astype(int)


def build_sequence_by_loop(tag, segments, is_target):
    tokens, mask = [int(tag)], [0.0]
    for segment, target in zip(segments, is_target):
        for k, token in enumerate(segment):
            tokens.append(int(token))
            mask.append(1.0 if target and k > 0 else 0.0)
    return tokens, mask


ANSWERS = {
    "check_causal_mask": Answers(
        run=check_causal_mask,
        right=causal_mask,
        alternative=causal_mask_by_comparison,
        constant=lambda n: np.tril(np.ones((4, 4), bool)),
        wrong_type=lambda n: "lower triangle",
        wrong=(
            (lambda n: np.triu(np.ones((n, n), bool)), "future"),
            (lambda n: np.tril(np.ones((n, n), bool), -1), "diagonal"),
            (lambda n: np.ones((n, n), bool), "all True"),
            (lambda n: np.eye(n, dtype=bool), "not the causal pattern"),
        ),
    ),
    "check_build_sequence": Answers(
        run=check_build_sequence,
        right=build_sequence,
        alternative=build_sequence_by_loop,
        constant=lambda tag, segments, is_target: (
            np.array([20, 1, 5, 6, 2, 30, 40, 41]),
            np.array([0, 0, 0, 0, 0, 0, 1, 1]),
        ),
        wrong_type=lambda tag, segments, is_target: "tokens",
        wrong=(
            (no_tag, "tag is missing"),
            (with_markers, "markers"),
            (inverted, "inverted"),
            (everything_after_the_tag, "expected"),
            (reversed_order, "tokens are"),
        ),
    ),
    "check_mask_logits": Answers(
        run=check_mask_logits,
        right=mask_logits,
        alternative=lambda logits, allowed: logits + np.where(allowed, 0.0, -np.inf),
        constant=lambda logits, allowed: np.full((3, 8), -np.inf),
        wrong_type=lambda logits, allowed: "logits",
        wrong=(
            (lambda logits, allowed: np.where(allowed, -np.inf, logits), "blocks the allowed"),
            (lambda logits, allowed: np.where(allowed, logits, 0.0), "e\\^0"),
            (lambda logits, allowed: np.where(allowed, logits, -1.0), "should get -inf"),
            (lambda logits, allowed: np.where(allowed, logits + 1.0, -np.inf), "changes the allowed"),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)
