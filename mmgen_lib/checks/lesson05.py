"""Self-checks for the exercises of lesson 05 (fusion).

Each check takes the learner's *function*, runs it on its own small cases and compares
with a NumPy reference; common mistakes get a targeted hint.
"""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import as_array, as_int, as_pair, call_answer, expect_function, fail, passed, show
from mmgen_lib.i18n import N_

__all__ = ["check_tensor_fusion_size", "check_tensor_fusion", "check_masked_attention"]


def check_tensor_fusion_size(fn) -> None:
    """Exercise 1: the length of the tensor-fusion vector, prod(d_i + 1)."""
    expect_function(fn, "tensor_fusion_size", "tensor_fusion_size(dims)")
    for dims in ([3, 2], [64, 64], [16, 16, 16], [64, 64, 64], [1, 5], [7, 2, 4]):
        call = f"tensor_fusion_size({dims})"
        got = as_int(call_answer(fn, call, list(dims)), call)
        expected = int(np.prod([d + 1 for d in dims]))
        if got == expected:
            continue
        if got == int(np.prod(dims)):
            fail(
                "{call} is {got}, expected {expected}",
                "each vector gets a 1 appended before the outer product: use d + 1, not d",
                call=call,
                got=got,
                expected=expected,
            )
        if got == int(np.prod(dims)) + 1:
            fail(
                "{call} is {got}, expected {expected}",
                "append a 1 to EACH vector (d_i + 1 per modality), not a single 1 to the result",
                call=call,
                got=got,
                expected=expected,
            )
        if got in (sum(dims), sum(d + 1 for d in dims)):
            fail(
                "{call} is {got}, expected {expected}",
                "that is the size of a concatenation; an outer product multiplies the sizes",
                call=call,
                got=got,
                expected=expected,
            )
        if got == int(np.prod(dims)) + sum(dims) + 1:
            fail(
                "{call} is {got}, expected {expected}",
                "a*b + a + b + 1 is (a + 1)(b + 1) for two modalities "
                "only; with three there are more cross terms: multiply all the (d_i + 1)",
                call=call,
                got=got,
                expected=expected,
            )
        fail(
            "{call} is {got}, expected {expected}",
            "the size is the product of (d_i + 1), computed from `dims`",
            call=call,
            got=got,
            expected=expected,
        )
    passed("tensor_fusion_size gives prod(d_i + 1), e.g. 274,625 for three 64-d modalities")


def _reference_tensor_fusion(vectors):
    batch = len(vectors[0])
    out = np.ones((batch, 1))
    for z in vectors:
        padded = np.concatenate([z, np.ones((batch, 1))], axis=1)
        out = np.einsum("bi,bj->bij", out, padded).reshape(batch, -1)
    return out


def check_tensor_fusion(fn) -> None:
    """Exercise 2: batched tensor fusion of 2 or 3 modalities, in np.outer(a, b).ravel() order."""
    expect_function(fn, "tensor_fusion", "tensor_fusion(vectors)")
    rng = np.random.default_rng(5)
    for dims in ((3, 2), (2, 4, 3)):
        vectors = [rng.normal(size=(4, d)) for d in dims]
        expected = _reference_tensor_fusion(vectors)
        call = f"tensor_fusion(vectors of sizes {dims})"
        got = as_array(
            call_answer(fn, call, [v.copy() for v in vectors]),
            call,
            hint="return ONE array (batch, prod(d_i + 1)), not a list of pieces",
        )
        if got.shape == (4, int(np.prod(dims))):
            fail(
                "{call} has shape {got}, expected {expected}",
                "append a 1 to each vector (np.concatenate with a column of ones) before the outer product",
                call=call,
                got=got.shape,
                expected=expected.shape,
            )
        if got.ndim != 2 and got.size == expected.size:
            fail(
                "{call} has shape {got}, expected {expected}",
                "flatten each example's outer product: reshape to (batch, -1)",
                call=call,
                got=got.shape,
                expected=expected.shape,
            )
        got = as_array(got, call, expected.shape, "one row per example, prod(d_i + 1) numbers per row")
        if np.allclose(got, expected, atol=1e-6):
            continue
        if np.allclose(np.sort(got, axis=1), np.sort(expected, axis=1), atol=1e-6):
            fail(
                "for sizes {dims} the numbers are right but in another order",
                "keep the modalities in the given order, first modality = rows: np.outer(a, b).ravel()",
                dims=dims,
            )
        fail(
            "for sizes {dims} the values differ from the reference by up to {diff}",
            "for one example it is np.outer(np.append(a, 1), np.append(b, 1)).ravel()",
            dims=dims,
            diff=show(np.abs(got - expected).max(), 3),
        )
    passed("tensor_fusion matches the outer products of [z_i; 1] for 2 and 3 modalities")


