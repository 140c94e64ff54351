"""Every object registered under the package "mmgen_lib" survives saving and loading (issue 17).

The classes are *discovered*, not listed: every module of ``mmgen_lib`` is imported and every
entry of Keras' registry named ``mmgen_lib>...`` is tested, so a new class cannot skip this.
Each class needs one example in ``EXAMPLES`` below (how to construct it and an input); a
missing one fails with "add an example input for X".

Per class, with its weights perturbed away from their initial values (so that a loader that
silently re-initialises them is caught):
- layers and models: saved standalone (``Model.save`` + ``keras.models.load_model``; for a plain
  layer: ``from_config`` + its build config + ``set_weights``) and wrapped in a functional model
  (``.keras`` save/load), the outputs must be equal;
- losses: serialised and deserialised, and compiled into a model that is saved and loaded;
  the loss values must be equal.
"""

from __future__ import annotations

import importlib
import pkgutil

import keras
import numpy as np
import pytest

import mmgen_lib

RNG = np.random.default_rng(0)


def _floats(*shape):
    return RNG.random(shape).astype("float32")


def _ids(batch, length, vocab=20):
    ids = RNG.integers(1, vocab, (batch, length)).astype("int32")
    ids[:, -1] = 0  # some padding
    return ids


def _discover() -> dict[str, type]:
    for module in pkgutil.walk_packages(mmgen_lib.__path__, "mmgen_lib."):
        importlib.import_module(module.name)
    return {
        key.split(">", 1)[1]: obj
        for key, obj in keras.saving.get_custom_objects().items()
        if key.startswith("mmgen_lib>")
    }


REGISTERED = _discover()


def _encoders():
    from mmgen_lib.encoders import ImageEncoder, TextEncoder

    return TextEncoder(20, embed_dim=8, units=8), ImageEncoder(filters=(4, 8), output_dim=8)


def _unified_layout():
    from mmgen_lib.unified import SequenceLayout

    return SequenceLayout(
        text_vocab_size=10, image_codebook_size=6, audio_codebook_size=4, image_tokens=3, audio_tokens=2, caption_len=4
    )


def _unified_transformer():
    from mmgen_lib.unified import UnifiedTransformer

    return UnifiedTransformer(_unified_layout(), embed_dim=8, num_heads=2, ff_dim=16, num_layers=1)


def _dual_encoder():
    from mmgen_lib.dual_encoder import DualEncoder

    return DualEncoder(*_encoders(), embed_dim=8)


def _layer(module, name, *args, **kwargs):
    return lambda: getattr(importlib.import_module(f"mmgen_lib.{module}"), name)(*args, **kwargs)


