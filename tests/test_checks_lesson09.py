"""Lesson 09's exercise checks accept the reference answers and reject plausible wrong ones."""

import numpy as np
import pytest

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


@pytest.mark.parametrize("wrong, message", [
    (lambda caption, colour: None, "returned None"),
    (lambda caption, colour: caption, "its colour is"),
    (lambda caption, colour: f"a {colour} thing", "not a full caption"),
    (lambda caption, colour: recolour(caption, colour).replace("circle", "square"), "changed more than the colour"),
    ("blue", "should be a function"),
])
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


@pytest.mark.parametrize("wrong, message", [
    (lambda a, b, steps: interpolate(b, a, steps), "from z_b to z_a"),
    (lambda a, b, steps: np.stack([a + (b - a) * t for t in np.linspace(0, 1, steps + 1)[:-1]]), "last row"),
    (lambda a, b, steps: np.stack([a + (b - a) * t ** 2 for t in np.linspace(0, 1, steps)]), "evenly spaced"),
    (lambda a, b, steps: (a + b) / 2, "shape"),
])
def test_wrong_interpolation_is_rejected(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_interpolate(wrong)
