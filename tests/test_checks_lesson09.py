"""Lesson 09's exercise checks accept the reference answers and reject plausible wrong ones."""

import numpy as np
import pytest
from test_checks import Answers, answer_cases, judge

from mmgen_lib import data
from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson09 import check_interpolate, check_recolour


def recolour(caption, colour):
    return " ".join(colour if word in data.ATTRIBUTES["color"] else word for word in caption.split(" "))


def interpolate(z_a, z_b, steps):
    t = np.linspace(0, 1, steps)[:, None]
    return (1 - t) * z_a + t * z_b


@pytest.fixture(scope="module")
def scenes():
    """Real-looking scenes of 40 test examples, drawn again in blue, and their labels."""
    split = data.load_split("test")
    rng = np.random.default_rng(0)
    labels = {name: split.label(name)[:40] for name in ("shape", "color", "size", "position")}
    blue = np.stack([data.render_image({**split.attributes(i), "color": "blue"}, rng) for i in range(40)])
    return blue, split.images[:40], labels


def test_references_pass(scenes, capsys):
    blue, _, labels = scenes
    check_recolour(recolour)
    check_recolour(recolour, blue, labels, colour="blue")
    check_interpolate(interpolate)
    assert capsys.readouterr().out.count("Check passed") == 3


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda caption, colour: None, "returned None"),
        (lambda caption, colour: caption, "its colour is"),
        (lambda caption, colour: f"a {colour} thing", "not a full caption"),
        (lambda caption, colour: recolour(caption, colour).replace("circle", "square"), "changed more than the colour"),
        ("blue", "should be a function"),
    ],
)
def test_wrong_recolour_is_rejected(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_recolour(wrong)


def test_images_of_the_old_colours_are_rejected(scenes):
    _, original, labels = scenes
    with pytest.raises(ExerciseCheckFailed, match="reads 'blue' in only"):
        check_recolour(recolour, original, labels, colour="blue")


def test_images_in_the_wrong_order_are_rejected(scenes):
    blue, _, labels = scenes
    with pytest.raises(ExerciseCheckFailed, match="requested"):
        check_recolour(recolour, blue[::-1], labels, colour="blue")
    with pytest.raises(ExerciseCheckFailed, match="shape"):
        check_recolour(recolour, blue[:10], labels, colour="blue")


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda a, b, steps: interpolate(b, a, steps), "from z_b to z_a"),
        (lambda a, b, steps: np.stack([a + (b - a) * t for t in np.linspace(0, 1, steps + 1)[:-1]]), "last row"),
        (lambda a, b, steps: np.stack([a + (b - a) * t**2 for t in np.linspace(0, 1, steps)]), "evenly spaced"),
        (lambda a, b, steps: (a + b) / 2, "shape"),
    ],
)
def test_wrong_interpolation_is_rejected(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_interpolate(wrong)


class FortyExamples:
    """Stands in for a split object: labels through ``.label(name)``."""

    def __init__(self, labels):
        self.labels = labels

    def label(self, name):
        return self.labels[name]


def test_labels_may_be_the_split_itself_and_the_hint_can_be_followed(scenes, capsys):
    blue, _, labels = scenes
    check_recolour(recolour, blue, FortyExamples(labels), colour="blue")
    assert "Check passed" in capsys.readouterr().out
    with pytest.raises(
        ExerciseCheckFailed, match=r"not the test labels.*\n.*check_recolour\(recolour, blue_images, te"
    ):
        check_recolour(recolour, blue, colour="blue")
    with pytest.raises(ExerciseCheckFailed, match="should be the test labels.*but it is a list"):
        check_recolour(recolour, blue, [0, 1], colour="blue")


def recolour_by_regex(caption, colour):
    import re

    return re.sub(r"\b(" + "|".join(data.ATTRIBUTES["color"]) + r")\b", colour, caption)


ANSWERS = {
    "check_recolour": Answers(
        run=check_recolour,
        right=recolour,
        alternative=recolour_by_regex,
        constant=lambda caption, colour: "a large green metal circle at the top",
        wrong_type=lambda caption, colour: recolour(caption, colour).split(" "),
        wrong=(
            (lambda caption, colour: caption, "its colour is"),
            (lambda caption, colour: f"a {colour} thing", "not a full caption"),
            (
                lambda caption, colour: recolour(caption, colour).replace("circle", "square"),
                "changed more than the colour",
            ),
        ),
    ),
    "check_interpolate": Answers(
        run=check_interpolate,
        right=interpolate,
        alternative=lambda a, b, steps: [a + (b - a) * k / (steps - 1) for k in range(steps)],
        constant=lambda a, b, steps: np.zeros((5, 6)),
        wrong_type=lambda a, b, steps: {"path": interpolate(a, b, steps)},
        wrong=(
            (lambda a, b, steps: interpolate(b, a, steps), "from z_b to z_a"),
            (lambda a, b, steps: np.stack([a + (b - a) * t for t in np.linspace(0, 1, steps + 1)[:-1]]), "last row"),
            (lambda a, b, steps: np.stack([a + (b - a) * t**2 for t in np.linspace(0, 1, steps)]), "evenly spaced"),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)
