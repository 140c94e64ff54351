"""From next-token probabilities to text: greedy, beam search and sampling (lesson 08).

A trained decoder gives p(y_t | y_<t, z) one step at a time; a *decoding strategy*
turns those distributions into a sequence. Every function here is batched, works
with any decoder that offers ``initial_state(context)`` and
``step(context, token_ids, state) -> (logits, state)`` (e.g.
:class:`mmgen_lib.decoders.TextDecoder`), feeds each step only the newest token
(the state carries the prefix), stops at the end token or after ``max_len`` tokens,
and returns NumPy token ids.

Output convention: ``(batch, max_len)`` int32, the generated tokens *without*
``<start>``, including ``<end>`` when it was produced, padded with 0 after it,
so ``tokenizer.decode(row)`` gives the text.
"""

from __future__ import annotations

import numbers

import keras
import numpy as np
from keras import ops

from mmgen_lib import validation

__all__ = [
    "greedy_decode",
    "beam_search",
    "sample",
    "next_token_distribution",
    "sequence_log_prob",
    "PAD_ID",
    "START_ID",
    "END_ID",
]

PAD_ID, START_ID, END_ID = 0, 1, 2  # as in mmgen_lib.tokenizer.Tokenizer
DEFAULT_MAX_LEN = 15  # CAPTION_LEN - 1: every ShapesWorld caption plus <end> fits


def _check_int(name, value, minimum):
    return validation.integer(value, name, minimum=minimum)


def _prepare(decoder, context, max_len, start_id, end_id):
    """Validate the common arguments; return the context as a float32 array."""
    if not (callable(getattr(decoder, "initial_state", None)) and callable(getattr(decoder, "step", None))):
        raise TypeError(
            "decoder must offer initial_state(context) and step(context, token_ids, state), "
            f"like mmgen_lib.decoders.TextDecoder. Received: {type(decoder).__name__}"
        )
    _check_int("max_len", max_len, 1)
    _check_int("start_id", start_id, 0)
    _check_int("end_id", end_id, 0)
    context = np.asarray(ops.convert_to_numpy(context), dtype=np.float32)
    if context.ndim < 1 or context.shape[0] < 1:
        raise ValueError(f"context must hold at least one example, (batch, ...). Received shape {context.shape}")
    return context


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _check_sampling(temperature, top_k):
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, numbers.Real)
        or not (np.isfinite(temperature) and temperature >= 0)
    ):
        raise ValueError(f"temperature must be a finite number >= 0. Received: temperature={temperature!r}")
    return None if top_k is None else _check_int("top_k", top_k, 1)


def next_token_distribution(logits, temperature: float = 1.0, top_k: int | None = None) -> np.ndarray:
    """The distribution sampling draws from: ``softmax(logits / T)`` restricted to the top k.

    Args:
        logits: (..., vocab_size) scores of the next token.
        temperature: T > 0 sharpens (T < 1) or flattens (T > 1) the distribution;
            T = 0 puts all mass on the argmax (greedy).
        top_k: keep only the k most likely tokens (renormalised); None keeps all.

    Returns:
        float64 probabilities, same shape as ``logits``, each row summing to 1.
    """
    logits = np.asarray(ops.convert_to_numpy(logits), dtype=np.float64)
    if logits.ndim < 1 or logits.shape[-1] < 1:
        raise ValueError(f"logits must be (..., vocab_size). Received shape {logits.shape}")
    top_k = _check_sampling(temperature, top_k)
    if top_k is not None:
        if top_k > logits.shape[-1]:
            raise ValueError(f"top_k must be at most the vocabulary size {logits.shape[-1]}. Received: top_k={top_k}")
    if temperature == 0:  # the limit T -> 0: all mass on the argmax
        return np.eye(logits.shape[-1])[np.argmax(logits, axis=-1)]
    scaled = logits / temperature
    if top_k is not None:
        order = np.argsort(-scaled, axis=-1, kind="stable")
        dropped = order[..., top_k:]  # the vocab_size - k least likely tokens
        np.put_along_axis(scaled, dropped, -np.inf, axis=-1)
    return np.exp(_log_softmax(scaled))


