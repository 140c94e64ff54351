"""The lesson 12 exercise checks accept the reference answers and reject plausible wrong ones."""

import keras
import numpy as np
import pytest
import tensorflow as tf

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


@pytest.mark.parametrize("wrong, message", [
    (lambda b, n, r, rng: (rng.random((b, n)) >= r).astype("float32"), "lose more than one modality"),
    (lambda b, n, r, rng: np.ones((b, n), "float32"), "of the rows lost a modality"),
    (lambda b, n, r, rng: np.where(np.arange(n) == 0, (rng.random((b, 1)) >= r), 1).astype("float32"),
     "not chosen uniformly"),
    (lambda b, n, r, rng: random_modality_mask(b, n, r, np.random.default_rng()), "same seed gave different"),
    (lambda b, n, r, rng: np.ones((b, n + 1)), "has shape"),
])
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
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(labels, model(images)["color"],
                                                                           from_logits=True))
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


@pytest.mark.parametrize("kwargs, message", [
    ({"sign": -1.0}, "moved DOWN the loss"),
    ({"use_sign": False}, "SIGN of the gradient"),
    ({"clip": False}, "leave \\[0, 1\\]"),
])
def test_fgsm_attack_wrong_answers_are_rejected(color_model, kwargs, message):
    images, labels = _data()
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_fgsm_attack(lambda m, x, y, e: _attack(m, x, y, e, **kwargs), color_model, images, labels)


def test_visible_drop_reference_passes(capsys):
    check_visible_drop(lambda full, missing: float(np.mean([full[a] - missing[a] for a in VISIBLE_ATTRIBUTES])))
    assert "Check passed" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, message", [
    (lambda full, missing: float(np.mean([full[a] - missing[a] for a in full])), "material was counted"),
    (lambda full, missing: float(np.mean([missing[a] - full[a] for a in VISIBLE_ATTRIBUTES])), "sign is reversed"),
    (lambda full, missing: None, "returned None"),
    (lambda full, missing: full["color"] - missing["color"], "expected 0.1500"),
])
def test_visible_drop_wrong_answers_are_rejected(wrong, message):
    with pytest.raises(ExerciseCheckFailed, match=message):
        check_visible_drop(wrong)
