"""Caption attribute accuracy and BLEU-4, against hand-computed values."""

import math

import numpy as np
import pytest

from mmgen_lib.data import ATTRIBUTE_NAMES, ATTRIBUTES, load_split
from mmgen_lib.metrics import bleu4, caption_attribute_accuracy, caption_attribute_hits, modified_precision, ngrams

TRUTH = [
    {"shape": "circle", "color": "red", "size": "large", "position": "top", "material": "metal"},
    {"shape": "square", "color": "blue", "size": "small", "position": "left", "material": "wood"},
]
LABELS = np.array([[ATTRIBUTES[name].index(row[name]) for name in ATTRIBUTE_NAMES] for row in TRUTH])


# ----------------------------------------------------------------------------- attribute accuracy
def test_the_dataset_captions_score_perfectly():
    test = load_split("test", noise=False)
    scores = caption_attribute_accuracy(test.captions[:200], test.labels[:200])
    assert scores == {**{name: 1.0 for name in ATTRIBUTE_NAMES}, "mean": 1.0}


def test_paraphrases_and_synonyms_count_as_correct():
    captions = ["at the top: a big red circle made of metal", "a tiny blue wooden square on the left"]
    assert caption_attribute_accuracy(captions, TRUTH)["mean"] == 1.0


def test_missing_wrong_and_contradictory_attributes_are_wrong():
    captions = [
        "a big red circle at the top",  # material missing
        "a small green square on the left, made of wood and metal",
    ]  # color wrong, material twice
    hits = caption_attribute_hits(captions, LABELS)
    np.testing.assert_array_equal(hits, [[1, 1, 1, 1, 0], [1, 0, 1, 1, 0]])
    scores = caption_attribute_accuracy(captions, LABELS)
    assert scores["material"] == 0.0 and scores["color"] == 0.5 and scores["shape"] == 1.0
    assert scores["mean"] == pytest.approx(7 / 10)


def test_an_empty_caption_is_wrong_for_every_attribute():
    hits = caption_attribute_hits(["", "   "], TRUTH)
    assert not hits.any()


def test_labels_and_attribute_dicts_give_the_same_scores():
    captions = ["a large red metal circle at the top", "a blue square on the left"]
    assert caption_attribute_accuracy(captions, LABELS) == caption_attribute_accuracy(captions, TRUTH)


@pytest.mark.parametrize(
    "captions, attributes, error, message",
    [
        ("a red circle", LABELS[:1], TypeError, "captions must be a list of strings"),
        ([3, "a red circle"], LABELS, TypeError, r"captions\[0\] must be a str"),
        ([], LABELS[:0], ValueError, "captions is empty"),
        (["a", "b", "c"], LABELS, ValueError, "same length"),
        (["a", "b"], LABELS[:, :3], ValueError, r"int labels of shape \(n, 5\)"),
        (["a", "b"], LABELS + 5, ValueError, "labels outside the attribute ranges"),
        (["a", "b"], [{"shape": "circle"}] * 2, ValueError, "has no"),
    ],
)
def test_bad_inputs_are_rejected(captions, attributes, error, message):
    with pytest.raises(error, match=message):
        caption_attribute_hits(captions, attributes)


# ----------------------------------------------------------------------------- BLEU
def test_ngrams_counts():
    assert ngrams(["a", "b", "a", "b"], 2) == {("a", "b"): 2, ("b", "a"): 1}
    assert ngrams(["a"], 2) == {}


def test_modified_precision_clips_repeated_words():  # the example of Papineni et al. (2002)
    refs = ["the cat is on the mat", "there is a cat on the mat"]
    assert modified_precision(refs, "the the the the the the the", 1) == (2, 7)
    assert modified_precision(refs[0], "the cat the cat on the mat", 2) == (3, 6)


def test_identical_texts_score_one():
    assert bleu4(["a big red circle at the top"], ["a big red circle at the top"]) == 1.0


def test_one_wrong_last_word():
    # 10 words, the last one wrong: p_n = 9/10, 8/9, 7/8, 6/7, whose product is 6/10
    score = bleu4(["a big red circle at the top made of metal"], ["a big red circle at the top made of wood"])
    assert score == pytest.approx(0.6**0.25)


def test_brevity_penalty():
    # every n-gram matches, but 4 words against 7: BP = exp(1 - 7/4)
    assert bleu4(["a big red circle at the top"], ["a big red circle"]) == pytest.approx(math.exp(-0.75))


def test_closest_reference_length_prefers_the_shorter_on_ties():
    # hypothesis of 5 words, references of 4 and 6: r = 4 < c, so no penalty
    assert bleu4([["a b c d", "a b c d e f"]], ["a b c d e"]) == pytest.approx(1.0)


def test_corpus_level_sums_counts_before_dividing():
    score = bleu4(["a b c d", "a b c d e f"], ["a b c d", "a b c d e x"])
    # p_1..p_4 = 9/10, 7/8, 5/6, 3/4 over the corpus (not a mean of sentence scores)
    assert score == pytest.approx((9 / 10 * 7 / 8 * 5 / 6 * 3 / 4) ** 0.25)


def test_no_four_gram_match_gives_zero_unless_smoothed():
    # p_1 = 3/3, p_2 = 1/2, p_3 = 0/1, p_4 = 0/0; add-one smoothing for n >= 2: 2/3, 1/2, 1/1
    assert bleu4(["big red circle"], ["red circle big"]) == 0.0
    assert bleu4(["big red circle"], ["red circle big"], smooth=True) == pytest.approx((1 / 3) ** 0.25)


def test_punctuation_and_case_are_tokenized_like_the_course_tokenizer():
    assert bleu4(["At the top: a red circle"], ["at the top : a red circle"]) == 1.0


@pytest.mark.parametrize(
    "references, hypotheses, error, message",
    [
        ("a b", ["a b"], TypeError, "references must be a list"),
        (["a b"], "a b", TypeError, "hypotheses must be a list of strings"),
        (["a b", "c d"], ["a b"], ValueError, "same length"),
        ([[]], ["a b"], ValueError, "needs at least one reference"),
        ([], [], ValueError, "hypotheses is empty"),
    ],
)
def test_bleu_bad_inputs_are_rejected(references, hypotheses, error, message):
    with pytest.raises(error, match=message):
        bleu4(references, hypotheses)
