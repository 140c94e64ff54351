"""Tests of mmgen_lib.dual_encoder.DualEncoder: shapes, parameters, unit norm, loss, training, config, save/load."""

import keras
import numpy as np
import pytest

from mmgen_lib import losses
from mmgen_lib.dual_encoder import DualEncoder
from mmgen_lib.encoders import AudioEncoder, ImageEncoder, TextEncoder

VOCAB, SEQ, BATCH = 12, 6, 4


def make_inputs(seed=0, batch=BATCH):
    rng = np.random.default_rng(seed)
    ids = rng.integers(1, VOCAB, size=(batch, SEQ)).astype("int32")
    ids[:, -2:] = 0  # padding
    return {"text": ids, "image": rng.uniform(size=(batch, 32, 32, 3)).astype("float32")}


def make_model(seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    text = TextEncoder(VOCAB, embed_dim=4, units=8, kind="gru")
    image = ImageEncoder(filters=(2, 4, 4), output_dim=8, residual=False)
    kwargs = {"modalities": ("text", "image"), "embed_dim": 5, **kwargs}
    return DualEncoder(text, image, **kwargs)


def test_output_shapes_and_unit_norm():
    out = make_model()(make_inputs())
    assert set(out) == {"text", "image"}
    for z in out.values():
        z = keras.ops.convert_to_numpy(z)
        assert z.shape == (BATCH, 5)
        np.testing.assert_allclose(np.linalg.norm(z, axis=1), 1.0, rtol=1e-5)


def test_parameter_count():
    model = make_model()
    model(make_inputs())
    gru = 3 * (4 * 8 + 8 * 8 + 2 * 8)  # Keras GRU, reset_after=True: two bias vectors
    text = VOCAB * 4 + gru
    image = (3 * 3 * 3 * 2 + 2) + (3 * 3 * 2 * 4 + 4) + (3 * 3 * 4 * 4 + 4) + (4 * 4 * 4 * 8 + 8)
    projections = 2 * (8 * 5 + 5)
    assert model.count_params() == text + image + projections + 1  # + the temperature
    assert len(make_model(learn_temperature=False).similarity.trainable_weights) == 0


def test_any_two_modalities_audio_image():
    keras.utils.set_random_seed(0)
    model = DualEncoder(
        AudioEncoder(filters=(2, 4), output_dim=6),
        ImageEncoder(filters=(2, 4, 4), output_dim=6),
        modalities=("audio", "image"),
        embed_dim=3,
    )
    rng = np.random.default_rng(1)
    out = model(
        {
            "audio": rng.normal(size=(3, 28, 40)).astype("float32"),
            "image": rng.uniform(size=(3, 32, 32, 3)).astype("float32"),
        }
    )
    assert keras.ops.convert_to_numpy(out["audio"]).shape == (3, 3)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model.encode(rng.normal(size=(2, 28, 40)).astype("float32"), "audio")).shape, (2, 3)
    )


def test_encode_matches_call_and_pair_input():
    model = make_model()
    inputs = make_inputs()
    out = model(inputs)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(model.encode(inputs["image"], "image")),
        keras.ops.convert_to_numpy(out["image"]),
        rtol=1e-6,
    )
    pair = model((inputs["text"], inputs["image"]))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(pair["text"]), keras.ops.convert_to_numpy(out["text"]))


def test_compute_loss_is_symmetric_info_nce_with_current_temperature():
    model = make_model(temperature=0.2)
    inputs = make_inputs()
    out = model(inputs)
    z_t, z_v = (keras.ops.convert_to_numpy(out[m]) for m in ("text", "image"))
    expected = float(losses.info_nce_loss(z_t, z_v, 0.2))
    assert float(model.compute_loss(inputs, None, out)) == pytest.approx(expected, rel=1e-4)
    assert model.current_temperature == pytest.approx(0.2, rel=1e-5)


def test_fit_lowers_the_contrastive_loss_and_moves_the_temperature():
    model = make_model(temperature=0.5)
    inputs = make_inputs(seed=3, batch=8)
    model.compile(keras.optimizers.Adam(0.01))
    history = model.fit(inputs, epochs=15, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.current_temperature != pytest.approx(0.5, rel=1e-4)


def test_same_seed_same_output():
    inputs = make_inputs()
    a = keras.ops.convert_to_numpy(make_model(seed=7)(inputs)["text"])
    b = keras.ops.convert_to_numpy(make_model(seed=7)(inputs)["text"])
    np.testing.assert_array_equal(a, b)


def test_config_round_trip():
    model = make_model(temperature=0.1, learn_temperature=False)
    config = model.get_config()
    assert config["modalities"] == ["text", "image"] and config["embed_dim"] == 5
    restored = DualEncoder.from_config(config)
    assert restored.get_config() == config
    assert isinstance(restored.encoder_a, TextEncoder) and isinstance(restored.encoder_b, ImageEncoder)


def test_save_and_load_keras_file(tmp_path):
    model = make_model()
    inputs = make_inputs()
    model(inputs)
    model.similarity.log_scale.assign(2.5)
    path = tmp_path / "dual.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    for name in ("text", "image"):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(restored(inputs)[name]),
            keras.ops.convert_to_numpy(model(inputs)[name]),
            rtol=1e-5,
            atol=1e-6,
        )
    assert restored.current_temperature == pytest.approx(model.current_temperature)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"modalities": ("text", "text")}, ValueError, "modalities"),
        ({"modalities": "text"}, ValueError, "modalities"),
        ({"embed_dim": 0}, ValueError, "embed_dim"),
        ({"temperature": 0.0}, ValueError, "temperature"),
    ],
)
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_model(**kwargs)


def test_bad_encoder_and_inputs():
    with pytest.raises(TypeError, match="encoder_a"):
        DualEncoder("gru", ImageEncoder())
    model = make_model()
    with pytest.raises(ValueError, match="lack"):
        model({"text": make_inputs()["text"]})
    with pytest.raises(ValueError, match="modality"):
        model.encode(make_inputs()["image"], "audio")


def test_an_encoder_returning_a_grid_is_refused_with_a_clear_message():
    model = DualEncoder(TextEncoder(20, units=8), ImageEncoder(filters=(4,), output_dim=8, return_grid=True))
    inputs = {"text": np.ones((2, 5), "int32"), "image": np.zeros((2, 32, 32, 3), "float32")}
    with pytest.raises(ValueError, match=r"encoder_b must return one vector per example.*return_grid"):
        model(inputs)
