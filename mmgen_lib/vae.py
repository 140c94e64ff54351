"""The multimodal variational autoencoder (lesson 10).

Per-modality Gaussian experts combined by a product of experts for any subset of modalities,
a reparameterised sample, and a cross-reconstruction ELBO: every subset's latent must
reconstruct every modality. Configuration is passed as plain values so that the ``.keras``
format can save and load it.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from keras import ops

from mmgen_lib import shipped, validation
from mmgen_lib.encoders import ConvStack
from mmgen_lib.utils import data_dir, set_seed

VAE_MODALITIES = ("image", "text", "audio")


def _check_seed_arg(seed) -> None:
    if seed is not None:
        validation.integer(seed, "seed", minimum=0)


@keras.saving.register_keras_serializable(package="mmgen_lib")
class GaussianSampling(keras.layers.Layer):
    """Draw z = mu + exp(logvar / 2) * eps with eps ~ N(0, I): the reparameterisation trick (lesson 10).

    The noise comes from the layer's own ``keras.random.SeedGenerator``, so the same
    seed gives the same draws, and gradients flow to ``mu`` and ``logvar``.

    Args:
        seed: int or None, seeds the layer's noise.

    Call arguments:
        inputs: a pair ``(mu, logvar)`` of tensors with the same shape (batch, latent_dim).

    Output shape:
        (batch, latent_dim).
    """

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        _check_seed_arg(seed)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        mu, logvar = inputs
        eps = keras.random.normal(ops.shape(mu), seed=self.seed_generator)
        return mu + ops.exp(0.5 * logvar) * eps

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="mmgen_lib")
class ProductOfExperts(keras.layers.Layer):
    """Joint Gaussian posterior of the *present* experts and a N(0, I) prior expert (lesson 10).

    A product of Gaussians is Gaussian; its precision is the sum of the precisions
    (Wu & Goodman, 2018): with T_m = exp(-logvar_m) and presence p_m in {0, 1},

        T = 1 + sum_m p_m T_m,   mu = (sum_m p_m T_m mu_m) / T,   logvar = -log T.

    The prior expert (precision 1, mean 0) keeps the product defined when no
    modality is present: the posterior is then the prior itself.

    Call arguments:
        inputs: a list ``[mus, logvars, present]``: mus and logvars (batch, n_experts, latent_dim),
            present (batch, n_experts) of 0/1 (which experts take part, per example).

    Output shape:
        a pair ``(mu, logvar)``, each (batch, latent_dim).
    """

    def call(self, inputs):
        mus, logvars, present = inputs
        if len(mus.shape) != 3 or len(present.shape) != 2:
            raise ValueError(
                "ProductOfExperts expects mus/logvars of shape (batch, n_experts, latent_dim) and "
                f"present of shape (batch, n_experts). Received: {mus.shape} and {present.shape}"
            )
        present = ops.cast(present, mus.dtype)[..., None]  # (batch, n_experts, 1)
        precisions = present * ops.exp(-logvars)  # (batch, n_experts, latent_dim)
        total = 1.0 + ops.sum(precisions, axis=1)  # (batch, latent_dim), 1.0 = the prior expert
        mu = ops.sum(precisions * mus, axis=1) / total
        return mu, -ops.log(total)

    def compute_output_shape(self, input_shape):
        batch, _, dim = input_shape[0]
        return (batch, dim), (batch, dim)


def gaussian_kl(mu, logvar):
    """KL( N(mu, exp(logvar)) || N(0, I) ) per example, summed over the latent axis (lesson 10)."""
    return 0.5 * ops.sum(ops.exp(logvar) + ops.square(mu) - 1.0 - logvar, axis=-1)


def shift_tolerant_squared_error(target, pred, max_shift=2):
    """Per-example sum of squared errors, minimised over shifts of the target by up to ``max_shift`` px (lesson 10).

    A caption says "on the left", not *where* on the left: ShapesWorld jitters each object
    by +-2 px. Plain squared error then asks a text-conditioned decoder for the average
    of all shifts, a blur; taking the best of the (2 * max_shift + 1)^2 shifts lets it draw
    a sharp object at any of those places. ``max_shift=0`` is the plain sum of squares.
    The VAE's ELBO needs a *sum* over pixels (a log-likelihood), so this is lesson 09's
    :func:`mmgen_lib.image_losses.shift_tolerant_mse` without area normalisation, times
    the number of values per image.

    Input shape: target and pred (batch, height, width, channels). Output shape: (batch,).
    """
    from mmgen_lib.image_losses import shift_tolerant_mse

    values_per_image = int(np.prod(pred.shape[1:]))
    return shift_tolerant_mse(target, pred, max_shift, area_normalize=False) * values_per_image


@keras.saving.register_keras_serializable(package="mmgen_lib")
class MultimodalVAE(keras.Model):
    """A multimodal VAE over image, text and audio with a product-of-experts posterior (lesson 10).

    Each modality has an encoder giving a Gaussian q(z | x_m); the joint posterior of
    any subset of modalities is their product with a N(0, I) prior expert
    (:class:`ProductOfExperts`, MVAE of Wu & Goodman 2018). Decoders map z back to every
    modality: an image (32, 32, 3) in [0, 1], the caption's attribute words (one
    softmax per attribute: "a {size} {color} {material} {shape} {position}"), and a
    (standardised) log-mel spectrogram.

    Training draws, per example, a random non-empty subset of the modalities, encodes
    only that subset and minimises the negative ELBO
    ``sum_m w_m * recon_m + beta * KL(q(z | subset) || N(0, I))``. With
    ``cross_reconstruction=True`` (default) every subset's z must reconstruct *all*
    modalities — what makes text -> image or audio -> material work; with False, only
    the modalities of the subset (the classic MVAE objective).

    Args:
        vocab_size: size of the caption vocabulary (id 0 = padding).
        attribute_sizes: number of values per caption attribute (ShapesWorld: 3, 4, 2, 4, 3).
        latent_dim: size of z.
        hidden_dim: width of the encoders' and decoders' dense layers.
        beta: weight of the KL term (beta < 1 favours reconstruction).
        reconstruction_weights: dict modality -> weight of its reconstruction loss.
        cross_reconstruction: decode all modalities from every subset (True) or only the present ones.
        spectrogram_shape: (frames, mel_bins) of the audio input, both divisible by 4.
        image_shift_tolerance: the image loss is the best over shifts of up to this many pixels
            (:func:`shift_tolerant_squared_error`); 0 = plain squared error.
        seed: seeds the subset draws and the latent noise.
        image_size: height = width of the images, divisible by 8 (default 32, ShapesWorld); other
            sizes are refused with a message naming ``image_size``.

    Call arguments:
        inputs: dict with any non-empty subset of ``"image"`` (batch, image_size, image_size, 3) in [0, 1]
            (uint8 pixels are scaled),
            ``"text"`` (batch, seq_len) token ids and ``"audio"`` (batch, frames, mel_bins).
        training: if True, drop modalities at random and sample z; else use all given ones and z = mu.

    Returns:
        dict with ``"image"``, ``"text"`` (batch, n_attributes, max_values) logits (impossible
        values at -1e9), ``"audio"``, ``"mu"``, ``"logvar"`` and ``"present"`` (batch, 3).
        ``fit`` expects targets ``{"image": images, "text": (n, n_attributes) ints, "audio": spectrograms}``.
    """

    def __init__(
        self,
        vocab_size,
        attribute_sizes=(3, 4, 2, 4, 3),
        latent_dim=16,
        hidden_dim=64,
        beta=0.1,
        reconstruction_weights=None,
        cross_reconstruction=True,
        spectrogram_shape=(28, 40),
        image_shift_tolerance=2,
        seed=None,
        image_size=32,
        **kwargs,
    ):
        super().__init__(**kwargs)
        for name, value in (("vocab_size", vocab_size), ("latent_dim", latent_dim), ("hidden_dim", hidden_dim)):
            validation.positive_int(value, name)
        sizes = tuple(validation.integer(s, "each entry of attribute_sizes", minimum=2) for s in attribute_sizes)
        if not sizes:
            raise ValueError(f"attribute_sizes must be a non-empty list of ints >= 2. Received: {attribute_sizes!r}")
        validation.number(beta, "beta", minimum=0)
        weights = {"image": 1.0, "text": 1.0, "audio": 1.0, **(reconstruction_weights or {})}
        if set(weights) != set(VAE_MODALITIES):
            raise ValueError(
                f"reconstruction_weights keys must be among {VAE_MODALITIES}. "
                f"Received: {sorted(reconstruction_weights)}"
            )
        frames, bins = validation.positive_int_sequence(spectrogram_shape, "spectrogram_shape", 2, 2)
        if frames % 4 or bins % 4:
            raise ValueError(
                f"spectrogram_shape must be divisible by 4. Received: spectrogram_shape={spectrogram_shape}"
            )
        validation.integer(image_shift_tolerance, "image_shift_tolerance", minimum=0, maximum=4)
        if validation.positive_int(image_size, "image_size") % 8:
            raise ValueError(
                f"image_size must be divisible by 8 (three pooling stages). Received: image_size={image_size}"
            )
        _check_seed_arg(seed)
        self.image_size = int(image_size)
        self.image_shift_tolerance = int(image_shift_tolerance)
        self.vocab_size, self.attribute_sizes, self.latent_dim = int(vocab_size), sizes, int(latent_dim)
        self.hidden_dim, self.beta, self.seed = int(hidden_dim), float(beta), seed
        self.reconstruction_weights = {m: float(weights[m]) for m in VAE_MODALITIES}
        self.cross_reconstruction = bool(cross_reconstruction)
        self.spectrogram_shape = (frames, bins)
        self._build_networks()
        self.poe = ProductOfExperts(name="product_of_experts")
        self.sampling = GaussianSampling(seed=seed, name="sampling")
        self.subset_seed = keras.random.SeedGenerator(None if seed is None else seed + 1)
        self.image_loss_tracker = keras.metrics.Mean(name="image_loss")
        self.text_loss_tracker = keras.metrics.Mean(name="text_loss")
        self.audio_loss_tracker = keras.metrics.Mean(name="audio_loss")
        self.kl_tracker = keras.metrics.Mean(name="kl")
        # text logits (batch, sum(sizes)) -> (batch, n_attributes, max_values); padding slots get -1e9
        sizes_array = np.array(sizes)
        offsets = np.concatenate([[0], np.cumsum(sizes_array)[:-1]])
        slots = np.arange(sizes_array.max())
        self._text_index = np.minimum(offsets[:, None] + slots[None, :], (offsets + sizes_array - 1)[:, None])
        self._text_valid = slots[None, :] < sizes_array[:, None]
        self.built = True  # every sub-network knows its input shape and is built already

    def _build_networks(self):
        L, d, h = keras.layers, self.latent_dim, self.hidden_dim
        frames, bins = self.spectrogram_shape
        size, grid = self.image_size, self.image_size // 8
        encoders = {
            "image": keras.Sequential(
                [
                    keras.Input((size, size, 3)),
                    *ConvStack((16, 32, 32)).layers(),  # (batch, size / 8, size / 8, 32): lesson 03's conv stack
                    L.Flatten(),
                    L.Dense(h, activation="relu"),
                    L.Dense(2 * d),
                ],
                name="image_encoder",
            ),
            "text": keras.Sequential(
                [  # bag of words: each attribute has its own words
                    keras.Input((None,), dtype="int32"),
                    L.Embedding(self.vocab_size, 32, mask_zero=True),
                    L.GlobalAveragePooling1D(),
                    L.Dense(h, activation="relu"),
                    L.Dense(2 * d),
                ],
                name="text_encoder",
            ),
            "audio": keras.Sequential(
                [
                    keras.Input((frames, bins)),
                    L.Reshape((frames, bins, 1)),
                    L.Conv2D(16, 3, strides=2, padding="same", activation="relu"),  # (batch, frames/2, bins/2, 16)
                    L.Conv2D(32, 3, strides=2, padding="same", activation="relu"),  # (batch, frames/4, bins/4, 32)
                    L.Flatten(),
                    L.Dense(h, activation="relu"),
                    L.Dense(2 * d),
                ],
                name="audio_encoder",
            ),
        }
        decoders = {
            "image": keras.Sequential(
                [
                    keras.Input((d,)),
                    L.Dense(grid * grid * 32, activation="relu"),
                    L.Reshape((grid, grid, 32)),
                    L.Conv2DTranspose(
                        32, 3, strides=2, padding="same", activation="relu"
                    ),  # (batch, size/4, size/4, 32)
                    L.Conv2DTranspose(
                        16, 3, strides=2, padding="same", activation="relu"
                    ),  # (batch, size/2, size/2, 16)
                    L.Conv2DTranspose(3, 3, strides=2, padding="same", activation="sigmoid"),
                ],
                name="image_decoder",
            ),
            "text": keras.Sequential(
                [keras.Input((d,)), L.Dense(h, activation="relu"), L.Dense(sum(self.attribute_sizes))],
                name="text_decoder",
            ),
            "audio": keras.Sequential(
                [
                    keras.Input((d,)),
                    L.Dense(frames // 4 * bins // 4 * 16, activation="relu"),
                    L.Reshape((frames // 4, bins // 4, 16)),
                    L.Conv2DTranspose(
                        16, 3, strides=2, padding="same", activation="relu"
                    ),  # (batch, frames/2, bins/2, 16)
                    L.Conv2DTranspose(1, 3, strides=2, padding="same"),
                    L.Reshape((frames, bins)),
                ],
                name="audio_decoder",
            ),
        }
        for m in VAE_MODALITIES:
            setattr(self, f"{m}_encoder", encoders[m])
            setattr(self, f"{m}_decoder", decoders[m])

    def build(self, input_shape=None):
        self.built = True  # nothing to do: the sub-networks are built in __init__

    def encode(self, inputs, present=None):
        """Joint posterior of the modalities in ``inputs`` (any non-empty subset), by product of experts.

        Args:
            inputs: dict with some of ``"image"``, ``"text"``, ``"audio"``; only those encoders run.
            present: optional (batch, 3) 0/1 mask (image, text, audio) to use fewer of the given
                modalities per example; a row that keeps none falls back to all given ones.

        Returns:
            ``(mu, logvar, present)``: (batch, latent_dim) twice and the (batch, 3) mask used.
        """
        if not isinstance(inputs, dict) or not inputs:
            raise ValueError(f"inputs must be a non-empty dict with keys among {VAE_MODALITIES}. Received: {inputs!r}")
        unknown = sorted(set(inputs) - set(VAE_MODALITIES))
        if unknown:
            raise ValueError(f"unknown modalities {unknown}; expected keys among {VAE_MODALITIES}")
        given = [m for m in VAE_MODALITIES if m in inputs]
        inputs = dict(inputs)
        if "image" in inputs:
            shape = validation.image_batch_shape(inputs["image"].shape, 'inputs["image"]')
            if tuple(shape[1:3]) != (self.image_size, self.image_size):
                raise ValueError(
                    f"this MultimodalVAE was built for {self.image_size}x{self.image_size} images; "
                    f"build one with image_size={shape[1]} for these (height = width, divisible by 8). "
                    f'Received: inputs["image"] with shape {shape}'
                )
            inputs["image"] = validation.scale_uint8_images(inputs["image"])
        stats = {m: getattr(self, f"{m}_encoder")(inputs[m]) for m in given}  # (batch, 2 * latent_dim) each
        batch = ops.shape(stats[given[0]])[0]
        zeros = ops.zeros((batch, 2 * self.latent_dim))
        stacked = ops.stack([stats.get(m, zeros) for m in VAE_MODALITIES], axis=1)  # (batch, 3, 2 * latent_dim)
        available = ops.stack(
            [ops.ones((batch,)) if m in stats else ops.zeros((batch,)) for m in VAE_MODALITIES], axis=1
        )  # (batch, 3)
        if present is not None:  # keep the requested ones that are given; an empty draw falls back to all given
            present = ops.cast(present, "float32") * available
            present = ops.where(ops.sum(present, axis=1, keepdims=True) == 0, available, present)
        else:
            present = available
        mu, logvar = self.poe([stacked[..., : self.latent_dim], stacked[..., self.latent_dim :], present])
        return mu, logvar, present

    def decode(self, z):
        """Decode a latent (batch, latent_dim) into every modality (a dict, as returned by ``call``)."""
        flat = self.text_decoder(z)  # (batch, sum(attribute_sizes))
        text = ops.where(self._text_valid, ops.take(flat, self._text_index, axis=1), -1e9)  # (batch, n_attr, max)
        return {"image": self.image_decoder(z), "text": text, "audio": self.audio_decoder(z)}

    def random_subsets(self, batch):
        """(batch, 3) 0/1 masks, each a uniformly drawn non-empty subset of the three modalities."""
        codes = keras.random.randint((batch, 1), 1, 2 ** len(VAE_MODALITIES), seed=self.subset_seed)
        return ops.cast(ops.bitwise_and(codes, np.array([[1, 2, 4]], "int32")) > 0, "float32")

    def call(self, inputs, training=False):
        if training:
            batch = ops.shape(next(iter(inputs.values())))[0]
            mu, logvar, present = self.encode(inputs, self.random_subsets(batch))
            z = self.sampling([mu, logvar])
        else:
            mu, logvar, present = self.encode(inputs)
            z = mu
        return {**self.decode(z), "mu": mu, "logvar": logvar, "present": present}

    def reconstruction_losses(self, targets, outputs):
        """Per-example reconstruction losses, a dict modality -> (batch,)."""
        image = shift_tolerant_squared_error(targets["image"], outputs["image"], self.image_shift_tolerance)
        text = ops.sum(
            keras.losses.sparse_categorical_crossentropy(targets["text"], outputs["text"], from_logits=True), axis=1
        )
        audio = ops.sum(ops.square(outputs["audio"] - targets["audio"]), axis=(1, 2))
        return {"image": image, "text": text, "audio": audio}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(y, dict) or set(y) != set(VAE_MODALITIES):
            raise ValueError(f"MultimodalVAE needs targets for {VAE_MODALITIES} as a dict. Received: {y!r}")
        recon = self.reconstruction_losses(y, y_pred)
        kl = gaussian_kl(y_pred["mu"], y_pred["logvar"])
        total = self.beta * kl
        for k, m in enumerate(VAE_MODALITIES):
            weight = 1.0 if self.cross_reconstruction else y_pred["present"][:, k]
            total = total + self.reconstruction_weights[m] * weight * recon[m]
            getattr(self, f"{m}_loss_tracker").update_state(recon[m])
        self.kl_tracker.update_state(kl)
        return ops.mean(total)

    def sample_prior(self, n, seed=None):
        """Decode ``n`` latents drawn from the prior N(0, I) (same seed, same samples)."""
        z = keras.random.normal((int(n), self.latent_dim), seed=seed)
        return self.decode(z)

    def get_config(self):
        return {
            **super().get_config(),
            "vocab_size": self.vocab_size,
            "attribute_sizes": list(self.attribute_sizes),
            "latent_dim": self.latent_dim,
            "hidden_dim": self.hidden_dim,
            "beta": self.beta,
            "reconstruction_weights": dict(self.reconstruction_weights),
            "cross_reconstruction": self.cross_reconstruction,
            "spectrogram_shape": list(self.spectrogram_shape),
            "image_shift_tolerance": self.image_shift_tolerance,
            "seed": self.seed,
            "image_size": self.image_size,
        }


# --- lesson 10's recipe, trained once and shipped in data/vae/ -------------------------------------

META_FILE = "vae.json"
WEIGHTS_FILE = "vae.npz"
RECIPE = {
    "latent_dim": 16,
    "hidden_dim": 64,
    "beta": 0.1,
    "reconstruction_weights": {"image": 1.0, "text": 20.0, "audio": 0.02},  # sums of squares / of cross-entropies
    "image_shift_tolerance": 1,
    "epochs": 10,
    "batch_size": 64,
    "learning_rate": 3e-3,
}


def vae_arrays(arrays, labels, spec_mean, spec_std):
    """Inputs (image, caption ids, standardised spectrogram) and targets (image, attribute ids, spectrogram).

    ``arrays`` is a split's ``pipeline.split_arrays`` output, ``labels`` its (n, 5) attribute ids;
    the spectrogram is standardised per (frame, mel bin) with the train split's ``spec_mean`` and
    ``spec_std`` (28, 40).
    """
    audio = (arrays["spectrogram"] - spec_mean) / spec_std
    inputs = {"image": arrays["image"], "text": arrays["caption_ids"], "audio": audio}
    return inputs, {"image": arrays["image"], "text": labels.astype("int32"), "audio": audio}


def _model(vocab_size, recipe: dict, seed) -> MultimodalVAE:
    return MultimodalVAE(
        vocab_size,
        latent_dim=recipe["latent_dim"],
        hidden_dim=recipe["hidden_dim"],
        beta=recipe["beta"],
        reconstruction_weights=recipe["reconstruction_weights"],
        image_shift_tolerance=recipe["image_shift_tolerance"],
        seed=seed,
    )


def build_vae(vocab_size, seed: int = 0) -> MultimodalVAE:
    """A :class:`MultimodalVAE` of :data:`RECIPE`'s sizes, as lesson 10 builds it: ``set_seed(seed)`` first."""
    set_seed(seed)
    return _model(vocab_size, RECIPE, seed)


