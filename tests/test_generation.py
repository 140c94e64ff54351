"""Decoding strategies: greedy, beam search and sampling, on a toy Markov decoder and a TextDecoder."""

import itertools

import keras
import numpy as np
import pytest

from mmgen_lib.decoders import TextDecoder
from mmgen_lib.generation import beam_search, greedy_decode, next_token_distribution, sample, sequence_log_prob

END = 2


class MarkovDecoder:
    """p(y_t | y_{t-1}, z) = softmax(table[y_{t-1}] + z): small enough to search exhaustively."""

    def __init__(self, table):
        self.table = np.asarray(table, np.float32)

    def initial_state(self, context):
        return np.zeros((len(context), 1), np.float32)  # the previous token is all the state needed

    def step(self, context, token_ids, state):
        return self.table[np.asarray(token_ids)] + np.asarray(context), state

    def __call__(self, inputs):
        context, ids = inputs
        return self.table[ids] + context[:, None, :]


def log_softmax(x):
    x = x - x.max(-1, keepdims=True)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


# The classic trap for greedy: from <start>, token 3 is likeliest (0.5) but every
# continuation of it is uncertain; token 4 (0.4) is followed by <end> with 0.9.
TRAP = np.full((5, 5), -30.0)
TRAP[1, [3, 4, END]] = np.log([0.5, 0.4, 0.1])
TRAP[3, [3, 4, END]] = np.log([0.35, 0.35, 0.3])
TRAP[4, [3, END]] = np.log([0.1, 0.9])
TRAP[END] = TRAP[0] = np.log(np.full(5, 0.2))  # never used: decoding stops at <end>
TRAP_CONTEXT = np.zeros((1, 5), np.float32)


@pytest.fixture(scope="module")
def decoder():
    keras.utils.set_random_seed(0)
    return TextDecoder(7, embed_dim=4, units=8, context_dim=3)


@pytest.fixture(scope="module")
def context():
    return np.random.default_rng(0).normal(size=(6, 3)).astype("float32") * 2


def test_greedy_falls_into_the_trap_and_beam_search_avoids_it():
    toy = MarkovDecoder(TRAP)
    greedy = greedy_decode(toy, TRAP_CONTEXT, max_len=3)
    beam, score = beam_search(toy, TRAP_CONTEXT, beam_width=2, max_len=3, return_scores=True)
    np.testing.assert_array_equal(greedy, [[3, 3, 3]])  # 0.5 * 0.35 * 0.35, never ends
    np.testing.assert_array_equal(beam, [[4, END, 0]])  # 0.4 * 0.9 = 0.36
    np.testing.assert_allclose(score, [np.log(0.36)], atol=1e-5)


def test_a_wide_enough_beam_finds_the_most_likely_sequence():
    rng = np.random.default_rng(1)
    toy = MarkovDecoder(rng.normal(size=(4, 4)) * 2)
    context = rng.normal(size=(3, 4)).astype("float32")
    max_len = 3
    best = beam_search(toy, context, beam_width=4**max_len, max_len=max_len)
    for row in range(len(context)):  # exhaustive search over the 64 sequences (stopping at <end>)
        logp = log_softmax(toy.table + context[row])
        candidates = {}
        for seq in itertools.product(range(4), repeat=max_len):
            cut = seq.index(END) + 1 if END in seq else max_len
            prefix = seq[:cut]
            candidates[prefix] = sum(logp[prev, tok] for prev, tok in zip((1,) + prefix[:-1], prefix))
        winner = max(candidates, key=candidates.get)
        assert tuple(best[row][: len(winner)]) == winner and not best[row][len(winner) :].any()


def test_beam_width_one_equals_greedy(decoder, context):
    np.testing.assert_array_equal(
        beam_search(decoder, context, beam_width=1, max_len=8), greedy_decode(decoder, context, max_len=8)
    )


@pytest.mark.parametrize("kwargs", [dict(temperature=0), dict(temperature=1e-6), dict(temperature=1.5, top_k=1)])
def test_sampling_limits_equal_greedy(decoder, context, kwargs):
    np.testing.assert_array_equal(
        sample(decoder, context, seed=3, max_len=8, **kwargs), greedy_decode(decoder, context, max_len=8)
    )


def test_maximum_length_is_respected_and_output_is_padded_after_end(decoder, context):
    for out in (
        greedy_decode(decoder, context, max_len=4),
        beam_search(decoder, context, beam_width=3, max_len=4),
        sample(decoder, context, seed=0, max_len=4),
    ):
        assert out.shape == (6, 4) and out.dtype == np.int32
        for row in out:
            if END in row:
                assert not row[list(row).index(END) + 1 :].any()


