"""The lesson 12 exercise checks accept the reference answers and reject plausible wrong ones."""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf
from test_checks import Answers, answer_cases, judge

from mmgen_lib.checks import ExerciseCheckFailed
from mmgen_lib.checks.lesson12 import check_fgsm_attack, check_modality_mask, check_visible_drop
from mmgen_lib.data import VISIBLE_ATTRIBUTES


def random_modality_mask(batch, n_modalities, rate, rng):
    mask = np.ones((batch, n_modalities), "float32")
    drop = rng.random(batch) < rate
    victim = rng.integers(0, n_modalities, batch)
    mask[np.flatnonzero(drop), victim[drop]] = 0.0
    return mask


def test_modality_mask_reference_passes(capsys):
    check_modality_mask(random_modality_mask)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda b, n, r, rng: (rng.random((b, n)) >= r).astype("float32"), "lose more than one modality"),
        (lambda b, n, r, rng: np.ones((b, n), "float32"), "of the rows lost a modality"),
        (lambda b, n, r, rng: random_modality_mask(b, n, r, rng)[:, :1], "has shape"),
        (
            lambda b, n, r, rng: np.where(np.arange(n) == 0, (rng.random((b, 1)) >= r), 1).astype("float32"),
            "not chosen uniformly",
        ),
        (lambda b, n, r, rng: random_modality_mask(b, n, r, np.random.default_rng()), "same seed gave different"),
        (lambda b, n, r, rng: np.ones((b, n + 1)), "has shape"),
    ],
)
def test_modality_mask_wrong_answers_are_rejected(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_modality_mask(wrong)


@pytest.fixture(scope="module")
def color_model():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    hidden = keras.layers.Dense(4)(keras.layers.Flatten()(inputs))
    return keras.Model(inputs, {"color": hidden})


def _attack(model, images, labels, epsilon, sign=1.0, use_sign=True, clip=True):
    images = tf.convert_to_tensor(images)
    with tf.GradientTape() as tape:
        tape.watch(images)
        loss = tf.reduce_mean(
            keras.losses.sparse_categorical_crossentropy(labels, model(images)["color"], from_logits=True)
        )
    gradient = tape.gradient(loss, images)
    step = tf.sign(gradient) if use_sign else gradient
    out = (images + sign * epsilon * step).numpy()
    return np.clip(out, 0, 1) if clip else out


def _data():
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, (16, 8, 8, 3)).astype("float32"), rng.integers(0, 4, 16)


def test_fgsm_attack_reference_passes(color_model, capsys):
    images, labels = _data()
    check_fgsm_attack(_attack, color_model, images, labels)
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"sign": -1.0}, "moved DOWN the loss"),
        ({"use_sign": False}, "SIGN of the gradient"),
        ({"clip": False}, "leave \\[0, 1\\]"),
    ],
)
def test_fgsm_attack_wrong_answers_are_rejected(color_model, kwargs, message):
    images, labels = _data()
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_fgsm_attack(lambda m, x, y, e: _attack(m, x, y, e, **kwargs), color_model, images, labels)


def test_visible_drop_reference_passes(capsys):
    check_visible_drop(lambda full, missing: float(np.mean([full[a] - missing[a] for a in VISIBLE_ATTRIBUTES])))
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, message",
    [
        (lambda full, missing: float(np.mean([full[a] - missing[a] for a in full])), "material was counted"),
        (lambda full, missing: float(np.mean([missing[a] - full[a] for a in VISIBLE_ATTRIBUTES])), "sign is reversed"),
        (lambda full, missing: None, "returned None"),
        (lambda full, missing: full["color"] - missing["color"], "expected 0.15"),
    ],
)
def test_visible_drop_wrong_answers_are_rejected(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_visible_drop(wrong)


def saturated_data():
    """Images like the real ones: most pixels saturated at 0 or 1 (the case the old "moved DOWN" hint missed)."""
    rng = np.random.default_rng(1)
    return np.clip(rng.uniform(-0.6, 1.6, (16, 8, 8, 3)), 0, 1).astype("float32"), rng.integers(0, 4, 16)


@functools.cache
def model_for_table():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 8, 3))
    return keras.Model(inputs, {"color": keras.layers.Dense(4)(keras.layers.Flatten()(inputs))})


