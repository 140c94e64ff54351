"""Fusion layers: five ways to combine two or three modality representations (lesson 05).

Every layer takes a LIST of modality tensors, ``[z_v, z_a]`` or ``[z_t, z_v, z_a]``:

============================  ==============================  ==========================================
layer                         inputs (per modality)           output
============================  ==============================  ==========================================
:class:`EarlyFusion`          vectors (batch, d_i)            (batch, sum d_i) or (batch, units)
:class:`LateFusion`           logits (batch, k)               logits (batch, k)
:class:`GatedFusion`          vectors (batch, d_i)            (batch, units)
:class:`TensorFusion`         vectors (batch, d_i)            (batch, prod (d_i + 1)) or (batch, units)
:class:`CrossAttentionFusion` sequences (batch, len_i, d_i)   (batch, n * dim) with mean pooling
============================  ==============================  ==========================================

Missing modalities: every layer's ``call`` takes an optional ``modality_mask``
(batch, n_modalities) of 0/1 (1 = present). A missing modality never leaks into the
output: its features are zeroed (early, tensor), it gets no vote (late), no gate
weight (gated) and no attention (cross-attention). The mask's shape is always checked,
and a concrete (NumPy) mask is also checked for values other than 0/1 and for
examples with no modality at all, which have nothing to fuse.
"""

from __future__ import annotations

import keras
import numpy as np
from keras import ops

from mmgen_lib import validation

__all__ = ["EarlyFusion", "LateFusion", "GatedFusion", "TensorFusion", "CrossAttentionFusion"]

_NEG_INF = -1e9  # added to the logits of a missing modality before a softmax


def _is_shape(value) -> bool:
    return isinstance(value, (list, tuple)) and all(v is None or isinstance(v, (int, np.integer)) for v in value)


class _ModalityFusion(keras.layers.Layer):
    """Shared input checks for the fusion layers (not public)."""

    input_rank = 2  # (batch, dim); sequences (batch, len, dim) for cross-attention
    input_kind = "vectors (batch, dim)"

    def _check_input_shapes(self, input_shape) -> list[tuple]:
        if _is_shape(input_shape) or not isinstance(input_shape, (list, tuple)):
            raise TypeError(
                f"{type(self).__name__} expects a list of 2 or 3 modality tensors, e.g. "
                f"[z_image, z_audio]. Received a single input of shape {input_shape}"
            )
        shapes = [tuple(shape) for shape in input_shape]
        if len(shapes) not in (2, 3):
            raise ValueError(f"{type(self).__name__} fuses 2 or 3 modalities. Received {len(shapes)} inputs")
        for k, shape in enumerate(shapes):
            if len(shape) != self.input_rank or shape[-1] is None:
                raise ValueError(
                    f"{type(self).__name__} expects {self.input_kind} for every modality. "
                    f"Received input {k} of shape {shape}"
                )
        return shapes

    def _check_call_inputs(self, inputs) -> list:
        if not isinstance(inputs, (list, tuple)):
            raise TypeError(
                f"{type(self).__name__} expects a list of modality tensors. Received a {type(inputs).__name__}"
            )
        inputs = list(inputs)
        if len(inputs) != self.num_modalities:
            raise ValueError(
                f"{type(self).__name__} was built for {self.num_modalities} modalities. Received {len(inputs)} inputs"
            )
        batch_sizes = {x.shape[0] for x in inputs if x.shape[0] is not None}
        if len(batch_sizes) > 1:
            raise ValueError(
                f"all modalities must have the same batch size. Received shapes {[tuple(x.shape) for x in inputs]}"
            )
        return inputs

    def _mask_columns(self, modality_mask, inputs):
        """The mask as one (batch, 1) float column per modality, or None (all present)."""
        if modality_mask is None:
            return None
        mask = ops.cast(
            validation.modality_mask(modality_mask, self.num_modalities, inputs[0].shape[0]), self.compute_dtype
        )  # (batch, n)
        return [mask[:, k : k + 1] for k in range(self.num_modalities)]  # n x (batch, 1)

    def get_build_config(self):
        # Build only from the modality inputs (a tensor modality_mask must not enter build()).
        config = super().get_build_config()
        if config and "shapes_dict" in config:
            return {"input_shape": config["shapes_dict"]["inputs_shape"]}
        return config


