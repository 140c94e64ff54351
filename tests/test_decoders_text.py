"""TextDecoder and TransformerTextDecoder: shapes, parameters, serialization, the step API, NumPy references."""

import keras
import numpy as np
import pytest

from mmgen_lib.decoders import TextDecoder, TransformerTextDecoder
from mmgen_lib.generation import beam_search, greedy_decode

V, E, U, C = 12, 8, 16, 6  # vocab, embedding, state, context sizes: tiny on purpose


def make_inputs(batch=3, seq_len=5, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, C)).astype("float32"), rng.integers(1, V, (batch, seq_len)).astype("int32")


def make_decoder(seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    return TextDecoder(V, embed_dim=E, units=U, context_dim=C, **kwargs)


def test_output_shape_is_batch_seq_len_vocab():
    context, ids = make_inputs(batch=4, seq_len=7)
    assert tuple(make_decoder()([context, ids]).shape) == (4, 7, V)


def test_parameter_count_matches_the_formula():
    gru = 3 * ((E + C) * U + U * U) + 2 * 3 * U  # reset_after=True: two bias vectors
    expected = V * E + (C * U + U) + gru + (U * V + V)
    assert make_decoder().count_params() == expected == 1_948


def test_context_dim_is_inferred_on_first_call():
    decoder = TextDecoder(V, embed_dim=E, units=U)
    assert not decoder.built
    decoder(list(make_inputs()))
    assert decoder.context_dim == C and decoder.count_params() == make_decoder().count_params()


def test_config_round_trip_gives_equal_outputs():
    decoder = make_decoder()
    context, ids = make_inputs()
    clone = TextDecoder.from_config(decoder.get_config())
    clone.set_weights(decoder.get_weights())
    assert clone.get_config() == decoder.get_config()
    np.testing.assert_allclose(clone([context, ids]), decoder([context, ids]), atol=1e-6)


def test_unroll_gives_the_same_outputs_and_round_trips():
    context, ids = make_inputs(seq_len=2)
    looped, unrolled = make_decoder(), make_decoder(unroll=True)
    assert unrolled.gru.unroll and not looped.gru.unroll and unrolled.get_config()["unroll"] is True
    np.testing.assert_allclose(unrolled([context, ids]), looped([context, ids]), atol=1e-6)
    clone = TextDecoder.from_config(unrolled.get_config())
    assert clone.gru.unroll and clone.get_config() == unrolled.get_config()
    with pytest.raises(TypeError, match="unroll must be True or False"):
        make_decoder(unroll=1)


def test_keras_save_and_load_gives_equal_outputs(tmp_path):
    decoder = make_decoder()
    context_in, ids_in = keras.Input((C,)), keras.Input((None,), dtype="int32")
    model = keras.Model([context_in, ids_in], decoder([context_in, ids_in]))
    path = tmp_path / "decoder.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    context, ids = make_inputs()
    np.testing.assert_allclose(
        loaded.predict([context, ids], verbose=0), model.predict([context, ids], verbose=0), atol=1e-6
    )


def test_same_seed_gives_same_output_and_another_seed_differs():
    context, ids = make_inputs()
    first, second, other = make_decoder(0), make_decoder(0), make_decoder(1)
    np.testing.assert_array_equal(first([context, ids]), second([context, ids]))
    assert not np.allclose(first([context, ids]), other([context, ids]))


def test_step_by_step_equals_teacher_forcing():
    decoder = make_decoder()
    context, ids = make_inputs(seq_len=6)
    state, logits = decoder.initial_state(context), []
    for t in range(ids.shape[1]):
        step_logits, state = decoder.step(context, ids[:, t], state)
        logits.append(step_logits)
    np.testing.assert_allclose(np.stack(logits, axis=1), decoder([context, ids]), atol=1e-5)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def test_step_matches_a_numpy_gru_reference():
    decoder = make_decoder()
    context, ids = make_inputs()
    emb = decoder.embedding.embeddings.numpy()
    w_init, b_init = (w.numpy() for w in decoder.init_state.weights)
    kernel, recurrent, bias = (w.numpy() for w in decoder.gru.cell.weights)
    w_out, b_out = (w.numpy() for w in decoder.to_logits.weights)

    h0 = np.tanh(context @ w_init + b_init)
    x = np.concatenate([emb[ids[:, 0]], context], axis=1)  # the context is fed at every step
    xz, xr, xh = np.split(x @ kernel + bias[0], 3, axis=1)
    hz, hr, hh = np.split(h0 @ recurrent + bias[1], 3, axis=1)
    z, r = sigmoid(xz + hz), sigmoid(xr + hr)
    h1 = z * h0 + (1 - z) * np.tanh(xh + r * hh)

    np.testing.assert_allclose(decoder.initial_state(context), h0, atol=1e-5)
    logits, state = decoder.step(context, ids[:, 0], decoder.initial_state(context))
    np.testing.assert_allclose(state, h1, atol=1e-5)
    np.testing.assert_allclose(logits, h1 @ w_out + b_out, atol=1e-5)


def test_the_context_changes_the_output():
    decoder = make_decoder()
    context, ids = make_inputs()
    assert not np.allclose(decoder([context, ids]), decoder([context + 1.0, ids]))


def test_dropout_is_only_active_in_training():
    decoder = make_decoder(dropout=0.5)
    context, ids = make_inputs()
    np.testing.assert_array_equal(decoder([context, ids]), decoder([context, ids], training=False))
    assert not np.allclose(decoder([context, ids], training=True), decoder([context, ids]))


def test_learns_to_say_its_context_with_teacher_forcing():
    keras.utils.set_random_seed(0)
    n_classes = 3
    context = np.eye(n_classes, dtype="float32")[np.arange(96) % n_classes]
    label = np.arange(96) % n_classes
    target = np.stack([label + 4, np.full(96, 2)], axis=1)  # "<word_k> <end>"
    inputs = np.stack([np.full(96, 1), label + 4], axis=1)  # "<start> <word_k>": shifted right
    decoder = TextDecoder(8, embed_dim=4, units=8)
    context_in, ids_in = keras.Input((n_classes,)), keras.Input((2,), dtype="int32")
    model = keras.Model([context_in, ids_in], decoder([context_in, ids_in]))
    model.compile(
        keras.optimizers.Adam(0.05), keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0)
    )
    model.fit([context, inputs], target, epochs=40, batch_size=32, verbose=0)
    out = greedy_decode(decoder, np.eye(n_classes, dtype="float32"), max_len=3)
    np.testing.assert_array_equal(out, [[4, 2, 0], [5, 2, 0], [6, 2, 0]])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(vocab_size=0), "vocab_size must be a positive int"),
        (dict(vocab_size=1), "vocab_size must be at least 2"),
        (dict(vocab_size=V, units=0), "units must be a positive int"),
        (dict(vocab_size=V, embed_dim=2.5), "embed_dim must be a positive int"),
        (dict(vocab_size=V, context_dim=-3), "context_dim must be a positive int or None"),
        (dict(vocab_size=V, dropout=1.0), r"dropout must be a float in \[0, 1\)"),
    ],
)
def test_bad_constructor_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TextDecoder(**kwargs)


