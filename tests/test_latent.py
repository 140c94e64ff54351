"""Tests of mmgen_lib.latent: lesson 14's image autoencoder to a 16-d latent, shipped in data/latent/."""

import json

import numpy as np
import pytest

from mmgen_lib import latent
from mmgen_lib.data import load_split
from mmgen_lib.probe import load_probe, probe_accuracy


@pytest.fixture(scope="module")
def probe():
    return load_probe()


@pytest.fixture(scope="module")
def val():
    return load_split("val")  # 500 examples: enough to see learning, quick


def test_shipped_autoencoder_reconstructs_what_it_recorded(probe):
    test = load_split("test")
    autoencoder = latent.load_latent_autoencoder(probe=probe)
    meta = json.loads((latent.default_latent_dir() / latent.META_FILE).read_text())
    z = autoencoder.encode(test.images)
    assert z.shape == (len(test), latent.RECIPE["latent_dim"]) and z.dtype == np.float32
    reconstructions = autoencoder.decode(z)
    assert reconstructions.shape == test.images.shape and 0 <= reconstructions.min() and reconstructions.max() <= 1
    accuracy = probe_accuracy(probe, reconstructions, test.labels)
    for name, value in accuracy.items():
        assert value == pytest.approx(meta["accuracy"]["test"][name], abs=2e-3)
    assert min(accuracy.values()) >= 0.97


def test_uint8_and_float_images_encode_alike(probe):
    autoencoder = latent.load_latent_autoencoder(probe=probe)
    images = load_split("test").images[:8]
    np.testing.assert_allclose(autoencoder.encode(images), autoencoder.encode(images / np.float32(255)), atol=1e-5)


def test_training_is_seeded_learns_and_round_trips(tmp_path, probe, val):
    first, history = latent.train_latent_autoencoder(probe, val.images, val.labels, epochs=2, seed=3)
    second, _ = latent.train_latent_autoencoder(probe, val.images, val.labels, epochs=2, seed=3)
    for w1, w2 in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_allclose(w1, w2, atol=1e-6)
    assert history["D_loss"][-1] < history["D_loss"][0]
    latent.save_latent_autoencoder(first, tmp_path, accuracy={"test": {}})
    loaded = latent.load_latent_autoencoder(tmp_path, probe=probe)
    z = first.encode(val.images[:6])
    np.testing.assert_allclose(loaded.encode(val.images[:6]), z, atol=1e-5)
    np.testing.assert_allclose(loaded.decode(z), first.decode(z), atol=1e-5)
    with pytest.raises(FileExistsError, match="force"):
        latent.save_latent_autoencoder(first, tmp_path)
    (tmp_path / latent.WEIGHTS_FILE).write_bytes(b"damaged")
    with pytest.raises(ValueError, match="sha256.*python -m mmgen_lib.latent"):
        latent.load_latent_autoencoder(tmp_path, probe=probe)
    with pytest.raises(FileNotFoundError, match="python -m mmgen_lib.latent"):
        latent.load_latent_autoencoder(tmp_path / "nowhere", probe=probe)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda p, v: latent.train_latent_autoencoder(p, v.images, v.labels, epochs=0), ValueError, "epochs"),
        (lambda p, v: latent.train_latent_autoencoder(p, v.images, v.labels[:3]), ValueError, "labels"),
        (lambda p, v: latent.train_latent_autoencoder("probe", v.images, v.labels), TypeError, "probe"),
        (lambda p, v: latent.load_latent_autoencoder(probe=p).encode(np.zeros((2, 32, 32))), ValueError, "images"),
        (lambda p, v: latent.load_latent_autoencoder(probe=p).decode(np.zeros((2, 5))), ValueError, "latent"),
        (lambda p, v: latent.save_latent_autoencoder("no", "/tmp/x"), TypeError, "LatentAutoencoder"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(probe, val, call, error, match):
    with pytest.raises(error, match=match):
        call(probe, val)


def test_cli_refuses_to_overwrite_without_force(tmp_path, capsys):
    (tmp_path / latent.META_FILE).write_text("{}")
    assert latent.main(["--out", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
