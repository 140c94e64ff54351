"""MultimodalVAE and its helpers (lesson 10): shapes, formulas, any-subset inference, save/load, seeds."""

import keras
import numpy as np
import pytest

from mmgen_lib.vae import GaussianSampling, MultimodalVAE, ProductOfExperts, gaussian_kl, shift_tolerant_squared_error

SPEC = (8, 12)
SIZES = (3, 4, 2, 4, 3)


def tiny_vae(**kwargs):
    config = dict(vocab_size=20, latent_dim=4, hidden_dim=8, spectrogram_shape=SPEC, seed=3)
    config.update(kwargs)
    return MultimodalVAE(**config)


def batch(n=5, seed=0):
    rng = np.random.default_rng(seed)
    inputs = {
        "image": rng.random((n, 32, 32, 3), dtype=np.float32),
        "text": rng.integers(1, 20, (n, 7)).astype("int32"),
        "audio": rng.normal(size=(n, *SPEC)).astype("float32"),
    }
    targets = {
        "image": inputs["image"],
        "audio": inputs["audio"],
        "text": np.stack([rng.integers(0, s, n) for s in SIZES], axis=1).astype("int32"),
    }
    return inputs, targets


# ----------------------------------------------------------------------------- GaussianSampling
def test_sampling_shape_and_moments():
    mu = np.full((20000, 2), [1.0, -2.0], "float32")
    logvar = np.full((20000, 2), [0.0, np.log(0.25)], "float32")
    z = np.asarray(GaussianSampling(seed=1)([mu, logvar]))
    assert z.shape == (20000, 2)
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0], atol=0.03)
    np.testing.assert_allclose(z.std(axis=0), [1.0, 0.5], atol=0.03)


def test_sampling_same_seed_same_draws_and_no_weights():
    mu, logvar = np.zeros((3, 4), "float32"), np.zeros((3, 4), "float32")
    first, second = GaussianSampling(seed=7), GaussianSampling(seed=7)
    np.testing.assert_array_equal(np.asarray(first([mu, logvar])), np.asarray(second([mu, logvar])))
    assert not np.allclose(np.asarray(GaussianSampling(seed=8)([mu, logvar])), np.asarray(first([mu, logvar])))
    assert first.count_params() == 0


def test_sampling_config_round_trip_and_bad_seed():
    layer = GaussianSampling(seed=5, name="s")
    clone = GaussianSampling.from_config(layer.get_config())
    assert clone.seed == 5 and clone.name == "s"
    with pytest.raises(ValueError, match="seed"):
        GaussianSampling(seed=-1)
    with pytest.raises(ValueError, match="seed"):
        GaussianSampling(seed="a")


# ----------------------------------------------------------------------------- ProductOfExperts
def poe_reference(mus, logvars, present):
    precision = present[..., None] * np.exp(-logvars)
    total = 1.0 + precision.sum(axis=1)
    return (precision * mus).sum(axis=1) / total, -np.log(total)


def test_poe_matches_formula_for_random_subsets():
    rng = np.random.default_rng(0)
    mus = rng.normal(size=(6, 3, 4)).astype("float32")
    logvars = rng.normal(size=(6, 3, 4)).astype("float32")
    present = rng.integers(0, 2, (6, 3)).astype("float32")
    mu, logvar = ProductOfExperts()([mus, logvars, present])
    ref_mu, ref_logvar = poe_reference(mus, logvars, present)
    np.testing.assert_allclose(np.asarray(mu), ref_mu, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(logvar), ref_logvar, rtol=1e-5, atol=1e-6)


def test_poe_with_no_expert_is_the_prior_and_one_expert_is_shrunk_towards_it():
    mus = np.full((1, 2, 1), 3.0, "float32")
    logvars = np.zeros((1, 2, 1), "float32")  # variance 1, like the prior
    mu, logvar = ProductOfExperts()([mus, logvars, np.zeros((1, 2), "float32")])
    np.testing.assert_allclose(np.asarray(mu), 0.0)
    np.testing.assert_allclose(np.asarray(logvar), 0.0)
    mu, logvar = ProductOfExperts()([mus, logvars, np.array([[1.0, 0.0]], "float32")])
    np.testing.assert_allclose(np.asarray(mu), 1.5, rtol=1e-6)  # halfway between 3 and the prior's 0
    np.testing.assert_allclose(np.asarray(logvar), np.log(0.5), rtol=1e-6)  # precisions add: 1 + 1


def test_poe_rejects_bad_shapes():
    with pytest.raises(ValueError, match="n_experts"):
        ProductOfExperts()([np.zeros((2, 4), "float32"), np.zeros((2, 4), "float32"), np.ones((2, 3), "float32")])


def test_poe_config_round_trip():
    layer = ProductOfExperts(name="poe")
    assert ProductOfExperts.from_config(layer.get_config()).name == "poe"


