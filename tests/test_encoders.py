"""Tests of mmgen_lib.encoders: TextEncoder, ImageEncoder, AudioEncoder and their pooling layers."""

import keras
import numpy as np
import pytest

from mmgen_lib.encoders import (
    AttentionPooling,
    AudioEncoder,
    ImageEncoder,
    MaskedMeanPooling,
    ResidualBlock,
    TextEncoder,
    masked_mean,
)

IDS = np.array([[1, 5, 6, 7, 2, 0, 0, 0], [1, 8, 2, 0, 0, 0, 0, 0], [1, 4, 9, 9, 9, 9, 9, 2]], np.int32)
TEXT_KINDS = ("gru", "lstm", "transformer")
POOLINGS = ("last", "mean", "attention")


def small_text(kind="gru", pooling="last", **kwargs):
    return TextEncoder(vocab_size=20, embed_dim=8, units=12, kind=kind, pooling=pooling, **kwargs)


def images(n=2, seed=0):
    return np.random.default_rng(seed).random((n, 32, 32, 3)).astype("float32")


def spectrograms(n=2, seed=0):
    return np.random.default_rng(seed).normal(-1, 1.2, (n, 28, 40)).astype("float32")


def as_numpy(value):
    return keras.ops.convert_to_numpy(value)


# ------------------------------------------------------------------------- pooling helpers
def test_masked_mean_matches_numpy_reference():
    rng = np.random.default_rng(0)
    seq = rng.normal(size=(3, 5, 4)).astype("float32")
    mask = np.array([[1, 1, 0, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]], bool)
    expected = np.stack([seq[0, :2].mean(0), seq[1].mean(0), np.zeros(4)])
    np.testing.assert_allclose(as_numpy(masked_mean(seq, mask)), expected, atol=1e-6)
    np.testing.assert_allclose(as_numpy(MaskedMeanPooling()(seq, mask=mask)), expected, atol=1e-6)
    np.testing.assert_allclose(as_numpy(masked_mean(seq)), seq.mean(1), atol=1e-6)


def test_attention_pooling_matches_numpy_and_ignores_padding():
    keras.utils.set_random_seed(1)
    seq = np.random.default_rng(1).normal(size=(2, 4, 6)).astype("float32")
    mask = np.array([[1, 1, 1, 0], [1, 0, 0, 0]], bool)
    layer = AttentionPooling(hidden_dim=5)
    pooled, weights = layer(seq, mask=mask, return_weights=True)
    w1, b1, w2 = [as_numpy(w) for w in layer.weights]
    scores = (np.tanh(seq @ w1 + b1) @ w2)[..., 0]
    scores = np.where(mask, scores, -np.inf)
    expected_w = np.exp(scores - scores.max(1, keepdims=True))
    expected_w /= expected_w.sum(1, keepdims=True)
    np.testing.assert_allclose(as_numpy(weights), expected_w, atol=1e-6)
    np.testing.assert_allclose(as_numpy(pooled), np.einsum("bt,btd->bd", expected_w, seq), atol=1e-5)
    assert layer.count_params() == 6 * 5 + 5 + 5
    assert AttentionPooling.from_config(layer.get_config()).hidden_dim == 5


# ------------------------------------------------------------------------- TextEncoder
@pytest.mark.parametrize("kind", TEXT_KINDS)
@pytest.mark.parametrize("pooling", POOLINGS)
def test_text_encoder_output_shape_and_padding_does_not_count(kind, pooling):
    keras.utils.set_random_seed(0)
    encoder = small_text(kind, pooling)
    vector = as_numpy(encoder(IDS))
    assert vector.shape == (3, 12) and vector.dtype == np.float32
    # More padding on the right must not change any text vector ...
    padded = as_numpy(encoder(np.pad(IDS, ((0, 0), (0, 6)))))
    np.testing.assert_allclose(padded, vector, atol=1e-6)
    # ... and a padded row must encode exactly as the same tokens without padding.
    alone = as_numpy(encoder(IDS[1:2, :3]))
    np.testing.assert_allclose(alone[0], vector[1], atol=1e-5)


