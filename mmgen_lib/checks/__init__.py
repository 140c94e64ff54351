"""Friendly self-checks for the exercises (every lesson).

Each exercise is followed by a cell that calls one function from here. A check
prints a short success line, or raises :class:`ExerciseCheckFailed` whose message
says what is wrong (a type, a shape, a value, a hint) — never a bare ``AssertionError``
and never a crash inside the check itself.

This package holds the generic helpers; each lesson's exercise checks live in their own
module, ``mmgen_lib.checks.lessonNN``, e.g. ``from mmgen_lib.checks.lesson01 import
check_mean_object_color``.

Messages are written for translation: every message and hint is ONE format string
(``"for clip {i} you returned {got} Hz"``) whose fields are passed separately to
:func:`fail` / :func:`passed`; the wrapper words ("Not quite:", "Hint:", "Check passed:")
are added here only. Values shown to the learner go through :func:`show` (plain numbers,
never ``np.float64(...)``) and unexpected answers through :func:`describe`.
"""

from __future__ import annotations

import numbers

import numpy as np

from mmgen_lib.i18n import translate

__all__ = [
    "ExerciseCheckFailed",
    "passed",
    "fail",
    "show",
    "describe",
    "expect_function",
    "call_answer",
    "as_number",
    "as_array",
    "as_pair",
    "as_int",
    "check_type",
    "check_shape",
    "check_close",
    "check_equal",
]

PREFIX = "Not quite: {message}"
HINT = "\nHint: {hint}"
SUCCESS = "Check passed: {message}"


class ExerciseCheckFailed(AssertionError):
    """An exercise answer is not right yet; the message says why and how to fix it."""

    def __init__(self, message: str, hint: str | None = None):
        text = translate(PREFIX).format(message=message)
        if hint:
            text += translate(HINT).format(hint=hint)
        super().__init__(text)


def _fill(template: str | None, fields: dict) -> str | None:
    """The template in the learner's language (``mmgen_lib.i18n``), its fields filled in."""
    template = translate(template)
    if template is None or not fields:
        return template
    return template.format(**fields)


def passed(what: str, **fields) -> None:
    """Print the success line of a check (``what`` is a format string filled with ``fields``)."""
    print(translate(SUCCESS).format(message=_fill(what, fields)))


def fail(message: str, hint: str | None = None, **fields):
    """Raise :class:`ExerciseCheckFailed`; ``message`` and ``hint`` are format strings filled with ``fields``."""
    raise ExerciseCheckFailed(_fill(message, fields), _fill(hint, fields))


def _fail(message: str, hint: str | None, **fields):
    """Like :func:`fail`, for helpers whose ``hint`` comes from the caller, already filled in."""
    raise ExerciseCheckFailed(_fill(message, fields), translate(hint))