def _check_units(name, value, allow_none=True):
    return validation.positive_int(value, name, allow_none=allow_none)


def _check_rate(value):
    return validation.rate(value, "dropout")


@keras.saving.register_keras_serializable(package="mmgen_lib")
class EarlyFusion(_ModalityFusion):
    """Early fusion: concatenate the modality vectors, optionally followed by a Dense layer.

    ``z = [z_1; z_2; (z_3)]`` and, with ``units``, ``activation(W z + b)``. Taught in lesson 05.

    Args:
        units: width of the Dense layer after the concatenation; None = concatenation only.
        activation: activation of that Dense layer.
        dropout: dropout rate on the concatenated vector (training only).

    Call arguments:
        inputs: list of 2 or 3 tensors (batch, d_i).
        modality_mask: optional (batch, n) of 0/1; a missing modality's vector is zeroed.
        training: whether dropout is active.

    Input shape: list of (batch, d_i). Output shape: (batch, sum d_i) or (batch, units).

    Example:

    >>> import numpy as np
    >>> z_v, z_a = np.ones((2, 3), "float32"), np.ones((2, 5), "float32")
    >>> tuple(EarlyFusion()([z_v, z_a]).shape)
    (2, 8)
    """

    def __init__(self, units=None, activation="relu", dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.units = _check_units("units", units)
        self.activation = activation
        self.dropout = _check_rate(dropout)
        self.dropout_layer = keras.layers.Dropout(self.dropout)
        self.dense = None if self.units is None else keras.layers.Dense(self.units, activation=activation)

    def build(self, input_shape):
        shapes = self._check_input_shapes(input_shape)
        self.num_modalities = len(shapes)
        if self.dense is not None:
            self.dense.build((None, sum(s[-1] for s in shapes)))

    def call(self, inputs, modality_mask=None, training=False):
        inputs = self._check_call_inputs(inputs)
        masks = self._mask_columns(modality_mask, inputs)
        if masks is not None:
            inputs = [x * m for x, m in zip(inputs, masks)]
        z = ops.concatenate(inputs, axis=-1)  # (batch, sum d_i)
        z = self.dropout_layer(z, training=training)
        return z if self.dense is None else self.dense(z)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "activation": self.activation, "dropout": self.dropout}


