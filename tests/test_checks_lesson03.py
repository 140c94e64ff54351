"""Tests of the lesson 03 exercise checks: right answers pass, plausible wrong ones are explained."""

import numpy as np
import pytest
from test_checks import Answers, answer_cases, judge

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson03 import check_conv2d_valid, check_image_encoder_params, check_max_pool


def right_conv(image, kernel):
    k = kernel.shape[0]
    out = np.zeros((image.shape[0] - k + 1, image.shape[1] - k + 1))
    for i in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[i, j] = np.sum(image[i : i + k, j : j + k] * kernel)
    return out


def flipped_conv(image, kernel):
    return right_conv(image, kernel[::-1, ::-1])


def same_conv(image, kernel):
    return right_conv(np.pad(image, ((1, 1), (1, 1), (0, 0))), kernel)[: image.shape[0], : image.shape[1]]


def test_conv2d_valid_accepts_the_right_answer(capsys):
    check_conv2d_valid(right_conv)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (flipped_conv, "flipped"),
        (same_conv, "'same' convolution"),
        (lambda image, kernel: right_conv(image, kernel) + 1.0, "differs"),
        (lambda image, kernel: None, "None"),
    ],
)
def test_conv2d_valid_rejects_wrong_answers(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_conv2d_valid(wrong)


def right_pool(x):
    h, w, c = x.shape
    return x.reshape(h // 2, 2, w // 2, 2, c).max(axis=(1, 3))


def test_max_pool_accepts_the_right_answer(capsys):
    check_max_pool(right_pool)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda x: x.reshape(x.shape[0] // 2, 2, x.shape[1] // 2, 2, x.shape[2]).mean(axis=(1, 3)), "average pooling"),
        (lambda x: right_pool(x).max(axis=-1), "channels were pooled together"),
        (lambda x: x[::2, ::2], "differs"),
    ],
)
def test_max_pool_rejects_wrong_answers(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_max_pool(wrong)


def right_params(filters, output_dim):
    total, channels = 0, 3
    for f in filters:
        total, channels = total + 9 * channels * f + f, f
    grid = 32 // 2 ** len(filters)
    return total + grid * grid * channels * output_dim + output_dim


def test_image_encoder_params_accepts_the_right_answer(capsys):
    check_image_encoder_params(right_params)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda f, o: right_params(f, o) - (32 // 2 ** len(f)) ** 2 * f[-1] * o + f[-1] * o, "reads only filters"),
        (lambda f, o: right_params(f, o) - sum(f) - o, "biases are missing"),
        (lambda f, o: 7, "expected"),
    ],
)
def test_image_encoder_params_rejects_wrong_answers(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_image_encoder_params(wrong)


def strided_conv(image, kernel):
    k = kernel.shape[0]
    windows = np.lib.stride_tricks.sliding_window_view(image, (k, k), axis=(0, 1))  # (H', W', C, k, k)
    return np.tensordot(windows, kernel.transpose(2, 0, 1), axes=([2, 3, 4], [0, 1, 2])).astype(np.float32)


def loop_pool(x):
    h, w, c = x.shape
    return [
        [[float(x[2 * i : 2 * i + 2, 2 * j : 2 * j + 2, ch].max()) for ch in range(c)] for j in range(w // 2)]
        for i in range(h // 2)
    ]


ANSWERS = {
    "check_conv2d_valid": Answers(
        run=check_conv2d_valid,
        right=right_conv,
        alternative=strided_conv,
        constant=lambda image, kernel: np.zeros((5, 6)),
        wrong_type=lambda image, kernel: [right_conv(image, kernel), "done"],
        wrong=(
            (flipped_conv, "flipped"),
            (same_conv, "'same' convolution"),
            (lambda image, kernel: right_conv(image, kernel)[:-1], "shape"),
            (lambda image, kernel: right_conv(image, kernel) + 1.0, "differs"),
        ),
    ),
    "check_max_pool": Answers(
        run=check_max_pool,
        right=right_pool,
        alternative=loop_pool,
        constant=lambda x: np.ones((3, 4, 3)),
        wrong_type=lambda x: {"pooled": right_pool(x)},
        wrong=(
            (
                lambda x: x.reshape(x.shape[0] // 2, 2, x.shape[1] // 2, 2, x.shape[2]).mean(axis=(1, 3)),
                "average pooling",
            ),
            (lambda x: right_pool(x).max(axis=-1), "channels were pooled together"),
            (lambda x: x[::2, ::2], "differs"),
        ),
    ),
    "check_image_encoder_params": Answers(
        run=check_image_encoder_params,
        right=right_params,
        alternative=lambda f, o: np.int64(right_params(f, o)),
        constant=lambda f, o: 52_000,
        wrong_type=lambda f, o: (right_params(f, o),),
        wrong=(
            (lambda f, o: right_params(f, o) - (32 // 2 ** len(f)) ** 2 * f[-1] * o + f[-1] * o, "reads only filters"),
            (lambda f, o: right_params(f, o) - sum(f) - o, "biases are missing"),
            (lambda f, o: right_params(f, o) + 1, "expected"),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)
