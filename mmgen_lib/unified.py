"""One decoder-only transformer that reads and writes every modality as tokens (lesson 16).

Captions are word ids (:mod:`mmgen_lib.tokenizer`), images and sounds are codebook ids
(lesson 15's tokenizers). :class:`SequenceLayout` puts them in **one vocabulary** with
offsets and lays an example out as one sequence::

    [task tag] [segment] [segment] ...       e.g. text -> image, audio:
    [<text→image,audio>] [<start> w1 .. <end> <pad>..] [<image> i1 .. i16] [<audio> a1 .. a10]

Every segment opens with its modality's marker (``<start>`` for text, ``<image>``, ``<audio>``);
the task tag says which segments are given (sources) and which are written (targets), in
which order. :class:`UnifiedTransformer` adds token, modality and position-in-segment
embeddings and runs causal self-attention blocks; training uses the loss on target tokens
only. :func:`generate` samples a target segment through :mod:`mmgen_lib.generation`
(greedy, temperature, top-k) with every token outside the target modality's range masked.
"""

from __future__ import annotations

import numbers
import sys
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
from keras import ops

from mmgen_lib import generation, shipped
from mmgen_lib.utils import data_dir as default_data_dir

__all__ = [
    "MODALITIES",
    "DEFAULT_TASKS",
    "SequenceLayout",
    "UnifiedTransformer",
    "ModalityDecoder",
    "mixed_order_sequences",
    "shift_for_training",
    "generate",
    "task_name",
    "RECIPE",
    "token_data",
    "build_unified_model",
    "train_unified",
    "save_unified",
    "load_unified",
    "default_unified_dir",
    "evaluate_unified",
    "META_FILE",
    "WEIGHTS_FILE",
]

MODALITIES = ("text", "image", "audio")
PAD_ID, START_ID, END_ID, UNK_ID = 0, 1, 2, 3  # as in mmgen_lib.tokenizer.Tokenizer
MODALITY_IDS = {"tag": 0, "text": 1, "image": 2, "audio": 3}
DEFAULT_TASKS = (  # (sources, targets): each order trains every target given everything before it
    (("text",), ("image", "audio")),
    (("image",), ("audio", "text")),
)


def _check_int(name, value, minimum=1):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}. Received: {name}={value!r}")
    return int(value)


def _check_tasks(tasks) -> tuple:
    if isinstance(tasks, (str, bytes)) or not hasattr(tasks, "__len__") or len(tasks) < 1:
        raise ValueError(f"tasks must be a non-empty sequence of (sources, targets). Received: tasks={tasks!r}")
    checked = []
    for task in tasks:
        if isinstance(task, (str, bytes)) or len(task) != 2:
            raise ValueError(f"each task must be (sources, targets). Received: task={task!r}")
        sources, targets = (tuple(part) if not isinstance(part, str) else (part,) for part in task)
        names = sources + targets
        if not sources or not targets or len(set(names)) != len(names) or not set(names) <= set(MODALITIES):
            raise ValueError(
                f"a task names non-empty sources and targets, each a distinct modality of {MODALITIES}. "
                f"Received: task={task!r}"
            )
        checked.append((sources, targets))
    if len(set(checked)) != len(checked):
        raise ValueError(f"tasks must be distinct. Received: tasks={tasks!r}")
    return tuple(checked)


def _check_weights(weights) -> dict:
    if weights is None:
        return {}
    if (
        not isinstance(weights, dict)
        or not set(weights) <= set(MODALITIES)
        or not all(
            isinstance(w, numbers.Real) and not isinstance(w, bool) and np.isfinite(w) and w > 0
            for w in weights.values()
        )
    ):
        raise ValueError(
            f"weights must map modalities of {MODALITIES} to positive numbers. Received: weights={weights!r}"
        )
    return {m: float(w) for m, w in weights.items()}


def task_name(task) -> str:
    """``(("image", "audio"), ("text",))`` -> ``"image + audio → text"``."""
    sources, targets = task
    return f"{' + '.join(sources)} → {', '.join(targets)}"


