"""Exercise checks of lesson 14 (flow matching and latent diffusion)."""

from __future__ import annotations

import numbers

import numpy as np

from mmgen_lib.checks import call_answer, describe, expect_function, fail, passed, show

__all__ = ["check_euler_sampler", "check_guidance", "check_w0_prediction"]

PROBE_ATTRIBUTES = ("shape", "color", "size", "position")


def _require_function(fn, name: str, signature: str) -> None:
    expect_function(fn, name, signature)


def _call(fn, call: str, *args):
    return call_answer(fn, call, *args)


def _as_array(value, call: str, shape) -> np.ndarray:
    if value is None:
        fail("{call} returned None", "did you forget to `return` the result?", call=call)
    if isinstance(value, tuple) and len(value) == 2:
        fail("{call} returned a pair (maybe the final point and the path)", "return only the final points x", call=call)
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        fail("{call} should return an array of numbers, got {got}", call=call, got=describe(value))
    if array.shape != tuple(shape):
        fail(
            "{call} returned shape {got}, expected {expected}",
            "one row per starting point",
            call=call,
            got=array.shape,
            expected=tuple(shape),
        )
    return array


def check_euler_sampler(euler_sampler) -> None:
    """Exercise 1: ``euler_sampler(velocity_fn, x0, steps)`` integrates dx/dt = v(x, t) from t = 0 to 1."""
    _require_function(euler_sampler, "euler_sampler", "euler_sampler(velocity_fn, x0, steps)")
    x0 = np.array([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0]])
    constant = _as_array(
        _call(euler_sampler, "euler_sampler(v = 3, x0, 2)", lambda x, t: np.full_like(x, 3.0), x0, 2),
        "euler_sampler(v = 3, x0, 2)",
        x0.shape,
    )
    if np.allclose(constant, x0):
        fail("with the constant velocity 3 the points did not move", "each step adds h * v(x, t) to x")
    if np.allclose(constant, x0 + 6.0):
        fail(
            "two steps of the constant velocity 3 moved the points by 6, not 3: each step must be h * v",
            "the step size is h = 1 / steps, so the steps add up to t = 1",
        )
    if not np.allclose(constant, x0 + 3.0):
        fail(
            "two steps of the constant velocity 3 should give x0 + 3, got {got} for x0 = {x0}",
            "the step size is h = 1 / steps",
            got=show(constant[0]),
            x0=show(x0[0]),
        )
    in_time = _as_array(
        _call(euler_sampler, "euler_sampler(v = t, x0, 4)", lambda x, t: np.full_like(x, float(t)), x0, 4),
        "euler_sampler(v = t, x0, 4)",
        x0.shape,
    )
    expected = x0 + sum(k / 4 for k in range(4)) / 4  # t = 0, 1/4, 2/4, 3/4
    if np.allclose(in_time, x0 + sum((k + 1) / 4 for k in range(4)) / 4):
        fail(
            "the velocity is read at the end of each step (t = 1/4 ... 1)",
            "Euler reads v at the start of the step: t = k / steps for k = 0 .. steps - 1",
        )
    if np.allclose(in_time, x0 + 0.5):
        fail(
            "with v = t the result is exact (x0 + 1/2): that is not Euler's method",
            "take `steps` plain steps x <- x + h * v(x, t), with t = k / steps",
        )
    if not np.allclose(in_time, expected):
        fail(
            "with v(x, t) = t and 4 steps, Euler gives x0 + {expected}, got x0 + {got}",
            "t = k / steps and h = 1 / steps, for k = 0 .. steps - 1",
            expected=show(expected[0, 0] - x0[0, 0]),
            got=show(in_time[0, 0] - x0[0, 0]),
        )
    linear = _as_array(
        _call(euler_sampler, "euler_sampler(v = -x, x0, 2)", lambda x, t: -np.asarray(x), x0, 2),
        "euler_sampler(v = -x, x0, 2)",
        x0.shape,
    )
    if not np.allclose(linear, x0 * 0.25):
        fail(
            "with v(x, t) = -x and 2 steps the points should shrink to x0 / 4 (each step multiplies by 1/2)",
            "evaluate the velocity at the *current* x, not at x0",
        )
    passed("Euler's method: steps of h = 1/steps, velocity read at the current x and the step's start time")


def check_guidance(guide) -> None:
    """Exercise 2: ``guide(v_cond, v_uncond, w)`` is classifier-free guidance v_u + w (v_c - v_u)."""
    _require_function(guide, "guide", "guide(v_cond, v_uncond, w)")
    rng = np.random.default_rng(14)
    v_c, v_u = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    results = {}
    for w in (0.0, 1.0, 3.0):
        call = f"guide(v_cond, v_uncond, {w})"
        results[w] = _as_array(_call(guide, call, v_c, v_u, w), call, v_c.shape)
    if np.allclose(results[3.0], v_c + 3.0 * (v_c - v_u)):
        fail(
            "guide(v_c, v_u, 3) gives v_c + 3 (v_c - v_u): that is the '1 + w' convention",
            "in this lesson w = 1 must be the plain conditional model: start from v_u",
        )
    if np.allclose(results[3.0], v_c + 3.0 * (v_u - v_c)) or np.allclose(results[3.0], v_u + 3.0 * (v_u - v_c)):
        fail("the difference points the wrong way: guidance pushes *towards* the condition", "use (v_c - v_u)")
    if not np.allclose(results[0.0], v_u):
        fail("w = 0 should give the unconditional velocity v_u")
    if not np.allclose(results[1.0], v_c):
        fail("w = 1 should give the conditional velocity v_c")
    if not np.allclose(results[3.0], v_u + 3.0 * (v_c - v_u)):
        fail("w = 3 should extrapolate: v_u + 3 (v_c - v_u)")
    passed("classifier-free guidance: w = 0 unconditional, w = 1 conditional, w > 1 beyond it")


def check_w0_prediction(prediction, measured) -> None:
    """Exercise 3: predicted probe accuracy per attribute at w = 0, compared with the measured sweep value."""
    if not isinstance(prediction, dict):
        fail(
            "`prediction` should be a dict attribute -> accuracy, got {got}",
            "e.g. {{'shape': ..., 'color': ..., 'size': ..., 'position': ...}}",
            got=describe(prediction),
        )
    if not isinstance(measured, dict) or set(measured) < set(PROBE_ATTRIBUTES):
        fail("`measured` should be the sweep's probe accuracies at w = 0 (a dict with the four attributes)")
    missing = [a for a in PROBE_ATTRIBUTES if a not in prediction]
    if missing:
        fail(
            "`prediction` has no entry for {missing}",
            "give a number for each of {attributes}",
            missing=missing,
            attributes=PROBE_ATTRIBUTES,
        )
    for name in PROBE_ATTRIBUTES:
        value = prediction[name]
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
            fail("prediction[{name!r}] should be an accuracy between 0 and 1, got {got}", name=name, got=show(value))
    if all(prediction[a] >= 0.85 for a in PROBE_ATTRIBUTES):
        fail(
            "you predict that w = 0 still follows the caption",
            "w = 0 keeps only v_u, the velocity trained with the caption dropped: what does it know of the caption?",
        )
    wrong = [a for a in PROBE_ATTRIBUTES if abs(prediction[a] - measured[a]) > 0.12]
    if wrong:
        fail(
            "far from what the sweep measured for {wrong}",
            "without the caption each attribute is right only by chance: 1 / (number of values)",
            wrong=wrong,
        )
    passed("w = 0 samples ignore the caption: each attribute right only by chance")