@pytest.mark.parametrize(
    "kind, pooling, params",
    [
        ("gru", "last", 20 * 8 + 3 * (12 * (8 + 12) + 2 * 12)),  # embedding + GRU (reset_after: 2 biases)
        ("lstm", "last", 20 * 8 + 4 * (12 * (8 + 12) + 12)),
        ("gru", "attention", 952 + 12 * 12 + 12 + 12),  # + AttentionPooling(hidden_dim=units)
        # embedding + positions (16 x 8) + projection + attention (4 x (12x12+12)) + 2 norms + FFN
        (
            "transformer",
            "last",
            160 + 128 + (8 * 12 + 12) + 4 * (12 * 12 + 12) + 2 * 24 + (12 * 24 + 24) + (24 * 12 + 12),
        ),
    ],
)
def test_text_encoder_parameter_count(kind, pooling, params):
    encoder = small_text(kind, pooling)
    encoder(IDS)
    assert encoder.count_params() == params


@pytest.mark.parametrize("kind", TEXT_KINDS)
def test_text_encoder_return_sequences_and_mask(kind):
    encoder = small_text(kind, "mean", return_sequences=True)
    vector, sequence = encoder(IDS)
    assert tuple(vector.shape) == (3, 12) and tuple(sequence.shape) == (3, 8, 12)
    mask = as_numpy(encoder.mask_from(IDS))
    np.testing.assert_array_equal(mask, IDS != 0)
    np.testing.assert_array_equal(as_numpy(encoder.compute_mask(IDS)[1]), IDS != 0)
    # pooling="mean" is exactly the masked mean of the returned sequence (NumPy reference).
    seq = as_numpy(sequence)
    expected = (seq * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
    np.testing.assert_allclose(as_numpy(vector), expected, atol=1e-5)


def test_text_encoder_last_pooling_is_the_rnn_state_after_the_last_real_token():
    keras.utils.set_random_seed(3)
    encoder = small_text("lstm", "last", return_sequences=True)
    vector, sequence = encoder(IDS)
    lengths = (IDS != 0).sum(1)
    expected = as_numpy(sequence)[np.arange(3), lengths - 1]
    np.testing.assert_allclose(as_numpy(vector), expected, atol=1e-6)


def test_text_encoder_embedding_is_a_table_lookup():
    encoder = small_text()
    encoder(IDS)
    table = as_numpy(encoder.embedding.embeddings)
    np.testing.assert_allclose(as_numpy(encoder.embedding(IDS)), table[IDS])


def test_text_encoder_in_a_functional_model_propagates_the_mask():
    encoder = small_text("gru", "mean", return_sequences=True)
    inputs = keras.Input((8,), dtype="int32")
    vector, sequence = encoder(inputs)
    assert getattr(vector, "_keras_mask", None) is None
    assert sequence._keras_mask.shape[1] == 8


@pytest.mark.parametrize("kind", TEXT_KINDS)
def test_text_encoder_config_round_trip(kind):
    encoder = small_text(kind, "attention", num_heads=3, max_len=10, dropout=0.1, name="e_t")
    config = encoder.get_config()
    clone = TextEncoder.from_config(config)
    assert clone.get_config() == config
    encoder(IDS), clone(IDS)
    clone.set_weights(encoder.get_weights())
    np.testing.assert_allclose(as_numpy(clone(IDS)), as_numpy(encoder(IDS)), atol=1e-6)


@pytest.mark.parametrize("kind", TEXT_KINDS)
def test_text_encoder_keras_save_load(tmp_path, kind):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8,), dtype="int32")
    model = keras.Model(inputs, small_text(kind, "attention")(inputs))
    path = tmp_path / "text.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(as_numpy(loaded(IDS)), as_numpy(model(IDS)), atol=1e-6)


