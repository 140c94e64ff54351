"""Tests of the lesson 05 exercise checks: right answers pass, plausible wrong answers get a helpful message."""

import numpy as np
import pytest
from test_checks import Answers, answer_cases, judge

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson05 import check_masked_attention, check_tensor_fusion, check_tensor_fusion_size


# ----------------------------------------------------------------------------- exercise 1
def test_tensor_fusion_size_accepts_the_product_of_d_plus_one(capsys):
    check_tensor_fusion_size(lambda dims: int(np.prod([d + 1 for d in dims])))
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda dims: int(np.prod(dims)), "use d \\+ 1"),
        (lambda dims: sum(dims), "size of a concatenation"),
        (lambda dims: float(np.prod([d + 1 for d in dims])) + 0.5, "whole number"),
        ("274625", "should be a function"),
        (lambda dims: 1 / 0, "ZeroDivisionError"),
    ],
)
def test_tensor_fusion_size_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseCheckFailed, match=hint):
        check_tensor_fusion_size(wrong)


# ----------------------------------------------------------------------------- exercise 2
def right_tensor_fusion(vectors):
    padded = [np.concatenate([z, np.ones((len(z), 1))], axis=1) for z in vectors]
    out = padded[0]
    for z in padded[1:]:
        out = np.einsum("bi,bj->bij", out, z).reshape(len(z), -1)
    return out


def test_tensor_fusion_accepts_the_batched_outer_product(capsys):
    check_tensor_fusion(right_tensor_fusion)
    assert "Check passed" in capsys.readouterr().out


def no_appended_one(vectors):
    out = vectors[0]
    for z in vectors[1:]:
        out = np.einsum("bi,bj->bij", out, z).reshape(len(z), -1)
    return out


def unflattened(vectors):
    padded = [np.concatenate([z, np.ones((len(z), 1))], axis=1) for z in vectors]
    return np.einsum("bi,bj->bij", padded[0], padded[1]) if len(vectors) == 2 else np.einsum("bi,bj,bk->bijk", *padded)


def reversed_order(vectors):
    return right_tensor_fusion(vectors[::-1])


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (no_appended_one, "append a 1"),
        (unflattened, "reshape to \\(batch, -1\\)"),
        (reversed_order, "another order"),
        (lambda vectors: right_tensor_fusion(vectors) * 2, "differ from the reference"),
        (lambda vectors: None, "returned None"),
    ],
)
def test_tensor_fusion_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseCheckFailed, match=hint):
        check_tensor_fusion(wrong)


# ----------------------------------------------------------------------------- exercise 3
def make_attention(scale=True, mask=True, axis=-1, swap=False):
    def masked_attention(q, k, v, key_mask):
        scores = q @ k.transpose(0, 2, 1)
        if scale:
            scores = scores / np.sqrt(q.shape[-1])
        if mask:
            scores = np.where(key_mask[:, None, :], scores, -np.inf)
        weights = np.exp(scores - scores.max(axis=axis, keepdims=True))
        weights = weights / weights.sum(axis=axis, keepdims=True)
        return (weights, weights @ v) if swap else (weights @ v, weights)

    return masked_attention


def test_masked_attention_accepts_the_reference(capsys):
    check_masked_attention(make_attention())
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the wrong answers divide by zero on purpose
@pytest.mark.parametrize(
    "wrong, hint",
    [
        (make_attention(scale=False), "divide Q K\\^T by sqrt\\(d\\)"),
        (make_attention(mask=False), "masked keys get a non-zero weight"),
        (make_attention(axis=1), "LAST axis"),
        (make_attention(axis=1, mask=False), "over the queries, not over the keys"),
        (make_attention(swap=True), "has shape"),
        (lambda q, k, v, m: make_attention()(q, k, v, m)[0], "should return two things"),
        (
            lambda q, k, v, m: (make_attention()(q, k, v, m)[1] @ (v + 1), make_attention()(q, k, v, m)[1]),
            "output is not",
        ),
    ],
)
def test_masked_attention_rejects_wrong_answers(wrong, hint):
    with pytest.raises(ExerciseCheckFailed, match=hint):
        check_masked_attention(wrong)


def zeroed_after_softmax(q, k, v, key_mask):
    _, weights = make_attention(mask=False)(q, k, v, key_mask)
    weights = np.where(key_mask[:, None, :], weights, 0.0)
    return weights @ v, weights


def divided_by_d(q, k, v, key_mask):
    return make_attention()(q * np.sqrt(q.shape[-1]) / q.shape[-1], k, v, key_mask)


def large_negative_mask(q, k, v, key_mask):
    scores = q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1]) + np.where(key_mask[:, None, :], 0.0, -1e9)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return [np.einsum("bqk,bkd->bqd", weights, v), weights]


def outer_by_loops(vectors):
    rows = []
    for example in zip(*vectors):
        outer = np.array([1.0])
        for z in example:
            outer = np.outer(outer, np.append(z, 1.0)).ravel()
        rows.append(outer)
    return np.stack(rows)


ANSWERS = {
    "check_tensor_fusion_size": Answers(
        run=check_tensor_fusion_size,
        right=lambda dims: int(np.prod([d + 1 for d in dims])),
        alternative=lambda dims: float(np.prod([d + 1 for d in dims])),
        constant=lambda dims: 12,
        wrong_type=lambda dims: [d + 1 for d in dims],
        wrong=(
            (lambda dims: int(np.prod(dims)), "use d \\+ 1"),
            (lambda dims: int(np.prod(dims)) + 1, "to EACH vector"),
            (lambda dims: int(np.prod(dims)) + sum(dims) + 1, "two modalities only"),
            (lambda dims: sum(dims), "size of a concatenation"),
        ),
    ),
    "check_tensor_fusion": Answers(
        run=check_tensor_fusion,
        right=right_tensor_fusion,
        alternative=outer_by_loops,
        constant=lambda vectors: np.ones((4, 12)),
        wrong_type=lambda vectors: [np.concatenate([z, np.ones((len(z), 1))], axis=1) for z in vectors],
        wrong=(
            (no_appended_one, "append a 1"),
            (unflattened, "reshape to \\(batch, -1\\)"),
            (reversed_order, "another order"),
        ),
    ),
    "check_masked_attention": Answers(
        run=check_masked_attention,
        right=make_attention(),
        alternative=large_negative_mask,
        constant=lambda q, k, v, m: (np.zeros((2, 3, 6)), np.full((2, 3, 5), 0.2)),
        wrong_type=lambda q, k, v, m: {
            "output": make_attention()(q, k, v, m)[0],
            "weights": make_attention()(q, k, v, m)[1],
        },
        wrong=(
            (zeroed_after_softmax, "AFTER the softmax"),
            (divided_by_d, "not by d"),
            (make_attention(scale=False), "divide Q K\\^T by sqrt\\(d\\)"),
            (make_attention(axis=1, mask=False), "over the queries"),
        ),
    ),
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)
