"""Tests of mmgen_lib.probe: the AttributeProbe, its training, scoring, and the shipped weights."""

import json
from types import SimpleNamespace

import keras
import numpy as np
import pytest

from mmgen_lib import probe as probe_module
from mmgen_lib.data import ATTRIBUTES, generate_split, load_split
from mmgen_lib.probe import (
    PROBE_ATTRIBUTES,
    AttributeProbe,
    load_probe,
    probe_accuracy,
    probe_predict,
    save_probe,
    train_probe,
)


def images(n=4, seed=0):
    return np.random.default_rng(seed).random((n, 32, 32, 3)).astype("float32")


def as_numpy(value):
    return keras.ops.convert_to_numpy(value)


@pytest.fixture(scope="module")
def shipped():
    return load_probe()


def test_outputs_one_probability_vector_per_visible_attribute():
    keras.utils.set_random_seed(0)
    out = AttributeProbe()(images())
    assert tuple(out) == PROBE_ATTRIBUTES
    for name in PROBE_ATTRIBUTES:
        probs = as_numpy(out[name])
        assert probs.shape == (4, len(ATTRIBUTES[name]))
        np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)


def test_parameter_count_is_exact():
    probe = AttributeProbe()
    probe(images(1))
    convs = (9 * 1 * 16 + 16) + (9 * 16 * 32 + 32) + (9 * 32 * 32 + 32)
    hidden = 4 * 4 * 32 * 64 + 64
    colour = 3 * 16 + 16
    heads = (64 * 3 + 3) + (16 * 4 + 4) + (64 * 2 + 2) + (64 * 4 + 4)
    assert probe.count_params() == convs + hidden + colour + heads == 47597


def test_colour_blind_branch_cannot_see_hue():
    """Swapping colour channels leaves the shape, size and position readings unchanged."""
    keras.utils.set_random_seed(1)
    probe = AttributeProbe()
    x = images(3)
    swapped = x[..., ::-1]
    a, b = probe(x), probe(np.ascontiguousarray(swapped))
    for name in ("shape", "size", "position"):
        np.testing.assert_allclose(as_numpy(a[name]), as_numpy(b[name]), atol=1e-6)
    plain = AttributeProbe(colour_blind=False)
    a, b = plain(x), plain(np.ascontiguousarray(swapped))
    assert not np.allclose(as_numpy(a["shape"]), as_numpy(b["shape"]), atol=1e-6)


def test_config_round_trip_and_keras_save_load(tmp_path):
    keras.utils.set_random_seed(2)
    probe = AttributeProbe(filters=(4, 8, 8), units=8, color_units=4, colour_blind=False)
    config = probe.get_config()
    assert config["filters"] == [4, 8, 8] and config["units"] == 8 and config["colour_blind"] is False
    assert AttributeProbe.from_config(config).get_config()["color_units"] == 4
    inputs = keras.Input((32, 32, 3))
    model = keras.Model(inputs, probe(inputs))
    model.save(tmp_path / "probe.keras")
    loaded = keras.models.load_model(tmp_path / "probe.keras")
    for name in PROBE_ATTRIBUTES:
        np.testing.assert_allclose(as_numpy(loaded(images())[name]), as_numpy(model(images())[name]), atol=1e-6)


def test_same_seed_same_output():
    outputs = []
    for _ in range(2):
        keras.utils.set_random_seed(3)
        outputs.append(as_numpy(AttributeProbe()(images())["shape"]))
    np.testing.assert_array_equal(*outputs)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"filters": (8, 8)}, "filters"),
        ({"filters": (8, 0, 8)}, "filters"),
        ({"units": 0}, "units"),
        ({"color_units": -2}, "color_units"),
    ],
)
def test_bad_arguments_raise_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AttributeProbe(**kwargs)


