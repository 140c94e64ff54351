"""Cross-modal retrieval metrics: Recall@k, median rank, and what chance would score (lesson 06).

A retrieval run is described by two (n_queries, n_gallery) matrices:

- ``similarity[i, j]``: how well gallery item ``j`` matches query ``i`` (higher is better),
  e.g. cosine similarities of a dual encoder's embeddings;
- ``relevance[i, j]``: True when ``j`` is a right answer for ``i``.

In ShapesWorld many examples share all their attributes, so the one paired image is not
the only right answer: we use **attribute-match relevance** — a gallery item is relevant
when it has the same values as the query on the attributes *both modalities carry*
(:func:`shared_attributes`). Text names all five attributes but an image shows only shape,
color, size and position, so text->image relevance is "same shape, color, size and
position"; audio carries size and material, so audio->image relevance is "same size".

Chance levels (:func:`chance_recall_at_k`, :func:`chance_median_rank`) are the exact
expectations for a uniformly random ranking of the same gallery, so every score can be
read next to what guessing would get.
"""

from __future__ import annotations

import numpy as np

from mmgen_lib import validation
from mmgen_lib.data import ATTRIBUTE_NAMES

__all__ = [
    "MODALITY_ATTRIBUTES",
    "shared_attributes",
    "attribute_relevance",
    "cosine_similarity_matrix",
    "first_relevant_rank",
    "recall_at_k",
    "median_rank",
    "chance_recall_at_k",
    "chance_median_rank",
    "retrieval_report",
]

MODALITY_ATTRIBUTES = {
    "text": ("shape", "color", "size", "position", "material"),
    "image": ("shape", "color", "size", "position"),
    "audio": ("size", "material"),
}


def shared_attributes(query_modality: str, gallery_modality: str) -> tuple:
    """The attributes both modalities carry, in ``ATTRIBUTE_NAMES`` order, e.g. text & image -> 4 visible ones."""
    for name in (query_modality, gallery_modality):
        if name not in MODALITY_ATTRIBUTES:
            raise ValueError(f"modality must be one of {tuple(MODALITY_ATTRIBUTES)}. Received: {name!r}")
    shared = set(MODALITY_ATTRIBUTES[query_modality]) & set(MODALITY_ATTRIBUTES[gallery_modality])
    return tuple(name for name in ATTRIBUTE_NAMES if name in shared)


def attribute_relevance(query_labels, gallery_labels, attributes) -> np.ndarray:
    """Boolean (n_queries, n_gallery): same value on every attribute in ``attributes``.

    Args:
        query_labels, gallery_labels: (n, 5) int label arrays in ``ATTRIBUTE_NAMES`` order
            (``ShapesWorldSplit.labels``).
        attributes: attribute names to compare, e.g. ``shared_attributes("text", "image")``.
    """
    query_labels, gallery_labels = np.asarray(query_labels), np.asarray(gallery_labels)
    for name, labels in (("query_labels", query_labels), ("gallery_labels", gallery_labels)):
        if labels.ndim != 2 or labels.shape[1] != len(ATTRIBUTE_NAMES):
            raise ValueError(f"{name} must be (n, {len(ATTRIBUTE_NAMES)}). Received shape {labels.shape}")
    attributes = (attributes,) if isinstance(attributes, str) else tuple(attributes)
    unknown = [a for a in attributes if a not in ATTRIBUTE_NAMES]
    if not attributes or unknown:
        raise ValueError(f"attributes must be a non-empty subset of {ATTRIBUTE_NAMES}. Received: {attributes!r}")
    columns = [ATTRIBUTE_NAMES.index(a) for a in attributes]
    return np.all(query_labels[:, None, columns] == gallery_labels[None, :, columns], axis=-1)


def cosine_similarity_matrix(queries, gallery) -> np.ndarray:
    """(n_q, d), (n_g, d) -> (n_q, n_g) cosine similarities (NumPy)."""
    queries, gallery = np.asarray(queries, np.float64), np.asarray(gallery, np.float64)
    if queries.ndim != 2 or gallery.ndim != 2 or queries.shape[1] != gallery.shape[1]:
        raise ValueError(
            f"queries and gallery must be (n, d) with the same d. Received shapes {queries.shape} and {gallery.shape}"
        )
    q = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    g = gallery / np.maximum(np.linalg.norm(gallery, axis=1, keepdims=True), 1e-12)
    return q @ g.T


