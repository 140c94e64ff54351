"""Exercise checks of lesson 11 (the article's model, debugged)."""

from __future__ import annotations

import numbers

import numpy as np

from mmgen_lib.checks import as_array, as_pair, call_answer, describe, expect_function, fail, passed, show

__all__ = ["check_grid_for", "check_sequence_text_head", "check_flip_left_right"]

_POSSIBLE = (
    (2048, 32, (8, 8, 32)),
    (512, 32, (4, 4, 32)),
    (6272, 128, (7, 7, 128)),
    (3072, 3, (32, 32, 3)),
    (100, 4, (5, 5, 4)),
)
_IMPOSSIBLE = (
    (256, 128, "256 values make 2 cells per channel, not a square"),
    (131072, 100, "131,072 is not a multiple of 100"),
    (101, 4, "101 is not a multiple of 4 (101 // 4 = 25 is a square, but 4 values would be left over)"),
    (6272, 64, "6,272 / 64 = 98 cells, not a square"),
)


def _grid(got, call):
    """The learner's grid as a tuple of whole numbers, or a message saying what was returned instead."""
    if (
        not isinstance(got, (tuple, list))
        or len(got) != 3
        or not all(isinstance(v, numbers.Real) and not isinstance(v, bool) and float(v).is_integer() for v in got)
    ):
        fail(
            "{call} should return a tuple of three whole numbers (side, side, channels), but it returned {got}",
            "return (side, side, channels) with side * side * channels == units",
            call=call,
            got=describe(got),
        )
    return tuple(int(v) for v in got)


def check_grid_for(grid_for) -> None:
    """Exercise 1: ``grid_for(units, channels)`` -> ``(side, side, channels)`` or ValueError."""
    expect_function(grid_for, "grid_for", "grid_for(units, channels)")
    for units, channels, expected in _POSSIBLE:
        call = f"grid_for({units}, {channels})"
        try:
            got = grid_for(units, channels)
        except ValueError as error:
            fail(
                "{call} raised ValueError ({error}), but {expected} is possible",
                "units / channels cells per channel; a square grid needs a whole square root",
                call=call,
                error=error,
                expected=expected,
            )
        got = _grid(call_answer(lambda value=got: value, call), call)
        if got != expected:
            fail(
                "{call} returned {got}, expected {expected}",
                "return a tuple (side, side, channels) with side * side * channels == units, computed from the "
                "arguments",
                call=call,
                got=got,
                expected=expected,
            )
    for units, channels, why in _IMPOSSIBLE:
        call = f"grid_for({units}, {channels})"
        try:
            got = grid_for(units, channels)
        except ValueError:
            continue
        except Exception as error:  # noqa: BLE001 - the learner raised the wrong kind of error
            fail(
                "{call} raised {kind}, but the exercise asks for ValueError ({why})",
                "raise ValueError(...) when units % channels != 0 or the cell count is not a perfect square",
                call=call,
                kind=type(error).__name__,
                why=why,
            )
        fail(
            "{call} returned {got}, but no square grid fits ({why})",
            "raise ValueError when units % channels != 0 or the cell count is not a perfect square",
            call=call,
            got=show(got),
            why=why,
        )
    passed("grid_for finds the square grids that fit, and refuses the impossible ones (like the article's)")


def _all_layers(model):
    """Every layer inside ``model``, nested models, wrappers (Bidirectional, TimeDistributed) and custom blocks too."""
    if hasattr(model, "_flatten_layers"):
        return list(model._flatten_layers(include_self=False, recursive=True))
    found, todo = [], list(getattr(model, "layers", []))
    while todo:
        layer = todo.pop()
        found.append(layer)
        todo.extend(getattr(layer, "layers", []))
        todo.extend(
            getattr(layer, name) for name in ("layer", "forward_layer", "backward_layer") if hasattr(layer, name)
        )
    return found