def _run(decoder, context, max_len, start_id, end_id, choose) -> np.ndarray:
    """The shared left-to-right loop of greedy decoding and sampling."""
    batch = context.shape[0]
    state = decoder.initial_state(context)
    tokens = np.full(batch, start_id, np.int32)
    out = np.zeros((batch, max_len), np.int32)
    done = np.zeros(batch, bool)
    for t in range(max_len):
        logits, state = decoder.step(context, tokens, state)  # (batch, vocab_size)
        chosen = np.where(done, PAD_ID, choose(ops.convert_to_numpy(logits).astype(np.float64)))
        out[:, t] = chosen
        done |= chosen == end_id
        if done.all():
            break
        tokens = chosen.astype(np.int32)
    return out


def greedy_decode(
    decoder, context, max_len: int = DEFAULT_MAX_LEN, start_id: int = START_ID, end_id: int = END_ID
) -> np.ndarray:
    """Pick the most likely token at every step (lesson 08).

    Args:
        decoder: has ``initial_state`` and ``step`` (see the module docstring).
        context: (batch, ...) conditioning, e.g. the fused representation.
        max_len: the most tokens generated per example (``<end>`` included).
        start_id, end_id: the ``<start>`` token fed first and the token that ends a sequence.

    Returns:
        (batch, max_len) int32 token ids, padded with 0 after ``<end>``.
    """
    context = _prepare(decoder, context, max_len, start_id, end_id)
    return _run(decoder, context, max_len, start_id, end_id, lambda logits: np.argmax(logits, axis=-1))


def sample(
    decoder,
    context,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int | None = None,
    max_len: int = DEFAULT_MAX_LEN,
    start_id: int = START_ID,
    end_id: int = END_ID,
) -> np.ndarray:
    """Draw each token from ``softmax(logits / temperature)``, optionally top-k filtered (lesson 08).

    Args:
        temperature: >= 0; 0 is greedy decoding, 1 samples the model's own distribution,
            larger values give more varied (and more often wrong) text.
        top_k: sample only among the k most likely tokens; None for all.
        seed: an int makes the draws repeatable; None draws fresh randomness.
        decoder, context, max_len, start_id, end_id: as in :func:`greedy_decode`.

    Returns:
        (batch, max_len) int32 token ids, padded with 0 after ``<end>``.
    """
    context = _prepare(decoder, context, max_len, start_id, end_id)
    _check_sampling(temperature, top_k)  # fail before decoding, not at the first step
    if seed is not None:
        _check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)

    def choose(logits):
        probs = next_token_distribution(logits, temperature, top_k)  # (batch, vocab_size)
        cumulative = np.cumsum(probs, axis=-1)
        draws = rng.random((len(probs), 1)) * cumulative[:, -1:]
        return np.minimum((cumulative <= draws).sum(axis=-1), probs.shape[-1] - 1)  # inverse CDF

    return _run(decoder, context, max_len, start_id, end_id, choose)


