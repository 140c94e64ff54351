"""Tests of mmgen_lib.retrieval: ranks, Recall@k, median rank, chance levels, attribute relevance."""

import itertools

import numpy as np
import pytest

from mmgen_lib import retrieval
from mmgen_lib.data import ATTRIBUTE_NAMES


def reference_first_rank(similarity, relevance):
    """Sort each row (stable, irrelevant first among ties) and find the first relevant position."""
    ranks = []
    for sim, rel in zip(similarity, relevance):
        order = np.lexsort((rel, -sim))  # by descending similarity, then irrelevant (False) before relevant
        ranks.append(1 + int(np.argmax(rel[order])))
    return np.array(ranks)


def test_first_relevant_rank_matches_sorting_reference():
    rng = np.random.default_rng(0)
    similarity = rng.normal(size=(20, 15))
    relevance = rng.uniform(size=(20, 15)) < 0.2
    relevance[np.arange(20), rng.integers(0, 15, 20)] = True
    np.testing.assert_array_equal(
        retrieval.first_relevant_rank(similarity, relevance), reference_first_rank(similarity, relevance)
    )


def test_hand_worked_example():
    similarity = np.array([[0.9, 0.1, 0.5], [0.2, 0.8, 0.3], [0.7, 0.6, 0.1]])
    relevance = np.array([[True, False, False], [False, False, True], [False, False, True]])
    np.testing.assert_array_equal(retrieval.first_relevant_rank(similarity, relevance), [1, 2, 3])
    assert retrieval.recall_at_k(similarity, relevance, 1) == pytest.approx(1 / 3)
    assert retrieval.recall_at_k(similarity, relevance, 2) == pytest.approx(2 / 3)
    assert retrieval.recall_at_k(similarity, relevance, 3) == 1.0
    assert retrieval.median_rank(similarity, relevance) == 2.0


def test_ties_are_broken_pessimistically():
    relevance = np.array([[False, True, False, False]])
    assert retrieval.first_relevant_rank(np.zeros((1, 4)), relevance)[0] == 4
    assert retrieval.recall_at_k(np.zeros((1, 4)), relevance, 1) == 0.0


def exact_chance(relevance, k):
    """Average over every ordering of a tiny gallery."""
    n = relevance.shape[1]
    hits_recall, ranks = [], []
    for order in itertools.permutations(range(n)):
        rel = relevance[:, order]
        first = 1 + np.argmax(rel, axis=1)
        hits_recall.append(first <= k)
        ranks.append(first)
    return np.mean(hits_recall), np.mean(ranks, axis=0)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_chance_recall_is_exact_expectation_over_all_orderings(k):
    relevance = np.array([[1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 1, 0]], bool)
    expected, _ = exact_chance(relevance, k)
    assert retrieval.chance_recall_at_k(relevance, k) == pytest.approx(expected, rel=1e-12)


def test_chance_recall_at_1_is_mean_relevant_fraction_and_median_rank_formula():
    relevance = np.array([[1, 0, 0, 0, 0, 0], [1, 1, 0, 0, 0, 0], [1, 1, 1, 0, 1, 0]], bool)
    assert retrieval.chance_recall_at_k(relevance, 1) == pytest.approx(np.mean([1 / 6, 2 / 6, 4 / 6]))
    _, expected_ranks = exact_chance(relevance, 1)
    np.testing.assert_allclose(expected_ranks, 7 / (relevance.sum(1) + 1))
    assert retrieval.chance_median_rank(relevance) == pytest.approx(np.median(7 / (relevance.sum(1) + 1)))


def test_random_scores_land_near_chance_and_perfect_scores_at_one():
    rng = np.random.default_rng(1)
    labels = rng.integers(0, 3, size=(400, 5))
    relevance = retrieval.attribute_relevance(labels, labels, ("shape", "color"))
    chance = retrieval.chance_recall_at_k(relevance, 1)
    assert chance == pytest.approx(np.mean(relevance), rel=1e-9)
    assert abs(retrieval.recall_at_k(rng.normal(size=relevance.shape), relevance, 1) - chance) < 0.05
    report = retrieval.retrieval_report(relevance.astype(float), relevance, ks=(1, 5))
    assert report["recall_at_1"] == 1.0 and report["median_rank"] == 1.0
    assert set(report) == {
        "recall_at_1",
        "chance_recall_at_1",
        "recall_at_5",
        "chance_recall_at_5",
        "median_rank",
        "chance_median_rank",
    }


def test_shared_attributes_and_relevance():
    assert retrieval.shared_attributes("text", "image") == ("shape", "color", "size", "position")
    assert retrieval.shared_attributes("audio", "image") == ("size",)
    assert retrieval.shared_attributes("text", "audio") == ("size", "material")
    query = np.array([[0, 1, 0, 2, 0], [1, 1, 1, 1, 1]])
    gallery = np.array([[0, 1, 0, 2, 2], [0, 1, 1, 2, 0], [1, 1, 1, 1, 0]])
    relevance = retrieval.attribute_relevance(query, gallery, retrieval.shared_attributes("text", "image"))
    np.testing.assert_array_equal(relevance, [[True, False, False], [False, False, True]])
    np.testing.assert_array_equal(
        retrieval.attribute_relevance(query, gallery, ATTRIBUTE_NAMES), [[False, False, False], [False, False, False]]
    )
    np.testing.assert_array_equal(
        retrieval.attribute_relevance(query, gallery, "size"), [[True, False, False], [False, True, True]]
    )


def test_cosine_similarity_matrix_matches_definition():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(5, 4))
    expected = [[x @ y / np.linalg.norm(x) / np.linalg.norm(y) for y in b] for x in a]
    np.testing.assert_allclose(retrieval.cosine_similarity_matrix(a, b), expected, rtol=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: retrieval.recall_at_k(np.zeros((2, 3)), np.ones((2, 4), bool)), "same shape"),
        (lambda: retrieval.recall_at_k(np.zeros((2, 3)), np.ones((2, 3), bool), k=0), "k must be"),
        (lambda: retrieval.recall_at_k(np.zeros((2, 3)), np.ones((2, 3), bool), k=4), "k must be"),
        (
            lambda: retrieval.recall_at_k(np.zeros((2, 3)), np.array([[1, 0, 0], [0, 0, 0]], bool)),
            "at least one relevant",
        ),
        (lambda: retrieval.median_rank(np.zeros((1, 2)), np.array([[2, 0]])), "boolean"),
        (lambda: retrieval.shared_attributes("text", "video"), "modality"),
        (lambda: retrieval.attribute_relevance(np.zeros((2, 4)), np.zeros((2, 5)), ("shape",)), "query_labels"),
        (lambda: retrieval.attribute_relevance(np.zeros((2, 5)), np.zeros((2, 5)), ("smell",)), "attributes"),
        (lambda: retrieval.attribute_relevance(np.zeros((2, 5)), np.zeros((2, 5)), ()), "attributes"),
        (lambda: retrieval.cosine_similarity_matrix(np.zeros((2, 3)), np.zeros((2, 4))), "same d"),
    ],
)
def test_bad_inputs_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()
