"""Lesson 14's latent space: ShapesWorld images <-> 16-d latents, trained once and shipped in ``data/latent/``.

Latent diffusion trains its autoencoder apart from the generator, once, and every generator
after that works in its latent (Rombach et al. 2022). The course does the same in miniature:

    autoencoder = load_latent_autoencoder()       # frozen; the probe's trunk inside
    z = autoencoder.encode(images)                # (n, 32, 32, 3) -> (n, 16)
    images = autoencoder.decode(z)                # (n, 16) -> (n, 32, 32, 3), values in [0, 1]

The recipe (:data:`RECIPE`, :func:`train_latent_autoencoder`) is lesson 10's: the encoder is the
attribute probe's frozen convolutional trunk (``scoreboard.probe_features``, 80 features,
standardised) and one trainable ``Dense`` to the latent; the decoder is lesson 09's
``ImageDecoder`` (alpha compositing) trained with the shift-tolerant, area-normalised loss;
four small attribute heads on the latent (lesson 09's multimodal loss) keep shape, colour, size
and position legible in it. Rebuild with ``python -m mmgen_lib.latent --out data/latent --force``
(about a minute on a CPU); ``latent.json`` records the recipe, the seed, the sha256 and the
probe's accuracy on the reconstructions of the test split. The recipe trains 15 epochs: with 5
(what lesson 14 once trained itself) the reconstructions' shape accuracy ranged from 0.88 to
0.99 depending on the seed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np

from mmgen_lib import shipped, validation
from mmgen_lib.classifiers import predict_in_batches
from mmgen_lib.data import ATTRIBUTES
from mmgen_lib.decoders import ImageDecoder
from mmgen_lib.image_losses import ShiftTolerantMSE
from mmgen_lib.probe import PROBE_ATTRIBUTES, AttributeProbe, _as_labels, load_probe
from mmgen_lib.scoreboard import probe_features
from mmgen_lib.utils import data_dir as default_data_dir

__all__ = [
    "RECIPE",
    "LatentAutoencoder",
    "train_latent_autoencoder",
    "save_latent_autoencoder",
    "load_latent_autoencoder",
    "default_latent_dir",
    "META_FILE",
    "WEIGHTS_FILE",
]

META_FILE = "latent.json"
WEIGHTS_FILE = "latent_autoencoder.npz"
RECIPE = {
    "latent_dim": 16,
    "epochs": 15,
    "batch_size": 64,
    "learning_rate": 4e-3,
    "aux_weight": 0.1,
    "max_shift": 1,
    "feature_std_floor": 1e-3,
}


def _check_probe(probe) -> AttributeProbe:
    if not isinstance(probe, AttributeProbe):
        raise TypeError(f"probe must be an AttributeProbe (from probe.load_probe()). Received: {type(probe).__name__}")
    return probe


class LatentAutoencoder:
    """Images <-> latents through the probe's frozen trunk, a ``Dense`` to the latent and an ``ImageDecoder``.

    Args:
        probe: the attribute probe whose convolutional trunk encodes the images (frozen).
        feature_mean, feature_std: (80,) statistics of the training images' probe features.
        latent_dim: size of the latent.

    Attributes:
        to_latent: the trainable ``Dense`` (standardised features -> latent).
        decoder: the ``ImageDecoder`` named ``"D"`` (latent -> image).
        trainer: ``keras.Model`` features -> [image, shape, color, size, position] used for training.
    """

    def __init__(self, probe, feature_mean, feature_std, latent_dim: int = RECIPE["latent_dim"]):
        self.probe = _check_probe(probe)
        self.latent_dim = validation.positive_int(latent_dim, "latent_dim")
        self.feature_mean = np.asarray(feature_mean, np.float32)
        self.feature_std = np.asarray(feature_std, np.float32)
        features_in = keras.Input(self.feature_mean.shape, name="probe_features")
        self.to_latent = keras.layers.Dense(self.latent_dim, name="to_latent")
        self.decoder = ImageDecoder(name="D")
        z = self.to_latent(features_in)  # (batch, latent_dim)
        heads = [keras.layers.Dense(len(ATTRIBUTES[a]), activation="softmax", name=a)(z) for a in PROBE_ATTRIBUTES]
        self.trainer = keras.Model(features_in, [self.decoder(z), *heads], name="latent_autoencoder")
        self._encoder = keras.Model(features_in, z, name="latent_encoder")

    def standardised_features(self, images, batch_size: int = 500) -> np.ndarray:
        """(n, 32, 32, 3) uint8 or [0, 1] floats -> the probe's features, standardised (n, 80)."""
        images = validation.image_batch(images, "images", size=(32, 32))
        return (probe_features(self.probe, images, batch_size) - self.feature_mean) / self.feature_std

    def encode(self, images, batch_size: int = 500) -> np.ndarray:
        """Images (n, 32, 32, 3), uint8 or floats in [0, 1] -> latents (n, latent_dim) float32."""
        return predict_in_batches(self._encoder, self.standardised_features(images, batch_size), batch_size).astype(
            np.float32
        )

    def decode(self, z, batch_size: int = 500) -> np.ndarray:
        """Latents (n, latent_dim) -> images (n, 32, 32, 3) float32 in [0, 1], in batches."""
        z = np.asarray(z, np.float32)
        if z.ndim != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"z must be latents of shape (n, {self.latent_dim}). Received: z with shape {z.shape}")
        if not len(z):
            return np.zeros((0, 32, 32, 3), np.float32)
        return predict_in_batches(self.decoder, z, batch_size)

    def count_params(self) -> int:
        """Trainable parameters of the encoder's dense layer and the decoder (the heads are training aids)."""
        return self.to_latent.count_params() + self.decoder.count_params()

    def get_weights(self) -> list:
        """[feature_mean, feature_std, *trainer weights]: everything a saved autoencoder needs."""
        return [self.feature_mean, self.feature_std, *self.trainer.get_weights()]

    def set_weights(self, weights) -> None:
        self.feature_mean, self.feature_std = (np.asarray(w, np.float32) for w in weights[:2])
        self.trainer.set_weights(weights[2:])


