"""Joint decoders: from a (fused) representation to text (lesson 08) or to an image (lesson 09).

The seed's joint decoder y_t = D(E_t(x_t), E_v(x_v), theta): a ``TextDecoder`` is a
recurrent language model conditioned on the representation, trained with teacher
forcing; an ``ImageDecoder`` maps a vector to a 32x32x3 image by upsampling.
"""

from __future__ import annotations

import warnings

import keras
from keras import ops

from mmgen_lib import validation


@keras.saving.register_keras_serializable(package="mmgen_lib")
class TextDecoder(keras.layers.Layer):
    """A GRU language model conditioned on a context vector: the seed's joint decoder D.

    The context ``z`` (for instance the fused ``[E_v(x_v); E_a(x_a)]`` or
    ``[E_t(x_t); E_v(x_v)]``) enters twice: ``Dense(units, tanh)(z)`` is the GRU's
    initial state, and ``z`` is concatenated to the word embedding at *every* step,
    so the decoder cannot forget it on long outputs. Training uses teacher forcing:
    the input at step t is the true word t-1, and all steps run in one call.
    Generation (``mmgen_lib.generation``) uses :meth:`initial_state` and
    :meth:`step`, one token at a time with an explicit state, so a prefix is never
    re-run. Taught in lesson 08.

    Args:
        vocab_size: number of token ids (padding id 0 included), >= 2.
        embed_dim: size of the word embeddings.
        units: size of the GRU state.
        context_dim: size of the context vector; ``None`` infers it when the layer is
            built (give it to build the layer before its first call).
        dropout: dropout rate on the step inputs during training, in [0, 1).
        unroll: write the GRU's loop out step by step instead of a symbolic loop: same outputs, but
            needs a fixed ``seq_len`` in a traced call; it traces faster for a few steps (lesson 08's
            two-token answers) and slower for many.

    Call arguments:
        inputs: a list ``[context, input_ids]``: ``context`` float (batch, context_dim),
            ``input_ids`` int (batch, seq_len) — the target sequence shifted right,
            i.e. ``caption_ids[:, :-1]`` starting with ``<start>``.
        training: whether dropout is active.

    Input shape:
        ``[(batch, context_dim), (batch, seq_len)]``.

    Output shape:
        logits ``(batch, seq_len, vocab_size)``; position t predicts token t+1, so the
        loss compares them with ``caption_ids[:, 1:]`` (ignore padding targets, id 0).

    Example:

    >>> import numpy as np
    >>> decoder = TextDecoder(vocab_size=20, embed_dim=8, units=16)
    >>> context, ids = np.ones((2, 6), "float32"), np.array([[1, 4, 5], [1, 7, 0]])
    >>> tuple(decoder([context, ids]).shape)
    (2, 3, 20)
    """

    def __init__(self, vocab_size, embed_dim=32, units=128, context_dim=None, dropout=0.0, unroll=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(unroll, bool):
            raise TypeError(f"unroll must be True or False. Received: unroll={unroll!r}")
        for name, value in (("vocab_size", vocab_size), ("embed_dim", embed_dim), ("units", units)):
            validation.positive_int(value, name)
        if vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2 (padding + one word). Received: vocab_size={vocab_size}")
        validation.positive_int(context_dim, "context_dim", allow_none=True)
        validation.rate(dropout)
        self.vocab_size, self.embed_dim, self.units = int(vocab_size), int(embed_dim), int(units)
        self.context_dim = None if context_dim is None else int(context_dim)
        self.dropout = float(dropout)
        self.embedding = keras.layers.Embedding(self.vocab_size, self.embed_dim, name="embedding")
        self.init_state = keras.layers.Dense(self.units, activation="tanh", name="init_state")
        self.unroll = unroll
        self.gru = keras.layers.GRU(self.units, return_sequences=True, unroll=unroll, name="gru")
        self.input_dropout = keras.layers.Dropout(self.dropout, name="input_dropout")
        self.to_logits = keras.layers.Dense(self.vocab_size, name="to_logits")
        if self.context_dim is not None:
            self.build([(None, self.context_dim), (None, None)])

    def build(self, input_shape):
        if self.built:
            return
        if (
            not isinstance(input_shape, (list, tuple))
            or len(input_shape) != 2
            or not isinstance(input_shape[0], (list, tuple))
        ):
            raise ValueError(f"TextDecoder expects inputs [context, input_ids]. Received input shape {input_shape!r}")
        context_shape, ids_shape = tuple(input_shape[0]), tuple(input_shape[1])
        if len(context_shape) != 2 or len(ids_shape) != 2:
            raise ValueError(
                "TextDecoder expects context (batch, context_dim) and input_ids (batch, seq_len). "
                f"Received shapes {context_shape} and {ids_shape}"
            )
        if self.context_dim is None:
            self.context_dim = int(context_shape[-1])
        elif context_shape[-1] is not None and context_shape[-1] != self.context_dim:
            raise ValueError(
                f"context has {context_shape[-1]} features but the decoder was built for context_dim={self.context_dim}"
            )
        self.embedding.build((None, None))
        self.init_state.build((None, self.context_dim))
        self.gru.build((None, None, self.embed_dim + self.context_dim))
        self.to_logits.build((None, None, self.units))
        self.built = True

    def _check_context(self, context):
        if len(context.shape) != 2:
            raise ValueError(f"context must be (batch, context_dim). Received shape {tuple(context.shape)}")
        if self.built and context.shape[-1] != self.context_dim:
            raise ValueError(f"context has {context.shape[-1]} features; expected context_dim={self.context_dim}")

    def initial_state(self, context):
        """The GRU state before the first word: ``tanh(W z + b)``, shape (batch, units)."""
        context = ops.convert_to_tensor(context, "float32")
        self._check_context(context)
        return self.init_state(context)

    def step(self, context, token_ids, state, training=False):
        """One generation step: the previous token and state -> next-token logits and new state.

        Args:
            context: (batch, context_dim) float, the same at every step.
            token_ids: (batch,) int, the previous token (``<start>`` at the first step).
            state: (batch, units), from :meth:`initial_state` or the previous step.

        Returns:
            ``(logits, new_state)``: (batch, vocab_size) and (batch, units).
        """
        context = ops.convert_to_tensor(context, "float32")
        self._check_context(context)
        x = ops.concatenate([self.embedding(token_ids), context], axis=-1)  # (batch, embed_dim + context_dim)
        x = self.input_dropout(x, training=training)
        h, _ = self.gru.cell(x, state, training=training)  # (batch, units)
        return self.to_logits(h), h

    def call(self, inputs, training=False, mask=None):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(f"TextDecoder expects inputs [context, input_ids]. Received: {type(inputs).__name__}")
        context, input_ids = inputs
        self._check_context(context)
        if len(input_ids.shape) != 2:
            raise ValueError(f"input_ids must be (batch, seq_len). Received shape {tuple(input_ids.shape)}")
        embedded = self.embedding(input_ids)  # (batch, seq_len, embed_dim)
        repeated = ops.repeat(ops.expand_dims(context, 1), ops.shape(input_ids)[1], axis=1)
        # repeated: (batch, seq_len, context_dim), the context beside every word
        x = self.input_dropout(ops.concatenate([embedded, repeated], axis=-1), training=training)
        h = self.gru(x, initial_state=[self.init_state(context)], training=training)  # (batch, seq_len, units)
        return self.to_logits(h)  # (batch, seq_len, vocab_size)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[1]), self.vocab_size)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embed_dim": self.embed_dim,
            "units": self.units,
            "context_dim": self.context_dim,
            "dropout": self.dropout,
            "unroll": self.unroll,
        }


