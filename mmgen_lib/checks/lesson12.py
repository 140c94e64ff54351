"""Exercise checks of lesson 12 (evaluation and robustness)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import check_shape, fail, passed

__all__ = ["check_modality_mask", "check_fgsm_attack", "check_visible_drop"]


def check_modality_mask(random_modality_mask) -> None:
    """Exercise 1: ``random_modality_mask(batch, n, rate, rng)`` drops one modality with probability ``rate``."""
    if not callable(random_modality_mask):
        fail(f"`random_modality_mask` should be a function, but it is a {type(random_modality_mask).__name__}")
    mask = check_shape(random_modality_mask(4000, 3, 0.5, np.random.default_rng(0)), (4000, 3),
                       "random_modality_mask(4000, 3, 0.5, rng)", "one row per example, one column per modality")
    if not np.all((mask == 0) | (mask == 1)):
        fail(f"the mask should hold only 0 and 1; found values {np.unique(mask)[:5].tolist()}")
    zeros_per_row = (mask == 0).sum(axis=1)
    if zeros_per_row.max() > 1:
        fail(f"{int(np.sum(zeros_per_row > 1))} rows lose more than one modality",
             "pick ONE modality per dropped example (e.g. `rng.integers(0, n_modalities, batch)`)")
    dropped = zeros_per_row.mean()
    if abs(dropped - 0.5) > 0.05:
        fail(f"{dropped:.1%} of the rows lost a modality with rate=0.5",
             "drop a row when `rng.random(batch) < rate`")
    per_column = (mask == 0).mean(axis=0)
    if per_column.min() < 0.12:
        fail(f"the dropped modality is not chosen uniformly: share dropped per column {np.round(per_column, 3).tolist()}",
             "choose the modality with `rng.integers(0, n_modalities, batch)`")
    if np.any(random_modality_mask(100, 2, 0.0, np.random.default_rng(1)) != 1):
        fail("with rate=0 nothing should be dropped")
    if not np.array_equal(random_modality_mask(50, 2, 0.5, np.random.default_rng(7)),
                          random_modality_mask(50, 2, 0.5, np.random.default_rng(7))):
        fail("two generators with the same seed gave different masks", "draw every random number from `rng`")
    passed(f"{dropped:.1%} of the rows lose exactly one modality, chosen uniformly")


def check_fgsm_attack(fgsm_attack, model, images, labels, epsilon: float = 4 / 255) -> None:
    """Exercise 2: FGSM on the color head of ``model``, compared with the library's :func:`fgsm`."""
    import keras

    from mmgen_lib.robustness import fgsm

    if not callable(fgsm_attack):
        fail(f"`fgsm_attack` should be a function, but it is a {type(fgsm_attack).__name__}")
    images = np.asarray(images, np.float32)
    answer = check_shape(np.asarray(fgsm_attack(model, images, labels, epsilon)), images.shape,
                         "fgsm_attack(...)", "return the adversarial images, same shape as the input")

    def color_loss(x):
        logits = model(x)["color"]
        return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))

    expected = fgsm(color_loss, images, epsilon)
    if answer.min() < 0 or answer.max() > 1:
        fail("some pixels leave [0, 1]", "clip the result with `np.clip(..., 0, 1)`")
    step = np.abs(answer - images)
    if np.allclose(answer, np.clip(images - epsilon * np.sign(expected - images), 0, 1), atol=1e-5) and not \
            np.allclose(answer, expected, atol=1e-5):
        fail("the images moved DOWN the loss: that makes the model more sure, not less",
             "add `epsilon * sign(gradient)`; do not subtract it")
    inside = (images > epsilon) & (images < 1 - epsilon)
    if np.any(np.abs(step[inside] - epsilon) > 1e-4):
        fail(f"pixels should move by exactly epsilon={epsilon:.4f}; moves range "
             f"{step[inside].min():.4f}..{step[inside].max():.4f}",
             "use the SIGN of the gradient times epsilon, not the gradient itself")
    agreement = float(np.mean(np.isclose(answer, expected, atol=1e-5)))
    if agreement < 0.99:
        fail(f"only {agreement:.1%} of the pixels match FGSM on the color head's cross-entropy",
             "the loss is the mean sparse cross-entropy of model(images)['color'] (logits) against labels")
    passed(f"every pixel moved by epsilon = {epsilon * 255:g}/255 up the color loss, as `fgsm` does")


def check_visible_drop(visible_drop) -> None:
    """Exercise 3: ``visible_drop(full, missing)`` = mean over the visible attributes of full - missing."""
    if not callable(visible_drop):
        fail(f"`visible_drop` should be a function, but it is a {type(visible_drop).__name__}")
    full = {"shape": 1.0, "color": 0.9, "size": 1.0, "position": 1.0, "material": 1.0}
    missing = {"shape": 1.0, "color": 0.5, "size": 0.8, "position": 1.0, "material": 0.34}
    value = visible_drop(full, missing)
    if value is None:
        fail("`visible_drop` returned None", "did you forget `return`?")
    value = float(np.asarray(value))
    if np.isclose(value, (0.4 + 0.2 + 0.66) / 5):
        fail("material was counted: it is not visible, so no method can keep it when the sound is gone",
             "average over data.VISIBLE_ATTRIBUTES only")
    if np.isclose(value, -0.15):
        fail("the sign is reversed", "compute full[a] - missing[a]: a drop is positive")
    if not np.isclose(value, 0.15):
        fail(f"got {value:.4f}, expected 0.1500 for full={full} and missing={missing}",
             "mean of full[a] - missing[a] over shape, color, size and position")
    passed("the drop is averaged over the four visible attributes")
