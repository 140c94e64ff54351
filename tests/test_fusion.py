"""Tests of mmgen_lib.fusion: shapes, parameter counts, round trips, seeds, NumPy references, bad inputs."""

import keras
import numpy as np
import pytest

from mmgen_lib.fusion import CrossAttentionFusion, EarlyFusion, GatedFusion, LateFusion, TensorFusion

BATCH = 4


def vectors(*dims, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(BATCH, d)).astype("float32") for d in dims]


def sequences(*shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(BATCH, length, d)).astype("float32") for length, d in shapes]


# (factory, inputs, expected output shape, expected parameter count)
CASES = {
    "early_concat_2": (lambda: EarlyFusion(), vectors(5, 3), (BATCH, 8), 0),
    "early_dense_3": (lambda: EarlyFusion(units=6), vectors(5, 3, 2), (BATCH, 6), 10 * 6 + 6),
    "late_product_2": (lambda: LateFusion("product"), vectors(4, 4), (BATCH, 4), 0),
    "late_average_3": (lambda: LateFusion("average"), vectors(4, 4, 4), (BATCH, 4), 0),
    "late_weighted_3": (lambda: LateFusion("weighted"), vectors(4, 4, 4), (BATCH, 4), 3),
    # tanh projections (5*6+6) + (3*6+6), gate (8 -> 2*6): 8*12 + 12
    "gated_2": (lambda: GatedFusion(units=6), vectors(5, 3), (BATCH, 6), 36 + 24 + 108),
    "gated_3": (lambda: GatedFusion(units=2), vectors(5, 3, 2), (BATCH, 2), 12 + 8 + 6 + 10 * 6 + 6),
    "tensor_2": (lambda: TensorFusion(), vectors(5, 3), (BATCH, 6 * 4), 0),
    "tensor_3": (lambda: TensorFusion(), vectors(5, 3, 2), (BATCH, 6 * 4 * 3), 0),
    # projections 3 x (d*4 + 4), outer product 5**3 = 125 -> Dense(7)
    "tensor_projected_3": (
        lambda: TensorFusion(projection_dim=4, units=7),
        vectors(5, 3, 2),
        (BATCH, 7),
        24 + 16 + 12 + 125 * 7 + 7,
    ),
    # projections (5*8+8) + (3*8+8); per modality MHA: 3*(8*2*4 + 2*4) + (2*4*8 + 8) = 288
    "cross_2": (
        lambda: CrossAttentionFusion(dim=8, num_heads=2),
        sequences((6, 5), (7, 3)),
        (BATCH, 16),
        48 + 32 + 2 * 288,
    ),
    "cross_flatten_3": (
        lambda: CrossAttentionFusion(dim=8, num_heads=2, pooling="flatten"),
        sequences((6, 5), (7, 3), (2, 4)),
        (BATCH, (6 + 7 + 2) * 8),
        48 + 32 + 40 + 3 * 288,
    ),
}


@pytest.mark.parametrize("name", CASES)
def test_output_shape_and_parameter_count(name):
    factory, inputs, shape, params = CASES[name]
    keras.utils.set_random_seed(0)
    layer = factory()
    assert tuple(layer(inputs).shape) == shape
    assert layer.count_params() == params


@pytest.mark.parametrize("name", CASES)
def test_config_round_trip_gives_equal_outputs(name):
    factory, inputs, _, _ = CASES[name]
    keras.utils.set_random_seed(0)
    layer = factory()
    expected = keras.ops.convert_to_numpy(layer(inputs))
    clone = type(layer).from_config(layer.get_config())
    clone(inputs)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(clone(inputs)), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "name", ["early_dense_3", "late_weighted_3", "gated_2", "tensor_projected_3", "cross_flatten_3"]
)
def test_keras_file_round_trip_with_a_modality_mask_input(name, tmp_path):
    factory, inputs, _, _ = CASES[name]
    keras.utils.set_random_seed(0)
    symbolic = [keras.Input(x.shape[1:]) for x in inputs]
    mask_input = keras.Input((len(inputs),))
    model = keras.Model([*symbolic, mask_input], factory()(symbolic, modality_mask=mask_input))
    mask = np.ones((BATCH, len(inputs)), "float32")
    mask[0, 1] = 0.0
    expected = model.predict([*inputs, mask], verbose=0)
    model.save(tmp_path / "fusion.keras")
    loaded = keras.models.load_model(tmp_path / "fusion.keras")
    np.testing.assert_allclose(loaded.predict([*inputs, mask], verbose=0), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["early_dense_3", "gated_3", "tensor_projected_3", "cross_2"])
