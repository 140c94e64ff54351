"""Reconstruction losses for generating images from a description (lesson 09).

Why plain MSE blurs: a caption says "a large red circle at the top" but not *where
exactly* — ShapesWorld jitters every object by up to +-2 px. For a fixed caption the
MSE-optimal output is the conditional mean E[x_v | x_t], the average of all those
shifted circles: a blurred blob. Two fixes, both here:

- **shift tolerance**: compare the output with the target under every shift of up to
  ``max_shift`` pixels and keep the best one, so the decoder is not punished for the
  one thing the caption does not say (:func:`shift_tolerant_mse`);
- **area normalisation**: divide each example's error by its object's area, so a
  small triangle matters as much as a large one instead of being lost in the
  background (:func:`object_area`).
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from mmgen_lib import validation

__all__ = ["object_area", "shifted_targets", "shift_tolerant_mse", "ShiftTolerantMSE"]


def _check_max_shift(max_shift) -> int:
    return validation.integer(max_shift, "max_shift", minimum=0, maximum=8)


def _check_threshold(threshold) -> float:
    return validation.number(threshold, "threshold", minimum=0, maximum=1, include_minimum=False, include_maximum=False)


def _as_images(images, name: str, check_values: bool = True):
    """Images as a float32 tensor: uint8 scaled to [0, 1]; with ``check_values``, concrete floats outside
    [0, 1] are refused (the library's image rule, ``validation``). Predictions are not value-checked."""
    if isinstance(images, (list, tuple, np.ndarray)):
        array = np.asarray(images)
        if check_values or array.dtype == np.uint8:
            images = validation.image_batch(array, name, channels=None)
        else:
            validation.image_batch_shape(array.shape, name, channels=None)
    else:
        validation.image_batch_shape(images.shape, name, channels=None)
        images = validation.scale_uint8_images(images)
        values = validation.concrete_values(images) if check_values else None  # eager tensors too
        if values is not None:
            validation.image_batch(values, name, channels=None)
    return ops.convert_to_tensor(images, "float32")


def object_area(images, threshold: float = 0.4):
    """Pixels covered by the object: channel maximum above ``threshold`` (lesson 09).

    ShapesWorld backgrounds are dark grey (40/255 ~ 0.16) and every object colour has a
    channel above 190/255, so the brightest channel separates object from background.

    Args:
        images: (batch, height, width, channels) floats in [0, 1].
        threshold: brightness above which a pixel counts as object.

    Returns:
        (batch,) float areas in pixels.
    """
    threshold = _check_threshold(threshold)
    images = _as_images(images, "images")
    brightest = ops.max(images, axis=-1)  # (batch, height, width)
    return ops.sum(ops.cast(brightest > threshold, "float32"), axis=(1, 2))  # (batch,)


def shifted_targets(images, max_shift: int = 2):
    """Every copy of ``images`` shifted by (dy, dx) in [-max_shift, max_shift]^2.

    Borders are filled by mirroring (``symmetric`` padding), which continues the
    background. Returns a list of (2 * max_shift + 1) ** 2 tensors shaped like ``images``;
    the unshifted copy is in the middle of the list.
    """
    max_shift = _check_max_shift(max_shift)
    images = _as_images(images, "images")
    height, width = images.shape[1], images.shape[2]
    s = max_shift
    padded = ops.pad(images, [(0, 0), (s, s), (s, s), (0, 0)], mode="symmetric")  # (batch, h + 2s, w + 2s, c)
    return [
        padded[:, s + dy : s + dy + height, s + dx : s + dx + width, :]
        for dy in range(-s, s + 1)
        for dx in range(-s, s + 1)
    ]


def shift_tolerant_mse(y_true, y_pred, max_shift: int = 2, area_normalize: bool = True, threshold: float = 0.4):
    """Per-example squared error to the best-matching shift of the target (lesson 09).

    .. math::
        \\mathcal{L}(x, \\hat x) = \\min_{|\\delta_y|, |\\delta_x| \\le s}
        \\frac{\\sum_{i,j,c} (\\hat x_{ijc} - x_{i+\\delta_y, j+\\delta_x, c})^2}{C \\cdot N}

    with ``N`` the number of pixels (plain mean) or, when ``area_normalize``, the
    object's area ``max(object_area(x), 1)``. ``max_shift=0, area_normalize=False`` is plain MSE.

    Args:
        y_true: target images (batch, height, width, channels) in [0, 1]; uint8 targets (0-255) are
            scaled, float targets outside [0, 1] refused (the library's image rule, ``validation``).
        y_pred: generated images, same shape.
        max_shift: largest shift tried, in pixels, in each direction.
        area_normalize: divide by the object's area instead of the image's.
        threshold: brightness threshold of :func:`object_area`.

    Returns:
        (batch,) losses.
    """
    y_true = _as_images(y_true, "y_true")
    y_pred = _as_images(y_pred, "y_pred", check_values=False)
    if tuple(y_true.shape[1:]) != tuple(y_pred.shape[1:]):
        raise ValueError(
            f"y_true and y_pred must have the same image shape. "
            f"Received {tuple(y_true.shape)} and {tuple(y_pred.shape)}"
        )
    # The minimum's gradient flows through the best shift only, so: every shift's error without a
    # gradient, then the error to the best shift with one. Same values and gradients as differentiating
    # min over a stack of all shifts, three times faster for max_shift=2 (no (shifts, batch, h, w, c)
    # tensor in the backward pass).
    targets = [ops.stop_gradient(target) for target in shifted_targets(y_true, max_shift)]  # shifts x (b, h, w, c)
    frozen = ops.stop_gradient(y_pred)
    errors = ops.stack([ops.sum(ops.square(frozen - target), axis=(1, 2, 3)) for target in targets])  # (shifts, b)
    batch = ops.shape(y_pred)[0]
    best_index = ops.cast(ops.argmin(errors, axis=0), "int32") * batch + ops.arange(batch, dtype="int32")
    best_target = ops.take(ops.concatenate(targets, axis=0), best_index, axis=0)  # (batch, h, w, c)
    best = ops.sum(ops.square(y_pred - best_target), axis=(1, 2, 3))  # (batch,)
    channels = y_pred.shape[-1]
    if area_normalize:
        pixels = ops.maximum(object_area(y_true, threshold), 1.0)  # (batch,)
    else:
        pixels = float(y_pred.shape[1] * y_pred.shape[2])
    return best / (channels * pixels)


@keras.saving.register_keras_serializable(package="mmgen_lib")
class ShiftTolerantMSE(keras.losses.Loss):
    """Keras loss wrapping :func:`shift_tolerant_mse` (lesson 09).

    Args:
        max_shift: largest shift tried, in pixels (0 disables shift tolerance).
        area_normalize: divide each example's error by its object's area.
        threshold: brightness above which a target pixel counts as object.

    Call arguments:
        y_true, y_pred: images (batch, height, width, channels) in [0, 1].

    Returns:
        the mean over the batch (by default ``reduction="sum_over_batch_size"``).
    """

    def __init__(self, max_shift=2, area_normalize=True, threshold=0.4, name="shift_tolerant_mse", **kwargs):
        super().__init__(name=name, **kwargs)
        self.max_shift = _check_max_shift(max_shift)
        self.area_normalize = bool(area_normalize)
        self.threshold = _check_threshold(threshold)

    def call(self, y_true, y_pred):
        return shift_tolerant_mse(y_true, y_pred, self.max_shift, self.area_normalize, self.threshold)

    def get_config(self):
        return {
            **super().get_config(),
            "max_shift": self.max_shift,
            "area_normalize": self.area_normalize,
            "threshold": self.threshold,
        }
