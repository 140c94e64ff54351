"""Exercise checks of lesson 01 (multimodal data)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import check_shape, fail, passed

__all__ = ["check_dominant_frequency", "check_mean_object_color", "check_pad_batch"]


def _reference_dominant_frequency(wave, sample_rate):
    spectrum = np.abs(np.fft.rfft(wave))
    return np.fft.rfftfreq(len(wave), 1 / sample_rate)[np.argmax(spectrum)]


def check_dominant_frequency(dominant_frequency, split) -> None:
    """Exercise 1: ``dominant_frequency(wave, sample_rate)`` -> the loudest frequency in Hz."""
    from mmgen_lib.data import SAMPLE_RATE

    if not callable(dominant_frequency):
        fail("`dominant_frequency` should be a function", "define it with `def dominant_frequency(wave, sample_rate):`")
    for i in range(5):
        wave = split.audio[i]
        expected = _reference_dominant_frequency(wave, SAMPLE_RATE)
        got = dominant_frequency(wave, SAMPLE_RATE)
        if got is None:
            fail("`dominant_frequency` returned None", "`return` the frequency")
        got = float(np.asarray(got))
        bin_index = expected / (SAMPLE_RATE / len(wave))
        if np.isclose(got, bin_index):
            fail(f"for clip {i} you returned {got:g}, which is the FFT bin index, not a frequency in Hz",
                 "convert with `np.fft.rfftfreq(len(wave), 1 / sample_rate)`")
        if not np.isclose(got, expected, atol=1e-3):
            fail(f"for clip {i} you returned {got:.1f} Hz, but its loudest frequency is {expected:.1f} Hz",
                 "take `np.abs` of `np.fft.rfft(wave)` (magnitudes, not complex values) and its argmax")
    passed("dominant frequencies match for 5 clips")


def _reference_mean_color(image):
    from mmgen_lib.data import BACKGROUND

    image = np.asarray(image, np.float64)
    mask = np.abs(image - BACKGROUND).max(axis=-1) > 60
    return image[mask].mean(axis=0)


def check_mean_object_color(mean_object_color, split) -> None:
    """Exercise 2: ``mean_object_color(image)`` -> mean RGB (3,) over the object's pixels only."""
    if not callable(mean_object_color):
        fail("`mean_object_color` should be a function", "define it with `def mean_object_color(image):`")
    for i in range(5):
        image = split.images[i]
        expected = _reference_mean_color(image)
        got = check_shape(mean_object_color(image), (3,), f"mean_object_color(images[{i}])",
                          "average over the masked pixels only: `image[mask].mean(axis=0)`")
        whole = image.reshape(-1, 3).mean(axis=0)
        if np.allclose(got, whole, atol=0.5):
            fail("you averaged the whole image, background included",
                 "build a mask of the object's pixels first: far from the background level data.BACKGROUND")
        if not np.allclose(got, expected, atol=2.0):
            fail(f"for image {i} you got {np.round(got, 1).tolist()}, expected about {np.round(expected, 1).tolist()}",
                 "a pixel belongs to the object when a channel differs from data.BACKGROUND by more than 60")
    passed("mean object colours match for 5 images")


def check_pad_batch(pad_batch, tokenizer) -> None:
    """Exercise 3: ``pad_batch(list_of_id_lists, max_len)`` -> (n, max_len) int array, right-padded with 0."""
    if not callable(pad_batch):
        fail("`pad_batch` should be a function", "define it with `def pad_batch(sequences, max_len):`")
    texts = ["a big red circle at the top", "where is it?", "what is it made of?"]
    sequences = [tokenizer.encode(t) for t in texts]
    expected = tokenizer.encode_batch(texts, max_len=12)
    got = check_shape(pad_batch(sequences, 12), (3, 12), "pad_batch(sequences, 12)",
                      "one row per sequence, max_len columns")
    if not np.issubdtype(got.dtype, np.integer):
        fail(f"the result has dtype {got.dtype}; token ids must be integers", "use `np.zeros(..., dtype=np.int32)`")
    if np.array_equal(got, np.flip(expected, axis=1)) or (got[:, 0] == 0).any():
        fail("the padding is on the left", "write the ids at the START of each row and leave zeros after them")
    if not np.array_equal(got, expected):
        row = int(np.argmax((got != expected).any(axis=1)))
        fail(f"row {row} is {got[row].tolist()}, expected {expected[row].tolist()}",
             "copy each sequence into the start of its row; pad with 0 (the <pad> id)")
    passed("sequences are right-padded with 0 to max_len")