@dataclass(frozen=True)
class SequenceLayout:
    """Where every modality lives in the shared vocabulary and in a sequence (lesson 16).

    Vocabulary: text ids ``[0, text_vocab_size)`` (the caption tokenizer's own ids, so
    ``<start>`` = 1 opens a text segment), one tag per task, the ``<image>`` and ``<audio>``
    markers, then the image codes and the audio codes, each shifted by its offset.

    Args:
        text_vocab_size: size of the caption tokenizer's vocabulary (special tokens included).
        image_codebook_size, audio_codebook_size: number of codes of each tokenizer.
        image_tokens, audio_tokens: tokens per image / per sound.
        caption_len: text segment length (``<start>`` + words + ``<end>`` + padding).
        tasks: ``(sources, targets)`` pairs of modality names, e.g. ``(("text",), ("image",))``.
    """

    text_vocab_size: int
    image_codebook_size: int
    audio_codebook_size: int
    image_tokens: int = 16
    audio_tokens: int = 10
    caption_len: int = 16
    tasks: tuple = DEFAULT_TASKS

    def __post_init__(self):
        _check_int("text_vocab_size", self.text_vocab_size, UNK_ID + 2)
        for name in ("image_codebook_size", "audio_codebook_size", "image_tokens", "audio_tokens"):
            _check_int(name, getattr(self, name))
        _check_int("caption_len", self.caption_len, 3)
        object.__setattr__(self, "tasks", _check_tasks(self.tasks))

    # ---------------------------------------------------------------- the vocabulary
    @property
    def tag_offset(self) -> int:
        return self.text_vocab_size

    @property
    def image_marker(self) -> int:
        return self.tag_offset + len(self.tasks)

    @property
    def audio_marker(self) -> int:
        return self.image_marker + 1

    @property
    def offsets(self) -> dict:
        """First global id of each modality's own tokens."""
        image = self.audio_marker + 1
        return {"text": 0, "image": image, "audio": image + self.image_codebook_size}

    @property
    def vocab_size(self) -> int:
        return self.offsets["audio"] + self.audio_codebook_size

    def begin_id(self, modality: str) -> int:
        """The marker that opens a segment of ``modality``."""
        return {"text": START_ID, "image": self.image_marker, "audio": self.audio_marker}[self._modality(modality)]

    def task_id(self, task) -> int:
        """The tag token of a task (an index into ``tasks`` or the task itself)."""
        return self.tag_offset + self._task_index(task)

    def segment_len(self, modality: str) -> int:
        """Marker included."""
        return {"text": self.caption_len, "image": 1 + self.image_tokens, "audio": 1 + self.audio_tokens}[
            self._modality(modality)
        ]

    @property
    def seq_len(self) -> int:
        """Length of every training sequence: the longest task (shorter ones are padded)."""
        return max(1 + sum(self.segment_len(m) for m in (*s, *t)) for s, t in self.tasks)

    @property
    def max_segment_len(self) -> int:
        return max(self.segment_len(m) for m in MODALITIES)

    def allowed(self, modality: str) -> np.ndarray:
        """(vocab_size,) bool: the ids a generated ``modality`` token may take."""
        mask = np.zeros(self.vocab_size, bool)
        if self._modality(modality) == "text":
            mask[: self.text_vocab_size] = True
            mask[[PAD_ID, START_ID, UNK_ID]] = False  # words and <end> only
        else:
            start = self.offsets[modality]
            mask[start : start + self._codebook(modality)] = True
        return mask

    def modality_table(self) -> np.ndarray:
        """(vocab_size,) int32: 0 task tags, 1 text, 2 image (marker included), 3 audio."""
        table = np.zeros(self.vocab_size, np.int32)
        table[: self.text_vocab_size] = MODALITY_IDS["text"]
        table[self.image_marker] = table[self.offsets["image"] : self.offsets["audio"]] = MODALITY_IDS["image"]
        table[self.audio_marker] = table[self.offsets["audio"] :] = MODALITY_IDS["audio"]
        return table

    def marker_table(self) -> np.ndarray:
        """(vocab_size,) int32: 1 for the tokens that open a segment (tags, <start>, <image>, <audio>)."""
        table = np.zeros(self.vocab_size, np.int32)
        table[[START_ID, self.image_marker, self.audio_marker]] = 1
        table[self.tag_offset : self.image_marker] = 1
        return table

    # ---------------------------------------------------------------- sequences
    def segment(self, modality: str, ids) -> np.ndarray:
        """One modality's (n, tokens) ids -> (n, segment_len) global ids, marker first.

        Text must be caption ids as made by ``Tokenizer.encode_batch(..., caption_len)``
        (``<start>`` first); image and audio ids are the tokenizers' codes.
        """
        modality = self._modality(modality)
        ids = np.asarray(ids)
        if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
            raise ValueError(f"{modality} ids must be a 2-D int array (n, tokens). Received: {ids.dtype} {ids.shape}")
        if modality == "text":
            if ids.shape[1] != self.caption_len or not (ids[:, 0] == START_ID).all():
                raise ValueError(
                    f"text ids must be (n, {self.caption_len}) caption ids starting with <start>. "
                    f"Received shape {ids.shape}"
                )
            if ids.min() < 0 or ids.max() >= self.text_vocab_size:
                raise ValueError(
                    f"text ids must lie in [0, {self.text_vocab_size}). Received range [{ids.min()}, {ids.max()}]"
                )
            return ids.astype(np.int32)
        n_tokens, size = (
            (self.image_tokens, self.image_codebook_size)
            if modality == "image"
            else (self.audio_tokens, self.audio_codebook_size)
        )
        if ids.shape[1] != n_tokens or ids.min() < 0 or ids.max() >= size:
            raise ValueError(
                f"{modality} ids must be (n, {n_tokens}) codes in [0, {size}). "
                f"Received shape {ids.shape}, range [{ids.min()}, {ids.max()}]"
            )
        marker = np.full((len(ids), 1), self.begin_id(modality), np.int32)
        return np.concatenate([marker, ids + self.offsets[modality]], axis=1).astype(np.int32)

    def build(self, task, data: dict, prompt_only: bool = False, weights: dict | None = None):
        """Lay examples out for one task.

        Args:
            task: an index into ``tasks`` or a ``(sources, targets)`` pair of it.
            data: modality -> (n, tokens) ids (as for :meth:`segment`).
            weights: optional modality -> loss weight of its target tokens (default 1), e.g. to
                make a modality whose few informative tokens are drowned by the others count more.
            prompt_only: lay out only the given modalities, for generation: they must be the
                first ones of the task's order (the sources, and possibly the first targets).

        Returns:
            ``prompt`` (n, prompt_len) int32 when ``prompt_only``; otherwise ``tokens``
            (n, seq_len) int32 (padded with 0) and ``loss_mask`` (n, seq_len) float32, 1 (or the
            modality's weight) on the target tokens (markers and text padding excluded, ``<end>`` included).
        """
        weights = _check_weights(weights)
        index = self._task_index(task)
        sources, targets = self.tasks[index]
        order = sources + targets
        if not isinstance(data, dict):
            raise TypeError(f"data must be a dict modality -> ids. Received: {type(data).__name__}")
        needed = order[: max(len(data), len(sources))] if prompt_only else order
        if (set(data) != set(needed)) if prompt_only else not set(needed) <= set(data):
            raise ValueError(
                f"data must hold {needed} for task {task_name(self.tasks[index])!r}"
                f"{' (the first modalities of its order)' if prompt_only else ''}. "
                f"Received: {sorted(data)}"
            )
        segments = [self.segment(m, data[m]) for m in needed]
        n = {len(s) for s in segments}
        if len(n) != 1:
            raise ValueError(f"every modality needs the same number of examples. Received lengths {sorted(n)}")
        n = n.pop()
        parts = [np.full((n, 1), self.task_id(index), np.int32)] + segments
        if prompt_only:
            return np.concatenate(parts, axis=1)
        masks = [np.zeros((n, 1), np.float32)]  # the tag is given
        for modality, seg in zip(needed, segments):
            if modality not in targets:
                masks.append(np.zeros(seg.shape, np.float32))
            else:
                mask = np.full(seg.shape, weights.get(modality, 1.0), np.float32)
                mask[:, 0] = 0.0  # the marker is given: the task fixes the order
                if modality == "text":
                    mask[seg == PAD_ID] = 0.0  # nothing to learn after <end>
                masks.append(mask)
        tokens, mask = np.concatenate(parts, axis=1), np.concatenate(masks, axis=1)
        pad = self.seq_len - tokens.shape[1]
        return np.pad(tokens, ((0, 0), (0, pad))), np.pad(mask, ((0, 0), (0, pad)))

    def to_codes(self, modality: str, ids) -> np.ndarray:
        """Generated global ids of ``modality`` -> the tokenizer's own ids."""
        modality = self._modality(modality)
        ids = np.asarray(ids)
        if modality == "text":
            return ids.astype(np.int32)
        codes = ids - self.offsets[modality]
        if codes.min() < 0 or codes.max() >= self._codebook(modality):
            raise ValueError(f"ids are not all {modality} codes. Received range [{ids.min()}, {ids.max()}]")
        return codes.astype(np.int32)

    def get_config(self) -> dict:
        return {
            "text_vocab_size": self.text_vocab_size,
            "image_codebook_size": self.image_codebook_size,
            "audio_codebook_size": self.audio_codebook_size,
            "image_tokens": self.image_tokens,
            "audio_tokens": self.audio_tokens,
            "caption_len": self.caption_len,
            "tasks": [[list(s), list(t)] for s, t in self.tasks],
        }

    # ---------------------------------------------------------------- helpers
    def _modality(self, modality) -> str:
        if modality not in MODALITIES:
            raise ValueError(f"modality must be one of {MODALITIES}. Received: modality={modality!r}")
        return modality

    def _codebook(self, modality: str) -> int:
        return self.image_codebook_size if modality == "image" else self.audio_codebook_size

    def _task_index(self, task) -> int:
        if isinstance(task, numbers.Integral) and not isinstance(task, bool) and 0 <= task < len(self.tasks):
            return int(task)
        try:
            return self.tasks.index(_check_tasks([task])[0])
        except (ValueError, TypeError):
            raise ValueError(
                f"task must be an index < {len(self.tasks)} or one of {self.tasks}. Received: task={task!r}"
            ) from None