def test_same_seed_gives_same_output(name):
    factory, inputs, _, _ = CASES[name]
    outputs = []
    for _ in range(2):
        keras.utils.set_random_seed(7)
        outputs.append(keras.ops.convert_to_numpy(factory()(inputs)))
    np.testing.assert_array_equal(outputs[0], outputs[1])


# ----------------------------------------------------------------------------- NumPy references
def test_tensor_fusion_matches_np_outer_of_vectors_with_an_appended_one():
    a, b, c = vectors(3, 2, 4)
    out2 = keras.ops.convert_to_numpy(TensorFusion()([a, b]))
    out3 = keras.ops.convert_to_numpy(TensorFusion()([a, b, c]))
    for n in range(BATCH):
        a1, b1, c1 = (np.append(v[n], 1.0) for v in (a, b, c))
        np.testing.assert_allclose(out2[n], np.outer(a1, b1).ravel(), rtol=1e-6)
        np.testing.assert_allclose(out3[n], np.multiply.outer(np.outer(a1, b1), c1).ravel(), rtol=1e-6)


def test_tensor_fusion_with_a_missing_modality_keeps_the_other_unimodal_terms():
    a, b = vectors(3, 2)
    out = keras.ops.convert_to_numpy(TensorFusion()([a, b], modality_mask=np.array([[1, 0]] * BATCH)))
    expected = np.stack([np.outer(np.append(v, 1.0), [0.0, 0.0, 1.0]).ravel() for v in a])
    np.testing.assert_allclose(out, expected, rtol=1e-6)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def test_gated_fusion_matches_its_equation():
    a, b = vectors(5, 3)
    keras.utils.set_random_seed(0)
    layer = GatedFusion(units=4, return_gates=True)
    fused, gates = (keras.ops.convert_to_numpy(t) for t in layer([a, b]))
    (w1, b1), (w2, b2) = (p.get_weights() for p in layer.projections)
    wg, bg = layer.gate.get_weights()
    h1, h2 = np.tanh(a @ w1 + b1), np.tanh(b @ w2 + b2)
    logits = (np.concatenate([a, b], axis=1) @ wg + bg).reshape(BATCH, 2, 4)
    z = sigmoid(logits[:, 0] - logits[:, 1])  # the GMU's sigmoid gate
    np.testing.assert_allclose(fused, z * h1 + (1 - z) * h2, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(gates[:, 0], z, rtol=1e-5, atol=1e-6)


def test_gated_fusion_gives_a_missing_modality_zero_weight():
    a, b = vectors(5, 3)
    keras.utils.set_random_seed(0)
    layer = GatedFusion(units=4, return_gates=True)
    mask = np.array([[1, 0]] * BATCH, "float32")
    fused, gates = (keras.ops.convert_to_numpy(t) for t in layer([a, b], modality_mask=mask))
    w1, b1 = layer.projections[0].get_weights()
    np.testing.assert_allclose(gates[:, 1], 0.0)
    np.testing.assert_allclose(fused, np.tanh(a @ w1 + b1), rtol=1e-5, atol=1e-6)


def log_softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def test_late_fusion_modes_match_numpy():
    s1, s2, s3 = vectors(4, 4, 4)
    lp = np.stack([log_softmax(s) for s in (s1, s2, s3)], axis=1)
    product = keras.ops.convert_to_numpy(LateFusion("product")([s1, s2, s3]))
    np.testing.assert_allclose(product, lp.sum(axis=1), rtol=1e-5, atol=1e-6)
    average = keras.ops.convert_to_numpy(LateFusion("average")([s1, s2, s3]))
    np.testing.assert_allclose(average, np.log(np.exp(lp).mean(axis=1) + 1e-7), rtol=1e-5, atol=1e-6)
    weighted = LateFusion("weighted")
    weighted([s1, s2, s3])
    weighted.set_weights([np.array([0.5, -1.0, 2.0], "float32")])
    w = np.exp([0.5, -1.0, 2.0]) / np.exp([0.5, -1.0, 2.0]).sum()
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(weighted([s1, s2, s3])), np.einsum("n,bnk->bk", w, lp), rtol=1e-5, atol=1e-6
    )
    masked = keras.ops.convert_to_numpy(LateFusion("average")([s1, s2, s3], modality_mask=[[1, 0, 1]] * BATCH))
    np.testing.assert_allclose(masked, np.log(np.exp(lp[:, [0, 2]]).mean(axis=1) + 1e-7), rtol=1e-5, atol=1e-6)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_cross_attention_matches_softmax_qk_over_sqrt_d_times_v():
    x1, x2 = sequences((6, 5), (3, 4))
    keras.utils.set_random_seed(0)
    layer = CrossAttentionFusion(dim=8, num_heads=1, return_attention_scores=True)
    fused, scores = layer([x1, x2])
    fused = keras.ops.convert_to_numpy(fused)
    projected = [x @ p.get_weights()[0] + p.get_weights()[1] for p, x in zip(layer.projections, (x1, x2))]
    expected = []
    for i, j in ((0, 1), (1, 0)):
        wq, bq, wk, bk, wv, bv, wo, bo = layer.attentions[i].get_weights()
        q = projected[i] @ wq[:, 0] + bq[0]  # (batch, len_i, key_dim)
        k = projected[j] @ wk[:, 0] + bk[0]
        v = projected[j] @ wv[:, 0] + bv[0]
        weights = softmax(q @ k.transpose(0, 2, 1) / np.sqrt(q.shape[-1]))  # (batch, len_i, len_j)
        attended = (weights @ v) @ wo[0] + bo
        np.testing.assert_allclose(keras.ops.convert_to_numpy(scores[i])[:, 0], weights, rtol=1e-4, atol=1e-6)
        expected.append((projected[i] + attended).mean(axis=1))
    np.testing.assert_allclose(fused, np.concatenate(expected, axis=1), rtol=1e-4, atol=1e-5)


