"""Exercise checks of lesson 09 (joint decoder -> image)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import check_shape, fail, passed

__all__ = ["check_recolour", "check_interpolate"]

_EXAMPLE_CAPTIONS = (
    "a large red metal circle at the top",
    "on the left: a tiny green square made of glass",
    "there is a big yellow triangle at the bottom, made of wood",
    "at the top there is a small wooden circle that is blue",
    "a little square on the right: red and made of metal",
    "a blue metallic triangle, big, on the left",
)


def check_recolour(recolour, images=None, labels=None, colour: str = "blue", probe=None) -> None:
    """Exercise 1: ``recolour(caption, colour)`` -> the caption with its colour word replaced.

    With ``images`` (generated from the recoloured test captions) and ``labels`` (the test
    split's labels, as from ``split_arrays``), also checks that the probe reads the new
    colour and the old shape, size and position.
    """
    from mmgen_lib.data import ATTRIBUTES, parse_caption

    if not callable(recolour):
        fail("`recolour` should be a function", "define it with `def recolour(caption, colour):`")
    for caption in _EXAMPLE_CAPTIONS:
        for new in ("green", "yellow"):
            got = recolour(caption, new)
            if got is None:
                fail("`recolour` returned None", "`return` the new caption")
            if not isinstance(got, str):
                fail(f"`recolour` should return a str, it returned a {type(got).__name__}")
            try:
                got_attrs = parse_caption(got)
            except ValueError as error:
                fail(f"recolour({caption!r}, {new!r}) gave {got!r}, which is not a full caption ({error})",
                     "replace only the colour word; keep every other word")
            want = {**parse_caption(caption), "color": new}
            if got_attrs["color"] != new:
                fail(f"recolour({caption!r}, {new!r}) gave {got!r}: its colour is {got_attrs['color']!r}",
                     "find the word that is one of data.ATTRIBUTES['color'] and swap it")
            if got_attrs != want:
                fail(f"recolour({caption!r}, {new!r}) changed more than the colour: {got!r}")
    if images is None:
        passed("recolour swaps the colour word and keeps the rest")
        return
    if labels is None:
        fail("pass the test labels too: `check_recolour(recolour, images, test)`")
    from mmgen_lib.probe import load_probe, probe_predict

    images = check_shape(images, (len(labels["shape"]), 32, 32, 3), "images",
                         "generate one image per recoloured test caption")
    readings = probe_predict(probe if probe is not None else load_probe(), images)
    colour_acc = float(np.mean(readings["color"] == ATTRIBUTES["color"].index(colour)))
    if colour_acc < 0.9:
        fail(f"the probe reads {colour!r} in only {colour_acc:.0%} of your images",
             f"tokenize the *recoloured* captions (`recolour(c, {colour!r})`) before generating")
    for name in ("shape", "size", "position"):
        acc = float(np.mean(readings[name] == np.asarray(labels[name])))
        if acc < 0.75:
            fail(f"the probe reads the requested {name} in only {acc:.0%} of your images",
                 "generate from the recoloured versions of the test captions, in the same order as `labels`")
    passed(f"recolour works, and the probe reads {colour!r} in {colour_acc:.0%} of the generated images")


def check_interpolate(interpolate) -> None:
    """Exercise 2: ``interpolate(z_a, z_b, steps)`` -> (steps, dim) points from z_a to z_b on a line."""
    if not callable(interpolate):
        fail("`interpolate` should be a function", "define it with `def interpolate(z_a, z_b, steps):`")
    rng = np.random.default_rng(0)
    z_a, z_b = rng.normal(size=(2, 6)).astype("float32")
    got = interpolate(z_a, z_b, 5)
    got = check_shape(got, (5, 6), "interpolate(z_a, z_b, 5)", "one row per step: stack the points")
    expected = np.stack([(1 - t) * z_a + t * z_b for t in np.linspace(0, 1, 5)])
    if np.allclose(got, expected[::-1], atol=1e-5):
        fail("your path goes from z_b to z_a", "the first row should be z_a (t = 0) and the last z_b (t = 1)")
    if not np.allclose(got[0], z_a, atol=1e-5) or not np.allclose(got[-1], z_b, atol=1e-5):
        fail("the first row should equal z_a and the last row z_b",
             "use t = np.linspace(0, 1, steps), both ends included")
    if not np.allclose(got, expected, atol=1e-5):
        fail("the points between the ends are not evenly spaced on the straight line",
             "each row is (1 - t) * z_a + t * z_b")
    passed("interpolate walks evenly from z_a to z_b")
