"""Tests of mmgen_lib.caption_to_image: lesson 09's caption -> image generator, shipped in data/caption_to_image/."""

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from mmgen_lib import caption_to_image as c2i
from mmgen_lib.data import load_split
from mmgen_lib.pipeline import split_arrays
from mmgen_lib.probe import load_probe
from mmgen_lib.shipped import weights_bytes
from mmgen_lib.tokenizer import shapesworld_tokenizer

REPO = Path(__file__).resolve().parents[1]
CAPTION_LEN = c2i.RECIPE["caption_len"]


@pytest.fixture(scope="module")
def tokenizer():
    return shapesworld_tokenizer()


@pytest.fixture(scope="module")
def val(tokenizer):
    split = load_split("val")  # 500 examples: enough to see learning, quick
    arrays = split_arrays(split, tokenizer)
    return split, arrays["caption_ids"], arrays["spectrogram"]


@pytest.fixture(scope="module")
def shipped_model():
    return c2i.load_caption_to_image()


def test_shipped_generator_draws_what_it_recorded(shipped_model, tokenizer):
    test = load_split("test")
    ids = tokenizer.encode_batch(test.captions, CAPTION_LEN)
    images = shipped_model.predict(ids, verbose=0)
    assert images.shape == (len(test), 32, 32, 3) and images.dtype == np.float32
    assert 0 <= images.min() and images.max() <= 1
    meta = json.loads((c2i.default_caption_to_image_dir() / c2i.META_FILE).read_text())
    metrics = c2i.generator_metrics(shipped_model, ids, test.labels, load_probe())
    for name, value in metrics["probe_accuracy"].items():
        assert value == pytest.approx(meta["metrics"]["test"]["probe_accuracy"][name], abs=2e-3)
    for shape, value in metrics["silhouette_iou"].items():
        assert value == pytest.approx(meta["metrics"]["test"]["silhouette_iou"][shape], abs=5e-3)
    assert min(metrics["probe_accuracy"].values()) >= 0.95
    assert meta["vocab_size"] == tokenizer.vocab_size  # the shipped model reads the course tokenizer's ids


def test_shipped_weights_rewrite_to_their_recorded_sha256(shipped_model):
    meta = json.loads((c2i.default_caption_to_image_dir() / c2i.META_FILE).read_text())
    assert hashlib.sha256(weights_bytes(shipped_model.get_weights())).hexdigest() == meta["sha256"]


def test_calling_and_predicting_give_the_same_images(shipped_model, val):
    _, ids, _ = val
    called = np.asarray(shipped_model(ids[:4]))
    np.testing.assert_allclose(shipped_model.predict(ids[:4], verbose=0), called, atol=1e-6)
    np.testing.assert_allclose(shipped_model.predict(ids[:4].astype(np.int64), verbose=0), called, atol=1e-6)


def test_training_is_seeded_learns_and_round_trips(tmp_path, val, tokenizer):
    split, ids, spectrograms = val
    first, history = c2i.train_caption_to_image(
        ids, split.images, spectrograms, split.labels, tokenizer, epochs=2, seed=3
    )
    second, _ = c2i.train_caption_to_image(ids, split.images, spectrograms, split.labels, tokenizer, epochs=2, seed=3)
    for w1, w2 in zip(first.get_weights(), second.get_weights()):
        np.testing.assert_allclose(w1, w2, atol=1e-6)
    assert history["D_loss"][-1] < history["D_loss"][0]
    c2i.save_caption_to_image(first, tmp_path, metrics={"test": {}})
    loaded = c2i.load_caption_to_image(tmp_path)
    assert isinstance(loaded, c2i.CaptionToImage) and loaded.count_params() == first.count_params()
    np.testing.assert_allclose(loaded.predict(ids[:6], verbose=0), first.predict(ids[:6], verbose=0), atol=1e-5)


