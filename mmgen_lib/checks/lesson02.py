"""Exercise checks of lesson 02 (the text encoder)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import as_int, check_close, check_shape, fail, passed

__all__ = ["check_masked_mean", "check_text_encoder_params", "check_most_similar"]


def _callable(fn, name: str) -> None:
    if not callable(fn):
        fail(f"`{name}` should be a function, but it is a {type(fn).__name__}", f"define it with `def {name}(...):`")


def check_masked_mean(my_masked_mean) -> None:
    """Exercise 1: NumPy masked mean over the real tokens."""
    _callable(my_masked_mean, "my_masked_mean")
    rng = np.random.default_rng(2)
    sequence = rng.normal(size=(3, 6, 4)).astype(np.float32)
    mask = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1], [1, 0, 0, 0, 0, 0]], bool)
    expected = np.stack([sequence[i, mask[i]].mean(axis=0) for i in range(3)])
    result = check_shape(my_masked_mean(sequence, mask), (3, 4), "my_masked_mean(sequence, mask)",
                         "average over axis 1 (the time axis), one vector per row")
    if np.allclose(result, sequence.mean(axis=1), atol=1e-5):
        fail("the result is the plain mean: the padded positions are counted",
             "multiply by the mask before summing, and divide by the number of real tokens")
    if np.allclose(result, (sequence * mask[..., None]).sum(axis=1) / mask.shape[1], atol=1e-5):
        fail("the padded positions are zeroed, but you divide by the full length seq_len",
             "divide by mask.sum(axis=1) (the number of real tokens per row) instead")
    check_close(result, expected, "my_masked_mean(sequence, mask)", atol=1e-5,
                hint="sum(sequence * mask[..., None], axis=1) / mask.sum(axis=1, keepdims=True)")
    passed("the mean counts only the real tokens")


def check_text_encoder_params(text_encoder_params) -> None:
    """Exercise 2: parameter count of ``TextEncoder`` for the LSTM and GRU kinds."""
    from mmgen_lib.encoders import TextEncoder

    _callable(text_encoder_params, "text_encoder_params")
    for kind, vocab_size, embed_dim, units in (("lstm", 50, 32, 64), ("gru", 50, 32, 64), ("lstm", 20, 8, 12),
                                               ("gru", 20, 8, 12), ("gru", 7, 5, 3)):
        encoder = TextEncoder(vocab_size, embed_dim, units, kind=kind)
        encoder.build((None, 4))
        expected = encoder.count_params()
        embedding = vocab_size * embed_dim
        call = f"text_encoder_params({kind!r}, {vocab_size}, {embed_dim}, {units})"
        got = as_int(text_encoder_params(kind, vocab_size, embed_dim, units), call)
        if got == expected:
            continue
        if got == expected - embedding:
            fail(f"{call} is {got}, but the embedding table is missing", "add vocab_size * embed_dim")
        if kind == "gru" and got == expected - 3 * units:
            fail(f"{call} is {got}: the GRU has one bias too few per gate",
                 "Keras' GRU uses reset_after=True: two bias vectors per gate, 3 * 2 * units in all")
        if kind == "gru" and got == embedding + 4 * (embed_dim * units + units * units + units):
            fail(f"{call} is {got}: that is the LSTM formula", "a GRU has 3 gate blocks, an LSTM 4")
        fail(f"{call} is {got}, expected {expected}",
             "per gate block: embed_dim*units (input kernel) + units*units (recurrent kernel) + bias")
    passed("parameter counts match TextEncoder for LSTM and GRU")


def check_most_similar(most_similar, table, vocabulary) -> None:
    """Exercise 3: the k nearest words by cosine similarity, excluding the word itself."""
    _callable(most_similar, "most_similar")
    table = np.asarray(table, dtype=np.float64)
    vocabulary = list(vocabulary)
    unit = table / np.linalg.norm(table, axis=1, keepdims=True)
    for word in ("big", "wooden", "red"):
        if word not in vocabulary:
            continue
        scores = unit @ unit[vocabulary.index(word)]
        order = [i for i in np.argsort(-scores, kind="stable") if vocabulary[i] != word]
        expected = [vocabulary[i] for i in order[:3]]
        got = most_similar(table, vocabulary, word, k=3)
        if got is None:
            fail(f"most_similar(..., {word!r}) returned None", "return a list of words")
        got = [str(w) for w in got]
        if got == expected:
            continue
        if word in got:
            fail(f"most_similar(..., {word!r}) returned {got}, which contains {word!r} itself",
                 "leave the word itself out: it is always its own nearest neighbour")
        if len(got) != 3:
            fail(f"most_similar(..., {word!r}, k=3) returned {len(got)} words", "return exactly k words")
        dots = table @ table[vocabulary.index(word)]
        by_dot = [vocabulary[i] for i in np.argsort(-dots, kind="stable") if vocabulary[i] != word][:3]
        if got == by_dot and by_dot != expected:
            fail(f"most_similar(..., {word!r}) ranks by the dot product, not the cosine",
                 "divide each row by its norm first: cos(a, b) = a.b / (|a| |b|)")
        fail(f"most_similar(..., {word!r}) returned {got}, expected {expected}",
             "sort by cosine similarity, most similar first")
    passed("nearest words by cosine similarity")
