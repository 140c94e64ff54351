"""Exercise checks of lesson 00 (welcome)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import as_array, as_number, call_answer, expect_function, fail, passed, show

__all__ = ["check_seeded_draw", "check_metal_fraction"]


def check_seeded_draw(seeded_draw) -> None:
    """Exercise 1: ``seeded_draw(seed)`` returns 3 uniform numbers, the same ones for the same seed."""
    expect_function(seeded_draw, "seeded_draw", "seeded_draw(seed)")
    first = as_array(call_answer(seeded_draw, "seeded_draw(0)", 0), "seeded_draw(0)", (3,), "draw exactly 3 numbers")
    again = as_array(call_answer(seeded_draw, "seeded_draw(0)", 0), "seeded_draw(0)", (3,))
    other = as_array(call_answer(seeded_draw, "seeded_draw(1)", 1), "seeded_draw(1)", (3,))
    if not np.array_equal(first, again):
        fail(
            "`seeded_draw(0)` gave different numbers on two calls",
            "call `set_seed(seed)` inside the function, before drawing",
        )
    if np.array_equal(first, other):
        fail(
            "`seeded_draw(0)` and `seeded_draw(1)` gave the same numbers",
            "use the `seed` argument rather than a fixed seed",
        )
    if first.min() < 0 or first.max() >= 1:
        fail(
            "the numbers should lie in [0, 1); got {got}",
            "use `keras.random.uniform((3,))` or `np.random.rand(3)`",
            got=show(first, 3),
        )
    passed("same seed, same numbers; another seed, other numbers")


def _label_arrays(split):
    """The split's material labels, then label arrays the learner has not seen (so no constant fits)."""
    from mmgen_lib.data import ATTRIBUTES

    metal = ATTRIBUTES["material"].index("metal")
    materials = np.asarray(split.label("material"))
    rng = np.random.default_rng(0)
    return (
        [
            ("the split's labels", materials),
            ("the first 7 labels", materials[:7]),
            ("labels [metal, metal, wood, glass]", np.array([metal, metal, (metal + 1) % 3, (metal + 2) % 3])),
            ("60 random labels", rng.integers(0, 3, 60)),
        ],
        metal,
        ATTRIBUTES["material"],
    )


def check_metal_fraction(metal_fraction, split) -> None:
    """Exercise 2: ``metal_fraction(materials)`` -> the fraction of integer material labels that are metal.

    Called on ``split.label("material")`` and on label arrays the learner has not seen.
    """
    expect_function(metal_fraction, "metal_fraction", "metal_fraction(materials)")
    cases, metal, names = _label_arrays(split)
    for what, materials in cases:
        expected = float(np.mean(materials == metal))
        call = f"metal_fraction({what})"
        value = as_number(
            call_answer(metal_fraction, call, materials.copy()),
            call,
            "return the mean of a boolean array: np.mean(materials == metal_index), a single number",
        )
        if np.isclose(value, expected * len(materials)) and len(materials) > 1 and expected > 0:
            fail(
                "{call} is {got}, which looks like a count, not a fraction",
                "divide by the number of examples",
                call=call,
                got=show(value),
            )
        if np.isclose(value, 1 / 3) and not np.isclose(expected, 1 / 3):
            fail(
                "{call} is 1/3: that is the fraction if materials were perfectly balanced, not the measured one",
                "compare `materials` with the index of 'metal'",
                call=call,
            )
        for other in range(3):
            if other != metal and np.isclose(value, np.mean(materials == other)) and not np.isclose(value, expected):
                fail(
                    "{call} is {got}: that is the fraction of {name}, not of metal",
                    "metal is data.ATTRIBUTES['material'].index('metal'), the index {metal}",
                    call=call,
                    got=show(value),
                    name=names[other],
                    metal=metal,
                )
        if not np.isclose(value, expected, atol=1e-9):
            fail(
                "{call} is {got}, but {expected} of those labels are metal",
                "compute it from the argument, not a number typed in: np.mean(materials == metal_index)",
                call=call,
                got=show(value, 6),
                expected=show(expected, 6),
            )
    passed(
        "{share} of the {n} examples are metal, and other label arrays give their own fractions",
        share=f"{np.mean(cases[0][1] == metal):.1%}",
        n=len(cases[0][1]),
    )
