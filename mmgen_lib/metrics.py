"""Scoring generated text: caption attribute accuracy and BLEU-4 (lesson 08).

ShapesWorld captions can be *parsed* back into the five attributes, so a generated
caption is judged on what it says (attribute accuracy), not on which of the valid
phrasings it picked. BLEU-4 (Papineni et al., 2002) is the classic n-gram overlap
score; in lesson 08 it shows how a correct paraphrase is punished.
"""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from mmgen_lib import validation
from mmgen_lib.data import ATTRIBUTE_NAMES, ATTRIBUTES, parse_caption
from mmgen_lib.tokenizer import split_words

__all__ = ["caption_attribute_hits", "caption_attribute_accuracy", "ngrams", "modified_precision", "bleu4"]


def _check_texts(texts, name: str) -> list:
    if isinstance(texts, str):
        raise TypeError(f"{name} must be a list of strings, not one string")
    texts = list(texts)
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"{name}[{i}] must be a str. Received: {type(text).__name__}")
    return texts


def _attribute_table(attributes, n: int) -> list[dict]:
    """Labels (n, 5) in ATTRIBUTE_NAMES order, or a list of attribute dicts -> list of dicts."""
    if len(attributes) and isinstance(attributes[0], dict):
        rows = list(attributes)
        for i, row in enumerate(rows):
            missing = [name for name in ATTRIBUTE_NAMES if name not in row]
            if missing:
                raise ValueError(f"attributes[{i}] has no {missing}")
    else:
        labels = np.asarray(attributes)
        if labels.ndim != 2 or labels.shape[1] != len(ATTRIBUTE_NAMES) or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(
                f"attributes must be int labels of shape (n, {len(ATTRIBUTE_NAMES)}) in "
                f"{ATTRIBUTE_NAMES} order, or a list of dicts. Received shape {labels.shape}"
            )
        sizes = np.array([len(ATTRIBUTES[name]) for name in ATTRIBUTE_NAMES])
        if (labels < 0).any() or (labels >= sizes).any():
            raise ValueError(
                f"attributes has labels outside the attribute ranges {dict(zip(ATTRIBUTE_NAMES, sizes.tolist()))}"
            )
        rows = [{name: ATTRIBUTES[name][row[k]] for k, name in enumerate(ATTRIBUTE_NAMES)} for row in labels]
    if len(rows) != n:
        raise ValueError(f"captions and attributes must have the same length. Received {n} and {len(rows)}")
    return rows


def caption_attribute_hits(captions, attributes) -> np.ndarray:
    """Which attributes each caption names correctly: (n, 5) bool in ``ATTRIBUTE_NAMES`` order.

    Captions are parsed with ``parse_caption(strict=False)``; an attribute that is
    missing or named twice with different values is wrong, and an empty or
    unparseable caption is wrong for every attribute.

    Args:
        captions: list of n generated captions (str).
        attributes: the true attributes, int labels (n, 5) as ``ShapesWorldSplit.labels``,
            or a list of n dicts such as ``{"shape": "circle", ...}``.
    """
    captions = _check_texts(captions, "captions")
    if not captions:
        raise ValueError("captions is empty: there is nothing to score")
    truth = _attribute_table(attributes, len(captions))
    hits = np.zeros((len(captions), len(ATTRIBUTE_NAMES)), bool)
    for i, (caption, true) in enumerate(zip(captions, truth)):
        try:
            parsed = parse_caption(caption, strict=False)
        except ValueError:  # an empty caption: nothing is named, everything is wrong
            continue
        hits[i] = [parsed[name] == true[name] for name in ATTRIBUTE_NAMES]
    return hits


def caption_attribute_accuracy(captions, attributes) -> dict:
    """Attribute accuracy of generated captions (lesson 08).

    Args:
        captions, attributes: as in :func:`caption_attribute_hits`.

    Returns:
        dict attribute -> accuracy for the five attributes, plus ``"mean"``, the mean
        over examples and attributes (all plain floats).
    """
    hits = caption_attribute_hits(captions, attributes)
    result = {name: float(hits[:, k].mean()) for k, name in enumerate(ATTRIBUTE_NAMES)}
    result["mean"] = float(hits.mean())
    return result


