"""Lesson 01's exercise checks accept the reference answers and reject plausible wrong ones."""

import functools

import numpy as np
import pytest
from test_checks import Answers, answer_cases, judge

from mmgen_lib import data
from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson01 import check_dominant_frequency, check_mean_object_color, check_pad_batch
from mmgen_lib.tokenizer import shapesworld_tokenizer


@functools.cache
def the_split():
    return data.load_split("val")


@functools.cache
def the_tokenizer():
    return shapesworld_tokenizer()


@pytest.fixture(scope="module")
def split():
    return the_split()


@pytest.fixture(scope="module")
def tokenizer():
    return the_tokenizer()


def dominant_frequency(wave, sample_rate):
    return np.fft.rfftfreq(len(wave), 1 / sample_rate)[np.argmax(np.abs(np.fft.rfft(wave)))]


def mean_object_color(image):
    image = image.astype(float)
    return image[np.abs(image - data.BACKGROUND).max(axis=-1) > 60].mean(axis=0)


def pad_batch(sequences, max_len):
    out = np.zeros((len(sequences), max_len), np.int32)
    for row, ids in enumerate(sequences):
        out[row, : len(ids)] = ids
    return out


def test_references_pass(split, tokenizer, capsys):
    check_dominant_frequency(dominant_frequency, split)
    check_mean_object_color(mean_object_color, split)
    check_pad_batch(pad_batch, tokenizer)
    assert capsys.readouterr().out.count("Check passed") == 3


@pytest.mark.parametrize(
    "wrong, match",
    [
        (lambda w, sr: np.argmax(np.abs(np.fft.rfft(w))), "FFT bin index"),
        (lambda w, sr: np.fft.rfftfreq(len(w), 1 / sr)[np.argmax(np.fft.rfft(w).real)], "real part"),
        (lambda w, sr: None, "returned None"),
    ],
)
def test_dominant_frequency_rejects_wrong_answers(split, wrong, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_dominant_frequency(wrong, split)


@pytest.mark.parametrize(
    "wrong, match",
    [
        (lambda image: image.reshape(-1, 3).mean(axis=0), "whole image"),
        (lambda image: image.mean(), r"shape \(\), expected \(3,\)"),
        (lambda image: image[image.max(axis=-1) > 200].mean(axis=0), "expected about"),
    ],
)
def test_mean_object_color_rejects_wrong_answers(split, wrong, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_mean_object_color(wrong, split)


def left_pad(sequences, max_len):
    out = np.zeros((len(sequences), max_len), np.int32)
    for row, ids in enumerate(sequences):
        out[row, max_len - len(ids) :] = ids
    return out


@pytest.mark.parametrize(
    "wrong, match",
    [
        (left_pad, "padding is on the left"),
        (lambda s, m: pad_batch(s, m).astype(float), "must be integers"),
        (lambda s, m: pad_batch(s, m + 1), r"shape \(3, 13\), expected \(3, 12\)"),
        (lambda s, m: np.where(pad_batch(s, m) == 0, 3, pad_batch(s, m)), "row 0"),
    ],
)
def test_pad_batch_rejects_wrong_answers(tokenizer, wrong, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_pad_batch(wrong, tokenizer)


def loop_pad(sequences, max_len):
    return [list(ids[:max_len]) + [0] * (max_len - len(ids[:max_len])) for ids in sequences]


def spectrum_peak(wave, sample_rate):
    magnitudes = np.abs(np.fft.fft(wave))[: len(wave) // 2 + 1]
    return float(np.argmax(magnitudes) * sample_rate / len(wave))


ANSWERS = {
    "check_dominant_frequency": Answers(
        run=lambda answer: check_dominant_frequency(answer, the_split()),
        right=dominant_frequency,
        alternative=spectrum_peak,
        constant=lambda wave, sample_rate: 328.0,
        wrong_type=lambda wave, sample_rate: (dominant_frequency(wave, sample_rate), 1.0),
        wrong=(
            (lambda w, sr: np.argmax(np.abs(np.fft.rfft(w))), "FFT bin index"),
            (lambda w, sr: np.fft.rfftfreq(len(w), 1 / sr)[np.argmax(np.fft.rfft(w).real)], "real part"),
            (lambda w, sr: np.fft.rfftfreq(len(w), 1 / sr)[np.argmax(np.abs(np.fft.rfft(w))) + 1], "one frequency bin"),
            (lambda w, sr: np.fft.rfftfreq(len(w), 1 / sr)[np.argmax(np.fft.rfft(w))], "real part|DC"),
            (lambda w, sr: None, "returned None"),
        ),
    ),
    "check_mean_object_color": Answers(
        run=lambda answer: check_mean_object_color(answer, the_split()),
        right=mean_object_color,
        alternative=lambda image: tuple(float(c) for c in mean_object_color(image)),
        constant=lambda image: np.array([200.0, 60.0, 50.0]),
        wrong_type=lambda image: {"r": 1.0, "g": 2.0, "b": 3.0},
        wrong=(
            (lambda image: image.reshape(-1, 3).mean(axis=0), "whole image"),
            (lambda image: image[image.max(axis=-1) > 200].mean(axis=0), "expected about"),
            (lambda image: image.mean(), r"shape \(\), expected \(3,\)"),
        ),
    ),
    "check_pad_batch": Answers(
        run=lambda answer: check_pad_batch(answer, the_tokenizer()),
        right=pad_batch,
        alternative=loop_pad,
        constant=lambda s, m: np.zeros((3, 12), np.int32),
        wrong_type=lambda s, m: [list(ids) for ids in s],  # ragged: not padded at all
        wrong=(
            (left_pad, "padding is on the left"),
            (lambda s, m: pad_batch(s, m).astype(float), "must be integers"),
            (lambda s, m: pad_batch(s, 12), r"shape \(2, 12\), expected \(2, 14\)"),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)