def train_vae(train_x: dict, train_y: dict, vocab_size, epochs: int | None = None, seed: int = 0):
    """Train a :class:`MultimodalVAE` by :data:`RECIPE`, as lesson 10 does, step for step.

    Args:
        train_x, train_y: inputs and targets of the train split, from :func:`vae_arrays`.
        vocab_size: the caption tokenizer's vocabulary size.
        epochs: default: the recipe's.
        seed: same seed, same weights (on one machine).

    Returns:
        ``(vae, history)``, history a dict of per-epoch values (``loss``, ``image_loss``, ``kl``, ...).
    """
    epochs = validation.positive_int(RECIPE["epochs"] if epochs is None else epochs, "epochs")
    if not isinstance(train_x, dict) or not isinstance(train_y, dict):
        raise TypeError(
            "train_x and train_y must be the dicts vae_arrays returns. "
            f"Received: {type(train_x).__name__} and {type(train_y).__name__}"
        )
    missing = sorted(set(VAE_MODALITIES) - set(train_x)) + sorted(set(VAE_MODALITIES) - set(train_y))
    if missing:
        raise ValueError(f"train_x and train_y need the keys {VAE_MODALITIES}; missing {missing}")
    vae = build_vae(vocab_size, seed=seed)
    vae.compile(optimizer=keras.optimizers.Adam(RECIPE["learning_rate"]))
    vae.optimizer.build(vae.trainable_variables)
    history = vae.fit(train_x, train_y, batch_size=RECIPE["batch_size"], epochs=epochs, shuffle=True, verbose=0)
    return vae, history.history


