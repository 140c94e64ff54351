"""Tests of mmgen_lib.tokens: the vector quantizer and the image / sound tokenizers (lesson 15)."""

import hashlib
import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from mmgen_lib.tokens import (
    ImageTokenizer,
    SoundTokenizer,
    VectorQuantizer,
    code_usage,
    codebook_perplexity,
    load_tokenizers,
    save_tokenizers,
    train_tokenizer,
)

REPO = Path(__file__).resolve().parents[1]
RNG = np.random.default_rng(0)


def nearest_codes_numpy(z, codebook):
    distances = ((z[..., None, :] - codebook) ** 2).sum(-1)  # (..., K)
    return distances.argmin(-1)


# ----------------------------------------------------------------------------- VectorQuantizer


def test_quantizer_matches_numpy_nearest_code_and_losses():
    quantizer = VectorQuantizer(codebook_size=8, code_dim=3, beta=0.25, seed=1)
    z = RNG.normal(size=(4, 5, 3)).astype("float32")
    out = quantizer(z)
    codebook = keras.ops.convert_to_numpy(quantizer.codebook)
    ids = nearest_codes_numpy(z, codebook)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out["ids"]), ids)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out["quantized"]), codebook[ids], atol=1e-6)
    squared = ((z - codebook[ids]) ** 2).mean(axis=(1, 2))  # (batch,)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out["loss"]), 1.25 * squared, rtol=1e-5)
    assert out["ids"].shape == (4, 5) and out["quantized"].shape == (4, 5, 3)


def test_straight_through_gradient_is_the_identity():
    quantizer = VectorQuantizer(codebook_size=6, code_dim=2, beta=0.0, seed=0)
    z = tf.Variable(RNG.normal(size=(3, 4, 2)).astype("float32"))
    weights = RNG.normal(size=(3, 4, 2)).astype("float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(quantizer(z)["quantized"] * weights)  # d loss / d quantized = weights
    np.testing.assert_allclose(tape.gradient(loss, z).numpy(), weights, rtol=1e-6)


def test_codebook_loss_moves_codes_and_commitment_moves_inputs():
    quantizer = VectorQuantizer(codebook_size=4, code_dim=2, beta=0.25, seed=0)
    z = tf.Variable(RNG.normal(size=(2, 3, 2)).astype("float32"))
    quantizer(z)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(quantizer(z)["loss"])
    grad_z, grad_codebook = tape.gradient(loss, [z, quantizer.codebook])
    codebook = quantizer.codebook.numpy()
    ids = nearest_codes_numpy(z.numpy(), codebook)
    per_value = 1.0 / (3 * 2)  # the loss averages over each example's 3 vectors x 2 dims
    np.testing.assert_allclose(grad_z.numpy(), 0.25 * 2 * per_value * (z.numpy() - codebook[ids]), rtol=1e-5)
    expected = np.zeros_like(codebook)
    np.add.at(expected, ids.reshape(-1), (2 * per_value * (codebook[ids] - z.numpy())).reshape(-1, 2))
    np.testing.assert_allclose(tf.convert_to_tensor(grad_codebook).numpy(), expected, rtol=1e-5, atol=1e-7)


def test_lookup_inverts_nearest_codes_on_codebook_entries():
    quantizer = VectorQuantizer(codebook_size=5, code_dim=3, seed=2)
    quantizer.build((None, 3))
    ids = np.array([[0, 4, 2], [1, 1, 3]])
    codes = quantizer.lookup(ids)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(quantizer.nearest_codes(codes)), ids)


def test_restart_dead_codes_reseeds_only_unused_entries():
    quantizer = VectorQuantizer(codebook_size=4, code_dim=2, seed=0)
    quantizer.build((None, 2))
    before = quantizer.codebook.numpy().copy()
    vectors = RNG.normal(size=(10, 2)).astype("float32") + 5.0
    restarted = quantizer.restart_dead_codes(vectors, counts=np.array([3, 0, 2, 0]), seed=0)
    after = quantizer.codebook.numpy()
    assert restarted == 2
    np.testing.assert_array_equal(after[[0, 2]], before[[0, 2]])
    for row in after[[1, 3]]:
        assert any(np.allclose(row, v) for v in vectors)
    assert quantizer.restart_dead_codes(vectors, counts=np.ones(4), seed=0) == 0


