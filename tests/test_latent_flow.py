"""Tests of lesson 14's caption encoder and conditional flow, shipped in data/latent_flow/ (mmgen_lib.latent_flow)."""

import hashlib
import json

import numpy as np
import pytest

from mmgen_lib import latent_flow as lf
from mmgen_lib.data import ATTRIBUTES, load_split
from mmgen_lib.flow import FlowMatcher, sample_latents
from mmgen_lib.latent import load_latent_autoencoder
from mmgen_lib.probe import PROBE_ATTRIBUTES, load_probe, probe_accuracy
from mmgen_lib.shipped import weights_bytes
from mmgen_lib.tokenizer import shapesworld_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    return shapesworld_tokenizer()


@pytest.fixture(scope="module")
def shipped():
    return lf.load_latent_flow()


@pytest.fixture(scope="module")
def small(tokenizer):
    """Variants of 200 validation captions with random standardised latents: quick to train on."""
    split = load_split("val")
    captions, said = lf.caption_variants(split.captions[:200], split.labels[:200], seed=1)
    ids = tokenizer.encode_batch(captions, 16)
    z = np.random.default_rng(0).normal(size=(len(ids), 16)).astype("float32")
    return ids, z, said


def test_shipped_flow_draws_what_it_recorded(shipped, tokenizer):
    models, meta = shipped
    train, test = load_split("train"), load_split("test")
    probe = load_probe()
    autoencoder = load_latent_autoencoder(probe=probe)
    latents = autoencoder.encode(train.images)
    z_mean, z_std = latents.mean(0), latents.std(0) + 1e-6
    condition = models.caption_vectors.predict(tokenizer.encode_batch(test.captions, 16), verbose=0)
    z = sample_latents(models.flow.velocity, condition, steps=10, guidance=2.0, method="heun", seed=meta["seed"])
    scores = probe_accuracy(probe, autoencoder.decode(z * z_std + z_mean), test.labels)
    for name, value in scores.items():
        assert value == pytest.approx(meta["metrics"]["test"]["flow_probe_accuracy"][name], abs=3e-3), name
    assert min(scores.values()) >= 0.9  # lesson 14's bar
    assert meta["vocab_size"] == tokenizer.vocab_size


def test_shipped_weights_rewrite_to_their_recorded_sha256_and_the_record_has_every_epoch(shipped):
    models, meta = shipped
    payload = weights_bytes([*models.text_trainer.get_weights(), *models.flow.velocity.get_weights()])
    assert hashlib.sha256(payload).hexdigest() == meta["sha256"]
    assert len(meta["history"]["caption_encoder"]["loss"]) == lf.RECIPE["text_epochs"]
    assert len(meta["history"]["flow"]["loss"]) == lf.RECIPE["flow_epochs"]
    assert meta["history"]["flow"]["loss"][-1] < 0.5 * meta["history"]["flow"]["loss"][0]


def test_loading_does_not_reseed_the_learners_session():
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    lf.load_latent_flow()
    assert np.random.random() == before  # load_latent_flow draws nothing and sets no seed


def test_caption_variants_keep_the_first_copy_and_mark_what_is_not_said():
    split = load_split("val")
    captions, said = lf.caption_variants(split.captions[:100], split.labels[:100], seed=0)
    assert len(captions) == 3 * 100 and captions[:100] == list(split.captions[:100])
    assert set(said) == set(PROBE_ATTRIBUTES) and all(len(v) == 300 for v in said.values())
    not_said = {a: said[a] == len(ATTRIBUTES[a]) for a in PROBE_ATTRIBUTES}
    assert not any(flags[:100].any() for flags in not_said.values())  # the originals name everything
    share = np.mean([flags[100:].mean() for flags in not_said.values()])
    assert 0.2 < share < 0.4  # p_omit = 0.3
    again, _ = lf.caption_variants(split.captions[:100], split.labels[:100], seed=0)
    assert again == captions