def test_cross_attention_ignores_a_missing_modality_and_padding():
    x1, x2, x3 = sequences((6, 5), (3, 4), (2, 3))
    keras.utils.set_random_seed(0)
    layer = CrossAttentionFusion(dim=8, num_heads=2)
    mask = np.array([[1, 1, 0]] * BATCH, "float32")
    reference = keras.ops.convert_to_numpy(layer([x1, x2, x3], modality_mask=mask))
    changed = keras.ops.convert_to_numpy(layer([x1, x2, 100 * x3 + 5], modality_mask=mask))
    np.testing.assert_allclose(changed, reference, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(reference[:, 16:], 0.0)  # the missing modality's own vector
    # Padding: values at padded positions do not matter.
    padding = np.ones((BATCH, 3), bool)
    padding[:, 2] = False
    x2_changed = x2.copy()
    x2_changed[:, 2] = 50.0
    a = keras.ops.convert_to_numpy(layer([x1, x2, x3], mask=[None, padding, None]))
    b = keras.ops.convert_to_numpy(layer([x1, x2_changed, x3], mask=[None, padding, None]))
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_cross_attention_with_no_other_modality_leaves_queries_unchanged():
    x1, x2 = sequences((6, 5), (3, 4))
    keras.utils.set_random_seed(0)
    layer = CrossAttentionFusion(dim=8, num_heads=2)
    out = keras.ops.convert_to_numpy(layer([x1, x2], modality_mask=[[1, 0]] * BATCH))
    w, b = layer.projections[0].get_weights()
    np.testing.assert_allclose(out[:, :8], (x1 @ w + b).mean(axis=1), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("factory", [EarlyFusion, lambda: GatedFusion(4)])
def test_a_missing_modality_does_not_leak_into_the_output(factory):
    a, b = vectors(5, 3)
    keras.utils.set_random_seed(0)
    layer = factory()
    mask = np.array([[1, 0]] * BATCH, "float32")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(layer([a, b], modality_mask=mask)),
        keras.ops.convert_to_numpy(layer([a, 10 * b - 3], modality_mask=mask)),
        atol=1e-6,
    )


# ----------------------------------------------------------------------------- bad inputs
def test_a_single_tensor_instead_of_a_list_is_rejected():
    with pytest.raises(TypeError, match="list of 2 or 3 modality tensors"):
        EarlyFusion()(vectors(5)[0])


@pytest.mark.parametrize("count", [1, 4])
def test_only_two_or_three_modalities_are_accepted(count):
    with pytest.raises(ValueError, match="2 or 3 modalities"):
        GatedFusion(4)(vectors(*[3] * count))


def test_a_different_number_of_modalities_after_building_is_rejected():
    layer = EarlyFusion()
    layer(vectors(3, 3))
    with pytest.raises(ValueError, match="built for 2 modalities"):
        layer(vectors(3, 3, 3))


def test_vector_layers_reject_sequences_and_attention_rejects_vectors():
    with pytest.raises(ValueError, match=r"vectors \(batch, dim\)"):
        TensorFusion()(sequences((2, 3), (2, 3)))
    with pytest.raises(ValueError, match=r"sequences \(batch, seq_len, dim\)"):
        CrossAttentionFusion(8, 2)(vectors(3, 3))


def test_mismatched_batch_sizes_are_rejected():
    a, b = vectors(3, 3)
    with pytest.raises(ValueError, match="same batch size"):
        EarlyFusion()([a, b[:2]])


@pytest.mark.parametrize(
    "mask, message",
    [
        (np.ones((BATCH, 3)), r"shape \(batch, 2\)"),
        (np.ones((BATCH,)), r"shape \(batch, 2\)"),
        (np.full((BATCH, 2), 0.5), "only 0 .missing. and 1"),
        (np.array([[1, 1], [0, 0], [1, 0], [0, 1]]), "at least one present modality"),
        (np.ones((2, 2)), "2 rows for a batch of 4"),
    ],
)
def test_bad_modality_masks_are_rejected(mask, message):
    with pytest.raises(ValueError, match=message):
        LateFusion()(vectors(4, 4), modality_mask=mask)


def test_late_fusion_needs_the_same_classes_for_every_modality():
    with pytest.raises(ValueError, match="same last dimension"):
        LateFusion()(vectors(4, 3))


@pytest.mark.parametrize(
    "factory, message",
    [
        (lambda: EarlyFusion(units=0), "units must be a positive int"),
        (lambda: EarlyFusion(dropout=1.0), "dropout must be a float"),
        (lambda: LateFusion(combine="max"), "combine must be one of"),
        (lambda: GatedFusion(units=None), "units must be a positive int. Received"),
        (lambda: TensorFusion(projection_dim=-2), "projection_dim must be a positive int"),
        (lambda: CrossAttentionFusion(dim=10, num_heads=3), "divisible by num_heads"),
        (lambda: CrossAttentionFusion(pooling="max"), "pooling must be one of"),
    ],
)
def test_bad_constructor_arguments_are_rejected(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()


def test_flatten_pooling_needs_fixed_lengths():
    with pytest.raises(ValueError, match="fixed sequence lengths"):
        CrossAttentionFusion(8, 2, pooling="flatten")([keras.Input((None, 3)), keras.Input((4, 3))])


def test_cross_attention_reads_a_text_encoders_padding_mask_in_a_functional_model():
    from mmgen_lib.encoders import TextEncoder

    keras.utils.set_random_seed(0)
    ids_input, image_input = keras.Input((6,), dtype="int32"), keras.Input((4, 5))
    _, sequence = TextEncoder(20, embed_dim=4, units=8, return_sequences=True)(ids_input)
    fusion = CrossAttentionFusion(dim=8, num_heads=2)
    model = keras.Model([ids_input, image_input], fusion([sequence, image_input]))
    ids = np.array([[3, 4, 0, 0, 0, 0], [5, 6, 7, 0, 0, 0]], "int32")
    image = np.random.default_rng(0).normal(size=(2, 4, 5)).astype("float32")
    states = np.asarray(model.layers[1](ids)[1])  # a plain array: no mask attached
    with_mask = keras.ops.convert_to_numpy(fusion([states, image], mask=[ids != 0, None]))
    without_mask = keras.ops.convert_to_numpy(fusion([states, image]))
    np.testing.assert_allclose(model.predict([ids, image], verbose=0), with_mask, rtol=1e-5, atol=1e-6)
    assert not np.allclose(with_mask, without_mask, atol=1e-4)