def test_perplexity_counts_equally_used_codes():
    assert codebook_perplexity([0, 0, 0], 4) == pytest.approx(1.0)
    assert codebook_perplexity([[0, 1], [2, 3]], 4) == pytest.approx(4.0)
    np.testing.assert_array_equal(code_usage([1, 1, 3], 4), [0, 2, 0, 1])
    with pytest.raises(ValueError, match="in \\[0, 4\\)"):
        code_usage([4], 4)
    with pytest.raises(TypeError, match="integers"):
        code_usage([0.5], 4)
    with pytest.raises(ValueError, match="empty"):
        codebook_perplexity(np.zeros(0, int), 4)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"codebook_size": 0}, ValueError, "codebook_size"),
        ({"code_dim": 2.5}, ValueError, "code_dim"),
        ({"beta": -1.0}, ValueError, "beta"),
        ({"seed": "a"}, TypeError, "seed"),
    ],
)
def test_quantizer_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=f"Received: {match}="):
        VectorQuantizer(**kwargs)


def test_quantizer_rejects_vectors_of_the_wrong_size():
    with pytest.raises(ValueError, match="code_dim=4"):
        VectorQuantizer(code_dim=4)(np.zeros((2, 3), "float32"))


def test_quantizer_config_and_keras_round_trip(tmp_path):
    quantizer = VectorQuantizer(codebook_size=7, code_dim=3, beta=0.5, seed=3)
    inputs = keras.Input((5, 3))
    model = keras.Model(inputs, quantizer(inputs)["quantized"])
    assert VectorQuantizer.from_config(quantizer.get_config()).get_config() == quantizer.get_config()
    model.save(tmp_path / "q.keras")
    loaded = keras.models.load_model(tmp_path / "q.keras")
    z = RNG.normal(size=(2, 5, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(z, verbose=0), model.predict(z, verbose=0))


# ----------------------------------------------------------------------------- tokenizers


def small_image_tokenizer(seed=0):
    return ImageTokenizer(
        codebook_size=16, code_dim=4, filters=(4, 8, 8), decoder_filters=(8, 8, 4), hidden_units=16, seed=seed
    )


def small_sound_tokenizer(seed=0):
    return SoundTokenizer(codebook_size=8, code_dim=4, filters=(8, 8), seed=seed, mean=-5.0, std=3.0)


IMAGES = RNG.integers(0, 256, size=(6, 32, 32, 3)).astype("uint8")
LOG_MELS = RNG.normal(-5.0, 3.0, size=(6, 28, 40)).astype("float32")


@pytest.mark.parametrize(
    "make, x, n_tokens, out_shape",
    [
        (small_image_tokenizer, IMAGES, 17, (6, 32, 32, 3)),
        (small_sound_tokenizer, LOG_MELS, 8, (6, 28, 40)),
    ],
)
def test_encode_decode_shapes_and_ranges(make, x, n_tokens, out_shape):
    tokenizer = make()
    ids = tokenizer.encode(x)
    assert ids.shape == (6, n_tokens) and ids.dtype == np.int32 and tokenizer.n_tokens == n_tokens
    assert ids.min() >= 0 and ids.max() < tokenizer.codebook_size
    decoded = tokenizer.decode(ids)
    assert decoded.shape == out_shape and decoded.dtype == np.float32
    out = tokenizer(tokenizer._check_inputs(x))
    assert tuple(out["reconstruction"].shape) == out_shape and tuple(out["vq_loss"].shape) == (6,)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(out["ids"]), ids)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(out["reconstruction"]), decoded, rtol=1e-4, atol=1e-4)


def test_image_tokenizer_reads_uint8_and_floats_alike():
    tokenizer = small_image_tokenizer()
    np.testing.assert_array_equal(tokenizer.encode(IMAGES), tokenizer.encode(IMAGES / 255.0))


