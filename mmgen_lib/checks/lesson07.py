"""Exercise checks of lesson 07 (the multimodal loss)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import check_shape, fail, passed

__all__ = ["check_foreground_weighted_mse", "check_uncertainty_weighted_total", "check_optimal_weights"]

BACKGROUND = 40 / 255


def _toy_images(seed=0):
    """Two 32x32 images: background plus a small bright square, and a noisy 'prediction'."""
    rng = np.random.default_rng(seed)
    y_true = np.full((2, 32, 32, 3), BACKGROUND)
    y_true[0, 4:9, 4:9] = (0.9, 0.2, 0.1)
    y_true[1, 10:24, 12:20] = (0.1, 0.3, 0.9)
    y_pred = np.clip(y_true + rng.normal(0, 0.1, y_true.shape), 0, 1)
    y_pred[0, 4:9, 4:9] = BACKGROUND  # the small object is missed entirely
    return y_true, y_pred


def _weights(y_true, foreground_weight):
    return 1 + foreground_weight * (np.max(np.abs(y_true - BACKGROUND), axis=-1, keepdims=True) > 0.1)


def check_foreground_weighted_mse(foreground_weighted_mse) -> None:
    """Exercise 1: per-image foreground-weighted MSE, ``sum(w (y - y_hat)^2) / sum(w)``."""
    if not callable(foreground_weighted_mse):
        fail("`foreground_weighted_mse` should be a function")
    y_true, y_pred = _toy_images()
    w = np.broadcast_to(_weights(y_true, 4.0), y_true.shape)
    expected = (w * (y_true - y_pred) ** 2).sum(axis=(1, 2, 3)) / w.sum(axis=(1, 2, 3))
    got = foreground_weighted_mse(y_true, y_pred, 4.0)
    if got is None:
        fail("`foreground_weighted_mse` returned None", "`return` one value per image")
    got = np.asarray(got, dtype=np.float64)
    if got.shape == ():
        fail("you returned one number; the function should return one value per image (shape (2,))",
             "sum over axes (1, 2, 3) only, not over the batch")
    got = check_shape(got, (2,), "foreground_weighted_mse(...)", "one value per image")
    plain = ((y_true - y_pred) ** 2).mean(axis=(1, 2, 3))
    if np.allclose(got, plain):
        fail("this is the plain MSE: the foreground weights are missing",
             "w = 1 + foreground_weight where the largest channel differs from 40/255 by more than 0.1")
    if np.allclose(got, (w * (y_true - y_pred) ** 2).mean(axis=(1, 2, 3))):
        fail("you divided by the number of pixels; divide by the sum of the weights, sum(w)",
             "then the value does not grow just because the weights are larger")
    if not np.allclose(got, expected, rtol=1e-6):
        fail(f"got {np.round(got, 5)}, expected {np.round(expected, 5)}",
             "compare each pixel's largest channel |y - 40/255| with 0.1, and broadcast the (n, 32, 32, 1) weights over RGB")
    passed(f"weighted MSE per image {np.round(expected, 4)} (plain MSE would be {np.round(plain, 4)})")


def check_uncertainty_weighted_total(uncertainty_weighted_total) -> None:
    """Exercise 2: ``sum_i 0.5 * (exp(-s_i) * L_i + s_i)``."""
    if not callable(uncertainty_weighted_total):
        fail("`uncertainty_weighted_total` should be a function")
    values, s = np.array([1.2, 4.8, 0.05]), np.array([0.3, 1.1, -2.0])
    expected = float(np.sum(0.5 * (np.exp(-s) * values + s)))
    got = uncertainty_weighted_total(list(values), list(s))
    if got is None:
        fail("`uncertainty_weighted_total` returned None", "`return` the total")
    got = np.asarray(got, dtype=np.float64)
    if got.shape != ():
        fail(f"return one number (the total), not shape {got.shape}", "sum over the terms")
    got = float(got)
    if np.isclose(got, float(np.sum(0.5 * np.exp(-s) * values))):
        fail("the regulariser + s_i is missing: without it every weight would shrink to 0",
             "add s_i inside the bracket: 0.5 * (exp(-s_i) * L_i + s_i)")
    if np.isclose(got, float(np.sum(0.5 * (np.exp(s) * values + s)))):
        fail("the sign of the exponent is wrong: a large variance s_i must give a SMALL weight",
             "use exp(-s_i)")
    if np.isclose(got, 2 * expected):
        fail("you forgot the factor 1/2")
    if not np.isclose(got, expected, rtol=1e-6):
        fail(f"got {got:.5f}, expected {expected:.5f}")
    passed(f"uncertainty-weighted total = {expected:.4f}")


def check_optimal_weights(optimal_log_variances, effective_weights, term_values) -> None:
    """Exercise 3: ``s_i* = log L_i`` and effective weights ``0.5 * exp(-s_i*) = 1 / (2 L_i)``."""
    term_values = np.asarray(term_values, dtype=np.float64)
    s = check_shape(optimal_log_variances, term_values.shape, "optimal_log_variances").astype(np.float64)
    if np.allclose(s, term_values):
        fail("`optimal_log_variances` equals the term values; s_i is a LOG-variance",
             "set the derivative of 0.5 * (exp(-s) * L + s) to zero: exp(-s) * L = 1, so s = log(L)")
    if np.allclose(s, -np.log(term_values)):
        fail("the sign is flipped: s_i = log(L_i), not -log(L_i)")
    if not np.allclose(s, np.log(term_values), rtol=1e-6):
        fail(f"`optimal_log_variances` is {np.round(s, 4)}, expected {np.round(np.log(term_values), 4)}")
    w = check_shape(effective_weights, term_values.shape, "effective_weights").astype(np.float64)
    expected = 0.5 / term_values
    if np.allclose(w, 2 * expected):
        fail("you forgot the factor 1/2 in the effective weights")
    if not np.allclose(w, expected, rtol=1e-6):
        fail(f"`effective_weights` is {np.round(w, 4)}, expected {np.round(expected, 4)}",
             "effective weight = 0.5 * exp(-s_i)")
    passed(f"effective weights {np.round(expected, 3)}: each term divided by twice its own size")