def default_vae_dir():
    """Where the shipped VAE lives: ``<data dir>/vae``."""
    return data_dir() / "vae"


def save_vae(model, out_dir, metrics: dict | None = None, seed: int | None = None, history=None, force=False) -> dict:
    """Write the weights and ``vae.json`` (recipe, sha256, losses, metrics); overwrite only with ``force``."""
    if not isinstance(model, MultimodalVAE):
        raise TypeError(f"model must be a MultimodalVAE (from train_vae). Received: {type(model).__name__}")
    record = shipped.history_record(history) if history is not None else None
    payload = shipped.weights_bytes(model.get_weights())
    meta = {
        "file": WEIGHTS_FILE,
        "sha256": shipped.sha256(payload),
        "recipe": {**RECIPE, "reconstruction_weights": dict(RECIPE["reconstruction_weights"])},
        "vocab_size": model.vocab_size,
        "metrics": metrics or {},
        "seed": seed,
    }
    if record is not None:
        meta["history"] = record
    shipped.write_folder(out_dir, {WEIGHTS_FILE: payload}, META_FILE, meta, force=force)
    return meta


def load_vae(folder=None, verify: bool = True):
    """The shipped multimodal VAE (lesson 10) and its record, in well under a second.

    Args:
        folder: folder holding ``vae.json`` (default ``data/vae/``).
        verify: check the weights' sha256 first.

    Returns:
        ``(vae, meta)``: a :class:`MultimodalVAE` and the folder's record (``meta["history"]``: the
        loss of every epoch; ``meta["metrics"]``: the figures measured when it was made).
    """
    folder = Path(folder) if folder is not None else default_vae_dir()
    hint = shipped.rebuild_hint("vae", folder)
    meta = shipped.read_meta(folder, META_FILE, hint)
    weights = shipped.read_weights(folder / meta["file"], meta["sha256"], hint, verify=verify)
    model = _model(meta["vocab_size"], meta["recipe"], meta["seed"])  # no set_seed: loading draws nothing
    if len(weights) != len(model.weights):
        raise ValueError(f"{folder / meta['file']} holds {len(weights)} arrays, the model {len(model.weights)}; {hint}")
    model.set_weights(weights)
    return model, meta


