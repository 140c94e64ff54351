"""Exercise checks of lesson 06 (cross-modal matching)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import as_array, as_number, call_answer, describe, expect_function, fail, passed, show
from mmgen_lib.i18n import N_

__all__ = ["check_cosine_matrix", "check_info_nce", "check_audio_text_relevance"]


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _log_softmax(x, axis):
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def _call(fn, name, signature, call, *args):
    expect_function(fn, name, signature)
    return call_answer(fn, call, *args)


def check_cosine_matrix(cosine_matrix) -> None:
    """Exercise 1: ``cosine_matrix(queries, gallery)`` -> (n_queries, n_gallery) cosine similarities."""
    rng = np.random.default_rng(6)
    queries, gallery = rng.normal(size=(4, 5)) * 3, rng.normal(size=(7, 5)) * 2
    expected = _unit(queries) @ _unit(gallery).T
    call = "cosine_matrix(queries (4, 5), gallery (7, 5))"
    got = as_array(
        _call(cosine_matrix, "cosine_matrix", "cosine_matrix(queries, gallery)", call, queries.copy(), gallery.copy()),
        call,
        hint="return one (n_queries, n_gallery) array",
    )
    if got.shape == (7, 4):
        fail(
            "the result has shape (7, 4): rows should be queries and columns gallery items",
            "compute `queries @ gallery.T`, not `gallery @ queries.T`",
        )
    got = as_array(got, call, (4, 7), "one row per query, one column per gallery item")
    if np.allclose(got, queries @ gallery.T):
        fail(
            "these are raw dot products: they depend on the vectors' lengths",
            "divide each row of both matrices by its L2 norm (np.linalg.norm(x, axis=1, keepdims=True)) first",
        )
    if np.abs(got).max() > 1 + 1e-6:
        fail(
            "a cosine lies in [-1, 1], but your largest value is {largest}",
            "normalise each vector (each ROW, axis=1) to unit length before the matrix product",
            largest=show(np.abs(got).max(), 3),
        )
    if not np.allclose(got, expected, atol=1e-6):
        fail(
            "the values differ from the cosine similarities by up to {diff}",
            "normalise each row (axis=1, not axis=0), then take `queries @ gallery.T`",
            diff=show(np.abs(got - expected).max(), 3),
        )
    passed("cosine similarity matrix is right for a (4, 5) x (7, 5) example")


def _reference_info_nce(a, b, temperature):
    logits = _unit(a) @ _unit(b).T / temperature
    rows = -np.diag(_log_softmax(logits, axis=1)).mean()
    cols = -np.diag(_log_softmax(logits, axis=0)).mean()
    return (rows + cols) / 2, rows, cols, logits


def _info_nce_variants(a, b, temperature):
    """The reference and the values of the common mistakes, with their messages."""
    expected, rows, cols, _ = _reference_info_nce(a, b, temperature)
    raw = a @ b.T / temperature
    raw_value = (-np.diag(_log_softmax(raw, 1)).mean() - np.diag(_log_softmax(raw, 0)).mean()) / 2
    return expected, (
        (
            rows,
            N_("you computed only one direction (a->b)"),
            N_("average the cross-entropy of the rows AND of the columns of the logits matrix"),
        ),
        (
            cols,
            N_("you computed only one direction (b->a)"),
            N_("average the cross-entropy of the rows AND of the columns of the logits matrix"),
        ),
        (
            _reference_info_nce(a, b, 1.0)[0],
            N_("the temperature is missing"),
            N_("divide the cosine similarities by `temperature` before the softmax"),
        ),
        (
            _reference_info_nce(a, b, 1 / temperature)[0],
            N_("the logits are multiplied by the temperature"),
            N_("divide the cosine similarities by `temperature`"),
        ),
        (rows + cols, N_("you added the two directions instead of averaging them"), N_("divide the sum by 2")),
        (
            raw_value,
            N_("the embeddings were not normalised"),
            N_("divide each row of z_a and z_b by its L2 norm first"),
        ),
    )


def check_info_nce(info_nce) -> None:
    """Exercise 2: ``info_nce(z_a, z_b, temperature)`` -> the symmetric InfoNCE loss (a float).

    Three batches of different sizes and temperatures, so that no typed-in number passes.
    """
    rng = np.random.default_rng(7)
    seen = []
    for n, dim, temperature in ((6, 4, 0.2), (9, 5, 0.07), (4, 3, 1.5)):
        a, b = rng.normal(size=(n, dim)), rng.normal(size=(n, dim))
        b[: n // 2] += 2 * a[: n // 2]  # some positives are close, so the loss is not at its chance level
        expected, mistakes = _info_nce_variants(a, b, temperature)
        call = f"info_nce(z_a {a.shape}, z_b {b.shape}, temperature={temperature})"
        got = as_number(
            _call(info_nce, "info_nce", "info_nce(z_a, z_b, temperature)", call, a.copy(), b.copy(), temperature),
            call,
            "return one number, the mean loss: average the per-example losses with .mean()",
        )
        seen.append(got)
        if np.isclose(got, expected, rtol=1e-5):
            continue
        if len(seen) > 1 and np.isclose(got, seen[0], rtol=1e-5):
            fail(
                "{call} returned {got}, the same as for the first batch",
                "compute the loss from z_a, z_b and temperature; a number typed in cannot fit every batch",
                call=call,
                got=show(got),
            )
        for value, message, hint in mistakes:
            if np.isclose(got, value, rtol=1e-5):
                fail(message, hint)
        fail(
            "{call} is {got}, expected {expected}",
            "the positives are on the diagonal: loss = mean of -log_softmax(logits)[i, i] over rows and over columns",
            call=call,
            got=show(got, 6),
            expected=show(expected, 6),
        )
    passed("symmetric InfoNCE matches on 3 batches, e.g. {value} for 6 pairs at temperature 0.2", value=show(seen[0]))


def check_audio_text_relevance(relevance, chance_r1, labels) -> None:
    """Exercise 3: audio->text attribute-match relevance (same size AND material) and its chance Recall@1."""
    from mmgen_lib.data import ATTRIBUTE_NAMES

    labels = np.asarray(labels)
    n = len(labels)
    relevance = as_array(relevance, "relevance", (n, n), "one row per audio query, one column per caption")
    if relevance.dtype != bool and not np.isin(relevance, (0, 1)).all():
        fail(
            "`relevance` should be boolean (True = relevant), but it holds other values such as {values}",
            "compare labels: the result of == is boolean",
            values=show(np.unique(relevance)[:4]),
        )
    relevance = relevance.astype(bool)

    def match(names):
        cols = [ATTRIBUTE_NAMES.index(a) for a in names]
        return np.all(labels[:, None, cols] == labels[None, :, cols], axis=-1)

    expected = match(("size", "material"))
    if np.array_equal(relevance, match(ATTRIBUTE_NAMES)):
        fail(
            "you required all five attributes to match, but a sound carries only size and material",
            "compare only the attributes both modalities carry: retrieval.shared_attributes('audio', 'text')",
        )
    if np.array_equal(relevance, match(("material",))) or np.array_equal(relevance, match(("size",))):
        fail(
            "you compared only one attribute; the sound carries two (size and material)",
            "relevant = same size AND same material",
        )
    if not np.array_equal(relevance, expected):
        fail(
            "{wrong} entries of `relevance` are wrong",
            "relevant = same size AND same material as the query",
            wrong=int((relevance != expected).sum()),
        )
    per_query = expected.mean(axis=1)
    chance = float(np.mean(per_query))
    if chance_r1 is not None and np.shape(chance_r1) == (n,):
        fail(
            "`chance_r1` should be one number, but it is {got}",
            "that is the chance level of each query: average it over the queries",
            got=describe(np.asarray(chance_r1)),
        )
    value = as_number(chance_r1, "chance_r1", "the chance level is one number: the mean over the queries of R/N")
    if np.isclose(value, 1 / n, rtol=1e-3):
        fail(
            "`chance_r1` is 1/N = {got}: that is the chance of hitting ONE particular caption",
            "several captions are relevant to each query: a random first guess is relevant with probability R/N",
            got=show(value),
        )
    if not np.isclose(value, chance, rtol=1e-6):
        fail(
            "`chance_r1` is {got}, but the chance level of this relevance matrix differs from it by {diff}",
            "compute it from `relevance` (a typed-in, rounded number is not exact): the mean over the queries "
            "of R/N, or retrieval.chance_recall_at_k(relevance, 1)",
            got=show(value, 6),
            diff=show(abs(value - chance), 2),
        )
    passed(
        "audio->text relevance is right; chance Recall@1 = {chance} (about 1/6: 2 sizes x 3 materials)",
        chance=show(chance, 3),
    )
