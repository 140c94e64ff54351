"""Multimodal losses: matching (cosine, InfoNCE), generation (cross-entropy, MSE) and their weighting.

Taught in lessons 06 (cross-modal matching) and 07 (multimodal loss). The seed article's
objective (§3.2) is ``L = alpha * L_CE + beta * L_cos + gamma * L_MSE``; each term lives here
twice — as a plain function of tensors (for custom training loops) and as a registered
Keras ``Loss`` (for ``compile``) — and :class:`MultimodalLoss` adds the weighted terms
up, with fixed weights or learned ones (uncertainty weighting, Kendall et al. 2018).

All functions use ``keras.ops`` and work for float32 and float64 inputs.
"""

from __future__ import annotations

import math
import numbers

import keras
from keras import ops

from mmgen_lib import validation

__all__ = [
    "l2_normalize",
    "cosine_similarity",
    "cosine_similarity_loss",
    "info_nce_loss",
    "masked_sequence_cross_entropy",
    "weighted_mse",
    "CosineSimilarityLoss",
    "InfoNCELoss",
    "MaskedSequenceCrossEntropy",
    "WeightedMSE",
    "SimilarityLogits",
    "MultimodalLoss",
]

EPSILON = 1e-12


def _check_positive(value, name: str) -> float:
    return validation.number(value, name, minimum=0, include_minimum=False)


def _check_pair(a, b, rank: int | None = None):
    """``a`` and ``b`` as tensors of one dtype and one shape (rank ``rank`` when given)."""
    a = ops.convert_to_tensor(a)
    b = ops.convert_to_tensor(b, dtype=a.dtype)
    if rank is not None and (len(a.shape) != rank or len(b.shape) != rank):
        raise ValueError(
            f"a and b must be embeddings (batch, dim), one row per example. "
            f"Received: a with shape {tuple(a.shape)}, b with shape {tuple(b.shape)}"
        )
    known = all(d is not None for d in (*a.shape, *b.shape))
    if len(a.shape) != len(b.shape) or (known and tuple(a.shape) != tuple(b.shape)):
        raise ValueError(
            f"a and b must have the same shape (row i of a is paired with row i of b). "
            f"Received: a with shape {tuple(a.shape)}, b with shape {tuple(b.shape)}"
        )
    return a, b


def l2_normalize(x, axis: int = -1):
    """``x / ||x||`` along ``axis`` (a zero vector stays zero instead of becoming NaN)."""
    x = ops.convert_to_tensor(x)
    norm = ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=axis, keepdims=True), EPSILON))
    return x / norm


def cosine_similarity(a, b, axis: int = -1):
    """Row-wise ``cos(a, b) = a.b / (||a|| ||b||)``: (batch, dim), (batch, dim) -> (batch,). Lesson 06.

    ``a`` and ``b`` must have the same shape (no silent broadcasting).
    """
    a, b = _check_pair(a, b)
    return ops.sum(l2_normalize(a, axis) * l2_normalize(b, axis), axis=axis)


def cosine_similarity_loss(a, b, axis: int = -1):
    """The seed's matching term ``1 - cos(Y_t, Y_v)`` per example, in [0, 2]: (batch, dim) x2 -> (batch,).

    0 when the two embeddings point the same way, 1 when orthogonal, 2 when opposite.
    Taught in lessons 06 and 07.

    Example:

    >>> import numpy as np
    >>> np.round(np.asarray(cosine_similarity_loss([[1.0, 0.0], [1.0, 0.0]], [[2.0, 0.0], [0.0, 1.0]])), 3)
    array([0., 1.], dtype=float32)
    """
    return 1.0 - cosine_similarity(a, b, axis)


