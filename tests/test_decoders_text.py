"""TextDecoder: shapes, parameters, serialization, the GRU step against NumPy, and that it learns."""

import keras
import numpy as np
import pytest

from mmgen_lib.decoders import TextDecoder
from mmgen_lib.generation import greedy_decode

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


def test_keras_save_and_load_gives_equal_outputs(tmp_path):
    decoder = make_decoder()
    context_in, ids_in = keras.Input((C,)), keras.Input((None,), dtype="int32")
    model = keras.Model([context_in, ids_in], decoder([context_in, ids_in]))
    path = tmp_path / "decoder.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    context, ids = make_inputs()
    np.testing.assert_allclose(loaded.predict([context, ids], verbose=0), model.predict([context, ids], verbose=0),
                               atol=1e-6)


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
    model.compile(keras.optimizers.Adam(0.05),
                  keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=0))
    model.fit([context, inputs], target, epochs=40, batch_size=32, verbose=0)
    out = greedy_decode(decoder, np.eye(n_classes, dtype="float32"), max_len=3)
    np.testing.assert_array_equal(out, [[4, 2, 0], [5, 2, 0], [6, 2, 0]])


@pytest.mark.parametrize("kwargs, message", [
    (dict(vocab_size=0), "vocab_size must be a positive int"),
    (dict(vocab_size=1), "vocab_size must be at least 2"),
    (dict(vocab_size=V, units=0), "units must be a positive int"),
    (dict(vocab_size=V, embed_dim=2.5), "embed_dim must be a positive int"),
    (dict(vocab_size=V, context_dim=-3), "context_dim must be a positive int or None"),
    (dict(vocab_size=V, dropout=1.0), r"dropout must be a float in \[0, 1\)"),
])
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
