"""classifiers.attribute_classifier: one linear head per attribute on top of any encoder."""

import keras
import numpy as np
import pytest

from mmgen_lib.classifiers import attribute_accuracy, attribute_classifier, predict_in_batches
from mmgen_lib.encoders import ImageEncoder, TextEncoder
from mmgen_lib.utils import set_seed


def test_heads_shapes_and_parameter_count():
    set_seed(0)
    model = attribute_classifier(ImageEncoder(filters=(8,), output_dim=16), (32, 32, 3), ("color", "material"))
    outputs = model(np.zeros((2, 32, 32, 3), np.float32))
    assert {name: tuple(t.shape) for name, t in outputs.items()} == {"color": (2, 4), "material": (2, 3)}
    encoder_params = model.layers[1].count_params()
    assert model.count_params() == encoder_params + (16 * 4 + 4) + (16 * 3 + 3)


def test_encoder_returning_a_tuple_uses_its_vector():
    model = attribute_classifier(
        TextEncoder(50, embed_dim=8, units=8, return_sequences=True), (16,), input_dtype="int32"
    )
    assert set(model.output_names) == {"shape", "color", "size", "position", "material"}
    assert tuple(model(np.ones((3, 16), np.int32))["shape"].shape) == (3, 3)


def test_same_seed_same_training():
    def train():
        set_seed(1)
        model = attribute_classifier(ImageEncoder(filters=(8,), output_dim=8), (32, 32, 3), ("size",))
        x = np.random.default_rng(0).random((32, 32, 32, 3)).astype(np.float32)
        model.fit(x, {"size": np.arange(32) % 2}, epochs=1, verbose=0)
        return model.predict(x[:4], verbose=0)["size"]

    np.testing.assert_array_equal(train(), train())


def test_it_learns_an_easy_attribute():
    set_seed(0)
    x = np.zeros((64, 32, 32, 3), np.float32)
    y = np.arange(64) % 2
    x[y == 1, :, :, 0] = 1.0  # red images are "large"
    model = attribute_classifier(ImageEncoder(filters=(8,), output_dim=8), (32, 32, 3), ("size",), learning_rate=1e-2)
    history = model.fit(x, {"size": y}, epochs=5, verbose=0)
    assert history.history["accuracy"][-1] == 1.0


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(attributes=("weight",)), "non-empty subset"),
        (dict(attributes=()), "non-empty subset"),
        (dict(input_shape=32), "tuple of positive ints"),
        (dict(input_shape=(32, 0, 3)), "tuple of positive ints"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, match):
    arguments = {"encoder": keras.layers.Flatten(), "input_shape": (32, 32, 3), **kwargs}
    with pytest.raises(ValueError, match=match):
        attribute_classifier(**arguments)


def test_predict_in_batches_equals_one_call_for_arrays_lists_and_dict_outputs():
    set_seed(0)
    model = attribute_classifier(ImageEncoder(filters=(8,), output_dim=8), (32, 32, 3), ("size", "color"))
    x = np.random.default_rng(0).random((7, 32, 32, 3)).astype(np.float32)
    whole = {k: keras.ops.convert_to_numpy(v) for k, v in model(x, training=False).items()}
    batched = predict_in_batches(model, x, batch_size=3)
    assert set(batched) == {"size", "color"}
    for name in whole:
        np.testing.assert_allclose(batched[name], whole[name], rtol=1e-5, atol=1e-6)
    pair = keras.layers.Concatenate()
    out = predict_in_batches(pair, [np.ones((5, 2), np.float32), np.zeros((5, 3), np.float32)], batch_size=2)
    assert out.shape == (5, 5)


@pytest.mark.parametrize(
    "bad, error",
    [
        ({"batch_size": 0}, ValueError),
        ({"batch_size": 2.5}, TypeError),
        ({"inputs": []}, ValueError),
        ({"inputs": [np.ones((4, 2)), np.ones((3, 2))]}, ValueError),
    ],
)
def test_predict_in_batches_refuses_bad_arguments(bad, error):
    layer = keras.layers.Dense(2)
    kwargs = {"inputs": np.ones((4, 2), np.float32), "batch_size": 2, **bad}
    with pytest.raises(error, match="Received"):
        predict_in_batches(layer, kwargs["inputs"], batch_size=kwargs["batch_size"])


def test_attribute_accuracy_from_logits_and_from_a_model():
    labels = {"size": np.array([0, 1, 1, 0]), "color": np.array([3, 2, 1, 0])}
    logits = {
        "size": np.array([[2, 1], [0, 1], [1, 0], [1, 0]], np.float32),
        "color": np.eye(4, dtype=np.float32)[[3, 2, 1, 1]],
    }
    assert attribute_accuracy(logits, labels) == {"size": 0.75, "color": 0.75}
    set_seed(0)
    model = attribute_classifier(ImageEncoder(filters=(8,), output_dim=8), (32, 32, 3), ("size",))
    x = np.zeros((4, 32, 32, 3), np.float32)
    from_model = attribute_accuracy(predict_in_batches(model, x), {"size": labels["size"]})
    assert set(from_model) == {"size"} and from_model["size"] in (0.5,)


def test_attribute_accuracy_names_missing_labels_and_length_mismatch():
    with pytest.raises(ValueError, match="no labels for 'shape'"):
        attribute_accuracy({"shape": np.zeros((2, 3))}, {"size": np.zeros(2)})
    with pytest.raises(ValueError, match="2 predictions but 3 labels"):
        attribute_accuracy({"size": np.zeros((2, 2))}, {"size": np.zeros(3)})