def test_decoding_stops_early_when_every_sequence_has_ended():
    table = np.full((4, 4), -20.0)
    table[:, END] = 0.0  # <end> is certain
    out = greedy_decode(MarkovDecoder(table), np.zeros((2, 4), np.float32), max_len=5)
    np.testing.assert_array_equal(out, [[END, 0, 0, 0, 0]] * 2)


def test_batched_decoding_equals_one_example_at_a_time(decoder, context):
    for decode in (
        lambda c: greedy_decode(decoder, c, max_len=6),
        lambda c: beam_search(decoder, c, beam_width=3, max_len=6),
    ):
        one_by_one = np.concatenate([decode(context[i : i + 1]) for i in range(len(context))])
        np.testing.assert_array_equal(decode(context), one_by_one)


def test_beam_scores_are_the_log_probabilities_of_the_returned_sequences(decoder, context):
    seqs, scores = beam_search(decoder, context, beam_width=3, max_len=6, return_scores=True, return_all_beams=True)
    assert seqs.shape == (6, 3, 6) and scores.shape == (6, 3)
    assert (np.diff(scores, axis=1) <= 1e-9).all()  # best first
    for b in range(3):
        np.testing.assert_allclose(sequence_log_prob(decoder, context, seqs[:, b]), scores[:, b], atol=1e-4)


def test_length_penalty_ranks_by_average_log_probability():
    toy = MarkovDecoder(TRAP)
    seqs, scores = beam_search(
        toy, TRAP_CONTEXT, beam_width=3, max_len=3, length_penalty=1.0, return_scores=True, return_all_beams=True
    )
    lengths = np.array([list(s).index(END) + 1 if END in s else 3 for s in seqs[0]])
    per_token = scores[0] / lengths
    assert (np.diff(per_token) <= 1e-9).all()


def test_same_seed_repeats_samples_and_another_seed_differs(decoder, context):
    first = sample(decoder, context, temperature=1.5, seed=7, max_len=8)
    np.testing.assert_array_equal(first, sample(decoder, context, temperature=1.5, seed=7, max_len=8))
    assert not np.array_equal(first, sample(decoder, context, temperature=1.5, seed=8, max_len=8))


def test_sampling_follows_the_model_distribution():
    table = np.full((4, 4), -30.0)
    table[1, [0, END, 3]] = np.log([1e-9, 0.25, 0.75])
    context = np.zeros((4000, 4), np.float32)
    first = sample(MarkovDecoder(table), context, seed=0, max_len=1)[:, 0]
    assert abs((first == 3).mean() - 0.75) < 0.03
    only_top = sample(MarkovDecoder(table), context, seed=0, max_len=1, top_k=1)[:, 0]
    assert (only_top == 3).all()


def test_next_token_distribution_reference():
    logits = np.array([[2.0, 1.0, 0.0, -1.0]])
    np.testing.assert_allclose(next_token_distribution(logits), np.exp(logits) / np.exp(logits).sum())
    half = np.exp(logits / 0.5) / np.exp(logits / 0.5).sum()
    np.testing.assert_allclose(next_token_distribution(logits, temperature=0.5), half)
    top2 = np.exp([2.0, 1.0]) / np.exp([2.0, 1.0]).sum()
    np.testing.assert_allclose(next_token_distribution(logits, top_k=2), [[*top2, 0, 0]])
    np.testing.assert_array_equal(next_token_distribution(logits, temperature=0), [[1, 0, 0, 0]])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda d, c: greedy_decode(object(), c), TypeError, "decoder must offer initial_state"),
        (lambda d, c: greedy_decode(d, c, max_len=0), ValueError, "max_len must be an int >= 1"),
        (lambda d, c: greedy_decode(d, c[:0]), ValueError, "context must hold at least one example"),
        (lambda d, c: beam_search(d, c, beam_width=0), ValueError, "beam_width must be an int >= 1"),
        (lambda d, c: beam_search(d, c, length_penalty=-1), ValueError, "length_penalty must be a finite number"),
        (lambda d, c: sample(d, c, temperature=-0.5), ValueError, "temperature must be a finite number >= 0"),
        (lambda d, c: sample(d, c, temperature=float("nan")), ValueError, "temperature must be a finite number"),
        (lambda d, c: sample(d, c, top_k=0), ValueError, "top_k must be an int >= 1"),
        (lambda d, c: sample(d, c, top_k=99), ValueError, "top_k must be at most the vocabulary size 7"),
        (lambda d, c: sample(d, c, seed=-1), ValueError, "seed must be an int >= 0"),
        (lambda d, c: sequence_log_prob(d, c, np.zeros((2, 3))), ValueError, r"token_ids must be \(batch, T\)"),
    ],
)
def test_invalid_arguments_are_rejected(decoder, context, call, error, message):
    with pytest.raises(error, match=message):
        call(decoder, context)