def mixed_order_sequences(layout: SequenceLayout, data: dict, seed: int = 0, weights: dict | None = None):
    """Every example laid out in every task's order, shuffled (lesson 16).

    ``weights`` (modality -> loss weight of its target tokens) is passed to :meth:`SequenceLayout.build`.

    Returns ``tokens`` (n * n_tasks, seq_len) int32, ``loss_mask`` float32 of the same shape
    and ``task`` (n * n_tasks,) int32, the task index of each row.
    """
    _check_int("seed", seed, 0)
    built = [layout.build(i, data, weights=weights) for i in range(len(layout.tasks))]
    tokens = np.concatenate([t for t, _ in built])
    mask = np.concatenate([m for _, m in built])
    task = np.repeat(np.arange(len(built), dtype=np.int32), [len(t) for t, _ in built])
    order = np.random.default_rng(seed).permutation(len(tokens))
    return tokens[order], mask[order], task[order]


def shift_for_training(tokens, loss_mask):
    """Next-token pairs: inputs ``tokens[:, :-1]``, targets ``tokens[:, 1:]``, weights ``loss_mask[:, 1:]``."""
    tokens, loss_mask = np.asarray(tokens), np.asarray(loss_mask)
    if tokens.ndim != 2 or tokens.shape != loss_mask.shape or tokens.shape[1] < 2:
        raise ValueError(
            f"tokens and loss_mask must be equal (n, seq_len >= 2) arrays. "
            f"Received shapes {tokens.shape} and {loss_mask.shape}"
        )
    return tokens[:, :-1], tokens[:, 1:], loss_mask[:, 1:]


