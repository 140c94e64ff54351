"""Tests of mmgen_lib.pretrained: the course's trained image and audio encoders, shipped in data/pretrained/."""

import json

import keras
import numpy as np
import pytest

from mmgen_lib import pretrained
from mmgen_lib.classifiers import attribute_accuracy, predict_in_batches
from mmgen_lib.data import AUDIBLE_ATTRIBUTES, VISIBLE_ATTRIBUTES, load_split
from mmgen_lib.encoders import AudioEncoder, ImageEncoder
from mmgen_lib.pipeline import split_arrays


@pytest.fixture(scope="module")
def test_arrays():
    return split_arrays(load_split("test"))


@pytest.fixture(scope="module")
def small_train():
    return split_arrays(load_split("val"))  # 500 examples: enough to see learning, quick


def test_shipped_classifiers_match_their_recorded_accuracy(test_arrays):
    meta = json.loads((pretrained.default_pretrained_dir() / pretrained.META_FILE).read_text())
    image_model, audio_model = pretrained.load_image_classifier(), pretrained.load_audio_classifier()
    image_acc = attribute_accuracy(predict_in_batches(image_model, test_arrays["image"]), test_arrays)
    audio_acc = attribute_accuracy(predict_in_batches(audio_model, test_arrays["spectrogram"]), test_arrays)
    assert set(image_acc) == set(VISIBLE_ATTRIBUTES) and set(audio_acc) == set(AUDIBLE_ATTRIBUTES)
    for name, value in image_acc.items():
        assert value == pytest.approx(meta["accuracy"]["image"][name], abs=1e-3)
    for name, value in audio_acc.items():
        assert value == pytest.approx(meta["accuracy"]["audio"][name], abs=1e-3)
    assert min(image_acc.values()) >= 0.95 and min(audio_acc.values()) >= 0.99


def test_encoders_are_named_and_can_return_grid_or_sequence(test_arrays):
    image_model = pretrained.load_image_classifier(return_grid=True)
    audio_model = pretrained.load_audio_classifier(return_sequences=True)
    E_v, E_a = image_model.get_layer("E_v"), audio_model.get_layer("E_a")
    assert isinstance(E_v, ImageEncoder) and isinstance(E_a, AudioEncoder)
    vector, grid = E_v(test_arrays["image"][:3])
    assert tuple(vector.shape) == (3, 64) and tuple(grid.shape) == (3, 16, 32)
    z_a, frames = E_a(test_arrays["spectrogram"][:3])
    assert tuple(z_a.shape) == (3, 64) and frames.shape[0] == 3
    plain = pretrained.load_image_classifier().get_layer("E_v")
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(plain(test_arrays["image"][:3])), keras.ops.convert_to_numpy(vector), atol=1e-5
    )


def test_training_is_seeded_and_learns(small_train):
    first = pretrained.train_classifier("audio", small_train, epochs=1, seed=3)
    second = pretrained.train_classifier("audio", small_train, epochs=1, seed=3)
    for w1, w2 in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_allclose(w1, w2, atol=1e-6)
    accuracy = attribute_accuracy(predict_in_batches(first, small_train["spectrogram"]), small_train)
    assert accuracy["material"] > 0.5  # chance is 1/3


def test_save_load_round_trip_and_no_overwrite(tmp_path, small_train):
    image_model = pretrained.train_classifier("image", small_train, epochs=1, seed=0, examples=64)
    audio_model = pretrained.train_classifier("audio", small_train, epochs=1, seed=0, examples=64)
    meta = pretrained.save_classifiers(image_model, audio_model, tmp_path, accuracy={"image": {}, "audio": {}})
    assert set(meta["models"]) == {"image", "audio"}
    loaded = pretrained.load_image_classifier(tmp_path)
    x = small_train["image"][:4]
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(loaded(x)["shape"]), keras.ops.convert_to_numpy(image_model(x)["shape"]), atol=1e-5
    )
    with pytest.raises(FileExistsError, match="force"):
        pretrained.save_classifiers(image_model, audio_model, tmp_path)
    (tmp_path / "image_classifier.npz").write_bytes(b"damaged")
    with pytest.raises(ValueError, match="sha256.*python -m mmgen_lib.pretrained"):
        pretrained.load_image_classifier(tmp_path)
    with pytest.raises(FileNotFoundError, match="python -m mmgen_lib.pretrained"):
        pretrained.load_audio_classifier(tmp_path / "nowhere")


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: pretrained.train_classifier("video", {}), ValueError, "modality must be one of"),
        (
            lambda: pretrained.train_classifier("image", {"image": np.zeros((2, 32, 32, 3))}, epochs=0),
            ValueError,
            "epochs",
        ),
        (lambda: pretrained.train_classifier("image", [1, 2]), TypeError, "arrays must be a dict"),
        (lambda: pretrained.save_classifiers("no", "no", "/tmp/x"), TypeError, "image_model must be a keras.Model"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_cli_refuses_to_overwrite_without_force(tmp_path, capsys):
    (tmp_path / pretrained.META_FILE).write_text("{}")
    assert pretrained.main(["--out", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
