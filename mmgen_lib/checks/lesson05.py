"""Self-checks for the exercises of lesson 05 (fusion).

Each check takes the learner's *function*, runs it on its own small cases and compares
with a NumPy reference; common mistakes get a targeted hint.
"""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import check_shape, fail, passed

__all__ = ["check_tensor_fusion_size", "check_tensor_fusion", "check_masked_attention"]


def _call(fn, name, *args):
    if not callable(fn):
        fail(f"`{name}` should be a function, but it is a {type(fn).__name__}")
    try:
        result = fn(*args)
    except Exception as error:  # noqa: BLE001 - show the learner what went wrong in their code
        fail(f"`{name}` raised {type(error).__name__}: {error}")
    if result is None:
        fail(f"`{name}` returned None", "did you forget the `return` statement?")
    return result


def check_tensor_fusion_size(fn) -> None:
    """Exercise 1: the length of the tensor-fusion vector, prod(d_i + 1)."""
    for dims in ([3, 2], [64, 64], [16, 16, 16], [64, 64, 64], [1, 5]):
        got = _call(fn, "tensor_fusion_size", list(dims))
        expected = int(np.prod([d + 1 for d in dims]))
        if isinstance(got, bool) or not isinstance(got, (int, np.integer)):
            fail(f"tensor_fusion_size({dims}) returned {got!r} of type {type(got).__name__}, expected an int",
                 "wrap the result in int(...)")
        if got == expected:
            continue
        if got == int(np.prod(dims)):
            fail(f"tensor_fusion_size({dims}) is {got}, expected {expected}",
                 "each vector gets a 1 appended before the outer product: use d + 1, not d")
        if got in (sum(dims), sum(d + 1 for d in dims)):
            fail(f"tensor_fusion_size({dims}) is {got}, expected {expected}",
                 "that is the size of a concatenation; an outer product multiplies the sizes")
        fail(f"tensor_fusion_size({dims}) is {got}, expected {expected}", "the size is the product of (d_i + 1)")
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
    rng = np.random.default_rng(5)
    for dims in ((3, 2), (2, 4, 3)):
        vectors = [rng.normal(size=(4, d)) for d in dims]
        expected = _reference_tensor_fusion(vectors)
        got = np.asarray(_call(fn, "tensor_fusion", [v.copy() for v in vectors]))
        without_one = int(np.prod(dims))
        if got.ndim == 2 and got.shape == (4, without_one):
            fail(f"for dims {dims} the output has shape {got.shape}, expected {expected.shape}",
                 "append a 1 to each vector (np.concatenate with a column of ones) before the outer product")
        if got.ndim != 2 and got.size == expected.size:
            fail(f"for dims {dims} the output has shape {got.shape}, expected {expected.shape}",
                 "flatten each example's outer product: reshape to (batch, -1)")
        got = check_shape(got, expected.shape, "tensor_fusion(...)",
                          "one row per example, prod(d_i + 1) numbers per row")
        if np.allclose(got, expected, atol=1e-6):
            continue
        if np.allclose(np.sort(got, axis=1), np.sort(expected, axis=1), atol=1e-6):
            fail(f"for dims {dims} the numbers are right but in another order",
                 "keep the modalities in the given order, first modality = rows: np.outer(a, b).ravel()")
        fail(f"for dims {dims} the values differ from the reference by up to {np.abs(got - expected).max():.3g}",
             "for one example it is np.outer(np.append(a, 1), np.append(b, 1)).ravel()")
    passed("tensor_fusion matches the outer products of [z_i; 1] for 2 and 3 modalities")


def _reference_attention(q, k, v, key_mask, scale=True):
    scores = q @ k.transpose(0, 2, 1)
    if scale:
        scores = scores / np.sqrt(q.shape[-1])
    scores = np.where(key_mask[:, None, :], scores, -np.inf)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)
    return weights @ v, weights


def check_masked_attention(fn) -> None:
    """Exercise 3: softmax(QK^T / sqrt(d)) V with masked keys getting weight 0."""
    rng = np.random.default_rng(7)
    q, k, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 6))
    key_mask = np.array([[True, True, False, True, False], [True, False, True, True, True]])
    result = _call(fn, "masked_attention", q.copy(), k.copy(), v.copy(), key_mask.copy())
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail("masked_attention should return a pair (output, weights)", "end with `return weights @ v, weights`")
    expected_output, expected_weights = _reference_attention(q, k, v, key_mask)
    weights = check_shape(result[1], expected_weights.shape, "weights",
                          "one weight per (query, key): (batch, n_queries, n_keys)")
    output = check_shape(result[0], expected_output.shape, "output", "weights @ v: (batch, n_queries, d_v)")
    if not np.all(np.isfinite(weights)):
        fail("the weights contain NaN or inf", "take the softmax over the LAST axis (the keys), give masked "
             "scores -np.inf, and subtract the row maximum before np.exp")
    if not np.allclose(weights.sum(axis=-1), 1.0, atol=1e-5):
        fail("the weights of each query do not sum to 1", "take the softmax over the LAST axis (the keys)")
    if np.abs(weights[~np.broadcast_to(key_mask[:, None, :], weights.shape)]).max() > 1e-6:
        fail("masked keys get a non-zero weight", "set the scores of masked keys to -inf (np.where) before the softmax")
    if not np.allclose(weights, expected_weights, atol=1e-5):
        if np.allclose(weights, _reference_attention(q, k, v, key_mask, scale=False)[1], atol=1e-5):
            fail("the weights are those of unscaled scores", "divide Q K^T by sqrt(d) before the softmax")
        fail(f"the weights differ from softmax(QK^T/sqrt(d)) by up to {np.abs(weights - expected_weights).max():.3g}",
             "scores = q @ k.transpose(0, 2, 1) / np.sqrt(d)")
    if not np.allclose(output, expected_output, atol=1e-5):
        fail("the weights are right but the output is not", "output = weights @ v")
    passed("masked_attention matches softmax(QK^T / sqrt(d)) V and ignores masked keys")