def train_latent_autoencoder(probe, images, labels, epochs: int | None = None, seed: int = 0):
    """Train a :class:`LatentAutoencoder` by :data:`RECIPE` (lesson 10's recipe) on ``images``.

    Args:
        probe: the attribute probe (its trunk is the frozen encoder).
        images: (n, 32, 32, 3) uint8 or floats in [0, 1], e.g. ``load_split("train").images``.
        labels: the split's labels ((n, 5) array or dict attribute -> (n,) ints); they train the heads.
        epochs: default: the recipe's.
        seed: same seed, same weights (on one machine).

    Returns:
        ``(autoencoder, history)``, history a dict of per-epoch losses (``"D_loss"`` is the image loss).
    """
    probe = _check_probe(probe)
    epochs = validation.positive_int(RECIPE["epochs"] if epochs is None else epochs, "epochs")
    x = validation.image_batch(images, "images", size=(32, 32))
    targets = _as_labels(labels, len(x))
    features = probe_features(probe, x)  # (n, 80)
    keras.utils.set_random_seed(seed)  # layers draw their initial weights when constructed
    autoencoder = LatentAutoencoder(probe, features.mean(0), features.std(0) + RECIPE["feature_std_floor"])
    steps = epochs * int(np.ceil(len(x) / RECIPE["batch_size"]))
    autoencoder.trainer.compile(
        optimizer=keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(RECIPE["learning_rate"], steps)),
        loss=[ShiftTolerantMSE(RECIPE["max_shift"]), *["sparse_categorical_crossentropy"] * len(PROBE_ATTRIBUTES)],
        loss_weights=[1.0, *[RECIPE["aux_weight"]] * len(PROBE_ATTRIBUTES)],
        steps_per_execution=10,
    )
    history = autoencoder.trainer.fit(
        (features - autoencoder.feature_mean) / autoencoder.feature_std,
        [x, *[targets[a] for a in PROBE_ATTRIBUTES]],
        epochs=epochs,
        batch_size=RECIPE["batch_size"],
        shuffle=True,
        verbose=0,
    )
    return autoencoder, history.history