@keras.saving.register_keras_serializable(package="mmgen_lib")
class TransformerTextDecoder(keras.layers.Layer):
    """A small Transformer decoder: causal self-attention over the words so far and
    cross-attention over the encoder features (the alternative to :class:`TextDecoder`).

    Each block (pre-norm) is ``x += SelfAttention(LN(x), causal)``,
    ``x += CrossAttention(LN(x), memory)``, ``x += FFN(LN(x))``; the memory is the context
    projected to ``embed_dim``: one vector (batch, context_dim) or a sequence of them
    (batch, n_ctx, context_dim), e.g. the 4x4 image grid of ``ImageEncoder(return_grid=True)``
    plus an audio vector. Generation has the same API as :class:`TextDecoder`; its state is
    the prefix of token ids, which :meth:`step` re-reads (no key/value cache: with at most
    ``max_len`` = 16 tokens that costs little). Taught in lesson 08.

    Args:
        vocab_size: number of token ids (padding id 0 included), >= 2.
        embed_dim: model width (token, position and memory vectors); divisible by ``num_heads``.
        num_heads: attention heads.
        ff_dim: hidden size of the feed-forward sublayer.
        num_layers: number of decoder blocks.
        max_len: the longest input sequence (size of the learned position table).
        dropout: dropout rate inside the blocks during training, in [0, 1).

    Call arguments:
        inputs: ``[context, input_ids]`` as for :class:`TextDecoder`; ``context`` may also be a
            sequence (batch, n_ctx, context_dim).
        training: whether dropout is active.

    Input shape:
        ``[(batch, context_dim) or (batch, n_ctx, context_dim), (batch, seq_len)]``, seq_len <= max_len.

    Output shape:
        logits ``(batch, seq_len, vocab_size)``.

    Example:

    >>> import numpy as np
    >>> decoder = TransformerTextDecoder(vocab_size=20, embed_dim=8, ff_dim=16, max_len=8)
    >>> context, ids = np.ones((2, 6), "float32"), np.array([[1, 4, 5], [1, 7, 0]])
    >>> tuple(decoder([context, ids]).shape)
    (2, 3, 20)
    """

    def __init__(
        self, vocab_size, embed_dim=64, num_heads=2, ff_dim=128, num_layers=1, max_len=16, dropout=0.0, **kwargs
    ):
        super().__init__(**kwargs)
        for name, value in (
            ("vocab_size", vocab_size),
            ("embed_dim", embed_dim),
            ("num_heads", num_heads),
            ("ff_dim", ff_dim),
            ("num_layers", num_layers),
            ("max_len", max_len),
        ):
            validation.positive_int(value, name)
        if vocab_size < 2:
            raise ValueError(f"vocab_size must be at least 2 (padding + one word). Received: vocab_size={vocab_size}")
        if embed_dim % num_heads:
            raise ValueError(
                f"embed_dim must be divisible by num_heads. Received: embed_dim={embed_dim}, num_heads={num_heads}"
            )
        validation.rate(dropout)
        self.vocab_size, self.embed_dim, self.num_heads = int(vocab_size), int(embed_dim), int(num_heads)
        self.ff_dim, self.num_layers, self.max_len, self.dropout = (
            int(ff_dim),
            int(num_layers),
            int(max_len),
            float(dropout),
        )
        key_dim = self.embed_dim // self.num_heads
        self.token_embedding = keras.layers.Embedding(self.vocab_size, self.embed_dim, name="token_embedding")
        self.position_embedding = keras.layers.Embedding(self.max_len, self.embed_dim, name="position_embedding")
        self.memory_projection = keras.layers.Dense(self.embed_dim, name="memory_projection")
        self.self_attention = [
            keras.layers.MultiHeadAttention(self.num_heads, key_dim, dropout=self.dropout, name=f"self_attention_{i}")
            for i in range(num_layers)
        ]
        self.cross_attention = [
            keras.layers.MultiHeadAttention(self.num_heads, key_dim, dropout=self.dropout, name=f"cross_attention_{i}")
            for i in range(num_layers)
        ]
        self.feed_forward = [
            keras.Sequential(
                [keras.layers.Dense(self.ff_dim, activation="relu"), keras.layers.Dense(self.embed_dim)],
                name=f"feed_forward_{i}",
            )
            for i in range(num_layers)
        ]
        self.norms = [keras.layers.LayerNormalization(name=f"norm_{i}") for i in range(3 * num_layers + 1)]
        self.to_logits = keras.layers.Dense(self.vocab_size, name="to_logits")

    def build(self, input_shape):
        context_shape = tuple(input_shape[0])
        if len(context_shape) not in (2, 3):
            raise ValueError(
                f"context must be (batch, context_dim) or (batch, n_ctx, context_dim). Received shape {context_shape}"
            )
        d, sequence = self.embed_dim, (None, None, self.embed_dim)
        self.token_embedding.build((None, None))
        self.position_embedding.build((None, None))
        self.memory_projection.build((None, None, context_shape[-1]))
        for i in range(self.num_layers):
            self.self_attention[i].build(sequence, sequence)
            self.cross_attention[i].build(sequence, sequence)
            self.feed_forward[i].build(sequence)
        for norm in self.norms:
            norm.build((None, None, d))
        self.to_logits.build((None, None, d))
        self.built = True

    def call(self, inputs, training=False, mask=None, return_attention=False):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                f"TransformerTextDecoder expects inputs [context, input_ids]. Received: {type(inputs).__name__}"
            )
        context, input_ids = inputs
        if len(context.shape) == 2:
            context = ops.expand_dims(context, 1)  # one memory vector: (batch, 1, context_dim)
        if len(context.shape) != 3 or len(input_ids.shape) != 2:
            raise ValueError(
                "expected context (batch, [n_ctx,] context_dim) and input_ids (batch, seq_len). "
                f"Received shapes {tuple(context.shape)} and {tuple(input_ids.shape)}"
            )
        if input_ids.shape[1] is not None and input_ids.shape[1] > self.max_len:
            raise ValueError(f"input_ids has {input_ids.shape[1]} positions, more than max_len={self.max_len}")
        memory = self.memory_projection(context)  # (batch, n_ctx, d)
        positions = ops.arange(ops.shape(input_ids)[1])
        x = self.token_embedding(input_ids) + self.position_embedding(positions)[None]  # (batch, seq_len, d)
        for i in range(self.num_layers):
            h = self.norms[3 * i](x)
            x = x + self.self_attention[i](h, h, use_causal_mask=True, training=training)
            h = self.norms[3 * i + 1](x)
            with warnings.catch_warnings():  # one memory vector: its softmax weight is 1, as intended
                warnings.filterwarnings("ignore", message="You are using a softmax over axis")
                attended, scores = self.cross_attention[i](h, memory, return_attention_scores=True, training=training)
            x = x + attended
            x = x + self.feed_forward[i](self.norms[3 * i + 2](x), training=training)
        logits = self.to_logits(self.norms[-1](x))  # (batch, seq_len, vocab_size)
        return (logits, scores) if return_attention else logits  # scores: (batch, heads, seq_len, n_ctx)

    def initial_state(self, context):
        """The empty prefix: int32 ids of shape (batch, 0)."""
        return ops.zeros((ops.shape(context)[0], 0), "int32")

    def step(self, context, token_ids, state, training=False):
        """Append ``token_ids`` (batch,) to the prefix ``state``; return (last logits, new prefix)."""
        prefix = ops.concatenate([ops.cast(state, "int32"), ops.cast(token_ids, "int32")[:, None]], axis=1)
        logits = self([ops.convert_to_tensor(context, "float32"), prefix], training=training)
        return logits[:, -1], prefix  # (batch, vocab_size), (batch, t + 1)

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape[1]), self.vocab_size)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "embed_dim": self.embed_dim,
            "num_heads": self.num_heads,
            "ff_dim": self.ff_dim,
            "num_layers": self.num_layers,
            "max_len": self.max_len,
            "dropout": self.dropout,
        }


