"""Exercise checks of lesson 12 (evaluation and robustness)."""

from __future__ import annotations

import sys

import numpy as np

from mmgen_lib.checks import as_array, as_number, call_answer, describe, expect_function, fail, passed, show

__all__ = ["check_modality_mask", "check_fgsm_attack", "check_visible_drop"]


def check_modality_mask(random_modality_mask) -> None:
    """Exercise 1: ``random_modality_mask(batch, n, rate, rng)`` drops one modality with probability ``rate``."""
    expect_function(
        random_modality_mask, "random_modality_mask", "random_modality_mask(batch, n_modalities, rate, rng)"
    )

    def draw(batch, n, rate, seed):
        call = f"random_modality_mask({batch}, {n}, {rate}, rng)"
        return as_array(
            call_answer(random_modality_mask, call, batch, n, rate, np.random.default_rng(seed)),
            call,
            (batch, n),
            "one row per example, one column per modality",
        )

    for batch, n, rate in ((4000, 3, 0.5), (3000, 2, 0.3)):
        mask = draw(batch, n, rate, 0)
        if not np.all((mask == 0) | (mask == 1)):
            fail(
                "the mask should hold only 0 and 1; found values {values}",
                "1 = keep, 0 = drop",
                values=show(np.unique(mask)[:5]),
            )
        zeros_per_row = (mask == 0).sum(axis=1)
        if zeros_per_row.max() > 1:
            fail(
                "{rows} rows lose more than one modality",
                "pick ONE modality per dropped example (e.g. `rng.integers(0, n_modalities, batch)`)",
                rows=int(np.sum(zeros_per_row > 1)),
            )
        dropped = zeros_per_row.mean()
        if abs(dropped - rate) > 0.05:
            fail(
                "{share} of the rows lost a modality with rate={rate}",
                "drop a row when `rng.random(batch) < rate`",
                share=f"{dropped:.1%}",
                rate=rate,
            )
        per_column = (mask == 0).mean(axis=0)
        if per_column.min() < 0.6 * rate / n:
            fail(
                "the dropped modality is not chosen uniformly: share dropped per column {shares}",
                "choose the modality with `rng.integers(0, n_modalities, batch)`",
                shares=show(per_column, 3),
            )
    if np.any(draw(100, 2, 0.0, 1) != 1):
        fail("with rate=0 nothing should be dropped", "drop a row only when `rng.random(batch) < rate`")
    if not np.array_equal(draw(50, 2, 0.5, 7), draw(50, 2, 0.5, 7)):
        fail("two generators with the same seed gave different masks", "draw every random number from `rng`")
    passed("each row loses at most one modality, at the requested rate, chosen uniformly")


def _calls_of(function, run):
    """Run ``run()`` and report whether ``function`` was called during it (by any route)."""
    target, seen, previous = function.__code__, [], sys.getprofile()

    def profiler(frame, event, arg):
        if event == "call" and frame.f_code is target:
            seen.append(True)

    sys.setprofile(profiler)
    try:
        result = run()
    finally:
        sys.setprofile(previous)
    return result, bool(seen)


