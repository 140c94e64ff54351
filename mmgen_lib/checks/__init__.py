"""Friendly self-checks for the exercises (every lesson).

Each exercise is followed by a cell that calls one function from here. A check
prints a short success line, or raises :class:`ExerciseCheckFailed` whose message
says what is wrong (a shape, a value, a hint) — never a bare ``AssertionError``.

This package holds the generic helpers (:func:`check_shape`, :func:`check_close`, ...);
each lesson's exercise checks live in their own module, ``mmgen_lib.checks.lessonNN``,
e.g. ``from mmgen_lib.checks.lesson01 import check_mean_color``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["ExerciseCheckFailed", "passed", "fail", "check_type", "check_shape", "check_close",
           "check_equal", "as_int"]


class ExerciseCheckFailed(AssertionError):
    """An exercise answer is not right yet; the message says why and how to fix it."""

    def __init__(self, message: str, hint: str | None = None):
        text = f"Not quite: {message}"
        if hint:
            text += f"\nHint: {hint}"
        super().__init__(text)


def passed(what: str) -> None:
    """Print the success line of a check."""
    print(f"Check passed: {what}")


def fail(message: str, hint: str | None = None):
    """Raise :class:`ExerciseCheckFailed` with a message and an optional hint."""
    raise ExerciseCheckFailed(message, hint)


def _to_numpy(value, name: str) -> np.ndarray:
    if value is None:
        fail(f"`{name}` is None", "did you forget to `return` it, or to assign it?")
    if callable(value) and not hasattr(value, "shape"):
        fail(f"`{name}` is a function, not a value", f"call it: `{name}(...)`")
    try:
        return np.asarray(value)
    except Exception as error:  # noqa: BLE001 - any conversion problem is the learner's to see
        fail(f"`{name}` cannot be turned into an array ({type(error).__name__}: {error})")


def check_type(value, expected_type, name: str = "answer") -> None:
    if not isinstance(value, expected_type):
        expected = getattr(expected_type, "__name__", str(expected_type))
        fail(f"`{name}` should be a {expected}, but it is a {type(value).__name__}")


def check_shape(value, expected_shape, name: str = "answer", hint: str | None = None) -> np.ndarray:
    """Check an array's shape; ``None`` in ``expected_shape`` matches any size."""
    array = _to_numpy(value, name)
    expected_shape = tuple(expected_shape)
    ok = array.ndim == len(expected_shape) and all(e is None or e == a for e, a in zip(expected_shape, array.shape))
    if not ok:
        fail(f"`{name}` has shape {array.shape}, expected {expected_shape}", hint)
    return array


def check_close(value, expected, name: str = "answer", atol: float = 1e-5, rtol: float = 1e-4,
                hint: str | None = None) -> None:
    """Check that ``value`` is numerically close to ``expected`` (shape first, then values)."""
    expected = np.asarray(expected)
    array = check_shape(value, expected.shape, name, hint)
    if not np.issubdtype(array.dtype, np.number) and array.dtype != bool:
        fail(f"`{name}` should hold numbers, but its dtype is {array.dtype}", hint)
    if not np.all(np.isfinite(array)):
        fail(f"`{name}` contains NaN or infinite values", hint)
    difference = np.abs(array.astype(np.float64) - expected.astype(np.float64))
    if not np.allclose(array, expected, atol=atol, rtol=rtol):
        worst = np.unravel_index(np.argmax(difference), difference.shape) if difference.ndim else ()
        fail(f"`{name}` differs from the expected values by up to {difference.max():.4g} "
             f"(at index {tuple(int(i) for i in worst)}: got {array[worst]!r}, expected {expected[worst]!r})", hint)


def check_equal(value, expected, name: str = "answer", hint: str | None = None) -> None:
    """Check exact equality of plain values (strings, ints, lists, dicts)."""
    if value != expected:
        fail(f"`{name}` is {value!r}, expected {expected!r}", hint)



def as_int(value, call: str) -> int:
    """The learner's answer to ``call`` as an int, or a friendly failure (None, not a number)."""
    if value is None:
        fail(f"{call} returned None", "return the number")
    try:
        return int(value)
    except (TypeError, ValueError):
        fail(f"{call} should return an int, got {value!r}")
