"""Lesson 00's exercise checks accept the reference answers and reject plausible wrong ones."""

import functools
from pathlib import Path

import numpy as np
import pytest
from test_checks import Answers, answer_cases, judge

from mmgen_lib import data
from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson00 import check_metal_fraction, check_seeded_draw
from mmgen_lib.utils import set_seed


@functools.cache
def the_split():
    return data.load_split("test")


def reference_draw(seed):
    set_seed(seed)
    return np.random.rand(3)


def keras_draw(seed):
    import keras

    set_seed(seed)
    return keras.random.uniform((3,))


def reference_fraction(materials):
    return float(np.mean(np.asarray(materials) == data.ATTRIBUTES["material"].index("metal")))


ANSWERS = {
    "check_seeded_draw": Answers(
        run=check_seeded_draw,
        right=reference_draw,
        alternative=keras_draw,
        constant=lambda seed: np.array([0.5488135, 0.71518937, 0.60276338]),
        wrong_type=lambda seed: {"draw": reference_draw(seed)},
        wrong=(
            (lambda seed: np.random.rand(3), "different numbers on two calls"),
            (lambda seed: reference_draw(0), "gave the same numbers"),
            (lambda seed: float(reference_draw(seed)[0]), r"shape \(\), expected \(3,\)"),
            (lambda seed: reference_draw(seed) + 1, r"lie in \[0, 1\)"),
        ),
    ),
    "check_metal_fraction": Answers(
        run=lambda answer: check_metal_fraction(answer, the_split()),
        right=reference_fraction,
        alternative=lambda materials: list(materials).count(1) / len(materials),
        constant=lambda materials: 0.323,  # the saved output's value for the test split
        wrong_type=lambda materials: np.asarray(materials) == 1,  # the boolean array, not its mean
        wrong=(
            (lambda materials: int(np.sum(np.asarray(materials) == 1)), "looks like a count"),
            (lambda materials: 1 / 3, "perfectly balanced"),
            (lambda materials: float(np.mean(np.asarray(materials) == 0)), "fraction of wood"),
            (lambda materials: float(np.mean(the_split().label("material") == 1)), "metal"),
            (lambda materials: (np.mean(np.asarray(materials) == 1), len(materials)), "one number.*tuple"),
            (lambda materials: None, "returned None"),
            (0.323, "should be a function"),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)


def test_seeded_draw_accepts_the_reference(capsys):
    check_seeded_draw(reference_draw)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, match",
    [
        (lambda seed: np.random.rand(3), "different numbers on two calls"),
        (lambda seed: reference_draw(0), "gave the same numbers"),
        (lambda seed: reference_draw(seed)[:2], r"shape \(2,\), expected \(3,\)"),
        (lambda seed: reference_draw(seed) + 1, r"lie in \[0, 1\)"),
        (42, "should be a function"),
    ],
)
def test_seeded_draw_rejects_wrong_answers(wrong, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_seeded_draw(wrong)


def test_metal_fraction_accepts_the_reference_and_the_lesson_solution(capsys):
    check_metal_fraction(reference_fraction, the_split())
    namespace = {"data": data, "np": np}
    exec(LESSON_SOLUTION, namespace)
    check_metal_fraction(namespace["metal_fraction"], the_split())
    assert capsys.readouterr().out.count("Check passed") == 2


LESSON_SOLUTION = """
def metal_fraction(materials):
    metal_index = data.ATTRIBUTES["material"].index("metal")
    return float(np.mean(np.asarray(materials) == metal_index))
"""


def test_the_lesson_solution_is_the_one_tested():
    assert (
        LESSON_SOLUTION.strip()
        in (Path(__file__).resolve().parents[1] / "lessons" / "src" / "00_welcome.py").read_text()
    )


@pytest.mark.parametrize(
    "wrong, match",
    [
        (lambda m: np.sum(np.asarray(m) == 1), "looks like a count"),
        (lambda m: 1 / 3, "perfectly balanced"),
        (lambda m: np.mean(np.asarray(m) == 0), "fraction of wood"),
        (lambda m: None, "returned None"),
    ],
)
def test_metal_fraction_rejects_wrong_answers(wrong, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_metal_fraction(wrong, the_split())
