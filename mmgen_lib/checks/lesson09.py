"""Exercise checks of lesson 09 (joint decoder -> image)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import as_array, call_answer, describe, expect_function, fail, passed

__all__ = ["check_recolour", "check_interpolate"]

_EXAMPLE_CAPTIONS = (
    "a large red metal circle at the top",
    "on the left: a tiny green square made of glass",
    "there is a big yellow triangle at the bottom, made of wood",
    "at the top there is a small wooden circle that is blue",
    "a little square on the right: red and made of metal",
    "a blue metallic triangle, big, on the left",
)


def _labels_of(labels, name):
    """One attribute's labels from a dict (``split_arrays``) or a split object (``split.label(name)``)."""
    if hasattr(labels, "label"):
        return np.asarray(labels.label(name))
    if isinstance(labels, dict) and name in labels:
        return np.asarray(labels[name])
    fail(
        "`labels` should be the test labels: the dict `split_arrays` returns (here `te`) or the split itself, "
        "but it is {got}",
        'call `check_recolour(recolour, blue_images, te, colour="blue", probe=probe)`',
        got=describe(labels),
    )


def check_recolour(recolour, images=None, labels=None, colour: str = "blue", probe=None) -> None:
    """Exercise 1: ``recolour(caption, colour)`` -> the caption with its colour word replaced.

    With ``images`` (generated from the recoloured test captions) and ``labels`` (the test
    labels: the dict ``split_arrays`` returns, or the split itself), also checks that the
    probe reads the new colour and the old shape, size and position.
    """
    from mmgen_lib.data import ATTRIBUTES, parse_caption

    expect_function(recolour, "recolour", "recolour(caption, colour)")
    for caption in _EXAMPLE_CAPTIONS:
        for new in ("green", "yellow"):
            call = f"recolour({caption!r}, {new!r})"
            got = call_answer(recolour, call, caption, new)
            if not isinstance(got, str):
                fail(
                    "{call} should return a str (the new caption), but it returned {got}",
                    "join the words back into one string: ' '.join(words)",
                    call=call,
                    got=describe(got),
                )
            try:
                got_attrs = parse_caption(got)
            except ValueError as error:
                fail(
                    "{call} gave {got!r}, which is not a full caption ({error})",
                    "replace only the colour word; keep every other word",
                    call=call,
                    got=got,
                    error=error,
                )
            want = {**parse_caption(caption), "color": new}
            if got_attrs["color"] != new:
                fail(
                    "{call} gave {got!r}: its colour is {colour!r}",
                    "find the word that is one of data.ATTRIBUTES['color'] and swap it",
                    call=call,
                    got=got,
                    colour=got_attrs["color"],
                )
            if got_attrs != want:
                fail("{call} changed more than the colour: {got!r}", "replace only the colour word", call=call, got=got)
    if images is None:
        passed("recolour swaps the colour word and keeps the rest")
        return
    if labels is None:
        fail(
            "the images were given but not the test labels they should show",
            'call `check_recolour(recolour, blue_images, te, colour="blue", probe=probe)`',
        )
    from mmgen_lib.probe import load_probe, probe_predict

    wanted = {name: _labels_of(labels, name) for name in ("shape", "size", "position")}
    images = as_array(
        images,
        "images",
        (len(wanted["shape"]), 32, 32, 3),
        "generate one image per recoloured test caption, in the order of the labels",
    )
    readings = probe_predict(probe if probe is not None else load_probe(), images)
    colour_acc = float(np.mean(readings["color"] == ATTRIBUTES["color"].index(colour)))
    if colour_acc < 0.9:
        fail(
            "the probe reads {colour!r} in only {share} of your images",
            "tokenize the *recoloured* captions (`recolour(c, {colour!r})`) before generating",
            colour=colour,
            share=f"{colour_acc:.0%}",
        )
    for name, expected in wanted.items():
        acc = float(np.mean(readings[name] == expected))
        if acc < 0.75:
            fail(
                "the probe reads the requested {name} in only {share} of your images",
                "generate from the recoloured versions of the test captions, in the same order as `labels`",
                name=name,
                share=f"{acc:.0%}",
            )
    passed(
        "recolour works, and the probe reads {colour!r} in {share} of the generated images",
        colour=colour,
        share=f"{colour_acc:.0%}",
    )


def check_interpolate(interpolate) -> None:
    """Exercise 2: ``interpolate(z_a, z_b, steps)`` -> (steps, dim) points from z_a to z_b on a line."""
    expect_function(interpolate, "interpolate", "interpolate(z_a, z_b, steps)")
    rng = np.random.default_rng(0)
    for steps, dim in ((5, 6), (3, 4)):
        z_a, z_b = rng.normal(size=(2, dim)).astype("float32")
        call = f"interpolate(z_a, z_b, {steps})"
        got = as_array(
            call_answer(interpolate, call, z_a.copy(), z_b.copy(), steps),
            call,
            (steps, dim),
            "one row per step: stack the points",
        )
        expected = np.stack([(1 - t) * z_a + t * z_b for t in np.linspace(0, 1, steps)])
        if np.allclose(got, expected[::-1], atol=1e-5):
            fail("your path goes from z_b to z_a", "the first row should be z_a (t = 0) and the last z_b (t = 1)")
        if not np.allclose(got[0], z_a, atol=1e-5) or not np.allclose(got[-1], z_b, atol=1e-5):
            fail(
                "the first row should equal z_a and the last row z_b",
                "use t = np.linspace(0, 1, steps), both ends included",
            )
        if not np.allclose(got, expected, atol=1e-5):
            fail(
                "the points between the ends are not evenly spaced on the straight line",
                "each row is (1 - t) * z_a + t * z_b",
            )
    passed("interpolate walks evenly from z_a to z_b")
