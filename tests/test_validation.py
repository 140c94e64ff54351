"""mmgen_lib.validation: one check per kind of argument, used by every layer (issue 11)."""

import numpy as np
import pytest

from mmgen_lib import validation


@pytest.mark.parametrize("value", [3, np.int64(3), np.int32(3), np.uint8(3)])
def test_positive_int_accepts_any_integral_number(value):
    result = validation.positive_int(value, "units")
    assert result == 3 and type(result) is int


@pytest.mark.parametrize("value", [True, np.bool_(True), 0, -1, 2.0, "3", None])
def test_positive_int_refuses_bools_floats_and_non_positive(value):
    with pytest.raises(ValueError, match=r"units must be a positive int. Received: units="):
        validation.positive_int(value, "units")


def test_integer_bounds_and_optional_none():
    assert validation.integer(np.int64(4), "k", minimum=0, maximum=4) == 4
    with pytest.raises(ValueError, match=r"k must be an int in \[0, 4\]. Received: k=5"):
        validation.integer(5, "k", minimum=0, maximum=4)
    assert validation.positive_int(None, "context_dim", allow_none=True) is None
    with pytest.raises(ValueError, match="positive int or None"):
        validation.positive_int(0, "context_dim", allow_none=True)


def test_numbers_rates_and_probabilities():
    assert validation.number(np.float32(0.5), "beta", minimum=0) == 0.5
    for bad in (True, float("nan"), float("inf"), -0.1, "1"):
        with pytest.raises(ValueError, match="beta must be a number >= 0. Received: beta="):
            validation.number(bad, "beta", minimum=0)
    with pytest.raises(ValueError, match=r"in \(0, 1\)"):
        validation.number(1, "threshold", 0, 1, include_minimum=False, include_maximum=False)
    assert validation.rate(0) == 0.0
    with pytest.raises(ValueError, match=r"dropout must be a float in \[0, 1\)"):
        validation.rate(1.0)
    assert validation.probability(1, "p") == 1.0
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\]"):
        validation.probability(1.5, "p")


def test_positive_int_sequence():
    assert validation.positive_int_sequence([np.int64(8), 16], "filters") == (8, 16)
    for bad in ("16", [], [8, 0], 8):
        with pytest.raises(ValueError, match="filters"):
            validation.positive_int_sequence(bad, "filters")
    with pytest.raises(ValueError, match="filters must be a sequence of 3 positive ints"):
        validation.positive_int_sequence([1, 2], "filters", 3, 3)


def test_the_image_rule_scales_uint8_and_refuses_unscaled_floats():
    pixels = np.array([0, 128, 255], np.uint8).reshape(1, 1, 3, 1).repeat(3, axis=-1)
    np.testing.assert_allclose(validation.image_batch(pixels), pixels / 255.0)
    assert validation.image_batch(pixels).dtype == np.float32
    with pytest.raises(ValueError, match=r"Received: images with values in \[0, 255\]"):
        validation.image_batch(pixels.astype("float32"))
    with pytest.raises(ValueError, match=r"RGB images \(batch, height, width, 3\). Received: images with shape"):
        validation.image_batch(np.zeros((2, 32, 32)))
    with pytest.raises(ValueError, match="must be 32x32 images"):
        validation.image_batch(np.zeros((2, 16, 16, 3)), size=(32, 32))
    with pytest.raises(TypeError, match="uint8 or float pixels"):
        validation.image_batch(np.zeros((1, 2, 2, 3), bool))
    assert validation.image_batch(np.zeros((1, 2, 2, 1)), channels=None).shape == (1, 2, 2, 1)


def test_scale_uint8_images_on_tensors():
    import keras

    x = keras.ops.convert_to_tensor(np.full((1, 2, 2, 3), 255, np.uint8))
    assert float(keras.ops.max(validation.scale_uint8_images(x))) == 1.0
    y = keras.ops.ones((1, 2, 2, 3))
    assert validation.scale_uint8_images(y) is y


def test_masks():
    np.testing.assert_array_equal(validation.mask([[1, 0]], 2), [[1.0, 0.0]])
    with pytest.raises(ValueError, match=r"mask must be \(batch, 3\)"):
        validation.mask([[1, 0]], 3)
    with pytest.raises(ValueError, match="only 0 and 1"):
        validation.mask([[5, 0]], 2)
    with pytest.raises(ValueError, match="all-zero row"):
        validation.modality_mask(np.array([[0, 0], [1, 1]]), 2)
    assert tuple(validation.modality_mask(np.array([[0, 0]]), 2, require_one=False).shape) == (1, 2)


def test_paired_arrays_counts_examples_and_names_the_odd_one_out():
    assert validation.paired_arrays(ids=np.zeros((5, 16)), z=np.zeros((5, 2)), labels=np.zeros(5)) == 5
    with pytest.raises(ValueError, match=r"same number of examples \(one row per example\).*'z': 4"):
        validation.paired_arrays(ids=np.zeros((5, 16)), z=np.zeros((4, 2)))
    with pytest.raises(TypeError, match="z must be a NumPy array. Received: list"):
        validation.paired_arrays(ids=np.zeros((5, 16)), z=[[0.0]] * 5)