def test_text_encoder_same_seed_same_output_and_dropout_only_in_training():
    outputs = []
    for seed in (7, 7, 8):
        keras.utils.set_random_seed(seed)
        outputs.append(as_numpy(small_text("gru", dropout=0.5)(IDS)))
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert not np.allclose(outputs[0], outputs[2])
    keras.utils.set_random_seed(7)
    encoder = small_text("gru", dropout=0.5)
    np.testing.assert_array_equal(as_numpy(encoder(IDS)), outputs[0])
    assert not np.allclose(as_numpy(encoder(IDS, training=True)), outputs[0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kind": "rnn"}, "kind must be one of"),
        ({"pooling": "max"}, "pooling must be one of"),
        ({"vocab_size": 0}, "vocab_size must be a positive int"),
        ({"units": 10, "kind": "transformer", "num_heads": 3}, "units must be divisible by num_heads"),
        ({"dropout": 1.5}, "dropout must be a float in"),
    ],
)
def test_text_encoder_rejects_bad_arguments(kwargs, message):
    arguments = {"vocab_size": 20, **kwargs}
    with pytest.raises(ValueError, match=message):
        TextEncoder(**arguments)


def test_text_encoder_rejects_bad_inputs():
    with pytest.raises(TypeError, match="integer token ids"):
        small_text()(IDS.astype("float32"))
    with pytest.raises(ValueError, match="longer than max_len=4"):
        small_text("transformer", max_len=4)(IDS)
    built = small_text("transformer", max_len=8)
    built(IDS)
    with pytest.raises(ValueError, match="longer than max_len=8"):
        built(np.pad(IDS, ((0, 0), (0, 2))))
    with pytest.raises(ValueError, match=r"shape \(batch, seq_len\)"):
        small_text()(IDS[..., None])


# ------------------------------------------------------------------------- ImageEncoder
def test_residual_block_is_identity_plus_convolutions():
    block = ResidualBlock(4)
    x = np.abs(np.random.default_rng(0).normal(size=(1, 6, 6, 4))).astype("float32")
    block.build(x.shape)
    assert not np.allclose(as_numpy(block(x)), x)
    for weight in block.conv2.weights:  # second conv outputs zero -> block is relu(x) = x
        weight.assign(np.zeros(weight.shape))
    np.testing.assert_allclose(as_numpy(block(x)), x)
    assert block.count_params() == 2 * (9 * 4 * 4 + 4)
    with pytest.raises(ValueError, match="needs inputs with 4 channels"):
        ResidualBlock(4)(np.zeros((1, 6, 6, 3), "float32"))


@pytest.mark.parametrize(
    "residual, params",
    [
        # conv 3->16, 16->32, 32->32; residual blocks 2 convs each; Dense(4*4*32 -> 64)
        (False, (27 * 16 + 16) + (144 * 32 + 32) + (288 * 32 + 32) + (512 * 64 + 64)),
        (True, 47168 + 2 * (144 * 16 + 16) + 4 * (288 * 32 + 32)),
    ],
)
def test_image_encoder_shape_and_parameter_count(residual, params):
    encoder = ImageEncoder(residual=residual)
    vector = as_numpy(encoder(images()))
    assert vector.shape == (2, 64) and vector.dtype == np.float32 and (vector >= 0).all()
    assert encoder.count_params() == params


def test_image_encoder_grid_is_the_flattened_4x4_map_and_the_vector_reads_it_in_order():
    keras.utils.set_random_seed(0)
    encoder = ImageEncoder(filters=(4, 8, 8), output_dim=5, return_grid=True)
    vector, grid = encoder(images(3))
    assert tuple(grid.shape) == (3, 16, 8)
    kernel, bias = [as_numpy(w) for w in encoder.dense.weights]
    expected = np.maximum(as_numpy(grid).reshape(3, -1) @ kernel + bias, 0)  # flatten keeps position
    np.testing.assert_allclose(as_numpy(vector), expected, atol=1e-5)


def test_image_encoder_config_round_trip_and_keras_save_load(tmp_path):
    keras.utils.set_random_seed(0)
    encoder = ImageEncoder(filters=(4, 8, 8), output_dim=6, dropout=0.2, name="e_v")
    config = encoder.get_config()
    assert ImageEncoder.from_config(config).get_config() == config
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, encoder(inputs))
    model.save(tmp_path / "image.keras")
    loaded = keras.models.load_model(tmp_path / "image.keras")
    np.testing.assert_allclose(as_numpy(loaded(images())), as_numpy(model(images())), atol=1e-6)


