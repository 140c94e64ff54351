"""Exercise checks of lesson 08 (the joint decoder → text)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from mmgen_lib.checks import check_close, check_shape, fail, passed

__all__ = ["check_teacher_forcing_pair", "check_distribution", "check_clipped_matches"]


def _callable(fn, name: str) -> None:
    if not callable(fn):
        fail(f"`{name}` should be a function, but it is a {type(fn).__name__}", f"define it with `def {name}(...):`")


def _pair(result, call: str):
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        fail(f"{call} should return a tuple (decoder_inputs, targets), got {type(result).__name__}",
             "end with `return inputs, targets`")
    return result


def check_teacher_forcing_pair(teacher_forcing_pair) -> None:
    """Exercise 1: decoder inputs = captions without the last token, targets = without the first."""
    _callable(teacher_forcing_pair, "teacher_forcing_pair")
    ids = np.array([[1, 5, 6, 7, 2, 0], [1, 8, 9, 2, 0, 0]], np.int32)  # <start> ... <end> <pad>
    inputs, targets = _pair(teacher_forcing_pair(ids.copy()), "teacher_forcing_pair(caption_ids)")
    inputs, targets = np.asarray(inputs), np.asarray(targets)
    if inputs.shape == targets.shape == (2, 6):
        fail("the inputs and targets are as long as the captions: nothing was shifted",
             "the decoder reads token t-1 and predicts token t: drop the last token from the inputs, "
             "the first from the targets")
    check_shape(inputs, (2, 5), "decoder_inputs", "one token shorter than the captions: caption_ids[:, :-1]")
    check_shape(targets, (2, 5), "targets", "one token shorter than the captions: caption_ids[:, 1:]")
    if np.array_equal(inputs, ids[:, 1:]) and np.array_equal(targets, ids[:, :-1]):
        fail("inputs and targets are swapped", "the inputs start with <start> (id 1); the targets end with <end>")
    if not (inputs[:, 0] == 1).all():
        fail("the decoder inputs should start with <start> (id 1)", "inputs = caption_ids[:, :-1]")
    if not np.array_equal(inputs, ids[:, :-1]):
        fail(f"decoder_inputs are {inputs.tolist()}, expected {ids[:, :-1].tolist()}", "inputs = caption_ids[:, :-1]")
    if not np.array_equal(targets, ids[:, 1:]):
        fail(f"targets are {targets.tolist()}, expected {ids[:, 1:].tolist()}", "targets = caption_ids[:, 1:]")
    passed("the target at every position is the next word of the input")


def _reference_distribution(logits, temperature, top_k):
    from mmgen_lib.generation import next_token_distribution

    return next_token_distribution(logits, temperature, top_k)


def check_distribution(my_distribution) -> None:
    """Exercise 2: softmax(logits / T) restricted to the top k."""
    _callable(my_distribution, "my_distribution")
    logits = np.array([[2.0, 1.0, 0.5, -1.0, 0.0], [0.3, -0.2, 1.7, 1.1, -2.0]])
    cases = ((1.0, None), (0.5, None), (2.0, None), (1.0, 2), (0.7, 3), (3.0, 1))
    for temperature, top_k in cases:
        call = f"my_distribution(logits, temperature={temperature}, top_k={top_k})"
        got = check_shape(my_distribution(logits.copy(), temperature, top_k), logits.shape, call,
                          "return one probability per logit, same shape as `logits`")
        got = got.astype(np.float64)
        expected = _reference_distribution(logits, temperature, top_k)
        if np.allclose(got, expected, atol=1e-5):
            continue
        if not np.allclose(got.sum(axis=-1), 1.0, atol=1e-5):
            fail(f"the rows of {call} sum to {np.round(got.sum(axis=-1), 4).tolist()}, not 1",
                 "normalise after removing the tokens outside the top k")
        if top_k is not None and np.allclose(got, _reference_distribution(logits, temperature, None), atol=1e-5):
            fail(f"{call} still gives probability to tokens outside the top {top_k}",
                 "set the other logits to -inf (or their probabilities to 0) before normalising")
        if temperature != 1.0 and np.allclose(got, _reference_distribution(logits * temperature, 1.0, top_k),
                                              atol=1e-5):
            fail(f"{call} multiplies the logits by the temperature", "divide them: logits / temperature")
        check_close(got, expected, call, atol=1e-5,
                    hint="softmax(logits / temperature), with all but the top_k largest logits set to -inf")
    passed("temperature sharpens or flattens, top-k keeps only the k most likely tokens")


def check_clipped_matches(clipped_matches) -> None:
    """Exercise 3: BLEU's clipped n-gram matches of one hypothesis against one reference."""
    _callable(clipped_matches, "clipped_matches")
    cases = (
        ("the cat is on the mat", "the the the the the the the", 1),
        ("the cat is on the mat", "the cat the cat on the mat", 2),
        ("a big red circle at the top", "a big red circle", 3),
        ("a big red circle", "a big red circle at the top", 4),
        ("big red circle", "red circle", 4),
    )
    for reference, hypothesis, n in cases:
        ref, hyp = reference.split(), hypothesis.split()
        call = f"clipped_matches({reference!r}.split(), {hypothesis!r}.split(), n={n})"
        got = clipped_matches(list(ref), list(hyp), n)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            fail(f"{call} should return a tuple (matches, total), got {got!r}")
        grams = lambda words: Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))  # noqa: E731
        ref_counts, hyp_counts = grams(ref), grams(hyp)
        matches = sum(min(c, ref_counts[g]) for g, c in hyp_counts.items())
        total = sum(hyp_counts.values())
        unclipped = sum(c for g, c in hyp_counts.items() if g in ref_counts)
        got = tuple(int(v) for v in got)
        if got == (matches, total):
            continue
        if got[0] == unclipped != matches:
            fail(f"{call} counts {got[0]} matches: a repeated n-gram is not clipped",
                 "count each n-gram at most as often as it occurs in the reference: min(count, reference count)")
        if got[1] == len(hyp) != total:
            fail(f"{call} gives total={got[1]}, the number of words, not of {n}-grams",
                 f"a text of L words has L - n + 1 n-grams (0 if shorter than n)")
        fail(f"{call} is {got}, expected {(matches, total)}")
    passed("each n-gram counts at most as often as the reference has it")
