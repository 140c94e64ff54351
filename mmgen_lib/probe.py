"""The attribute probe: a small classifier that scores images per visible attribute (lesson 09).

Generated images cannot be compared with "the" right image (there are many), so the
course scores them the way a person would: *does it show a large red circle at the
top?* An :class:`AttributeProbe`, trained on real ShapesWorld images, reads shape,
color, size and position off an image; the share of generated images whose probe
reading matches the caption is the generation accuracy.

A probe is only as trustworthy as its accuracy on *real* images, including the
held-out attribute combinations it never saw. A plain RGB classifier can learn shortcuts
such as "blue things are usually squares" (in a prototype of ShapesWorld one scored only
.857 on shape for held-out combinations); this probe's shape, size and position heads
therefore see only the per-pixel channel maximum (a colour-blind brightness map), and
only the color head sees RGB. The shipped probe scores >= .998 per attribute on the real
test and heldout splits (``data/probe/probe.json`` records the figures of its training run).

A trained probe ships in ``data/probe/`` (``load_probe()``), produced by
``python -m mmgen_lib.probe --out data/probe`` from the training split alone.
"""

from __future__ import annotations

import sys
from pathlib import Path

import keras
import numpy as np
from keras import layers, ops

from mmgen_lib import shipped, validation
from mmgen_lib.data import ATTRIBUTE_NAMES, ATTRIBUTES, load_split
from mmgen_lib.encoders import ConvStack
from mmgen_lib.utils import data_dir as default_data_dir

__all__ = [
    "PROBE_ATTRIBUTES",
    "AttributeProbe",
    "train_probe",
    "probe_predict",
    "probe_accuracy",
    "save_probe",
    "load_probe",
    "default_probe_dir",
    "WEIGHTS_FILE",
    "META_FILE",
]

PROBE_ATTRIBUTES = ("shape", "color", "size", "position")  # the visible ones
WEIGHTS_FILE, META_FILE = "probe_weights.npz", "probe.json"


@keras.saving.register_keras_serializable(package="mmgen_lib")
class AttributeProbe(keras.Model):
    """Reads shape, color, size and position off 32x32 RGB images (lesson 09).

    Two branches: a colour-blind CNN on the per-pixel channel maximum feeds the
    shape, size and position heads (its 4x4 feature map is flattened, which keeps
    position); a per-pixel (1x1) colour detector followed by global max pooling feeds
    the color head, so colour is read wherever the object is.

    Args:
        filters: filters of the three conv stages of the colour-blind branch.
        units: width of the dense layer before the shape/size/position heads.
        color_units: number of 1x1 colour detectors.
        colour_blind: if False, the shape/size/position branch sees RGB instead of the
            channel maximum (the "plain RGB probe", kept to show why colour-blindness matters).

    Call arguments:
        inputs: images (batch, 32, 32, 3), floats in [0, 1].

    Input shape:
        (batch, 32, 32, 3).

    Output shape:
        dict attribute -> class probabilities (batch, n_values), for ``PROBE_ATTRIBUTES``.
    """

    def __init__(self, filters=(16, 32, 32), units=64, color_units=16, colour_blind=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = validation.positive_int_sequence(filters, "filters", min_len=3, max_len=3)
        self.units = validation.positive_int(units, "units")
        self.color_units = validation.positive_int(color_units, "color_units")
        self.colour_blind = bool(colour_blind)
        self._stack = ConvStack(self.filters)  # the course's 32x32 conv stack (lesson 03)
        self.convs, self.pools = self._stack.convs, self._stack.pools
        self.flatten = layers.Flatten()
        self.hidden = layers.Dense(self.units, activation="relu", name="hidden")
        self.color_pixels = layers.Conv2D(self.color_units, 1, activation="relu", name="color_pixels")
        self.color_pool = layers.GlobalMaxPooling2D()
        self.heads = {
            name: layers.Dense(len(ATTRIBUTES[name]), activation="softmax", name=name) for name in PROBE_ATTRIBUTES
        }

    def build(self, input_shape):
        validation.image_batch_shape(input_shape, "AttributeProbe input")
        # create every weight now (a Model's default build creates none, and then .save()/load_model
        # would lose them), in the order the first call used to create them: the shipped weights fit
        branch = (*input_shape[:3], 1) if self.colour_blind else tuple(input_shape)
        self._stack.build(branch)
        grid = self._stack.output_shape(branch)
        self.hidden.build((input_shape[0], grid[1] * grid[2] * grid[3]))
        self.color_pixels.build(tuple(input_shape))
        for name in PROBE_ATTRIBUTES:
            self.heads[name].build((input_shape[0], self.color_units if name == "color" else self.units))
        self.built = True

    def call(self, inputs, training=False):
        inputs = validation.scale_uint8_images(inputs)  # uint8 pixels -> [0, 1]
        x = ops.max(inputs, axis=-1, keepdims=True) if self.colour_blind else inputs  # (batch, 32, 32, 1)
        x = self._stack(x)  # (batch, 4, 4, filters[-1])
        features = self.hidden(self.flatten(x))  # (batch, units)
        colour = self.color_pool(self.color_pixels(inputs))  # (batch, color_units)
        return {name: self.heads[name](colour if name == "color" else features) for name in PROBE_ATTRIBUTES}

    def get_config(self):
        return {
            **super().get_config(),
            "filters": list(self.filters),
            "units": self.units,
            "color_units": self.color_units,
            "colour_blind": self.colour_blind,
        }


def _as_images(images) -> np.ndarray:
    return validation.image_batch(images, "images", size=(32, 32))


def _as_labels(labels, n: int) -> dict:
    """Accept a dict attribute -> (n,) ints, or an (n, >=4) array in ATTRIBUTE_NAMES order."""
    if isinstance(labels, dict):
        missing = [name for name in PROBE_ATTRIBUTES if name not in labels]
        if missing:
            raise ValueError(f"labels has no {missing}; it needs {PROBE_ATTRIBUTES}")
        out = {name: np.asarray(labels[name]).astype(np.int64).reshape(-1) for name in PROBE_ATTRIBUTES}
    else:
        array = np.asarray(labels)
        if array.ndim != 2 or array.shape[1] < len(PROBE_ATTRIBUTES):
            raise ValueError(
                f"labels must be a dict attribute -> (n,) ints or an (n, 5) array in "
                f"ATTRIBUTE_NAMES order. Received shape {array.shape}"
            )
        out = {name: array[:, ATTRIBUTE_NAMES.index(name)].astype(np.int64) for name in PROBE_ATTRIBUTES}
    for name, values in out.items():
        if len(values) != n:
            raise ValueError(f"got {len(values)} {name} labels for {n} images")
    return out


def probe_predict(probe, images, batch_size: int = 256) -> dict:
    """The probe's reading of each image: dict attribute -> (n,) int class index."""
    probabilities = probe.predict(_as_images(images), batch_size=batch_size, verbose=0)
    return {name: np.argmax(probabilities[name], axis=-1) for name in PROBE_ATTRIBUTES}


def probe_accuracy(probe, images, labels, batch_size: int = 256) -> dict:
    """Share of images whose probe reading matches the labels, per visible attribute (lesson 09).

    Args:
        probe: an :class:`AttributeProbe` (e.g. from :func:`load_probe`).
        images: (n, 32, 32, 3), uint8 or floats in [0, 1] — real or generated.
        labels: the attributes the images *should* show: a dict attribute -> (n,) ints
            (as from :func:`mmgen_lib.pipeline.split_arrays`) or an (n, 5) label array.

    Returns:
        dict attribute -> accuracy (float), for shape, color, size and position.
    """
    images = _as_images(images)
    labels = _as_labels(labels, len(images))
    readings = probe_predict(probe, images, batch_size)
    return {name: float(np.mean(readings[name] == labels[name])) for name in PROBE_ATTRIBUTES}


def train_probe(
    split=None,
    epochs: int = 6,
    batch_size: int = 64,
    learning_rate: float = 2e-3,
    seed: int = 0,
    colour_blind: bool = True,
    verbose: int = 0,
) -> AttributeProbe:
    """Train an :class:`AttributeProbe` on real images (default: the ShapesWorld train split).

    Takes a few seconds on a CPU. Seeded: same seed, same probe (on one machine).
    """
    split = load_split("train") if split is None else split
    images = _as_images(split.images)
    labels = _as_labels(split.labels, len(images))
    keras.utils.set_random_seed(seed)
    probe = AttributeProbe(colour_blind=colour_blind)
    probe.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss={name: "sparse_categorical_crossentropy" for name in PROBE_ATTRIBUTES},
    )
    probe.fit(images, labels, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=verbose)
    return probe


