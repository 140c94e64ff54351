"""Lesson 00's exercise checks accept the reference answers and reject plausible wrong ones."""

import numpy as np
import pytest

from mmgen_lib import data
from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson00 import check_metal_fraction, check_seeded_draw
from mmgen_lib.utils import set_seed


@pytest.fixture(scope="module")
def test_split():
    return data.load_split("test")


def reference_draw(seed):
    set_seed(seed)
    return np.random.rand(3)


def test_seeded_draw_accepts_the_reference(capsys):
    check_seeded_draw(reference_draw)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, match", [
    (lambda seed: np.random.rand(3), "different numbers on two calls"),
    (lambda seed: reference_draw(0), "gave the same numbers"),
    (lambda seed: reference_draw(seed)[:2], r"shape \(2,\), expected \(3,\)"),
    (lambda seed: reference_draw(seed) + 1, r"lie in \[0, 1\)"),
    (42, "should be a function"),
])
def test_seeded_draw_rejects_wrong_answers(wrong, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_seeded_draw(wrong)


def test_metal_fraction_accepts_the_reference(test_split, capsys):
    check_metal_fraction(np.mean(test_split.label("material") == 1), test_split)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, match", [
    (lambda s: np.sum(s.label("material") == 1), "looks like a count"),
    (lambda s: 1 / 3, "perfectly balanced"),
    (lambda s: np.mean(s.label("material") == 0), "of the examples are metal"),
    (lambda s: None, "is None"),
])
def test_metal_fraction_rejects_wrong_answers(test_split, wrong, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_metal_fraction(wrong(test_split), test_split)