def test_parameter_counts_are_exact():
    image, sound = small_image_tokenizer(), small_sound_tokenizer()
    image.encode(IMAGES[:1]), sound.encode(LOG_MELS[:1])
    shape_encoder = (4 * 4 * 1 * 4 + 4) + (4 * 4 * 4 * 8 + 8) + (4 * 4 * 8 * 8 + 8) + (8 * 4 + 4)  # colour-blind input
    colour_encoder = (3 * 4 + 4) + (4 * 4 + 4)
    mask_decoder = (9 * 4 * 16 + 16) + (16 * 16 * 8 + 8) + (16 * 8 * 8 + 8) + (16 * 8 * 4 + 4) + (9 * 4 + 1)
    colour_decoder = (4 * 8 + 8) + 2 * (8 * 3 + 3)
    assert image.count_params() == shape_encoder + colour_encoder + 16 * 4 + mask_decoder + colour_decoder
    sound_params = (
        (4 * 40 * 8 + 8) + (4 * 8 * 8 + 8) + (8 * 4 + 4) + 8 * 4 + (4 * 4 * 8 + 8) + (4 * 8 * 8 + 8) + (3 * 8 * 40 + 40)
    )
    assert sound.count_params() == sound_params


@pytest.mark.parametrize("make, x", [(small_image_tokenizer, IMAGES / 255.0), (small_sound_tokenizer, LOG_MELS)])
def test_keras_save_load_round_trip_standalone(tmp_path, make, x):
    tokenizer = make()
    ids = tokenizer.encode(x)
    assert type(tokenizer).from_config(tokenizer.get_config()).get_config() == tokenizer.get_config()
    tokenizer.save(tmp_path / "t.keras")
    loaded = keras.models.load_model(tmp_path / "t.keras")
    np.testing.assert_array_equal(loaded.encode(x), ids)
    np.testing.assert_allclose(loaded.decode(ids), tokenizer.decode(ids), rtol=1e-6)


def test_same_seed_same_tokenizer():
    def build(seed):
        keras.utils.set_random_seed(5)  # layers draw their initialisers' seeds when constructed
        tokenizer = small_image_tokenizer(seed)
        tokenizer._ensure_built()
        return tokenizer

    a, b, c = build(0), build(0), build(1)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    np.testing.assert_array_equal(a.encode(IMAGES), b.encode(IMAGES))
    assert not np.allclose(a.quantizer.codebook.numpy(), c.quantizer.codebook.numpy())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"filters": (8, 8)}, "filters"),
        ({"decoder_filters": "abc"}, "decoder_filters"),
        ({"codebook_size": -1}, "codebook_size"),
        ({"hidden_units": 0}, "hidden_units"),
    ],
)
def test_image_tokenizer_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=f"Received: {match}="):
        ImageTokenizer(**kwargs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"std": 0.0}, "std"),
        ({"mean": float("nan")}, "mean"),
        ({"filters": (8,)}, "filters"),
    ],
)
def test_sound_tokenizer_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=f"Received: {match}="):
        SoundTokenizer(**kwargs)


def test_bad_inputs_and_ids_raise_clear_errors():
    image, sound = small_image_tokenizer(), small_sound_tokenizer()
    with pytest.raises(ValueError, match="32, 32, 3"):
        image.encode(np.zeros((2, 28, 28, 3)))
    with pytest.raises(ValueError, match="28, 40"):
        sound.encode(np.zeros((2, 2000)))
    with pytest.raises(ValueError, match="\\(n, 17\\)"):
        image.decode(np.zeros((2, 8), int))
    with pytest.raises(ValueError, match="in \\[0, 8\\)"):
        sound.decode(np.full((1, 8), 8))
    with pytest.raises(TypeError, match="integers"):
        sound.decode(np.zeros((1, 8)))