def info_nce_loss(a, b, temperature=0.07):
    """Symmetric contrastive loss (InfoNCE, as in CLIP) of a batch of matching pairs. Lesson 06.

    Row ``i`` of ``a`` and row ``i`` of ``b`` are a positive pair; every other row of the
    batch is a negative. With ``S = norm(a) @ norm(b).T / temperature`` (batch, batch),
    the loss is ``(CE(S, diag) + CE(S.T, diag)) / 2``: each ``a_i`` must pick out ``b_i``
    among all ``b`` and each ``b_i`` must pick out ``a_i``.

    Args:
        a, b: embeddings (batch, dim) of the two modalities (normalized here).
        temperature: a positive float or a scalar tensor (e.g. ``1 / exp(log_scale)`` of a
            learned scale, through which gradients flow).

    Returns:
        the mean loss, a scalar.

    Example:

    >>> import numpy as np
    >>> a = np.eye(4, dtype="float32")
    >>> round(float(info_nce_loss(a, a, temperature=0.1)), 4)  # each row finds its pair
    0.0001
    """
    if isinstance(temperature, numbers.Real):
        _check_positive(temperature, "temperature")
    a, b = _check_pair(a, b, rank=2)
    a, b = l2_normalize(a), l2_normalize(b)
    logits = ops.matmul(a, ops.transpose(b)) / temperature  # (batch, batch)
    labels = ops.arange(ops.shape(logits)[0])
    rows = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
    cols = keras.losses.sparse_categorical_crossentropy(labels, ops.transpose(logits), from_logits=True)
    return ops.mean(rows + cols) / 2.0


def masked_sequence_cross_entropy(targets, logits, pad_id: int = 0):
    """Token-level ``-log P(y_t | ...)`` averaged over the non-padding tokens only. Lessons 07, 08.

    Args:
        targets: int token ids (batch, seq_len); positions equal to ``pad_id`` are ignored.
        logits: unnormalised scores (batch, seq_len, vocab_size).

    Returns:
        ``sum(mask * CE) / sum(mask)``, a scalar (0 if the batch holds no real token).
    """
    mask = ops.cast(ops.not_equal(targets, pad_id), logits.dtype)  # (batch, seq_len)
    per_token = keras.losses.sparse_categorical_crossentropy(targets, logits, from_logits=True)
    return ops.sum(per_token * mask) / ops.maximum(ops.sum(mask), 1.0)


def weighted_mse(y_true, y_pred, weights=None):
    """Per-example weighted mean squared error ``sum(w (y - y_hat)^2) / sum(w)``. Lesson 07.

    With ``weights=None`` (or all weights equal) this is the plain per-example MSE.
    Normalising by ``sum(w)`` makes the value independent of the weights' overall scale,
    so e.g. a foreground mask can make a small object count as much as a large one.

    Args:
        y_true, y_pred: (batch, ...) arrays of the same shape.
        weights: None, or non-negative weights broadcastable to ``y_true`` (e.g. (batch, h, w, 1)).

    Returns:
        (batch,) per-example losses.
    """
    y_true = ops.convert_to_tensor(y_true)
    y_pred = ops.convert_to_tensor(y_pred, dtype=y_true.dtype)
    squared = ops.square(y_true - y_pred)
    weights = (
        ops.ones_like(squared)
        if weights is None
        else ops.broadcast_to(ops.cast(weights, squared.dtype), ops.shape(squared))
    )
    axes = tuple(range(1, len(squared.shape)))
    return ops.sum(weights * squared, axis=axes) / ops.maximum(ops.sum(weights, axis=axes), EPSILON)