def test_training_is_seeded_learns_and_round_trips(tmp_path, small, tokenizer):
    ids, z, said = small
    first, history = lf.train_caption_encoder(ids, z, said, tokenizer.vocab_size, epochs=2, seed=3)
    second, _ = lf.train_caption_encoder(ids, z, said, tokenizer.vocab_size, epochs=2, seed=3)
    for w1, w2 in zip(first.text_trainer.get_weights(), second.text_trainer.get_weights()):
        np.testing.assert_allclose(w1, w2, atol=1e-6)
    assert history["loss"][-1] < history["loss"][0]
    conditions = first.caption_vectors.predict(ids, verbose=0)
    flow, flow_history = lf.train_flow(z, conditions, epochs=4, stop_after=2, seed=3)
    assert len(flow_history["loss"]) == 2 and isinstance(flow, FlowMatcher)
    models = lf.CaptionFlow(first.text_trainer, first.regression, first.caption_vectors, flow)
    lf.save_latent_flow(models, tmp_path, {"caption_encoder": history, "flow": flow_history}, seed=3)
    loaded, meta = lf.load_latent_flow(tmp_path)
    assert meta["seed"] == 3 and len(meta["history"]["flow"]["loss"]) == 2
    np.testing.assert_allclose(loaded.regression(ids[:5]), first.regression(ids[:5]), atol=1e-5)
    x, t, c = z[:5], np.full((5,), 0.5, "float32"), conditions[:5]
    np.testing.assert_allclose(loaded.flow.velocity([x, t, c]), flow.velocity([x, t, c]), atol=1e-5)


def test_saving_never_overwrites_without_force(tmp_path, shipped):
    models, _ = shipped
    lf.save_latent_flow(models, tmp_path)
    before = (tmp_path / lf.META_FILE).read_bytes()
    with pytest.raises(FileExistsError, match="force"):
        lf.save_latent_flow(models, tmp_path, metrics={"other": 1})
    assert (tmp_path / lf.META_FILE).read_bytes() == before
    lf.save_latent_flow(models, tmp_path, metrics={"other": 1}, force=True)
    assert json.loads((tmp_path / lf.META_FILE).read_text())["metrics"] == {"other": 1}


def test_missing_or_damaged_files_are_refused_with_the_rebuild_command(tmp_path, shipped):
    models, _ = shipped
    with pytest.raises(FileNotFoundError, match=r"python -m mmgen_lib.latent_flow --out .* --force"):
        lf.load_latent_flow(tmp_path / "nothing")
    lf.save_latent_flow(models, tmp_path)
    weights = tmp_path / lf.WEIGHTS_FILE
    weights.write_bytes(weights.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(ValueError, match=r"sha256.*python -m mmgen_lib.latent_flow"):
        lf.load_latent_flow(tmp_path)


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda ids, z, said: lf.train_caption_encoder(ids, z, {"shape": said["shape"]}, 50), ValueError, "keys"),
        (lambda ids, z, said: lf.train_caption_encoder(ids, z[:10], said, 50), ValueError, "one row per example"),
        (lambda ids, z, said: lf.train_caption_encoder(ids.tolist(), z, said, 50), TypeError, "NumPy array"),
        (lambda ids, z, said: lf.train_caption_encoder(ids, z, said, 50, epochs=0), ValueError, "epochs"),
        (lambda ids, z, said: lf.train_flow(z, z, epochs=2, stop_after=3), ValueError, "stop_after"),
        (lambda ids, z, said: lf.caption_variants(["a red circle"], [[0, 1]]), ValueError, r"\(n, 5\)"),
        (lambda ids, z, said: lf.save_latent_flow("models", "/tmp/unused"), TypeError, "CaptionFlow"),
    ],
)
def test_bad_arguments_are_refused_with_a_clear_message(small, call, error, match):
    with pytest.raises(error, match=match):
        call(*small)


def test_cli_refuses_to_overwrite_without_force(tmp_path, capsys):
    (tmp_path / lf.META_FILE).write_text("{}")
    assert lf.main(["--out", str(tmp_path)]) == 2
    assert "--force" in capsys.readouterr().err
    assert (tmp_path / lf.META_FILE).read_text() == "{}"


def test_regeneration_command_is_byte_for_byte_reproducible(rebuilds_byte_for_byte):
    # The full recipe (`python -m mmgen_lib.latent_flow --out data/latent_flow --force`) takes about
    # 35 s; the same command on 256 examples for one epoch pins down the byte-for-byte property.
    rebuilds_byte_for_byte("mmgen_lib.latent_flow", (lf.WEIGHTS_FILE, lf.META_FILE))