# class name -> (factory, example input). Inputs are NumPy arrays, lists or dicts of them.
EXAMPLES = {
    "MaskedMeanPooling": (_layer("encoders", "MaskedMeanPooling"), _floats(2, 5, 4)),
    "AttentionPooling": (_layer("encoders", "AttentionPooling", 8), _floats(2, 5, 4)),
    "TextEncoder": (
        _layer("encoders", "TextEncoder", 20, embed_dim=8, units=8, kind="transformer", pooling="attention"),
        _ids(2, 6),
    ),
    "ResidualBlock": (_layer("encoders", "ResidualBlock", 4), _floats(2, 8, 8, 4)),
    "ImageEncoder": (_layer("encoders", "ImageEncoder", filters=(4, 8), output_dim=8), _floats(2, 32, 32, 3)),
    "AudioEncoder": (_layer("encoders", "AudioEncoder", filters=(4,), output_dim=8), _floats(2, 28, 40)),
    "EarlyFusion": (_layer("fusion", "EarlyFusion", units=6), [_floats(2, 3), _floats(2, 5)]),
    "LateFusion": (_layer("fusion", "LateFusion"), [_floats(2, 4), _floats(2, 4)]),
    "GatedFusion": (_layer("fusion", "GatedFusion", units=6), [_floats(2, 3), _floats(2, 5)]),
    "TensorFusion": (_layer("fusion", "TensorFusion", projection_dim=3, units=6), [_floats(2, 3), _floats(2, 5)]),
    "CrossAttentionFusion": (_layer("fusion", "CrossAttentionFusion", 8, 2), [_floats(2, 4, 3), _floats(2, 6, 5)]),
    "TextDecoder": (_layer("decoders", "TextDecoder", 20, embed_dim=8, units=8), [_floats(2, 6), _ids(2, 5)]),
    "TransformerTextDecoder": (
        _layer("decoders", "TransformerTextDecoder", 20, embed_dim=8, ff_dim=16, max_len=8),
        [_floats(2, 6), _ids(2, 5)],
    ),
    "ImageDecoder": (_layer("decoders", "ImageDecoder", hidden_units=16, filters=(8, 8, 4)), _floats(2, 6)),
    "SimilarityLogits": (_layer("losses", "SimilarityLogits"), [_floats(3, 4), _floats(5, 4)]),
    "MultimodalLoss": (
        _layer("losses", "MultimodalLoss", 1.0, 0.5, 2.0, weighting="uncertainty"),
        {"ce": np.float32(0.7), "cos": np.float32(0.2), "mse": np.float32(0.05)},
    ),
    "AttributeProbe": (
        _layer("probe", "AttributeProbe", filters=(4, 4, 4), units=8, color_units=4),
        _floats(2, 32, 32, 3),
    ),
    "ModalityDropout": (_layer("robustness", "ModalityDropout", missing="learned"), [_floats(2, 3), _floats(2, 5)]),
    "GaussianSampling": (
        _layer("vae", "GaussianSampling", seed=1),  # logvar -80: the noise vanishes, z = mu
        [_floats(2, 4), np.full((2, 4), -80.0, "float32")],
    ),
    "ProductOfExperts": (
        _layer("vae", "ProductOfExperts"),
        [_floats(2, 3, 4), _floats(2, 3, 4), np.array([[1, 0, 1], [1, 1, 1]], "float32")],
    ),
    "MultimodalVAE": (
        _layer("vae", "MultimodalVAE", vocab_size=20, latent_dim=4, hidden_dim=8, seed=0),
        {"image": _floats(2, 32, 32, 3), "text": _ids(2, 6), "audio": _floats(2, 28, 40)},
    ),
    "VectorQuantizer": (_layer("tokens", "VectorQuantizer", codebook_size=8, code_dim=4, seed=0), _floats(2, 3, 4)),
    "ImageTokenizer": (
        _layer(
            "tokens",
            "ImageTokenizer",
            codebook_size=16,
            code_dim=4,
            filters=(4, 4, 4),
            decoder_filters=(4, 4, 4),
            hidden_units=8,
            seed=0,
        ),
        _floats(2, 32, 32, 3),
    ),
    "SoundTokenizer": (
        _layer("tokens", "SoundTokenizer", codebook_size=8, code_dim=4, filters=(4, 4), seed=0),
        _floats(2, 28, 40),
    ),
    "SinusoidalTimeEmbedding": (_layer("flow", "SinusoidalTimeEmbedding", dim=8), _floats(2)),
    "ConditionalVelocityNet": (
        _layer(
            "flow",
            "ConditionalVelocityNet",
            latent_dim=4,
            condition_dim=3,
            hidden_units=8,
            num_layers=2,
            time_dim=8,
            seed=0,
        ),
        [_floats(2, 4), _floats(2), _floats(2, 3)],
    ),
    "FlowMatcher": (
        _layer("flow", "FlowMatcher", latent_dim=4, hidden_units=8, num_layers=2, time_dim=8, seed=0),
        _floats(2, 4),
    ),
    "UnifiedTransformer": (_unified_transformer, _ids(2, 9, vocab=_unified_layout().vocab_size)),
    "DualEncoder": (_dual_encoder, {"text": _ids(2, 6), "image": _floats(2, 32, 32, 3)}),
    "CaptionToImage": (
        _layer("caption_to_image", "CaptionToImage", 20, caption_len=6, text_units=8, decoder_filters=(4, 4, 4)),
        _ids(2, 6),
    ),
    # losses: the input is (y_true, y_pred)
    "ShiftTolerantMSE": (
        _layer("image_losses", "ShiftTolerantMSE", max_shift=1),
        (_floats(2, 8, 8, 3), _floats(2, 8, 8, 3)),
    ),
    "CosineSimilarityLoss": (_layer("losses", "CosineSimilarityLoss"), (_floats(3, 4), _floats(3, 4))),
    "InfoNCELoss": (_layer("losses", "InfoNCELoss"), (np.arange(3), _floats(3, 3))),
    "MaskedSequenceCrossEntropy": (_layer("losses", "MaskedSequenceCrossEntropy"), (_ids(2, 5), _floats(2, 5, 20))),
    "WeightedMSE": (_layer("losses", "WeightedMSE", foreground_weight=2.0), (_floats(2, 4, 4, 3), _floats(2, 4, 4, 3))),
}


def _flat(outputs) -> list[np.ndarray]:
    return [np.asarray(keras.ops.convert_to_numpy(x)) for x in keras.tree.flatten(outputs)]


def _assert_same(expected, actual, what):
    expected, actual = _flat(expected), _flat(actual)
    assert len(expected) == len(actual), f"{what}: {len(expected)} outputs before, {len(actual)} after"
    for k, (a, b) in enumerate(zip(expected, actual)):
        np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-6, err_msg=f"{what}: output {k} differs")


def _perturb(obj):
    """Move every float weight away from its initial value (seeded)."""
    rng = np.random.default_rng(1)
    moved = 0
    for variable in obj.weights:
        if "float" in str(variable.dtype) and "seed_generator" not in variable.path:
            value = keras.ops.convert_to_numpy(variable)
            variable.assign(value + rng.normal(0.0, 0.1, value.shape).astype(value.dtype))
            moved += 1
    return moved


def _seed_states(obj) -> list:
    """The states of an object's random seed generators (a layer that draws noise, e.g. FlowMatcher)."""
    return [keras.ops.convert_to_numpy(v) for v in obj.variables if "seed_generator" in v.path]


