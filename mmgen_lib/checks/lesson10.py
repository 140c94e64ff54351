"""Exercise checks of lesson 10 (multimodal autoencoder)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import as_array, call_answer, expect_function, fail, passed, show

__all__ = ["check_kl_diagonal", "check_subset_masks", "check_interpolate"]


def _kl_reference(mu_q, logvar_q, mu_p, logvar_p):
    ratio = (np.exp(logvar_q) + (mu_q - mu_p) ** 2) / np.exp(logvar_p)
    return 0.5 * np.sum(logvar_p - logvar_q + ratio - 1.0, axis=-1)


def check_kl_diagonal(kl_diagonal) -> None:
    """Exercise 1: KL(q || p) between diagonal Gaussians given by means and log-variances."""
    expect_function(kl_diagonal, "kl_diagonal", "kl_diagonal(mu_q, logvar_q, mu_p, logvar_p)")
    rng = np.random.default_rng(10)
    mu_q, mu_p = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    logvar_q, logvar_p = rng.normal(scale=0.7, size=(4, 5)), rng.normal(scale=0.7, size=(4, 5))
    call = "kl_diagonal(mu_q, logvar_q, mu_p, logvar_p)"

    def kl(*args):
        return as_array(
            call_answer(kl_diagonal, call, *(np.array(a) for a in args)),
            call,
            hint="return one KL per example: an array of shape (batch,)",
        ).astype(np.float64)

    got = kl(mu_q, logvar_q, mu_p, logvar_p)
    expected = _kl_reference(mu_q, logvar_q, mu_p, logvar_p)
    if got.shape == (4, 5):
        fail(
            "the result has one value per latent dimension, shape (4, 5); expected one per example, (4,)",
            "sum over the last axis",
        )
    if got.shape == ():
        fail(
            "the result is a single number; expected one KL per example, shape (4,)",
            "sum over the last axis only (axis=-1), not over the batch",
        )
    got = as_array(got, call, (4,), "sum over the last axis")
    swapped = _kl_reference(mu_p, logvar_p, mu_q, logvar_q)
    if np.allclose(got, swapped, rtol=1e-4) and not np.allclose(got, expected, rtol=1e-4):
        fail(
            "you computed KL(p || q): the KL is not symmetric",
            "q is the first pair of arguments: divide q's variance by p's, not the other way round",
        )
    if np.allclose(got, 2 * expected, rtol=1e-4):
        fail("the result is twice the KL", "the formula starts with 1/2")
    if not np.allclose(got, expected, rtol=1e-4, atol=1e-6):
        fail(
            "for the first example the KL should be {expected}, got {got}",
            "variances are exp(logvar); check (sigma_q^2 + (mu_q - mu_p)^2) / sigma_p^2",
            expected=show(expected[0], 5),
            got=show(got[0], 5),
        )
    zeros = np.zeros_like(mu_q)
    standard = 0.5 * np.sum(np.exp(logvar_q) + mu_q**2 - 1.0 - logvar_q, axis=-1)
    if not np.allclose(kl(mu_q, logvar_q, zeros, zeros), standard, rtol=1e-4):
        fail(
            "with p = N(0, I) the result differs from the closed form used by gaussian_kl",
            "log(1) = 0 and exp(0) = 1: check the terms that involve p",
        )
    if not np.allclose(kl(mu_q, logvar_q, mu_q, logvar_q), 0.0, atol=1e-6):
        fail("KL(q || q) should be 0", "every term cancels when q = p: check the signs")
    passed("KL(q || p) matches the formula, is 0 for q = p and equals gaussian_kl for p = N(0, I)")


def check_subset_masks(subset_masks) -> None:
    """Exercise 2: ``subset_masks(n_modalities)`` -> the 2**n - 1 non-empty subsets as a 0/1 array."""
    expect_function(subset_masks, "subset_masks", "subset_masks(n_modalities)")
    for n in (3, 2, 4):
        call = f"subset_masks({n})"
        rows_expected = 2**n - 1
        masks = as_array(
            call_answer(subset_masks, call, n),
            call,
            hint="return one array, one row per subset, one column per modality",
        )
        if masks.shape == (rows_expected + 1, n):
            fail(
                "{call} has {rows} rows: the empty subset (all zeros) is included",
                "training needs at least one modality per example: leave out the all-zero row",
                call=call,
                rows=rows_expected + 1,
            )
        masks = as_array(masks, call, (rows_expected, n), "one row per non-empty subset (2**n - 1 of them), n columns")
        if not np.isin(masks, (0, 1)).all():
            fail(
                "{call} should hold only 0 and 1, but it holds {values}",
                "1 = the modality is present",
                call=call,
                values=show(np.unique(masks)[:5]),
            )
        rows = {tuple(int(v) for v in row) for row in masks}
        if (0,) * n in rows:
            fail(
                "the empty subset (all zeros) is in {call}",
                "leave it out: training needs at least one modality",
                call=call,
            )
        if len(rows) < rows_expected:
            fail(
                "{call} holds only {distinct} different subsets among its {rows} rows (some repeat)",
                "each subset once: the binary codes 1 .. 2**n - 1 give them all",
                call=call,
                distinct=len(rows),
                rows=rows_expected,
            )
    passed("all 2**n - 1 non-empty subsets, each once, for 2, 3 and 4 modalities")


def check_interpolate(interpolate) -> None:
    """Exercise 3: ``steps`` evenly spaced points from ``z_start`` to ``z_end``, both included."""
    expect_function(interpolate, "interpolate", "interpolate(z_start, z_end, steps)")
    for z_start, z_end, steps in (
        (np.array([0.0, 2.0, -1.0]), np.array([4.0, -2.0, 1.0]), 5),
        (np.array([1.5, 0.5]), np.array([-0.5, 3.0]), 4),
    ):
        call = f"interpolate(z_start, z_end, {steps})"
        path = as_array(
            call_answer(interpolate, call, z_start.copy(), z_end.copy(), steps),
            call,
            hint="return one array, one row per step",
        )
        if path.shape == (steps - 1, len(z_start)):
            fail(
                "{call} gave {got} points: an end is missing",
                "np.linspace(0, 1, steps) includes both ends",
                call=call,
                got=steps - 1,
            )
        path = as_array(path, call, (steps, len(z_start)), "one row per step, latent_dim columns")
        expected = np.array([z_start + t * (z_end - z_start) for t in np.linspace(0, 1, steps)])
        if np.allclose(path, expected[::-1]):
            fail("the path runs from z_end to z_start", "the first row should be z_start")
        if not np.allclose(path[0], z_start) or not np.allclose(path[-1], z_end):
            fail(
                "the path should start at z_start and end at z_end (both included)",
                "t = np.linspace(0, 1, steps) runs from 0 to 1",
            )
        if not np.allclose(path, expected):
            fail(
                "the points are not evenly spaced on the segment",
                "point k is (1 - t) * z_start + t * z_end with t = k / (steps - 1)",
            )
    passed("evenly spaced points from z_start to z_end, both ends included")