def default_latent_dir() -> Path:
    """Where the shipped autoencoder lives: ``<data dir>/latent``."""
    return default_data_dir() / "latent"


def save_latent_autoencoder(
    autoencoder, out_dir, accuracy: dict | None = None, seed: int | None = None, force: bool = False
) -> dict:
    """Write the weights and ``latent.json`` (recipe, sha256, accuracy); never overwrites without ``force``."""
    if not isinstance(autoencoder, LatentAutoencoder):
        raise TypeError(
            f"autoencoder must be a LatentAutoencoder (from train_latent_autoencoder). "
            f"Received: {type(autoencoder).__name__}"
        )
    payload = shipped.weights_bytes(autoencoder.get_weights())
    meta = {
        "file": WEIGHTS_FILE,
        "sha256": shipped.sha256(payload),
        "recipe": dict(RECIPE),
        "feature_dim": int(autoencoder.feature_mean.shape[0]),
        "accuracy": accuracy or {},
        "seed": seed,
    }
    shipped.write_folder(out_dir, {WEIGHTS_FILE: payload}, META_FILE, meta, force=force)
    return meta


def load_latent_autoencoder(path=None, probe=None, verify: bool = True) -> LatentAutoencoder:
    """The shipped autoencoder (lesson 14), in well under a second.

    Args:
        path: folder holding ``latent.json`` (default ``data/latent/``).
        probe: the attribute probe it was trained with (default: ``load_probe()``, the shipped one).
        verify: check the weights' sha256 first.
    """
    folder = Path(path) if path is not None else default_latent_dir()
    hint = shipped.rebuild_hint("latent", folder)
    meta = shipped.read_meta(folder, META_FILE, hint)
    weights = shipped.read_weights(folder / meta["file"], meta["sha256"], hint, verify=verify)
    probe = load_probe() if probe is None else _check_probe(probe)
    autoencoder = LatentAutoencoder(probe, weights[0], weights[1], latent_dim=meta["recipe"]["latent_dim"])
    autoencoder.set_weights(weights)
    return autoencoder


def main(argv=None) -> int:
    args = shipped.training_parser(
        "python -m mmgen_lib.latent",
        "Train lesson 14's latent autoencoder on the train split and save it.",
        f"{WEIGHTS_FILE} and {META_FILE}",
    ).parse_args(argv)
    if (refused := shipped.start_training(args, (WEIGHTS_FILE, META_FILE))) is not None:
        return refused
    from mmgen_lib.data import load_split
    from mmgen_lib.probe import probe_accuracy

    probe, train, test = load_probe(), load_split("train"), load_split("test")
    autoencoder, history = train_latent_autoencoder(probe, train.images, train.labels, seed=args.seed)
    reconstructions = autoencoder.decode(autoencoder.encode(test.images))
    accuracy = {"test": {k: round(v, 4) for k, v in probe_accuracy(probe, reconstructions, test.labels).items()}}
    print(
        f"image loss {history['D_loss'][0]:.4f} -> {history['D_loss'][-1]:.4f}; probe on test reconstructions "
        + "  ".join(f"{k} {v:.4f}" for k, v in accuracy["test"].items())
    )
    meta = save_latent_autoencoder(autoencoder, args.out, accuracy, seed=args.seed, force=True)
    print(f"wrote {WEIGHTS_FILE} (sha256 {meta['sha256'][:12]}...) and {META_FILE} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
