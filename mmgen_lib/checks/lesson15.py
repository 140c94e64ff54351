"""Exercise checks of lesson 15 (tokenizers for images and sound)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import (
    as_array,
    call_answer,
    describe,
    expect_function,
    fail,
    passed,
    show,
)

__all__ = ["check_nearest_code", "check_straight_through", "check_perplexity"]


def check_nearest_code(nearest_code) -> None:
    """Exercise 1: ``nearest_code(z, codebook)`` -> the index of the nearest codebook row for each z."""
    expect_function(nearest_code, "nearest_code", "nearest_code(z, codebook)")
    rng = np.random.default_rng(15)
    codebook = rng.normal(size=(6, 3)) * rng.uniform(0.3, 3.0, size=(6, 1))  # rows of very different lengths
    z = rng.normal(size=(10, 3))
    expected = ((z[:, None, :] - codebook[None]) ** 2).sum(-1).argmin(-1)
    got = as_array(call_answer(nearest_code, "nearest_code(z, codebook)", z, codebook), "nearest_code(z, codebook)")
    if got.shape == (10, 6):
        fail(
            "the result has one value per (vector, code) pair, shape (10, 6); expected one index per vector, (10,)",
            "take the argmin over the codes (the last axis) of the distances",
        )
    if got.shape != (10,):
        fail("the result has shape {shape}; expected (10,): one code index per row of z", shape=tuple(got.shape))
    if not np.issubdtype(got.dtype, np.integer):
        fail("the result should hold integer indices, its dtype is {dtype}", "argmin returns integers", dtype=got.dtype)
    distances = ((z[:, None, :] - codebook[None]) ** 2).sum(-1)
    if np.array_equal(got, distances.argmax(-1)):
        fail("you picked the *farthest* code", "argmin, not argmax")
    if np.array_equal(got, (z @ codebook.T).argmax(-1)) and not np.array_equal(got, expected):
        fail(
            "you picked the code with the largest dot product: that ignores the codes' lengths",
            "the distance is ||z||^2 - 2 z.e + ||e||^2; the ||e||^2 term matters",
        )
    if not np.array_equal(got, expected):
        wrong = int(np.flatnonzero(got != expected)[0])
        fail(
            "row {row} of z is nearest to code {code}, your answer says {got}",
            "compute the squared Euclidean distance from every z to every codebook row, then argmin over codes",
            row=wrong,
            code=show(expected[wrong]),
            got=show(got[wrong]),
        )
    own = as_array(
        call_answer(nearest_code, "nearest_code(codebook, codebook)", codebook[[4, 0, 2]], codebook),
        "nearest_code(codebook, codebook)",
    )
    if own.shape != (3,) or not np.array_equal(own, [4, 0, 2]):
        fail("a codebook entry should be its own nearest code")
    passed("nearest-code lookup matches the squared-distance argmin (also for codes of different lengths)")


def check_straight_through(straight_through) -> None:
    """Exercise 2: ``straight_through(z, codes)`` -> forward the codes, backward the identity to z."""
    expect_function(straight_through, "straight_through", "straight_through(z, codes)")
    import tensorflow as tf

    rng = np.random.default_rng(16)
    z = tf.Variable(rng.normal(size=(4, 3)).astype("float32"))
    codes = tf.constant(rng.normal(size=(4, 3)).astype("float32"))
    weights = rng.normal(size=(4, 3)).astype("float32")
    with tf.GradientTape() as tape:
        out = call_answer(straight_through, "straight_through(z, codes)", z, codes)
        try:
            loss = tf.reduce_sum(tf.convert_to_tensor(out, tf.float32) * weights)
        except Exception as error:  # noqa: BLE001 - wrong type or shape: say what was expected
            fail(
                "straight_through(z, codes) should return a tensor like z, shape (4, 3); got {got} ({error})",
                got=describe(out),
                error=type(error).__name__,
            )
    values = np.asarray(out)
    if values.shape != (4, 3):
        fail("the output has shape {shape}; expected (4, 3), the shape of z", shape=tuple(values.shape))
    gradient = tape.gradient(loss, z)
    if np.allclose(values, z.numpy(), atol=1e-6) and not np.allclose(z.numpy(), codes.numpy()):
        fail(
            "the forward value is z itself: the decoder would never see the codes",
            "forward must equal the codes: z + stop_gradient(codes - z)",
        )
    if not np.allclose(values, codes.numpy(), atol=1e-5):
        fail("the forward value is not the codes", "z + stop_gradient(codes - z) equals the codes in value")
    if gradient is None or np.allclose(gradient, 0.0):
        fail(
            "no gradient reaches z: this is what the argmin does on its own",
            "let z through the graph: z + stop_gradient(codes - z), with codes - z inside stop_gradient",
        )
    if not np.allclose(gradient, weights, atol=1e-5):
        fail(
            "the gradient reaching z is not the output's gradient copied unchanged",
            "only (codes - z) goes inside stop_gradient; z itself stays outside, once",
        )
    passed("forward = the codes, backward = the identity (the gradient is copied to z)")


def check_perplexity(perplexity) -> None:
    """Exercise 3: ``perplexity(counts)`` -> exp of the entropy of the code-usage distribution."""
    expect_function(perplexity, "perplexity", "perplexity(counts)")
    counts = np.array([10, 0, 30, 0, 60, 0, 0, 0])
    p = counts[counts > 0] / counts.sum()
    expected = float(np.exp(-np.sum(p * np.log(p))))
    got = as_array(call_answer(perplexity, "perplexity(counts)", counts), "perplexity(counts)")
    if got.size != 1:
        fail("the result has {n} values; expected one number", "sum over the codes before taking exp", n=got.size)
    value = float(got.reshape(()))
    if not np.isfinite(value):
        fail(
            "the result is NaN or infinite: the unused codes (count 0) give 0 * log(0)",
            "keep only the codes with a count above 0 before taking logs",
        )
    entropy = -np.sum(p * np.log(p))
    if np.isclose(value, entropy, rtol=1e-4):
        fail("{got} is the entropy; the perplexity is exp(entropy)", got=show(value))
    mixed = (2**entropy, np.exp(-np.sum(p * np.log2(p))))  # natural-log entropy with 2**, log2 entropy with exp
    if any(np.isclose(value, m, rtol=1e-4) for m in mixed):
        fail("the result mixes log base 2 and exp", "use natural logs with exp (or log2 with 2**)")
    if not np.isclose(value, expected, rtol=1e-4):
        fail(
            "for counts {counts} the perplexity is {expected}, got {got}",
            "p = counts / counts.sum(); perplexity = exp(-sum p log p) over the used codes",
            counts=show(counts.tolist()),
            expected=show(expected),
            got=show(value),
        )
    uniform = as_array(
        call_answer(perplexity, "perplexity(np.full(16, 5))", np.full(16, 5)), "perplexity(np.full(16, 5))"
    )
    uniform = float(uniform.reshape(-1)[0]) if uniform.size == 1 else float("nan")
    if not np.isclose(uniform, 16.0, rtol=1e-4):
        fail("16 equally used codes should give perplexity 16, got {got}", got=show(uniform))
    passed("perplexity = exp(entropy): 16 for 16 equally used codes, fewer when usage is uneven")
