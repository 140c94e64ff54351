"""Exercise checks of lesson 10 (multimodal autoencoder)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import check_shape, fail, passed

__all__ = ["check_kl_diagonal", "check_subset_masks", "check_interpolate"]


def _require_function(fn, name: str, signature: str) -> None:
    if not callable(fn):
        fail(f"`{name}` should be a function, but it is a {type(fn).__name__}", f"define it with `def {signature}:`")


def _kl_reference(mu_q, logvar_q, mu_p, logvar_p):
    ratio = (np.exp(logvar_q) + (mu_q - mu_p) ** 2) / np.exp(logvar_p)
    return 0.5 * np.sum(logvar_p - logvar_q + ratio - 1.0, axis=-1)


def check_kl_diagonal(kl_diagonal) -> None:
    """Exercise 1: KL(q || p) between diagonal Gaussians given by means and log-variances."""
    _require_function(kl_diagonal, "kl_diagonal", "kl_diagonal(mu_q, logvar_q, mu_p, logvar_p)")
    rng = np.random.default_rng(10)
    mu_q, mu_p = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    logvar_q, logvar_p = rng.normal(scale=0.7, size=(4, 5)), rng.normal(scale=0.7, size=(4, 5))
    got = np.asarray(kl_diagonal(mu_q, logvar_q, mu_p, logvar_p), dtype=np.float64)
    expected = _kl_reference(mu_q, logvar_q, mu_p, logvar_p)
    if got.shape == (4, 5):
        fail("the result has one value per latent dimension, shape (4, 5); expected one per example, (4,)",
             "sum over the last axis")
    if got.shape == ():
        fail("the result is a single number; expected one KL per example, shape (4,)",
             "sum over the last axis only (axis=-1), not over the batch")
    check_shape(got, (4,), "kl_diagonal(...)", "sum over the last axis")
    swapped = _kl_reference(mu_p, logvar_p, mu_q, logvar_q)
    if np.allclose(got, swapped, rtol=1e-4) and not np.allclose(got, expected, rtol=1e-4):
        fail("you computed KL(p || q): the KL is not symmetric",
             "q is the first pair of arguments: divide q's variance by p's, not the other way round")
    if np.allclose(got, 2 * expected, rtol=1e-4):
        fail("the result is twice the KL", "the formula starts with 1/2")
    if not np.allclose(got, expected, rtol=1e-4, atol=1e-6):
        fail(f"for a random example the KL should be {expected[0]:.4f}, got {got[0]:.4f}",
             "variances are exp(logvar); check (sigma_q^2 + (mu_q - mu_p)^2) / sigma_p^2")
    zeros = np.zeros_like(mu_q)
    standard = 0.5 * np.sum(np.exp(logvar_q) + mu_q**2 - 1.0 - logvar_q, axis=-1)
    if not np.allclose(np.asarray(kl_diagonal(mu_q, logvar_q, zeros, zeros)), standard, rtol=1e-4):
        fail("with p = N(0, I) the result differs from the closed form used by gaussian_kl")
    if not np.allclose(np.asarray(kl_diagonal(mu_q, logvar_q, mu_q, logvar_q)), 0.0, atol=1e-6):
        fail("KL(q || q) should be 0")
    passed("KL(q || p) matches the formula, is 0 for q = p and equals gaussian_kl for p = N(0, I)")


def check_subset_masks(subset_masks) -> None:
    """Exercise 2: the 7 non-empty subsets of (image, text, audio) as a (7, 3) 0/1 array."""
    _require_function(subset_masks, "subset_masks", "subset_masks()")
    masks = np.asarray(subset_masks())
    if masks.shape == (8, 3):
        fail("there are 8 rows: the empty subset (0, 0, 0) is included",
             "training needs at least one modality per example: leave out the all-zero row")
    masks = check_shape(masks, (7, 3), "subset_masks()", "one row per non-empty subset, 3 columns")
    if not np.isin(masks, (0, 1)).all():
        fail("the masks should hold only 0 and 1", "1 = the modality is present")
    rows = {tuple(int(v) for v in row) for row in masks}
    if (0, 0, 0) in rows:
        fail("the empty subset (0, 0, 0) is in the list", "leave it out: training needs at least one modality")
    if len(rows) < 7:
        fail(f"only {len(rows)} different subsets among the 7 rows (some repeat)",
             "each subset once: the binary codes 1..7 give them all")
    passed("all 7 non-empty subsets of (image, text, audio), each once")


def check_interpolate(interpolate) -> None:
    """Exercise 3: ``steps`` evenly spaced points from ``z_start`` to ``z_end``, both included."""
    _require_function(interpolate, "interpolate", "interpolate(z_start, z_end, steps)")
    z_start, z_end = np.array([0.0, 2.0, -1.0]), np.array([4.0, -2.0, 1.0])
    path = np.asarray(interpolate(z_start, z_end, 5))
    if path.shape == (4, 3):
        fail("4 points for steps=5: an end is missing", "np.linspace(0, 1, steps) includes both ends")
    path = check_shape(path, (5, 3), "interpolate(z_start, z_end, 5)", "one row per step, latent_dim columns")
    expected = np.array([z_start + t * (z_end - z_start) for t in np.linspace(0, 1, 5)])
    if np.allclose(path, expected[::-1]):
        fail("the path runs from z_end to z_start", "the first row should be z_start")
    if not np.allclose(path[0], z_start) or not np.allclose(path[-1], z_end):
        fail("the path should start at z_start and end at z_end (both included)")
    if not np.allclose(path, expected):
        fail("the points are not evenly spaced on the segment",
             "point k is (1 - t) * z_start + t * z_end with t = k / (steps - 1)")
    passed("evenly spaced points from z_start to z_end, both ends included")