def default_probe_dir() -> Path:
    """Where the shipped probe lives: ``<data dir>/probe``."""
    return default_data_dir() / "probe"


def save_probe(probe: AttributeProbe, out_dir, accuracy: dict | None = None, force: bool = False) -> dict:
    """Write ``probe_weights.npz`` and ``probe.json`` (config, sha256, measured accuracy)."""
    payload = shipped.weights_bytes(probe.get_weights())
    config = {k: v for k, v in probe.get_config().items() if k in ("filters", "units", "color_units", "colour_blind")}
    meta = {"config": config, "sha256": shipped.sha256(payload), "accuracy": accuracy or {}}
    shipped.write_folder(out_dir, {WEIGHTS_FILE: payload}, META_FILE, meta, force=force)
    return meta


def load_probe(path=None, verify: bool = True) -> AttributeProbe:
    """Load the shipped probe (default ``data/probe/``) in well under a second.

    Args:
        path: folder holding ``probe_weights.npz`` and ``probe.json``.
        verify: check the weights' sha256 against ``probe.json`` first.
    """
    folder = Path(path) if path is not None else default_probe_dir()
    hint = shipped.rebuild_hint("probe", folder) + " (or use train_probe())"
    meta = shipped.read_meta(folder, META_FILE, hint)
    weights = shipped.read_weights(folder / WEIGHTS_FILE, meta["sha256"], hint, verify=verify)
    probe = AttributeProbe(**meta["config"])
    probe(np.zeros((1, 32, 32, 3), np.float32))  # build the weights
    probe.set_weights(weights)
    return probe


def main(argv=None) -> int:
    args = shipped.training_parser(
        "python -m mmgen_lib.probe",
        "Train the attribute probe on the train split and save it.",
        "probe_weights.npz and probe.json",
    ).parse_args(argv)
    if (refused := shipped.start_training(args, (WEIGHTS_FILE, META_FILE))) is not None:
        return refused
    probe = train_probe(seed=args.seed)
    accuracy = {}
    for split_name in ("test", "heldout"):
        split = load_split(split_name)
        accuracy[split_name] = {k: round(v, 4) for k, v in probe_accuracy(probe, split.images, split.labels).items()}
        print(f"{split_name:8s} " + "  ".join(f"{k} {v:.4f}" for k, v in accuracy[split_name].items()))
    meta = save_probe(probe, args.out, accuracy, force=True)
    print(f"wrote {WEIGHTS_FILE} (sha256 {meta['sha256'][:12]}...) and {META_FILE} to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