@keras.saving.register_keras_serializable(package="mmgen_lib")
class CosineSimilarityLoss(keras.losses.Loss):
    """``1 - cos(y_true, y_pred)`` as a Keras loss (Keras' own ``CosineSimilarity`` returns ``-cos``).

    Taught in lessons 06 and 07. Args: ``axis`` along which the vectors lie.

    Example:

    >>> import numpy as np
    >>> loss = CosineSimilarityLoss()
    >>> round(float(loss(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]))), 3)  # orthogonal
    1.0
    """

    def __init__(self, axis: int = -1, name: str = "cosine_similarity_loss", **kwargs):
        super().__init__(name=name, **kwargs)
        self.axis = int(axis)

    def call(self, y_true, y_pred):
        return cosine_similarity_loss(y_true, y_pred, self.axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


@keras.saving.register_keras_serializable(package="mmgen_lib")
class InfoNCELoss(keras.losses.Loss):
    """Symmetric InfoNCE on a (batch, batch) matrix of similarity logits. Lesson 06.

    ``y_pred[i, j]`` scores query ``i`` against candidate ``j`` (already divided by the
    temperature, e.g. the output of :class:`SimilarityLogits`); ``y_true`` (batch,) gives
    each row's positive column, normally ``arange(batch)``. Each example's value is the
    mean of its row's and its positive column's cross-entropy.

    Example:

    >>> import numpy as np
    >>> logits = 10.0 * np.eye(3, dtype="float32")  # every query scores its own pair highest
    >>> round(float(InfoNCELoss()(np.arange(3), logits)), 4)
    0.0001
    """

    def __init__(self, name: str = "info_nce_loss", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        labels = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        rows = keras.losses.sparse_categorical_crossentropy(labels, y_pred, from_logits=True)
        inverse = ops.argsort(labels)  # column j's positive row
        cols = keras.losses.sparse_categorical_crossentropy(inverse, ops.transpose(y_pred), from_logits=True)
        return (rows + ops.take(cols, labels)) / 2.0  # (batch,)


@keras.saving.register_keras_serializable(package="mmgen_lib")
class MaskedSequenceCrossEntropy(keras.losses.Loss):
    """Sequence cross-entropy from logits that ignores padding tokens (``y_true == pad_id``).

    ``y_true`` (batch, seq_len) ids, ``y_pred`` (batch, seq_len, vocab) logits; the result is
    the mean over real tokens, as :func:`masked_sequence_cross_entropy`. Lessons 07, 08.

    Example:

    >>> import numpy as np
    >>> targets = np.array([[3, 4, 0]])  # the 0 is padding and does not count
    >>> logits = np.zeros((1, 3, 5), "float32")
    >>> round(float(MaskedSequenceCrossEntropy()(targets, logits)), 4)  # log(5)
    1.6094
    """

    def __init__(
        self,
        pad_id: int = 0,
        name: str = "masked_sequence_cross_entropy",
        reduction: str = "mean_with_sample_weight",
        **kwargs,
    ):
        super().__init__(name=name, reduction=reduction, **kwargs)
        self.pad_id = validation.integer(pad_id, "pad_id", minimum=0)

    def __call__(self, y_true, y_pred, sample_weight=None):
        mask = ops.cast(ops.not_equal(y_true, self.pad_id), "float32")  # (batch, seq_len)
        if sample_weight is not None:
            sample_weight = ops.cast(sample_weight, "float32")
            if len(sample_weight.shape) == 1:
                sample_weight = sample_weight[:, None]
            mask = mask * sample_weight
        return super().__call__(y_true, y_pred, sample_weight=mask)

    def call(self, y_true, y_pred):
        return keras.losses.sparse_categorical_crossentropy(y_true, y_pred, from_logits=True)  # (batch, seq_len)

    def get_config(self):
        return {**super().get_config(), "pad_id": self.pad_id}


@keras.saving.register_keras_serializable(package="mmgen_lib")
class WeightedMSE(keras.losses.Loss):
    """Mean squared error with a foreground weight: ``w = 1 + foreground_weight * [|y_true - background| > threshold]``.

    The weight map is computed from ``y_true`` itself, so the loss fits ``compile``:
    pixels that differ from the ``background`` value count ``1 + foreground_weight``
    times. ``foreground_weight=0`` gives the plain MSE. Lesson 07.

    Example:

    >>> import numpy as np
    >>> y = np.full((1, 4, 4, 3), 40 / 255, "float32")
    >>> round(float(WeightedMSE(foreground_weight=3.0)(y, y + 0.5)), 4)
    0.25
    """

    def __init__(
        self,
        foreground_weight: float = 0.0,
        background: float = 40 / 255,
        threshold: float = 0.1,
        name: str = "weighted_mse",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.foreground_weight = validation.number(foreground_weight, "foreground_weight", minimum=0)
        self.background = float(background)
        self.threshold = _check_positive(threshold, "threshold")

    def call(self, y_true, y_pred):
        difference = ops.max(ops.abs(y_true - self.background), axis=-1, keepdims=True)  # (batch, ..., 1)
        weights = 1.0 + self.foreground_weight * ops.cast(difference > self.threshold, y_true.dtype)
        return weighted_mse(y_true, y_pred, weights)

    def get_config(self):
        return {
            **super().get_config(),
            "foreground_weight": self.foreground_weight,
            "background": self.background,
            "threshold": self.threshold,
        }


@keras.saving.register_keras_serializable(package="mmgen_lib")
class SimilarityLogits(keras.layers.Layer):
    """Cosine-similarity logits with a learnable temperature, as in CLIP. Lesson 06.

    Holds one weight, ``log_scale = log(1 / temperature)``; the scale ``exp(log_scale)``
    is clipped at ``max_scale`` (CLIP uses 100) so training cannot make it explode.

    Args:
        temperature: initial temperature (CLIP: 0.07).
        learnable: train the temperature (True) or keep it fixed.
        max_scale: upper bound of ``1 / temperature``.

    Call arguments:
        inputs: a pair ``(a, b)`` of embeddings (n_a, dim) and (n_b, dim).

    Output shape:
        (n_a, n_b): ``exp(log_scale) * cos(a_i, b_j)``.

    Example:

    >>> import numpy as np
    >>> logits = SimilarityLogits(temperature=0.1)([np.eye(2, dtype="float32"), np.eye(2, dtype="float32")])
    >>> np.round(logits.numpy(), 3).tolist()
    [[10.0, 0.0], [0.0, 10.0]]
    """

    def __init__(self, temperature: float = 0.07, learnable: bool = True, max_scale: float = 100.0, **kwargs):
        super().__init__(**kwargs)
        self.temperature = _check_positive(temperature, "temperature")
        self.max_scale = _check_positive(max_scale, "max_scale")
        if 1.0 / self.temperature > self.max_scale:
            raise ValueError(
                f"1 / temperature must not exceed max_scale={self.max_scale}. Received: temperature={temperature}"
            )
        self.learnable = bool(learnable)
        self.log_scale = self.add_weight(
            name="log_scale",
            shape=(),
            trainable=self.learnable,
            initializer=keras.initializers.Constant(math.log(1.0 / self.temperature)),
        )
        self.built = True  # the only weight is created above; nothing depends on the input shape

    @property
    def scale(self):
        """``1 / temperature`` as used in the forward pass (clipped)."""
        return ops.minimum(ops.exp(self.log_scale), self.max_scale)

    def call(self, inputs):
        a, b = inputs
        return self.scale * ops.matmul(l2_normalize(a), ops.transpose(l2_normalize(b)))  # (n_a, n_b)

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], input_shape[1][0])

    def get_config(self):
        return {
            **super().get_config(),
            "temperature": self.temperature,
            "learnable": self.learnable,
            "max_scale": self.max_scale,
        }


@keras.saving.register_keras_serializable(package="mmgen_lib")
class MultimodalLoss(keras.layers.Layer):
    """The seed's ``L = alpha * L_CE + beta * L_cos + gamma * L_MSE``, fixed or learned weights. Lesson 07.

    The terms are computed elsewhere (the functions above) and passed in as a dict; this
    layer only weighs and adds them. A term whose weight is 0 is skipped (it need not
    even be computed). With ``weighting="uncertainty"`` each active term ``i`` also gets
    a learned log-variance ``s_i`` (Kendall, Gal & Cipolla, 2018) and contributes
    ``0.5 * (exp(-s_i) * w_i * L_i + s_i)``: minimising over ``s_i`` gives
    ``exp(s_i) = w_i * L_i``, so every term is rescaled by its own size and badly scaled
    terms cannot drown the others; the ``+ s_i`` stops all weights from going to zero.

    With ``adjustable=True`` (fixed weighting only) the three weights live in a non-trainable
    variable that :meth:`set_term_weights` changes, so one compiled training step serves every
    choice of weights (Keras traces ``fit``'s step once per model, not once per weight). Every
    term is then computed and required; a term whose weight is 0 adds exactly 0 to the total and
    to every gradient, so with Adam the parts only it trains do not move.

    Args:
        alpha, beta, gamma: non-negative weights of ``"ce"``, ``"cos"`` and ``"mse"``.
        weighting: ``"fixed"`` or ``"uncertainty"``.
        adjustable: keep the weights in a variable that :meth:`set_term_weights` changes.

    Call arguments:
        inputs: dict with scalar losses under ``"ce"``, ``"cos"``, ``"mse"`` (only the terms
            with a non-zero weight are required, unless ``adjustable``: then all three).

    Returns:
        the total loss, a scalar.

    Example:

    >>> import numpy as np
    >>> total = MultimodalLoss(alpha=1.0, beta=0.5, gamma=10.0)({"ce": 0.7, "cos": 0.2, "mse": 0.01})
    >>> round(float(total), 4)  # 0.7 + 0.5 * 0.2 + 10 * 0.01
    0.9
    """

    TERMS = ("ce", "cos", "mse")

    def __init__(
        self,
        alpha: float = 1.0,
        beta: float = 1.0,
        gamma: float = 1.0,
        weighting: str = "fixed",
        adjustable: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if weighting not in ("fixed", "uncertainty"):
            raise ValueError(f"weighting must be 'fixed' or 'uncertainty'. Received: weighting={weighting!r}")
        if not isinstance(adjustable, bool):
            raise TypeError(f"adjustable must be True or False. Received: adjustable={adjustable!r}")
        if adjustable and weighting == "uncertainty":
            raise ValueError(
                "adjustable=True is for fixed weights; weighting='uncertainty' learns them. "
                "Received: weighting='uncertainty', adjustable=True"
            )
        self.weighting, self.adjustable = weighting, adjustable
        self.term_weight_variable = None
        if adjustable:
            self.term_weight_variable = self.add_weight(
                name="term_weights", shape=(len(self.TERMS),), initializer="ones", trainable=False
            )
        self._store_weights(alpha, beta, gamma)
        self.log_variances = None
        if weighting == "uncertainty":
            self.log_variances = self.add_weight(
                name="log_variances", shape=(len(self.active_terms),), initializer="zeros"
            )
        self.built = True

    def _store_weights(self, alpha, beta, gamma):
        for name, value in (("alpha", alpha), ("beta", beta), ("gamma", gamma)):
            validation.number(value, name, minimum=0)
        if alpha == beta == gamma == 0:
            raise ValueError("at least one of alpha, beta, gamma must be > 0. Received: all zero")
        self.alpha, self.beta, self.gamma = float(alpha), float(beta), float(gamma)
        self.weights_by_term = dict(zip(self.TERMS, (self.alpha, self.beta, self.gamma)))
        if self.adjustable:  # every term stays in the (traced) sum; its weight is read from the variable
            self.active_terms = self.TERMS
            self.term_weight_variable.assign([self.alpha, self.beta, self.gamma])
        else:
            self.active_terms = tuple(t for t in self.TERMS if self.weights_by_term[t] > 0)

    def set_term_weights(self, alpha: float, beta: float, gamma: float) -> None:
        """Change the three weights (``adjustable=True`` only); a traced step that uses them is not retraced."""
        if not self.adjustable:
            raise ValueError(
                "set_term_weights needs a MultimodalLoss built with adjustable=True "
                "(fixed weights are part of the traced step). Received: adjustable=False"
            )
        self._store_weights(alpha, beta, gamma)

    def __call__(self, inputs, **kwargs):
        if not isinstance(inputs, dict):
            raise TypeError(
                f"MultimodalLoss takes a dict of term name -> scalar loss, e.g. "
                f"{{'ce': ..., 'cos': ..., 'mse': ...}}. Received: {type(inputs).__name__}"
            )
        inputs = {name: ops.convert_to_tensor(value, "float32") for name, value in inputs.items()}
        not_scalar = {name: tuple(value.shape) for name, value in inputs.items() if len(value.shape) != 0}
        if not_scalar:
            raise ValueError(
                f"MultimodalLoss adds scalar losses; reduce per-example losses first "
                f"(e.g. ops.mean). Received: shapes {not_scalar}"
            )
        return super().__call__(inputs, **kwargs)

    def call(self, inputs):
        missing = [t for t in self.active_terms if t not in inputs]
        if missing:
            raise ValueError(
                f"MultimodalLoss needs the terms {missing} (their weights are > 0). Received keys: {sorted(inputs)}"
            )
        total = 0.0
        for k, term in enumerate(self.active_terms):
            weight = self.term_weight_variable[k] if self.adjustable else self.weights_by_term[term]
            value = weight * ops.cast(inputs[term], "float32")
            if self.weighting == "uncertainty":
                s = self.log_variances[k]
                value = 0.5 * (ops.exp(-s) * value + s)
            total = total + value
        return total

    def term_weights(self) -> dict:
        """The effective weight of each active term: ``w_i`` (fixed) or ``0.5 * w_i * exp(-s_i)``."""
        if self.weighting == "fixed":
            return {t: self.weights_by_term[t] for t in self.active_terms}
        s = ops.convert_to_numpy(self.log_variances)
        return {t: float(0.5 * self.weights_by_term[t] * math.exp(-s[k])) for k, t in enumerate(self.active_terms)}

    def get_config(self):
        return {
            **super().get_config(),
            "alpha": self.alpha,
            "beta": self.beta,
            "gamma": self.gamma,
            "weighting": self.weighting,
            "adjustable": self.adjustable,
        }
