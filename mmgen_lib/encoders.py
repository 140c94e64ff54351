"""One encoder per modality: text E_t (lesson 02), image E_v (lesson 03), audio E_a (lesson 04).

Each encoder maps one modality's model-ready array (as made by
:func:`mmgen_lib.pipeline.split_arrays`) to a float32 vector z of a fixed size, and can
also return the sequence (or grid) it pooled, for cross-attention (lesson 05) and
decoders that attend (lesson 08):

==============  ==========================  ==========================================
encoder         input                       output (vector, optional sequence)
==============  ==========================  ==========================================
TextEncoder     ids (batch, seq_len) int    (batch, units), (batch, seq_len, units)
ImageEncoder    (batch, 32, 32, 3) in [0,1] (batch, output_dim), (batch, 16, filters[-1])
AudioEncoder    log-mel (batch, 28, 40)     (batch, output_dim), (batch, 7, 10 * filters[-1])
==============  ==========================  ==========================================
"""

from __future__ import annotations

import keras
from keras import layers, ops

from mmgen_lib import validation

__all__ = [
    "masked_mean",
    "MaskedMeanPooling",
    "AttentionPooling",
    "TextEncoder",
    "ResidualBlock",
    "ConvStack",
    "ImageEncoder",
    "AudioEncoder",
]

TEXT_KINDS = ("gru", "lstm", "transformer")
POOLINGS = ("last", "mean", "attention")


def masked_mean(sequence, mask=None):
    """Mean over time of the positions where ``mask`` is True (lesson 02).

    ``sum_t m_t h_t / max(sum_t m_t, 1)``: padding does not count, and an all-padding row gives 0.
    (batch, seq_len, dim), (batch, seq_len) -> (batch, dim).
    """
    if mask is None:
        return ops.mean(sequence, axis=1)
    weights = ops.expand_dims(ops.cast(mask, sequence.dtype), -1)  # (batch, seq_len, 1)
    total = ops.sum(sequence * weights, axis=1)  # (batch, dim)
    return total / ops.maximum(ops.sum(weights, axis=1), 1.0)