# ----------------------------------------------------------------------------- KL and image loss
def test_gaussian_kl_matches_closed_form_and_monte_carlo():
    rng = np.random.default_rng(1)
    mu = rng.normal(size=(4, 3)).astype("float32")
    logvar = rng.normal(scale=0.5, size=(4, 3)).astype("float32")
    expected = 0.5 * np.sum(np.exp(logvar) + mu**2 - 1 - logvar, axis=-1)
    np.testing.assert_allclose(np.asarray(gaussian_kl(mu, logvar)), expected, rtol=1e-5)
    np.testing.assert_allclose(np.asarray(gaussian_kl(np.zeros((1, 3)), np.zeros((1, 3)))), [0.0])
    # Monte Carlo: E_q[log q(z) - log p(z)] for the first example
    std = np.exp(0.5 * logvar[0])
    z = mu[0] + std * rng.normal(size=(200000, 3))
    log_q = -0.5 * np.sum(((z - mu[0]) / std) ** 2 + logvar[0] + np.log(2 * np.pi), axis=1)
    log_p = -0.5 * np.sum(z**2 + np.log(2 * np.pi), axis=1)
    assert abs(np.mean(log_q - log_p) - expected[0]) < 0.03


def test_shift_tolerant_error_forgives_small_shifts_only():
    image = np.zeros((1, 32, 32, 3), "float32")
    image[:, 12:18, 10:16] = 1.0
    for shift, forgiven in ((1, True), (2, True), (3, False)):
        moved = np.roll(image, shift, axis=2)
        error = float(np.asarray(shift_tolerant_squared_error(image, moved, 2))[0])
        assert (error == 0.0) == forgiven, (shift, error)
    plain = np.asarray(shift_tolerant_squared_error(image, np.roll(image, 1, axis=1), 0))
    np.testing.assert_allclose(plain, [np.sum((np.roll(image, 1, axis=1) - image) ** 2)])


# ----------------------------------------------------------------------------- MultimodalVAE
def test_vae_output_shapes_and_parameter_count():
    vae = tiny_vae()
    inputs, _ = batch()
    out = vae(inputs)
    assert tuple(out["image"].shape) == (5, 32, 32, 3)
    assert tuple(out["text"].shape) == (5, 5, 4)
    assert tuple(out["audio"].shape) == (5, *SPEC)
    assert tuple(out["mu"].shape) == tuple(out["logvar"].shape) == (5, 4)
    np.testing.assert_array_equal(np.asarray(out["present"]), np.ones((5, 3)))
    assert vae.count_params() == 45_900  # encoders 18,512 + 976 + 6,416; decoders 16,867 + 184 + 2,945


def test_vae_text_logits_mask_impossible_values():
    out = tiny_vae()(batch()[0])
    text = np.asarray(out["text"])
    for k, size in enumerate(SIZES):
        assert np.all(text[:, k, size:] <= -1e8) and np.all(text[:, k, :size] > -1e8)