# ----------------------------------------------------------------------------- BLEU
def ngrams(tokens, n: int) -> Counter:
    """Counts of the n-grams (tuples of n consecutive tokens) of a token list."""
    n = validation.positive_int(n, "n")
    tokens = list(tokens)
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def _references(references, n_hyp: int) -> list[list[list[str]]]:
    if isinstance(references, str):
        raise TypeError("references must be a list (one entry per hypothesis), not one string")
    references = list(references)
    if len(references) != n_hyp:
        raise ValueError(f"references and hypotheses must have the same length. Received {len(references)} and {n_hyp}")
    out = []
    for i, refs in enumerate(references):
        refs = [refs] if isinstance(refs, str) else _check_texts(refs, f"references[{i}]")
        if not refs:
            raise ValueError(f"references[{i}] is empty: each hypothesis needs at least one reference")
        out.append([split_words(ref) for ref in refs])
    return out


def modified_precision(references, hypothesis: str, n: int) -> tuple[int, int]:
    """Clipped n-gram matches of one hypothesis: ``(matches, hypothesis n-gram count)``.

    Each hypothesis n-gram counts at most as often as it occurs in the reference
    that contains it most often ("the the the" does not match "the cat" three times).

    Args:
        references: one reference text (str) or a list of them.
        hypothesis: the generated text. Texts are lower-cased and split into words
            and punctuation marks as by the course tokenizer.
    """
    (refs,) = _references([references], 1)
    (hypothesis,) = _check_texts([hypothesis], "hypothesis")
    return _clipped_counts(refs, split_words(hypothesis), n)


def _clipped_counts(refs: list[list[str]], hyp: list[str], n: int) -> tuple[int, int]:
    counts, max_ref = ngrams(hyp, n), Counter()
    for ref in refs:
        max_ref |= ngrams(ref, n)  # element-wise maximum over the references
    return sum(min(count, max_ref[gram]) for gram, count in counts.items()), sum(counts.values())


def bleu4(references, hypotheses, smooth: bool = False) -> float:
    """Corpus-level BLEU-4 (Papineni et al., 2002), in [0, 1] (lesson 08).

    ``BLEU = BP * exp(mean_n log p_n)`` for n = 1..4, where p_n are the clipped n-gram
    precisions summed over the corpus, and the brevity penalty
    ``BP = exp(1 - r / c)`` if the hypotheses' total length c is below r (the sum of
    the reference lengths closest to each hypothesis, shorter on ties), else 1.

    Args:
        references: one entry per hypothesis: a reference text or a list of them.
        hypotheses: list of generated texts.
        smooth: add one to the matches and the counts of n = 2..4 (Lin & Och, 2004),
            so a single sentence without any 4-gram match does not score exactly 0.

    Returns:
        the BLEU-4 score as a float (0.0 if some p_n is 0 and ``smooth`` is False).
    """
    hypotheses = [split_words(h) for h in _check_texts(hypotheses, "hypotheses")]
    if not hypotheses:
        raise ValueError("hypotheses is empty: there is nothing to score")
    references = _references(references, len(hypotheses))
    matches, totals = np.zeros(4), np.zeros(4)
    hyp_length = ref_length = 0
    for refs, hyp in zip(references, hypotheses):
        hyp_length += len(hyp)
        ref_length += min((abs(len(ref) - len(hyp)), len(ref)) for ref in refs)[1]
        for n in range(1, 5):
            hits, count = _clipped_counts(refs, hyp, n)
            matches[n - 1] += hits
            totals[n - 1] += count
    if smooth:
        matches[1:] += 1
        totals[1:] += 1
    if hyp_length == 0 or (matches == 0).any() or (totals == 0).any():
        return 0.0
    log_precision = np.mean(np.log(matches / totals))
    brevity = 1.0 if hyp_length > ref_length else math.exp(1 - ref_length / hyp_length)
    return float(brevity * math.exp(log_precision))