@keras.saving.register_keras_serializable(package="mmgen_lib")
class LateFusion(_ModalityFusion):
    """Late fusion: combine the per-modality predictions (logits) of per-modality heads.

    With ``log p_i = log_softmax(s_i)`` for the logits ``s_i`` of modality ``i``:

    - ``"product"``: ``sum_i log p_i`` (a product of experts: every modality can veto);
    - ``"average"``: ``log(mean_i p_i)`` (a mixture: every modality gets an equal vote);
    - ``"weighted"``: ``sum_i w_i log p_i`` with learned ``w = softmax(a)`` (one weight per modality).

    The output is a vector of logits (use ``from_logits=True`` losses / a softmax on top).
    Taught in lesson 05.

    Args:
        combine: one of ``"product"``, ``"average"``, ``"weighted"``.

    Call arguments:
        inputs: list of 2 or 3 logit tensors (batch, num_classes), same num_classes.
        modality_mask: optional (batch, n) of 0/1; a missing modality gets no vote.

    Input shape: list of (batch, k). Output shape: (batch, k).

    Example:

    >>> import numpy as np
    >>> logits = [np.zeros((2, 4), "float32"), np.ones((2, 4), "float32")]
    >>> tuple(LateFusion()(logits).shape)
    (2, 4)
    """

    COMBINE_MODES = ("product", "average", "weighted")

    def __init__(self, combine="product", **kwargs):
        super().__init__(**kwargs)
        if combine not in self.COMBINE_MODES:
            raise ValueError(f"combine must be one of {self.COMBINE_MODES}. Received: combine={combine!r}")
        self.combine = combine

    def build(self, input_shape):
        shapes = self._check_input_shapes(input_shape)
        if len({s[-1] for s in shapes}) != 1:
            raise ValueError(
                f"LateFusion combines predictions over the same classes: every input needs the "
                f"same last dimension. Received shapes {shapes}"
            )
        self.num_modalities = len(shapes)
        if self.combine == "weighted":
            self.modality_logits = self.add_weight(
                shape=(self.num_modalities,), initializer="zeros", name="modality_logits"
            )

    def call(self, inputs, modality_mask=None, training=False):
        inputs = self._check_call_inputs(inputs)
        masks = self._mask_columns(modality_mask, inputs)
        log_probs = ops.stack([ops.log_softmax(s, axis=-1) for s in inputs], axis=1)  # (batch, n, k)
        mask = (
            ops.ones_like(log_probs[:, :, :1])
            if masks is None
            else ops.expand_dims(ops.concatenate(masks, axis=-1), -1)
        )  # (batch, n, 1)
        if self.combine == "product":
            return ops.sum(mask * log_probs, axis=1)  # (batch, k)
        if self.combine == "average":
            probs = ops.sum(mask * ops.exp(log_probs), axis=1) / ops.maximum(ops.sum(mask, axis=1), 1.0)
            return ops.log(probs + 1e-7)
        weight_logits = self.modality_logits[None, :, None] + (1.0 - mask) * _NEG_INF
        weights = ops.softmax(weight_logits, axis=1) * mask  # (batch, n, 1), missing -> 0
        return ops.sum(weights * log_probs, axis=1)

    def get_config(self):
        return {**super().get_config(), "combine": self.combine}


@keras.saving.register_keras_serializable(package="mmgen_lib")
class GatedFusion(_ModalityFusion):
    """Gated fusion (the Gated Multimodal Unit of Arevalo et al. 2017, for 2 or 3 modalities).

    .. math::
        h_i = \\tanh(W_i z_i + b_i), \\qquad
        g = \\mathrm{softmax}_i\\big(U_i [z_1; \\dots; z_n] + c_i\\big), \\qquad
        h = \\sum_i g_i \\odot h_i

    The gate ``g`` decides, per example and per unit, how much each modality counts; for two
    modalities the softmax over two gates is the GMU's sigmoid gate ``z h_1 + (1 - z) h_2``.
    Taught in lesson 05.

    Args:
        units: width of the fused vector.
        return_gates: also return the gate weights (batch, n, units).

    Call arguments:
        inputs: list of 2 or 3 tensors (batch, d_i).
        modality_mask: optional (batch, n) of 0/1; a missing modality gets gate weight 0.

    Input shape: list of (batch, d_i). Output shape: (batch, units) [, gates (batch, n, units)].

    Example:

    >>> import numpy as np
    >>> z_v, z_a = np.ones((2, 3), "float32"), np.ones((2, 5), "float32")
    >>> tuple(GatedFusion(units=6)([z_v, z_a]).shape)
    (2, 6)
    """

    def __init__(self, units=64, return_gates=False, **kwargs):
        super().__init__(**kwargs)
        self.units = _check_units("units", units, allow_none=False)
        self.return_gates = bool(return_gates)

    def build(self, input_shape):
        # The number of per-modality layers depends on the inputs, so they are made here.
        shapes = self._check_input_shapes(input_shape)
        self.num_modalities = len(shapes)
        self.projections = [
            keras.layers.Dense(self.units, activation="tanh", name=f"projection_{k}")
            for k in range(self.num_modalities)
        ]
        for projection, shape in zip(self.projections, shapes):
            projection.build((None, shape[-1]))
        self.gate = keras.layers.Dense(self.num_modalities * self.units, name="gate")
        self.gate.build((None, sum(s[-1] for s in shapes)))

    def call(self, inputs, modality_mask=None, training=False):
        inputs = self._check_call_inputs(inputs)
        masks = self._mask_columns(modality_mask, inputs)
        if masks is not None:
            inputs = [x * m for x, m in zip(inputs, masks)]
        hidden = ops.stack([p(x) for p, x in zip(self.projections, inputs)], axis=1)  # (batch, n, units)
        gate_logits = ops.reshape(
            self.gate(ops.concatenate(inputs, axis=-1)), (-1, self.num_modalities, self.units)
        )  # (batch, n, units)
        if masks is not None:
            mask = ops.expand_dims(ops.concatenate(masks, axis=-1), -1)  # (batch, n, 1)
            gates = ops.softmax(gate_logits + (1.0 - mask) * _NEG_INF, axis=1) * mask
        else:
            gates = ops.softmax(gate_logits, axis=1)
        fused = ops.sum(gates * hidden, axis=1)  # (batch, units)
        return (fused, gates) if self.return_gates else fused

    def get_config(self):
        return {**super().get_config(), "units": self.units, "return_gates": self.return_gates}