def test_vae_any_subset_equals_masking_the_full_input():
    vae = tiny_vae()
    inputs, _ = batch()
    for subset in (("text",), ("image",), ("audio",), ("image", "text"), ("text", "audio")):
        mu_sub, logvar_sub, present = vae.encode({m: inputs[m] for m in subset})
        mask = np.array([[m in subset for m in ("image", "text", "audio")]] * 5, "float32")
        mu_all, logvar_all, _ = vae.encode(inputs, present=mask)
        np.testing.assert_allclose(np.asarray(mu_sub), np.asarray(mu_all), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(np.asarray(logvar_sub), np.asarray(logvar_all), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(np.asarray(present), mask)


def test_vae_more_modalities_means_a_narrower_posterior():
    vae = tiny_vae()
    inputs, _ = batch()
    _, logvar_text, _ = vae.encode({"text": inputs["text"]})
    _, logvar_all, _ = vae.encode(inputs)
    assert np.all(np.asarray(logvar_all) < np.asarray(logvar_text))  # precisions only add


def test_vae_random_subsets_are_non_empty_and_cover_all_seven():
    masks = np.asarray(tiny_vae().random_subsets(2000))
    assert masks.shape == (2000, 3) and masks.sum(axis=1).min() >= 1
    codes = masks @ np.array([1, 2, 4])
    assert set(codes.astype(int).tolist()) == set(range(1, 8))


def test_vae_training_call_keeps_only_given_modalities():
    vae = tiny_vae()
    inputs, _ = batch(50)
    present = np.asarray(vae({"text": inputs["text"], "audio": inputs["audio"]}, training=True)["present"])
    assert np.all(present[:, 0] == 0) and present.sum(axis=1).min() >= 1


def test_vae_same_seed_same_output_in_training_mode():
    inputs, _ = batch()
    outs = []
    for _ in range(2):
        keras.utils.set_random_seed(0)
        outs.append(tiny_vae(seed=11)(inputs, training=True))
    for key in ("image", "mu", "present"):
        np.testing.assert_array_equal(np.asarray(outs[0][key]), np.asarray(outs[1][key]))
    vae = tiny_vae()
    first = np.asarray(vae.sample_prior(3, seed=4)["image"])
    assert first.shape == (3, 32, 32, 3)
    np.testing.assert_array_equal(first, np.asarray(vae.sample_prior(3, seed=4)["image"]))
    assert not np.allclose(first, np.asarray(vae.sample_prior(3, seed=5)["image"]))


def test_vae_loss_matches_its_parts_and_classic_mode_ignores_absent_modalities():
    inputs, targets = batch()
    for cross in (True, False):
        vae = tiny_vae(
            cross_reconstruction=cross, beta=0.5, reconstruction_weights={"image": 2.0, "text": 3.0, "audio": 0.5}
        )
        out = vae({"text": inputs["text"]})
        recon = {k: np.asarray(v) for k, v in vae.reconstruction_losses(targets, out).items()}
        kl = np.asarray(gaussian_kl(out["mu"], out["logvar"]))
        weight = 1.0 if cross else 0.0
        expected = np.mean(0.5 * kl + weight * (2.0 * recon["image"] + 0.5 * recon["audio"]) + 3.0 * recon["text"])
        got = float(vae.compute_loss(y=targets, y_pred=out))
        np.testing.assert_allclose(got, expected, rtol=1e-5)


def test_vae_fits_and_logs_its_terms():
    vae = tiny_vae(image_shift_tolerance=0)
    inputs, targets = batch(16)
    vae.compile(keras.optimizers.Adam(1e-3))
    history = vae.fit(inputs, targets, batch_size=16, epochs=1, verbose=0)
    assert {"loss", "image_loss", "text_loss", "audio_loss", "kl"} <= set(history.history)
    with pytest.raises(ValueError, match="targets"):
        vae.compute_loss(y={"image": targets["image"]}, y_pred=vae(inputs))


def test_vae_config_round_trip():
    vae = tiny_vae(beta=0.2, cross_reconstruction=False, image_shift_tolerance=1, reconstruction_weights={"audio": 0.1})
    clone = MultimodalVAE.from_config(vae.get_config())
    assert clone.get_config() == vae.get_config()
    assert clone.count_params() == vae.count_params()


def test_vae_keras_save_load_gives_equal_outputs(tmp_path):
    vae = tiny_vae()
    inputs, _ = batch()
    before = vae(inputs)
    path = tmp_path / "vae.keras"
    vae.save(path)
    loaded = keras.models.load_model(path)
    after = loaded(inputs)
    for key in ("image", "text", "audio", "mu", "logvar"):
        np.testing.assert_allclose(np.asarray(after[key]), np.asarray(before[key]), rtol=1e-5, atol=1e-6)
    sub = loaded({"audio": inputs["audio"]})
    np.testing.assert_allclose(np.asarray(sub["mu"]), np.asarray(vae({"audio": inputs["audio"]})["mu"]), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(vocab_size=0), "vocab_size"),
        (dict(latent_dim=2.5), "latent_dim"),
        (dict(beta=-1.0), "beta"),
        (dict(attribute_sizes=(3, 1)), "attribute_sizes"),
        (dict(reconstruction_weights={"video": 1.0}), "reconstruction_weights"),
        (dict(spectrogram_shape=(28, 41)), "spectrogram_shape"),
        (dict(image_shift_tolerance=5), "image_shift_tolerance"),
        (dict(seed=-2), "seed"),
    ],
)
def test_vae_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        tiny_vae(**kwargs)


def test_vae_rejects_bad_inputs():
    vae = tiny_vae()
    with pytest.raises(ValueError, match="non-empty dict"):
        vae.encode({})
    with pytest.raises(ValueError, match="unknown modalities"):
        vae.encode({"video": np.zeros((1, 3))})


def test_vae_image_size_comes_from_the_constructor_and_other_sizes_are_refused():
    inputs = {"image": np.zeros((2, 64, 64, 3), "float32")}
    with pytest.raises(ValueError, match=r"built for 32x32 images; build one with image_size=64"):
        MultimodalVAE(vocab_size=20, seed=0)(inputs)
    big = MultimodalVAE(vocab_size=20, image_size=64, seed=0)
    assert big(inputs)["image"].shape == (2, 64, 64, 3)
    with pytest.raises(ValueError, match="image_size must be divisible by 8"):
        MultimodalVAE(vocab_size=20, image_size=60)


def test_vae_scales_uint8_images():
    vae = MultimodalVAE(vocab_size=20, seed=0)
    pixels = np.random.default_rng(0).integers(0, 256, (2, 32, 32, 3)).astype(np.uint8)
    np.testing.assert_allclose(
        np.asarray(vae({"image": pixels})["mu"]),
        np.asarray(vae({"image": pixels.astype("float32") / 255.0})["mu"]),
        rtol=1e-6,
    )
