"""Exercise checks of lesson 08 (the joint decoder → text)."""

from __future__ import annotations

from collections import Counter

import numpy as np

from mmgen_lib.checks import as_array, as_int, as_pair, call_answer, check_close, expect_function, fail, passed, show

__all__ = ["check_teacher_forcing_pair", "check_distribution", "check_clipped_matches"]


def check_teacher_forcing_pair(teacher_forcing_pair) -> None:
    """Exercise 1: decoder inputs = captions without the last token, targets = without the first."""
    expect_function(teacher_forcing_pair, "teacher_forcing_pair", "teacher_forcing_pair(caption_ids)")
    for ids in (
        np.array([[1, 5, 6, 7, 2, 0], [1, 8, 9, 2, 0, 0]], np.int32),  # <start> ... <end> <pad>
        np.array([[1, 4, 2], [1, 9, 2], [1, 3, 2]], np.int32),
    ):
        call = f"teacher_forcing_pair(caption_ids of shape {ids.shape})"
        inputs, targets = as_pair(
            call_answer(teacher_forcing_pair, call, ids.copy()),
            "teacher_forcing_pair",
            "(decoder_inputs, targets)",
            "end with `return inputs, targets`",
        )
        inputs = as_array(inputs, "decoder_inputs", hint="the first thing returned: caption_ids[:, :-1]")
        targets = as_array(targets, "targets", hint="the second thing returned: caption_ids[:, 1:]")
        n, length = ids.shape
        if inputs.shape == targets.shape == ids.shape:
            fail(
                "the inputs and targets are as long as the captions: nothing was shifted",
                "the decoder reads token t-1 and predicts token t: drop the last token from the inputs, "
                "the first from the targets",
            )
        as_array(inputs, "decoder_inputs", (n, length - 1), "one token shorter than the captions: caption_ids[:, :-1]")
        as_array(targets, "targets", (n, length - 1), "one token shorter than the captions: caption_ids[:, 1:]")
        if np.array_equal(inputs, ids[:, 1:]) and np.array_equal(targets, ids[:, :-1]):
            fail("inputs and targets are swapped", "the inputs start with <start> (id 1); the targets end with <end>")
        if not (inputs[:, 0] == 1).all():
            fail("the decoder inputs should start with <start> (id 1)", "inputs = caption_ids[:, :-1]")
        if not np.array_equal(inputs, ids[:, :-1]):
            fail(
                "decoder_inputs are {got}, expected {expected}",
                "inputs = caption_ids[:, :-1]",
                got=inputs.tolist(),
                expected=ids[:, :-1].tolist(),
            )
        if not np.array_equal(targets, ids[:, 1:]):
            fail(
                "targets are {got}, expected {expected}",
                "targets = caption_ids[:, 1:]",
                got=targets.tolist(),
                expected=ids[:, 1:].tolist(),
            )
    passed("the target at every position is the next word of the input")


def _reference_distribution(logits, temperature, top_k):
    from mmgen_lib.generation import next_token_distribution

    return next_token_distribution(logits, temperature, top_k)


