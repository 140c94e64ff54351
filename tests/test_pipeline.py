"""Spectrograms (against a NumPy STFT), model-ready arrays and tf.data pipelines."""

import numpy as np
import pytest

from mmgen_lib import data, pipeline
from mmgen_lib.tokenizer import shapesworld_tokenizer


@pytest.fixture(scope="module")
def val():
    return data.load_split("val")


@pytest.fixture(scope="module")
def arrays(val):
    return pipeline.split_arrays(val, shapesworld_tokenizer())


def numpy_spectrogram(wave, frame_length=256, frame_step=64):
    frames = np.lib.stride_tricks.sliding_window_view(wave, frame_length)[::frame_step]  # (frames, 256)
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(frame_length) / frame_length)  # periodic Hann
    return np.abs(np.fft.rfft(frames * window, axis=-1))


def test_spectrogram_matches_numpy_stft(val):
    expected = numpy_spectrogram(val.audio[0].astype(np.float64))
    actual = pipeline.spectrogram(val.audio[0]).numpy()
    assert actual.shape == (28, 129)
    np.testing.assert_allclose(actual, expected, rtol=1e-3, atol=1e-3)


def test_log_mel_shapes_for_one_clip_and_a_batch(val):
    assert pipeline.log_mel_spectrogram(val.audio[0]).shape == (28, pipeline.NUM_MEL_BINS)
    assert pipeline.log_mel_spectrogram(val.audio[:3]).shape == (3, 28, pipeline.NUM_MEL_BINS)


def test_log_mel_is_brightest_near_the_pitch(val):
    spec = pipeline.log_mel_spectrogram(val.audio).numpy().mean(axis=1)  # (n, bins)
    size = val.label("size")
    assert spec[size == 0].argmax(axis=1).mean() > spec[size == 1].argmax(axis=1).mean()  # small = higher


def test_spectrogram_rejects_bad_audio():
    with pytest.raises(ValueError, match="at least 256 samples"):
        pipeline.spectrogram(np.zeros(100, np.float32))
    with pytest.raises(ValueError, match=r"\(samples,\) or \(batch, samples\)"):
        pipeline.spectrogram(np.zeros((2, 2, 300), np.float32))


def test_split_arrays_keys_shapes_and_ranges(arrays, val):
    n = len(val)
    expected = {
        "image": (n, 32, 32, 3),
        "audio": (n, 2000),
        "spectrogram": (n, 28, 40),
        "caption_ids": (n, 16),
        "question_ids": (n, 8),
        "answer_ids": (n,),
        "material": (n,),
    }
    for key, shape in expected.items():
        assert arrays[key].shape == shape, key
    assert 0.0 <= arrays["image"].min() and arrays["image"].max() <= 1.0
    assert arrays["image"].dtype == np.float32 and arrays["caption_ids"].dtype == np.int32


def test_split_arrays_without_spectrograms_skips_only_them(arrays, val):
    lean = pipeline.split_arrays(val, shapesworld_tokenizer(), spectrograms=False)
    assert set(lean) == set(arrays) - {"spectrogram"}
    for key, value in lean.items():
        np.testing.assert_array_equal(value, arrays[key], err_msg=key)
    with pytest.raises(TypeError, match="spectrograms must be True or False"):
        pipeline.split_arrays(val, spectrograms="no")


def test_dataset_yields_dicts_keyed_by_modality(arrays):
    ds = pipeline.make_dataset(arrays, inputs=("image", "spectrogram"), targets=("material",), batch_size=32)
    inputs, targets = next(iter(ds))
    assert set(inputs) == {"image", "spectrogram"} and set(targets) == {"material"}
    assert inputs["image"].shape == (32, 32, 32, 3)
    assert sum(int(t["material"].shape[0]) for _, t in ds) == len(arrays["material"])


def test_seeded_shuffling_is_repeatable_and_seed_dependent(arrays):
    def order(seed):
        ds = pipeline.make_dataset(arrays, inputs=("material",), batch_size=500, shuffle=True, seed=seed)
        return next(iter(ds))["material"].numpy()

    np.testing.assert_array_equal(order(1), order(1))
    assert not np.array_equal(order(1), order(2))


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(inputs="image"), TypeError, "sequences of names"),
        (dict(inputs=()), ValueError, "at least one"),
        (dict(inputs=("pixels",)), ValueError, "no \\['pixels'\\]"),
        (dict(inputs=("image",), batch_size=0), ValueError, "batch_size must be a positive int"),
    ],
)
def test_make_dataset_rejects_bad_arguments(arrays, kwargs, error, match):
    with pytest.raises(error, match=match):
        pipeline.make_dataset(arrays, **kwargs)


def test_make_dataset_rejects_unequal_lengths(arrays):
    with pytest.raises(ValueError, match="same length"):
        pipeline.make_dataset({"a": np.zeros(3), "b": np.zeros(4)}, inputs=("a",), targets=("b",))