def test_bad_call_inputs_are_rejected():
    decoder = make_decoder()
    context, ids = make_inputs()
    with pytest.raises(ValueError, match=r"expects inputs \[context, input_ids\]"):
        decoder(context)
    with pytest.raises(ValueError, match="context has 4 features"):
        decoder([context[:, :4], ids])
    with pytest.raises(ValueError, match=r"input_ids must be \(batch, seq_len\)"):
        decoder([context, ids[..., None]])
    with pytest.raises(ValueError, match=r"context must be \(batch, context_dim\)"):
        decoder.initial_state(context[:, None])


# ----------------------------------------------------------------------------- TransformerTextDecoder
D_MODEL, HEADS, FF, MAX_LEN = 16, 2, 32, 16


def make_transformer(seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    return TransformerTextDecoder(V, embed_dim=D_MODEL, num_heads=HEADS, ff_dim=FF, max_len=MAX_LEN, **kwargs)


def memory_inputs(batch=3, n_ctx=5, seq_len=6, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(batch, n_ctx, C)).astype("float32"), rng.integers(1, V, (batch, seq_len)).astype("int32")


def test_transformer_output_and_attention_shapes():
    memory, ids = memory_inputs()
    logits, scores = make_transformer()([memory, ids], return_attention=True)
    assert tuple(logits.shape) == (3, 6, V) and tuple(scores.shape) == (3, HEADS, 6, 5)
    np.testing.assert_allclose(np.sum(scores, axis=-1), 1.0, atol=1e-5)  # a distribution over the memory


def test_transformer_parameter_count_matches_the_formula():
    decoder = make_transformer()
    decoder(list(memory_inputs()))
    attention = 4 * (D_MODEL * D_MODEL + D_MODEL)  # query, key, value and output projections
    block = 2 * attention + (D_MODEL * FF + FF + FF * D_MODEL + D_MODEL) + 3 * 2 * D_MODEL
    expected = V * D_MODEL + MAX_LEN * D_MODEL + (C * D_MODEL + D_MODEL) + block + 2 * D_MODEL + (D_MODEL * V + V)
    assert decoder.count_params() == expected == 4_140


def test_transformer_is_causal():
    decoder = make_transformer()
    memory, ids = memory_inputs()
    changed = ids.copy()
    changed[:, 4:] = (changed[:, 4:] % (V - 1)) + 1  # change the last two tokens only
    before, after = decoder([memory, ids]), decoder([memory, changed])
    np.testing.assert_allclose(before[:, :4], after[:, :4], atol=1e-5)
    assert not np.allclose(before[:, 4:], after[:, 4:])


def test_transformer_step_by_step_equals_teacher_forcing_and_beam_one_equals_greedy():
    decoder = make_transformer()
    memory, ids = memory_inputs()
    state, logits = decoder.initial_state(memory), []
    for t in range(ids.shape[1]):
        step_logits, state = decoder.step(memory, ids[:, t], state)
        logits.append(step_logits)
    np.testing.assert_allclose(np.stack(logits, axis=1), decoder([memory, ids]), atol=1e-5)
    np.testing.assert_array_equal(
        beam_search(decoder, memory, beam_width=1, max_len=6), greedy_decode(decoder, memory, max_len=6)
    )


def test_transformer_accepts_a_single_context_vector():
    memory, ids = memory_inputs(n_ctx=1)
    decoder = make_transformer()
    np.testing.assert_allclose(decoder([memory[:, 0], ids]), decoder([memory, ids]), atol=1e-6)


def test_transformer_config_and_keras_round_trips(tmp_path):
    decoder = make_transformer(num_layers=2, dropout=0.1)
    memory, ids = memory_inputs()
    expected = decoder([memory, ids])
    clone = TransformerTextDecoder.from_config(decoder.get_config())
    clone([memory, ids])
    clone.set_weights(decoder.get_weights())
    np.testing.assert_allclose(clone([memory, ids]), expected, atol=1e-5)
    memory_in, ids_in = keras.Input((5, C)), keras.Input((None,), dtype="int32")
    model = keras.Model([memory_in, ids_in], decoder([memory_in, ids_in]))
    model.save(tmp_path / "transformer.keras")
    loaded = keras.models.load_model(tmp_path / "transformer.keras")
    np.testing.assert_allclose(loaded.predict([memory, ids], verbose=0), expected, atol=1e-5)


def test_transformer_same_seed_same_output():
    memory, ids = memory_inputs()
    np.testing.assert_array_equal(make_transformer(0)([memory, ids]), make_transformer(0)([memory, ids]))
    assert not np.allclose(make_transformer(0)([memory, ids]), make_transformer(1)([memory, ids]))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(vocab_size=1), "vocab_size must be at least 2"),
        (dict(vocab_size=V, embed_dim=15, num_heads=2), "embed_dim must be divisible by num_heads"),
        (dict(vocab_size=V, num_layers=0), "num_layers must be a positive int"),
        (dict(vocab_size=V, dropout=-0.1), r"dropout must be a float in \[0, 1\)"),
    ],
)
def test_transformer_bad_arguments_are_rejected(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TransformerTextDecoder(**kwargs)


def test_transformer_bad_inputs_are_rejected():
    decoder = make_transformer()
    memory, ids = memory_inputs(seq_len=MAX_LEN + 1)
    with pytest.raises(ValueError, match="more than max_len=16"):
        decoder([memory, ids])
    with pytest.raises(ValueError, match=r"expects inputs \[context, input_ids\]"):
        decoder(memory)