def test_image_encoder_same_seed_same_output():
    outputs = []
    for seed in (3, 3, 4):
        keras.utils.set_random_seed(seed)
        outputs.append(as_numpy(ImageEncoder(filters=(4, 8, 8), output_dim=6)(images())))
    np.testing.assert_array_equal(outputs[0], outputs[1])
    assert not np.allclose(outputs[0], outputs[2])


def test_image_encoder_rejects_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="filters must be a sequence"):
        ImageEncoder(filters=())
    with pytest.raises(ValueError, match="each entry of filters must be a positive int"):
        ImageEncoder(filters=(16, 0, 32))
    with pytest.raises(ValueError, match="output_dim must be a positive int"):
        ImageEncoder(output_dim=-1)
    with pytest.raises(ValueError, match="dropout must be a float"):
        ImageEncoder(dropout=1.0)
    with pytest.raises(ValueError, match=r"shape \(batch, height, width, channels\)"):
        ImageEncoder()(np.zeros((32, 32, 3), "float32"))
    with pytest.raises(ValueError, match="divisible by 8"):
        ImageEncoder()(np.zeros((1, 30, 30, 3), "float32"))


# ------------------------------------------------------------------------- AudioEncoder
def test_audio_encoder_shape_parameter_count_and_sequence():
    keras.utils.set_random_seed(0)
    encoder = AudioEncoder(return_sequences=True)
    vector, sequence = encoder(spectrograms(3))
    assert tuple(vector.shape) == (3, 64) and tuple(sequence.shape) == (3, 7, 320)
    # conv 1->16, conv 16->32, Dense(7*10*32 -> 64)
    assert encoder.count_params() == (9 * 16 + 16) + (144 * 32 + 32) + (2240 * 64 + 64)
    kernel, bias = [as_numpy(w) for w in encoder.dense.weights]
    expected = np.maximum(as_numpy(sequence).reshape(3, -1) @ kernel + bias, 0)
    np.testing.assert_allclose(as_numpy(vector), expected, atol=1e-5)


def test_audio_encoder_config_round_trip_keras_save_load_and_seed(tmp_path):
    keras.utils.set_random_seed(5)
    encoder = AudioEncoder(filters=(4, 8), output_dim=6, dropout=0.1, name="e_a")
    config = encoder.get_config()
    assert AudioEncoder.from_config(config).get_config() == config
    inputs = keras.Input((28, 40))
    model = keras.Model(inputs, encoder(inputs))
    model.save(tmp_path / "audio.keras")
    loaded = keras.models.load_model(tmp_path / "audio.keras")
    np.testing.assert_allclose(as_numpy(loaded(spectrograms())), as_numpy(model(spectrograms())), atol=1e-6)
    keras.utils.set_random_seed(5)
    again = AudioEncoder(filters=(4, 8), output_dim=6, dropout=0.1)
    np.testing.assert_array_equal(as_numpy(again(spectrograms())), as_numpy(encoder(spectrograms())))


def test_audio_encoder_rejects_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="filters must be a sequence"):
        AudioEncoder(filters=16)
    with pytest.raises(ValueError, match=r"shape \(batch, frames, mel_bins\)"):
        AudioEncoder()(np.zeros((2, 28, 40, 1), "float32"))
    with pytest.raises(ValueError, match="at least 4"):
        AudioEncoder()(np.zeros((2, 2, 40), "float32"))


def test_image_encoder_scales_uint8_images():
    keras.utils.set_random_seed(0)
    encoder = ImageEncoder(filters=(4, 8), output_dim=8)
    pixels = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3)).astype(np.uint8)
    np.testing.assert_allclose(
        np.asarray(encoder(pixels)), np.asarray(encoder(pixels.astype("float32") / 255.0)), rtol=1e-6
    )
    inputs = keras.Input((32, 32, 3), dtype="uint8")  # in a functional model too
    model = keras.Model(inputs, encoder(inputs))
    np.testing.assert_allclose(model.predict(pixels, verbose=0), np.asarray(encoder(pixels)), rtol=1e-5)
