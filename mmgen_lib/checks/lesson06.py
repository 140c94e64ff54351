"""Exercise checks of lesson 06 (cross-modal matching)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import check_shape, fail, passed

__all__ = ["check_cosine_matrix", "check_info_nce", "check_audio_text_relevance"]


def _unit(x):
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def _log_softmax(x, axis):
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def _call(fn, name, *args):
    if not callable(fn):
        fail(f"`{name}` should be a function", f"define it with `def {name}(...):`")
    result = fn(*args)
    if result is None:
        fail(f"`{name}` returned None", "did you forget to `return` the result?")
    return np.asarray(result, dtype=np.float64)


def check_cosine_matrix(cosine_matrix) -> None:
    """Exercise 1: ``cosine_matrix(queries, gallery)`` -> (n_queries, n_gallery) cosine similarities."""
    rng = np.random.default_rng(6)
    queries, gallery = rng.normal(size=(4, 5)) * 3, rng.normal(size=(7, 5)) * 2
    expected = _unit(queries) @ _unit(gallery).T
    got = _call(cosine_matrix, "cosine_matrix", queries, gallery)
    if got.shape == (7, 4):
        fail("the result has shape (7, 4): rows should be queries and columns gallery items",
             "compute `queries @ gallery.T`, not `gallery @ queries.T`")
    check_shape(got, (4, 7), "cosine_matrix(queries, gallery)", "one row per query, one column per gallery item")
    if np.allclose(got, queries @ gallery.T):
        fail("these are raw dot products: they depend on the vectors' lengths",
             "divide each row of both matrices by its L2 norm (np.linalg.norm(x, axis=1, keepdims=True)) first")
    if np.abs(got).max() > 1 + 1e-6:
        fail(f"a cosine lies in [-1, 1], but your largest value is {np.abs(got).max():.3g}",
             "normalise each vector (each ROW, axis=1) to unit length before the matrix product")
    if not np.allclose(got, expected, atol=1e-6):
        fail("the values differ from the cosine similarities",
             "normalise each row (axis=1, not axis=0), then take `queries @ gallery.T`")
    passed("cosine similarity matrix is right for a (4, 5) x (7, 5) example")


def _reference_info_nce(a, b, temperature):
    logits = _unit(a) @ _unit(b).T / temperature
    rows = -np.diag(_log_softmax(logits, axis=1)).mean()
    cols = -np.diag(_log_softmax(logits, axis=0)).mean()
    return (rows + cols) / 2, rows, cols, logits


def check_info_nce(info_nce) -> None:
    """Exercise 2: ``info_nce(z_a, z_b, temperature)`` -> the symmetric InfoNCE loss (a float)."""
    rng = np.random.default_rng(7)
    a, b = rng.normal(size=(6, 4)), rng.normal(size=(6, 4))
    temperature = 0.2
    expected, rows, cols, _ = _reference_info_nce(a, b, temperature)
    got = _call(info_nce, "info_nce", a, b, temperature)
    if got.shape != ():
        fail(f"`info_nce` should return one number (the mean loss), but it returned shape {got.shape}",
             "average the per-example losses with .mean()")
    got = float(got)
    if np.isclose(got, rows) or np.isclose(got, cols):
        fail("you computed only one direction (a->b or b->a)",
             "average the cross-entropy of the rows AND of the columns of the logits matrix")
    if np.isclose(got, _reference_info_nce(a, b, 1.0)[0]):
        fail("the temperature is missing", "divide the cosine similarities by `temperature` before the softmax")
    if np.isclose(got, (rows + cols)):
        fail("you added the two directions instead of averaging them", "divide the sum by 2")
    raw = a @ b.T / temperature
    raw_value = (-np.diag(_log_softmax(raw, 1)).mean() - np.diag(_log_softmax(raw, 0)).mean()) / 2
    if np.isclose(got, raw_value):
        fail("the embeddings were not normalised", "divide each row of z_a and z_b by its L2 norm first")
    if not np.isclose(got, expected, rtol=1e-5):
        fail(f"your loss is {got:.5f}, expected {expected:.5f}",
             "the positives are on the diagonal: loss = mean of -log_softmax(logits)[i, i] over rows and over columns")
    passed(f"symmetric InfoNCE = {expected:.4f} on a batch of 6 pairs")


def check_audio_text_relevance(relevance, chance_r1, labels) -> None:
    """Exercise 3: audio->text attribute-match relevance (same size AND material) and its chance Recall@1."""
    from mmgen_lib.data import ATTRIBUTE_NAMES

    labels = np.asarray(labels)
    n = len(labels)
    relevance = check_shape(relevance, (n, n), "relevance", "one row per audio query, one column per caption")
    if relevance.dtype != bool and not np.isin(relevance, (0, 1)).all():
        fail("`relevance` should be boolean (True = relevant)")
    relevance = relevance.astype(bool)

    def match(names):
        cols = [ATTRIBUTE_NAMES.index(a) for a in names]
        return np.all(labels[:, None, cols] == labels[None, :, cols], axis=-1)

    expected = match(("size", "material"))
    if np.array_equal(relevance, match(ATTRIBUTE_NAMES)):
        fail("you required all five attributes to match, but a sound carries only size and material",
             "compare only the attributes both modalities carry: retrieval.shared_attributes('audio', 'text')")
    if np.array_equal(relevance, match(("material",))) or np.array_equal(relevance, match(("size",))):
        fail("you compared only one attribute; the sound carries two (size and material)")
    if not np.array_equal(relevance, expected):
        fail(f"{int((relevance != expected).sum())} entries of `relevance` are wrong",
             "relevant = same size AND same material as the query")
    chance = float(np.mean(expected.mean(axis=1)))
    if chance_r1 is None:
        fail("`chance_r1` is None", "assign the chance level of Recall@1 to it")
    if not np.isclose(float(chance_r1), chance, rtol=1e-6):
        fail(f"`chance_r1` is {float(chance_r1):.4f}, expected {chance:.4f}",
             "a random first guess is relevant with probability R/N: average it over the queries "
             "(or use retrieval.chance_recall_at_k(relevance, 1))")
    passed(f"audio->text relevance is right; chance Recall@1 = {chance:.3f} (about 1/6: 2 sizes x 3 materials)")
