"""Tests of mmgen_lib.image_losses: object_area, shifted_targets, shift_tolerant_mse, ShiftTolerantMSE."""

import keras
import numpy as np
import pytest

from mmgen_lib.image_losses import ShiftTolerantMSE, object_area, shift_tolerant_mse, shifted_targets


def scene(row=12, col=14, size=6, value=0.9, channel=0, n_background=0.16):
    image = np.full((32, 32, 3), n_background, "float32")
    image[row : row + size, col : col + size, channel] = value
    return image


def as_numpy(value):
    return keras.ops.convert_to_numpy(value)


def numpy_shifts(y_true, s):
    """Every (dy, dx) shift of ``y_true`` with mirrored borders, row by row, as the library orders them."""
    padded = np.pad(y_true, [(0, 0), (s, s), (s, s), (0, 0)], mode="symmetric")
    return [padded[:, s + dy : s + dy + 32, s + dx : s + dx + 32] for dy in range(-s, s + 1) for dx in range(-s, s + 1)]


def numpy_reference(y_true, y_pred, max_shift, area_normalize, threshold=0.4):
    errors = [((y_pred - target) ** 2).sum(axis=(1, 2, 3)) for target in numpy_shifts(y_true, max_shift)]
    best = np.min(errors, axis=0)
    pixels = np.maximum((y_true.max(-1) > threshold).sum(axis=(1, 2)), 1) if area_normalize else 32 * 32
    return best / (3 * pixels)


def test_object_area_counts_bright_pixels():
    images = np.stack([scene(size=6), scene(size=3), np.full((32, 32, 3), 0.16, "float32")])
    np.testing.assert_allclose(as_numpy(object_area(images)), [36, 9, 0])


def test_shifted_targets_are_all_shifts_with_the_identity_in_the_middle():
    images = scene()[None]
    shifts = shifted_targets(images, max_shift=2)
    assert len(shifts) == 25
    np.testing.assert_array_equal(as_numpy(shifts[12]), images)
    # shifts[0] is (dy, dx) = (-2, -2): pixel (i, j) shows the original pixel (i - 2, j - 2)
    np.testing.assert_array_equal(as_numpy(shifts[0])[0, 14:20, 16:22, 0], np.full((6, 6), 0.9, "float32"))


@pytest.mark.parametrize("max_shift, area_normalize", [(0, False), (2, False), (2, True), (1, True)])
def test_matches_the_numpy_reference(max_shift, area_normalize):
    rng = np.random.default_rng(0)
    y_true = np.stack([scene(10, 10, 8), scene(20, 5, 4, channel=2)]) + rng.normal(0, 0.02, (2, 32, 32, 3))
    y_pred = rng.random((2, 32, 32, 3)).astype("float32")
    got = as_numpy(shift_tolerant_mse(y_true.astype("float32"), y_pred, max_shift, area_normalize))
    np.testing.assert_allclose(got, numpy_reference(y_true, y_pred, max_shift, area_normalize), rtol=1e-5)


def test_without_shifts_and_area_it_is_plain_mse():
    rng = np.random.default_rng(1)
    y_true, y_pred = rng.random((2, 4, 32, 32, 3)).astype("float32")
    got = as_numpy(shift_tolerant_mse(y_true, y_pred, max_shift=0, area_normalize=False))
    np.testing.assert_allclose(got, ((y_true - y_pred) ** 2).mean(axis=(1, 2, 3)), rtol=1e-5)


def test_a_shifted_copy_costs_nothing_but_plain_mse_punishes_it():
    target = scene(12, 12)[None]
    moved = scene(14, 11)[None]  # 2 px down, 1 px left: within the tolerance
    assert as_numpy(shift_tolerant_mse(target, moved, max_shift=2))[0] == pytest.approx(0.0, abs=1e-7)
    assert as_numpy(shift_tolerant_mse(target, moved, max_shift=0, area_normalize=False))[0] > 1e-3


def test_area_normalisation_makes_a_small_object_count_as_much_as_a_large_one():
    big, small = scene(size=12), scene(size=4)
    missed = np.full((2, 32, 32, 3), 0.16, "float32")  # a decoder that draws nothing
    plain = as_numpy(shift_tolerant_mse(np.stack([big, small]), missed, 0, area_normalize=False))
    normalised = as_numpy(shift_tolerant_mse(np.stack([big, small]), missed, 0, area_normalize=True))
    assert plain[0] / plain[1] == pytest.approx(9.0, rel=1e-4)  # 144 vs 16 pixels
    assert normalised[0] == pytest.approx(normalised[1], rel=1e-4)