@keras.saving.register_keras_serializable(package="mmgen_lib")
class ImageDecoder(keras.layers.Layer):
    """Vector -> 32x32 RGB image by upsampling; the joint decoder D for images. Taught in lesson 09.

    ``Dense(hidden_units)`` -> ``Dense`` to a small grid (4x4 for three stages) ->
    one ``Conv2DTranspose(stride 2)`` per entry of ``filters``, each doubling the
    resolution up to 32x32. With ``compositing=True`` (default) the decoder does not
    paint RGB pixels directly: it predicts an alpha **mask** m (batch, 32, 32, 1), one
    object **colour** c and one **background** colour b per image, and composites

        x = m * c + (1 - m) * b,

    which keeps *what colour* apart from *what shape where*: a colour can never bleed
    into the shape, and the conv stack only has to draw a silhouette. With
    ``compositing=False`` a final conv paints the three channels directly (the naive
    decoder the lesson starts from). Hidden layers use leaky ReLUs: with plain ReLUs a
    decoder that first learns to paint only background can lose every active unit and
    stay blank. The mask's bias starts at -2 (mask mostly off), so the background is
    learned first and the mask marks the object rather than the background.

    Args:
        hidden_units: width of the first dense layer.
        filters: output channels of the transposed-conv stages (1 to 5 stages; the
            starting grid is 32 / 2**len(filters) pixels wide).
        compositing: alpha-composite a mask, a colour and a background (True) or paint
            RGB directly (False).

    Call arguments:
        inputs: float vectors (batch, latent_dim), e.g. ``E_t(x_t)`` or a fused vector.

    Input shape:
        (batch, latent_dim).

    Output shape:
        (batch, 32, 32, 3), values in [0, 1].

    Example:

    >>> import numpy as np
    >>> decoder = ImageDecoder(hidden_units=16)
    >>> images = decoder(np.zeros((2, 6), "float32"))
    >>> tuple(images.shape), bool(0 <= float(images.numpy().min()) and float(images.numpy().max()) <= 1)
    ((2, 32, 32, 3), True)
    """

    def __init__(self, hidden_units=128, filters=(32, 32, 16), compositing=True, **kwargs):
        super().__init__(**kwargs)
        validation.positive_int(hidden_units, "hidden_units")
        validation.positive_int_sequence(filters, "filters (one per upsampling stage)", 1, 5)
        if not isinstance(compositing, bool):
            raise TypeError(f"compositing must be True or False. Received: compositing={compositing!r}")
        self.hidden_units = int(hidden_units)
        self.filters = tuple(int(f) for f in filters)
        self.compositing = compositing
        self.start_size = 32 // 2 ** len(self.filters)
        self.hidden = keras.layers.Dense(self.hidden_units, activation="leaky_relu", name="hidden")
        self.to_grid = keras.layers.Dense(self.start_size**2 * self.filters[0], activation="leaky_relu", name="to_grid")
        self.reshape = keras.layers.Reshape((self.start_size, self.start_size, self.filters[0]))
        self.upsample = [
            keras.layers.Conv2DTranspose(f, 4, strides=2, padding="same", activation="leaky_relu", name=f"up{k}")
            for k, f in enumerate(self.filters)
        ]
        if compositing:
            # The mask starts mostly "off" (sigmoid(-2) ~ 0.12): the background is learned first and the
            # mask then marks the object, never the reverse (which fits equally well but reads badly).
            self.to_mask = keras.layers.Conv2D(
                1,
                3,
                padding="same",
                activation="sigmoid",
                name="mask",
                bias_initializer=keras.initializers.Constant(-2.0),
            )
            self.to_colour = keras.layers.Dense(3, activation="sigmoid", name="colour")
            self.to_background = keras.layers.Dense(3, activation="sigmoid", name="background")
        else:
            self.to_rgb = keras.layers.Conv2D(3, 3, padding="same", activation="sigmoid", name="rgb")

    def build(self, input_shape):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(
                f"ImageDecoder expects vectors (batch, latent_dim). Received input shape {tuple(input_shape)}"
            )
        self.hidden.build(input_shape)
        hidden_shape = (input_shape[0], self.hidden_units)
        self.to_grid.build(hidden_shape)
        channels, size = self.filters[0], self.start_size
        for layer, f in zip(self.upsample, self.filters):
            layer.build((input_shape[0], size, size, channels))
            channels, size = f, size * 2
        if self.compositing:
            self.to_mask.build((input_shape[0], 32, 32, channels))
            self.to_colour.build(hidden_shape)
            self.to_background.build(hidden_shape)
        else:
            self.to_rgb.build((input_shape[0], 32, 32, channels))

    def _features(self, inputs):
        hidden = self.hidden(inputs)  # (batch, hidden_units)
        grid = self.reshape(self.to_grid(hidden))  # (batch, start, start, filters[0])
        for layer in self.upsample:
            grid = layer(grid)  # (batch, 2 * size, 2 * size, f)
        return hidden, grid  # grid: (batch, 32, 32, filters[-1])

    def decompose(self, inputs):
        """The composited parts: dict ``mask`` (batch, 32, 32, 1), ``colour`` and ``background``
        (batch, 3), and ``image`` (batch, 32, 32, 3). Only for ``compositing=True``."""
        if not self.compositing:
            raise ValueError("decompose() needs compositing=True: this decoder paints RGB directly")
        inputs = ops.convert_to_tensor(inputs)
        if not self.built:  # decompose() may be called before the layer's first __call__
            self.build(tuple(inputs.shape))
        hidden, grid = self._features(inputs)
        mask = self.to_mask(grid)  # (batch, 32, 32, 1)
        colour = self.to_colour(hidden)[:, None, None, :]  # (batch, 1, 1, 3)
        background = self.to_background(hidden)[:, None, None, :]  # (batch, 1, 1, 3)
        image = mask * colour + (1.0 - mask) * background  # (batch, 32, 32, 3)
        return {"mask": mask, "colour": colour[:, 0, 0, :], "background": background[:, 0, 0, :], "image": image}

    def call(self, inputs, training=False):
        if self.compositing:
            return self.decompose(inputs)["image"]
        _, grid = self._features(inputs)
        return self.to_rgb(grid)  # (batch, 32, 32, 3)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 32, 32, 3)

    def get_config(self):
        return {
            **super().get_config(),
            "hidden_units": self.hidden_units,
            "filters": list(self.filters),
            "compositing": self.compositing,
        }
