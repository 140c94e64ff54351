"""Tests of mmgen_lib.decoders.ImageDecoder (lesson 09)."""

import keras
import numpy as np
import pytest

from mmgen_lib.decoders import ImageDecoder


def vectors(n=3, dim=8, seed=0):
    return np.random.default_rng(seed).normal(size=(n, dim)).astype("float32")


def small(**kwargs):
    return ImageDecoder(hidden_units=16, filters=(8, 4, 4), **kwargs)


def as_numpy(value):
    return keras.ops.convert_to_numpy(value)


@pytest.mark.parametrize("compositing", [True, False])
def test_output_is_a_32x32_rgb_image_in_unit_range(compositing):
    keras.utils.set_random_seed(0)
    out = as_numpy(small(compositing=compositing)(vectors()))
    assert out.shape == (3, 32, 32, 3)
    assert out.min() >= 0.0 and out.max() <= 1.0


@pytest.mark.parametrize("filters", [(8,), (8, 4), (8, 4, 4, 4), (4, 4, 4, 4, 4)])
def test_any_number_of_stages_reaches_32x32(filters):
    decoder = ImageDecoder(hidden_units=8, filters=filters)
    assert decoder.start_size == 32 // 2 ** len(filters)
    assert tuple(decoder(vectors(2)).shape) == (2, 32, 32, 3)


def test_parameter_count_is_exact():
    decoder = small()
    decoder.build((None, 8))
    hidden = 8 * 16 + 16
    to_grid = 16 * (4 * 4 * 8) + 4 * 4 * 8
    ups = (4 * 4 * 8 * 8 + 8) + (4 * 4 * 8 * 4 + 4) + (4 * 4 * 4 * 4 + 4)
    mask, colour, background = 3 * 3 * 4 + 1, 16 * 3 + 3, 16 * 3 + 3
    assert decoder.count_params() == hidden + to_grid + ups + mask + colour + background == 4267
    naive = small(compositing=False)
    naive.build((None, 8))
    assert naive.count_params() == hidden + to_grid + ups + (3 * 3 * 4 * 3 + 3) == 4239


def test_compositing_matches_the_numpy_formula():
    keras.utils.set_random_seed(1)
    decoder = small()
    parts = {k: as_numpy(v) for k, v in decoder.decompose(vectors()).items()}
    assert parts["mask"].shape == (3, 32, 32, 1)
    assert parts["colour"].shape == parts["background"].shape == (3, 3)
    expected = (
        parts["mask"] * parts["colour"][:, None, None, :] + (1 - parts["mask"]) * parts["background"][:, None, None, :]
    )
    np.testing.assert_allclose(parts["image"], expected, atol=1e-6)
    np.testing.assert_allclose(as_numpy(decoder(vectors())), expected, atol=1e-6)


def test_a_pixel_is_between_background_and_colour():
    keras.utils.set_random_seed(2)
    parts = {k: as_numpy(v) for k, v in small().decompose(vectors()).items()}
    low = np.minimum(parts["colour"], parts["background"])[:, None, None, :]
    high = np.maximum(parts["colour"], parts["background"])[:, None, None, :]
    assert np.all(parts["image"] >= low - 1e-6) and np.all(parts["image"] <= high + 1e-6)


def test_decompose_needs_compositing():
    with pytest.raises(ValueError, match="compositing=True"):
        small(compositing=False).decompose(vectors())


@pytest.mark.parametrize("compositing", [True, False])
def test_config_round_trip(compositing):
    decoder = small(compositing=compositing, name="dec")
    config = decoder.get_config()
    assert config["hidden_units"] == 16 and config["filters"] == [8, 4, 4] and config["compositing"] is compositing
    clone = ImageDecoder.from_config(config)
    assert clone.get_config() == config


def test_keras_save_and_load_give_equal_outputs(tmp_path):
    keras.utils.set_random_seed(3)
    inputs = keras.Input((8,))
    model = keras.Model(inputs, small()(inputs))
    path = tmp_path / "decoder.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(as_numpy(loaded(vectors())), as_numpy(model(vectors())), atol=1e-6)


def test_same_seed_same_output():
    outputs = []
    for _ in range(2):
        keras.utils.set_random_seed(4)
        outputs.append(as_numpy(small()(vectors())))
    np.testing.assert_array_equal(outputs[0], outputs[1])


def test_trains_a_few_steps_and_the_loss_falls():
    keras.utils.set_random_seed(5)
    x = vectors(32)
    y = np.full((32, 32, 32, 3), 0.16, "float32")
    y[:, 10:20, 10:20, 0] = 0.9
    inputs = keras.Input((8,))
    model = keras.Model(inputs, small()(inputs))
    model.compile(keras.optimizers.Adam(1e-2), loss="mse")
    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"hidden_units": 0}, "hidden_units"),
        ({"hidden_units": 2.5}, "hidden_units"),
        ({"filters": ()}, "filters"),
        ({"filters": (8, 8, 8, 8, 8, 8)}, "filters"),
        ({"filters": (8, -1)}, "filters"),
        ({"filters": "abc"}, "filters"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ImageDecoder(**kwargs)


def test_compositing_must_be_a_bool():
    with pytest.raises(TypeError, match="compositing"):
        ImageDecoder(compositing="yes")


def test_input_must_be_a_batch_of_vectors():
    with pytest.raises(ValueError, match="latent_dim"):
        small()(np.zeros((2, 4, 4), "float32"))