def check_fgsm_attack(fgsm_attack, model, images, labels, epsilon: float = 4 / 255) -> None:
    """Exercise 2: FGSM on the color head of ``model``, written with ``tf.GradientTape``.

    The reference is the library's :func:`~mmgen_lib.robustness.fgsm`, which the exercise asks
    the learner NOT to call; calling it is detected and refused.
    """
    import keras
    import tensorflow as tf

    from mmgen_lib.robustness import fgsm

    expect_function(fgsm_attack, "fgsm_attack", "fgsm_attack(model, images, labels, epsilon)")
    images = np.asarray(images, np.float32)
    call = "fgsm_attack(model, images, labels, epsilon)"
    answer, used_library = _calls_of(
        fgsm, lambda: call_answer(fgsm_attack, call, model, images.copy(), labels, epsilon)
    )
    if used_library:
        fail(
            "your fgsm_attack calls the library's `fgsm`; the exercise is to write the step yourself",
            "use tf.GradientTape: watch the images, compute the colour loss, take tape.gradient, "
            "then images + epsilon * tf.sign(gradient), clipped to [0, 1]",
        )
    if isinstance(answer, (tuple, list, dict)):
        fail(
            "{call} should return the adversarial images (one array), but it returned {got}",
            "return only the clipped adversarial images",
            call=call,
            got=describe(answer),
        )
    answer = as_array(answer, call, images.shape, "return the adversarial images, same shape as the input")

    def color_loss(x):
        logits = model(x)["color"]
        return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))

    expected = fgsm(color_loss, images, epsilon)
    x = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = color_loss(x)
    direction = np.sign(tape.gradient(loss, x).numpy())
    if answer.min() < -1e-6 or answer.max() > 1 + 1e-6:
        fail(
            "some pixels leave [0, 1] (from {low} to {high})",
            "clip the result with `np.clip(..., 0, 1)`",
            low=show(answer.min()),
            high=show(answer.max()),
        )
    if np.allclose(answer, np.clip(images - epsilon * direction, 0, 1), atol=1e-5) and not np.allclose(
        answer, expected, atol=1e-5
    ):
        fail(
            "the images moved DOWN the loss: that makes the model more sure, not less",
            "add `epsilon * sign(gradient)`; do not subtract it",
        )
    step = np.abs(answer - images)
    inside = (images > epsilon) & (images < 1 - epsilon) & (direction != 0)
    if np.any(np.abs(step[inside] - epsilon) > 1e-4):
        fail(
            "pixels should move by exactly epsilon={epsilon}; moves range {low}..{high}",
            "use the SIGN of the gradient times epsilon, not the gradient itself",
            epsilon=show(epsilon),
            low=show(step[inside].min()),
            high=show(step[inside].max()),
        )
    agreement = float(np.mean(np.isclose(answer, expected, atol=1e-5)))
    if agreement < 0.99:
        fail(
            "only {share} of the pixels match FGSM on the color head's cross-entropy",
            "the loss is the mean sparse cross-entropy of model(images)['color'] (logits) against labels",
            share=f"{agreement:.1%}",
        )
    passed(
        "every pixel moved by epsilon = {epsilon}/255 up the color loss, as `fgsm` does", epsilon=show(epsilon * 255)
    )


_DROP_CASES = (
    (
        {"shape": 1.0, "color": 0.9, "size": 1.0, "position": 1.0, "material": 1.0},
        {"shape": 1.0, "color": 0.5, "size": 0.8, "position": 1.0, "material": 0.34},
    ),
    (
        {"shape": 0.95, "color": 0.99, "size": 0.97, "position": 0.9, "material": 0.99},
        {"shape": 0.62, "color": 0.98, "size": 0.61, "position": 0.88, "material": 0.33},
    ),
    (
        {"material": 0.8, "position": 0.7, "size": 0.9, "color": 0.6, "shape": 0.5},
        {"material": 0.3, "position": 0.7, "size": 0.9, "color": 0.7, "shape": 0.5},
    ),
)


def check_visible_drop(visible_drop) -> None:
    """Exercise 3: ``visible_drop(full, missing)`` = mean over the visible attributes of full - missing.

    Three pairs of accuracy dicts, so that no typed-in number passes.
    """
    from mmgen_lib.data import VISIBLE_ATTRIBUTES

    expect_function(visible_drop, "visible_drop", "visible_drop(full, missing)")
    for full, missing in _DROP_CASES:
        expected = float(np.mean([full[a] - missing[a] for a in VISIBLE_ATTRIBUTES]))
        call = f"visible_drop(full={full}, missing={missing})"
        value = as_number(
            call_answer(visible_drop, call, dict(full), dict(missing)),
            call,
            "return one number: the mean of the per-attribute drops",
        )
        if np.isclose(value, expected, atol=1e-9):
            continue
        if np.isclose(value, float(np.mean([full[a] - missing[a] for a in full]))):
            fail(
                "material was counted: it is not visible, so no method can keep it when the sound is gone",
                "average over data.VISIBLE_ATTRIBUTES only",
            )
        if np.isclose(value, -expected):
            fail("the sign is reversed", "compute full[a] - missing[a]: a drop is positive")
        if np.isclose(value, float(np.sum([full[a] - missing[a] for a in VISIBLE_ATTRIBUTES]))):
            fail(
                "{call} is {got}: the sum of the drops, not their mean",
                "divide by the number of visible attributes",
                call=call,
                got=show(value),
            )
        fail(
            "{call} is {got}, expected {expected}",
            "compute it from the two dicts: the mean of full[a] - missing[a] over shape, color, size and position",
            call=call,
            got=show(value),
            expected=show(expected),
        )
    passed("the drop is averaged over the four visible attributes")