def test_training_lowers_the_loss_restarts_dead_codes_and_is_seeded():
    def run():
        keras.utils.set_random_seed(0)
        tokenizer = SoundTokenizer(codebook_size=64, code_dim=4, filters=(8, 8), seed=0, mean=-5.0, std=3.0)
        return tokenizer, train_tokenizer(tokenizer, LOG_MELS.repeat(20, axis=0), epochs=3, batch_size=32, seed=0)

    tokenizer, history = run()
    assert history["loss"][-1] < history["loss"][0]
    assert history["usage"].shape == (4, 64) and len(history["perplexity"]) == 4 and len(history["loss"]) == 3
    assert history["restarted"][0] == history["dead_codes"][0] > 0  # the tiny initial codebook leaves codes unused
    again, _ = run()
    np.testing.assert_array_equal(again.quantizer.codebook.numpy(), tokenizer.quantizer.codebook.numpy())


def test_training_prints_one_progress_line_per_epoch_when_asked(capsys):
    tokenizer = SoundTokenizer(codebook_size=16, code_dim=4, filters=(8, 8), seed=0, mean=-5.0, std=3.0)
    history = train_tokenizer(tokenizer, LOG_MELS.repeat(4, axis=0), epochs=2, batch_size=32, progress="sound")
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(" · ")[:3] for line in lines] == [
        ["sound", f"epoch {epoch + 1}/2", f"loss {loss:.4g}"] for epoch, loss in enumerate(history["loss"])
    ]
    assert all(f"restarted {n}" in line for n, line in zip(history["restarted"], lines))


# ----------------------------------------------------------------------------- shipping


def test_save_and_load_round_trip_with_checksums(tmp_path):
    image, sound = small_image_tokenizer(), small_sound_tokenizer()
    ids_image, ids_sound = image.encode(IMAGES), sound.encode(LOG_MELS)
    meta = save_tokenizers(image, sound, tmp_path, metrics={"x": 1})
    for entry in meta["tokenizers"].values():
        assert hashlib.sha256((tmp_path / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]
    loaded_image, loaded_sound = load_tokenizers(tmp_path)
    np.testing.assert_array_equal(loaded_image.encode(IMAGES), ids_image)
    np.testing.assert_array_equal(loaded_sound.encode(LOG_MELS), ids_sound)
    with pytest.raises(FileExistsError, match="force"):
        save_tokenizers(image, sound, tmp_path)
    with pytest.raises(TypeError, match="SoundTokenizer"):
        save_tokenizers(image, image, tmp_path, force=True)


def test_load_refuses_missing_or_corrupted_weights(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m mmgen_lib.tokens"):
        load_tokenizers(tmp_path)
    save_tokenizers(small_image_tokenizer(), small_sound_tokenizer(), tmp_path)
    path = tmp_path / "sound_tokenizer.npz"
    payload = bytearray(path.read_bytes())
    payload[len(payload) // 2] ^= 0xFF  # one flipped byte
    path.write_bytes(bytes(payload))
    with pytest.raises(ValueError, match="sha256"):
        load_tokenizers(tmp_path)


def test_shipped_tokenizers_load_verified_with_the_documented_api():
    image, sound = load_tokenizers()
    assert (image.n_tokens, sound.n_tokens) == (17, 8)
    assert image.codebook_size >= 16 and sound.codebook_size >= 8
    assert image.encode(IMAGES).shape == (6, 17) and sound.encode(LOG_MELS).shape == (6, 8)
    meta = json.loads((REPO / "data" / "tokenizers" / "tokenizers.json").read_text())
    assert set(meta["tokenizers"]) == {"image", "sound"}


def test_regeneration_command_is_byte_for_byte_reproducible_and_refuses_to_overwrite(
    rebuilds_byte_for_byte, quick_retrain
):
    # The full recipe (`python -m mmgen_lib.tokens --out data/tokenizers --force`) takes minutes;
    # the same command on 256 examples for one epoch pins down the byte-for-byte property.
    first = rebuilds_byte_for_byte(
        "mmgen_lib.tokens", ("image_tokenizer.npz", "sound_tokenizer.npz", "tokenizers.json")
    )
    refused = quick_retrain("mmgen_lib.tokens", first)
    assert refused.returncode == 2 and "--force" in refused.stderr
