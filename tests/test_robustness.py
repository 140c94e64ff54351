"""Tests of mmgen_lib.robustness: ModalityDropout, noise, FGSM and caption change (lesson 12)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from mmgen_lib.robustness import ModalityDropout, add_gaussian_noise, changed_attributes, fgsm


def _inputs(batch=6, dims=(3, 2), seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(batch, d)).astype("float32") for d in dims]


def test_output_shapes_and_identity_when_all_present():
    z = _inputs()
    layer = ModalityDropout(rate=0.5, missing="learned", seed=1)
    out = layer(z)
    assert [tuple(o.shape) for o in out] == [(6, 3), (6, 2)]
    for a, b in zip(out, z):  # inference, nothing missing: unchanged
        np.testing.assert_allclose(a, b)


def test_parameter_count_learned_vs_zeros():
    learned, zeros = ModalityDropout(missing="learned"), ModalityDropout(missing="zeros")
    learned.build([(None, 3), (None, 2)])
    zeros.build([(None, 3), (None, 2)])
    assert learned.count_params() == 5 and len(learned.trainable_weights) == 2
    assert len(zeros.trainable_weights) == 0 and len(zeros.non_trainable_weights) == 2


def test_numpy_reference_with_mask_and_learned_embedding():
    z_v, z_a = _inputs()
    mask = np.array([[1, 1], [1, 0], [0, 1], [1, 0], [1, 1], [0, 1]], "float32")
    layer = ModalityDropout(missing="learned")
    layer.build([(None, 3), (None, 2)])
    e_v, e_a = np.array([1.0, 2.0, 3.0], "float32"), np.array([-1.0, 0.5], "float32")
    layer.embeddings[0].assign(e_v)
    layer.embeddings[1].assign(e_a)
    out_v, out_a = layer([z_v, z_a], modality_mask=mask)
    np.testing.assert_allclose(out_v, mask[:, :1] * z_v + (1 - mask[:, :1]) * e_v, atol=1e-6)
    np.testing.assert_allclose(out_a, mask[:, 1:] * z_a + (1 - mask[:, 1:]) * e_a, atol=1e-6)


def test_training_drops_one_modality_at_the_rate():
    z = [np.ones((4000, 2), "float32"), np.ones((4000, 2), "float32"), np.ones((4000, 2), "float32")]
    out = ModalityDropout(rate=0.6, seed=3)(z, training=True)
    dropped = np.stack([np.asarray(o)[:, 0] == 0 for o in out], axis=1)  # (batch, 3)
    assert dropped.sum(axis=1).max() == 1  # never more than one modality per example
    assert abs(dropped.any(axis=1).mean() - 0.6) < 0.03
    assert np.all(np.abs(dropped.mean(axis=0) - 0.2) < 0.03)  # the victim is chosen uniformly


def test_same_seed_same_drops():
    z = _inputs(batch=64)
    first = ModalityDropout(rate=0.5, seed=7)(z, training=True)
    second = ModalityDropout(rate=0.5, seed=7)(z, training=True)
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_config_round_trip_and_keras_save_load(tmp_path):
    layer = ModalityDropout(rate=0.25, missing="learned", seed=4, name="stand_in")
    clone = ModalityDropout.from_config(layer.get_config())
    assert (clone.rate, clone.missing, clone.seed, clone.name) == (0.25, "learned", 4, "stand_in")

    a, b, m = keras.Input((3,)), keras.Input((2,)), keras.Input((2,))
    out_v, out_a = layer([a, b], modality_mask=m)
    model = keras.Model([a, b, m], keras.layers.Concatenate()([out_v, out_a]))
    layer.embeddings[1].assign([0.3, -0.7])
    z_v, z_a = _inputs()
    mask = np.tile(np.array([[1, 0]], "float32"), (6, 1))
    path = tmp_path / "model.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_allclose(restored([z_v, z_a, mask]), model([z_v, z_a, mask]), atol=1e-6)


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="rate must be a float in \\[0, 1\\)"):
        ModalityDropout(rate=1.0)
    with pytest.raises(ValueError, match="missing must be one of"):
        ModalityDropout(missing="mean")
    with pytest.raises(ValueError, match="list of 2 or 3 vectors"):
        ModalityDropout().build((None, 3))
    layer = ModalityDropout()
    layer(_inputs())
    with pytest.raises(ValueError, match="built for 2 modalities"):
        layer(_inputs(dims=(3, 2, 2)))


def test_add_gaussian_noise_is_seeded_and_clipped():
    x = np.full((100, 10), 0.5, "float32")
    noisy = add_gaussian_noise(x, 0.2, seed=1)
    np.testing.assert_array_equal(noisy, add_gaussian_noise(x, 0.2, seed=1))
    assert 0.15 < noisy.std() < 0.25 and noisy.min() >= 0 and noisy.max() <= 1
    assert add_gaussian_noise(x, 5.0, clip=None).max() > 1
    np.testing.assert_array_equal(add_gaussian_noise(x, 0.0), x)
    with pytest.raises(ValueError, match="std must be a number >= 0"):
        add_gaussian_noise(x, -0.1)


def test_fgsm_matches_the_closed_form_for_a_logistic_model():
    w = tf.constant([[2.0], [-1.0], [0.5]])
    x = np.full((2, 3), 0.5, "float32")

    def loss_fn(inputs):  # label 1: gradient of -log sigmoid(x w) is -(1 - p) w
        return -tf.reduce_mean(tf.math.log_sigmoid(inputs @ w))

    np.testing.assert_allclose(fgsm(loss_fn, x, 0.1), x - 0.1 * np.sign(w.numpy().T), atol=1e-6)
    np.testing.assert_allclose(fgsm(loss_fn, x, 0.0), x)
    clipped = fgsm(loss_fn, np.zeros((1, 3), "float32"), 0.1)
    np.testing.assert_allclose(clipped, [[0.0, 0.1, 0.0]], atol=1e-6)


def test_fgsm_sweeps_several_epsilons_with_one_gradient():
    w = tf.constant([[2.0], [-1.0], [0.5]])
    x = np.random.default_rng(0).uniform(size=(4, 3)).astype("float32")
    calls = []

    def loss_fn(inputs):
        calls.append(1)
        return -tf.reduce_mean(tf.math.log_sigmoid(inputs @ w))

    sweep = fgsm(loss_fn, x, (0.0, 0.05, 0.2))
    assert len(calls) == 1 and isinstance(sweep, list) and len(sweep) == 3
    for epsilon, adversarial in zip((0.0, 0.05, 0.2), sweep):
        np.testing.assert_array_equal(adversarial, fgsm(loss_fn, x, epsilon))  # one at a time: the same bytes
    with pytest.raises(ValueError, match="epsilon must be a number >= 0"):
        fgsm(loss_fn, x, (0.1, -0.1))
    with pytest.raises(ValueError, match="at least one epsilon"):
        fgsm(loss_fn, x, ())


def test_fgsm_bad_inputs_raise():
    x = np.zeros((1, 3), "float32")
    with pytest.raises(TypeError, match="loss_fn must be a function"):
        fgsm(None, x, 0.1)
    with pytest.raises(ValueError, match="epsilon must be a number >= 0"):
        fgsm(lambda v: tf.reduce_sum(v), x, -1.0)
    with pytest.raises(ValueError, match="must return a scalar"):
        fgsm(lambda v: v * 2.0, x, 0.1)
    with pytest.raises(ValueError, match="does not depend on x"):
        fgsm(lambda v: tf.constant(1.0), x, 0.1)


def test_changed_attributes_ignores_rephrasing():
    before = ["a large red metal circle at the top", "a small blue glass square on the left", "a big red circle"]
    after = ["at the top: a big red circle made of metal", "a small green glass square on the left", ""]
    assert changed_attributes(before, after).tolist() == [False, True, True]
    with pytest.raises(ValueError, match="same length"):
        changed_attributes(before, after[:2])
    with pytest.raises(TypeError, match="lists of captions"):
        changed_attributes("a red circle", "a blue circle")


@pytest.mark.parametrize(
    "mask, message",
    [
        (np.ones((4, 3)), r"shape \(batch, 2\)"),
        (np.array([[1, 5]] * 4), "only 0 .missing. and 1"),
        (np.full((4, 2), 0.5), "only 0 .missing. and 1"),
        (np.ones((3, 2)), "3 rows for a batch of 4"),
    ],
)
def test_modality_dropout_checks_its_mask_like_the_fusion_layers(mask, message):
    vectors = [np.ones((4, 3), "float32"), np.ones((4, 5), "float32")]
    with pytest.raises(ValueError, match=message):
        ModalityDropout()(vectors, modality_mask=mask)
    from mmgen_lib.fusion import EarlyFusion

    with pytest.raises(ValueError, match=message):
        EarlyFusion()(vectors, modality_mask=mask)