# ------------------------------------------------------------------ showing values
def show(value, digits: int = 4) -> str:
    """A value as the learner would type it: numbers rounded to ``digits`` significant digits,
    NumPy scalars and arrays as plain numbers and lists (no ``np.float64(...)``)."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        text = f"{float(value):.{digits}g}"
        return text if any(c in text for c in ".einf") else text + ".0"  # 2.0 stays a float: "2.0", not "2"
    if isinstance(value, np.ndarray):
        if value.dtype.kind in "fc":
            value = np.vectorize(lambda v: float(f"{v:.{digits}g}"), otypes=[float])(value) if value.size else value
        return str(value.tolist())
    if isinstance(value, (list, tuple)):
        inner = ", ".join(show(v, digits) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner}{',' if len(value) == 1 else ''})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{show(k, digits)}: {show(v, digits)}" for k, v in value.items()) + "}"
    if hasattr(value, "numpy") and hasattr(value, "shape"):
        return show(np.asarray(value), digits)
    return repr(value)


KINDS = {  # how describe() names an answer, one template per kind (translated as a whole)
    "none": "None",
    "boolean": "the boolean {value}",
    "number": "the number {value}",
    "string": "the string {value!r}",
    "dict": "a dict with keys {keys}",
    "sequence": "a {type} of {n} item(s)",
    "array": "an array of shape {shape} and dtype {dtype}",
    "function": "a function",
    "other": "a {type}",
}


def _kind(kind: str) -> str:
    return translate(KINDS[kind])


def describe(value) -> str:
    """What kind of thing ``value`` is, for "expected X, got Y" messages."""
    if value is None:
        return _kind("none")
    if isinstance(value, (bool, np.bool_)):
        return _kind("boolean").format(value=bool(value))
    if isinstance(value, (numbers.Number, np.generic)) and not isinstance(value, np.ndarray):
        return _kind("number").format(value=show(value))
    if isinstance(value, str):
        return _kind("string").format(value=value)
    if isinstance(value, dict):
        return _kind("dict").format(keys=show(list(value)[:6]))
    if isinstance(value, (list, tuple)):
        return _kind("sequence").format(type=type(value).__name__, n=len(value))
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        dtype = getattr(value.dtype, "name", value.dtype)
        return _kind("array").format(shape=tuple(value.shape), dtype=dtype)
    if callable(value):
        return _kind("function")
    return _kind("other").format(type=type(value).__name__)


# ------------------------------------------------------------------ calling the learner's code
def expect_function(fn, name: str, signature: str | None = None) -> None:
    """Fail unless ``fn`` is callable (the learner may have assigned a value instead)."""
    if not callable(fn):
        fail(
            "`{name}` should be a function, but it is {got}",
            "define it with `def {signature}:`",
            name=name,
            got=describe(fn),
            signature=signature or f"{name}(...)",
        )


def call_answer(fn, call: str, *args, **kwargs):
    """``fn(*args, **kwargs)``; an error raised in the learner's code becomes a message that names the
    call (the learner's own traceback stays attached); ``None`` gets the "forgot return" hint."""
    try:
        result = fn(*args, **kwargs)
    except ExerciseCheckFailed:
        raise
    except Exception as error:  # noqa: BLE001 - the learner's code, not the check, raised it
        first_line = (str(error).splitlines() or [""])[0][:200]
        raise ExerciseCheckFailed(
            _fill("{call} raised {error}: {text}", dict(call=call, error=type(error).__name__, text=first_line)),
            "the error comes from your code: its traceback is printed above this message",
        ) from error
    if result is None:
        fail("{call} returned None", "did you forget the `return` statement?", call=call)
    return result


# ------------------------------------------------------------------ expected kinds of answers
def _is_tensor(value) -> bool:
    return hasattr(value, "numpy") and hasattr(value, "shape") and hasattr(value, "dtype")


def as_number(value, name: str, hint: str | None = None) -> float:
    """One real number (Python, NumPy or 0-d array/tensor) as a float, else "expected a number, got ..."."""
    if value is None:
        _fail("`{name}` is None", "did you forget to `return` it, or to assign it?", name=name)
    if _is_tensor(value):
        value = np.asarray(value)
    if isinstance(value, np.ndarray) and value.shape == () and value.dtype.kind in "biuf":
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        _fail(
            "`{name}` should be one number, but it is {got}",
            hint or "reduce it to a single number (e.g. with .mean() or float(...))",
            name=name,
            got=describe(value),
        )
    value = float(value)
    if not np.isfinite(value):
        _fail("`{name}` is {got}, not a finite number", hint, name=name, got=show(value))
    return value


def as_array(value, name: str, shape=None, hint: str | None = None, numeric: bool = True) -> np.ndarray:
    """``value`` as a NumPy array (tensors and nested lists accepted), with an optional shape check;
    ``None`` in ``shape`` matches any size. Dicts, strings, functions and ragged lists are explained."""
    if value is None:
        _fail("`{name}` is None", "did you forget to `return` it, or to assign it?", name=name)
    if callable(value) and not hasattr(value, "shape"):
        fail("`{name}` is a function, not a value", "call it: `{name}(...)`", name=name)
    if isinstance(value, (dict, str, set)):
        _fail("`{name}` should be an array, but it is {got}", hint, name=name, got=describe(value))
    try:
        array = np.asarray(value)
    except Exception as error:  # noqa: BLE001 - ragged lists and the like
        _fail(
            "`{name}` cannot be turned into an array ({error})",
            hint or "every row must have the same length",
            name=name,
            error=f"{type(error).__name__}: {error}",
        )
    if numeric and not (np.issubdtype(array.dtype, np.number) or array.dtype == bool):
        _fail("`{name}` should hold numbers, but its dtype is {dtype}", hint, name=name, dtype=array.dtype)
    if shape is not None:
        shape = tuple(shape)
        ok = array.ndim == len(shape) and all(e is None or e == a for e, a in zip(shape, array.shape))
        if not ok:
            _fail(
                "`{name}` has shape {got}, expected {expected}",
                hint,
                name=name,
                got=tuple(array.shape),
                expected=tuple("any" if e is None else e for e in shape) if None in shape else shape,
            )
    return array


def as_pair(value, name: str, items: str, hint: str | None = None) -> tuple:
    """A tuple or list of exactly two things (``items`` names them, e.g. "(inputs, targets)")."""
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        _fail(
            "`{name}` should return two things {items}, but it returned {got}",
            hint,
            name=name,
            items=items,
            got=describe(value),
        )
    return tuple(value)


def as_int(value, call: str) -> int:
    """The learner's answer to ``call`` as an int, or a friendly failure (None, not a whole number)."""
    if value is None:
        _fail("{call} returned None", "return the number", call=call)
    if _is_tensor(value) or isinstance(value, np.ndarray) and value.shape == ():
        value = np.asarray(value)[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real) or not float(value).is_integer():
        _fail(
            "{call} should return a whole number (int), but it returned {got}",
            "return an int",
            call=call,
            got=describe(value),
        )
    return int(value)


# ------------------------------------------------------------------ generic comparisons
def check_type(value, expected_type, name: str = "answer") -> None:
    if not isinstance(value, expected_type):
        _fail(
            "`{name}` should be a {expected}, but it is {got}",
            None,
            name=name,
            expected=getattr(expected_type, "__name__", str(expected_type)),
            got=describe(value),
        )


def check_shape(value, expected_shape, name: str = "answer", hint: str | None = None) -> np.ndarray:
    """Check an array's shape; ``None`` in ``expected_shape`` matches any size."""
    return as_array(value, name, expected_shape, hint, numeric=False)


def check_close(
    value, expected, name: str = "answer", atol: float = 1e-5, rtol: float = 1e-4, hint: str | None = None
) -> None:
    """Check that ``value`` is numerically close to ``expected`` (shape first, then values)."""
    expected = np.asarray(expected)
    array = as_array(value, name, expected.shape, hint)
    if not np.all(np.isfinite(array)):
        _fail("`{name}` contains NaN or infinite values", hint, name=name)
    difference = np.abs(array.astype(np.float64) - expected.astype(np.float64))
    if not np.allclose(array, expected, atol=atol, rtol=rtol):
        worst = np.unravel_index(np.argmax(difference), difference.shape) if difference.ndim else ()
        _fail(
            "`{name}` differs from the expected values by up to {difference} "
            "(at index {index}: got {got}, expected {expected})",
            hint,
            name=name,
            difference=show(difference.max()),
            index=tuple(int(i) for i in worst),
            got=show(array[worst], 6),
            expected=show(expected[worst], 6),
        )


def check_equal(value, expected, name: str = "answer", hint: str | None = None) -> None:
    """Check exact equality of plain values (strings, ints, lists, dicts)."""
    if value != expected:
        _fail("`{name}` is {got}, expected {expected}", hint, name=name, got=show(value), expected=show(expected))
