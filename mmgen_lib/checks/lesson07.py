"""Exercise checks of lesson 07 (the multimodal loss)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import as_array, as_number, call_answer, expect_function, fail, passed, show
from mmgen_lib.i18n import N_

__all__ = ["check_foreground_weighted_mse", "check_uncertainty_weighted_total", "check_optimal_weights"]

BACKGROUND = 40 / 255


def _toy_images(seed=0):
    """Two 32x32 images and a noisy 'prediction'. Besides flat squares, each image holds regions
    that tell the foreground rules apart: a soft (anti-aliased) edge, a pixel strip where ONE
    channel differs from the background by 0.24 (max > 0.1 but the channel mean < 0.1), one
    where three channels differ by 0.05 each (sum > 0.1, max < 0.1) and one where two differ by
    0.08 (L2 norm > 0.1, max < 0.1)."""
    rng = np.random.default_rng(seed)
    y_true = np.full((2, 32, 32, 3), BACKGROUND)
    y_true[0, 4:9, 4:9] = (0.9, 0.2, 0.1)
    y_true[1, 10:24, 12:20] = (0.1, 0.3, 0.9)
    y_true[1, 2:6, 24:30] = (0.6, 0.6, 0.6)  # every channel differs
    y_true[1, 10:24, 20] = BACKGROUND + 0.5 * (np.array([0.1, 0.3, 0.9]) - BACKGROUND)  # soft edge
    for image in range(2):
        y_true[image, 28:30, 2:12] = BACKGROUND + np.array([0.24, 0.0, 0.0])
        y_true[image, 28:30, 14:22] = BACKGROUND + np.array([0.05, 0.05, 0.05])
        y_true[image, 28:30, 24:30] = BACKGROUND + np.array([0.08, 0.08, 0.0])
    y_true = np.roll(y_true, shift=seed, axis=2)
    y_pred = np.clip(y_true + rng.normal(0, 0.1, y_true.shape), 0, 1)
    y_pred[0, 4:9, 4 + seed : 9 + seed] = BACKGROUND  # the small object is missed entirely
    return y_true, y_pred


def _weights(y_true, foreground_weight, reduce=np.max):
    difference = np.abs(y_true - BACKGROUND)
    if reduce is np.linalg.norm:
        return 1 + foreground_weight * (np.linalg.norm(difference, axis=-1, keepdims=True) > 0.1)
    return 1 + foreground_weight * (reduce(difference, axis=-1, keepdims=True) > 0.1)


def _weighted(y_true, y_pred, w):
    w = np.broadcast_to(w, y_true.shape)
    return (w * (y_true - y_pred) ** 2).sum(axis=(1, 2, 3)) / w.sum(axis=(1, 2, 3))


_MASK_MISTAKES = (
    (
        np.mean,
        N_(
            "the foreground test averages the channels; a pixel where only ONE channel differs from 40/255 "
            "by more than 0.1 must count as object too"
        ),
        N_("use the LARGEST channel difference: np.max(..., axis=-1)"),
    ),
    (
        np.sum,
        N_("the foreground test sums the channel differences; it should compare the LARGEST one with 0.1"),
        N_("use np.max(np.abs(y_true - 40 / 255), axis=-1) > 0.1"),
    ),
    (
        np.linalg.norm,
        N_(
            "the foreground test uses the length (L2 norm) of the colour difference; it should compare "
            "the LARGEST channel difference with 0.1"
        ),
        N_("use np.max(np.abs(y_true - 40 / 255), axis=-1) > 0.1"),
    ),
    (
        np.min,
        N_("the foreground test needs every channel to differ; ONE channel differing by more than 0.1 is enough"),
        N_("use np.max, not np.min, over the channels"),
    ),
)


def check_foreground_weighted_mse(foreground_weighted_mse) -> None:
    """Exercise 1: per-image foreground-weighted MSE, ``sum(w (y - y_hat)^2) / sum(w)``."""
    expect_function(
        foreground_weighted_mse, "foreground_weighted_mse", "foreground_weighted_mse(y_true, y_pred, foreground_weight)"
    )
    for seed, foreground_weight in ((0, 4.0), (3, 9.0)):
        y_true, y_pred = _toy_images(seed)
        w = _weights(y_true, foreground_weight)
        expected = _weighted(y_true, y_pred, w)
        call = f"foreground_weighted_mse(y_true, y_pred, {foreground_weight})"
        got = as_array(
            call_answer(foreground_weighted_mse, call, y_true.copy(), y_pred.copy(), foreground_weight),
            call,
            hint="return one value per image: an array of shape (n_images,)",
        )
        if got.shape == ():
            fail(
                "{call} returned one number; the function should return one value per image (shape (2,))",
                "sum over axes (1, 2, 3) only, not over the batch",
                call=call,
            )
        got = as_array(got, call, (2,), "one value per image").astype(np.float64)
        if np.allclose(got, expected, rtol=1e-6):
            continue
        plain = ((y_true - y_pred) ** 2).mean(axis=(1, 2, 3))
        if np.allclose(got, plain):
            fail(
                "this is the plain MSE: the foreground weights are missing",
                "w = 1 + foreground_weight where the largest channel differs from 40/255 by more than 0.1",
            )
        if np.allclose(got, (np.broadcast_to(w, y_true.shape) * (y_true - y_pred) ** 2).mean(axis=(1, 2, 3))):
            fail(
                "you divided by the number of pixels; divide by the sum of the weights, sum(w)",
                "then the value does not grow just because the weights are larger",
            )
        if np.allclose(got, (w[..., 0] * ((y_true - y_pred) ** 2).sum(-1)).sum(axis=(1, 2)) / w.sum(axis=(1, 2, 3))):
            fail(
                "the weights are summed once per pixel but the errors once per channel",
                "broadcast the (n, 32, 32, 1) weights over RGB before summing them: np.broadcast_to(w, y_true.shape)",
            )
        for reduce, message, hint in _MASK_MISTAKES:
            if np.allclose(got, _weighted(y_true, y_pred, _weights(y_true, foreground_weight, reduce)), rtol=1e-6):
                fail(message, hint)
        fail(
            "{call} is {got}, expected {expected}",
            "compare each pixel's largest channel |y - 40/255| with 0.1, and broadcast the (n, 32, 32, 1) weights "
            "over RGB",
            call=call,
            got=show(got, 5),
            expected=show(expected, 5),
        )
    passed("weighted MSE per image matches for two sets of images and weights")


def check_uncertainty_weighted_total(uncertainty_weighted_total) -> None:
    """Exercise 2: ``sum_i 0.5 * (exp(-s_i) * L_i + s_i)``."""
    expect_function(
        uncertainty_weighted_total,
        "uncertainty_weighted_total",
        "uncertainty_weighted_total(term_values, log_variances)",
    )
    for values, s in (([1.2, 4.8, 0.05], [0.3, 1.1, -2.0]), ([0.7, 2.5], [-0.4, 0.9])):
        values, s = np.array(values), np.array(s)
        expected = float(np.sum(0.5 * (np.exp(-s) * values + s)))
        call = f"uncertainty_weighted_total({values.tolist()}, {s.tolist()})"
        got = as_number(
            call_answer(uncertainty_weighted_total, call, list(values), list(s)),
            call,
            "return the total, one number: sum over the terms",
        )
        if np.isclose(got, expected, rtol=1e-6):
            continue
        if np.isclose(got, float(np.sum(0.5 * np.exp(-s) * values))):
            fail(
                "the regulariser + s_i is missing: without it every weight would shrink to 0",
                "add s_i inside the bracket: 0.5 * (exp(-s_i) * L_i + s_i)",
            )
        if np.isclose(got, float(np.sum(0.5 * (np.exp(s) * values + s)))):
            fail("the sign of the exponent is wrong: a large variance s_i must give a SMALL weight", "use exp(-s_i)")
        if np.isclose(got, 2 * expected):
            fail("you forgot the factor 1/2", "0.5 * (exp(-s_i) * L_i + s_i)")
        if np.isclose(got, float(np.sum(0.5 * np.exp(-s) * values + s))):
            fail("the 1/2 multiplies only the weighted term; it applies to s_i too", "0.5 * (exp(-s_i) * L_i + s_i)")
        fail(
            "{call} is {got}, expected {expected}",
            "compute it from the arguments: sum of 0.5 * (exp(-s_i) * L_i + s_i)",
            call=call,
            got=show(got, 6),
            expected=show(expected, 6),
        )
    passed("uncertainty-weighted totals match for two sets of terms")


def check_optimal_weights(optimal_log_variances, effective_weights, term_values) -> None:
    """Exercise 3: ``s_i* = log L_i`` and effective weights ``0.5 * exp(-s_i*) = 1 / (2 L_i)``."""
    term_values = np.asarray(term_values, dtype=np.float64)
    s = as_array(
        optimal_log_variances, "optimal_log_variances", term_values.shape, "one log-variance per term value"
    ).astype(np.float64)
    if np.allclose(s, term_values):
        fail(
            "`optimal_log_variances` equals the term values; s_i is a LOG-variance",
            "set the derivative of 0.5 * (exp(-s) * L + s) to zero: exp(-s) * L = 1, so s = log(L)",
        )
    if np.allclose(s, -np.log(term_values)):
        fail("the sign is flipped: s_i = log(L_i), not -log(L_i)", "exp(-s) * L = 1 gives s = log(L)")
    if not np.allclose(s, np.log(term_values), rtol=1e-6):
        fail(
            "`optimal_log_variances` is {got}, but log(term_values) differs from it by up to {diff}",
            "compute it with np.log(term_values), not typed-in numbers",
            got=show(s),
            diff=show(np.abs(s - np.log(term_values)).max(), 2),
        )
    w = as_array(effective_weights, "effective_weights", term_values.shape, "one weight per term").astype(np.float64)
    expected = 0.5 / term_values
    if np.allclose(w, 2 * expected):
        fail("you forgot the factor 1/2 in the effective weights", "effective weight = 0.5 * exp(-s_i)")
    if not np.allclose(w, expected, rtol=1e-6):
        fail(
            "`effective_weights` is {got}, but 0.5 * exp(-s_i) differs from it by up to {diff}",
            "effective weight = 0.5 * exp(-s_i), computed from your log-variances",
            got=show(w),
            diff=show(np.abs(w - expected).max(), 2),
        )
    passed("effective weights {weights}: each term divided by twice its own size", weights=show(expected, 3))
