"""The exercise checks of lesson 11 accept the reference answers and reject plausible wrong ones."""

import keras
import numpy as np
import pytest
from test_checks import Answers, answer_cases, judge

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson11 import check_flip_left_right, check_grid_for, check_sequence_text_head


def grid_for(units, channels):
    if units % channels:
        raise ValueError("not a multiple")
    cells = units // channels
    side = int(round(cells**0.5))
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
    with pytest.raises(ExerciseCheckFailed, match="should return two things"):
        check_flip_left_right(lambda images, positions: images[:, :, ::-1])


def grid_by_search(units, channels):
    for side in range(1, units + 1):
        if side * side * channels == units:
            return [side, side, channels]
        if side * side * channels > units:
            break
    raise ValueError("no square grid")


def squareness_only(units, channels):
    side = int(round((units // channels) ** 0.5))
    if side * side != units // channels:
        raise ValueError("not square")
    return (side, side, channels)


def bidirectional_head(code, seq_len, vocab_size):
    steps = keras.layers.RepeatVector(seq_len)(code)
    states = keras.layers.Bidirectional(keras.layers.LSTM(8, return_sequences=True))(steps)
    return keras.layers.Dense(vocab_size, activation="softmax")(states)


def nested_head(code, seq_len, vocab_size):
    block = keras.Sequential([keras.layers.RepeatVector(seq_len), keras.layers.GRU(8, return_sequences=True)])
    return keras.layers.Dense(vocab_size, activation="softmax")(block(code))


def flip_as_list(images, positions):
    flipped, new = flip_left_right(images, positions)
    return [np.flip(images, axis=2), new.tolist()]


def flip_with_negative_labels(images, positions):
    return images[:, :, ::-1], -np.asarray(positions) - 1


ANSWERS = {
    "check_grid_for": Answers(
        run=check_grid_for,
        right=grid_for,
        alternative=grid_by_search,
        constant=lambda units, channels: (8, 8, 32),
        wrong_type=lambda units, channels: {"side": 8, "channels": channels},
        wrong=(
            (squareness_only, r"grid_for\(101, 4\) returned \(5, 5, 4\)"),
            (lambda units, channels: (units // channels, 1, channels), r"expected \(8, 8, 32\)"),
            (lambda units, channels: (units / channels) ** 0.5, "three whole numbers"),
            (
                lambda u, c: grid_for(u, c) if u % c == 0 and (u // c) ** 0.5 % 1 == 0 else 1 / 0,
                "ZeroDivisionError, but the exercise asks for ValueError",
            ),
        ),
    ),
    "check_sequence_text_head": Answers(
        run=check_sequence_text_head,
        right=sequence_text_head,
        alternative=bidirectional_head,
        extra_valid=(nested_head,),
        constant=lambda code, seq_len, vocab_size: np.full((1, 6, 11), 1 / 11),
        wrong_type=lambda code, seq_len, vocab_size: (sequence_text_head(code, seq_len, vocab_size), "done"),
        wrong_type_message="should return a Keras tensor",
        wrong=(
            (
                lambda code, s, v: keras.layers.Dense(v, activation="softmax")(keras.layers.LSTM(8)(code)),
                "RepeatVector",
            ),
            (
                lambda code, s, v: keras.layers.Dense(v, activation="softmax")(keras.layers.RepeatVector(s)(code)),
                "no recurrent layer",
            ),
        ),
    ),
    "check_flip_left_right": Answers(
        run=check_flip_left_right,
        right=flip_left_right,
        alternative=flip_as_list,
        constant=lambda images, positions: (images[:, :, ::-1], np.array([1, 0, 2, 3, 0, 1])),
        wrong_type=lambda images, positions: {"images": images[:, :, ::-1], "positions": positions},
        wrong=(
            (lambda images, positions: (images[:, :, ::-1], positions), "did not change"),
            (flip_with_negative_labels, r"holds \[-1, -2, -3, -4, -2, -1\], which are not position labels"),
            (lambda images, positions: (images[:, :, ::-1], np.asarray(positions) + 10), "not position labels"),
            (
                lambda images, positions: (images[:, :, ::-1], 3 - np.asarray(positions)),
                r"became \[bottom, top, right, left, top, bottom\]",
            ),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)