@keras.saving.register_keras_serializable(package="mmgen_lib")
class TensorFusion(_ModalityFusion):
    """Tensor fusion (Zadeh et al. 2017): the flattened outer product of the ``[z_i; 1]`` vectors.

    For two modalities ``z = vec([z_1; 1] \u2297 [z_2; 1])`` holds every product
    ``z_1[j] z_2[k]`` (bimodal terms) and, thanks to the appended 1, ``z_1`` and ``z_2``
    themselves (unimodal terms) and a constant 1. The size is ``prod_i (d_i + 1)``, so the
    inputs are usually projected to a few dimensions first (``projection_dim``).
    The flattening order is NumPy's: ``np.outer(a, b).ravel()``. Taught in lesson 05.

    Args:
        projection_dim: if set, each modality first goes through ``Dense(projection_dim, activation)``.
        units: if set, a ``Dense(units, activation)`` after the outer product.
        activation: activation of those Dense layers.

    Call arguments:
        inputs: list of 2 or 3 tensors (batch, d_i).
        modality_mask: optional (batch, n) of 0/1; a missing modality's vector is zeroed,
            so only the other modalities' terms remain (the appended 1 keeps them).

    Input shape: list of (batch, d_i).
    Output shape: (batch, prod (d_i + 1)) (with ``d_i = projection_dim`` if set) or (batch, units).

    Example:

    >>> import numpy as np
    >>> z_v, z_a = np.ones((2, 3), "float32"), np.ones((2, 5), "float32")
    >>> tuple(TensorFusion()([z_v, z_a]).shape)  # (3 + 1) * (5 + 1)
    (2, 24)
    """

    def __init__(self, projection_dim=None, units=None, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.projection_dim = _check_units("projection_dim", projection_dim)
        self.units = _check_units("units", units)
        self.activation = activation
        self.dense = None if self.units is None else keras.layers.Dense(self.units, activation=activation)

    def build(self, input_shape):
        shapes = self._check_input_shapes(input_shape)
        self.num_modalities = len(shapes)
        dims = [s[-1] for s in shapes]
        self.projections = []
        if self.projection_dim is not None:
            self.projections = [
                keras.layers.Dense(self.projection_dim, activation=self.activation, name=f"projection_{k}")
                for k in range(len(shapes))
            ]
            for projection, dim in zip(self.projections, dims):
                projection.build((None, dim))
            dims = [self.projection_dim] * len(shapes)
        self.output_size = int(np.prod([d + 1 for d in dims]))
        if self.dense is not None:
            self.dense.build((None, self.output_size))

    def call(self, inputs, modality_mask=None, training=False):
        inputs = self._check_call_inputs(inputs)
        if self.projections:
            inputs = [p(x) for p, x in zip(self.projections, inputs)]
        masks = self._mask_columns(modality_mask, inputs)
        if masks is not None:
            inputs = [x * m for x, m in zip(inputs, masks)]
        ones = ops.ones_like(inputs[0][:, :1])  # (batch, 1)
        padded = [ops.concatenate([x, ones], axis=-1) for x in inputs]  # (batch, d_i + 1)
        if len(padded) == 2:
            outer = ops.einsum("bi,bj->bij", *padded)  # (batch, d_1+1, d_2+1)
        else:
            outer = ops.einsum("bi,bj,bk->bijk", *padded)  # (batch, d_1+1, d_2+1, d_3+1)
        z = ops.reshape(outer, (-1, self.output_size))  # (batch, prod(d_i + 1))
        return z if self.dense is None else self.dense(z)

    def get_config(self):
        return {
            **super().get_config(),
            "projection_dim": self.projection_dim,
            "units": self.units,
            "activation": self.activation,
        }


@keras.saving.register_keras_serializable(package="mmgen_lib")
class CrossAttentionFusion(_ModalityFusion):
    """Cross-attention fusion: each modality's sequence attends to the other modalities' sequences.

    Each sequence is projected to a common width ``p_i = x_i W_i + b_i`` (batch, len_i, dim).
    For modality ``i`` the queries are ``p_i`` and the keys/values the other modalities'
    positions, concatenated along the sequence axis (as in MulT, Tsai et al. 2019):

    .. math:: a_i = \\mathrm{MultiHead}(p_i, [p_j]_{j \\ne i}), \\quad
              \\mathrm{Attention}(Q, K, V) = \\mathrm{softmax}(Q K^\\top / \\sqrt{d_k}) V

    then ``o_i = p_i + a_i`` (residual) is pooled over its positions and the pooled vectors
    are concatenated. Taught in lesson 05.

    Args:
        dim: common width of the projected sequences.
        num_heads: attention heads.
        key_dim: width of each head's queries/keys; default ``dim // num_heads``.
        pooling: ``"mean"`` (masked mean over positions) or ``"flatten"`` (keeps position;
            needs fixed sequence lengths).
        dropout: dropout on the attention weights (training only).
        return_attention_scores: also return a list of the n attention-weight tensors
            (batch, num_heads, len_i, sum_{j != i} len_j).

    Call arguments:
        inputs: list of 2 or 3 sequences (batch, len_i, d_i).
        modality_mask: optional (batch, n) of 0/1; a missing modality is not attended to and its
            own pooled vector is zero.
        mask: optional list of per-sequence padding masks (batch, len_i) (None entries allowed);
            padded positions are neither attended to nor pooled.
        training: whether dropout is active.

    Input shape: list of (batch, len_i, d_i).
    Output shape: (batch, n * dim) with mean pooling, (batch, sum_i len_i * dim) with flatten.

    Example:

    >>> import numpy as np
    >>> grid, frames = np.ones((2, 16, 8), "float32"), np.ones((2, 7, 10), "float32")
    >>> tuple(CrossAttentionFusion(dim=8, num_heads=2)([grid, frames]).shape)
    (2, 16)
    """

    input_rank = 3
    input_kind = "sequences (batch, seq_len, dim)"
    POOLINGS = ("mean", "flatten")

    def __init__(
        self, dim=32, num_heads=2, key_dim=None, pooling="mean", dropout=0.0, return_attention_scores=False, **kwargs
    ):
        super().__init__(**kwargs)
        self.dim = _check_units("dim", dim, allow_none=False)
        self.num_heads = _check_units("num_heads", num_heads, allow_none=False)
        if key_dim is None and self.dim % self.num_heads:
            raise ValueError(
                f"dim must be divisible by num_heads when key_dim is None. Received: dim={dim}, num_heads={num_heads}"
            )
        self.key_dim = _check_units("key_dim", key_dim) or self.dim // self.num_heads
        if pooling not in self.POOLINGS:
            raise ValueError(f"pooling must be one of {self.POOLINGS}. Received: pooling={pooling!r}")
        self.pooling = pooling
        self.dropout = _check_rate(dropout)
        self.return_attention_scores = bool(return_attention_scores)

    def build(self, input_shape):
        # The number of per-modality layers depends on the inputs, so they are made here.
        shapes = self._check_input_shapes(input_shape)
        if self.pooling == "flatten" and any(s[1] is None for s in shapes):
            raise ValueError(f"pooling='flatten' needs fixed sequence lengths. Received shapes {shapes}")
        self.num_modalities = len(shapes)
        self.projections, self.attentions = [], []
        for k, shape in enumerate(shapes):
            projection = keras.layers.Dense(self.dim, name=f"projection_{k}")
            projection.build((None, None, shape[-1]))
            attention = keras.layers.MultiHeadAttention(
                self.num_heads, self.key_dim, dropout=self.dropout, name=f"attention_{k}"
            )
            attention.build((None, None, self.dim), (None, None, self.dim))
            self.projections.append(projection)
            self.attentions.append(attention)

    def call(self, inputs, modality_mask=None, mask=None, training=False):
        inputs = self._check_call_inputs(inputs)
        n = self.num_modalities
        masks = self._mask_columns(modality_mask, inputs)
        seq_masks = list(mask) if isinstance(mask, (list, tuple)) else [None] * n
        if len(seq_masks) != n:
            raise ValueError(f"mask must be a list of {n} padding masks (or None). Received {len(seq_masks)}")
        projected = [p(x) for p, x in zip(self.projections, inputs)]  # n x (batch, len_i, dim)
        keep = []  # n x (batch, len_i): 1 where a position exists and its modality is present
        for k, x in enumerate(projected):
            m = ops.ones_like(x[:, :, 0]) if seq_masks[k] is None else ops.cast(seq_masks[k], x.dtype)
            keep.append(m if masks is None else m * masks[k])
        pooled, scores = [], []
        for i in range(n):
            others = [j for j in range(n) if j != i]
            context = ops.concatenate([projected[j] for j in others], axis=1)  # (batch, sum len_j, dim)
            key_keep = ops.concatenate([keep[j] for j in others], axis=1)  # (batch, sum len_j)
            attention_mask = ops.expand_dims(key_keep, 1) > 0  # (batch, 1, sum len_j)
            attention_mask = ops.logical_and(attention_mask, ops.ones_like(projected[i][:, :, :1]) > 0)
            attended, weights = self.attentions[i](
                projected[i], context, attention_mask=attention_mask, return_attention_scores=True, training=training
            )
            # A query with no key to look at (all others missing) gets no update, not a uniform average.
            has_keys = ops.cast(ops.max(key_keep, axis=1) > 0, attended.dtype)[:, None, None]
            out = (projected[i] + has_keys * attended) * ops.expand_dims(keep[i], -1)  # (batch, len_i, dim)
            if self.pooling == "mean":
                pooled.append(ops.sum(out, axis=1) / ops.maximum(ops.sum(keep[i], axis=1, keepdims=True), 1.0))
            else:
                pooled.append(ops.reshape(out, (-1, out.shape[1] * self.dim)))
            scores.append(weights)
        fused = ops.concatenate(pooled, axis=-1)  # (batch, n * dim) or (batch, sum len_i * dim)
        return (fused, scores) if self.return_attention_scores else fused

    def compute_mask(self, inputs, previous_mask):
        return None  # the fused vector has no positions to mask

    def get_config(self):
        return {
            **super().get_config(),
            "dim": self.dim,
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "pooling": self.pooling,
            "dropout": self.dropout,
            "return_attention_scores": self.return_attention_scores,
        }
