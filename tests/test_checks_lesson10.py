"""The exercise checks of lesson 10 accept the reference answers and reject plausible wrong ones."""

import itertools
from pathlib import Path

import numpy as np
import pytest
from test_checks import Answers, answer_cases, judge

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


def subset_masks(n):
    return np.array([[(c >> b) & 1 for b in range(n)] for c in range(1, 2**n)])


LESSON_SOLUTION = """
def subset_masks(n_modalities):
    return np.array([[(code >> bit) & 1 for bit in range(n_modalities)] for code in range(1, 2**n_modalities)])
"""


def test_subsets_accept_reference_and_the_lesson_solution(capsys):
    check_subset_masks(subset_masks)
    lesson = (Path(__file__).resolve().parents[1] / "lessons" / "src" / "10_multimodal_autoencoder.py").read_text()
    assert LESSON_SOLUTION.strip() in lesson
    namespace = {"np": np}
    exec(LESSON_SOLUTION, namespace)
    check_subset_masks(namespace["subset_masks"])
    assert capsys.readouterr().out.count("Check passed") == 2


def test_subsets_reject_empty_subset_and_repeats():
    with pytest.raises(ExerciseCheckFailed, match="empty subset"):
        check_subset_masks(lambda n: np.array([[(c >> b) & 1 for b in range(n)] for c in range(0, 2**n)]))
    with pytest.raises(ExerciseCheckFailed, match="repeat"):
        check_subset_masks(lambda n: np.array([[1, 0, 0]] * 4 + [[0, 1, 0]] * 3))
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


def kl_torch_style(mu_q, logvar_q, mu_p, logvar_p):
    var_q, var_p = np.exp(logvar_q), np.exp(logvar_p)
    return [
        float(v)
        for v in np.sum(
            np.log(np.sqrt(var_p) / np.sqrt(var_q)) + (var_q + (mu_q - mu_p) ** 2) / (2 * var_p) - 0.5, axis=-1
        )
    ]


ANSWERS = {
    "check_kl_diagonal": Answers(
        run=check_kl_diagonal,
        right=kl_diagonal,
        alternative=kl_torch_style,
        constant=lambda mq, lq, mp, lp: np.array([1.9, 2.4, 0.8, 3.1]),
        wrong_type=lambda *args: (kl_diagonal(*args), "nats"),
        wrong=(
            (lambda mq, lq, mp, lp: kl_diagonal(mp, lp, mq, lq), r"KL\(p \|\| q\)"),
            (lambda *args: 2 * kl_diagonal(*args), "twice"),
            (lambda *args: float(np.sum(kl_diagonal(*args))), "single number"),
        ),
    ),
    "check_subset_masks": Answers(
        run=check_subset_masks,
        right=subset_masks,
        alternative=lambda n: [list(bits) for bits in itertools.product((0, 1), repeat=n) if any(bits)],
        constant=lambda n: np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]]),
        wrong_type=lambda n: {"image": 1, "text": 1, "audio": 1},
        wrong=(
            (lambda n: np.array([[(c >> b) & 1 for b in range(n)] for c in range(0, 2**n)]), "empty subset"),
            (lambda n: np.eye(n), "shape"),
            (lambda n: 2 * subset_masks(n), "only 0 and 1"),
        ),
    ),
    "check_interpolate": Answers(
        run=check_interpolate,
        right=interpolate,
        alternative=lambda a, b, steps: [list(a + (b - a) * k / (steps - 1)) for k in range(steps)],
        constant=lambda a, b, steps: np.array(
            [[0.0, 2.0, -1.0], [1.0, 1.0, -0.5], [2.0, 0.0, 0.0], [3.0, -1.0, 0.5], [4.0, -2.0, 1.0]]
        ),
        wrong_type=lambda a, b, steps: {"path": interpolate(a, b, steps)},
        wrong=(
            (lambda a, b, steps: interpolate(b, a, steps), "from z_end to z_start"),
            (lambda a, b, steps: interpolate(a, b, steps)[:-1], "an end is missing"),
            (lambda a, b, steps: interpolate(a, b, steps) * 1.1, "start at z_start"),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)
