"""Exercise checks of lesson 01 (multimodal data)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import as_array, as_number, call_answer, expect_function, fail, passed, show

__all__ = ["check_dominant_frequency", "check_mean_object_color", "check_pad_batch"]


def _reference_dominant_frequency(wave, sample_rate):
    spectrum = np.abs(np.fft.rfft(wave))
    return np.fft.rfftfreq(len(wave), 1 / sample_rate)[np.argmax(spectrum)]


def _waves(split, sample_rate):
    """Five clips of the split, then two tones the learner has not seen (so no constant fits)."""
    yield from ((f"clip {i}", np.asarray(split.audio[i])) for i in range(5))
    t = np.arange(1600) / sample_rate
    yield "a 1,250 Hz tone", np.sin(2 * np.pi * 1250 * t) + 0.5 * np.sin(2 * np.pi * 400 * t)
    yield "a 95 Hz tone", 0.3 * np.sin(2 * np.pi * 95 * t + 1.0)


def check_dominant_frequency(dominant_frequency, split) -> None:
    """Exercise 1: ``dominant_frequency(wave, sample_rate)`` -> the loudest frequency in Hz."""
    from mmgen_lib.data import SAMPLE_RATE

    expect_function(dominant_frequency, "dominant_frequency", "dominant_frequency(wave, sample_rate)")
    for what, wave in _waves(split, SAMPLE_RATE):
        expected = _reference_dominant_frequency(wave, SAMPLE_RATE)
        call = f"dominant_frequency({what}, {SAMPLE_RATE})"
        got = as_number(
            call_answer(dominant_frequency, call, wave.copy(), SAMPLE_RATE),
            call,
            "return one frequency in Hz, e.g. `float(freqs[np.argmax(magnitudes)])`",
        )
        if np.isclose(got, expected, atol=1e-3):
            continue
        bin_width = SAMPLE_RATE / len(wave)
        if np.isclose(got, expected / bin_width):
            fail(
                "for {what} you returned {got}, which is the FFT bin index, not a frequency in Hz",
                "convert with `np.fft.rfftfreq(len(wave), 1 / sample_rate)`",
                what=what,
                got=show(got),
            )
        if np.isclose(got, np.fft.rfftfreq(len(wave), 1 / SAMPLE_RATE)[np.argmax(np.fft.rfft(wave).real)]):
            fail(
                "for {what} you returned {got} Hz, the argmax of the spectrum's real part; the loudest is {expected} Hz",
                "take `np.abs` of `np.fft.rfft(wave)` (magnitudes, not complex values) before the argmax",
                what=what,
                got=show(got),
                expected=show(expected),
            )
        if np.isclose(abs(got - expected), bin_width, atol=1e-3):
            fail(
                "for {what} you returned {got} Hz, one frequency bin ({width} Hz) away from {expected} Hz",
                "index the frequencies with the argmax itself: `np.fft.rfftfreq(len(wave), 1 / sample_rate)[k]`",
                what=what,
                got=show(got),
                width=show(bin_width),
                expected=show(expected),
            )
        if np.isclose(got, 0.0):
            fail(
                "for {what} you returned 0 Hz: that is the constant (DC) term",
                "take the argmax over the magnitude spectrum `np.abs(np.fft.rfft(wave))`",
                what=what,
            )
        fail(
            "for {what} you returned {got} Hz, but its loudest frequency is {expected} Hz",
            "compute it from `wave` (each call gets another clip): argmax of np.abs(np.fft.rfft(wave)), "
            "converted to Hz with np.fft.rfftfreq",
            what=what,
            got=show(got),
            expected=show(expected),
        )
    passed("dominant frequencies match for 5 clips and 2 new tones")


def _reference_mean_color(image):
    from mmgen_lib.data import BACKGROUND

    image = np.asarray(image, np.float64)
    mask = np.abs(image - BACKGROUND).max(axis=-1) > 60
    return image[mask].mean(axis=0)


def check_mean_object_color(mean_object_color, split) -> None:
    """Exercise 2: ``mean_object_color(image)`` -> mean RGB (3,) over the object's pixels only."""
    expect_function(mean_object_color, "mean_object_color", "mean_object_color(image)")
    for i in range(5):
        image = split.images[i]
        expected = _reference_mean_color(image)
        call = f"mean_object_color(images[{i}])"
        got = as_array(
            call_answer(mean_object_color, call, image.copy()),
            call,
            (3,),
            "average over the masked pixels only: `image[mask].mean(axis=0)`, three numbers",
        )
        whole = image.reshape(-1, 3).mean(axis=0)
        if np.allclose(got, whole, atol=0.5):
            fail(
                "you averaged the whole image, background included",
                "build a mask of the object's pixels first: far from the background level data.BACKGROUND",
            )
        if not np.allclose(got, expected, atol=2.0):
            fail(
                "for image {i} you got {got}, expected about {expected}",
                "a pixel belongs to the object when a channel differs from data.BACKGROUND by more than 60",
                i=i,
                got=show(np.round(got, 1)),
                expected=show(np.round(expected, 1)),
            )
    passed("mean object colours match for 5 images")


def check_pad_batch(pad_batch, tokenizer) -> None:
    """Exercise 3: ``pad_batch(list_of_id_lists, max_len)`` -> (n, max_len) int array, right-padded with 0."""
    expect_function(pad_batch, "pad_batch", "pad_batch(sequences, max_len)")
    for texts, max_len in (
        (["a big red circle at the top", "where is it?", "what is it made of?"], 12),
        (["is it wood", "a small green triangle on the left made of glass"], 14),
    ):
        sequences = [tokenizer.encode(t) for t in texts]
        expected = tokenizer.encode_batch(texts, max_len=max_len)
        call = f"pad_batch(sequences, {max_len})"
        got = as_array(
            call_answer(pad_batch, call, [list(s) for s in sequences], max_len),
            call,
            (len(texts), max_len),
            "one row per sequence, max_len columns",
        )
        if not np.issubdtype(got.dtype, np.integer):
            fail(
                "the result has dtype {dtype}; token ids must be integers",
                "use `np.zeros(..., dtype=np.int32)`",
                dtype=got.dtype,
            )
        left_padded = np.zeros_like(expected)
        for row, ids in enumerate(sequences):
            left_padded[row, max_len - min(len(ids), max_len) :] = ids[:max_len]
        if np.array_equal(got, left_padded) or ((got[:, 0] == 0) & (got[:, -1] != 0)).any():
            fail("the padding is on the left", "write the ids at the START of each row and leave zeros after them")
        if not np.array_equal(got, expected):
            row = int(np.argmax((got != expected).any(axis=1)))
            fail(
                "{call}: row {row} is {got}, expected {expected}",
                "copy each sequence into the start of its row (cut it at max_len); pad with 0 (the <pad> id)",
                call=call,
                row=row,
                got=got[row].tolist(),
                expected=expected[row].tolist(),
            )
    passed("sequences are right-padded with 0 to max_len")
