"""Tests of mmgen_lib.losses: NumPy references, finite-difference gradients, serialization, bad inputs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from mmgen_lib import losses


def _rng(seed=0):
    return np.random.default_rng(seed)


# ----------------------------------------------------------------------------- NumPy references
def np_cosine_loss(a, b):
    return 1.0 - np.sum(a * b, -1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def np_log_softmax(x, axis=-1):
    x = x - x.max(axis=axis, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def np_info_nce(a, b, temperature):
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    logits = a @ b.T / temperature
    rows = -np.diag(np_log_softmax(logits, axis=1))
    cols = -np.diag(np_log_softmax(logits, axis=0))
    return (rows.mean() + cols.mean()) / 2


def np_masked_ce(targets, logits, pad_id=0):
    logp = np_log_softmax(logits)
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    mask = targets != pad_id
    return -(picked * mask).sum() / mask.sum()


def np_weighted_mse(y, p, w):
    w = np.broadcast_to(w, y.shape)
    axes = tuple(range(1, y.ndim))
    return (w * (y - p) ** 2).sum(axes) / w.sum(axes)


def finite_difference(f, x, eps=1e-6):
    """Central differences of a scalar function of an array."""
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        plus, minus = x.copy(), x.copy()
        plus[index] += eps
        minus[index] -= eps
        grad[index] = (f(plus) - f(minus)) / (2 * eps)
    return grad


# ----------------------------------------------------------------------------- values
def test_cosine_similarity_loss_matches_numpy_and_known_values():
    a, b = _rng().normal(size=(2, 5, 7))
    np.testing.assert_allclose(losses.cosine_similarity_loss(a, b), np_cosine_loss(a, b), atol=1e-10)
    v = np.array([[1.0, 2.0]])
    np.testing.assert_allclose(losses.cosine_similarity_loss(v, 3 * v), [0.0], atol=1e-7)
    np.testing.assert_allclose(losses.cosine_similarity_loss(v, -v), [2.0], atol=1e-7)
    np.testing.assert_allclose(losses.cosine_similarity_loss(v, [[-2.0, 1.0]]), [1.0], atol=1e-7)


def test_l2_normalize_keeps_zero_vector_finite():
    out = keras.ops.convert_to_numpy(losses.l2_normalize(np.zeros((2, 3), np.float32)))
    assert np.all(np.isfinite(out)) and np.all(out == 0)


def test_info_nce_matches_numpy_and_is_symmetric():
    a, b = _rng(1).normal(size=(2, 6, 4))
    for temperature in (0.07, 0.5, 1.0):
        value = float(losses.info_nce_loss(a, b, temperature))
        assert value == pytest.approx(np_info_nce(a, b, temperature), rel=1e-9)
    assert float(losses.info_nce_loss(a, b, 0.3)) == pytest.approx(float(losses.info_nce_loss(b, a, 0.3)), rel=1e-9)


def test_info_nce_is_log_batch_for_identical_embeddings_and_small_for_matched_pairs():
    same = np.ones((8, 3))
    assert float(losses.info_nce_loss(same, same, 0.1)) == pytest.approx(np.log(8), rel=1e-6)
    eye = np.eye(8)
    assert float(losses.info_nce_loss(eye, eye, 0.05)) < 1e-6


def test_masked_sequence_cross_entropy_ignores_padding():
    rng = _rng(2)
    targets = np.array([[5, 3, 2, 0, 0], [1, 4, 4, 2, 0]])
    logits = rng.normal(size=(2, 5, 6))
    value = float(losses.masked_sequence_cross_entropy(targets, logits))
    assert value == pytest.approx(np_masked_ce(targets, logits), rel=1e-9)
    changed = logits.copy()
    changed[targets == 0] = rng.normal(size=changed[targets == 0].shape) * 100  # padding positions only
    assert float(losses.masked_sequence_cross_entropy(targets, changed)) == pytest.approx(value, rel=1e-12)


def test_masked_sequence_cross_entropy_of_all_padding_is_zero():
    assert float(losses.masked_sequence_cross_entropy(np.zeros((2, 3), np.int32), np.zeros((2, 3, 4)))) == 0.0


def test_weighted_mse_matches_numpy_and_reduces_to_mse():
    rng = _rng(3)
    y, p = rng.uniform(size=(2, 3, 4, 4, 3))
    w = rng.uniform(size=(3, 4, 4, 1))
    np.testing.assert_allclose(losses.weighted_mse(y, p, w), np_weighted_mse(y, p, w), rtol=1e-10)
    np.testing.assert_allclose(losses.weighted_mse(y, p), ((y - p) ** 2).mean(axis=(1, 2, 3)), rtol=1e-10)
    np.testing.assert_allclose(losses.weighted_mse(y, p, 7 * w), losses.weighted_mse(y, p, w), rtol=1e-10)


# ----------------------------------------------------------------------------- gradients
def _tf_grad(fn, *arrays):
    tensors = [tf.Variable(x) for x in arrays]
    with tf.GradientTape() as tape:
        value = fn(*tensors)
    return [g.numpy() for g in tape.gradient(value, tensors)]


def test_cosine_loss_gradient_matches_finite_differences():
    a, b = _rng(4).normal(size=(2, 3, 4))
    (grad_a,) = _tf_grad(lambda x: tf.reduce_sum(losses.cosine_similarity_loss(x, b)), a)
    np.testing.assert_allclose(grad_a, finite_difference(lambda x: np_cosine_loss(x, b).sum(), a), atol=1e-7)


def test_info_nce_gradients_match_finite_differences_including_temperature():
    a, b = _rng(5).normal(size=(2, 5, 3))
    log_scale = np.array(np.log(1 / 0.2))
    grad_a, grad_s = _tf_grad(lambda x, s: losses.info_nce_loss(x, b, 1.0 / tf.exp(s)), a, log_scale)
    np.testing.assert_allclose(grad_a, finite_difference(lambda x: np_info_nce(x, b, 0.2), a), atol=1e-7)
    numeric_s = finite_difference(lambda s: np_info_nce(a, b, 1.0 / np.exp(s)), log_scale)
    np.testing.assert_allclose(grad_s, numeric_s, atol=1e-7)


def test_masked_ce_and_weighted_mse_gradients_match_finite_differences():
    rng = _rng(6)
    targets = np.array([[2, 1, 0], [3, 0, 0]])
    logits = rng.normal(size=(2, 3, 4))
    (grad,) = _tf_grad(lambda x: losses.masked_sequence_cross_entropy(targets, x), logits)
    np.testing.assert_allclose(grad, finite_difference(lambda x: np_masked_ce(targets, x), logits), atol=1e-7)
    y, p = rng.uniform(size=(2, 2, 5))
    w = rng.uniform(size=(2, 5))
    (grad,) = _tf_grad(lambda x: tf.reduce_sum(losses.weighted_mse(y, x, w)), p)
    np.testing.assert_allclose(grad, finite_difference(lambda x: np_weighted_mse(y, x, w).sum(), p), atol=1e-7)


# ----------------------------------------------------------------------------- Keras losses
LOSS_CASES = [
    (losses.CosineSimilarityLoss(), lambda rng: tuple(rng.normal(size=(2, 4, 3)).astype("float32"))),
    (losses.InfoNCELoss(), lambda rng: (np.arange(5), rng.normal(size=(5, 5)).astype("float32"))),
    (
        losses.MaskedSequenceCrossEntropy(pad_id=0),
        lambda rng: (np.array([[3, 1, 0], [2, 2, 1]]), rng.normal(size=(2, 3, 4)).astype("float32")),
    ),
    (losses.WeightedMSE(foreground_weight=3.0), lambda rng: tuple(rng.uniform(size=(2, 2, 4, 4, 3)).astype("float32"))),
]


@pytest.mark.parametrize("loss, make", LOSS_CASES, ids=lambda x: type(x).__name__)
def test_keras_loss_serialization_round_trip(loss, make):
    y_true, y_pred = make(_rng(7))
    config = keras.saving.serialize_keras_object(loss)
    restored = keras.saving.deserialize_keras_object(config)
    assert type(restored) is type(loss) and restored.get_config() == loss.get_config()
    assert float(restored(y_true, y_pred)) == pytest.approx(float(loss(y_true, y_pred)), rel=1e-6)


def test_keras_losses_match_functions():
    rng = _rng(8)
    a, b = rng.normal(size=(2, 4, 3))
    assert float(losses.CosineSimilarityLoss()(a, b)) == pytest.approx(np_cosine_loss(a, b).mean(), rel=1e-5)
    targets, logits = np.array([[3, 1, 0], [2, 2, 1]]), rng.normal(size=(2, 3, 4))
    assert float(losses.MaskedSequenceCrossEntropy()(targets, logits)) == pytest.approx(
        np_masked_ce(targets, logits), rel=1e-5
    )
    y = rng.uniform(size=(2, 4, 4, 3))
    p = rng.uniform(size=(2, 4, 4, 3))
    assert float(losses.WeightedMSE()(y, p)) == pytest.approx(((y - p) ** 2).mean(), rel=1e-5)


def test_info_nce_keras_loss_matches_function_and_handles_permuted_labels():
    rng = _rng(9)
    a, b = rng.normal(size=(2, 6, 3))
    logits = (a / np.linalg.norm(a, axis=1, keepdims=True)) @ (b / np.linalg.norm(b, axis=1, keepdims=True)).T / 0.1
    expected = np_info_nce(a, b, 0.1)
    assert float(losses.InfoNCELoss()(np.arange(6), logits)) == pytest.approx(expected, rel=1e-5)
    perm = rng.permutation(6)  # row i's partner is column perm[i]
    assert float(losses.InfoNCELoss()(perm, logits[:, perm][:, np.argsort(perm)][:, perm])) == pytest.approx(
        float(losses.InfoNCELoss()(perm, logits[:, perm])), rel=1e-6
    )
    assert float(losses.InfoNCELoss()(perm, logits[:, np.argsort(perm)])) == pytest.approx(expected, rel=1e-5)


def test_weighted_mse_keras_loss_upweights_foreground():
    y = np.full((1, 4, 4, 3), 40 / 255, np.float32)
    y[0, 0, 0] = 1.0  # one foreground pixel
    p = y.copy()
    p[0, 0, 0] = 0.0  # error only on the foreground pixel
    plain = float(losses.WeightedMSE()(y, p))
    weighted = float(losses.WeightedMSE(foreground_weight=15.0)(y, p))
    assert plain == pytest.approx(3 / 48, rel=1e-5)
    assert weighted == pytest.approx(16 * 3 / (15 * 3 + 16 * 3), rel=1e-5)


def test_masked_ce_keras_loss_in_compiled_model_trains():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,), dtype="int32"), keras.layers.Embedding(5, 4), keras.layers.Dense(5)])
    model.compile("adam", loss=losses.MaskedSequenceCrossEntropy())
    x = np.array([[1, 2, 0], [3, 4, 0]])
    history = model.fit(x, x, epochs=3, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: losses.MaskedSequenceCrossEntropy(pad_id=-1), "pad_id"),
        (lambda: losses.WeightedMSE(foreground_weight=-1), "foreground_weight"),
        (lambda: losses.WeightedMSE(threshold=0), "threshold"),
        (lambda: losses.info_nce_loss(np.ones((2, 2)), np.ones((2, 2)), temperature=0.0), "temperature"),
    ],
)
def test_bad_loss_arguments_raise(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ----------------------------------------------------------------------------- SimilarityLogits
def test_similarity_logits_shape_params_and_reference():
    rng = _rng(10)
    a, b = rng.normal(size=(4, 3)).astype("float32"), rng.normal(size=(6, 3)).astype("float32")
    layer = losses.SimilarityLogits(temperature=0.1)
    out = keras.ops.convert_to_numpy(layer((a, b)))
    assert out.shape == (4, 6) and layer.count_params() == 1
    an = a / np.linalg.norm(a, axis=1, keepdims=True)
    bn = b / np.linalg.norm(b, axis=1, keepdims=True)
    np.testing.assert_allclose(out, an @ bn.T / 0.1, rtol=1e-4, atol=1e-5)
    assert len(layer.trainable_weights) == 1
    assert len(losses.SimilarityLogits(learnable=False).trainable_weights) == 0


def test_similarity_logits_scale_is_clipped():
    layer = losses.SimilarityLogits(temperature=0.5, max_scale=10.0)
    layer.log_scale.assign(np.log(1e6))
    assert float(layer.scale) == pytest.approx(10.0)


def test_similarity_logits_save_load(tmp_path):
    rng = _rng(11)
    a, b = rng.normal(size=(2, 3, 5)).astype("float32")
    in_a, in_b = keras.Input((5,)), keras.Input((5,))
    model = keras.Model([in_a, in_b], losses.SimilarityLogits(temperature=0.2)((in_a, in_b)))
    model.layers[-1].log_scale.assign(1.234)
    path = tmp_path / "logits.keras"
    model.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_allclose(restored.predict([a, b], verbose=0), model.predict([a, b], verbose=0), rtol=1e-6)
    layer = restored.layers[-1]
    assert layer.get_config()["temperature"] == 0.2
    assert type(losses.SimilarityLogits.from_config(layer.get_config())) is losses.SimilarityLogits


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"temperature": 0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"max_scale": 0}, "max_scale"),
        ({"temperature": 0.001, "max_scale": 100}, "max_scale"),
    ],
)
def test_similarity_logits_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        losses.SimilarityLogits(**kwargs)


# ----------------------------------------------------------------------------- MultimodalLoss
TERMS = {"ce": 1.2, "cos": 0.4, "mse": 0.03}


def test_multimodal_loss_fixed_weights_is_the_seed_formula():
    loss = losses.MultimodalLoss(alpha=1.0, beta=2.0, gamma=10.0)
    assert float(loss(TERMS)) == pytest.approx(1.2 + 2 * 0.4 + 10 * 0.03, rel=1e-6)
    assert loss.count_params() == 0
    assert loss.term_weights() == {"ce": 1.0, "cos": 2.0, "mse": 10.0}


def test_multimodal_loss_skips_zero_weight_terms():
    loss = losses.MultimodalLoss(alpha=1.0, beta=0.0, gamma=0.5)
    assert float(loss({"ce": 1.0, "mse": 2.0})) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="mse"):
        loss({"ce": 1.0})


def test_multimodal_loss_uncertainty_weighting_formula_and_optimum():
    loss = losses.MultimodalLoss(alpha=1.0, beta=1.0, gamma=0.0, weighting="uncertainty")
    assert loss.count_params() == 2
    s = np.array([0.3, -0.7], np.float32)
    loss.log_variances.assign(s)
    expected = 0.5 * (np.exp(-s[0]) * 1.2 + s[0]) + 0.5 * (np.exp(-s[1]) * 0.4 + s[1])
    assert float(loss(TERMS)) == pytest.approx(expected, rel=1e-5)
    # at s_i = log(L_i) the gradient with respect to s vanishes: each term is rescaled by its own size
    loss.log_variances.assign(np.log([1.2, 0.4]).astype(np.float32))
    with tf.GradientTape() as tape:
        total = loss(TERMS)
    np.testing.assert_allclose(tape.gradient(total, loss.log_variances).numpy(), [0.0, 0.0], atol=1e-6)
    weights = loss.term_weights()
    assert weights["ce"] == pytest.approx(0.5 / 1.2, rel=1e-5) and weights["cos"] == pytest.approx(0.5 / 0.4, rel=1e-5)


def test_multimodal_loss_config_round_trip():
    loss = losses.MultimodalLoss(alpha=0.5, beta=2.0, gamma=0.0, weighting="uncertainty", name="total")
    restored = losses.MultimodalLoss.from_config(loss.get_config())
    assert restored.get_config() == loss.get_config()
    assert float(restored(TERMS)) == pytest.approx(float(loss(TERMS)), rel=1e-6)


def test_multimodal_loss_adjustable_weights_change_without_retracing():
    loss = losses.MultimodalLoss(alpha=1.0, beta=1.0, gamma=1.0, adjustable=True)
    assert not loss.trainable_variables and len(loss.non_trainable_variables) == 1  # the weights, not trained
    total = tf.function(lambda terms: loss(terms))
    assert float(total(TERMS)) == pytest.approx(1.2 + 0.4 + 0.03, rel=1e-6)
    loss.set_term_weights(alpha=0.0, beta=2.0, gamma=100.0)
    assert float(total(TERMS)) == pytest.approx(2 * 0.4 + 100 * 0.03, rel=1e-6)
    assert total.experimental_get_tracing_count() == 1  # one trace serves every choice of weights
    assert loss.term_weights() == {"ce": 0.0, "cos": 2.0, "mse": 100.0}
    assert loss.get_config()["alpha"] == 0.0  # the config records the current weights


def test_multimodal_loss_adjustable_zero_weight_gives_exactly_zero_gradient():
    loss = losses.MultimodalLoss(alpha=0.0, beta=1.0, gamma=1.0, adjustable=True)
    ce_part, other_part = tf.Variable(2.0), tf.Variable(3.0)
    with tf.GradientTape() as tape:
        total = loss({"ce": ce_part**2, "cos": other_part * ce_part, "mse": other_part})
    gradient = tape.gradient(total, [ce_part, other_part])
    assert float(gradient[0]) == 3.0  # only through the cos term: the CE term adds exactly 0
    # Adam's step is m / (sqrt(v) + eps): a part whose gradients are all exactly 0 never moves
    only_ce = tf.Variable(5.0)
    optimizer = keras.optimizers.Adam(0.1)
    for _ in range(3):
        with tf.GradientTape() as tape:
            total = loss({"ce": only_ce**2, "cos": tf.constant(1.0), "mse": tf.constant(1.0)})
        optimizer.apply_gradients([(tape.gradient(total, only_ce), only_ce)])
    assert float(only_ce) == 5.0


def test_multimodal_loss_adjustable_needs_every_term_and_valid_weights():
    loss = losses.MultimodalLoss(alpha=1.0, beta=0.0, gamma=1.0, adjustable=True)
    with pytest.raises(ValueError, match=r"needs the terms \['cos'\]"):
        loss({"ce": 1.0, "mse": 2.0})  # a weight can change later, so every term must be given
    with pytest.raises(ValueError, match="gamma"):
        loss.set_term_weights(1.0, 1.0, -1.0)
    with pytest.raises(ValueError, match="at least one"):
        loss.set_term_weights(0.0, 0.0, 0.0)
    assert loss.term_weights() == {"ce": 1.0, "cos": 0.0, "mse": 1.0}  # a refused change changes nothing
    with pytest.raises(ValueError, match="adjustable=True"):
        losses.MultimodalLoss().set_term_weights(1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="uncertainty"):
        losses.MultimodalLoss(weighting="uncertainty", adjustable=True)
    with pytest.raises(TypeError, match="adjustable must be True or False"):
        losses.MultimodalLoss(adjustable="yes")


def test_multimodal_loss_adjustable_config_round_trip():
    loss = losses.MultimodalLoss(alpha=1.0, beta=0.5, gamma=2.0, adjustable=True)
    loss.set_term_weights(1.0, 0.0, 4.0)
    restored = losses.MultimodalLoss.from_config(loss.get_config())
    assert restored.get_config() == loss.get_config() and restored.term_weights() == loss.term_weights()
    assert float(restored(TERMS)) == pytest.approx(1.2 + 4 * 0.03, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"alpha": -1.0}, "alpha"),
        ({"beta": "1"}, "beta"),
        ({"gamma": True}, "gamma"),
        ({"alpha": 0, "beta": 0, "gamma": 0}, "at least one"),
        ({"weighting": "learned"}, "weighting"),
    ],
)
def test_multimodal_loss_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        losses.MultimodalLoss(**kwargs)


@pytest.mark.parametrize("a_shape, b_shape", [((4, 8), (4, 6)), ((4, 8), (3, 8)), ((4, 8), (8,))])
def test_pair_losses_refuse_mismatched_shapes(a_shape, b_shape):
    a, b = np.ones(a_shape, "float32"), np.ones(b_shape, "float32")
    with pytest.raises(ValueError, match=r"same shape.*Received: a with shape"):
        losses.cosine_similarity_loss(a, b)
    with pytest.raises(ValueError, match=r"Received: a with shape"):
        losses.info_nce_loss(a, b)


def test_info_nce_needs_embeddings_not_single_vectors():
    with pytest.raises(ValueError, match=r"embeddings \(batch, dim\)"):
        losses.info_nce_loss(np.ones(8, "float32"), np.ones(8, "float32"))


def test_multimodal_loss_refuses_per_example_vectors():
    with pytest.raises(ValueError, match=r"scalar losses.*Received: shapes \{'cos': \(4,\)\}"):
        losses.MultimodalLoss()({"ce": 1.0, "cos": np.ones(4), "mse": 0.5})