def test_saving_never_overwrites_without_force(tmp_path, tokenizer):
    model = c2i.build_caption_to_image(tokenizer.vocab_size, seed=0)
    c2i.save_caption_to_image(model, tmp_path)
    before = (tmp_path / c2i.WEIGHTS_FILE).read_bytes()
    with pytest.raises(FileExistsError, match="force"):
        c2i.save_caption_to_image(c2i.build_caption_to_image(tokenizer.vocab_size, seed=1), tmp_path)
    assert (tmp_path / c2i.WEIGHTS_FILE).read_bytes() == before
    c2i.save_caption_to_image(c2i.build_caption_to_image(tokenizer.vocab_size, seed=1), tmp_path, force=True)
    assert (tmp_path / c2i.WEIGHTS_FILE).read_bytes() != before


def test_missing_or_corrupted_files_are_refused_with_the_rebuild_command(tmp_path, tokenizer):
    with pytest.raises(FileNotFoundError, match="python -m mmgen_lib.caption_to_image"):
        c2i.load_caption_to_image(tmp_path / "nowhere")
    c2i.save_caption_to_image(c2i.build_caption_to_image(tokenizer.vocab_size, seed=0), tmp_path)
    path = tmp_path / c2i.WEIGHTS_FILE
    payload = bytearray(path.read_bytes())
    payload[len(payload) // 2] ^= 0xFF  # one flipped byte
    path.write_bytes(bytes(payload))
    with pytest.raises(ValueError, match="sha256.*python -m mmgen_lib.caption_to_image"):
        c2i.load_caption_to_image(tmp_path)
    path.unlink()
    with pytest.raises(FileNotFoundError, match="missing.*python -m mmgen_lib.caption_to_image"):
        c2i.load_caption_to_image(tmp_path)


@pytest.mark.parametrize(
    "ids, match",
    [
        (np.zeros((2, 12), np.int32), r"shape \(n, 16\).*Received: ids with shape \(2, 12\)"),
        (np.zeros((16,), np.int32), r"Received: ids with shape \(16,\)"),
        (np.zeros((2, 16), np.float32), "integer caption ids. Received: ids of dtype float32"),
        (np.full((2, 16), 10_000), r"lie in \[0, \d+\).*Received: ids from 10000"),
        (np.full((2, 16), -1), "Received: ids from -1"),
    ],
)
def test_bad_caption_ids_are_refused_with_a_clear_message(shipped_model, ids, match):
    with pytest.raises(ValueError, match=match):
        shipped_model.predict(ids, verbose=0)


def test_calling_with_bad_ids_is_refused_too(shipped_model):
    with pytest.raises(ValueError, match=r"shape \(n, 16\)"):
        shipped_model(np.zeros((2, 12), np.int32))
    with pytest.raises(ValueError, match="integer caption ids"):
        shipped_model(np.zeros((2, 16), np.float32))


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda v, i, s, t: c2i.train_caption_to_image(i, v.images, s, v.labels, t, epochs=0), ValueError, "epochs"),
        (lambda v, i, s, t: c2i.train_caption_to_image(i[:3], v.images, s, v.labels, t), ValueError, "ids"),
        (lambda v, i, s, t: c2i.train_caption_to_image(i, v.images, s, v.labels[:3], t), ValueError, "labels"),
        (lambda v, i, s, t: c2i.train_caption_to_image(i, v.images[..., 0], s, v.labels, t), ValueError, "images"),
        (lambda v, i, s, t: c2i.train_caption_to_image(i, v.images, s[:3], v.labels, t), ValueError, "spectrograms"),
        (lambda v, i, s, t: c2i.train_caption_to_image(i, v.images, s, v.labels, 50), TypeError, "Tokenizer"),
        (lambda v, i, s, t: c2i.build_caption_to_image(0), ValueError, "vocab_size"),
        (lambda v, i, s, t: c2i.CaptionToImage(20, sound_units=-1), ValueError, "sound_units"),
        (lambda v, i, s, t: c2i.save_caption_to_image("no", "/tmp/x"), TypeError, "CaptionToImage"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(val, tokenizer, call, error, match):
    split, ids, spectrograms = val
    with pytest.raises(error, match=match):
        call(split, ids, spectrograms, tokenizer)


def test_without_sound_the_decoder_reads_z_t_and_zeros_as_lesson_09_does(shipped_model, val):
    _, ids, _ = val
    z_t = np.asarray(shipped_model.text_encoder(ids[:4]))
    z = np.concatenate([z_t, np.zeros((4, shipped_model.sound_units), "float32")], axis=1)
    np.testing.assert_allclose(np.asarray(shipped_model.decoder(z)), np.asarray(shipped_model(ids[:4])), atol=1e-6)


def test_shipped_recipe_is_lesson_09s():
    lesson = (REPO / "lessons" / "src" / "09_joint_decoder_image.py").read_text()
    for name, key in [
        ("TEXT_UNITS", "text_units"),
        ("AUDIO_DIM", "sound_units"),
        ("EPOCHS", "epochs"),
        ("BATCH_SIZE", "batch_size"),
        ("LEARNING_RATE", "learning_rate"),
        ("MAX_SHIFT", "max_shift"),
        ("AUX_WEIGHT", "aux_weight"),
        ("P_AUDIO", "p_sound"),
        ("P_NO_SIZE", "p_no_size"),
    ]:
        value = re.search(rf"^{name} = ([0-9.e-]+)", lesson, re.M).group(1)
        assert float(value) == c2i.RECIPE[key], name
    assert re.search(r"^DECODER_FILTERS = \(32, 16, 8\)", lesson, re.M) and c2i.RECIPE["decoder_filters"] == [32, 16, 8]


def test_shipped_record_has_every_epochs_losses_for_lesson_09s_live_first_epoch():
    history = c2i.load_caption_to_image_history()
    assert {"loss", "D_loss", "shape_loss"} <= set(history)
    assert all(len(values) == c2i.RECIPE["epochs"] for values in history.values())
    assert history["D_loss"][-1] < 0.2 * history["D_loss"][0]  # the image loss falls more than five-fold


def test_history_is_saved_with_the_weights_and_bad_histories_are_refused(tmp_path, shipped_model):
    history = {"loss": [2.0, 1.5], "D_loss": [np.float32(0.3), 0.2]}
    c2i.save_caption_to_image(shipped_model, tmp_path / "ok", history=history)
    assert c2i.load_caption_to_image_history(tmp_path / "ok") == {"loss": [2.0, 1.5], "D_loss": [0.3, 0.2]}
    for bad, error, match in [
        ({"loss": [1.0], "D_loss": [1.0, 2.0]}, ValueError, "same number of epochs"),
        ({"loss": ["high"]}, TypeError, "numbers"),
        ([1.0, 2.0], TypeError, "dict"),
    ]:
        with pytest.raises(error, match=match):
            c2i.save_caption_to_image(shipped_model, tmp_path / "bad", history=bad)
    assert not (tmp_path / "bad").exists()
    c2i.save_caption_to_image(shipped_model, tmp_path / "none")
    with pytest.raises(ValueError, match=r"no loss history.*python -m mmgen_lib.caption_to_image"):
        c2i.load_caption_to_image_history(tmp_path / "none")


def test_cli_refuses_to_overwrite_without_force(tmp_path, capsys):
    (tmp_path / c2i.META_FILE).write_text("{}")
    assert c2i.main(["--out", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / c2i.META_FILE).read_text() == "{}"


def test_regeneration_command_is_byte_for_byte_reproducible_and_refuses_to_overwrite(
    rebuilds_byte_for_byte, quick_retrain
):
    # The full recipe (`python -m mmgen_lib.caption_to_image --out data/caption_to_image --force`)
    # takes about 40 s; the same command on 256 examples for one epoch pins down the byte-for-byte property.
    first = rebuilds_byte_for_byte("mmgen_lib.caption_to_image", (c2i.WEIGHTS_FILE, c2i.META_FILE))
    refused = quick_retrain("mmgen_lib.caption_to_image", first)
    assert refused.returncode == 2 and "--force" in refused.stderr