def text_to_image_probe_accuracy(vae, ids, labels, probe, batch_size: int = 500) -> dict:
    """Probe accuracy per attribute of the images ``vae`` decodes from captions alone (z = mu)."""
    from mmgen_lib.probe import probe_accuracy

    images = np.concatenate(
        [np.asarray(vae({"text": ids[i : i + batch_size]})["image"]) for i in range(0, len(ids), batch_size)]
    )
    return {k: round(v, 4) for k, v in probe_accuracy(probe, images, labels).items()}


def main(argv=None) -> int:
    import time

    args, refused = shipped.recipe_command(
        "python -m mmgen_lib.vae",
        "Train lesson 10's multimodal VAE on the train split and save it.",
        (WEIGHTS_FILE, META_FILE),
        argv,
    )
    if refused is not None:
        return refused
    from mmgen_lib.data import load_split
    from mmgen_lib.pipeline import split_arrays
    from mmgen_lib.probe import load_probe
    from mmgen_lib.tokenizer import shapesworld_tokenizer

    train, test = load_split("train"), load_split("test")
    tokenizer = shapesworld_tokenizer(train)
    arrays = split_arrays(train, tokenizer)
    spec_mean, spec_std = arrays["spectrogram"].mean(axis=0), arrays["spectrogram"].std(axis=0) + 1e-6
    train_x, train_y = vae_arrays(arrays, train.labels, spec_mean, spec_std)
    if args.examples is not None:
        n = validation.positive_int(args.examples, "--examples")
        train_x, train_y = ({k: v[:n] for k, v in part.items()} for part in (train_x, train_y))
    started = time.perf_counter()
    vae, history = train_vae(train_x, train_y, tokenizer.vocab_size, epochs=args.epochs, seed=args.seed)
    seconds = time.perf_counter() - started
    test_ids = split_arrays(test, tokenizer)["caption_ids"]
    metrics = {
        "test": {"text_to_image_probe_accuracy": text_to_image_probe_accuracy(vae, test_ids, test.labels, load_probe())}
    }
    if (quick_run := shipped.quick_run_record(args)) is not None:
        metrics["quick_run"] = quick_run
    print(
        f"trained in {seconds:.1f} s; loss {history['loss'][0]:.4g} -> {history['loss'][-1]:.4g}; "
        f"test text -> image probe {metrics['test']['text_to_image_probe_accuracy']}"
    )
    meta = save_vae(vae, args.out, metrics, seed=args.seed, history=history, force=True)
    print(f"wrote {WEIGHTS_FILE} (sha256 {meta['sha256'][:12]}...) and {META_FILE} to {args.out}")
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
