"""Exercise checks of lesson 02 (the text encoder)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import as_array, as_int, call_answer, check_close, describe, expect_function, fail, passed

__all__ = ["check_masked_mean", "check_text_encoder_params", "check_most_similar"]


def check_masked_mean(my_masked_mean) -> None:
    """Exercise 1: NumPy masked mean over the real tokens."""
    expect_function(my_masked_mean, "my_masked_mean", "my_masked_mean(sequence, mask)")
    rng = np.random.default_rng(2)
    for batch, length, dim in ((3, 6, 4), (2, 5, 3)):
        sequence = rng.normal(size=(batch, length, dim)).astype(np.float32)
        mask = rng.random((batch, length)) < 0.6
        mask[:, 0] = True
        mask[0] = True  # one row without padding, one with a single real token
        mask[-1, 1:] = False
        expected = np.stack([sequence[i, mask[i]].mean(axis=0) for i in range(batch)])
        call = f"my_masked_mean(sequence {sequence.shape}, mask {mask.shape})"
        result = as_array(
            call_answer(my_masked_mean, call, sequence.copy(), mask.copy()),
            call,
            (batch, dim),
            "average over axis 1 (the time axis), one vector per row",
        )
        if np.allclose(result, sequence.mean(axis=1), atol=1e-5):
            fail(
                "the result is the plain mean: the padded positions are counted",
                "multiply by the mask before summing, and divide by the number of real tokens",
            )
        if np.allclose(result, (sequence * mask[..., None]).sum(axis=1) / mask.shape[1], atol=1e-5):
            fail(
                "the padded positions are zeroed, but you divide by the full length seq_len",
                "divide by mask.sum(axis=1) (the number of real tokens per row) instead",
            )
        check_close(
            result,
            expected,
            call,
            atol=1e-5,
            hint="sum(sequence * mask[..., None], axis=1) / mask.sum(axis=1, keepdims=True)",
        )
    passed("the mean counts only the real tokens")


def check_text_encoder_params(text_encoder_params) -> None:
    """Exercise 2: parameter count of ``TextEncoder`` for the LSTM and GRU kinds."""
    from mmgen_lib.encoders import TextEncoder

    expect_function(
        text_encoder_params, "text_encoder_params", "text_encoder_params(kind, vocab_size, embed_dim, units)"
    )
    for kind, vocab_size, embed_dim, units in (
        ("lstm", 50, 32, 64),
        ("gru", 50, 32, 64),
        ("lstm", 20, 8, 12),
        ("gru", 20, 8, 12),
        ("gru", 7, 5, 3),
    ):
        encoder = TextEncoder(vocab_size, embed_dim, units, kind=kind)
        encoder.build((None, 4))
        expected = encoder.count_params()
        embedding = vocab_size * embed_dim
        call = f"text_encoder_params({kind!r}, {vocab_size}, {embed_dim}, {units})"
        got = as_int(call_answer(text_encoder_params, call, kind, vocab_size, embed_dim, units), call)
        if got == expected:
            continue
        if got == expected - embedding:
            fail(
                "{call} is {got}, but the embedding table is missing", "add vocab_size * embed_dim", call=call, got=got
            )
        if kind == "gru" and got == expected - 3 * units:
            fail(
                "{call} is {got}: the GRU has one bias too few per gate",
                "Keras' GRU uses reset_after=True: two bias vectors per gate, 3 * 2 * units in all",
                call=call,
                got=got,
            )
        if kind == "gru" and got == embedding + 4 * (embed_dim * units + units * units + units):
            fail("{call} is {got}: that is the LSTM formula", "a GRU has 3 gate blocks, an LSTM 4", call=call, got=got)
        fail(
            "{call} is {got}, expected {expected}",
            "per gate block: embed_dim*units (input kernel) + units*units (recurrent kernel) + bias; "
            "compute it from the arguments (each call has other sizes)",
            call=call,
            got=got,
            expected=expected,
        )
    passed("parameter counts match TextEncoder for LSTM and GRU")


def check_most_similar(most_similar, table, vocabulary) -> None:
    """Exercise 3: the k nearest words by cosine similarity, excluding the word itself."""
    expect_function(most_similar, "most_similar", "most_similar(table, vocabulary, word, k=3)")
    table = np.asarray(table, dtype=np.float64)
    vocabulary = list(vocabulary)
    unseen = np.random.default_rng(12).normal(size=table.shape)  # a table the learner has not seen
    for word, table in [(w, table) for w in ("big", "wooden", "red")] + [(w, unseen) for w in ("big", "red")]:
        if word not in vocabulary:
            continue
        unit = table / np.linalg.norm(table, axis=1, keepdims=True)
        scores = unit @ unit[vocabulary.index(word)]
        order = [i for i in np.argsort(-scores, kind="stable") if vocabulary[i] != word]
        expected = [vocabulary[i] for i in order[:3]]
        call = f"most_similar(table, vocabulary, {word!r}, k=3)"
        got = call_answer(most_similar, call, table.copy(), list(vocabulary), word, k=3)
        if isinstance(got, (str, dict)) or not hasattr(got, "__len__"):
            fail(
                "{call} should return a list of words, but it returned {got}",
                "return a list such as ['large', ...]",
                call=call,
                got=describe(got),
            )
        got = [str(w) for w in got]
        if got == expected:
            continue
        if word in got:
            fail(
                "{call} returned {got}, which contains {word!r} itself",
                "leave the word itself out: it is always its own nearest neighbour",
                call=call,
                got=got,
                word=word,
            )
        if len(got) != 3:
            fail("{call} returned {n} words", "return exactly k words", call=call, n=len(got))
        dots = table @ table[vocabulary.index(word)]
        by_dot = [vocabulary[i] for i in np.argsort(-dots, kind="stable") if vocabulary[i] != word][:3]
        if got == by_dot and by_dot != expected:
            fail(
                "{call} ranks by the dot product, not the cosine",
                "divide each row by its norm first: cos(a, b) = a.b / (|a| |b|)",
                call=call,
            )
        if got == expected[::-1]:
            fail(
                "{call} returned {got}: the least similar of the three comes first",
                "sort by decreasing similarity (np.argsort(-scores))",
                call=call,
                got=got,
            )
        fail(
            "{call} returned {got}, expected {expected}",
            "sort by cosine similarity, most similar first",
            call=call,
            got=got,
            expected=expected,
        )
    passed("nearest words by cosine similarity, in your table and in a random one")
