"""Robustness: missing and noisy modalities, and adversarial examples (lesson 12).

The seed article (section 3.3) lists two sides of multimodal models: complementary
modalities make them *robust* (one modality can stand in for another), and they are
*fragile* to adversarial examples. This module holds the tools lesson 12 measures both with:

- :class:`ModalityDropout`: replace missing modalities by zeros or by a learned
  "missing" embedding, and, during training, drop a modality at random so the model
  learns to do without it;
- :func:`add_gaussian_noise`: corrupt one modality on purpose;
- :func:`fgsm`: the fast gradient sign method (Goodfellow et al., 2015),
  ``x' = clip(x + epsilon * sign(grad_x L(x)))``;
- :func:`changed_attributes`: did an attack change *what a caption says*?
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from mmgen_lib import validation
from mmgen_lib.data import ATTRIBUTE_NAMES, parse_caption

__all__ = ["ModalityDropout", "add_gaussian_noise", "fgsm", "changed_attributes", "MISSING_KINDS"]

MISSING_KINDS = ("zeros", "learned")


@keras.saving.register_keras_serializable(package="mmgen_lib")
class ModalityDropout(keras.layers.Layer):
    """Stand-ins for missing modalities, and random modality dropout in training (lesson 12).

    Each modality vector ``z_i`` is kept where the modality is present and replaced
    where it is missing: ``z_i' = m_i z_i + (1 - m_i) e_i``, with ``e_i = 0``
    (``missing="zeros"``) or a trainable vector (``missing="learned"``). During
    training, with probability ``rate`` one modality per example, chosen uniformly, is
    also treated as missing, so the layers after this one learn to cope without it;
    an example never loses all its modalities.

    Args:
        rate: probability, in [0, 1), that an example loses one modality in training.
        missing: ``"zeros"`` or ``"learned"`` (one trainable vector per modality).
        seed: seed of the layer's random generator (same seed, same drops).

    Call arguments:
        inputs: list of 2 or 3 tensors (batch, d_i).
        modality_mask: optional (batch, n) of 0/1, 1 = present (default: all present); a mask of
            another width or with other values is refused, as by the fusion layers.
        training: whether random dropping is active.

    Input shape: list of (batch, d_i). Output shape: the same list of (batch, d_i).
    """

    def __init__(self, rate=0.0, missing="zeros", seed=None, **kwargs):
        super().__init__(**kwargs)
        validation.rate(rate, "rate")
        if missing not in MISSING_KINDS:
            raise ValueError(f"missing must be one of {MISSING_KINDS}. Received: missing={missing!r}")
        self.rate, self.missing, self.seed = float(rate), missing, seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        if (
            not isinstance(input_shape, (list, tuple))
            or not 2 <= len(input_shape) <= 3
            or not all(isinstance(s, (list, tuple)) and len(s) == 2 and s[-1] is not None for s in input_shape)
        ):
            raise ValueError(
                f"ModalityDropout expects a list of 2 or 3 vectors (batch, d_i). Received input shape {input_shape!r}"
            )
        self.dims = [int(s[-1]) for s in input_shape]
        self.embeddings = [
            self.add_weight(shape=(d,), initializer="zeros", name=f"missing_{k}", trainable=self.missing == "learned")
            for k, d in enumerate(self.dims)
        ]

    def call(self, inputs, modality_mask=None, training=False):
        inputs = list(inputs)
        if len(inputs) != len(self.dims):
            raise ValueError(f"ModalityDropout was built for {len(self.dims)} modalities. Received {len(inputs)}")
        n = len(inputs)
        batch = ops.shape(inputs[0])[0]
        if modality_mask is None:
            mask = ops.ones((batch, n))  # (batch, n)
        else:  # checked as the fusion layers check it; an all-missing row gets every stand-in
            mask = validation.modality_mask(modality_mask, n, inputs[0].shape[0], require_one=False)
        if training and self.rate > 0:
            drop = keras.random.uniform((batch, 1), seed=self.seed_generator) < self.rate  # (batch, 1)
            victim = keras.random.randint((batch,), 0, n, seed=self.seed_generator)  # (batch,)
            mask = mask * (1.0 - ops.cast(drop, "float32") * ops.one_hot(victim, n))
        outputs = []
        for k, z in enumerate(inputs):
            m = mask[:, k : k + 1]  # (batch, 1)
            outputs.append(m * z + (1.0 - m) * self.embeddings[k][None, :])  # (batch, d_k)
        return outputs

    def compute_output_shape(self, input_shape):
        return [tuple(s) for s in input_shape]

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "missing": self.missing, "seed": self.seed}


def _as_inputs(x) -> np.ndarray:
    """float32 inputs; uint8 images are scaled to [0, 1] (the library's image rule, ``validation``)."""
    array = np.asarray(x)
    return validation.image_batch(array, "x") if array.dtype == np.uint8 else array.astype(np.float32)


def add_gaussian_noise(x, std: float, seed: int = 0, clip=(0.0, 1.0)) -> np.ndarray:
    """``x + N(0, std^2)`` noise (seeded), clipped to ``clip`` (None: no clipping)."""
    validation.number(std, "std", minimum=0)
    x = _as_inputs(x)
    noisy = x + np.random.default_rng(seed).normal(0.0, std, x.shape).astype(np.float32)
    return noisy if clip is None else np.clip(noisy, *clip)


def fgsm(loss_fn, x, epsilon, clip=(0.0, 1.0)):
    """The fast gradient sign method: one step of size ``epsilon`` up the loss (lesson 12).

    ``x' = clip(x + epsilon * sign(d loss_fn(x) / d x))``: every input value moves by
    exactly ``epsilon`` in the direction that increases the loss most, to first order.
    The direction is taken at the clean ``x``, so it is the same for every ``epsilon``: pass a
    sequence of them to sweep the attack's size with a single gradient.

    Args:
        loss_fn: function of a float32 tensor ``x`` returning a scalar loss tensor
            (e.g. the cross-entropy of the caption the model generated for the clean ``x``).
        x: the clean inputs, e.g. images (batch, 32, 32, 3) in [0, 1].
        epsilon: the perturbation size (max-norm), >= 0; or a list or tuple of sizes.
        clip: valid range of the inputs, or None.

    Returns:
        the adversarial inputs, float32, same shape as ``x``; for a sequence of epsilons, a list
        of them, one per epsilon, in order.
    """
    import tensorflow as tf

    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function of x. Received: {type(loss_fn).__name__}")
    sweep = isinstance(epsilon, (list, tuple))
    epsilons = list(epsilon) if sweep else [epsilon]
    if not epsilons:
        raise ValueError("epsilon must hold at least one epsilon. Received: epsilon=()")
    for value in epsilons:
        validation.number(value, "epsilon", minimum=0)
    x = tf.convert_to_tensor(_as_inputs(x))
    with tf.GradientTape() as tape:
        tape.watch(x)
        loss = loss_fn(x)
    if len(loss.shape) != 0:
        raise ValueError(f"loss_fn must return a scalar. Received shape {tuple(loss.shape)}")
    gradient = tape.gradient(loss, x)
    if gradient is None:
        raise ValueError("loss_fn's result does not depend on x: there is no gradient to follow")
    direction = tf.sign(gradient)
    adversarial = [(x + value * direction).numpy() for value in epsilons]
    if clip is not None:
        adversarial = [np.clip(a, *clip) for a in adversarial]
    return adversarial if sweep else adversarial[0]


def changed_attributes(before, after) -> np.ndarray:
    """Which captions in ``after`` say something different from ``before``: (n,) bool.

    Both are parsed with ``parse_caption(strict=False)``; a caption whose attributes
    differ in at least one of the five is "changed" (a mere rephrasing is not).
    """
    if isinstance(before, str) or isinstance(after, str):
        raise TypeError("before and after must be lists of captions, not single strings")
    before, after = list(before), list(after)
    if len(before) != len(after):
        raise ValueError(f"before and after must have the same length. Received {len(before)} and {len(after)}")

    def parse(text):
        return parse_caption(text, strict=False) if text.strip() else dict.fromkeys(ATTRIBUTE_NAMES)

    return np.array([parse(a) != parse(b) for a, b in zip(before, after)], bool)