def _check_pair(similarity, relevance):
    similarity, relevance = np.asarray(similarity, np.float64), np.asarray(relevance)
    if similarity.ndim != 2 or similarity.shape != relevance.shape:
        raise ValueError(
            f"similarity and relevance must be (n_queries, n_gallery) of the same shape. "
            f"Received shapes {similarity.shape} and {relevance.shape}"
        )
    if relevance.dtype != bool:
        if not np.isin(relevance, (0, 1)).all():
            raise ValueError("relevance must be boolean (or 0/1)")
        relevance = relevance.astype(bool)
    if not relevance.any(axis=1).all():
        raise ValueError(
            f"every query needs at least one relevant gallery item; "
            f"{int((~relevance.any(axis=1)).sum())} queries have none"
        )
    return similarity, relevance


def _check_k(k, n_gallery):
    if not validation.integer(k, "k", minimum=1) <= n_gallery:
        raise ValueError(f"k must be an int in [1, n_gallery={n_gallery}]. Received: k={k!r}")
    return int(k)


def first_relevant_rank(similarity, relevance) -> np.ndarray:
    """1-based rank of the best-ranked relevant item for each query: (n_queries,) ints.

    Ties are broken pessimistically (a relevant item tied with an irrelevant one ranks
    after it), so a constant similarity cannot look better than chance.
    """
    similarity, relevance = _check_pair(similarity, relevance)
    best_relevant = np.where(relevance, similarity, -np.inf).max(axis=1, keepdims=True)  # (n_q, 1)
    # every irrelevant item scoring >= the best relevant one ranks ahead of it
    return 1 + np.sum(~relevance & (similarity >= best_relevant), axis=1)


def recall_at_k(similarity, relevance, k: int = 1) -> float:
    """Fraction of queries with at least one relevant item among their top ``k``."""
    k = _check_k(k, np.shape(similarity)[-1])
    return float(np.mean(first_relevant_rank(similarity, relevance) <= k))


def median_rank(similarity, relevance) -> float:
    """Median over queries of :func:`first_relevant_rank` (1 is perfect)."""
    return float(np.median(first_relevant_rank(similarity, relevance)))


def _chance_miss_probability(n_gallery: int, n_relevant: np.ndarray, k: int) -> np.ndarray:
    """P(no relevant item in a random top k) = C(N - R, k) / C(N, k) = prod_{i<k} (N - R - i) / (N - i)."""
    i = np.arange(k)[None, :]
    factors = (n_gallery - n_relevant[:, None] - i) / (n_gallery - i)
    return np.prod(np.clip(factors, 0.0, None), axis=1)


def chance_recall_at_k(relevance, k: int = 1) -> float:
    """Expected Recall@k of a uniformly random ranking: mean of ``1 - C(N-R, k) / C(N, k)``.

    For k = 1 this is the mean fraction of relevant items, ``mean(R_i / N)``.
    """
    relevance = np.asarray(relevance).astype(bool)
    _check_pair(np.zeros(relevance.shape), relevance)
    n_gallery = relevance.shape[1]
    k = _check_k(k, n_gallery)
    return float(np.mean(1.0 - _chance_miss_probability(n_gallery, relevance.sum(axis=1), k)))


def chance_median_rank(relevance) -> float:
    """Median over queries of the expected first-relevant rank of a random ranking, ``(N + 1) / (R + 1)``."""
    relevance = np.asarray(relevance).astype(bool)
    _check_pair(np.zeros(relevance.shape), relevance)
    return float(np.median((relevance.shape[1] + 1) / (relevance.sum(axis=1) + 1)))


def retrieval_report(similarity, relevance, ks=(1, 5, 10)) -> dict:
    """Recall@k for each k, median rank, and their chance levels, as one flat dict of floats."""
    result = {}
    for k in ks:
        result[f"recall_at_{k}"] = recall_at_k(similarity, relevance, k)
        result[f"chance_recall_at_{k}"] = chance_recall_at_k(relevance, k)
    result["median_rank"] = median_rank(similarity, relevance)
    result["chance_median_rank"] = chance_median_rank(relevance)
    return result
