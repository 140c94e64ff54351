"""The exercise checks of lesson 14 accept the reference answers and reject plausible wrong ones, kindly."""

import numpy as np
import pytest
from test_checks import Answers, answer_cases, judge

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson14 import (
    check_euler_sampler,
    check_guidance,
    check_w0_prediction,
)


def euler_sampler(velocity_fn, x0, steps):
    x, h = np.asarray(x0, float), 1.0 / steps
    for k in range(steps):
        x = x + h * velocity_fn(x, k / steps)
    return x


def test_euler_accepts_reference(capsys):
    check_euler_sampler(euler_sampler)
    assert "Check passed" in capsys.readouterr().out


def test_euler_rejects_plausible_wrong_answers():
    def end_time(velocity_fn, x0, steps):
        x = np.asarray(x0, float)
        for k in range(steps):
            x = x + velocity_fn(x, (k + 1) / steps) / steps
        return x

    def no_step_size(velocity_fn, x0, steps):
        x = np.asarray(x0, float)
        for k in range(steps):
            x = x + velocity_fn(x, k / steps)
        return x

    def frozen_x(velocity_fn, x0, steps):
        x = np.asarray(x0, float)
        for k in range(steps):
            x = x + velocity_fn(np.asarray(x0, float), k / steps) / steps
        return x

    with pytest.raises(ExerciseCheckFailed, match="end of each step"):
        check_euler_sampler(end_time)
    with pytest.raises(ExerciseCheckFailed, match="step size"):
        check_euler_sampler(no_step_size)
    with pytest.raises(ExerciseCheckFailed, match="current\\* x"):
        check_euler_sampler(frozen_x)
    with pytest.raises(ExerciseCheckFailed, match="did not move"):
        check_euler_sampler(lambda velocity_fn, x0, steps: x0)  # a constant answer
    with pytest.raises(ExerciseCheckFailed, match="pair"):
        check_euler_sampler(lambda velocity_fn, x0, steps: (euler_sampler(velocity_fn, x0, steps), None))


def test_euler_wrong_types_get_a_message_not_a_crash():
    with pytest.raises(ExerciseCheckFailed, match="should be a function"):
        check_euler_sampler(np.zeros(3))
    with pytest.raises(ExerciseCheckFailed, match="returned None"):
        check_euler_sampler(lambda velocity_fn, x0, steps: None)
    with pytest.raises(ExerciseCheckFailed, match="array of numbers"):
        check_euler_sampler(lambda velocity_fn, x0, steps: "x1")
    with pytest.raises(ExerciseCheckFailed, match="raised TypeError"):
        check_euler_sampler(lambda velocity_fn, x0: x0)
    with pytest.raises(ExerciseCheckFailed, match="shape"):
        check_euler_sampler(lambda velocity_fn, x0, steps: 7.0)


def test_guidance_accepts_reference(capsys):
    check_guidance(lambda v_c, v_u, w: v_u + w * (v_c - v_u))
    check_guidance(lambda v_c, v_u, w: w * v_c + (1 - w) * v_u)  # the same formula, rearranged
    assert capsys.readouterr().out.count("Check passed") == 2


def test_guidance_rejects_wrong_conventions_constants_and_types():
    with pytest.raises(ExerciseCheckFailed, match="1 \\+ w"):
        check_guidance(lambda v_c, v_u, w: v_c + w * (v_c - v_u))
    with pytest.raises(ExerciseCheckFailed, match="wrong way"):
        check_guidance(lambda v_c, v_u, w: v_u + w * (v_u - v_c))
    with pytest.raises(ExerciseCheckFailed, match="unconditional"):
        check_guidance(lambda v_c, v_u, w: v_c)
    with pytest.raises(ExerciseCheckFailed, match="shape"):
        check_guidance(lambda v_c, v_u, w: 0.0)
    with pytest.raises(ExerciseCheckFailed, match="should be a function"):
        check_guidance("v_u + w * (v_c - v_u)")


MEASURED = {"shape": 0.35, "color": 0.27, "size": 0.52, "position": 0.24}


def test_w0_prediction_accepts_chance(capsys):
    check_w0_prediction({"shape": 1 / 3, "color": 1 / 4, "size": 1 / 2, "position": 1 / 4}, MEASURED)
    assert "Check passed" in capsys.readouterr().out


