"""Tests of the lesson 04 exercise checks: right answers pass, plausible wrong ones are explained."""

import numpy as np
import pytest
from test_checks import Answers, answer_cases, judge

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson04 import check_dominant_frequency, check_frame_signal, check_hann_window


def right_frames(x, length, step):
    n = 1 + (len(x) - length) // step
    return np.stack([x[m * step : m * step + length] for m in range(n)])


def test_frame_signal_accepts_the_right_answer(capsys):
    check_frame_signal(right_frames)
    assert "Check passed" in capsys.readouterr().out


def one_too_many(x, length, step):
    n = 2 + (len(x) - length) // step
    return np.stack(
        [np.pad(x[m * step : m * step + length], (0, max(0, m * step + length - len(x)))) for m in range(n)]
    )


@pytest.mark.parametrize(
    "wrong, message",
    [
        (one_too_many, "one too many"),
        (lambda x, length, step: right_frames(x, length, step)[1:], "one too few"),
        (lambda x, length, step: right_frames(x, length, length)[: 1 + (len(x) - length) // step], "differs|shape"),
        (lambda x, length, step: None, "None"),
    ],
)
def test_frame_signal_rejects_wrong_answers(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_frame_signal(wrong)


def test_hann_window_accepts_the_right_answer(capsys):
    check_hann_window(lambda n: 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n))
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (np.hanning, "symmetric"),
        (lambda n: np.ones(n), "differs"),
    ],
)
def test_hann_window_rejects_wrong_answers(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_hann_window(wrong)


def right_dominant(wave, rate):
    return float(np.argmax(np.abs(np.fft.rfft(wave))) * rate / len(wave))


def test_dominant_frequency_accepts_the_right_answer(capsys):
    check_dominant_frequency(right_dominant)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda wave, rate: float(np.argmax(np.abs(np.fft.rfft(wave)))), "bin index"),
        (lambda wave, rate: float(np.argsort(np.abs(np.fft.rfft(wave)))[-2] * rate / len(wave)), "weaker tone"),
        (lambda wave, rate: 0.0, "returned 0.0 Hz"),
    ],
)
def test_dominant_frequency_rejects_wrong_answers(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_dominant_frequency(wrong)


def strided_frames(x, length, step):
    return list(np.lib.stride_tricks.sliding_window_view(x, length)[::step])


ANSWERS = {
    "check_frame_signal": Answers(
        run=check_frame_signal,
        right=right_frames,
        alternative=strided_frames,
        constant=lambda x, length, step: np.zeros((29, 256)),
        wrong_type=lambda x, length, step: {m: x[m * step : m * step + length] for m in range(3)},
        wrong=(
            (one_too_many, "one too many"),
            (lambda x, length, step: right_frames(x, length, step)[1:], "one too few"),
            (lambda x, length, step: right_frames(x, length, step).T, "shape"),
        ),
    ),
    "check_hann_window": Answers(
        run=check_hann_window,
        right=lambda n: 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n),
        alternative=lambda n: np.hanning(n + 1)[:-1].tolist(),
        constant=lambda n: np.full(256, 0.5),
        wrong_type=lambda n: 0.5,
        wrong=(
            (np.hanning, "symmetric"),
            (lambda n: np.sin(np.pi * np.arange(n) / n), "differs"),
            (lambda n: 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n - 0.01), "differs"),
        ),
    ),
    "check_dominant_frequency": Answers(
        run=check_dominant_frequency,
        right=right_dominant,
        alternative=lambda wave, rate: np.fft.rfftfreq(len(wave), 1 / rate)[np.argmax(np.abs(np.fft.rfft(wave)))],
        constant=lambda wave, rate: 500.0,
        wrong_type=lambda wave, rate: (right_dominant(wave, rate), "Hz"),
        wrong=(
            (lambda wave, rate: float(np.argmax(np.abs(np.fft.rfft(wave)))), "bin index"),
            (lambda wave, rate: float(np.argsort(np.abs(np.fft.rfft(wave)))[-2] * rate / len(wave)), "weaker"),
            (lambda wave, rate: float((np.argmax(np.abs(np.fft.rfft(wave))) + 1) * rate / len(wave)), "one bin"),
            (lambda wave, rate: float(np.argmax(np.abs(np.fft.rfft(wave))) * rate / (len(wave) - 1)), "len\\(wave\\)"),
            (lambda wave, rate: np.abs(np.fft.rfft(wave)) * 0 + right_dominant(wave, rate), "one number"),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)