def test_loss_class_reduces_over_the_batch_and_round_trips_its_config():
    rng = np.random.default_rng(2)
    y_true, y_pred = rng.random((2, 3, 32, 32, 3)).astype("float32")
    loss = ShiftTolerantMSE(max_shift=1, area_normalize=False, threshold=0.5)
    expected = numpy_reference(y_true, y_pred, 1, False).mean()
    assert float(as_numpy(loss(y_true, y_pred))) == pytest.approx(expected, rel=1e-5)
    clone = ShiftTolerantMSE.from_config(loss.get_config())
    assert (clone.max_shift, clone.area_normalize, clone.threshold) == (1, False, 0.5)
    assert keras.losses.deserialize(keras.losses.serialize(loss)).max_shift == 1


def test_gradients_flow_to_the_prediction():
    import tensorflow as tf

    y_true = scene()[None]
    y_pred = tf.Variable(np.full((1, 32, 32, 3), 0.5, "float32"))
    with tf.GradientTape() as tape:
        value = tf.reduce_mean(shift_tolerant_mse(y_true, y_pred))
    assert float(tf.reduce_sum(tf.abs(tape.gradient(value, y_pred)))) > 0


def test_gradient_is_the_squared_error_to_the_best_shift_only():
    """The gradient of min over shifts: 2 (y_pred - best shifted target) / (C * area), as NumPy computes it."""
    import tensorflow as tf

    rng = np.random.default_rng(0)
    y_true = np.stack([scene(row=10 + k, col=8 + 2 * k) for k in range(3)])
    y_pred_values = np.clip(y_true + 0.2 * rng.standard_normal(y_true.shape), 0, 1).astype("float32")
    y_pred_values = np.roll(y_pred_values, 1, axis=2)  # the best shift is not the identity
    y_pred = tf.Variable(y_pred_values)
    with tf.GradientTape() as tape:
        value = tf.reduce_sum(shift_tolerant_mse(y_true, y_pred, max_shift=2))
    shifts = numpy_shifts(y_true, 2)
    errors = np.stack([((y_pred_values - t) ** 2).sum(axis=(1, 2, 3)) for t in shifts])  # (25, 3)
    best = np.stack([shifts[k][b] for b, k in enumerate(errors.argmin(0))])
    area = np.maximum((y_true.max(-1) > 0.4).sum(axis=(1, 2)), 1)[:, None, None, None]
    np.testing.assert_allclose(
        tape.gradient(value, y_pred).numpy(), 2 * (y_pred_values - best) / (3 * area), rtol=1e-4, atol=1e-7
    )
    np.testing.assert_allclose(float(value), (errors.min(0) / (3 * area[:, 0, 0, 0])).sum(), rtol=1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"max_shift": -1}, "max_shift"),
        ({"max_shift": 9}, "max_shift"),
        ({"max_shift": 1.5}, "max_shift"),
        ({"threshold": 0.0}, "threshold"),
        ({"threshold": 1.5}, "threshold"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        ShiftTolerantMSE(**kwargs)


def test_bad_shapes_raise_value_error():
    with pytest.raises(ValueError, match="same image shape"):
        shift_tolerant_mse(np.zeros((1, 32, 32, 3)), np.zeros((1, 16, 16, 3)))
    with pytest.raises(ValueError, match="batch, height, width"):
        object_area(np.zeros((32, 32, 3)))


def test_uint8_targets_are_scaled_and_unscaled_float_targets_refused():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (2, 32, 32, 3)).astype(np.uint8)
    prediction = rng.random((2, 32, 32, 3)).astype("float32")
    scaled = np.asarray(shift_tolerant_mse(pixels.astype("float32") / 255.0, prediction))
    np.testing.assert_allclose(np.asarray(shift_tolerant_mse(pixels, prediction)), scaled, rtol=1e-6)
    assert np.all(scaled < 10), "a uint8 target must be compared in [0, 1], not 0-255"
    with pytest.raises(ValueError, match=r"floats in \[0, 1\] or uint8.*Received: y_true with values in \[0, 255\]"):
        shift_tolerant_mse(pixels.astype("float32"), prediction)
    np.testing.assert_allclose(np.asarray(object_area(pixels)), np.asarray(object_area(pixels / 255.0)))