def test_w0_prediction_rejects_wrong_answers_and_types():
    with pytest.raises(ExerciseCheckFailed, match="still follows the caption"):
        check_w0_prediction({a: 0.95 for a in MEASURED}, MEASURED)
    with pytest.raises(ExerciseCheckFailed, match="far from"):
        check_w0_prediction({"shape": 0.0, "color": 0.0, "size": 0.0, "position": 0.0}, MEASURED)
    with pytest.raises(ExerciseCheckFailed, match="no entry"):
        check_w0_prediction({"shape": 0.33}, MEASURED)
    with pytest.raises(ExerciseCheckFailed, match="dict"):
        check_w0_prediction(0.25, MEASURED)
    with pytest.raises(ExerciseCheckFailed, match="between 0 and 1"):
        check_w0_prediction({"shape": "chance", "color": 0.25, "size": 0.5, "position": 0.25}, MEASURED)
    with pytest.raises(ExerciseCheckFailed, match="measured"):
        check_w0_prediction({a: 0.3 for a in MEASURED}, None)


def euler_sampler_in_steps(velocity_fn, x0, steps):
    times = np.linspace(0.0, 1.0, steps + 1)[:-1]
    x = np.array(x0, dtype=float)
    for t, t_next in zip(times, np.append(times[1:], 1.0)):
        x += (t_next - t) * velocity_fn(x, t)
    return x.tolist()


# A realistic guidance row at w = 0, as the sweep of the lesson writes it.
W0_ROW = {**MEASURED, "probe_acc_min": 0.24, "silent_entropy": 1.97}
CHANCE = {"shape": 1 / 3, "color": 1 / 4, "size": 1 / 2, "position": 1 / 4}

ANSWERS = {
    "check_euler_sampler": Answers(
        run=check_euler_sampler,
        right=euler_sampler,
        alternative=euler_sampler_in_steps,
        constant=lambda velocity_fn, x0, steps: np.zeros((3, 2)),
        wrong_type=lambda velocity_fn, x0, steps: None,
        wrong_type_message="returned None",
        wrong=(
            (lambda velocity_fn, x0, steps: x0, "did not move"),
            (lambda velocity_fn, x0, steps: (euler_sampler(velocity_fn, x0, steps), None), "pair"),
            (lambda velocity_fn, x0, steps: euler_sampler(velocity_fn, x0, steps)[:1], "shape"),
            (lambda velocity_fn, x0, steps: euler_sampler(velocity_fn, x0, 2 * steps), "step"),
        ),
    ),
    "check_guidance": Answers(
        run=check_guidance,
        right=lambda v_c, v_u, w: v_u + w * (v_c - v_u),
        alternative=lambda v_c, v_u, w: (w * np.asarray(v_c) + (1 - w) * np.asarray(v_u)).tolist(),
        constant=lambda v_c, v_u, w: np.zeros((4, 3)),
        wrong_type=lambda v_c, v_u, w: None,
        wrong_type_message="returned None",
        wrong=(
            (lambda v_c, v_u, w: v_c + w * (v_c - v_u), "1 \\+ w"),
            (lambda v_c, v_u, w: v_u + w * (v_u - v_c), "wrong way"),
            (lambda v_c, v_u, w: v_c, "unconditional"),
            (lambda v_c, v_u, w: v_u + (v_c - v_u), "unconditional"),
            (lambda v_c, v_u, w: v_u + w**2 * (v_c - v_u), "w = 3"),
        ),
    ),
    "check_w0_prediction": Answers(
        run=lambda prediction: check_w0_prediction(prediction, W0_ROW),
        right=CHANCE,
        alternative={"shape": 0.35, "color": 0.3, "size": 0.5, "position": 0.2},
        constant={"shape": 0.25, "color": 0.25, "size": 0.25, "position": 0.25},
        wrong_type=0.25,
        wrong_type_message="should be a dict",
        wrong=(
            ({a: 0.95 for a in MEASURED}, "still follows the caption"),
            ({a: 0.0 for a in MEASURED}, "far from"),
            ({"shape": 0.33}, "no entry"),
            ({**CHANCE, "size": "chance"}, "between 0 and 1"),
            ({**CHANCE, "color": 1.25}, "between 0 and 1"),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)
