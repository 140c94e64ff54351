"""Exercise checks of lesson 04 (the audio encoder)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import as_array, as_number, call_answer, check_close, expect_function, fail, passed, show

__all__ = ["check_frame_signal", "check_hann_window", "check_dominant_frequency"]


def check_frame_signal(frame_signal) -> None:
    """Exercise 1: whole frames of a 1-D signal, compared with ``tf.signal.frame``."""
    import tensorflow as tf

    expect_function(frame_signal, "frame_signal", "frame_signal(x, frame_length, frame_step)")
    x = np.arange(2000, dtype=np.float32)
    for frame_length, frame_step in ((256, 64), (10, 3), (7, 7)):
        expected = tf.signal.frame(x, frame_length, frame_step).numpy()
        call = f"frame_signal(x, {frame_length}, {frame_step})"
        result = as_array(
            call_answer(frame_signal, call, x.copy(), frame_length, frame_step),
            call,
            hint="stack the frames into one (n_frames, frame_length) array",
        )
        if result.ndim == 2 and result.shape[0] == expected.shape[0] + 1:
            fail(
                "{call} has {n} frames, one too many: the last one does not fit inside x",
                "n_frames = 1 + (len(x) - frame_length) // frame_step",
                call=call,
                n=result.shape[0],
            )
        if result.ndim == 2 and result.shape[0] == expected.shape[0] - 1:
            fail(
                "{call} has {n} frames, one too few", "the first frame starts at sample 0", call=call, n=result.shape[0]
            )
        if (
            frame_step != frame_length
            and result.shape == expected.shape
            and result.shape[0] > 1
            and np.allclose(result[1, 0], frame_length)
        ):
            fail("{call}: frames follow each other without overlap", "frame m starts at m * frame_step", call=call)
        check_close(result, expected, call, hint="frame m is x[m * frame_step : m * frame_step + frame_length]")
    passed("your frames match tf.signal.frame")


def check_hann_window(hann_window) -> None:
    """Exercise 2: the periodic Hann window, compared with ``tf.signal.hann_window``."""
    import tensorflow as tf

    expect_function(hann_window, "hann_window", "hann_window(n)")
    for n in (256, 8):
        expected = tf.signal.hann_window(n).numpy()
        call = f"hann_window({n})"
        result = as_array(call_answer(hann_window, call, n), call, (n,), "one weight per sample: shape (n,)")
        if np.allclose(result, np.hanning(n), atol=1e-6):
            fail(
                "{call} is the *symmetric* window (np.hanning): it ends with 0",
                "the periodic window divides by n, not n - 1: cos(2 pi k / n)",
                call=call,
            )
        check_close(result, expected, call, atol=1e-6, hint="0.5 - 0.5 * cos(2 * pi * k / n), k = 0..n-1")
    passed("your window matches tf.signal.hann_window")


def _tones():
    """(rate, n_samples, strong Hz, weak Hz): the lesson's clip format, then rates and lengths not seen there."""
    return (
        (8000, 2000, 500.0, 1300.0),
        (8000, 2000, 1000.0, 252.0),
        (16000, 1000, 3008.0, 960.0),
        (8000, 1600, 335.0, 660.0),
    )


def check_dominant_frequency(dominant_frequency) -> None:
    """Exercise 3: frequency in Hz of the strongest rfft bin (exactly, not within a bin)."""
    expect_function(dominant_frequency, "dominant_frequency", "dominant_frequency(wave, sample_rate)")
    for rate, n, freq, other in _tones():
        t = np.arange(n) / rate
        wave = (np.sin(2 * np.pi * freq * t) + 0.4 * np.sin(2 * np.pi * other * t)).astype(np.float32)
        bins = np.fft.rfftfreq(n, 1 / rate)
        expected = float(bins[np.argmax(np.abs(np.fft.rfft(wave)))])
        weaker = float(bins[np.argmin(np.abs(bins - other))])
        call = f"dominant_frequency(a {freq:g} Hz tone, {rate})"
        value = as_number(
            call_answer(dominant_frequency, call, wave.copy(), rate), call, "return the frequency in Hz as one number"
        )
        if np.isclose(value, expected, atol=1e-3):
            continue
        width = rate / n
        if np.isclose(value, expected / width):
            fail(
                "{call} returned {got}: that is the bin index, not Hz",
                "multiply the bin index by sample_rate / len(wave)",
                call=call,
                got=show(value),
            )
        if np.isclose(value, weaker, atol=width / 2):
            fail(
                "{call} returned {got} Hz, the weaker tone of the clip (the strongest is at {expected} Hz)",
                "take the argmax of the magnitude spectrum np.abs(np.fft.rfft(wave))",
                call=call,
                got=show(value),
                expected=show(expected),
            )
        if np.isclose(abs(value - expected), width, atol=1e-3):
            fail(
                "{call} returned {got} Hz, one bin ({width} Hz) away from the strongest bin at {expected} Hz",
                "bin k is exactly k * sample_rate / len(wave) Hz: use the argmax itself, no +1 or -1",
                call=call,
                got=show(value),
                width=show(width),
                expected=show(expected),
            )
        if np.isclose(value, expected * n / (n - 1), atol=1e-3) or np.isclose(value, expected * (n - 1) / n, atol=1e-3):
            fail(
                "{call} returned {got} Hz instead of {expected} Hz: the bin width is sample_rate / len(wave)",
                "divide by len(wave), not len(wave) - 1",
                call=call,
                got=show(value),
                expected=show(expected),
            )
        fail(
            "{call} returned {got} Hz, but the strongest bin is at {expected} Hz",
            "np.argmax(np.abs(np.fft.rfft(wave))) * sample_rate / len(wave), computed from the arguments "
            "(each call has another rate and length)",
            call=call,
            got=show(value),
            expected=show(expected),
        )
    passed("the strongest frequency is found, in Hz, for 4 clips of different rates and lengths")