@keras.saving.register_keras_serializable(package="mmgen_lib")
class UnifiedTransformer(keras.layers.Layer):
    """A decoder-only causal transformer over the shared token sequence (lesson 16).

    The input embedding of a token is ``token + modality + position in its segment``: the
    modality and the segment position are read off the ids themselves (a segment starts at
    its marker), so the same image token gets the same position whatever comes before it.
    Each block (pre-norm) is ``x += SelfAttention(LN(x), causal)``, ``x += FFN(LN(x))``.

    Args:
        layout: a :class:`SequenceLayout` (or its ``get_config()`` dict).
        embed_dim: model width, divisible by ``num_heads``.
        num_heads: attention heads.
        ff_dim: hidden size of the feed-forward sublayer.
        num_layers: number of blocks.
        dropout: dropout rate inside the blocks during training, in [0, 1).

    Call arguments:
        inputs: (batch, seq_len) int token ids of the shared vocabulary.
        training: whether dropout is active.

    Input shape: (batch, seq_len). Output shape: logits (batch, seq_len, vocab_size).
    """

    def __init__(self, layout, embed_dim=96, num_heads=4, ff_dim=192, num_layers=2, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(layout, dict):
            layout = SequenceLayout(**layout)
        if not isinstance(layout, SequenceLayout):
            raise TypeError(f"layout must be a SequenceLayout or its config dict. Received: {type(layout).__name__}")
        for name, value in (
            ("embed_dim", embed_dim),
            ("num_heads", num_heads),
            ("ff_dim", ff_dim),
            ("num_layers", num_layers),
        ):
            _check_int(name, value)
        if embed_dim % num_heads:
            raise ValueError(
                f"embed_dim must be divisible by num_heads. Received: embed_dim={embed_dim}, num_heads={num_heads}"
            )
        if isinstance(dropout, bool) or not isinstance(dropout, numbers.Real) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a float in [0, 1). Received: dropout={dropout!r}")
        self.layout = layout
        self.embed_dim, self.num_heads, self.ff_dim = int(embed_dim), int(num_heads), int(ff_dim)
        self.num_layers, self.dropout = int(num_layers), float(dropout)
        self._modality_table = layout.modality_table()
        self._marker_table = layout.marker_table()
        self._max_position = layout.max_segment_len
        d = self.embed_dim
        self.token_embedding = keras.layers.Embedding(layout.vocab_size, d, name="token_embedding")
        self.modality_embedding = keras.layers.Embedding(len(MODALITY_IDS), d, name="modality_embedding")
        self.position_embedding = keras.layers.Embedding(self._max_position, d, name="position_embedding")
        self.attention = [
            keras.layers.MultiHeadAttention(
                self.num_heads, d // self.num_heads, dropout=self.dropout, name=f"attention_{i}"
            )
            for i in range(self.num_layers)
        ]
        self.feed_forward = [
            keras.Sequential(
                [keras.layers.Dense(self.ff_dim, activation="gelu"), keras.layers.Dense(d)], name=f"feed_forward_{i}"
            )
            for i in range(self.num_layers)
        ]
        self.norms = [keras.layers.LayerNormalization(name=f"norm_{i}") for i in range(2 * self.num_layers + 1)]
        self.to_logits = keras.layers.Dense(layout.vocab_size, name="to_logits")

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"inputs must be token ids (batch, seq_len). Received shape {tuple(input_shape)}")
        sequence = (None, None, self.embed_dim)
        for embedding in (self.token_embedding, self.modality_embedding, self.position_embedding):
            embedding.build((None, None))
        for i in range(self.num_layers):
            self.attention[i].build(sequence, sequence)
            self.feed_forward[i].build(sequence)
        for norm in self.norms:
            norm.build(sequence)
        self.to_logits.build(sequence)
        self.built = True

    def segment_positions(self, ids):
        """(batch, seq_len) position of each token inside its segment (its marker is 0), clipped."""
        t = ops.arange(ops.shape(ids)[1])  # (seq_len,)
        is_marker = ops.take(ops.convert_to_tensor(self._marker_table), ids)  # (batch, seq_len)
        marker_at = is_marker * t[None, :]  # the index of each marker, 0 elsewhere
        earlier = ops.cast(t[None, :] <= t[:, None], "int32")  # (seq_len, seq_len): key s <= query t
        last_marker = ops.max(marker_at[:, None, :] * earlier[None], axis=-1)  # (batch, seq_len)
        return ops.minimum(t[None, :] - last_marker, self._max_position - 1)

    def _embed(self, ids, positions):
        modality = ops.take(ops.convert_to_tensor(self._modality_table), ids)  # (batch, seq_len)
        return self.token_embedding(ids) + self.modality_embedding(modality) + self.position_embedding(positions)

    def call(self, inputs, training=False, return_cache=False):
        ids = ops.cast(inputs, "int32")
        if len(ids.shape) != 2:
            raise ValueError(f"inputs must be token ids (batch, seq_len). Received shape {tuple(ids.shape)}")
        x = self._embed(ids, self.segment_positions(ids))  # (batch, seq_len, d)
        cache = []  # each block's keys and values: all that later tokens need from the past
        for i in range(self.num_layers):
            h = self.norms[2 * i](x)
            if return_cache:
                cache.append((self.attention[i].key_dense(h), self.attention[i].value_dense(h)))
            x = x + self.attention[i](h, h, use_causal_mask=True, training=training)
            x = x + self.feed_forward[i](self.norms[2 * i + 1](x), training=training)
        logits = self.to_logits(self.norms[-1](x))  # (batch, seq_len, vocab_size)
        return (logits, cache) if return_cache else logits

    def extend(self, token_ids, positions, cache):
        """Run one new token per row, reusing the keys and values of the prefix (lesson 16).

        The key/value cache: a causal model never revisits the past, so each block keeps the
        keys and values of every earlier position, (batch, t, heads, key_dim) each, and a new
        token only computes its own. Same logits as running the whole sequence again.

        Args:
            token_ids: (batch,) the newest tokens; positions: (batch,) their positions in their segments.
            cache: the list returned by ``call(prefix, return_cache=True)`` (or by this method).

        Returns:
            logits (batch, vocab_size) of the token after, and the cache grown by one position.
        """
        ids = ops.cast(token_ids, "int32")[:, None]  # (batch, 1)
        x = self._embed(ids, ops.cast(positions, "int32")[:, None])  # (batch, 1, d)
        grown = []
        for i, attention in enumerate(self.attention):
            h = self.norms[2 * i](x)
            keys = ops.concatenate([cache[i][0], attention.key_dense(h)], axis=1)  # (batch, t + 1, heads, key_dim)
            values = ops.concatenate([cache[i][1], attention.value_dense(h)], axis=1)
            grown.append((keys, values))
            mixed = ops.dot_product_attention(
                attention.query_dense(h),
                keys,
                values,  # the newest token sees all
                scale=1.0 / np.sqrt(self.embed_dim // self.num_heads),
            )
            x = x + attention.output_dense(mixed)  # (batch, 1, d)
            x = x + self.feed_forward[i](self.norms[2 * i + 1](x))
        return self.to_logits(self.norms[-1](x))[:, 0], grown

    def compute_output_shape(self, input_shape):
        return (*tuple(input_shape), self.layout.vocab_size)

    def get_config(self):
        return {
            **super().get_config(),
            "layout": self.layout.get_config(),
            "embed_dim": self.embed_dim,
            "num_heads": self.num_heads,
            "ff_dim": self.ff_dim,
            "num_layers": self.num_layers,
            "dropout": self.dropout,
        }


class ModalityDecoder:
    """Adapts a :class:`UnifiedTransformer` to :mod:`mmgen_lib.generation`'s ``initial_state`` / ``step`` API.

    The context is the prompt (tag and the segments given so far). Logits outside
    ``target``'s range are set to -inf, so greedy decoding and sampling only ever pick
    ``target`` tokens. With ``use_cache`` the state holds each block's keys and values of the
    prefix and a step runs only the newest token (:meth:`UnifiedTransformer.extend`); without it
    the state is the prefix, run again in full at every step. Taught in lesson 16.
    """

    def __init__(self, model, layout: SequenceLayout, target: str, use_cache: bool = True):
        if not isinstance(model, UnifiedTransformer):
            raise TypeError(f"model must be a UnifiedTransformer. Received: {type(model).__name__}")
        self.model, self.layout, self.use_cache = model, layout, bool(use_cache)
        self.target = layout._modality(target)
        self._blocked = ~layout.allowed(target)  # (vocab_size,)
        self._markers = layout.marker_table()

    def _mask(self, logits):
        return ops.where(self._blocked[None], float("-inf"), logits)

    def initial_state(self, context):
        prompt = ops.cast(context, "int32")  # (batch, prompt_len)
        if not self.use_cache:
            return prompt
        _, cache = self.model(prompt, return_cache=True)
        return ops.convert_to_numpy(self.model.segment_positions(prompt))[:, -1], cache

    def step(self, context, token_ids, state):
        if not self.use_cache:
            prefix = ops.concatenate([state, ops.cast(token_ids, "int32")[:, None]], axis=1)
            return self._mask(self.model(prefix)[:, -1]), prefix
        positions, cache = state
        token_ids = np.asarray(token_ids)
        positions = np.where(
            self._markers[token_ids] == 1, 0, np.minimum(np.asarray(positions) + 1, self.model._max_position - 1)
        )
        logits, cache = self.model.extend(token_ids, positions, cache)
        return self._mask(logits), (positions, cache)


def _find_transformer(model) -> UnifiedTransformer:
    if isinstance(model, UnifiedTransformer):
        return model
    found = [layer for layer in getattr(model, "layers", []) if isinstance(layer, UnifiedTransformer)]
    if len(found) != 1:
        raise TypeError(
            f"model must be a UnifiedTransformer or a keras.Model holding one. Received: {type(model).__name__}"
        )
    return found[0]


def generate(
    model,
    layout: SequenceLayout,
    task,
    given: dict,
    temperature: float = 0.0,
    top_k: int | None = None,
    seed: int | None = None,
    use_cache: bool = True,
) -> dict:
    """Write every segment of ``task``'s order that is not ``given``, left to right (lesson 16).

    The given modalities must be the first ones of the order (the sources, and optionally
    the first targets): with task ``image -> audio, text``, ``given={"image": ...}`` writes the
    sound and then the caption, ``given={"image": ..., "audio": ...}`` only the caption.

    Args:
        model: the trained :class:`UnifiedTransformer` (or a ``keras.Model`` holding one).
        task: an index into ``layout.tasks`` or a ``(sources, targets)`` pair.
        given: modality -> (n, tokens) ids, as for :meth:`SequenceLayout.build`.
        temperature: 0 for greedy decoding, > 0 to sample (optionally ``top_k``-filtered).
        seed: seed of the sampling (each segment draws with ``seed + its index``).
        use_cache: reuse each block's keys and values of the prefix (see :class:`ModalityDecoder`).

    Returns:
        dict modality -> generated ids. Image / audio: (n, tokens) int32 codes of the
        tokenizer. Text: (n, caption_len - 1) caption ids in :mod:`mmgen_lib.generation`'s
        convention (``<end>`` included, 0 after), ready for ``Tokenizer.decode``.
    """
    transformer = _find_transformer(model)
    index = layout._task_index(task)
    sources, targets = layout.tasks[index]
    order = sources + targets
    if not isinstance(given, dict) or set(given) != set(order[: len(given)]) or len(given) == len(order):
        raise ValueError(
            f"given must hold the first modalities of the order {order}, leaving at least one to write. "
            f"Received: {sorted(given) if isinstance(given, dict) else type(given).__name__}"
        )
    prompt = layout.build(index, given, prompt_only=True)
    written = {}
    for k, target in enumerate(order[len(given) :]):
        decoder = ModalityDecoder(transformer, layout, target, use_cache=use_cache)
        kwargs = {"max_len": layout.segment_len(target) - 1, "start_id": layout.begin_id(target), "end_id": END_ID}
        if temperature == 0:
            ids = generation.greedy_decode(decoder, prompt, **kwargs)
        else:
            ids = generation.sample(
                decoder, prompt, temperature=temperature, top_k=top_k, seed=None if seed is None else seed + k, **kwargs
            )
        written[target] = layout.to_codes(target, ids)
        marker = np.full((len(prompt), 1), layout.begin_id(target), np.int32)
        prompt = np.concatenate([prompt, marker, ids.astype(np.int32)], axis=1)  # the next segment sees it
    return written


# ----------------------------------------------------------------------------- the shipped model
META_FILE = "unified.json"
WEIGHTS_FILE = "unified.npz"
RECIPE = {  # lesson 16's transformer; the shipped one is trained by this recipe on the train split
    "tasks": [[["text"], ["audio", "image"]], [["image"], ["audio", "text"]]],  # caption -> sound, image; ...
    "embed_dim": 64,
    "num_heads": 4,
    "ff_dim": 128,
    "num_layers": 2,
    "epochs": 12,
    "batch_size": 64,
    "learning_rate": 5e-3,
    "loss_weights": {"audio": 2.0},  # material sits in a few of the sound tokens: make them count more
}


def token_data(arrays: dict, image_tokenizer, sound_tokenizer) -> dict:
    """Every modality of a split as token ids (lesson 16): caption ids, image codes, sound codes.

    Args:
        arrays: a split's arrays from :func:`mmgen_lib.pipeline.split_arrays` (``caption_ids``,
            ``image``, ``spectrogram``).
        image_tokenizer, sound_tokenizer: lesson 15's tokenizers (:func:`mmgen_lib.tokens.load_tokenizers`).
    """
    needed = ("caption_ids", "image", "spectrogram")
    if not isinstance(arrays, dict) or not set(needed) <= set(arrays):
        got = sorted(arrays) if isinstance(arrays, dict) else type(arrays).__name__
        raise ValueError(
            f"arrays must be a split's arrays from mmgen_lib.pipeline.split_arrays, with keys {needed}. Received: {got}"
        )
    return {
        "text": np.asarray(arrays["caption_ids"], np.int32),
        "image": image_tokenizer.encode(arrays["image"]),
        "audio": sound_tokenizer.encode(arrays["spectrogram"]),
    }


def build_unified_model(layout: SequenceLayout, recipe: dict | None = None, seed: int | None = None) -> keras.Model:
    """``ids -> logits``: a :class:`UnifiedTransformer` sized by ``recipe`` (default :data:`RECIPE`), built."""
    recipe = RECIPE if recipe is None else recipe
    if seed is not None:
        keras.utils.set_random_seed(_check_int("seed", seed, 0))
    transformer = UnifiedTransformer(
        layout,
        embed_dim=recipe["embed_dim"],
        num_heads=recipe["num_heads"],
        ff_dim=recipe["ff_dim"],
        num_layers=recipe["num_layers"],
        name="unified",
    )
    ids_in = keras.Input((None,), dtype="int32", name="token_ids")
    return keras.Model(ids_in, transformer(ids_in), name="unified_model")


def train_unified(
    layout: SequenceLayout,
    data: dict,
    epochs: int | None = None,
    seed: int = 0,
    callbacks=None,
    stop_after: int | None = None,
    stop_after_steps: int | None = None,
):
    """Train one transformer on every task's order of ``data`` by :data:`RECIPE` (lesson 16).

    Every example is laid out in every task's order (:func:`mixed_order_sequences`), shifted into
    next-token pairs (:func:`shift_for_training`) and fitted with the loss mask as sample weights.

    Args:
        layout: a :class:`SequenceLayout` whose tasks are the recipe's.
        data: modality -> (n, tokens) ids of the training split (:func:`token_data`).
        epochs: length of the learning-rate schedule; default: the recipe's.
        seed: same seed, same weights (on one machine, with op determinism on).
        callbacks: Keras callbacks for ``fit`` (e.g. a :class:`mmgen_lib.progress.ProgressLine`).
        stop_after: run only the first ``stop_after`` epochs of that schedule; default: all of them.
        stop_after_steps: run only the first ``stop_after_steps`` training steps (batches) of the
            first epoch of that schedule (lesson 16 runs the first 40 live: their loss is the full
            run's after as many steps). Not together with ``stop_after``.

    Returns:
        ``(model, history)``: the ``ids -> logits`` model and ``{"loss": [...],
        "first_epoch_running_loss": [...]}``: the loss of every epoch run, and after every step of
        the first epoch the mean loss of its steps so far (what Keras' progress bar shows).
    """
    if not isinstance(layout, SequenceLayout):
        raise TypeError(f"layout must be a SequenceLayout. Received: {type(layout).__name__}")
    epochs = _check_int("epochs", RECIPE["epochs"] if epochs is None else epochs)
    if stop_after is not None and stop_after_steps is not None:
        raise ValueError(
            "Pass stop_after (epochs) or stop_after_steps (steps of the first epoch), not both. "
            f"Received: stop_after={stop_after}, stop_after_steps={stop_after_steps}"
        )
    stop_after = epochs if stop_after is None else _check_int("stop_after", stop_after)
    if stop_after > epochs:
        raise ValueError(f"stop_after must be <= epochs ({epochs}). Received: stop_after={stop_after}")
    tokens, loss_mask, _ = mixed_order_sequences(layout, data, seed=seed, weights=RECIPE["loss_weights"])
    inputs, targets, weights = shift_for_training(tokens, loss_mask)
    steps_per_epoch = int(np.ceil(len(inputs) / RECIPE["batch_size"]))
    if stop_after_steps is not None:
        stop_after_steps = _check_int("stop_after_steps", stop_after_steps)
        if stop_after_steps > steps_per_epoch:
            raise ValueError(
                f"stop_after_steps must be <= the {steps_per_epoch} steps of one epoch. "
                f"Received: stop_after_steps={stop_after_steps}"
            )
        stop_after = 1
    running_loss = _FirstEpochRunningLoss(stop_after_steps)
    model = build_unified_model(layout, seed=seed)
    steps = epochs * steps_per_epoch
    model.compile(
        keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(RECIPE["learning_rate"], steps)),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    model.optimizer.build(model.trainable_variables)  # Adam's slots now: fit then traces its step once, not twice
    history = model.fit(
        inputs,
        targets,
        sample_weight=weights,
        batch_size=RECIPE["batch_size"],
        epochs=stop_after,
        shuffle=True,
        verbose=0,
        callbacks=[running_loss, *(callbacks or [])],
    )
    return model, {
        "loss": [float(v) for v in history.history["loss"]],
        "first_epoch_running_loss": running_loss.losses,
    }


class _FirstEpochRunningLoss(keras.callbacks.Callback):
    """Keeps the loss Keras reports after every step of the first epoch; optionally stops there."""

    def __init__(self, stop_after_steps: int | None = None):
        super().__init__()
        self.stop_after_steps = stop_after_steps
        self.losses = []
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self._epoch == 0:
            self.losses.append(float(logs["loss"]))
            if self.stop_after_steps is not None and len(self.losses) == self.stop_after_steps:
                self.model.stop_training = True


def default_unified_dir() -> Path:
    """Where the shipped transformer lives: ``<data dir>/unified``."""
    return default_data_dir() / "unified"


def _tokenizers_sha256() -> dict:
    """The sha256 of the shipped tokenizers' weights: the transformer's codes are theirs."""
    from mmgen_lib.tokens import META_FILE as TOKENIZERS_META
    from mmgen_lib.tokens import default_tokenizers_dir

    meta = shipped.read_meta(
        default_tokenizers_dir(), TOKENIZERS_META, "recreate them with `python -m mmgen_lib.tokens`"
    )
    return {kind: entry["sha256"] for kind, entry in sorted(meta["tokenizers"].items())}


def save_unified(model, layout, out_dir, history=None, metrics=None, seed=None, force=False) -> dict:
    """Write the weights and ``unified.json`` (layout, recipe, tokenizers' sha256, history, metrics).

    Never overwrites without ``force``.
    """
    transformer = _find_transformer(model)
    if not isinstance(layout, SequenceLayout) or layout != transformer.layout:
        raise ValueError("layout must be the SequenceLayout the model was built with")
    payload = shipped.weights_bytes(model.get_weights())
    meta = {
        "file": WEIGHTS_FILE,
        "sha256": shipped.sha256(payload),
        "layout": layout.get_config(),
        "recipe": RECIPE,
        "tokenizers_sha256": _tokenizers_sha256(),
        "history": {k: [round(float(v), 5) for v in values] for k, values in (history or {}).items()},
        "metrics": metrics or {},
        "seed": seed,
    }
    shipped.write_folder(out_dir, {WEIGHTS_FILE: payload}, META_FILE, meta, force=force)
    return meta


def load_unified(folder=None, verify: bool = True):
    """The shipped transformer of lesson 16 and its layout, in about a second.

    Args:
        folder: folder holding ``unified.json`` (default ``data/unified/``).
        verify: check the weights' sha256 first.

    Returns:
        ``(model, layout, meta)``: the ``ids -> logits`` model, its :class:`SequenceLayout` and the
        folder's description (``meta["history"]["loss"]``: the per-epoch training loss).

    Raises:
        ValueError: the weights do not match their sha256, or the shipped tokenizers are not the
            ones the transformer was trained on (its codes would mean something else).
    """
    folder = Path(folder) if folder is not None else default_unified_dir()
    hint = shipped.rebuild_hint("unified", folder)
    meta = shipped.read_meta(folder, META_FILE, hint)
    if meta["tokenizers_sha256"] != _tokenizers_sha256():
        raise ValueError(
            f"{folder / META_FILE} was trained on other tokenizers than those in data/tokenizers/ "
            f"(their codes mean other things now); {hint}"
        )
    weights = shipped.read_weights(folder / meta["file"], meta["sha256"], hint, verify=verify)
    layout = SequenceLayout(**meta["layout"])
    model = build_unified_model(layout, meta["recipe"])
    if len(weights) != len(model.weights):
        raise ValueError(f"{folder / meta['file']} holds {len(weights)} arrays, the model {len(model.weights)}; {hint}")
    model.set_weights(weights)
    return model, layout, meta


def evaluate_unified(model, layout, data, labels, image_tokenizer, tokenizer, probe) -> dict:
    """The shipped transformer's test figures: probe accuracy of caption -> image, attribute accuracy of
    image + sound -> caption (greedy decoding, the whole split in one batch)."""
    from mmgen_lib.metrics import caption_attribute_accuracy
    from mmgen_lib.probe import probe_accuracy

    images = image_tokenizer.decode(generate(model, layout, 0, {"text": data["text"]})["image"])
    written = generate(model, layout, 1, {"image": data["image"], "audio": data["audio"]})["text"]
    captions = [tokenizer.decode(row) for row in written]
    return {
        "text_to_image_probe": {k: round(v, 4) for k, v in probe_accuracy(probe, images, labels).items()},
        "image_audio_to_text_attr": {k: round(v, 4) for k, v in caption_attribute_accuracy(captions, labels).items()},
    }


def main(argv=None) -> int:
    args, refused = shipped.recipe_command(
        "python -m mmgen_lib.unified",
        "Train lesson 16's transformer on every task's order of the train split and save it.",
        (WEIGHTS_FILE, META_FILE),
        argv,
        op_determinism=True,
    )
    if refused is not None:
        return refused
    import time

    from mmgen_lib.data import load_split
    from mmgen_lib.pipeline import CAPTION_LEN, split_arrays
    from mmgen_lib.probe import load_probe
    from mmgen_lib.tokenizer import shapesworld_tokenizer
    from mmgen_lib.tokens import load_tokenizers

    train, test = load_split("train"), load_split("test")
    tokenizer = shapesworld_tokenizer(train)
    image_tokenizer, sound_tokenizer = load_tokenizers()
    n = len(train) if args.examples is None else _check_int("--examples", args.examples)
    data = {k: v[:n] for k, v in token_data(split_arrays(train, tokenizer), image_tokenizer, sound_tokenizer).items()}
    layout = SequenceLayout(
        tokenizer.vocab_size,
        image_tokenizer.codebook_size,
        sound_tokenizer.codebook_size,
        image_tokens=image_tokenizer.n_tokens,
        audio_tokens=sound_tokenizer.n_tokens,
        caption_len=CAPTION_LEN,
        tasks=RECIPE["tasks"],
    )
    started = time.perf_counter()
    model, history = train_unified(layout, data, epochs=args.epochs, seed=args.seed)
    seconds = time.perf_counter() - started
    test_data = token_data(split_arrays(test, tokenizer), image_tokenizer, sound_tokenizer)
    metrics = {
        "test": evaluate_unified(model, layout, test_data, test.labels, image_tokenizer, tokenizer, load_probe())
    }
    if (quick_run := shipped.quick_run_record(args)) is not None:
        metrics["quick_run"] = quick_run
    print(f"trained in {seconds:.1f} s; loss {history['loss'][0]:.4f} -> {history['loss'][-1]:.4f}; {metrics['test']}")
    meta = save_unified(model, layout, args.out, history, metrics, seed=args.seed, force=True)
    print(f"wrote {WEIGHTS_FILE} (sha256 {meta['sha256'][:12]}...) and {META_FILE} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
