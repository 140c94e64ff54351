"""Exercise checks of lesson 00 (welcome)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import check_shape, fail, passed

__all__ = ["check_seeded_draw", "check_metal_fraction"]


def check_seeded_draw(seeded_draw) -> None:
    """Exercise 1: ``seeded_draw(seed)`` returns 3 uniform numbers, the same ones for the same seed."""
    if not callable(seeded_draw):
        fail(f"`seeded_draw` should be a function, but it is a {type(seeded_draw).__name__}",
             "define it with `def seeded_draw(seed):`")
    first = check_shape(np.asarray(seeded_draw(0)), (3,), "seeded_draw(0)", "draw exactly 3 numbers")
    again = np.asarray(seeded_draw(0))
    other = np.asarray(seeded_draw(1))
    if not np.array_equal(first, again):
        fail("`seeded_draw(0)` gave different numbers on two calls",
             "call `set_seed(seed)` inside the function, before drawing")
    if np.array_equal(first, other):
        fail("`seeded_draw(0)` and `seeded_draw(1)` gave the same numbers",
             "use the `seed` argument rather than a fixed seed")
    if first.min() < 0 or first.max() >= 1:
        fail(f"the numbers should lie in [0, 1); got {np.round(first, 3).tolist()}",
             "use `keras.random.uniform((3,))` or `np.random.rand(3)`")
    passed("same seed, same numbers; another seed, other numbers")


def check_metal_fraction(metal_fraction, split) -> None:
    """Exercise 2: the fraction of examples in ``split`` made of metal."""
    from mmgen_lib.data import ATTRIBUTES

    expected = float(np.mean(split.label("material") == ATTRIBUTES["material"].index("metal")))
    if metal_fraction is None:
        fail("`metal_fraction` is None", "assign the fraction to `metal_fraction`")
    value = float(np.asarray(metal_fraction))
    if np.isclose(value, expected * len(split)):
        fail(f"{value:g} looks like a count, not a fraction", "divide by the number of examples")
    if np.isclose(value, 1 / 3):
        fail("1/3 is the expected fraction if materials were perfectly balanced, not the measured one",
             "compare `split.label('material')` with the index of 'metal'")
    if not np.isclose(value, expected, atol=1e-6):
        fail(f"`metal_fraction` is {value:.4f}, but {expected:.4f} of the examples are metal",
             "metal is index ATTRIBUTES['material'].index('metal') == 1; take the mean of a boolean array")
    passed(f"{expected:.1%} of the {len(split)} examples are metal")