def _set_seed_states(obj, states) -> None:
    """Rewind the seed generators so that two calls draw the same noise."""
    variables = [v for v in obj.variables if "seed_generator" in v.path]
    assert len(variables) == len(states), "the restored object has other seed generators"
    for variable, state in zip(variables, states):
        variable.assign(state)


def _symbolic(example):
    def one(array, name=None):
        array = np.asarray(array)
        if array.ndim == 0:  # a scalar input (e.g. one loss term)
            return keras.Input(batch_shape=(), dtype=str(array.dtype), name=name)
        return keras.Input(array.shape[1:], dtype=str(array.dtype), name=name)

    if isinstance(example, dict):  # functional models want dict inputs named by their keys
        return {key: one(value, key) for key, value in example.items()}
    return keras.tree.map_structure(one, example)


def test_every_registered_class_has_an_example():
    missing = sorted(set(REGISTERED) - set(EXAMPLES))
    assert not missing, "".join(
        f"\nadd an example input for {name} to EXAMPLES in tests/test_serialization.py" for name in missing
    )
    stale = sorted(set(EXAMPLES) - set(REGISTERED))
    assert not stale, f"EXAMPLES names classes that are not registered under 'mmgen_lib': {stale}"


LAYERS = sorted(name for name, cls in REGISTERED.items() if issubclass(cls, keras.layers.Layer))
LOSSES = sorted(name for name, cls in REGISTERED.items() if issubclass(cls, keras.losses.Loss))


def test_registered_objects_are_layers_or_losses():
    other = sorted(set(REGISTERED) - set(LAYERS) - set(LOSSES))
    assert not other, f"extend tests/test_serialization.py to round-trip these registered objects: {other}"


@pytest.mark.parametrize("name", LAYERS)
def test_layer_round_trips_standalone_and_wrapped_with_its_weights(name, tmp_path):
    if name not in EXAMPLES:
        pytest.fail(f"add an example input for {name} to EXAMPLES in tests/test_serialization.py")
    make, example = EXAMPLES[name]
    keras.utils.set_random_seed(0)
    layer = make()
    layer(example)  # build
    if layer.weights:
        assert _perturb(layer) > 0 or not layer.trainable_weights, f"{name}: no float weight to perturb"
    seeds = _seed_states(layer)
    expected = layer(example)

    # standalone
    if isinstance(layer, keras.Model):
        path = tmp_path / f"{name}.keras"
        layer.save(path)
        restored = keras.models.load_model(path)
        assert len(restored.weights) == len(layer.weights), (
            f"{name}: {len(layer.weights)} weights saved, {len(restored.weights)} loaded (does build() create them?)"
        )
    else:
        restored = type(layer).from_config(layer.get_config())
        build_config = layer.get_build_config()
        if build_config:
            restored.build_from_config(build_config)
        else:
            restored(example)
        assert len(restored.weights) == len(layer.weights), f"{name}: the rebuilt layer has other weights"
        restored.set_weights(layer.get_weights())
    _set_seed_states(restored, seeds)
    _assert_same(expected, restored(example), f"{name} standalone")

    # wrapped in a functional model
    inputs = _symbolic(example)
    model = keras.Model(inputs, layer(inputs))
    _set_seed_states(model, seeds)
    wrapped_expected = model(example)
    _assert_same(expected, wrapped_expected, f"{name} in a functional model")
    path = tmp_path / f"{name}_wrapped.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    _set_seed_states(loaded, seeds)
    _assert_same(expected, loaded(example), f"{name} wrapped, after save/load")


@pytest.mark.parametrize("name", LOSSES)
def test_loss_round_trips_by_config_and_inside_a_saved_model(name, tmp_path):
    if name not in EXAMPLES:
        pytest.fail(f"add an example input for {name} to EXAMPLES in tests/test_serialization.py")
    make, (y_true, y_pred) = EXAMPLES[name]
    loss = make()
    expected = loss(y_true, y_pred)
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert type(restored) is type(loss)
    _assert_same(expected, restored(y_true, y_pred), f"{name} from its config")

    inputs = keras.Input(np.asarray(y_pred).shape[1:])
    model = keras.Model(inputs, keras.layers.Identity()(inputs))
    model.compile(loss=loss)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    loaded_loss = loaded.loss
    assert type(loaded_loss) is type(loss), f"{name}: the saved model came back with loss {loaded_loss!r}"
    _assert_same(expected, loaded_loss(y_true, y_pred), f"{name} inside a saved model")


def test_the_shipped_probe_survives_save_and_load_model(tmp_path):
    from mmgen_lib.probe import load_probe

    probe = load_probe()
    images = _floats(4, 32, 32, 3)
    expected = probe.predict(images, verbose=0)
    probe.save(tmp_path / "probe.keras")
    _assert_same(
        expected,
        keras.models.load_model(tmp_path / "probe.keras").predict(images, verbose=0),
        "shipped probe after save/load_model",
    )