def fgsm_case(answer):
    images, labels = saturated_data()
    check_fgsm_attack(answer, model_for_table(), images, labels)


def library_fgsm(model, images, labels, epsilon):
    from mmgen_lib import robustness

    def loss(x):
        return keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, model(x)["color"], from_logits=True))

    return robustness.fgsm(loss, images, epsilon)


def keras_ops_attack(model, images, labels, epsilon):
    x = tf.Variable(images)
    with tf.GradientTape() as tape:
        logits = model(x)["color"]
        loss = keras.ops.mean(keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
    return tf.clip_by_value(x + epsilon * tf.sign(tape.gradient(loss, x)), 0.0, 1.0)  # a tensor, not NumPy


def visible_drop_loop(full, missing):
    drops = [full[name] - missing[name] for name in ("shape", "color", "size", "position")]
    return sum(drops) / len(drops)


ANSWERS = {
    "check_modality_mask": Answers(
        run=check_modality_mask,
        right=random_modality_mask,
        alternative=lambda b, n, r, rng: [
            [0 if (d and j == v) else 1 for j in range(n)] for d, v in zip(rng.random(b) < r, rng.integers(0, n, b))
        ],
        constant=lambda b, n, r, rng: np.tile([1, 0, 1], (4000, 1)),
        wrong_type=lambda b, n, r, rng: {"mask": random_modality_mask(b, n, r, rng)},
        wrong=(
            (lambda b, n, r, rng: (rng.random((b, n)) >= r).astype("float32"), "lose more than one modality"),
            (lambda b, n, r, rng: random_modality_mask(b, n, 0.5, rng), "lost a modality with rate=0.3"),
            (lambda b, n, r, rng: random_modality_mask(b, n, r, np.random.default_rng()), "same seed"),
        ),
    ),
    "check_fgsm_attack": Answers(
        run=fgsm_case,
        right=_attack,
        alternative=keras_ops_attack,
        constant=lambda m, x, y, e: np.full_like(x, 0.5),
        wrong_type=lambda m, x, y, e: (_attack(m, x, y, e), e),
        wrong=(
            (library_fgsm, "calls the library's `fgsm`"),
            (lambda m, x, y, e: _attack(m, x, y, e, sign=-1.0), "moved DOWN the loss"),
            (lambda m, x, y, e: _attack(m, x, y, e, use_sign=False), "SIGN of the gradient"),
            (lambda m, x, y, e: _attack(m, x, y, e, clip=False), "leave \\[0, 1\\]"),
        ),
    ),
    "check_visible_drop": Answers(
        run=check_visible_drop,
        right=lambda full, missing: float(np.mean([full[a] - missing[a] for a in VISIBLE_ATTRIBUTES])),
        alternative=visible_drop_loop,
        constant=lambda full, missing: 0.15,  # the value the old check printed for its one pair of dicts
        wrong_type=lambda full, missing: {a: full[a] - missing[a] for a in VISIBLE_ATTRIBUTES},
        wrong=(
            (lambda full, missing: float(np.mean([full[a] - missing[a] for a in full])), "material was counted"),
            (lambda full, missing: float(np.mean([missing[a] - full[a] for a in VISIBLE_ATTRIBUTES])), "sign"),
            (lambda full, missing: float(np.sum([full[a] - missing[a] for a in VISIBLE_ATTRIBUTES])), "the sum"),
            (lambda full, missing: np.array([full[a] - missing[a] for a in VISIBLE_ATTRIBUTES]), "one number"),
        ),
    ),
}


@pytest.mark.parametrize("name, kind, answer, match", answer_cases(ANSWERS))
def test_answer_table(name, kind, answer, match, capsys):
    judge(ANSWERS[name], kind, answer, match, capsys)


def test_fgsm_saturated_images_moved_down_get_the_down_hint():
    images, labels = saturated_data()
    assert np.mean((images == 0) | (images == 1)) > 0.3
    with pytest.raises(ExerciseCheckFailed, match="moved DOWN"):
        check_fgsm_attack(lambda m, x, y, e: _attack(m, x, y, e, sign=-1.0), model_for_table(), images, labels)