def test_bad_images_and_labels_raise_value_error(shipped):
    with pytest.raises(ValueError, match="32, 32, 3"):
        probe_accuracy(shipped, np.zeros((2, 28, 28, 3)), np.zeros((2, 5), int))
    with pytest.raises(ValueError, match="labels has no"):
        probe_accuracy(shipped, images(2), {"shape": [0, 1]})
    with pytest.raises(ValueError, match="3 shape labels for 2 images"):
        probe_accuracy(shipped, images(2), {name: [0, 0, 0] for name in PROBE_ATTRIBUTES})
    with pytest.raises(ValueError, match="must be a dict"):
        probe_accuracy(shipped, images(2), np.zeros(2, int))


def test_shipped_probe_is_accurate_on_real_test_and_heldout_images(shipped):
    """The probe is validated before it is trusted: >= 0.98 per attribute on real images,
    including the held-out combinations it never saw."""
    for split_name in ("test", "heldout"):
        split = load_split(split_name)
        accuracy = probe_accuracy(shipped, split.images, split.labels)
        assert set(accuracy) == set(PROBE_ATTRIBUTES)
        assert min(accuracy.values()) >= 0.98, (split_name, accuracy)


def test_labels_may_be_a_dict_or_a_label_array_and_images_uint8_or_float(shipped):
    split = generate_split("test", n=40)
    as_dict = {name: split["labels"][:, k] for k, name in enumerate(("shape", "color", "size", "position"))}
    a = probe_accuracy(shipped, split["images"], split["labels"])
    b = probe_accuracy(shipped, split["images"].astype("float32") / 255.0, as_dict)
    assert a == b
    readings = probe_predict(shipped, split["images"])
    assert {k: v.shape for k, v in readings.items()} == {name: (40,) for name in PROBE_ATTRIBUTES}


def test_save_and_load_round_trip_with_checksum(tmp_path):
    keras.utils.set_random_seed(4)
    probe = AttributeProbe(filters=(4, 4, 4), units=4, color_units=2)
    probe(images(1))
    meta = save_probe(probe, tmp_path, accuracy={"test": {"shape": 1.0}})
    assert json.loads((tmp_path / "probe.json").read_text())["sha256"] == meta["sha256"]
    loaded = load_probe(tmp_path)
    np.testing.assert_allclose(as_numpy(loaded(images())["position"]), as_numpy(probe(images())["position"]), atol=1e-6)
    with pytest.raises(FileExistsError, match="force"):
        save_probe(probe, tmp_path)
    assert save_probe(probe, tmp_path, force=True)["sha256"] == meta["sha256"]  # same weights, same bytes


def test_load_refuses_a_missing_or_corrupted_probe(tmp_path):
    with pytest.raises(FileNotFoundError, match="python -m mmgen_lib.probe"):
        load_probe(tmp_path / "nowhere")
    probe = AttributeProbe(filters=(4, 4, 4), units=4, color_units=2)
    probe(images(1))
    save_probe(probe, tmp_path)
    (tmp_path / "probe_weights.npz").write_bytes(b"not the weights")
    with pytest.raises(ValueError, match="sha256"):
        load_probe(tmp_path)


def test_train_probe_is_seeded_and_learns_on_a_small_split():
    data = generate_split("train", n=128, seed=7)
    split = SimpleNamespace(images=data["images"], labels=data["labels"])
    first = train_probe(split, epochs=1, batch_size=64, seed=5)
    second = train_probe(split, epochs=1, batch_size=64, seed=5)
    for w1, w2 in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_allclose(w1, w2, atol=1e-6)
    assert isinstance(first, AttributeProbe)


def test_cli_refuses_to_overwrite_without_force(tmp_path, capsys):
    (tmp_path / "probe.json").write_text("{}")
    assert probe_module.main(["--out", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err


def test_the_shared_npz_writer_reproduces_the_shipped_probe_bytes():
    """The weights, in the order AttributeProbe creates them, re-written by data.npz_bytes: same sha256."""
    import hashlib
    import json

    from mmgen_lib.probe import default_probe_dir, load_probe
    from mmgen_lib.shipped import weights_bytes

    meta = json.loads((default_probe_dir() / "probe.json").read_text())
    assert hashlib.sha256(weights_bytes(load_probe().get_weights())).hexdigest() == meta["sha256"]
