"""The exercise checks of lesson 11 accept the reference answers and reject plausible wrong ones."""

import keras
import numpy as np
import pytest

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson11 import check_flip_left_right, check_grid_for, check_sequence_text_head


def grid_for(units, channels):
    if units % channels:
        raise ValueError("not a multiple")
    cells = units // channels
    side = int(round(cells ** 0.5))
    if side * side != cells:
        raise ValueError("not square")
    return (side, side, channels)


def test_grid_for_accepts_reference(capsys):
    check_grid_for(grid_for)
    assert "Check passed" in capsys.readouterr().out


def test_grid_for_rejects_answer_that_never_raises():
    def wrong(units, channels):
        side = int((units // channels) ** 0.5)
        return (side, side, channels)

    with pytest.raises(ExerciseCheckFailed, match="no square grid fits"):
        check_grid_for(wrong)


def test_grid_for_rejects_wrong_grid():
    with pytest.raises(ExerciseCheckFailed, match=r"expected \(8, 8, 32\)"):
        check_grid_for(lambda units, channels: (units // channels, 1, channels))


def test_grid_for_rejects_non_function():
    with pytest.raises(ExerciseCheckFailed, match="should be a function"):
        check_grid_for((8, 8, 32))


def sequence_text_head(code, seq_len, vocab_size):
    steps = keras.layers.RepeatVector(seq_len)(code)
    states = keras.layers.LSTM(8, return_sequences=True)(steps)
    return keras.layers.Dense(vocab_size, activation="softmax")(states)


def test_sequence_head_accepts_reference(capsys):
    check_sequence_text_head(sequence_text_head)
    assert "Check passed" in capsys.readouterr().out


def test_sequence_head_rejects_the_article_bug():
    def article(code, seq_len, vocab_size):
        return keras.layers.Dense(vocab_size, activation="softmax")(keras.layers.LSTM(8)(code))

    with pytest.raises(ExerciseCheckFailed, match="RepeatVector"):
        check_sequence_text_head(article)


def test_sequence_head_rejects_missing_time_axis():
    def last_step_only(code, seq_len, vocab_size):
        states = keras.layers.LSTM(8)(keras.layers.RepeatVector(seq_len)(code))
        return keras.layers.Dense(vocab_size, activation="softmax")(states)

    with pytest.raises(ExerciseCheckFailed, match="return_sequences"):
        check_sequence_text_head(last_step_only)


def test_sequence_head_rejects_head_without_recurrence():
    def dense_only(code, seq_len, vocab_size):
        steps = keras.layers.RepeatVector(seq_len)(code)
        return keras.layers.Dense(vocab_size, activation="softmax")(steps)

    with pytest.raises(ExerciseCheckFailed, match="no recurrent layer"):
        check_sequence_text_head(dense_only)


def test_sequence_head_rejects_logits():
    def logits(code, seq_len, vocab_size):
        states = keras.layers.LSTM(8, return_sequences=True)(keras.layers.RepeatVector(seq_len)(code))
        return keras.layers.Dense(vocab_size)(states)

    with pytest.raises(ExerciseCheckFailed, match="softmax"):
        check_sequence_text_head(logits)


def flip_left_right(images, positions):
    swap = {0: 1, 1: 0}
    return images[:, :, ::-1, :], np.array([swap.get(int(p), int(p)) for p in positions])


def test_flip_accepts_reference(capsys):
    check_flip_left_right(flip_left_right)
    assert "Check passed" in capsys.readouterr().out


def test_flip_rejects_labels_left_unchanged():
    with pytest.raises(ExerciseCheckFailed, match="did not change"):
        check_flip_left_right(lambda images, positions: (images[:, :, ::-1], positions))


def test_flip_rejects_upside_down():
    with pytest.raises(ExerciseCheckFailed, match="upside down"):
        check_flip_left_right(lambda images, positions: flip_left_right(images[:, ::-1, ::-1], positions))


def test_flip_rejects_swapping_top_and_bottom_too():
    def too_much(images, positions):
        swap = {0: 1, 1: 0, 2: 3, 3: 2}
        return images[:, :, ::-1], np.array([swap[int(p)] for p in positions])

    with pytest.raises(ExerciseCheckFailed, match="only left and right"):
        check_flip_left_right(too_much)


def test_flip_rejects_single_return_value():
    with pytest.raises(ExerciseCheckFailed, match="two things"):
        check_flip_left_right(lambda images, positions: images[:, :, ::-1])
