"""Lesson 01's exercise checks accept the reference answers and reject plausible wrong ones."""

import numpy as np
import pytest

from mmgen_lib import data
from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson01 import check_dominant_frequency, check_mean_object_color, check_pad_batch
from mmgen_lib.tokenizer import shapesworld_tokenizer


@pytest.fixture(scope="module")
def split():
    return data.load_split("val")


@pytest.fixture(scope="module")
def tokenizer():
    return shapesworld_tokenizer()


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


@pytest.mark.parametrize("wrong, match", [
    (lambda w, sr: np.argmax(np.abs(np.fft.rfft(w))), "FFT bin index"),
    (lambda w, sr: np.fft.rfftfreq(len(w), 1 / sr)[np.argmax(np.fft.rfft(w).real)], "loudest frequency"),
    (lambda w, sr: None, "returned None"),
])
def test_dominant_frequency_rejects_wrong_answers(split, wrong, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_dominant_frequency(wrong, split)


@pytest.mark.parametrize("wrong, match", [
    (lambda image: image.reshape(-1, 3).mean(axis=0), "whole image"),
    (lambda image: image.mean(), r"shape \(\), expected \(3,\)"),
    (lambda image: image[image.max(axis=-1) > 200].mean(axis=0), "expected about"),
])
def test_mean_object_color_rejects_wrong_answers(split, wrong, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_mean_object_color(wrong, split)


def left_pad(sequences, max_len):
    out = np.zeros((len(sequences), max_len), np.int32)
    for row, ids in enumerate(sequences):
        out[row, max_len - len(ids):] = ids
    return out


@pytest.mark.parametrize("wrong, match", [
    (left_pad, "padding is on the left"),
    (lambda s, m: pad_batch(s, m).astype(float), "must be integers"),
    (lambda s, m: pad_batch(s, m + 1), r"shape \(3, 13\), expected \(3, 12\)"),
    (lambda s, m: np.where(pad_batch(s, m) == 0, 3, pad_batch(s, m)), "row 0"),
])
def test_pad_batch_rejects_wrong_answers(tokenizer, wrong, match):
    with pytest.raises(ExerciseCheckFailed, match=match):
        check_pad_batch(wrong, tokenizer)
