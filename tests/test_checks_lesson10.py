"""The exercise checks of lesson 10 accept the reference answers and reject plausible wrong ones."""

import numpy as np
import pytest

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson10 import check_interpolate, check_kl_diagonal, check_subset_masks


def kl_diagonal(mu_q, logvar_q, mu_p, logvar_p):
    ratio = (np.exp(logvar_q) + (mu_q - mu_p) ** 2) / np.exp(logvar_p)
    return 0.5 * np.sum(logvar_p - logvar_q + ratio - 1.0, axis=-1)


def test_kl_accepts_reference(capsys):
    check_kl_diagonal(kl_diagonal)
    assert "Check passed" in capsys.readouterr().out


def test_kl_rejects_reversed_direction():
    with pytest.raises(ExerciseCheckFailed, match=r"KL\(p \|\| q\)"):
        check_kl_diagonal(lambda mq, lq, mp, lp: kl_diagonal(mp, lp, mq, lq))


def test_kl_rejects_missing_sum():
    def per_dimension(mu_q, logvar_q, mu_p, logvar_p):
        ratio = (np.exp(logvar_q) + (mu_q - mu_p) ** 2) / np.exp(logvar_p)
        return 0.5 * (logvar_p - logvar_q + ratio - 1.0)

    with pytest.raises(ExerciseCheckFailed, match="one value per latent dimension"):
        check_kl_diagonal(per_dimension)


def test_kl_rejects_missing_half_and_summing_the_batch():
    with pytest.raises(ExerciseCheckFailed, match="twice"):
        check_kl_diagonal(lambda *args: 2 * kl_diagonal(*args))
    with pytest.raises(ExerciseCheckFailed, match="single number"):
        check_kl_diagonal(lambda *args: float(np.sum(kl_diagonal(*args))))


def test_kl_rejects_logvar_used_as_variance():
    def wrong(mu_q, logvar_q, mu_p, logvar_p):
        return 0.5 * np.sum(logvar_p - logvar_q + (logvar_q + (mu_q - mu_p) ** 2) / logvar_p - 1.0, axis=-1)

    with pytest.raises(ExerciseCheckFailed, match="exp"):
        check_kl_diagonal(wrong)


def test_subsets_accept_reference(capsys):
    check_subset_masks(lambda: np.array([[(c >> b) & 1 for b in range(3)] for c in range(1, 8)]))
    assert "Check passed" in capsys.readouterr().out


def test_subsets_reject_empty_subset_and_repeats():
    with pytest.raises(ExerciseCheckFailed, match="empty subset"):
        check_subset_masks(lambda: np.array([[(c >> b) & 1 for b in range(3)] for c in range(0, 8)]))
    with pytest.raises(ExerciseCheckFailed, match="repeat"):
        check_subset_masks(lambda: np.array([[1, 0, 0]] * 4 + [[0, 1, 0]] * 3))
    with pytest.raises(ExerciseCheckFailed, match="should be a function"):
        check_subset_masks(np.eye(3))


def interpolate(z_start, z_end, steps):
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return (1 - t) * np.asarray(z_start) + t * np.asarray(z_end)


def test_interpolate_accepts_reference(capsys):
    check_interpolate(interpolate)
    assert "Check passed" in capsys.readouterr().out


def test_interpolate_rejects_missing_end_and_reversed_path():
    def no_end(z_start, z_end, steps):
        t = np.arange(steps - 1)[:, None] / (steps - 1)
        return (1 - t) * z_start + t * z_end

    with pytest.raises(ExerciseCheckFailed, match="an end is missing"):
        check_interpolate(no_end)
    with pytest.raises(ExerciseCheckFailed, match="from z_end to z_start"):
        check_interpolate(lambda a, b, steps: interpolate(b, a, steps))


def test_interpolate_rejects_uneven_spacing():
    def squared(z_start, z_end, steps):
        t = np.linspace(0.0, 1.0, steps)[:, None] ** 2
        return (1 - t) * z_start + t * z_end

    with pytest.raises(ExerciseCheckFailed, match="evenly spaced"):
        check_interpolate(squared)
