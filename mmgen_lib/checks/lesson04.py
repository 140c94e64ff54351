"""Exercise checks of lesson 04 (the audio encoder)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import check_close, fail, passed

__all__ = ["check_frame_signal", "check_hann_window", "check_dominant_frequency"]


def _callable(fn, name: str) -> None:
    if not callable(fn):
        fail(f"`{name}` should be a function, but it is a {type(fn).__name__}", f"define it with `def {name}(...):`")


def check_frame_signal(frame_signal) -> None:
    """Exercise 1: whole frames of a 1-D signal, compared with ``tf.signal.frame``."""
    import tensorflow as tf

    _callable(frame_signal, "frame_signal")
    x = np.arange(2000, dtype=np.float32)
    for frame_length, frame_step in ((256, 64), (10, 3), (7, 7)):
        expected = tf.signal.frame(x, frame_length, frame_step).numpy()
        result = frame_signal(x, frame_length, frame_step)
        if result is None:
            fail("frame_signal returned None", "return the stacked frames")
        result = np.asarray(result)
        name = f"frame_signal(x, {frame_length}, {frame_step})"
        if result.ndim == 2 and result.shape[0] == expected.shape[0] + 1:
            fail(f"{name} has {result.shape[0]} frames, one too many: the last one does not fit inside x",
                 "n_frames = 1 + (len(x) - frame_length) // frame_step")
        if result.ndim == 2 and result.shape[0] == expected.shape[0] - 1:
            fail(f"{name} has {result.shape[0]} frames, one too few", "the first frame starts at sample 0")
        if (frame_step != frame_length and result.shape == expected.shape and result.shape[0] > 1
                and np.allclose(result[1, 0], frame_length)):
            fail(f"{name}: frames follow each other without overlap", "frame m starts at m * frame_step")
        check_close(result, expected, name, hint="frame m is x[m * frame_step : m * frame_step + frame_length]")
    passed("your frames match tf.signal.frame")


def check_hann_window(hann_window) -> None:
    """Exercise 2: the periodic Hann window, compared with ``tf.signal.hann_window``."""
    import tensorflow as tf

    _callable(hann_window, "hann_window")
    for n in (256, 8):
        expected = tf.signal.hann_window(n).numpy()
        result = hann_window(n)
        if result is None:
            fail("hann_window returned None", "return the window array")
        result = np.asarray(result, dtype=np.float64)
        if result.shape == expected.shape and np.allclose(result, np.hanning(n), atol=1e-6):
            fail(f"hann_window({n}) is the *symmetric* window (np.hanning): it ends with 0",
                 "the periodic window divides by n, not n - 1: cos(2 pi k / n)")
        check_close(result, expected, f"hann_window({n})", atol=1e-6, hint="0.5 - 0.5 * cos(2 * pi * k / n), k = 0..n-1")
    passed("your window matches tf.signal.hann_window")


def check_dominant_frequency(dominant_frequency) -> None:
    """Exercise 3: frequency in Hz of the strongest rfft bin."""
    _callable(dominant_frequency, "dominant_frequency")
    rate = 8000
    t = np.arange(2000) / rate
    for freq, other in ((500.0, 1300.0), (1000.0, 250.0)):
        wave = np.sin(2 * np.pi * freq * t) + 0.4 * np.sin(2 * np.pi * other * t)
        result = dominant_frequency(wave.astype(np.float32), rate)
        if result is None:
            fail("dominant_frequency returned None", "return a number of Hz")
        value = float(np.asarray(result))
        if np.isclose(value, freq * len(wave) / rate):
            fail(f"for a {freq:g} Hz tone you returned {value:g}: that is the bin index, not Hz",
                 "multiply the bin index by sample_rate / len(wave)")
        if np.isclose(value, other, atol=5):
            fail(f"for a {freq:g} Hz tone plus a weaker {other:g} Hz one you returned the weaker one",
                 "take the argmax of the magnitude spectrum")
        if not np.isclose(value, freq, atol=rate / len(wave)):
            fail(f"for a {freq:g} Hz tone you returned {value:g} Hz",
                 "np.argmax(np.abs(np.fft.rfft(wave))) * sample_rate / len(wave)")
    passed("the strongest frequency is found, in Hz")