def _softmax(scores):
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return weights / weights.sum(axis=-1, keepdims=True)


def _reference_attention(q, k, v, key_mask, divisor=None):
    scores = q @ k.transpose(0, 2, 1) / (np.sqrt(q.shape[-1]) if divisor is None else divisor)
    weights = _softmax(np.where(key_mask[:, None, :], scores, -np.inf))
    return weights @ v, weights


def check_masked_attention(fn) -> None:
    """Exercise 3: softmax(QK^T / sqrt(d)) V with masked keys getting weight 0."""
    expect_function(fn, "masked_attention", "masked_attention(q, k, v, key_mask)")
    rng = np.random.default_rng(7)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 6))
    key_mask = np.array([[True, True, False, True, False], [True, False, True, True, True]])
    call = "masked_attention(q, k, v, key_mask)"
    result = as_pair(
        call_answer(fn, call, q.copy(), k.copy(), v.copy(), key_mask.copy()),
        "masked_attention",
        "(output, weights)",
        "end with `return weights @ v, weights`",
    )
    expected_output, expected_weights = _reference_attention(q, k, v, key_mask)
    weights = as_array(
        result[1],
        "weights",
        expected_weights.shape,
        "the second thing returned: one weight per (query, key), (batch, n_queries, n_keys)",
    )
    output = as_array(
        result[0], "output", expected_output.shape, "the first thing returned: weights @ v, (batch, n_queries, d_v)"
    )
    masked = ~np.broadcast_to(key_mask[:, None, :], weights.shape)
    if not np.all(np.isfinite(weights)):
        fail(
            "the weights contain NaN or inf",
            "give masked scores -np.inf (or a large negative number) and "
            "subtract each row's maximum over the LAST axis (the keys) before np.exp",
        )
    if not np.allclose(weights.sum(axis=-1), 1.0, atol=1e-5):
        if np.allclose(weights.sum(axis=1), 1.0, atol=1e-5):
            fail(
                "the weights sum to 1 over the queries, not over the keys",
                "take the softmax over the LAST axis (axis=-1): each query spreads its attention over the keys",
            )
        unmasked = _softmax(q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1]))
        if np.allclose(weights, np.where(masked, 0.0, unmasked), atol=1e-5):
            fail(
                "the masked keys were zeroed AFTER the softmax, so each query's weights no longer sum to 1",
                "mask the scores before the softmax (np.where(key_mask, scores, -np.inf)), or renormalise",
            )
        fail(
            "the weights of each query do not sum to 1 (sums {sums})",
            "divide the exponentials by their sum over the keys (axis=-1, keepdims=True)",
            sums=show(weights.sum(axis=-1)[0], 3),
        )
    if np.abs(weights[masked]).max() > 1e-6:
        fail("masked keys get a non-zero weight", "set the scores of masked keys to -inf (np.where) before the softmax")
    if not np.allclose(weights, expected_weights, atol=1e-5):
        d = q.shape[-1]
        for divisor, hint in (
            (1.0, N_("divide Q K^T by sqrt(d) before the softmax")),
            (float(d), N_("divide by sqrt(d), not by d")),
            (np.sqrt(v.shape[-1]), N_("d is the size of the queries and keys (q.shape[-1]), not of v")),
        ):
            if np.allclose(weights, _reference_attention(q, k, v, key_mask, divisor)[1], atol=1e-5):
                fail(
                    "the weights are those of scores divided by {divisor} instead of sqrt(d) = {root}",
                    hint,
                    divisor=show(divisor),
                    root=show(np.sqrt(d)),
                )
        fail(
            "the weights differ from softmax(QK^T/sqrt(d)) by up to {diff}",
            "scores = q @ k.transpose(0, 2, 1) / np.sqrt(d)",
            diff=show(np.abs(weights - expected_weights).max(), 3),
        )
    if not np.allclose(output, expected_output, atol=1e-5):
        fail("the weights are right but the output is not", "output = weights @ v")
    passed("masked_attention matches softmax(QK^T / sqrt(d)) V and ignores masked keys")
