"""Exercise checks of lesson 16 (one transformer, any modality to any modality)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import as_array, call_answer, expect_function, fail, passed, show

__all__ = ["check_causal_mask", "check_build_sequence", "check_mask_logits"]


# ----------------------------------------------------------------------------- exercise 1
def check_causal_mask(causal_mask) -> None:
    """Exercise 1: ``causal_mask(n)`` -> (n, n), True where query i may attend to key j (j <= i)."""
    expect_function(causal_mask, "causal_mask", "causal_mask(n)")
    for n in (1, 4, 7):
        call = f"causal_mask({n})"
        mask = as_array(call_answer(causal_mask, call, n), call, (n, n))
        if not np.isin(mask, (0, 1)).all():
            fail(
                "{call} should hold only True/False (or 1/0); it holds {values}",
                call=call,
                values=show(sorted(set(mask.ravel().tolist()))[:4]),
            )
        mask = mask.astype(bool)
        expected = np.tril(np.ones((n, n), bool))
        if np.array_equal(mask, expected):
            continue
        if np.array_equal(mask, expected.T):
            fail(
                "{call} lets each token see the *future*: it is the transpose of the causal mask",
                "row i is the query, column j the key: allowed where j <= i (lower triangle)",
                call=call,
            )
        if np.array_equal(mask, np.tril(np.ones((n, n), bool), -1)):
            fail(
                "{call} hides each token from itself (the diagonal is False)",
                "a token may attend to itself and to the past: j <= i, not j < i",
                call=call,
            )
        if mask.all():
            fail(
                "{call} is all True: nothing is hidden, so training could read the answer",
                "hide the future: only j <= i",
                call=call,
            )
        fail(
            "{call} is not the causal pattern; expected True exactly where column <= row, e.g. for n = 3\n{example}",
            "np.tril(np.ones((n, n), bool))",
            call=call,
            example=np.tril(np.ones((3, 3), int)),
        )
    passed("the causal mask: each token sees itself and the past, never the future")


# ----------------------------------------------------------------------------- exercise 2
CASES = (  # (tag, segments, is_target)
    (20, [[1, 5, 6, 2], [30, 40, 41]], [False, True]),  # text -> image
    (21, [[30, 42, 43], [31, 50], [1, 7, 2]], [False, True, True]),  # image -> audio, text
    (22, [[30, 44], [31, 51, 52], [1, 8, 9, 2]], [False, False, True]),  # image + audio -> text
)


def _reference(tag, segments, is_target):
    tokens = np.concatenate([[tag], *segments])
    masks = [np.zeros(1)] + [np.r_[0.0, np.full(len(s) - 1, float(t))] for s, t in zip(segments, is_target)]
    return tokens, np.concatenate(masks)


def check_build_sequence(build_sequence) -> None:
    """Exercise 2: ``build_sequence(tag, segments, is_target)`` -> (tokens, loss_mask) of one example."""
    expect_function(build_sequence, "build_sequence", "build_sequence(tag, segments, is_target)")
    for tag, segments, is_target in CASES:
        call = f"build_sequence({tag}, {segments}, {is_target})"
        result = call_answer(build_sequence, call, tag, [np.array(s) for s in segments], list(is_target))
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            fail(
                "{call} should return two arrays, (tokens, loss_mask); it returned a {type}",
                "end with `return tokens, loss_mask`",
                call=call,
                type=type(result).__name__,
            )
        expected_tokens, expected_mask = _reference(tag, segments, is_target)
        n = len(expected_tokens)
        tokens = as_array(result[0], "tokens", numeric=False)
        if tokens.shape == (n - 1,) and np.array_equal(tokens, expected_tokens[1:]):
            fail(
                "{call}: the task tag is missing",
                "the sequence starts with the tag, then the segments in order",
                call=call,
            )
        tokens = as_array(tokens, "tokens", (n,))
        if not np.array_equal(tokens, expected_tokens):
            fail(
                "{call}: tokens are {tokens}, expected {expected}",
                "the tag, then every segment (marker included) in the given order",
                call=call,
                tokens=show(tokens),
                expected=show(expected_tokens),
            )
        mask = as_array(result[1], "loss_mask", (n,)).astype(float)
        if np.array_equal(mask, 1.0 - expected_mask):
            fail("{call}: the loss mask is inverted", "1 on the target tokens, 0 on everything given", call=call)
        with_markers = np.concatenate([[0.0]] + [np.full(len(s), float(t)) for s, t in zip(segments, is_target)])
        if np.array_equal(mask, with_markers):
            fail(
                "{call}: the loss mask covers the markers of the target segments",
                "a segment's marker is given (the task fixes the order): mask only the tokens after it",
                call=call,
            )
        if not np.array_equal(mask, expected_mask):
            fail(
                "{call}: loss_mask is {mask}, expected {expected}",
                "0 on the tag, on source segments and on markers; 1 on the tokens of target segments",
                call=call,
                mask=show(mask.astype(int)),
                expected=show(expected_mask.astype(int)),
            )
    passed("tokens in the task's order, loss only on the target tokens")


# ----------------------------------------------------------------------------- exercise 3
def check_mask_logits(mask_logits) -> None:
    """Exercise 3: ``mask_logits(logits, allowed)`` -> logits with -inf wherever ``allowed`` is False."""
    expect_function(mask_logits, "mask_logits", "mask_logits(logits, allowed)")
    rng = np.random.default_rng(16)
    for allowed in (np.array([0, 0, 1, 1, 1, 0, 0, 0], bool), np.array([1, 0, 0, 0, 0, 0, 1, 1], bool)):
        logits = rng.normal(size=(3, 8))
        call = f"mask_logits(logits, allowed={allowed.astype(int).tolist()})"
        got = as_array(call_answer(mask_logits, call, logits.copy(), allowed.copy()), call, (3, 8)).astype(float)
        expected = np.where(allowed, logits, -np.inf)
        if np.allclose(got, np.where(allowed, -np.inf, logits)):
            fail(
                "{call} blocks the allowed tokens and keeps the others", "keep logits where allowed is True", call=call
            )
        if np.allclose(got[:, ~allowed], 0.0):
            fail(
                "{call} sets blocked logits to 0: softmax still gives them weight e^0 = 1",
                "use -np.inf (probability exactly 0)",
                call=call,
            )
        if np.isfinite(got[:, ~allowed]).any():
            fail(
                "{call}: blocked tokens should get -inf, got {values}",
                "np.where(allowed, logits, -np.inf)",
                call=call,
                values=show(got[:, ~allowed][0, :3]),
            )
        if np.isclose(got[:, allowed].sum(axis=-1), 1.0).all() and not np.allclose(got[:, allowed], logits[:, allowed]):
            fail("{call} returns probabilities; expected logits", "do not apply softmax: sampling does it", call=call)
        if not np.allclose(got[:, allowed], expected[:, allowed]):
            fail("{call} changes the allowed logits; they should stay as they were", call=call)
    passed("logits outside the target modality are -inf, the others unchanged")