def check_sequence_text_head(sequence_text_head) -> None:
    """Exercise 2: a (batch, d) code -> (batch, seq_len, vocab_size) word distributions via an LSTM."""
    import keras

    expect_function(sequence_text_head, "sequence_text_head", "sequence_text_head(code, seq_len, vocab_size)")
    code = keras.Input(shape=(24,))
    call = "sequence_text_head(code, 6, 11)"
    try:
        out = sequence_text_head(code, 6, 11)
    except ValueError as error:
        fail(
            "building the head raised ValueError: {error}",
            "an LSTM needs (batch, time, features): use keras.layers.RepeatVector(seq_len) on the code first",
            error=str(error).splitlines()[0][:200],
        )
    out = call_answer(lambda: out, call)
    if not hasattr(out, "shape") or isinstance(out, np.ndarray):
        fail(
            "{call} should return a Keras tensor, but it returned {got}",
            "return the output tensor of the last layer",
            call=call,
            got=describe(out),
        )
    if tuple(out.shape) != (None, 6, 11):
        fail(
            "for a (batch, 24) code, seq_len=6 and vocab_size=11 the output has shape {got}, expected (None, 6, 11)",
            "LSTM(..., return_sequences=True) keeps the time axis; Dense acts per step",
            got=tuple(out.shape),
        )
    model = keras.Model(code, out)
    recurrent = [layer for layer in _all_layers(model) if isinstance(layer, keras.layers.RNN)]
    if not recurrent:
        fail(
            "the head has no recurrent layer (it has {kinds})",
            "the exercise is about feeding an LSTM correctly: add one with return_sequences=True",
            kinds=sorted({type(layer).__name__ for layer in model.layers} - {"InputLayer"}),
        )
    probs = np.asarray(model.predict(np.random.default_rng(0).normal(size=(3, 24)).astype("float32"), verbose=0))
    if probs.min() < 0 or not np.allclose(probs.sum(axis=-1), 1.0, atol=1e-4):
        fail(
            "the outputs are not word distributions (each step should sum to 1)",
            "end with Dense(vocab_size, activation='softmax')",
        )
    passed("the vector is repeated along time, read by a recurrent layer, and gives one distribution per step")


def _position_names(indices, names):
    """Position labels as plain text, e.g. "[right, left, top]"."""
    return "[" + ", ".join(names[int(i)] for i in indices) + "]"


def check_flip_left_right(flip_left_right) -> None:
    """Exercise 3: mirror images left-right and swap the left/right position labels."""
    from mmgen_lib.data import ATTRIBUTES

    expect_function(flip_left_right, "flip_left_right", "flip_left_right(images, positions)")
    names = ATTRIBUTES["position"]
    rng = np.random.default_rng(11)
    for order in (("left", "right", "top", "bottom", "right", "left"), ("top", "top", "right", "bottom", "left")):
        images = rng.random((len(order), 32, 32, 3)).astype(np.float32)
        positions = np.array([names.index(p) for p in order])
        call = "flip_left_right(images, positions)"
        flipped, new_positions = as_pair(
            call_answer(flip_left_right, call, images.copy(), positions.copy()),
            "flip_left_right",
            "(flipped_images, new_positions)",
            "end with `return flipped_images, new_positions`",
        )
        flipped = as_array(flipped, "flipped images", images.shape, "the first thing returned: the mirrored images")
        if np.allclose(flipped, images[:, ::-1]):
            fail(
                "the images were flipped upside down (axis 1 is the height)", "flip the width axis: images[:, :, ::-1]"
            )
        if np.allclose(flipped, images):
            fail("the images are unchanged", "mirror the width axis: images[:, :, ::-1]")
        if not np.allclose(flipped, images[:, :, ::-1]):
            fail("the images are not mirrored left-right", "mirror the width axis (axis 2): images[:, :, ::-1]")
        new_positions = as_array(
            new_positions, "new_positions", (len(order),), "the second thing returned: one position index per image"
        )
        invalid = [v for v in new_positions.tolist() if not (float(v).is_integer() and 0 <= v < len(names))]
        if invalid:
            fail(
                "`new_positions` holds {invalid}, which are not position labels",
                "labels are the indices 0..{last} of ATTRIBUTES['position'] = {names}",
                invalid=show(invalid),
                last=len(names) - 1,
                names=list(names),
            )
        expected = [names.index({"left": "right", "right": "left"}.get(p, p)) for p in order]
        if new_positions.tolist() == positions.tolist():
            fail(
                "the position labels did not change, but the object on the left is now on the right",
                "swap the indices of 'left' and 'right'; keep 'top' and 'bottom'",
            )
        if new_positions.tolist() != expected:
            fail(
                "positions {before} became {got}, expected {expected}",
                "only left and right swap under a left-right mirror; compute the labels from `positions`",
                before=_position_names(positions, names),
                got=_position_names(new_positions, names),
                expected=_position_names(expected, names),
            )
    passed("images mirrored left-right and 'left' / 'right' labels swapped; top and bottom unchanged")