def check_distribution(my_distribution) -> None:
    """Exercise 2: softmax(logits / T) restricted to the top k."""
    expect_function(my_distribution, "my_distribution", "my_distribution(logits, temperature, top_k)")
    logits = np.array([[2.0, 1.0, 0.5, -1.0, 0.0], [0.3, -0.2, 1.7, 1.1, -2.0]])
    cases = ((1.0, None), (0.5, None), (2.0, None), (1.0, 2), (0.7, 3), (3.0, 1))
    for temperature, top_k in cases:
        call = f"my_distribution(logits, temperature={temperature}, top_k={top_k})"
        got = as_array(
            call_answer(my_distribution, call, logits.copy(), temperature, top_k),
            call,
            logits.shape,
            "return one probability per logit, same shape as `logits`",
        ).astype(np.float64)
        expected = _reference_distribution(logits, temperature, top_k)
        if np.allclose(got, expected, atol=1e-5):
            continue
        if top_k is not None and np.allclose(got, _reference_distribution(logits, temperature, None), atol=1e-5):
            fail(
                "{call} still gives probability to tokens outside the top {k}",
                "set the other logits to -inf (or their probabilities to 0) before normalising",
                call=call,
                k=top_k,
            )
        if temperature != 1.0 and np.allclose(
            got, _reference_distribution(logits * temperature, 1.0, top_k), atol=1e-5
        ):
            fail("{call} multiplies the logits by the temperature", "divide them: logits / temperature", call=call)
        if np.allclose(got, logits / temperature, atol=1e-5):
            fail(
                "{call} returned the scaled logits, not probabilities",
                "apply a softmax along the last axis: exp(x - max) / sum(exp(x - max))",
                call=call,
            )
        if not np.allclose(got.sum(axis=-1), 1.0, atol=1e-5):
            full = _reference_distribution(logits, temperature, None)
            if top_k is not None and np.allclose(got, np.where(expected > 0, full, 0.0), atol=1e-5):
                fail(
                    "the rows of {call} sum to {sums}, not 1: the probabilities outside the top {k} were zeroed "
                    "but the rest was not renormalised",
                    "normalise after removing the tokens outside the top k",
                    call=call,
                    sums=show(got.sum(axis=-1), 4),
                    k=top_k,
                )
            fail(
                "the rows of {call} sum to {sums}, not 1",
                "probabilities come from a softmax over the last axis (axis=-1): divide by the row sums",
                call=call,
                sums=show(got.sum(axis=-1), 4),
            )
        check_close(
            got,
            expected,
            call,
            atol=1e-5,
            hint="softmax(logits / temperature), with all but the top_k largest logits set to -inf",
        )
    passed("temperature sharpens or flattens, top-k keeps only the k most likely tokens")


def check_clipped_matches(clipped_matches) -> None:
    """Exercise 3: BLEU's clipped n-gram matches of one hypothesis against one reference."""
    expect_function(clipped_matches, "clipped_matches", "clipped_matches(reference, hypothesis, n)")
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
        pair = as_pair(
            call_answer(clipped_matches, call, list(ref), list(hyp), n),
            "clipped_matches",
            "(matches, total)",
            "end with `return matches, total`",
        )
        got = (as_int(pair[0], f"{call}[0] (matches)"), as_int(pair[1], f"{call}[1] (total)"))
        grams = lambda words, n=n: Counter(tuple(words[i : i + n]) for i in range(len(words) - n + 1))  # noqa: E731
        ref_counts, hyp_counts = grams(ref), grams(hyp)
        matches = sum(min(c, ref_counts[g]) for g, c in hyp_counts.items())
        total = sum(hyp_counts.values())
        unclipped = sum(c for g, c in hyp_counts.items() if g in ref_counts)
        if got == (matches, total):
            continue
        if got == (total, matches):
            fail("{call} is {got}: matches and total are swapped", "return (matches, total)", call=call, got=got)
        if got[0] == unclipped != matches:
            fail(
                "{call} counts {got} matches: a repeated n-gram is not clipped",
                "count each n-gram at most as often as it occurs in the reference: min(count, reference count)",
                call=call,
                got=got[0],
            )
        if got[1] == len(hyp) != total:
            fail(
                "{call} gives total={got}, the number of words, not of {n}-grams",
                "a text of L words has L - n + 1 n-grams (0 if shorter than n)",
                call=call,
                got=got[1],
                n=n,
            )
        fail(
            "{call} is {got}, expected {expected}",
            "matches = sum over the hypothesis n-grams of "
            "min(count, reference count); total = number of hypothesis n-grams",
            call=call,
            got=got,
            expected=(matches, total),
        )
    passed("each n-gram counts at most as often as the reference has it")
