"""Exercise checks of lesson 11 (the article's model, debugged)."""

from __future__ import annotations

import numpy as np

from mmgen_lib.checks import check_shape, fail, passed

__all__ = ["check_grid_for", "check_sequence_text_head", "check_flip_left_right"]


def _require_function(fn, name: str, signature: str) -> None:
    if not callable(fn):
        fail(f"`{name}` should be a function, but it is a {type(fn).__name__}", f"define it with `def {signature}:`")


def check_grid_for(grid_for) -> None:
    """Exercise 1: ``grid_for(units, channels)`` -> ``(side, side, channels)`` or ValueError."""
    _require_function(grid_for, "grid_for", "grid_for(units, channels)")
    for units, channels, expected in ((2048, 32, (8, 8, 32)), (512, 32, (4, 4, 32)),
                                      (6272, 128, (7, 7, 128)), (3072, 3, (32, 32, 3))):
        try:
            got = grid_for(units, channels)
        except ValueError as error:
            fail(f"`grid_for({units}, {channels})` raised ValueError ({error}), but {expected} is possible",
                 "units / channels cells per channel; a square grid needs a whole square root")
        if got is None or tuple(int(v) for v in got) != expected:
            fail(f"`grid_for({units}, {channels})` returned {got!r}, expected {expected}",
                 "return a tuple (side, side, channels) with side * side * channels == units")
    for units, channels, why in ((256, 128, "256 values make 2 cells per channel, not a square"),
                                 (131072, 100, "131,072 is not a multiple of 100"),
                                 (6272, 64, "6,272 / 64 = 98 cells, not a square")):
        try:
            got = grid_for(units, channels)
        except ValueError:
            continue
        fail(f"`grid_for({units}, {channels})` returned {got!r}, but no square grid fits ({why})",
             "raise ValueError when units % channels != 0 or the cell count is not a perfect square")
    passed("grid_for finds the square grids that fit, and refuses the impossible ones (like the article's)")


def check_sequence_text_head(sequence_text_head) -> None:
    """Exercise 2: a (batch, d) code -> (batch, seq_len, vocab_size) word distributions via an LSTM."""
    import keras

    _require_function(sequence_text_head, "sequence_text_head", "sequence_text_head(code, seq_len, vocab_size)")
    code = keras.Input(shape=(24,))
    try:
        out = sequence_text_head(code, 6, 11)
    except ValueError as error:
        fail(f"building the head raised ValueError: {str(error).splitlines()[0][:200]}",
             "an LSTM needs (batch, time, features): use keras.layers.RepeatVector(seq_len) on the code first")
    if out is None or not hasattr(out, "shape"):
        fail(f"`sequence_text_head` returned {out!r}, not a Keras tensor", "return the output tensor of the last layer")
    if tuple(out.shape) != (None, 6, 11):
        fail(f"for a (batch, 24) code, seq_len=6 and vocab_size=11 the output has shape {tuple(out.shape)}, "
             "expected (None, 6, 11)", "LSTM(..., return_sequences=True) keeps the time axis; Dense acts per step")
    model = keras.Model(code, out)
    kinds = {type(layer).__name__ for layer in model.layers}
    if not kinds & {"LSTM", "GRU", "SimpleRNN", "RNN"}:
        fail(f"the head has no recurrent layer (it has {sorted(kinds - {'InputLayer'})})",
             "the exercise is about feeding an LSTM correctly: add one with return_sequences=True")
    probs = np.asarray(model.predict(np.random.default_rng(0).normal(size=(3, 24)).astype("float32"), verbose=0))
    if probs.min() < 0 or not np.allclose(probs.sum(axis=-1), 1.0, atol=1e-4):
        fail("the outputs are not word distributions (each step should sum to 1)",
             "end with Dense(vocab_size, activation='softmax')")
    passed("the vector is repeated along time, read by a recurrent layer, and gives one distribution per step")


def check_flip_left_right(flip_left_right) -> None:
    """Exercise 3: mirror images left-right and swap the left/right position labels."""
    from mmgen_lib.data import ATTRIBUTES

    _require_function(flip_left_right, "flip_left_right", "flip_left_right(images, positions)")
    names = ATTRIBUTES["position"]
    rng = np.random.default_rng(11)
    images = rng.random((4, 32, 32, 3)).astype(np.float32)
    positions = np.array([names.index(p) for p in ("left", "right", "top", "bottom")])
    result = flip_left_right(images.copy(), positions.copy())
    if not isinstance(result, tuple) or len(result) != 2:
        fail("`flip_left_right` should return two things: (flipped_images, new_positions)")
    flipped, new_positions = result
    flipped = check_shape(np.asarray(flipped), images.shape, "flipped images")
    if np.allclose(flipped, images[:, ::-1]):
        fail("the images were flipped upside down (axis 1 is the height)", "flip the width axis: images[:, :, ::-1]")
    if np.allclose(flipped, images):
        fail("the images are unchanged", "mirror the width axis: images[:, :, ::-1]")
    if not np.allclose(flipped, images[:, :, ::-1]):
        fail("the images are not mirrored left-right", "mirror the width axis (axis 2): images[:, :, ::-1]")
    new_positions = np.asarray(new_positions).reshape(-1)
    expected = [names.index(p) for p in ("right", "left", "top", "bottom")]
    if new_positions.tolist() == positions.tolist():
        fail("the position labels did not change, but the object on the left is now on the right",
             "swap the indices of 'left' and 'right'; keep 'top' and 'bottom'")
    if new_positions.tolist() != expected:
        fail(f"positions left, right, top, bottom became {[names[int(i)] for i in new_positions]}, "
             "expected right, left, top, bottom", "only left and right swap under a left-right mirror")
    passed("images mirrored left-right and 'left' / 'right' labels swapped; top and bottom unchanged")