def beam_search(
    decoder,
    context,
    beam_width: int = 3,
    max_len: int = DEFAULT_MAX_LEN,
    start_id: int = START_ID,
    end_id: int = END_ID,
    length_penalty: float = 0.0,
    return_scores: bool = False,
    return_all_beams: bool = False,
):
    """Keep the ``beam_width`` most likely prefixes at every step (lesson 08).

    Each example's beams are expanded by every token; the best ``beam_width`` of the
    ``beam_width * vocab_size`` candidates (by summed log-probability) survive.
    A finished beam keeps its score and competes until all beams have ended or
    ``max_len`` is reached. With ``beam_width=1`` this is greedy decoding.

    Args:
        beam_width: number of beams, >= 1.
        length_penalty: the final ranking divides each score by ``length ** length_penalty``
            (0: plain log-probability, which favours short outputs; 1: per-token average).
        return_scores: also return the log-probabilities of the returned sequences.
        return_all_beams: return every beam, best first, instead of the best one.
        decoder, context, max_len, start_id, end_id: as in :func:`greedy_decode`.

    Returns:
        token ids (batch, max_len) int32 — or (batch, beam_width, max_len) with
        ``return_all_beams`` — and, with ``return_scores``, float64 log-probabilities
        of shape (batch,) or (batch, beam_width).
    """
    context = _prepare(decoder, context, max_len, start_id, end_id)
    k = _check_int("beam_width", beam_width, 1)
    if (
        isinstance(length_penalty, bool)
        or not isinstance(length_penalty, numbers.Real)
        or not np.isfinite(length_penalty)
        or length_penalty < 0
    ):
        raise ValueError(f"length_penalty must be a finite number >= 0. Received: length_penalty={length_penalty!r}")
    batch = context.shape[0]
    flat_context = np.repeat(context, k, axis=0)  # (batch * k, ...): example i owns rows i*k .. i*k+k-1
    state = decoder.initial_state(flat_context)
    tokens = np.full(batch * k, start_id, np.int32)
    scores = np.full((batch, k), -np.inf)
    scores[:, 0] = 0.0  # all beams start equal: keep one, or the first step would pick k copies
    seqs = np.zeros((batch, k, max_len), np.int32)
    lengths = np.zeros((batch, k))
    done = np.zeros((batch, k), bool)
    for t in range(max_len):
        logits, state = decoder.step(flat_context, tokens, state)  # (batch * k, vocab_size)
        logp = _log_softmax(ops.convert_to_numpy(logits).astype(np.float64))
        vocab = logp.shape[-1]
        logp = logp.reshape(batch, k, vocab)
        finished_row = np.full(vocab, -np.inf)
        finished_row[PAD_ID] = 0.0  # a finished beam continues only with padding, at no cost
        logp = np.where(done[..., None], finished_row, logp)
        candidates = (scores[..., None] + logp).reshape(batch, k * vocab)
        best = np.argsort(-candidates, axis=-1, kind="stable")[:, :k]  # (batch, k)
        beam, token = best // vocab, best % vocab
        scores = np.take_along_axis(candidates, best, axis=-1)
        seqs = np.take_along_axis(seqs, beam[..., None], axis=1)
        seqs[:, :, t] = token
        was_done = np.take_along_axis(done, beam, axis=1)
        lengths = np.take_along_axis(lengths, beam, axis=1) + ~was_done
        done = was_done | (token == end_id)
        if done.all():
            break
        rows = (np.arange(batch)[:, None] * k + beam).reshape(-1)  # where each new beam came from
        state = keras.tree.map_structure(lambda s, rows=rows: ops.take(s, rows, axis=0), state)
        tokens = token.reshape(-1).astype(np.int32)
    ranking = scores / np.maximum(lengths, 1) ** length_penalty
    order = np.argsort(-ranking, axis=-1, kind="stable")  # (batch, k), best first
    seqs, scores = np.take_along_axis(seqs, order[..., None], axis=1), np.take_along_axis(scores, order, axis=1)
    if not return_all_beams:
        seqs, scores = seqs[:, 0], scores[:, 0]
    return (seqs, scores) if return_scores else seqs


def sequence_log_prob(decoder, context, token_ids, start_id: int = START_ID, end_id: int = END_ID) -> np.ndarray:
    """Log-probability the decoder gives to each sequence, up to and including ``<end>``.

    Uses one teacher-forced call, ``decoder([context, [<start>, y_1, ..., y_{T-1}]])``.

    Args:
        token_ids: (batch, T) generated ids as returned by this module (no ``<start>``,
            0 after ``<end>``).

    Returns:
        (batch,) float64 sums of log p(y_t | y_<t, context).
    """
    context = _prepare(decoder, context, 1, start_id, end_id)
    token_ids = np.asarray(token_ids)
    if token_ids.ndim != 2 or token_ids.shape[0] != context.shape[0]:
        raise ValueError(
            f"token_ids must be (batch, T) with batch = {context.shape[0]}. Received shape {token_ids.shape}"
        )
    inputs = np.concatenate([np.full((len(token_ids), 1), start_id), token_ids[:, :-1]], axis=1).astype(np.int32)
    logp = _log_softmax(ops.convert_to_numpy(decoder([context, inputs])).astype(np.float64))  # (batch, T, vocab)
    picked = np.take_along_axis(logp, token_ids[..., None].astype(np.int64), axis=-1)[..., 0]  # (batch, T)
    ended_before = np.cumsum(token_ids == end_id, axis=1) - (token_ids == end_id)  # 1 after the first <end>
    return np.where(ended_before > 0, 0.0, picked).sum(axis=1)