@keras.saving.register_keras_serializable(package="mmgen_lib")
class MaskedMeanPooling(layers.Layer):
    """Average a sequence over its non-padded positions (lesson 02).

    Call arguments:
        inputs: (batch, seq_len, dim) float tensor.
        mask: optional (batch, seq_len) bool tensor, True for real tokens.

    Input shape: (batch, seq_len, dim). Output shape: (batch, dim).

    Example:

    >>> import numpy as np
    >>> layer = MaskedMeanPooling()
    >>> x = np.ones((2, 5, 4), "float32")
    >>> tuple(layer(x).shape)
    (2, 4)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        return masked_mean(inputs, mask)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


@keras.saving.register_keras_serializable(package="mmgen_lib")
class AttentionPooling(layers.Layer):
    """Attention pooling: a learned score per position, softmax over real tokens, weighted sum (lesson 02).

    ``a = softmax_t(w^T tanh(W h_t))`` with padded positions given weight 0, then ``z = sum_t a_t h_t``.

    Args:
        hidden_dim: size of the scoring MLP's hidden layer.

    Call arguments:
        inputs: (batch, seq_len, dim). mask: optional (batch, seq_len) bool, True = keep.
        return_weights: also return the attention weights (batch, seq_len).

    Input shape: (batch, seq_len, dim). Output shape: (batch, dim).

    Example:

    >>> import numpy as np
    >>> layer = AttentionPooling(hidden_dim=8)
    >>> tuple(layer(np.ones((2, 5, 4), "float32")).shape)
    (2, 4)
    """

    def __init__(self, hidden_dim=32, **kwargs):
        super().__init__(**kwargs)
        validation.positive_int(hidden_dim, "hidden_dim")
        self.hidden_dim = int(hidden_dim)
        self.supports_masking = True
        self.hidden = layers.Dense(self.hidden_dim, activation="tanh", name="hidden")
        self.score = layers.Dense(1, use_bias=False, name="score")

    def build(self, input_shape):
        self.hidden.build(input_shape)
        self.score.build((*input_shape[:-1], self.hidden_dim))

    def call(self, inputs, mask=None, return_weights=False):
        scores = ops.squeeze(self.score(self.hidden(inputs)), -1)  # (batch, seq_len)
        if mask is not None:
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)  # (batch, seq_len)
        pooled = ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)  # (batch, dim)
        return (pooled, weights) if return_weights else pooled

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "hidden_dim": self.hidden_dim}


@keras.saving.register_keras_serializable(package="mmgen_lib")
class TextEncoder(layers.Layer):
    """E_t: token ids -> a text vector (and optionally the per-token states). Taught in lesson 02.

    Embedding (id 0 = ``<pad>`` is masked) -> a GRU, an LSTM (the seed article's E_t) or a
    one-block Transformer encoder -> pooling over the real tokens.

    Args:
        vocab_size: number of token ids (``tokenizer.vocab_size``).
        embed_dim: size of the word embeddings.
        units: size of the recurrent state / Transformer width = size of the output vector.
        kind: ``"gru"``, ``"lstm"`` or ``"transformer"``.
        num_heads: attention heads (Transformer only); must divide ``units``.
        max_len: longest sequence (Transformer only: size of the learned position embedding).
        pooling: ``"last"`` (final state of the RNN over real tokens; for the Transformer a
            masked mean), ``"mean"`` (masked mean) or ``"attention"`` (:class:`AttentionPooling`).
        return_sequences: if True, return ``(vector, sequence)``.
        dropout: dropout rate on the output vector during training.

    Call arguments:
        inputs: int token ids (batch, seq_len), right-padded with 0.
        training: Python bool, dropout only when True.

    Input shape: (batch, seq_len). Output shape: (batch, units), or the tuple
    ((batch, units), (batch, seq_len, units)); the sequence's padding mask is
    :meth:`mask_from` (ids).

    Example:

    >>> import numpy as np
    >>> encoder = TextEncoder(vocab_size=20, units=8)
    >>> ids = np.array([[2, 5, 7, 3, 0], [2, 9, 3, 0, 0]])
    >>> tuple(encoder(ids).shape)
    (2, 8)
    """

    def __init__(
        self,
        vocab_size,
        embed_dim=32,
        units=64,
        kind="gru",
        num_heads=2,
        max_len=16,
        pooling="last",
        return_sequences=False,
        dropout=0.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("vocab_size", vocab_size),
            ("embed_dim", embed_dim),
            ("units", units),
            ("num_heads", num_heads),
            ("max_len", max_len),
        ):
            validation.positive_int(value, name)
        if kind not in TEXT_KINDS:
            raise ValueError(f"kind must be one of {TEXT_KINDS}. Received: kind={kind!r}")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}. Received: pooling={pooling!r}")
        if kind == "transformer" and units % num_heads:
            raise ValueError(f"units must be divisible by num_heads. Received: units={units}, num_heads={num_heads}")
        validation.rate(dropout)
        self.vocab_size, self.embed_dim, self.units = int(vocab_size), int(embed_dim), int(units)
        self.kind, self.num_heads, self.max_len, self.pooling = kind, int(num_heads), int(max_len), pooling
        self.return_sequences, self.dropout = bool(return_sequences), float(dropout)

        self.embedding = layers.Embedding(self.vocab_size, self.embed_dim, mask_zero=True, name="embedding")
        if kind == "gru":
            self.rnn = layers.GRU(self.units, return_sequences=True, return_state=True, name="gru")
        elif kind == "lstm":
            self.rnn = layers.LSTM(self.units, return_sequences=True, return_state=True, name="lstm")
        else:
            self.positions = layers.Embedding(self.max_len, self.embed_dim, name="positions")
            self.project = layers.Dense(self.units, name="project")
            self.attention = layers.MultiHeadAttention(self.num_heads, self.units // self.num_heads, name="attention")
            self.norm1 = layers.LayerNormalization(name="norm1")
            self.ffn1 = layers.Dense(2 * self.units, activation="relu", name="ffn1")
            self.ffn2 = layers.Dense(self.units, name="ffn2")
            self.norm2 = layers.LayerNormalization(name="norm2")
        self.attention_pool = AttentionPooling(self.units, name="attention_pool") if pooling == "attention" else None
        self.output_dropout = layers.Dropout(self.dropout)

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"TextEncoder expects token ids of shape (batch, seq_len). Received shape {input_shape}")
        seq_len = input_shape[1]
        if self.kind == "transformer" and seq_len is not None and seq_len > self.max_len:
            raise ValueError(f"sequences of length {seq_len} are longer than max_len={self.max_len}")
        batch = input_shape[0]
        self.embedding.build(input_shape)
        if self.kind == "transformer":
            self.positions.build((seq_len,))
            self.project.build((batch, seq_len, self.embed_dim))
            hidden = (batch, seq_len, self.units)
            self.attention.build(hidden, hidden)
            for layer in (self.norm1, self.norm2, self.ffn1):
                layer.build(hidden)
            self.ffn2.build((batch, seq_len, 2 * self.units))
        else:
            self.rnn.build((batch, seq_len, self.embed_dim))
        if self.attention_pool is not None:
            self.attention_pool.build((batch, seq_len, self.units))

    @staticmethod
    def mask_from(ids):
        """The padding mask of token ids: True for real tokens, False for ``<pad>`` (id 0)."""
        return ops.not_equal(ids, 0)

    def _transformer(self, ids, mask, training):
        seq_len = ops.shape(ids)[1]
        if isinstance(seq_len, int) and seq_len > self.max_len:
            raise ValueError(f"sequences of length {seq_len} are longer than max_len={self.max_len}")
        x = self.embedding(ids) + self.positions(ops.arange(seq_len))  # (batch, seq_len, embed_dim)
        x = self.project(x)  # (batch, seq_len, units)
        attention_mask = ops.expand_dims(mask, 1)  # (batch, 1, seq_len): every query sees only real keys
        x = self.norm1(x + self.attention(x, x, attention_mask=attention_mask, training=training))
        return self.norm2(x + self.ffn2(self.ffn1(x)))  # (batch, seq_len, units)

    def call(self, inputs, training=False):
        dtype = keras.backend.standardize_dtype(inputs.dtype)
        if "int" not in dtype:
            raise TypeError(f"TextEncoder expects integer token ids. Received dtype {dtype}")
        mask = self.mask_from(inputs)  # (batch, seq_len)
        if self.kind == "transformer":
            sequence = self._transformer(inputs, mask, training)
            last = None
        else:
            sequence, last, *_ = self.rnn(self.embedding(inputs), mask=mask, training=training)
        if self.pooling == "attention":
            vector = self.attention_pool(sequence, mask=mask)
        elif self.pooling == "mean" or last is None:
            vector = masked_mean(sequence, mask)
        else:
            vector = last  # the state after the last real token (masked steps keep the state)
        vector = self.output_dropout(vector, training=training)  # (batch, units)
        return (vector, sequence) if self.return_sequences else vector

    def compute_mask(self, inputs, mask=None):
        # The vector has no time axis; the sequence keeps the padding mask, so that layers
        # reading it (e.g. attention in lesson 05) skip the padded positions automatically.
        return (None, self.mask_from(inputs)) if self.return_sequences else None

    def compute_output_shape(self, input_shape):
        vector = (input_shape[0], self.units)
        return (vector, (*input_shape[:2], self.units)) if self.return_sequences else vector

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embed_dim": self.embed_dim,
            "units": self.units,
            "kind": self.kind,
            "num_heads": self.num_heads,
            "max_len": self.max_len,
            "pooling": self.pooling,
            "return_sequences": self.return_sequences,
            "dropout": self.dropout,
        }


@keras.saving.register_keras_serializable(package="mmgen_lib")
class ResidualBlock(layers.Layer):
    """``relu(x + conv(relu(conv(x))))``: two 3x3 convolutions and a skip connection (lesson 03).

    The skip lets the block start as (almost) the identity, so stacking blocks cannot make
    the network worse at the start of training (He et al., 2016).

    Args:
        filters: channels of both convolutions; must equal the input's channels.

    Input shape: (batch, height, width, filters). Output shape: the same.

    Example:

    >>> import numpy as np
    >>> block = ResidualBlock(4)
    >>> tuple(block(np.ones((2, 8, 8, 4), "float32")).shape)
    (2, 8, 8, 4)
    """

    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        validation.positive_int(filters, "filters")
        self.filters = int(filters)
        self.conv1 = layers.Conv2D(self.filters, 3, padding="same", activation="relu", name="conv1")
        self.conv2 = layers.Conv2D(self.filters, 3, padding="same", name="conv2")

    def build(self, input_shape):
        if input_shape[-1] != self.filters:
            raise ValueError(
                f"ResidualBlock(filters={self.filters}) needs inputs with {self.filters} channels. "
                f"Received shape {input_shape}"
            )
        self.conv1.build(input_shape)
        self.conv2.build((*input_shape[:-1], self.filters))

    def call(self, inputs):
        return ops.relu(inputs + self.conv2(self.conv1(inputs)))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "filters": self.filters}


class ConvStack:
    """The image convolution stack shared by ImageEncoder (lesson 03), AttributeProbe (09) and the VAE (10).

    Per stage: ``Conv2D(filters[k], 3x3, same, relu)`` named ``conv{k}``, optionally a
    :class:`ResidualBlock` named ``residual{k}``, then ``MaxPooling2D(2)``: each stage halves
    height and width (32 -> 16 -> 8 -> 4 for three stages). Not a layer itself: the owner keeps
    ``convs``, ``blocks`` and ``pools`` as its own attributes, so weight names and order are those
    of the owner (``image_encoder/conv0/kernel``), and :meth:`layers` splices the stack into a
    ``keras.Sequential``.

    Example:

    >>> stack = ConvStack((8, 16))
    >>> [layer.name for layer in stack.layers()]
    ['conv0', 'pool0', 'conv1', 'pool1']
    >>> stack.output_shape((None, 32, 32, 3))
    (None, 8, 8, 16)
    """

    def __init__(self, filters, residual: bool = False):
        self.filters = validation.positive_int_sequence(filters, "filters")
        self.residual = bool(residual)
        self.convs = [
            layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{k}") for k, f in enumerate(self.filters)
        ]
        self.blocks = [ResidualBlock(f, name=f"residual{k}") for k, f in enumerate(self.filters)] if residual else []
        self.pools = [layers.MaxPooling2D(2, name=f"pool{k}") for k in range(len(self.filters))]

    def layers(self) -> list:
        """Every layer in call order (conv, [residual,] pool per stage)."""
        blocks = self.blocks or [None] * len(self.convs)
        return [layer for stage in zip(self.convs, blocks, self.pools) for layer in stage if layer is not None]

    def output_shape(self, input_shape) -> tuple:
        """(batch, height / 2^stages, width / 2^stages, filters[-1])."""
        scale = 2 ** len(self.filters)
        return (input_shape[0], input_shape[1] // scale, input_shape[2] // scale, self.filters[-1])

    def build(self, input_shape) -> None:
        """Build every stage for ``input_shape`` (batch, height, width, channels), in call order."""
        shape = tuple(input_shape)
        for k, conv in enumerate(self.convs):
            conv.build(shape)
            shape = (*shape[:-1], self.filters[k])
            if self.residual:
                self.blocks[k].build(shape)
            shape = (shape[0], shape[1] // 2, shape[2] // 2, shape[3])

    def __call__(self, x):
        for layer in self.layers():
            x = layer(x)
        return x  # (batch, height / 2^stages, width / 2^stages, filters[-1])


@keras.saving.register_keras_serializable(package="mmgen_lib")
class ImageEncoder(layers.Layer):
    """E_v: a small CNN from an image to a vector (and optionally its feature grid). Taught in lesson 03.

    Each stage is Conv2D(3x3, relu) [+ :class:`ResidualBlock`] + MaxPool(2), so three stages
    turn a 32x32 image into a 4x4 grid. The grid is *flattened*, not averaged: a flattened
    grid keeps *where* each feature fired (position), global average pooling would lose it.

    Args:
        filters: channels per stage, e.g. ``(16, 32, 32)``.
        output_dim: size of the output vector (Dense + relu after the flattened grid).
        residual: add a residual block to each stage.
        dropout: dropout rate on the flattened grid during training.
        return_grid: if True, return ``(vector, grid_sequence)``.

    Call arguments:
        inputs: (batch, height, width, channels) float images in [0, 1].
        training: Python bool, dropout only when True.

    Input shape: (batch, 32, 32, 3). Output shape: (batch, output_dim), or the tuple
    ((batch, output_dim), (batch, 16, filters[-1])) -- the 4x4 grid as 16 "visual tokens".

    Example:

    >>> import numpy as np
    >>> encoder = ImageEncoder(filters=(8, 16, 16), output_dim=32, return_grid=True)
    >>> vector, grid = encoder(np.zeros((2, 32, 32, 3), "float32"))
    >>> tuple(vector.shape), tuple(grid.shape)
    ((2, 32), (2, 16, 16))
    """

    def __init__(self, filters=(16, 32, 32), output_dim=64, residual=True, dropout=0.0, return_grid=False, **kwargs):
        super().__init__(**kwargs)
        self.filters = validation.positive_int_sequence(filters, "filters")
        validation.positive_int(output_dim, "output_dim")
        validation.rate(dropout)
        self.output_dim, self.residual = int(output_dim), bool(residual)
        self.dropout, self.return_grid = float(dropout), bool(return_grid)
        stack = ConvStack(self.filters, residual=residual)
        self._stack = stack
        self.convs, self.blocks, self.pools = stack.convs, stack.blocks, stack.pools
        self.flatten = layers.Flatten()
        self.grid_dropout = layers.Dropout(self.dropout)
        self.dense = layers.Dense(self.output_dim, activation="relu", name="dense")

    def _grid_shape(self, input_shape):
        return self._stack.output_shape(input_shape)

    def build(self, input_shape):
        if len(input_shape) != 4:
            raise ValueError(
                f"ImageEncoder expects images of shape (batch, height, width, channels). Received shape {input_shape}"
            )
        scale = 2 ** len(self.filters)
        if any(d is None or d % scale for d in input_shape[1:3]):
            raise ValueError(
                f"image height and width must be known and divisible by {scale} "
                f"({len(self.filters)} stages halve them). Received shape {input_shape}"
            )
        self._stack.build(input_shape)
        grid = self._grid_shape(input_shape)
        self.dense.build((grid[0], grid[1] * grid[2] * grid[3]))

    def call(self, inputs, training=False):
        x = validation.scale_uint8_images(inputs)  # (batch, 32, 32, 3), uint8 pixels scaled to [0, 1]
        grid = self._stack(x)  # each stage halves the resolution: 32 -> 16 -> 8 -> 4; (batch, 4, 4, filters[-1])
        flat = self.grid_dropout(self.flatten(grid), training=training)  # (batch, 16 * filters[-1])
        vector = self.dense(flat)  # (batch, output_dim)
        if not self.return_grid:
            return vector
        batch, height, width, channels = ops.shape(grid)
        return vector, ops.reshape(grid, (batch, height * width, channels))  # (batch, 16, filters[-1])

    def compute_output_shape(self, input_shape):
        vector = (input_shape[0], self.output_dim)
        grid = self._grid_shape(input_shape)
        return (vector, (grid[0], grid[1] * grid[2], grid[3])) if self.return_grid else vector

    def get_config(self):
        return {
            **super().get_config(),
            "filters": list(self.filters),
            "output_dim": self.output_dim,
            "residual": self.residual,
            "dropout": self.dropout,
            "return_grid": self.return_grid,
        }


@keras.saving.register_keras_serializable(package="mmgen_lib")
class AudioEncoder(layers.Layer):
    """E_a: a 2-D CNN over a log-mel spectrogram (time x frequency) to a vector. Taught in lesson 04.

    The spectrogram is treated as a one-channel image: Conv2D(3x3, relu) + MaxPool(2) per
    stage, so with two stages (28, 40) -> (7, 10); the result is flattened (keeping when and
    at which pitch energy is) and mapped by Dense + relu to the output vector.

    Args:
        filters: channels per stage, e.g. ``(16, 32)``.
        output_dim: size of the output vector.
        dropout: dropout rate on the flattened features during training.
        return_sequences: if True, return ``(vector, sequence)``, the sequence being one
            feature vector per (pooled) time step.

    Call arguments:
        inputs: (batch, frames, mel_bins) float log-mel spectrograms.
        training: Python bool, dropout only when True.

    Input shape: (batch, 28, 40). Output shape: (batch, output_dim), or the tuple
    ((batch, output_dim), (batch, 7, 10 * filters[-1])).

    Example:

    >>> import numpy as np
    >>> encoder = AudioEncoder(filters=(8, 16), output_dim=32)
    >>> tuple(encoder(np.zeros((2, 28, 40), "float32")).shape)
    (2, 32)
    """

    def __init__(self, filters=(16, 32), output_dim=64, dropout=0.0, return_sequences=False, **kwargs):
        super().__init__(**kwargs)
        self.filters = validation.positive_int_sequence(filters, "filters")
        validation.positive_int(output_dim, "output_dim")
        validation.rate(dropout)
        self.output_dim, self.dropout, self.return_sequences = int(output_dim), float(dropout), bool(return_sequences)
        self.convs = [
            layers.Conv2D(f, 3, padding="same", activation="relu", name=f"conv{k}") for k, f in enumerate(self.filters)
        ]
        self.pool = layers.MaxPooling2D(2)
        self.flatten = layers.Flatten()
        self.feature_dropout = layers.Dropout(self.dropout)
        self.dense = layers.Dense(self.output_dim, activation="relu", name="dense")

    def _pooled_shape(self, input_shape):
        scale = 2 ** len(self.filters)
        return (input_shape[0], input_shape[1] // scale, input_shape[2] // scale, self.filters[-1])

    def build(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(
                f"AudioEncoder expects spectrograms of shape (batch, frames, mel_bins). Received shape {input_shape}"
            )
        scale = 2 ** len(self.filters)
        if any(d is None or d < scale for d in input_shape[1:3]):
            raise ValueError(
                f"frames and mel_bins must be known and at least {scale} "
                f"({len(self.filters)} stages halve them). Received shape {input_shape}"
            )
        shape = (*input_shape, 1)
        for k, conv in enumerate(self.convs):
            conv.build(shape)
            shape = (shape[0], shape[1] // 2, shape[2] // 2, self.filters[k])
        pooled = self._pooled_shape(input_shape)
        self.dense.build((pooled[0], pooled[1] * pooled[2] * pooled[3]))

    def call(self, inputs, training=False):
        x = ops.expand_dims(inputs, -1)  # (batch, frames, mel_bins, 1): a one-channel image
        for conv in self.convs:
            x = self.pool(conv(x))  # (28, 40) -> (14, 20) -> (7, 10)
        flat = self.feature_dropout(self.flatten(x), training=training)  # (batch, 7 * 10 * filters[-1])
        vector = self.dense(flat)  # (batch, output_dim)
        if not self.return_sequences:
            return vector
        batch, frames, bins, channels = ops.shape(x)
        return vector, ops.reshape(x, (batch, frames, bins * channels))  # (batch, 7, 10 * filters[-1])

    def compute_output_shape(self, input_shape):
        vector = (input_shape[0], self.output_dim)
        pooled = self._pooled_shape(input_shape)
        return (vector, (pooled[0], pooled[1], pooled[2] * pooled[3])) if self.return_sequences else vector

    def get_config(self):
        return {
            **super().get_config(),
            "filters": list(self.filters),
            "output_dim": self.output_dim,
            "dropout": self.dropout,
            "return_sequences": self.return_sequences,
        }
